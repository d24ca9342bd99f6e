/**
 * CurveZMQ keys (RFC 26 / RFC 32): the transport keys of the uplink. A key is 32 bytes, written
 * as 40 Z85 characters. Both sides hold a long-term keypair: the ingest's public key is pinned by
 * every vehicle (`edge run --ingest-curve-public-key`), each vehicle's public key is in the
 * ingest's registry (cloud/ingest/keys.ts) and admitted by its ZAP handler (cloud/ingest/zap.ts).
 *
 * Keypair file (JSON, mode 0600): `{ "publicKey": "<40 z85 chars>", "secretKey": "<40 z85 chars>" }`.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import * as zmq from 'zeromq';

export interface CurveKeypair {
  /** 40 Z85 characters. */
  publicKey: string;
  /** 40 Z85 characters. */
  secretKey: string;
}

const Z85_ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#';
const Z85_KEY_RE = /^[0-9a-zA-Z.\-:+=^!/*?&<>()[\]{}@%$#]{40}$/;
const Z85_VALUE = new Int16Array(128).fill(-1);
for (let i = 0; i < Z85_ALPHABET.length; i++) Z85_VALUE[Z85_ALPHABET.charCodeAt(i)] = i;

/** 40 Z85 characters that decode to 32 bytes (no 5-character group above 2^32 - 1). */
export function isZ85Key(s: unknown): s is string {
  return typeof s === 'string' && Z85_KEY_RE.test(s) && z85Decode(s) !== undefined;
}

/** Z85-encode bytes (length a multiple of 4). */
export function z85Encode(bytes: Uint8Array): string {
  if (bytes.length % 4 !== 0) throw new RangeError(`z85: length must be a multiple of 4, got ${bytes.length}`);
  let out = '';
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < bytes.length; i += 4) {
    let v = view.getUint32(i);
    const chunk = new Array<string>(5);
    for (let j = 4; j >= 0; j--) {
      chunk[j] = Z85_ALPHABET[v % 85]!;
      v = Math.floor(v / 85);
    }
    out += chunk.join('');
  }
  return out;
}

/** Decode Z85 (length a multiple of 5); undefined for a character outside the alphabet or a group over 2^32 - 1. */
export function z85Decode(s: string): Buffer | undefined {
  if (s.length % 5 !== 0) return undefined;
  const out = Buffer.alloc((s.length / 5) * 4);
  for (let i = 0, o = 0; i < s.length; i += 5, o += 4) {
    let v = 0;
    for (let j = 0; j < 5; j++) {
      const c = s.charCodeAt(i + j);
      const d = c < 128 ? Z85_VALUE[c]! : -1;
      if (d < 0) return undefined;
      v = v * 85 + d;
    }
    if (v > 0xffff_ffff) return undefined;
    out.writeUInt32BE(v, o);
  }
  return out;
}

export function readCurveKeypair(file: string): CurveKeypair {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Error(`curve keypair ${file}: cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  const r = raw as Partial<CurveKeypair> | null;
  if (!r || !isZ85Key(r.publicKey)) throw new Error(`curve keypair ${file}: publicKey must be 40 z85 characters`);
  if (!isZ85Key(r.secretKey)) throw new Error(`curve keypair ${file}: secretKey must be 40 z85 characters`);
  return { publicKey: r.publicKey, secretKey: r.secretKey };
}

/** A new keypair (libzmq's generator). */
export function newCurveKeypair(): CurveKeypair {
  if (!zmq.capability.curve) throw new Error('this zeromq build has no CURVE support');
  return zmq.curveKeyPair();
}

/** Create a new keypair file (mode 0600); refuses to overwrite one. */
export function generateCurveKeypair(file: string): CurveKeypair {
  if (existsSync(file)) throw new Error(`curve keypair ${file} already exists; not overwriting it`);
  return writeCurveKeypair(file, newCurveKeypair());
}

/** Write `kp` to a new file (mode 0600, never overwriting). */
export function writeCurveKeypair(file: string, kp: CurveKeypair): CurveKeypair {
  writeFileSync(file, `${JSON.stringify({ publicKey: kp.publicKey, secretKey: kp.secretKey }, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
  return kp;
}
