/**
 * The binary envelope around every uplink message (edge <-> cloud). docs/WIRE.md is the spec.
 *
 * Layout (big-endian):
 * ```
 * offset  size  field
 * 0       2     magic "FM" (0x46 0x4d)
 * 2       1     version (ENVELOPE_VERSION = 2)
 * 3       1     kind: 1 = observation batch (vehicle -> ingest), 2 = ack (ingest -> vehicle)
 * 4       1     flags: bit 0 = body is brotli-compressed (batches only; acks are never compressed)
 * 5       1     sender id length L (bytes, ASCII; the vehicle id for batches, empty for acks)
 * 6       L     sender id
 * 6+L     4     body length B
 * 10+L    B     body (msgpack, possibly compressed)
 * 10+L+B  64    Ed25519 signature over bytes [0, 10+L+B): the vehicle's key (batches), the
 *               ingest's ack key (acks)
 * ```
 * The sender id is outside the body so the receiver can pick the key and check the signature
 * before it decompresses or parses anything a stranger sent; the kind is checked before that.
 */
import { brotliCompressSync, brotliDecompressSync, constants as zc } from 'node:zlib';
import { SIGNATURE_BYTES, signEd25519, signEd25519Async, verifyEd25519, verifyEd25519Async, type SigningKey, type VerifyKey } from './signing.ts';

export const ENVELOPE_MAGIC = 0x464d;
export const ENVELOPE_VERSION = 2;
/** Largest envelope either side accepts, bytes. */
export const MAX_ENVELOPE_BYTES = 8 * 1024 * 1024;
/** Largest decompressed body, bytes (guards against decompression bombs). */
export const MAX_BODY_BYTES = 32 * 1024 * 1024;
/** Fixed part of the header (magic .. sender length, then the body length), bytes. */
export const ENVELOPE_HEADER_BYTES = 10;

export const KIND_BATCH = 1;
export const KIND_ACK = 2;
export type EnvelopeKind = typeof KIND_BATCH | typeof KIND_ACK;

export const FLAG_BROTLI = 1;
const HEADER_BYTES = ENVELOPE_HEADER_BYTES;

/** Every refusal code; stable (counted, logged, documented in docs/WIRE.md). */
export const CODEC_ERROR_CODES = [
  'too_short',
  'too_large',
  'bad_magic',
  'bad_version',
  'bad_kind',
  'bad_flags',
  'truncated',
  'bad_sender',
  'unknown_sender',
  'revoked_sender',
  'bad_signature',
  'bad_compression',
  'bad_msgpack',
  'bad_body',
  'over_limit',
  'bad_tile_key',
  'bad_time',
  'bad_range',
] as const;
export type CodecErrorCode = (typeof CODEC_ERROR_CODES)[number];

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
  /** Brotli-compress the body (default true for batches; acks are never compressed). */
  compress?: boolean;
  /** The sender's Ed25519 private key (the vehicle's for batches, the ingest's ack key for acks). */
  key: SigningKey;
}

export function encodeEnvelope(o: EncodeEnvelopeOptions): Buffer {
  const { out, signedLen } = layoutEnvelope(o);
  signEd25519(out.subarray(0, signedLen), o.key).copy(out, signedLen);
  return out;
}

/** encodeEnvelope with the signature made on libuv's thread pool (signEd25519Async): the same bytes. */
export async function encodeEnvelopeAsync(o: EncodeEnvelopeOptions): Promise<Buffer> {
  const { out, signedLen } = layoutEnvelope(o);
  (await signEd25519Async(out.subarray(0, signedLen), o.key)).copy(out, signedLen);
  return out;
}

/**
 * Brotli's window for a body of `bytes`: the smallest that holds it (10 to 24 bits). At brotli's
 * default (22 bits, 4 MiB) quality 9 sets up tables for a 4 MiB window on every call: on the
 * demo's batches (5.3 kB of msgpack) 34.7 ms a batch, against 0.36 ms with the window fitted, and
 * 3,409 bytes out against 3,411. Any decoder reads either.
 */
export function brotliWindowBits(bytes: number): number {
  return Math.min(zc.BROTLI_MAX_WINDOW_BITS, Math.max(zc.BROTLI_MIN_WINDOW_BITS, Math.ceil(Math.log2(bytes + 16))));
}

/** The envelope's bytes with room for the signature at `signedLen`. */
function layoutEnvelope(o: EncodeEnvelopeOptions): { out: Buffer; signedLen: number } {
  const sender = Buffer.from(o.senderId, 'utf8');
  if (sender.length > 255) throw new RangeError(`senderId must be at most 255 bytes, got ${sender.length}`);
  const compress = o.kind === KIND_BATCH && (o.compress ?? true);
  const body = compress
    ? brotliCompressSync(o.body, {
        params: { [zc.BROTLI_PARAM_QUALITY]: 9, [zc.BROTLI_PARAM_SIZE_HINT]: o.body.length, [zc.BROTLI_PARAM_LGWIN]: brotliWindowBits(o.body.length) },
      })
    : Buffer.from(o.body);
  const signedLen = HEADER_BYTES + sender.length + body.length;
  const out = Buffer.alloc(signedLen + SIGNATURE_BYTES);
  out.writeUInt16BE(ENVELOPE_MAGIC, 0);
  out.writeUInt8(ENVELOPE_VERSION, 2);
  out.writeUInt8(o.kind, 3);
  out.writeUInt8(compress ? FLAG_BROTLI : 0, 4);
  out.writeUInt8(sender.length, 5);
  sender.copy(out, 6);
  out.writeUInt32BE(body.length, 6 + sender.length);
  body.copy(out, HEADER_BYTES + sender.length);
  return { out, signedLen };
}

export interface EnvelopeHeader {
  kind: EnvelopeKind;
  senderId: string;
  compressed: boolean;
  bodyStart: number;
  bodyLength: number;
}

/** Parse and check the header only (no signature check, no decompression). */
export function readEnvelopeHeader(buf: Uint8Array): EnvelopeHeader {
  const b = asBuffer(buf);
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
  if (kind === KIND_ACK && flags !== 0) throw new CodecError('bad_flags', `an ack is never compressed, got flags 0x${flags.toString(16)}`);
  const senderLen = b.readUInt8(5);
  if (b.length < HEADER_BYTES + senderLen) throw new CodecError('truncated', `envelope ends inside the sender id`);
  const senderBytes = b.subarray(6, 6 + senderLen);
  // Printable ASCII only: sender ids name files and keys, and are shown to operators.
  for (const c of senderBytes) {
    if (c < 0x21 || c > 0x7e) throw new CodecError('bad_sender', `sender id holds byte 0x${c.toString(16).padStart(2, '0')}; only printable ASCII is allowed`);
  }
  const senderId = senderBytes.toString('latin1');
  const bodyLength = b.readUInt32BE(6 + senderLen);
  const bodyStart = HEADER_BYTES + senderLen;
  const expected = bodyStart + bodyLength + SIGNATURE_BYTES;
  if (b.length !== expected) {
    throw new CodecError('truncated', `envelope is ${b.length} bytes but its header announces ${expected}`);
  }
  return { kind: kind as EnvelopeKind, senderId, compressed: (flags & FLAG_BROTLI) !== 0, bodyStart, bodyLength };
}

/** What a key lookup can answer: the sender's public key, undefined (unknown) or 'revoked'. */
export type KeyLookup = VerifyKey | undefined | 'revoked';

/**
 * Open an envelope of the expected kind: header, then the kind (before anything else), then the
 * signature with the key `keyFor(senderId)` returns, then decompression; returns the raw body.
 * `'trusted'` skips the signature check: only for envelopes read back from our own store, which
 * the ingest verified before writing.
 */
export function openEnvelope(
  buf: Uint8Array,
  expectKind: EnvelopeKind,
  keyFor: ((senderId: string) => KeyLookup) | 'trusted',
): { header: EnvelopeHeader; body: Buffer } {
  const c = checkEnvelope(buf, expectKind, keyFor);
  if (c.key !== null && !verifyEd25519(c.signed, c.signature, c.key)) throw badSignature(c.header);
  return { header: c.header, body: bodyOf(c) };
}

/** openEnvelope with the signature checked on libuv's thread pool (verifyEd25519Async); the same order and errors. */
export async function openEnvelopeAsync(
  buf: Uint8Array,
  expectKind: EnvelopeKind,
  keyFor: ((senderId: string) => KeyLookup) | 'trusted',
): Promise<{ header: EnvelopeHeader; body: Buffer }> {
  const c = checkEnvelope(buf, expectKind, keyFor);
  if (c.key !== null && !(await verifyEd25519Async(c.signed, c.signature, c.key))) throw badSignature(c.header);
  return { header: c.header, body: bodyOf(c) };
}

interface CheckedEnvelope {
  b: Buffer;
  header: EnvelopeHeader;
  signed: Buffer;
  signature: Buffer;
  /** The key to verify with; null: trusted, no check. */
  key: VerifyKey | null;
}

/** Header, kind and the sender's key: everything before the signature check. */
function checkEnvelope(buf: Uint8Array, expectKind: EnvelopeKind, keyFor: ((senderId: string) => KeyLookup) | 'trusted'): CheckedEnvelope {
  const b = asBuffer(buf);
  const header = readEnvelopeHeader(b);
  if (header.kind !== expectKind) {
    throw new CodecError('bad_kind', `expected ${expectKind === KIND_BATCH ? 'a batch (kind 1)' : 'an ack (kind 2)'}, got kind ${header.kind}`);
  }
  const signedEnd = header.bodyStart + header.bodyLength;
  let key: VerifyKey | null = null;
  if (keyFor !== 'trusted') {
    const k = keyFor(header.senderId);
    if (k === undefined) throw new CodecError('unknown_sender', `unknown ${header.kind === KIND_BATCH ? 'vehicle' : 'sender'} ${JSON.stringify(header.senderId)}`);
    if (k === 'revoked') throw new CodecError('revoked_sender', `the key of vehicle ${JSON.stringify(header.senderId)} is revoked`);
    key = k;
  }
  return { b, header, signed: b.subarray(0, signedEnd), signature: b.subarray(signedEnd, signedEnd + SIGNATURE_BYTES), key };
}

function badSignature(header: EnvelopeHeader): CodecError {
  return new CodecError('bad_signature', header.kind === KIND_BATCH ? `signature does not match vehicle ${JSON.stringify(header.senderId)}'s key` : 'signature does not match the pinned ingest ack key');
}

/** The (decompressed) body of an envelope whose signature was checked. */
function bodyOf(c: CheckedEnvelope): Buffer {
  const raw = c.b.subarray(c.header.bodyStart, c.header.bodyStart + c.header.bodyLength);
  if (!c.header.compressed) return Buffer.from(raw);
  try {
    return brotliDecompressSync(raw, { maxOutputLength: MAX_BODY_BYTES });
  } catch (e) {
    throw new CodecError('bad_compression', `body does not decompress: ${(e as Error).message}`);
  }
}

function asBuffer(buf: Uint8Array): Buffer {
  return Buffer.isBuffer(buf) ? buf : Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
}
