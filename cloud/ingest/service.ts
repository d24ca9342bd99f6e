/**
 * The ingest's logic, apart from its socket: `IngestService.handle(envelopeBytes)` authenticates
 * and validates one batch (shared/batch.ts decodeBatch with the fleet key registry), stores the
 * RAW envelope once under `batches/<vehicleId>/<seq, 10 digits>.fmb` (putIfAbsent: durable before
 * the ack), updates fleet health, and returns the ack plus the effects to log.
 *
 * - stored:    first time this (vehicleId, seq) was seen; the file is on disk.
 * - duplicate: the same bytes are already stored (a resend after a lost ack or an edge restart).
 * - rejected:  CodecError (reason `${code}: ${message}`), or `seq_conflict` when a different batch
 *              is already stored under that seq (never silently treated as a duplicate: the edge
 *              would drop observations the store does not have).
 * - no ack:    the store failed (disk full, I/O error); the edge times out and resends later.
 *
 * Rejections carry the batch's seq only once the envelope is authenticated; otherwise seq is
 * null (and the edge holds the batch instead of dead-lettering it: see edge/uplink.ts).
 */
import { Unpackr } from 'msgpackr';
import type { ObjectStore } from '../store/index.ts';
import { CodecError, decodeBatch, openEnvelope, readEnvelopeHeader, type Ack } from '../../shared/index.ts';
import type { FleetHealth } from './health.ts';
import type { KeyRegistry } from './keys.ts';

export type IngestEffect =
  | { event: 'batch_stored'; vehicleId: string; seq: number; bytes: number; observations: number; queueDepth: number; key: string }
  | { event: 'batch_duplicate'; vehicleId: string; seq: number; bytes: number }
  | { event: 'batch_rejected'; code: string; reason: string; vehicleId: string | null; seq: number | null; bytes: number }
  | { event: 'store_failed'; vehicleId: string; seq: number; key: string; reason: string };

export interface IngestResult {
  /** The reply to send, or null when none must be sent (store failure: let the edge retry). */
  ack: Ack | null;
  effects: IngestEffect[];
}

export function batchObjectKey(vehicleId: string, seq: number): string {
  return `batches/${vehicleId}/${String(seq).padStart(10, '0')}.fmb`;
}

const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true });

export class IngestService {
  constructor(
    private readonly deps: { keys: KeyRegistry; store: ObjectStore; health: FleetHealth; now?: () => number },
  ) {}

  private now(): number {
    return (this.deps.now ?? Date.now)();
  }

  async handle(bytes: Uint8Array): Promise<IngestResult> {
    const { keys, store, health } = this.deps;
    let batch;
    try {
      batch = decodeBatch(bytes, keys.keyFor);
    } catch (e) {
      if (!(e instanceof CodecError)) throw e;
      return this.reject(bytes, e.code, e.message);
    }
    const { vehicleId, seq } = batch;
    const key = batchObjectKey(vehicleId, seq);
    let created: boolean;
    try {
      created = await store.putIfAbsent(key, bytes);
    } catch (e) {
      return { ack: null, effects: [{ event: 'store_failed', vehicleId, seq, key, reason: (e as NodeJS.ErrnoException).code ?? (e as Error).message }] };
    }
    const now = this.now();
    if (created) {
      health.recordStored(vehicleId, { seq, bytes: bytes.length, observations: batch.observations.length, queueDepth: batch.queueDepth }, now);
      return {
        ack: { seq, status: 'stored' },
        effects: [{ event: 'batch_stored', vehicleId, seq, bytes: bytes.length, observations: batch.observations.length, queueDepth: batch.queueDepth, key }],
      };
    }
    let existing: Buffer | undefined;
    try {
      existing = await store.get(key);
    } catch (e) {
      return { ack: null, effects: [{ event: 'store_failed', vehicleId, seq, key, reason: (e as NodeJS.ErrnoException).code ?? (e as Error).message }] };
    }
    if (existing && Buffer.compare(existing, Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)) === 0) {
      health.recordDuplicate(vehicleId, now);
      return { ack: { seq, status: 'duplicate' }, effects: [{ event: 'batch_duplicate', vehicleId, seq, bytes: bytes.length }] };
    }
    const reason = `seq_conflict: batch ${seq} of ${vehicleId} is already stored with different contents (${existing?.length ?? 0} bytes stored, ${bytes.length} received); was the vehicle's outbox reset, or do two daemons share its id?`;
    health.recordRejected('seq_conflict', { vehicleId, authenticated: true }, now);
    return { ack: { seq, status: 'rejected', reason }, effects: [{ event: 'batch_rejected', code: 'seq_conflict', reason, vehicleId, seq, bytes: bytes.length }] };
  }

  /** Reject a message that could not be handled, e.g. a wrongly framed ZeroMQ message. */
  rejectFraming(reason: string, bytes: number): IngestResult {
    this.deps.health.recordRejected('bad_frames', {}, this.now());
    return { ack: { seq: null, status: 'rejected', reason: `bad_frames: ${reason}` }, effects: [{ event: 'batch_rejected', code: 'bad_frames', reason, vehicleId: null, seq: null, bytes }] };
  }

  private reject(bytes: Uint8Array, code: string, message: string): IngestResult {
    const { keys, health } = this.deps;
    let sender: string | undefined;
    try {
      sender = readEnvelopeHeader(bytes).senderId;
    } catch {
      // not even a header: unattributed
    }
    const registered = sender !== undefined && keys.has(sender) ? sender : undefined;
    const { authenticated, seq } = registered !== undefined ? authenticatedSeq(bytes, keys) : { authenticated: false, seq: null };
    health.recordRejected(code, registered !== undefined ? { vehicleId: registered, authenticated } : { claimedSender: sender }, this.now());
    const reason = `${code}: ${message}`;
    return {
      ack: { seq, status: 'rejected', reason },
      effects: [{ event: 'batch_rejected', code, reason, vehicleId: registered ?? null, seq, bytes: bytes.length }],
    };
  }
}

/** Whether the MAC checks out, and then the seq of the (otherwise invalid) body if readable. */
function authenticatedSeq(bytes: Uint8Array, keys: KeyRegistry): { authenticated: boolean; seq: number | null } {
  let body: Buffer;
  try {
    ({ body } = openEnvelope(bytes, keys.keyFor));
  } catch {
    return { authenticated: false, seq: null };
  }
  try {
    const m = unpackr.unpack(body) as { s?: unknown } | null;
    const s = m && typeof m === 'object' ? m.s : undefined;
    return { authenticated: true, seq: typeof s === 'number' && Number.isInteger(s) && s > 0 ? s : null };
  } catch {
    return { authenticated: true, seq: null };
  }
}
