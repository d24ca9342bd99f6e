/**
 * Ed25519 keys and signatures (RFC 8032, node:crypto) for the uplink: vehicles sign their batch
 * envelopes, the ingest signs its acks. Only public keys ever leave the machine that made them.
 *
 * Key formats:
 * - private key file: PEM, PKCS#8 (`-----BEGIN PRIVATE KEY-----`), as `fleetmap keys generate` writes it
 *   (also accepted: 64 hex digits, the raw 32-byte seed);
 * - public key file: PEM, SPKI (`-----BEGIN PUBLIC KEY-----`);
 * - public key in the registry and in docs/WIRE.md: the raw 32-byte key (RFC 8032 A) as 64 hex digits.
 * In code a private key may also be given as its raw 32-byte seed (RFC 8032 k), for tests and tools.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';

export const SIGNATURE_BYTES = 64;
export const ED25519_RAW_KEY_BYTES = 32;

/** A private Ed25519 key: a KeyObject, or its raw 32-byte seed. */
export type SigningKey = KeyObject | Uint8Array;
/** A public Ed25519 key: a KeyObject, or its raw 32 bytes. */
export type VerifyKey = KeyObject | Uint8Array;

// DER prefixes of PKCS#8 / SPKI Ed25519 keys; the raw 32 bytes follow (RFC 8410).
const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

export function privateKeyFromSeed(seed: Uint8Array): KeyObject {
  if (seed.length !== ED25519_RAW_KEY_BYTES) throw new RangeError(`an Ed25519 seed is ${ED25519_RAW_KEY_BYTES} bytes, got ${seed.length}`);
  return createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' });
}

export function publicKeyFromRaw(raw: Uint8Array): KeyObject {
  if (raw.length !== ED25519_RAW_KEY_BYTES) throw new RangeError(`an Ed25519 public key is ${ED25519_RAW_KEY_BYTES} bytes, got ${raw.length}`);
  return createPublicKey({ key: Buffer.concat([SPKI_PREFIX, raw]), format: 'der', type: 'spki' });
}

/** The raw 32 bytes of a public (or the public half of a private) Ed25519 key. */
export function rawPublicKey(key: KeyObject): Buffer {
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  const der = pub.export({ format: 'der', type: 'spki' });
  return Buffer.from(der.subarray(der.length - ED25519_RAW_KEY_BYTES));
}

export function generateSigningKeyPair(): { privateKey: KeyObject; publicKey: KeyObject } {
  return generateKeyPairSync('ed25519');
}

export function privatePem(key: KeyObject): string {
  return key.export({ format: 'pem', type: 'pkcs8' }).toString();
}

export function publicPem(key: KeyObject): string {
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  return pub.export({ format: 'pem', type: 'spki' }).toString();
}

/** Parse a PEM private key; throws with what is wrong (never the key). */
export function parsePrivateKeyPem(pem: string, source: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: pem, format: 'pem' });
  } catch (e) {
    throw new Error(`${source}: not a PEM private key (${(e as Error).message})`);
  }
  if (key.asymmetricKeyType !== 'ed25519') throw new Error(`${source}: expected an Ed25519 private key, got ${key.asymmetricKeyType ?? 'unknown'}`);
  return key;
}

/** Parse a PEM public key, or 64 hex digits of a raw key. */
export function parsePublicKeyText(text: string, source: string): KeyObject {
  const t = text.trim();
  if (/^[0-9a-fA-F]{64}$/.test(t)) return publicKeyFromRaw(Buffer.from(t, 'hex'));
  if (t.includes('PRIVATE KEY')) throw new Error(`${source}: holds a private key; give the public key`);
  let key: KeyObject;
  try {
    key = createPublicKey({ key: t, format: 'pem' });
  } catch (e) {
    throw new Error(`${source}: not a PEM public key nor 64 hex digits (${(e as Error).message})`);
  }
  if (key.type !== 'public') throw new Error(`${source}: holds a private key; give the public key`);
  if (key.asymmetricKeyType !== 'ed25519') throw new Error(`${source}: expected an Ed25519 public key, got ${key.asymmetricKeyType ?? 'unknown'}`);
  return key;
}

export function readPrivateKeyFile(file: string): KeyObject {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new Error(`cannot read private key ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  const t = text.trim();
  // Also 64 hex digits: the raw 32-byte seed (RFC 8032 private key), for provisioning tools.
  if (/^[0-9a-fA-F]{64}$/.test(t)) return privateKeyFromSeed(Buffer.from(t, 'hex'));
  return parsePrivateKeyPem(t, file);
}

export function readPublicKeyFile(file: string): KeyObject {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new Error(`cannot read public key ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  return parsePublicKeyText(text, file);
}

export function toSigningKey(k: SigningKey): KeyObject {
  return k instanceof Uint8Array ? privateKeyFromSeed(k) : k;
}

export function toVerifyKey(k: VerifyKey): KeyObject {
  return k instanceof Uint8Array ? publicKeyFromRaw(k) : k;
}

export function signEd25519(data: Uint8Array, key: SigningKey): Buffer {
  return sign(null, data, toSigningKey(key));
}

/** signEd25519 on libuv's thread pool (the same signature; see verifyEd25519Async). */
export function signEd25519Async(data: Uint8Array, key: SigningKey): Promise<Buffer> {
  const k = toSigningKey(key);
  return new Promise((resolve, reject) => sign(null, data, k, (e, sig) => (e ? reject(e) : resolve(sig))));
}

/** Whether `signature` is `data` signed by `key`; false (never a throw) on any malformed input. */
export function verifyEd25519(data: Uint8Array, signature: Uint8Array, key: VerifyKey): boolean {
  const k = verifyKeyFor(signature, key);
  if (k === null) return false;
  try {
    return verify(null, data, k, signature);
  } catch {
    return false;
  }
}

/** The key to check `signature` with; null when the signature or the key is malformed (a false answer, never a throw). */
function verifyKeyFor(signature: Uint8Array, key: VerifyKey): KeyObject | null {
  if (signature.length !== SIGNATURE_BYTES) return null;
  try {
    return toVerifyKey(key);
  } catch {
    return null;
  }
}

/**
 * verifyEd25519 on libuv's thread pool: the same answer, but the calling thread spends about 10 us
 * instead of the check's 85 us (AMD EPYC, 2.8 kB). For a server whose one JavaScript thread is its
 * limit (the ingest). `data` and `signature` must not change until it settles.
 */
export function verifyEd25519Async(data: Uint8Array, signature: Uint8Array, key: VerifyKey): Promise<boolean> {
  const k = verifyKeyFor(signature, key);
  if (k === null) return Promise.resolve(false);
  return new Promise((resolve) => {
    try {
      verify(null, data, k, signature, (e, ok) => resolve(!e && ok));
    } catch {
      resolve(false);
    }
  });
}
