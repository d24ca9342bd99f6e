/**
 * The ingest's logic, apart from its socket: `IngestService.handle(envelopeBytes)` authenticates
 * and validates one batch (shared/batch.ts decodeBatchAsync with the fleet key registry: the
 * signature is checked on libuv's thread pool, off the one JavaScript thread), stores the
 * RAW envelope once under `batches/<vehicleId>/<seq, 10 digits>.fmb` (putIfAbsent: durable before
 * the ack), updates fleet health, and returns the ack plus the effects to log.
 *
 * - stored:    first time this (vehicleId, seq) was seen; the file is on disk.
 * - duplicate: the same bytes are already stored (a resend after a lost ack or an edge restart).
 * - rejected:  CodecError (reason `${code}: ${message}`), or `seq_conflict` when a different batch
 *              is already stored under that seq (never silently treated as a duplicate: the edge
 *              would drop observations the store does not have). What is stored there and is not a
 *              whole batch of this vehicle and seq (a write torn by a power cut before its ack) is
 *              replaced by the resend: `stored`, with `replacedTorn`.
 * - no ack:    the store failed (disk full, I/O error); the edge times out and resends later.
 *
 * Arrival log (arrivals.ts): before a `stored` or `duplicate` ack, a durable arrival record must
 * name the batch (one record per commit group), so an incremental merge finds it without listing
 * `batches/`. The record is written AT THE SAME TIME as the batch, not after it: the ack waits for
 * the later of the two writes, not their sum (18 % fewer journal commits in `npm run bench:ingest`;
 * the rate, CPU-bound on 2 cores, did not move: README). So a record can be durable, and read by
 * a merge, before its batch is in the store, or when the batch's write failed or was torn by a power cut; the merge
 * does not consume a batch it cannot read and decode (cloud/merge/plan.ts), and finds it through
 * the next record that names it (the resend's) or, when it lands late, by re-reading the records
 * within the margin. A record may also name a batch refused as a seq conflict (its key holds the
 * earlier batch, recorded when it was stored): harmless. A duplicate gets a record too: the batch
 * may have been stored by a process that died before writing its record, and this resend is what
 * repairs that. A failed record write fails the message like a failed batch write (`store_failed`,
 * no ack: the edge resends). Health counts a batch `stored` only once its record is written; a
 * batch whose record failed is counted as a duplicate when its resend comes (the log and the
 * metrics, which read the same effects, agree).
 *
 * Rejections carry the batch's seq only once the envelope is authenticated; otherwise seq is
 * null (and the edge holds the batch instead of dead-lettering it: see edge/uplink.ts). Every ack
 * names the sha256 of the exact bytes it answers; main.ts signs it with the ingest's ack key.
 * Refusals are counted per code (fleet health), per registered vehicle or as unattributed.
 */
import type { ObjectStore } from '../store/index.ts';
import { BatchRefusal, CodecError, decodeBatch, decodeBatchAsync, readEnvelopeHeader, sha256, type Ack, type BatchDecodeOptions } from '../../shared/index.ts';
import { ARRIVAL_SKEW_MARGIN_MS, ArrivalLog, ArrivalWriteError } from './arrivals.ts';
import type { FleetHealth } from './health.ts';
import type { KeyRegistry } from './keys.ts';

export type IngestEffect =
  /** `replacedTorn`: the size of a torn object this batch replaced (see isWholeBatch). */
  | { event: 'batch_stored'; vehicleId: string; seq: number; bytes: number; observations: number; queueDepth: number; key: string; storeMs: number; replacedTorn?: number }
  | { event: 'batch_duplicate'; vehicleId: string; seq: number; bytes: number }
  | { event: 'batch_rejected'; code: string; reason: string; vehicleId: string | null; seq: number | null; bytes: number }
  /** `key`: the object that could not be written or read, the batch or its arrival record. */
  | { event: 'store_failed'; vehicleId: string; seq: number; key: string; reason: string };

export interface IngestResult {
  /** The reply to send, or null when none must be sent (store failure: let the edge retry). */
  ack: Ack | null;
  effects: IngestEffect[];
}

/**
 * True when `bytes` is a whole batch envelope of this vehicle and seq (structure only: the ingest
 * verified its signature before writing it). False for a torn write: truncated, zeroed, garbage.
 */
export function isWholeBatch(bytes: Uint8Array, vehicleId: string, seq: number): boolean {
  try {
    const b = decodeBatch(bytes, 'trusted');
    return b.vehicleId === vehicleId && b.seq === seq;
  } catch (e) {
    if (e instanceof CodecError) return false;
    throw e;
  }
}

export function batchObjectKey(vehicleId: string, seq: number): string {
  return `batches/${vehicleId}/${String(seq).padStart(10, '0')}.fmb`;
}

export interface IngestServiceDeps {
  /** The registry in force now (it may be replaced between messages: registry-watch.ts). */
  keys: KeyRegistry | (() => KeyRegistry);
  store: ObjectStore;
  health: FleetHealth;
  now?: () => number;
  /** Time window for createdUnixMs and observation times (defaults: 30 days back, 10 min ahead). */
  maxAgeMs?: number;
  maxAheadMs?: number;
  /** Tells this process's arrival records apart (default: random per service). */
  arrivalInstanceId?: string;
}

export class IngestService {
  private readonly arrivals: ArrivalLog;

  constructor(private readonly deps: IngestServiceDeps) {
    this.arrivals = new ArrivalLog({ store: deps.store, nowUnixMs: () => this.now(), instanceId: deps.arrivalInstanceId });
  }

  private now(): number {
    return (this.deps.now ?? Date.now)();
  }

  private keys(): KeyRegistry {
    const k = this.deps.keys;
    return typeof k === 'function' ? k() : k;
  }

  async handle(bytes: Uint8Array): Promise<IngestResult> {
    const { store, health } = this.deps;
    const keys = this.keys();
    const digest = sha256(bytes);
    const now = this.now();
    const window: BatchDecodeOptions = { nowUnixMs: now, maxAgeMs: this.deps.maxAgeMs, maxAheadMs: this.deps.maxAheadMs };
    let batch;
    try {
      batch = await decodeBatchAsync(bytes, keys.keyFor, window);
    } catch (e) {
      if (!(e instanceof CodecError)) throw e;
      const r = e instanceof BatchRefusal ? e : new BatchRefusal(e, false, null);
      return this.reject(bytes, digest, r, keys);
    }
    const { vehicleId, seq } = batch;
    const key = batchObjectKey(vehicleId, seq);
    let created: boolean;
    const storeStart = performance.now();
    // The record and the batch are written at once (see the header). Every path waits for the
    // record to settle before it returns, so no write of this message outlives its answer (a stop
    // finishes the messages in hand, then flushes the store).
    const recorded = this.recordArrival(vehicleId, seq, key);
    const settled = (): Promise<unknown> => recorded.catch(() => undefined);
    // Before a stored or duplicate ack: the record, and a second one when the store took long.
    const recordedInTime = async (): Promise<IngestResult | undefined> => (await recorded) ?? (await this.recordIfLate(vehicleId, seq, key, now));
    const storeFailed = async (e: unknown): Promise<IngestResult> => {
      await settled();
      return { ack: null, effects: [{ event: 'store_failed', vehicleId, seq, key, reason: (e as NodeJS.ErrnoException).code ?? (e as Error).message }] };
    };
    try {
      created = await store.putIfAbsent(key, bytes);
    } catch (e) {
      return storeFailed(e);
    }
    if (created) {
      const failed = await recordedInTime();
      if (failed) return failed;
      health.recordStored(vehicleId, { seq, bytes: bytes.length, observations: batch.observations.length, queueDepth: batch.queueDepth, status: batch.status }, now);
      return {
        ack: { seq, status: 'stored', batchSha256: digest },
        effects: [{ event: 'batch_stored', vehicleId, seq, bytes: bytes.length, observations: batch.observations.length, queueDepth: batch.queueDepth, key, storeMs: Math.round((performance.now() - storeStart) * 100) / 100 }],
      };
    }
    let existing: Buffer | undefined;
    try {
      existing = await store.get(key);
    } catch (e) {
      return storeFailed(e);
    }
    if (existing && Buffer.compare(existing, Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)) === 0) {
      const failed = await recordedInTime();
      if (failed) return failed;
      health.recordDuplicate(vehicleId, now);
      return { ack: { seq, status: 'duplicate', batchSha256: digest }, effects: [{ event: 'batch_duplicate', vehicleId, seq, bytes: bytes.length }] };
    }
    if (existing && !isWholeBatch(existing, vehicleId, seq)) {
      // What the store holds under this key is not a batch at all: a write that a power cut tore
      // before it was acknowledged (group commit: write-journal.ts). This resend replaces it.
      try {
        await store.put(key, bytes);
      } catch (e) {
        return storeFailed(e);
      }
      // The record started with the write may be durable before this replacement (and a merge may
      // have read the torn object meanwhile, consuming nothing): a record written after it.
      const failed = (await recorded) ?? (await this.recordArrival(vehicleId, seq, key));
      if (failed) return failed;
      health.recordStored(vehicleId, { seq, bytes: bytes.length, observations: batch.observations.length, queueDepth: batch.queueDepth, status: batch.status }, now);
      return {
        ack: { seq, status: 'stored', batchSha256: digest },
        effects: [{ event: 'batch_stored', vehicleId, seq, bytes: bytes.length, observations: batch.observations.length, queueDepth: batch.queueDepth, key, storeMs: Math.round((performance.now() - storeStart) * 100) / 100, replacedTorn: existing.length }],
      };
    }
    await settled();
    const reason = `seq_conflict: batch ${seq} of ${vehicleId} is already stored with different contents (${existing?.length ?? 0} bytes stored, ${bytes.length} received); was the vehicle's outbox reset, or do two daemons share its id?`;
    health.recordRejected('seq_conflict', { vehicleId, authenticated: true }, now, reason);
    return { ack: { seq, status: 'rejected', reason, batchSha256: digest }, effects: [{ event: 'batch_rejected', code: 'seq_conflict', reason, vehicleId, seq, bytes: bytes.length }] };
  }

  /**
   * A second record when the batch was stored more than half the merge's margin after the first
   * record's time (a store that hung): the merge re-reads records only within the margin of its
   * watermark, so one that old might have been read, and passed, before the batch was there.
   */
  private async recordIfLate(vehicleId: string, seq: number, key: string, recordedAtUnixMs: number): Promise<IngestResult | undefined> {
    return this.now() - recordedAtUnixMs > ARRIVAL_SKEW_MARGIN_MS / 2 ? this.recordArrival(vehicleId, seq, key) : undefined;
  }

  /** Waits for a durable arrival record naming `key`; the no-ack result when it could not be written. */
  private async recordArrival(vehicleId: string, seq: number, key: string): Promise<IngestResult | undefined> {
    try {
      await this.arrivals.record(key);
      return undefined;
    } catch (e) {
      if (!(e instanceof ArrivalWriteError)) throw e;
      const cause = e.cause as NodeJS.ErrnoException | undefined;
      return { ack: null, effects: [{ event: 'store_failed', vehicleId, seq, key: e.key, reason: cause?.code ?? cause?.message ?? e.message }] };
    }
  }

  /** Reject a message that could not be handled, e.g. a wrongly framed ZeroMQ message (`frames`: all but the peer id). */
  rejectFraming(reason: string, frames: readonly Uint8Array[]): IngestResult {
    this.deps.health.recordRejected('bad_frames', {}, this.now());
    const bytes = frames.reduce((a, f) => a + f.length, 0);
    return {
      ack: { seq: null, status: 'rejected', reason: `bad_frames: ${reason}`, batchSha256: sha256(Buffer.concat(frames)) },
      effects: [{ event: 'batch_rejected', code: 'bad_frames', reason, vehicleId: null, seq: null, bytes }],
    };
  }

  private reject(bytes: Uint8Array, digest: Buffer, e: BatchRefusal, keys: KeyRegistry): IngestResult {
    let sender: string | undefined;
    try {
      sender = readEnvelopeHeader(bytes).senderId;
    } catch {
      // not even a header: unattributed
    }
    const registered = sender !== undefined && keys.has(sender) ? sender : undefined;
    const seq = registered !== undefined && e.authenticated ? e.seq : null;
    const reason = `${e.code}: ${e.message}`;
    this.deps.health.recordRejected(e.code, registered !== undefined ? { vehicleId: registered, authenticated: e.authenticated } : { claimedSender: sender }, this.now(), reason);
    return {
      ack: { seq, status: 'rejected', reason, batchSha256: digest },
      effects: [{ event: 'batch_rejected', code: e.code, reason, vehicleId: registered ?? null, seq, bytes: bytes.length }],
    };
  }
}
