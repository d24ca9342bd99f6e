/**
 * Keys for a simulated fleet, as an operator would provision them with `fleetmap keys`: per
 * vehicle an Ed25519 key pair (private PEM beside its outbox, public half in the registry) and a
 * CURVE transport keypair (beside its outbox, public half in the registry: the ingest's ZAP
 * handler admits it); the ingest's ack key pair (the edges pin its public half) and its CURVE
 * server keypair (the edges pin its public key). The demo and the benches run with CURVE on.
 */
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { KeyRegistry } from '../cloud/ingest/keys.ts';
import { generateCurveKeypair } from '../shared/curve.ts';
import { generateSigningKeyPair, privatePem, publicPem } from '../shared/index.ts';

export interface FleetKeys {
  /** The vehicle key registry, for `cloud ingest --keys`. */
  registryFile: string;
  /** The ingest's ack private key, for `cloud ingest --ack-key`. */
  ackKeyFile: string;
  /** Its public half, for `edge run --ingest-ack-key`. */
  ackPublicKeyFile: string;
  /** The ingest's CURVE server keypair, for `cloud ingest --curve-keypair`. */
  ingestCurveKeypairFile: string;
  /** Its public key (z85), for `edge run --ingest-curve-public-key`. */
  ingestCurvePublicKey: string;
  /** A vehicle's private key file, for `edge run --key-file`. */
  keyFileOf(vehicleId: string): string;
  /** A vehicle's CURVE keypair file, for `edge run --curve-keypair`. */
  curveKeypairFileOf(vehicleId: string): string;
  /** The `cloud ingest` flags for CURVE + ZAP. */
  ingestCurveArgs(): string[];
  /** The `edge run` flags for CURVE (the pinned ingest key and the vehicle's keypair). */
  edgeCurveArgs(vehicleId: string): string[];
}

export function provisionFleetKeys(o: { edgeDir: string; cloudDir: string; vehicleIds: readonly string[] }): FleetKeys {
  let registry = KeyRegistry.empty();
  const keyFileOf = (v: string): string => path.join(o.edgeDir, `${v}.key`);
  const curveKeypairFileOf = (v: string): string => path.join(o.edgeDir, `${v}.curve`);
  for (const v of new Set(o.vehicleIds)) {
    const { privateKey, publicKey } = generateSigningKeyPair();
    writeFileSync(keyFileOf(v), privatePem(privateKey), { mode: 0o600 });
    const curve = generateCurveKeypair(curveKeypairFileOf(v));
    registry = registry.withRegistered(v, publicKey, Date.now(), curve.publicKey);
  }
  const registryFile = path.join(o.cloudDir, 'fleet-keys.json');
  registry.writeFile(registryFile);
  const ack = generateSigningKeyPair();
  const ackKeyFile = path.join(o.cloudDir, 'ingest-ack.key');
  const ackPublicKeyFile = path.join(o.cloudDir, 'ingest-ack.pub');
  writeFileSync(ackKeyFile, privatePem(ack.privateKey), { mode: 0o600 });
  writeFileSync(ackPublicKeyFile, publicPem(ack.publicKey));
  const ingestCurveKeypairFile = path.join(o.cloudDir, 'ingest.curve');
  const ingestCurvePublicKey = generateCurveKeypair(ingestCurveKeypairFile).publicKey;
  return {
    registryFile,
    ackKeyFile,
    ackPublicKeyFile,
    ingestCurveKeypairFile,
    ingestCurvePublicKey,
    keyFileOf,
    curveKeypairFileOf,
    ingestCurveArgs: () => ['--curve-keypair', ingestCurveKeypairFile],
    edgeCurveArgs: (v) => ['--ingest-curve-public-key', ingestCurvePublicKey, '--curve-keypair', curveKeypairFileOf(v)],
  };
}

/**
 * Simulated drives are dated in the past (sim/fleet.ts startUnixMs); the ingest refuses data older
 * than --max-age-days (30 by default), so replays widen the window.
 */
export const REPLAY_MAX_AGE_DAYS = '36500';
