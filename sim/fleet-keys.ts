/**
 * Keys for a simulated fleet, as an operator would provision them with `fleetmap keys`: one
 * Ed25519 key pair per vehicle (private PEM beside its outbox, public half in the registry) and
 * the ingest's ack key pair (the edges pin its public half).
 */
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { KeyRegistry } from '../cloud/ingest/keys.ts';
import { generateSigningKeyPair, privatePem, publicPem } from '../shared/index.ts';

export interface FleetKeys {
  /** The vehicle key registry, for `cloud ingest --keys`. */
  registryFile: string;
  /** The ingest's ack private key, for `cloud ingest --ack-key`. */
  ackKeyFile: string;
  /** Its public half, for `edge run --ingest-ack-key`. */
  ackPublicKeyFile: string;
  /** A vehicle's private key file, for `edge run --key-file`. */
  keyFileOf(vehicleId: string): string;
}

export function provisionFleetKeys(o: { edgeDir: string; cloudDir: string; vehicleIds: readonly string[] }): FleetKeys {
  let registry = KeyRegistry.empty();
  const keyFileOf = (v: string): string => path.join(o.edgeDir, `${v}.key`);
  for (const v of new Set(o.vehicleIds)) {
    const { privateKey, publicKey } = generateSigningKeyPair();
    writeFileSync(keyFileOf(v), privatePem(privateKey), { mode: 0o600 });
    registry = registry.withRegistered(v, publicKey, Date.now());
  }
  const registryFile = path.join(o.cloudDir, 'fleet-keys.json');
  registry.writeFile(registryFile);
  const ack = generateSigningKeyPair();
  const ackKeyFile = path.join(o.cloudDir, 'ingest-ack.key');
  const ackPublicKeyFile = path.join(o.cloudDir, 'ingest-ack.pub');
  writeFileSync(ackKeyFile, privatePem(ack.privateKey), { mode: 0o600 });
  writeFileSync(ackPublicKeyFile, publicPem(ack.publicKey));
  return { registryFile, ackKeyFile, ackPublicKeyFile, keyFileOf };
}

/**
 * Simulated drives are dated in the past (sim/fleet.ts startUnixMs); the ingest refuses data older
 * than --max-age-days (30 by default), so replays widen the window.
 */
export const REPLAY_MAX_AGE_DAYS = '36500';
