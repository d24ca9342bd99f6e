/**
 * Fleet upload health, per vehicle: last seen, batches stored, duplicates, rejections by code,
 * bytes, observations, last reported queue depth. Kept in memory by the ingest, persisted to the
 * object store as `health/fleet.json` (periodically and on shutdown), read by `fleetmap cloud health`.
 *
 * Rejections are charged to a vehicle only when they are authenticated (its signature checked out:
 * seq_conflict, bad_body of a signed batch). Anything a stranger can send without the key
 * (garbage, bad versions, bad signatures, unknown or forged vehicle ids) goes to `unattributed`, so
 * nobody can add counts to a vehicle they do not hold the key of, nor grow the table without
 * bound: `unattributed.rejected` counts by code, `recentUnknownSenders` keeps the last
 * MAX_RECENT_UNKNOWN claimed ids (cut to MAX_CLAIMED_ID_CHARS) for operators.
 *
 * Everything in here that a vehicle or a stranger chose is escaped and cut when shown
 * (renderHealthTable via display-safe.ts; boundedHealth for JSON output).
 *
 * Persisting: health-writer.ts writes health/fleet.json after changes (onChange), coalesced.
 */
import { capLength, displaySafe, DISPLAY_MAX_CHARS } from './display-safe.ts';

export const HEALTH_KEY = 'health/fleet.json';
export const HEALTH_SCHEMA_VERSION = 1;
const MAX_RECENT_UNKNOWN = 10;
const MAX_CLAIMED_ID_CHARS = 64;

export interface VehicleHealth {
  /** Last authenticated message (stored, duplicate or rejected after authentication), Unix ms. */
  lastSeenUnixMs: number | null;
  batchesStored: number;
  duplicates: number;
  rejected: Record<string, number>;
  bytesStored: number;
  observationsStored: number;
  lastQueueDepth: number | null;
  /** Highest seq stored. */
  lastSeq: number | null;
}

export interface FleetHealthSnapshot {
  schemaVersion: 1;
  updatedUnixMs: number;
  vehicles: Record<string, VehicleHealth>;
  /** Refusals nobody authenticated: counted by code, never charged to a vehicle. */
  unattributed: { rejected: Record<string, number>; lastSeenUnixMs: number | null; recentUnknownSenders: string[] };
}

export const emptyVehicleHealth = (): VehicleHealth => ({
  lastSeenUnixMs: null,
  batchesStored: 0,
  duplicates: 0,
  rejected: {},
  bytesStored: 0,
  observationsStored: 0,
  lastQueueDepth: null,
  lastSeq: null,
});

export class FleetHealth {
  private snap: FleetHealthSnapshot;
  /** Changed since the last snapshot() for persisting. */
  dirty = false;
  private readonly listeners = new Set<() => void>();

  constructor(initial?: FleetHealthSnapshot, registered: readonly string[] = []) {
    this.snap = initial ? structuredClone(initial) : { schemaVersion: HEALTH_SCHEMA_VERSION, updatedUnixMs: 0, vehicles: {}, unattributed: { rejected: {}, lastSeenUnixMs: null, recentUnknownSenders: [] } };
    for (const id of registered) this.vehicle(id);
  }

  private vehicle(id: string): VehicleHealth {
    let v = this.snap.vehicles[id];
    if (!v) {
      v = emptyVehicleHealth();
      this.snap.vehicles[id] = v;
    }
    return v;
  }

  recordStored(id: string, b: { seq: number; bytes: number; observations: number; queueDepth: number }, nowUnixMs: number): void {
    const v = this.vehicle(id);
    v.lastSeenUnixMs = nowUnixMs;
    v.batchesStored++;
    v.bytesStored += b.bytes;
    v.observationsStored += b.observations;
    v.lastQueueDepth = b.queueDepth;
    v.lastSeq = Math.max(v.lastSeq ?? 0, b.seq);
    this.touch(nowUnixMs);
  }

  recordDuplicate(id: string, nowUnixMs: number): void {
    const v = this.vehicle(id);
    v.lastSeenUnixMs = nowUnixMs;
    v.duplicates++;
    this.touch(nowUnixMs);
  }

  /**
   * A refused message. Charged to `vehicleId` only with `authenticated: true` (the signature checked
   * out with that vehicle's key); otherwise counted under `unattributed`, with the claimed id
   * (`vehicleId` or `claimedSender`) kept among the recent unauthenticated senders.
   */
  recordRejected(code: string, who: { vehicleId?: string; authenticated?: boolean; claimedSender?: string }, nowUnixMs: number): void {
    if (who.vehicleId !== undefined && who.authenticated === true) {
      const v = this.vehicle(who.vehicleId);
      v.rejected[code] = (v.rejected[code] ?? 0) + 1;
      v.lastSeenUnixMs = nowUnixMs;
    } else {
      const u = this.snap.unattributed;
      u.rejected[code] = (u.rejected[code] ?? 0) + 1;
      u.lastSeenUnixMs = nowUnixMs;
      const claimed = who.vehicleId ?? who.claimedSender;
      if (claimed !== undefined) {
        const s = claimed.slice(0, MAX_CLAIMED_ID_CHARS);
        u.recentUnknownSenders = [s, ...u.recentUnknownSenders.filter((x) => x !== s)].slice(0, MAX_RECENT_UNKNOWN);
      }
    }
    this.touch(nowUnixMs);
  }

  /** Call `listener` after every change (health-writer.ts persists on it); returns the unsubscribe. */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private touch(nowUnixMs: number): void {
    this.snap.updatedUnixMs = nowUnixMs;
    this.dirty = true;
    for (const l of this.listeners) l();
  }

  snapshot(): FleetHealthSnapshot {
    return structuredClone(this.snap);
  }

  toBytes(): Buffer {
    return Buffer.from(`${JSON.stringify(this.snap, null, 2)}\n`);
  }
}

/** Parse health/fleet.json; throws with the field that is wrong. */
export function parseHealth(bytes: Uint8Array): FleetHealthSnapshot {
  const bad = (what: string): never => {
    throw new Error(`health/fleet.json: ${what}`);
  };
  let raw: unknown;
  try {
    raw = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch (e) {
    bad(`not JSON (${(e as Error).message})`);
  }
  if (typeof raw !== 'object' || raw === null) bad('must be an object');
  const r = raw as Record<string, unknown>;
  if (r.schemaVersion !== HEALTH_SCHEMA_VERSION) bad(`schemaVersion must be ${HEALTH_SCHEMA_VERSION}, got ${JSON.stringify(r.schemaVersion)}`);
  if (typeof r.vehicles !== 'object' || r.vehicles === null) bad('vehicles must be an object');
  for (const [id, v] of Object.entries(r.vehicles as Record<string, unknown>)) {
    const h = v as Record<string, unknown>;
    for (const k of ['batchesStored', 'duplicates', 'bytesStored', 'observationsStored'] as const) {
      if (typeof h?.[k] !== 'number') bad(`vehicles.${id}.${k} must be a number, got ${JSON.stringify(h?.[k])}`);
    }
    if (typeof h.rejected !== 'object' || h.rejected === null) bad(`vehicles.${id}.rejected must be an object`);
  }
  const u = r.unattributed as Record<string, unknown> | undefined;
  if (typeof u !== 'object' || u === null || typeof u.rejected !== 'object' || !Array.isArray(u.recentUnknownSenders)) bad('unattributed must be {rejected, lastSeenUnixMs, recentUnknownSenders}');
  return raw as FleetHealthSnapshot;
}

/**
 * The snapshot with every string anyone outside could have chosen cut to a bounded length (for
 * `--json`: JSON escapes control characters, this bounds the size). Vehicle ids and codes are
 * cut too, in case the file was written by something else.
 */
export function boundedHealth(s: FleetHealthSnapshot): FleetHealthSnapshot {
  const cap = (x: string): string => capLength(x, MAX_CLAIMED_ID_CHARS);
  const capCodes = (r: Record<string, number>): Record<string, number> => Object.fromEntries(Object.entries(r).map(([k, n]) => [capLength(k, 32), n]));
  return {
    ...s,
    vehicles: Object.fromEntries(Object.entries(s.vehicles).map(([id, v]) => [cap(id), { ...v, rejected: capCodes(v.rejected) }])),
    unattributed: {
      ...s.unattributed,
      rejected: capCodes(s.unattributed.rejected),
      recentUnknownSenders: s.unattributed.recentUnknownSenders.slice(0, MAX_RECENT_UNKNOWN).map((x) => cap(String(x))),
    },
  };
}

/** A readable table, one row per vehicle, then the unattributed rejections; every outside string escaped (display-safe.ts). */
export function renderHealthTable(s: FleetHealthSnapshot, nowUnixMs: number = Date.now()): string {
  const head = ['vehicle', 'last seen', 'stored', 'dup', 'rejected', 'MB', 'observations', 'queue', 'last seq'];
  const rows = Object.entries(s.vehicles)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([id, v]) => [
      id,
      v.lastSeenUnixMs === null ? 'never' : `${ago(nowUnixMs - v.lastSeenUnixMs)} ago`,
      String(v.batchesStored),
      String(v.duplicates),
      codes(v.rejected),
      (v.bytesStored / 1e6).toFixed(2),
      String(v.observationsStored),
      v.lastQueueDepth === null ? '-' : String(v.lastQueueDepth),
      v.lastSeq === null ? '-' : String(v.lastSeq),
    ])
    // Every cell escaped once: ids are what vehicles and strangers chose; the rest came from a file.
    .map((cells) => cells.map((c, i) => displaySafe(c, i === 4 ? 4 * DISPLAY_MAX_CHARS : DISPLAY_MAX_CHARS)));
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === 0 || i === 1 || i === 4 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ').trimEnd();
  const out = [line(head), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)];
  if (rows.length === 0) out.push('(no vehicles)');
  const u = s.unattributed;
  const senders = u.recentUnknownSenders.slice(0, MAX_RECENT_UNKNOWN).map((x) => `"${displaySafe(String(x)).replace(/"/g, '\\x22')}"`);
  out.push('', `unattributed rejections: ${displaySafe(codes(u.rejected), 4 * DISPLAY_MAX_CHARS)}${senders.length ? `; recent unauthenticated senders: ${senders.join(', ')}` : ''}`);
  out.push(`updated: ${typeof s.updatedUnixMs === 'number' && Number.isFinite(s.updatedUnixMs) && s.updatedUnixMs > 0 && s.updatedUnixMs < 8.64e15 ? new Date(s.updatedUnixMs).toISOString() : 'never'}`);
  return out.join('\n');
}

function codes(r: Record<string, number>): string {
  const e = Object.entries(r).sort(([a], [b]) => a.localeCompare(b));
  return e.length === 0 ? '-' : e.map(([k, n]) => `${k}:${Number(n)}`).join(',');
}

function ago(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.round(s / 60)}m`;
  if (s < 172_800) return `${Math.round(s / 3600)}h`;
  return `${Math.round(s / 86_400)}d`;
}
