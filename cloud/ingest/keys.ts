/**
 * The fleet key registry: which vehicles may upload, and the 32-byte HMAC key of each.
 * File format (JSON): `{ "<vehicleId>": "<64 hex digits>", ... }`. Vehicle ids are
 * [A-Za-z0-9._-]{1,64} because they become object-store key segments (batches/<vehicleId>/...).
 * Errors name the vehicle and the field, never the key.
 */
import { readFileSync } from 'node:fs';

export const VEHICLE_ID_RE = /^[A-Za-z0-9._-]{1,64}$/;

export class KeyRegistryError extends Error {
  constructor(
    readonly source: string,
    readonly problems: string[],
  ) {
    super(`key registry ${source}: ${problems.join('; ')}`);
    this.name = 'KeyRegistryError';
  }
}

export class KeyRegistry {
  private readonly keys: Map<string, Buffer>;

  constructor(entries: Record<string, string>, source = '<inline>') {
    const problems: string[] = [];
    this.keys = new Map();
    for (const [id, hex] of Object.entries(entries)) {
      if (!VEHICLE_ID_RE.test(id) || id === '.' || id === '..') problems.push(`vehicle id must match ${VEHICLE_ID_RE}, got ${JSON.stringify(id)}`);
      else if (typeof hex !== 'string' || !/^[0-9a-fA-F]{64}$/.test(hex)) {
        problems.push(`key of ${JSON.stringify(id)} must be 64 hex digits (32 bytes), got ${typeof hex === 'string' ? `${hex.length} characters` : typeof hex}`);
      } else this.keys.set(id, Buffer.from(hex, 'hex'));
    }
    if (problems.length) throw new KeyRegistryError(source, problems);
  }

  static fromFile(file: string): KeyRegistry {
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(file, 'utf8'));
    } catch (e) {
      throw new KeyRegistryError(file, [`cannot read: ${(e as Error).message}`]);
    }
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new KeyRegistryError(file, ['must hold a JSON object {vehicleId: hexKey}']);
    return new KeyRegistry(raw as Record<string, string>, file);
  }

  /** For decodeBatch: the key of a registered vehicle, undefined otherwise. */
  readonly keyFor = (vehicleId: string): Buffer | undefined => this.keys.get(vehicleId);

  has(vehicleId: string): boolean {
    return this.keys.has(vehicleId);
  }

  vehicles(): string[] {
    return [...this.keys.keys()].sort();
  }
}
