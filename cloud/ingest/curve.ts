/**
 * Optional CurveZMQ encryption of the uplink (zeromq `capability.curve`). The batch signature already
 * authenticates every batch end to end; CURVE adds confidentiality on the wire (positions of a
 * vehicle are personal data). The ingest holds a long-term keypair; vehicles pin its public key
 * and use an ephemeral client keypair per run (clients are authenticated by the batch's Ed25519 signature, not
 * by their CURVE key, so no ZAP handler is needed).
 *
 * Keypair file (JSON, mode 0600): `{ "publicKey": "<40 z85 chars>", "secretKey": "<40 z85 chars>" }`.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import * as zmq from 'zeromq';

export interface CurveKeypair {
  publicKey: string;
  secretKey: string;
}

const Z85_KEY_RE = /^[0-9a-zA-Z.\-:+=^!/*?&<>()[\]{}@%$#]{40}$/;

export function isZ85Key(s: unknown): s is string {
  return typeof s === 'string' && Z85_KEY_RE.test(s);
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

/** Create a new keypair file; refuses to overwrite one. */
export function generateCurveKeypair(file: string): CurveKeypair {
  if (!zmq.capability.curve) throw new Error('this zeromq build has no CURVE support');
  if (existsSync(file)) throw new Error(`curve keypair ${file} already exists; not overwriting it`);
  const kp = zmq.curveKeyPair();
  writeFileSync(file, `${JSON.stringify(kp, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
  return kp;
}
