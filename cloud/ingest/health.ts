/**
 * Fleet upload health, per vehicle: last seen, batches stored, duplicates, rejections by code (and
 * the last one's reason), bytes (in total and per hour over the last 24 h), observations, last
 * reported queue depth, and the status the vehicle reports in its batches (docs/WIRE.md 3.4: age
 * of its oldest unsent data, drops by reason, model, hw-profile, software version). Kept in memory
 * by the ingest, persisted to the object store as `health/fleet.json` (periodically and on
 * shutdown), read by `fleetmap cloud health` and the web page.
 *
 * Trouble (`troubleOf`, `sortByTrouble`): pure rules on one vehicle's health, the clock and the
 * thresholds: silent, refused batches, drops, backlog. Rendering lives in health-report.ts.
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
import type { VehicleStatus } from '../../shared/batch.ts';
import { capLength } from './display-safe.ts';

export const HEALTH_KEY = 'health/fleet.json';
export const HEALTH_SCHEMA_VERSION = 1;
export const MAX_RECENT_UNKNOWN = 10;
const MAX_CLAIMED_ID_CHARS = 64;
/** Longest refusal reason kept per vehicle. */
const MAX_REASON_CHARS = 256;
const HOUR_MS = 3_600_000;
/** Hours of bytesByHour kept (the bytes-per-day figure covers them). */
const BYTES_WINDOW_HOURS = 24;

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
  /** Bytes stored per hour, keyed by the hour (Unix ms / 3 600 000, floored); the last 24 hours only. */
  bytesByHour: Record<string, number>;
  /** When the last authenticated refusal happened (ingest clock, Unix ms), and its reason (cut to 256 characters). */
  lastRejectedUnixMs: number | null;
  lastRejectedReason: string | null;
  /** When the vehicle last reported its status (a stored batch carrying `h`; ingest clock, Unix ms); null: never. */
  statusUnixMs: number | null;
  /** Age of the vehicle's oldest unacknowledged data, as it reported it, seconds. */
  oldestUnsentAgeS: number | null;
  /** Drops on the vehicle by reason, as it last reported them (cumulative since its daemon or outbox started). */
  dropsByReason: Record<string, number>;
  /** When a reported drop count last went up (or restarted above 0); ingest clock, Unix ms. */
  dropsIncreasedUnixMs: number | null;
  modelVersion: string | null;
  hwProfile: string | null;
  softwareVersion: string | null;
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
  bytesByHour: {},
  lastRejectedUnixMs: null,
  lastRejectedReason: null,
  statusUnixMs: null,
  oldestUnsentAgeS: null,
  dropsByReason: {},
  dropsIncreasedUnixMs: null,
  modelVersion: null,
  hwProfile: null,
  softwareVersion: null,
});

export class FleetHealth {
  private snap: FleetHealthSnapshot;
  /** Changed since the last snapshot() for persisting. */
  dirty = false;
  private readonly listeners = new Set<() => void>();

  constructor(initial?: FleetHealthSnapshot, registered: readonly string[] = []) {
    this.snap = initial ? structuredClone(initial) : { schemaVersion: HEALTH_SCHEMA_VERSION, updatedUnixMs: 0, vehicles: {}, unattributed: { rejected: {}, lastSeenUnixMs: null, recentUnknownSenders: [] } };
    // A snapshot from before the newer fields (not read through parseHealth): those fields unknown.
    for (const v of Object.values(this.snap.vehicles)) for (const [k, d] of Object.entries(emptyVehicleHealth())) (v as unknown as Record<string, unknown>)[k] ??= d;
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

  /** A stored batch; `status` is what the vehicle reported in it (absent from older clients: kept as it was). */
  recordStored(id: string, b: { seq: number; bytes: number; observations: number; queueDepth: number; status?: VehicleStatus }, nowUnixMs: number): void {
    const v = this.vehicle(id);
    v.lastSeenUnixMs = nowUnixMs;
    v.batchesStored++;
    v.bytesStored += b.bytes;
    v.observationsStored += b.observations;
    v.lastQueueDepth = b.queueDepth;
    v.lastSeq = Math.max(v.lastSeq ?? 0, b.seq);
    const hour = Math.floor(nowUnixMs / HOUR_MS);
    const byHour: Record<string, number> = {};
    for (const [k, n] of Object.entries(v.bytesByHour)) if (Number(k) > hour - BYTES_WINDOW_HOURS) byHour[k] = n;
    byHour[String(hour)] = (byHour[String(hour)] ?? 0) + b.bytes;
    v.bytesByHour = byHour;
    if (b.status) applyStatus(v, b.status, nowUnixMs);
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
  recordRejected(code: string, who: { vehicleId?: string; authenticated?: boolean; claimedSender?: string }, nowUnixMs: number, reason?: string): void {
    if (who.vehicleId !== undefined && who.authenticated === true) {
      const v = this.vehicle(who.vehicleId);
      v.rejected[code] = (v.rejected[code] ?? 0) + 1;
      v.lastSeenUnixMs = nowUnixMs;
      v.lastRejectedUnixMs = nowUnixMs;
      v.lastRejectedReason = capLength(reason ?? code, MAX_REASON_CHARS);
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
  // Older snapshots lack the fields added since (status, bytes per hour, last refusal): filled with
  // "unknown"; a field of the wrong type is read as unknown too (the file is ours, but be strict in what we show).
  const vehicles: Record<string, VehicleHealth> = {};
  for (const [id, v] of Object.entries(r.vehicles as Record<string, Record<string, unknown>>)) {
    Object.defineProperty(vehicles, id, { value: normaliseVehicle(v), enumerable: true, writable: true, configurable: true });
  }
  return { ...(raw as FleetHealthSnapshot), vehicles };
}

function normaliseVehicle(h: Record<string, unknown>): VehicleHealth {
  const e = emptyVehicleHealth();
  const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
  const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
  const counts = (v: unknown): Record<string, number> => {
    const out: Record<string, number> = {};
    if (typeof v === 'object' && v !== null && !Array.isArray(v)) for (const [k, n] of Object.entries(v)) if (num(n) !== null) setOwn(out, k, n as number);
    return out;
  };
  return {
    lastSeenUnixMs: num(h.lastSeenUnixMs),
    batchesStored: h.batchesStored as number,
    duplicates: h.duplicates as number,
    rejected: counts(h.rejected),
    bytesStored: h.bytesStored as number,
    observationsStored: h.observationsStored as number,
    lastQueueDepth: num(h.lastQueueDepth),
    lastSeq: num(h.lastSeq),
    bytesByHour: counts(h.bytesByHour ?? e.bytesByHour),
    lastRejectedUnixMs: num(h.lastRejectedUnixMs),
    lastRejectedReason: str(h.lastRejectedReason),
    statusUnixMs: num(h.statusUnixMs),
    oldestUnsentAgeS: num(h.oldestUnsentAgeS),
    dropsByReason: counts(h.dropsByReason),
    dropsIncreasedUnixMs: num(h.dropsIncreasedUnixMs),
    modelVersion: str(h.modelVersion),
    hwProfile: str(h.hwProfile),
    softwareVersion: str(h.softwareVersion),
  };
}

/** Keep what a stored batch's status says (docs/WIRE.md 3.4): each report is whole, so a field it lacks becomes unknown. */
function applyStatus(v: VehicleHealth, st: VehicleStatus, nowUnixMs: number): void {
  const first = v.statusUnixMs === null;
  v.statusUnixMs = nowUnixMs;
  v.oldestUnsentAgeS = st.oldestUnsentAgeS ?? null;
  v.modelVersion = st.modelVersion ?? null;
  v.hwProfile = st.hwProfile ?? null;
  v.softwareVersion = st.softwareVersion ?? null;
  if (st.dropsByReason === undefined) return;
  const drops: Record<string, number> = {};
  let increased = false;
  for (const [k, n] of Object.entries(st.dropsByReason)) {
    setOwn(drops, k, n);
    const before = Object.hasOwn(v.dropsByReason, k) ? v.dropsByReason[k]! : 0;
    // Up since the last report; or lower (the vehicle's counters restarted) but above 0; or the first report.
    if (n > 0 && (first || n !== before)) increased = true;
  }
  v.dropsByReason = drops;
  if (increased) v.dropsIncreasedUnixMs = nowUnixMs;
}

/** Set an own property even for keys such as `__proto__` (drop reasons and ids come from outside). */
function setOwn(o: Record<string, number>, k: string, n: number): void {
  Object.defineProperty(o, k, { value: n, enumerable: true, writable: true, configurable: true });
}

/**
 * The snapshot with every string anyone outside could have chosen cut to a bounded length (for
 * `--json`: JSON escapes control characters, this bounds the size). Vehicle ids and codes are
 * cut too, in case the file was written by something else.
 */
export function boundedHealth(s: FleetHealthSnapshot): FleetHealthSnapshot {
  const cap = (x: string): string => capLength(x, MAX_CLAIMED_ID_CHARS);
  const capCodes = (r: Record<string, number>): Record<string, number> => Object.fromEntries(Object.entries(r).map(([k, n]) => [capLength(k, MAX_CLAIMED_ID_CHARS), n]));
  const capOrNull = (x: string | null | undefined): string | null => (typeof x === 'string' ? cap(x) : null);
  return {
    ...s,
    vehicles: Object.fromEntries(
      Object.entries(s.vehicles).map(([id, v]) => [
        cap(id),
        {
          ...v,
          rejected: capCodes(v.rejected),
          dropsByReason: capCodes(v.dropsByReason ?? {}),
          lastRejectedReason: typeof v.lastRejectedReason === 'string' ? capLength(v.lastRejectedReason, MAX_REASON_CHARS) : null,
          modelVersion: capOrNull(v.modelVersion),
          hwProfile: capOrNull(v.hwProfile),
          softwareVersion: capOrNull(v.softwareVersion),
        },
      ]),
    ),
    unattributed: {
      ...s.unattributed,
      rejected: capCodes(s.unattributed.rejected),
      recentUnknownSenders: s.unattributed.recentUnknownSenders.slice(0, MAX_RECENT_UNKNOWN).map((x) => cap(String(x))),
    },
  };
}

// ---- trouble ----

/** When a vehicle is in trouble (`fleetmap cloud health` flags, the web page uses the same). */
export interface TroubleThresholds {
  /** Silent: not heard from for longer than this, seconds (default 1800: 30 min). */
  silentAfterS: number;
  /** Backlog: the oldest unsent data, as the vehicle last reported it, older than this, seconds (default 3600). */
  maxOldestUnsentS: number;
  /** Drops and refused batches count as trouble this long after they happened, seconds (default 86400: a day). */
  recentS: number;
}

export const DEFAULT_TROUBLE_THRESHOLDS: Readonly<TroubleThresholds> = { silentAfterS: 1800, maxOldestUnsentS: 3600, recentS: 86_400 };

/** Most severe first (the order sortByTrouble ranks by). */
export const TROUBLE_CODES = ['silent', 'refused', 'drops', 'backlog'] as const;
export type TroubleCode = (typeof TROUBLE_CODES)[number];

export interface Trouble {
  code: TroubleCode;
  /** For people: numbers and our own words only (nothing a vehicle chose). */
  detail: string;
}

/**
 * Why a vehicle is in trouble at `nowUnixMs` (empty: it is fine), most severe first:
 * - silent:  never seen, or last seen more than silentAfterS ago;
 * - refused: an authenticated batch of it was refused within recentS (its data is set aside);
 * - drops:   a drop count it reports went up within recentS (data lost on the vehicle);
 * - backlog: the oldest unsent data it last reported is older than maxOldestUnsentS.
 */
export function troubleOf(v: VehicleHealth, nowUnixMs: number, t: Readonly<TroubleThresholds> = DEFAULT_TROUBLE_THRESHOLDS): Trouble[] {
  const out: Trouble[] = [];
  const recentMs = t.recentS * 1000;
  if (v.lastSeenUnixMs === null) out.push({ code: 'silent', detail: 'never seen' });
  else if (nowUnixMs - v.lastSeenUnixMs > t.silentAfterS * 1000) out.push({ code: 'silent', detail: `last seen ${formatDurationS((nowUnixMs - v.lastSeenUnixMs) / 1000)} ago (over ${formatDurationS(t.silentAfterS)})` });
  if (v.lastRejectedUnixMs !== null && nowUnixMs - v.lastRejectedUnixMs <= recentMs) {
    out.push({ code: 'refused', detail: `${sumCounts(v.rejected)} refused in all, the last ${formatDurationS(Math.max(0, nowUnixMs - v.lastRejectedUnixMs) / 1000)} ago` });
  }
  if (v.dropsIncreasedUnixMs !== null && nowUnixMs - v.dropsIncreasedUnixMs <= recentMs) {
    out.push({ code: 'drops', detail: `${sumCounts(v.dropsByReason)} dropped on the vehicle, the count went up ${formatDurationS(Math.max(0, nowUnixMs - v.dropsIncreasedUnixMs) / 1000)} ago` });
  }
  if (v.oldestUnsentAgeS !== null && v.oldestUnsentAgeS > t.maxOldestUnsentS) {
    out.push({ code: 'backlog', detail: `oldest unsent data ${formatDurationS(v.oldestUnsentAgeS)} old (over ${formatDurationS(t.maxOldestUnsentS)})` });
  }
  return out;
}

export interface RankedVehicle {
  vehicleId: string;
  health: VehicleHealth;
  trouble: Trouble[];
}

/**
 * Every vehicle with its trouble, the most troubled first: by its most severe trouble
 * (TROUBLE_CODES order), then the number of troubles, then the longest silent, then id.
 */
export function sortByTrouble(vehicles: Readonly<Record<string, VehicleHealth>>, nowUnixMs: number, t: Readonly<TroubleThresholds> = DEFAULT_TROUBLE_THRESHOLDS): RankedVehicle[] {
  const rank = (r: RankedVehicle): number => (r.trouble.length === 0 ? TROUBLE_CODES.length : TROUBLE_CODES.indexOf(r.trouble[0]!.code));
  return Object.entries(vehicles)
    .map(([vehicleId, health]) => ({ vehicleId, health, trouble: troubleOf(health, nowUnixMs, t) }))
    .sort((a, b) => rank(a) - rank(b) || b.trouble.length - a.trouble.length || (a.health.lastSeenUnixMs ?? -Infinity) - (b.health.lastSeenUnixMs ?? -Infinity) || (a.vehicleId < b.vehicleId ? -1 : a.vehicleId > b.vehicleId ? 1 : 0));
}

/** Bytes stored in the 24 hours up to nowUnixMs (hour resolution: the current hour and the 23 before it). */
export function bytesLast24h(v: VehicleHealth, nowUnixMs: number): number {
  const hour = Math.floor(nowUnixMs / HOUR_MS);
  let sum = 0;
  for (const [k, n] of Object.entries(v.bytesByHour ?? {})) if (Number(k) > hour - BYTES_WINDOW_HOURS && Number(k) <= hour) sum += n;
  return sum;
}

export function sumCounts(r: Readonly<Record<string, number>>): number {
  return Object.values(r).reduce((a, n) => a + (Number.isFinite(n) ? n : 0), 0);
}

/** 42s, 7m, 3h, 2d (whole units, rounded). */
export function formatDurationS(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.round(s / 60)}m`;
  if (s < 172_800) return `${Math.round(s / 3600)}h`;
  return `${Math.round(s / 86_400)}d`;
}

export { renderHealthTable, healthReport, type HealthReport } from './health-report.ts';
