/**
 * The fleet key registry: which vehicles may upload, each one's Ed25519 PUBLIC key (the private
 * key never leaves the vehicle), and whether it is active or revoked. File format (JSON, written
 * by `fleetmap keys register|revoke`, atomically: temp file + rename):
 * ```
 * { "format": "fleetmap-vehicle-keys", "version": 1,
 *   "vehicles": {
 *     "veh-001": { "ed25519PublicKeyHex": "<64 hex: the raw 32-byte public key>",
 *                  "curvePublicKeyZ85": "<40 z85>",    // the vehicle's CURVE transport public key,
 *                                                      // admitted by the ZAP handler (zap.ts) while
 *                                                      // active; null (older files): cannot connect
 *                  "status": "active",                 // or "revoked"
 *                  "registeredUnixMs": 1764400000000,
 *                  "revokedUnixMs": null } } }         // set when revoked
 * ```
 * Vehicle ids follow shared/ids.ts (they become store key segments and health rows; prototype
 * names and temp-file names are refused). Entries live in a Map. Errors name the vehicle and the
 * field, never a key. A CURVE key belongs to one vehicle at most (the ZAP handler maps it back).
 */
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import * as path from 'node:path';
import type { KeyObject } from 'node:crypto';
import { publicKeyFromRaw, rawPublicKey, vehicleIdProblem, type KeyLookup } from '../../shared/index.ts';
import { isZ85Key } from '../../shared/curve.ts';

export const REGISTRY_FORMAT = 'fleetmap-vehicle-keys';
export const REGISTRY_VERSION = 1;

export type KeyStatus = 'active' | 'revoked';

export interface VehicleKeyEntry {
  ed25519PublicKeyHex: string;
  curvePublicKeyZ85: string | null;
  status: KeyStatus;
  registeredUnixMs: number;
  revokedUnixMs: number | null;
}

export class KeyRegistryError extends Error {
  constructor(
    readonly source: string,
    readonly problems: string[],
  ) {
    super(`key registry ${source}: ${problems.join('; ')}`);
    this.name = 'KeyRegistryError';
  }
}

const HEX_KEY_RE = /^[0-9a-f]{64}$/;
const ENTRY_FIELDS = ['ed25519PublicKeyHex', 'curvePublicKeyZ85', 'status', 'registeredUnixMs', 'revokedUnixMs'];

export class KeyRegistry {
  private readonly entries: Map<string, VehicleKeyEntry>;
  private readonly keys = new Map<string, KeyObject>();
  private readonly curveOwners = new Map<string, string>();

  constructor(entries: ReadonlyMap<string, VehicleKeyEntry> | Iterable<[string, VehicleKeyEntry]> = [], source = '<inline>') {
    const problems: string[] = [];
    this.entries = new Map();
    for (const [id, e] of entries) {
      const p = vehicleIdProblem(id) ?? entryProblem(id, e);
      if (p) {
        problems.push(p);
        continue;
      }
      const curve = e.curvePublicKeyZ85;
      if (curve !== null && this.curveOwners.has(curve)) {
        problems.push(`vehicle ${JSON.stringify(id)}: curvePublicKeyZ85 is already vehicle ${JSON.stringify(this.curveOwners.get(curve))}'s`);
        continue;
      }
      this.entries.set(id, { ...e });
      this.keys.set(id, publicKeyFromRaw(Buffer.from(e.ed25519PublicKeyHex, 'hex')));
      if (curve !== null) this.curveOwners.set(curve, id);
    }
    if (problems.length) throw new KeyRegistryError(source, problems);
  }

  static parse(text: string, source: string): KeyRegistry {
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch (e) {
      throw new KeyRegistryError(source, [`not JSON: ${(e as Error).message}`]);
    }
    const r = raw as Record<string, unknown> | null;
    if (typeof r !== 'object' || r === null || Array.isArray(r)) throw new KeyRegistryError(source, ['must hold a JSON object']);
    if (r.format !== REGISTRY_FORMAT || r.version !== REGISTRY_VERSION) {
      throw new KeyRegistryError(source, [`must have "format": "${REGISTRY_FORMAT}", "version": ${REGISTRY_VERSION}; got format ${JSON.stringify(r.format)} version ${JSON.stringify(r.version)}`]);
    }
    const v = r.vehicles;
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new KeyRegistryError(source, ['"vehicles" must be an object {vehicleId: entry}']);
    // JSON.parse makes own properties (even "__proto__"), and the constructor refuses reserved ids.
    return new KeyRegistry(Object.entries(v as Record<string, VehicleKeyEntry>), source);
  }

  static fromFile(file: string): KeyRegistry {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      throw new KeyRegistryError(file, [`cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`]);
    }
    return KeyRegistry.parse(text, file);
  }

  static empty(): KeyRegistry {
    return new KeyRegistry();
  }

  /** For decodeBatch: the public key of an active vehicle, 'revoked', or undefined (unknown). */
  readonly keyFor = (vehicleId: string): KeyLookup => {
    const e = this.entries.get(vehicleId);
    if (!e) return undefined;
    return e.status === 'revoked' ? 'revoked' : this.keys.get(vehicleId);
  };

  /** For the ZAP handler: the vehicle a CURVE public key (z85) is registered to, and its status. */
  curveKeyOwner(curvePublicKeyZ85: string): { vehicleId: string; status: KeyStatus } | undefined {
    const id = this.curveOwners.get(curvePublicKeyZ85);
    return id === undefined ? undefined : { vehicleId: id, status: this.entries.get(id)!.status };
  }

  /** Registered, active or revoked. */
  has(vehicleId: string): boolean {
    return this.entries.has(vehicleId);
  }

  entry(vehicleId: string): VehicleKeyEntry | undefined {
    const e = this.entries.get(vehicleId);
    return e && { ...e };
  }

  vehicles(): string[] {
    return [...this.entries.keys()].sort();
  }

  activeCount(): number {
    let n = 0;
    for (const e of this.entries.values()) if (e.status === 'active') n++;
    return n;
  }

  /** A new registry with `vehicleId` registered (or re-registered after a revocation). */
  withRegistered(vehicleId: string, publicKey: KeyObject, nowUnixMs: number, curvePublicKeyZ85: string | null = null): KeyRegistry {
    const idProblem = vehicleIdProblem(vehicleId);
    if (idProblem) throw new KeyRegistryError('register', [idProblem]);
    const old = this.entries.get(vehicleId);
    if (old?.status === 'active') throw new KeyRegistryError('register', [`vehicle ${JSON.stringify(vehicleId)} is already registered and active; revoke it first to replace its key`]);
    const hex = rawPublicKey(publicKey).toString('hex');
    if (old?.status === 'revoked' && old.ed25519PublicKeyHex === hex) throw new KeyRegistryError('register', [`vehicle ${JSON.stringify(vehicleId)}: this key was revoked; generate a new one`]);
    if (curvePublicKeyZ85 !== null) {
      if (!isZ85Key(curvePublicKeyZ85)) throw new KeyRegistryError('register', [`vehicle ${JSON.stringify(vehicleId)}: the CURVE public key must be 40 z85 characters`]);
      if (old?.status === 'revoked' && old.curvePublicKeyZ85 === curvePublicKeyZ85) throw new KeyRegistryError('register', [`vehicle ${JSON.stringify(vehicleId)}: this CURVE key was revoked; generate a new one`]);
      const owner = this.curveOwners.get(curvePublicKeyZ85);
      if (owner !== undefined && owner !== vehicleId) throw new KeyRegistryError('register', [`vehicle ${JSON.stringify(vehicleId)}: this CURVE key is already vehicle ${JSON.stringify(owner)}'s`]);
    }
    const next = new Map(this.entries);
    next.set(vehicleId, { ed25519PublicKeyHex: hex, curvePublicKeyZ85, status: 'active', registeredUnixMs: nowUnixMs, revokedUnixMs: null });
    return new KeyRegistry(next);
  }

  /** A new registry with `vehicleId` revoked. */
  withRevoked(vehicleId: string, nowUnixMs: number): KeyRegistry {
    const old = this.entries.get(vehicleId);
    if (!old) throw new KeyRegistryError('revoke', [`vehicle ${JSON.stringify(vehicleId)} is not registered`]);
    if (old.status === 'revoked') throw new KeyRegistryError('revoke', [`vehicle ${JSON.stringify(vehicleId)} is already revoked`]);
    const next = new Map(this.entries);
    next.set(vehicleId, { ...old, status: 'revoked', revokedUnixMs: nowUnixMs });
    return new KeyRegistry(next);
  }

  toJSON(): { format: string; version: number; vehicles: Record<string, VehicleKeyEntry> } {
    const vehicles: Record<string, VehicleKeyEntry> = Object.create(null) as Record<string, VehicleKeyEntry>;
    for (const id of this.vehicles()) vehicles[id] = { ...this.entries.get(id)! };
    return { format: REGISTRY_FORMAT, version: REGISTRY_VERSION, vehicles };
  }

  /** Write the registry to `file` atomically: a temp file beside it, fsync, rename, fsync the directory. */
  writeFile(file: string): void {
    const dir = path.dirname(path.resolve(file));
    const tmp = path.join(dir, `.${path.basename(file)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
    const fd = openSync(tmp, 'wx', 0o644);
    try {
      writeSync(fd, `${JSON.stringify(this.toJSON(), null, 2)}\n`);
      fsyncSync(fd);
    } catch (e) {
      closeSync(fd);
      unlinkSync(tmp);
      throw e;
    }
    closeSync(fd);
    renameSync(tmp, file);
    const dfd = openSync(dir, 'r');
    try {
      fsyncSync(dfd);
    } finally {
      closeSync(dfd);
    }
  }
}

function entryProblem(id: string, e: unknown): string | undefined {
  const at = `vehicle ${JSON.stringify(id)}`;
  if (typeof e !== 'object' || e === null || Array.isArray(e)) return `${at}: entry must be an object`;
  const r = e as Record<string, unknown>;
  for (const k of Object.keys(r)) if (!ENTRY_FIELDS.includes(k)) return `${at}: unknown field ${JSON.stringify(k)}`;
  if (typeof r.ed25519PublicKeyHex !== 'string' || !HEX_KEY_RE.test(r.ed25519PublicKeyHex)) return `${at}: ed25519PublicKeyHex must be 64 lowercase hex digits (the raw 32-byte public key)`;
  try {
    publicKeyFromRaw(Buffer.from(r.ed25519PublicKeyHex, 'hex'));
  } catch {
    return `${at}: ed25519PublicKeyHex is not a valid Ed25519 public key`;
  }
  if (r.curvePublicKeyZ85 !== null && !isZ85Key(r.curvePublicKeyZ85)) return `${at}: curvePublicKeyZ85 must be null or 40 z85 characters`;
  if (r.status !== 'active' && r.status !== 'revoked') return `${at}: status must be "active" or "revoked", got ${JSON.stringify(r.status)}`;
  if (!Number.isSafeInteger(r.registeredUnixMs)) return `${at}: registeredUnixMs must be an integer`;
  if (r.status === 'revoked' ? !Number.isSafeInteger(r.revokedUnixMs) : r.revokedUnixMs !== null) return `${at}: revokedUnixMs must be an integer when revoked, null when active`;
  return undefined;
}
