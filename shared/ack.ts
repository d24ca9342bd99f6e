/**
 * Acks (ingest -> vehicle), signed with the ingest's Ed25519 ack key, inside the envelope of
 * envelope.ts (kind 2, empty sender id, never compressed). docs/WIRE.md is the spec.
 *
 * Ack body (msgpack map): `{ s: seq | nil, st: statusCode, h: bin(32), r?: reason }`
 * - s:  the batch's seq; nil when the ingest could not authenticate the envelope;
 * - st: ACK_STATUS_CODES (1 stored, 2 duplicate, 3 rejected);
 * - h:  sha256 of the exact envelope bytes this answers, so an ack can only ever delete the
 *       batch it was made for;
 * - r:  why it was rejected (rejected only; `<code>: <message>`, at most MAX_ACK_REASON_CHARS).
 */
import { createHash } from 'node:crypto';
import { Packr } from 'msgpackr';
import { CodecError, KIND_ACK, encodeEnvelope, encodeEnvelopeAsync, openEnvelope, type EncodeEnvelopeOptions } from './envelope.ts';
import { MsgpackRefusal, unpackPlain } from './msgpack-safe.ts';
import type { SigningKey, VerifyKey } from './signing.ts';

export type AckStatus = 'stored' | 'duplicate' | 'rejected';

/** Wire codes of ack statuses (explicit, never reused). */
export const ACK_STATUS_CODES: Readonly<Record<AckStatus, number>> = { stored: 1, duplicate: 2, rejected: 3 };
const STATUS_BY_CODE = new Map(Object.entries(ACK_STATUS_CODES).map(([k, v]) => [v, k as AckStatus]));

export const SHA256_BYTES = 32;
export const MAX_ACK_REASON_CHARS = 1024;

export interface Ack {
  /** The batch this answers; null when the batch could not be authenticated. */
  seq: number | null;
  status: AckStatus;
  /** sha256 of the envelope bytes this answers (32 bytes). */
  batchSha256: Buffer;
  /** Why a batch was rejected (exact, for logs and operators). */
  reason?: string;
}

/** sha256 of a message's bytes, as acks name it. */
export function sha256(bytes: Uint8Array): Buffer {
  return createHash('sha256').update(bytes).digest();
}

const packr = new Packr({ useRecords: false, structuredClone: false, moreTypes: false, bundleStrings: false, mapsAsObjects: true });

export function encodeAck(ack: Ack, key: SigningKey): Buffer {
  return encodeEnvelope(ackEnvelope(ack, key));
}

/** encodeAck with the signature made on libuv's thread pool: the same bytes (the ingest's). */
export function encodeAckAsync(ack: Ack, key: SigningKey): Promise<Buffer> {
  return encodeEnvelopeAsync(ackEnvelope(ack, key));
}

function ackEnvelope(ack: Ack, key: SigningKey): EncodeEnvelopeOptions {
  if (ack.batchSha256.length !== SHA256_BYTES) throw new RangeError(`ack.batchSha256 must be ${SHA256_BYTES} bytes, got ${ack.batchSha256.length}`);
  const body: Record<string, unknown> = { s: ack.seq, st: ACK_STATUS_CODES[ack.status], h: ack.batchSha256 };
  if (ack.reason !== undefined) body.r = ack.reason.length > MAX_ACK_REASON_CHARS ? `${ack.reason.slice(0, MAX_ACK_REASON_CHARS - 3)}...` : ack.reason;
  return { kind: KIND_ACK, senderId: '', body: packr.pack(body), key, compress: false };
}

/** Verify (with the pinned ingest ack key) and decode an ack; throws CodecError. */
export function decodeAck(buf: Uint8Array, ingestAckKey: VerifyKey): Ack {
  const { body } = openEnvelope(buf, KIND_ACK, (sender) => (sender === '' ? ingestAckKey : undefined));
  let m: unknown;
  try {
    m = unpackPlain(body, { maxItems: 16, maxDepth: 1 });
  } catch (e) {
    if (e instanceof MsgpackRefusal) throw new CodecError('bad_msgpack', `ack body: ${e.message}`);
    throw e;
  }
  if (typeof m !== 'object' || m === null || Array.isArray(m) || m instanceof Uint8Array) throw new CodecError('bad_body', 'ack body must be a map');
  const r = m as Record<string, unknown>;
  for (const k of Object.keys(r)) if (!['s', 'st', 'h', 'r'].includes(k)) throw new CodecError('bad_body', `ack has unknown field ${JSON.stringify(k)}`);
  if (r.s !== null && !(typeof r.s === 'number' && Number.isSafeInteger(r.s) && r.s >= 1)) throw new CodecError('bad_range', `ack.seq must be a positive integer or nil, got ${String(r.s)}`);
  const status = typeof r.st === 'number' ? STATUS_BY_CODE.get(r.st) : undefined;
  if (status === undefined) throw new CodecError('bad_body', `ack.status must be 1 (stored), 2 (duplicate) or 3 (rejected), got ${String(r.st)}`);
  if (!(r.h instanceof Uint8Array) || r.h.length !== SHA256_BYTES) throw new CodecError('bad_body', `ack.batchSha256 must be ${SHA256_BYTES} bytes of binary`);
  if (status !== 'rejected' && r.s === null) throw new CodecError('bad_body', `a ${status} ack must name the seq`);
  const ack: Ack = { seq: r.s as number | null, status, batchSha256: Buffer.from(r.h) };
  if (r.r !== undefined) {
    if (typeof r.r !== 'string' || r.r.length > MAX_ACK_REASON_CHARS) throw new CodecError('bad_body', `ack.reason must be a string of at most ${MAX_ACK_REASON_CHARS} characters`);
    ack.reason = r.r;
  }
  return ack;
}
