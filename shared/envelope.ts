/**
 * The binary envelope around every uplink message (edge <-> cloud).
 *
 * Layout (big-endian):
 * ```
 * offset  size  field
 * 0       2     magic "FM" (0x46 0x4d)
 * 2       1     version (ENVELOPE_VERSION)
 * 3       1     kind: 1 = observation batch, 2 = ack
 * 4       1     flags: bit 0 = body is brotli-compressed
 * 5       1     sender id length L (bytes, utf8; the vehicle id for batches, empty for acks)
 * 6       L     sender id
 * 6+L     4     body length B
 * 10+L    B     body (msgpack, possibly compressed)
 * 10+L+B  32    batches only: HMAC-SHA256 over bytes [0, 10+L+B) with the sender's key
 * ```
 * The sender id is outside the body so the receiver can pick the key and check the MAC before it
 * decompresses or parses anything a stranger sent.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { brotliCompressSync, brotliDecompressSync, constants as zc } from 'node:zlib';

export const ENVELOPE_MAGIC = 0x464d;
export const ENVELOPE_VERSION = 1;
export const MAC_BYTES = 32;
/** Largest envelope either side accepts, bytes. */
export const MAX_ENVELOPE_BYTES = 8 * 1024 * 1024;
/** Largest decompressed body, bytes (guards against decompression bombs). */
export const MAX_BODY_BYTES = 32 * 1024 * 1024;

export const KIND_BATCH = 1;
export const KIND_ACK = 2;
export type EnvelopeKind = typeof KIND_BATCH | typeof KIND_ACK;

const FLAG_BROTLI = 1;
const HEADER_BYTES = 10;

export type CodecErrorCode =
  | 'too_short'
  | 'too_large'
  | 'bad_magic'
  | 'bad_version'
  | 'bad_kind'
  | 'bad_flags'
  | 'truncated'
  | 'bad_sender'
  | 'unknown_sender'
  | 'bad_mac'
  | 'bad_compression'
  | 'bad_body';

/** A message that cannot be decoded; `code` is stable for counting, `message` says exactly why. */
export class CodecError extends Error {
  readonly code: CodecErrorCode;
  constructor(code: CodecErrorCode, message: string) {
    super(message);
    this.name = 'CodecError';
    this.code = code;
  }
}

export interface EncodeEnvelopeOptions {
  kind: EnvelopeKind;
  senderId: string;
  body: Uint8Array;
  /** Brotli-compress the body (default true). */
  compress?: boolean;
  /** HMAC key; required for batches. */
  key?: Uint8Array;
}

export function encodeEnvelope(o: EncodeEnvelopeOptions): Buffer {
  const sender = Buffer.from(o.senderId, 'utf8');
  if (sender.length > 255) throw new RangeError(`senderId must be at most 255 utf8 bytes, got ${sender.length}`);
  const compress = o.compress ?? true;
  const body = compress
    ? brotliCompressSync(o.body, {
        params: { [zc.BROTLI_PARAM_QUALITY]: 9, [zc.BROTLI_PARAM_SIZE_HINT]: o.body.length },
      })
    : Buffer.from(o.body);
  const withMac = o.kind === KIND_BATCH;
  if (withMac && !o.key) throw new TypeError('a batch envelope needs the vehicle key to sign it');
  const out = Buffer.alloc(HEADER_BYTES + sender.length + body.length + (withMac ? MAC_BYTES : 0));
  out.writeUInt16BE(ENVELOPE_MAGIC, 0);
  out.writeUInt8(ENVELOPE_VERSION, 2);
  out.writeUInt8(o.kind, 3);
  out.writeUInt8(compress ? FLAG_BROTLI : 0, 4);
  out.writeUInt8(sender.length, 5);
  sender.copy(out, 6);
  out.writeUInt32BE(body.length, 6 + sender.length);
  body.copy(out, HEADER_BYTES + sender.length);
  if (withMac) {
    const signedLen = HEADER_BYTES + sender.length + body.length;
    const mac = createHmac('sha256', o.key!).update(out.subarray(0, signedLen)).digest();
    mac.copy(out, signedLen);
  }
  return out;
}

export interface EnvelopeHeader {
  kind: EnvelopeKind;
  senderId: string;
  compressed: boolean;
  bodyStart: number;
  bodyLength: number;
}

/** Parse and check the header only (no MAC check, no decompression). */
export function readEnvelopeHeader(buf: Uint8Array): EnvelopeHeader {
  const b = Buffer.isBuffer(buf) ? buf : Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  if (b.length > MAX_ENVELOPE_BYTES) {
    throw new CodecError('too_large', `envelope is ${b.length} bytes, the limit is ${MAX_ENVELOPE_BYTES}`);
  }
  if (b.length < HEADER_BYTES) throw new CodecError('too_short', `envelope is ${b.length} bytes, shorter than the ${HEADER_BYTES}-byte header`);
  const magic = b.readUInt16BE(0);
  if (magic !== ENVELOPE_MAGIC) {
    throw new CodecError('bad_magic', `not a fleetmap envelope: magic 0x${magic.toString(16).padStart(4, '0')}, expected 0x464d ("FM")`);
  }
  const version = b.readUInt8(2);
  if (version !== ENVELOPE_VERSION) {
    throw new CodecError('bad_version', `got v${version} data, expected v${ENVELOPE_VERSION}`);
  }
  const kind = b.readUInt8(3);
  if (kind !== KIND_BATCH && kind !== KIND_ACK) throw new CodecError('bad_kind', `unknown envelope kind ${kind}, expected 1 (batch) or 2 (ack)`);
  const flags = b.readUInt8(4);
  if ((flags & ~FLAG_BROTLI) !== 0) throw new CodecError('bad_flags', `unknown envelope flags 0x${flags.toString(16)}`);
  const senderLen = b.readUInt8(5);
  if (b.length < HEADER_BYTES + senderLen) throw new CodecError('truncated', `envelope ends inside the sender id`);
  const senderBytes = b.subarray(6, 6 + senderLen);
  const senderId = senderBytes.toString('utf8');
  if (!Buffer.from(senderId, 'utf8').equals(senderBytes)) throw new CodecError('bad_sender', 'sender id is not valid utf8');
  const bodyLength = b.readUInt32BE(6 + senderLen);
  const bodyStart = HEADER_BYTES + senderLen;
  const expected = bodyStart + bodyLength + (kind === KIND_BATCH ? MAC_BYTES : 0);
  if (b.length !== expected) {
    throw new CodecError('truncated', `envelope is ${b.length} bytes but its header announces ${expected}`);
  }
  return { kind: kind as EnvelopeKind, senderId, compressed: (flags & FLAG_BROTLI) !== 0, bodyStart, bodyLength };
}

/**
 * Check the MAC (batches) with the key `keyFor(senderId)` returns, then return the raw body.
 * `keyFor` returning undefined means the sender is unknown. `'trusted'` skips the MAC check: only
 * for envelopes read back from our own store, which the ingest verified before writing.
 */
export function openEnvelope(
  buf: Uint8Array,
  keyFor: ((senderId: string) => Uint8Array | undefined) | 'trusted',
): { header: EnvelopeHeader; body: Buffer } {
  const b = Buffer.isBuffer(buf) ? buf : Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  const header = readEnvelopeHeader(b);
  const signedEnd = header.bodyStart + header.bodyLength;
  if (header.kind === KIND_BATCH && keyFor !== 'trusted') {
    const key = keyFor(header.senderId);
    if (!key) throw new CodecError('unknown_sender', `unknown vehicle ${JSON.stringify(header.senderId)}`);
    const mac = createHmac('sha256', key).update(b.subarray(0, signedEnd)).digest();
    if (!timingSafeEqual(mac, b.subarray(signedEnd, signedEnd + MAC_BYTES))) {
      throw new CodecError('bad_mac', `signature does not match vehicle ${JSON.stringify(header.senderId)}'s key`);
    }
  }
  const raw = b.subarray(header.bodyStart, signedEnd);
  let body: Buffer;
  if (header.compressed) {
    try {
      body = brotliDecompressSync(raw, { maxOutputLength: MAX_BODY_BYTES });
    } catch (e) {
      throw new CodecError('bad_compression', `body does not decompress: ${(e as Error).message}`);
    }
  } else {
    body = Buffer.from(raw);
  }
  return { header, body };
}
