/**
 * Fleet health for people and scripts: the table `fleetmap cloud health` prints (vehicles sorted
 * by trouble, then the trouble in words, then the refusals nobody authenticated) and the JSON of
 * `--json`. Everything a vehicle or a stranger chose (ids, drop reasons, versions, refusal codes
 * and reasons, claimed senders) is escaped and cut in the table (display-safe.ts) and cut in the
 * JSON (boundedHealth; JSON escapes the rest). Pure: the clock and thresholds are arguments.
 */
import { capLength, displaySafe, DISPLAY_MAX_CHARS } from './display-safe.ts';
import {
  boundedHealth,
  bytesLast24h,
  DEFAULT_TROUBLE_THRESHOLDS,
  formatDurationS,
  MAX_RECENT_UNKNOWN,
  sortByTrouble,
  type FleetHealthSnapshot,
  type Trouble,
  type TroubleThresholds,
  type VehicleHealth,
} from './health.ts';

const HEAD = ['vehicle', 'trouble', 'last seen', 'oldest unsent', 'queue', 'MB/24h', 'drops', 'refused', 'model', 'hw-profile', 'software', 'stored'] as const;
/** Columns padded on the right (text); the others are numbers, padded on the left. */
const TEXT_COLUMNS = new Set([0, 1, 2, 6, 7, 8, 9, 10]);
/** Columns that list counts by reason get more room. */
const WIDE_COLUMNS = new Set([6, 7]);

/** The table: one row per vehicle, most troubled first; then what the trouble is, the unattributed refusals and the file's age. */
export function renderHealthTable(s: FleetHealthSnapshot, nowUnixMs: number = Date.now(), t: Readonly<TroubleThresholds> = DEFAULT_TROUBLE_THRESHOLDS): string {
  const ranked = sortByTrouble(s.vehicles, nowUnixMs, t);
  const rows = ranked
    .map(({ vehicleId, health: v, trouble }) => [
      vehicleId,
      trouble.length === 0 ? '-' : trouble.map((x) => x.code).join(','),
      v.lastSeenUnixMs === null ? 'never' : `${formatDurationS((nowUnixMs - v.lastSeenUnixMs) / 1000)} ago`,
      v.oldestUnsentAgeS === null ? '-' : formatDurationS(v.oldestUnsentAgeS),
      v.lastQueueDepth === null ? '-' : String(v.lastQueueDepth),
      (bytesLast24h(v, nowUnixMs) / 1e6).toFixed(2),
      codes(v.dropsByReason),
      codes(v.rejected),
      v.modelVersion ?? '-',
      v.hwProfile ?? '-',
      v.softwareVersion ?? '-',
      String(v.batchesStored),
    ])
    // Every cell escaped once: ids, reasons and versions are what vehicles and strangers chose; the rest came from a file.
    .map((cells) => cells.map((c, i) => displaySafe(c, WIDE_COLUMNS.has(i) ? 4 * DISPLAY_MAX_CHARS : DISPLAY_MAX_CHARS)));
  const widths = HEAD.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: readonly string[]): string => cells.map((c, i) => (TEXT_COLUMNS.has(i) ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ').trimEnd();
  const out = [line(HEAD), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)];
  if (rows.length === 0) out.push('(no vehicles)');
  const troubled = ranked.filter((r) => r.trouble.length > 0);
  out.push('', `${troubled.length} of ${ranked.length} vehicles in trouble (${describeThresholds(t)})`);
  for (const r of troubled) {
    out.push(`  ${displaySafe(r.vehicleId)}: ${r.trouble.map((x) => `${x.code}: ${x.detail}`).join('; ')}`);
    if (r.trouble.some((x) => x.code === 'refused') && r.health.lastRejectedReason !== null) {
      out.push(`    last refusal: "${displaySafe(r.health.lastRejectedReason, 4 * DISPLAY_MAX_CHARS).replace(/"/g, '\\x22')}"`);
    }
  }
  const u = s.unattributed;
  const senders = u.recentUnknownSenders.slice(0, MAX_RECENT_UNKNOWN).map((x) => `"${displaySafe(String(x)).replace(/"/g, '\\x22')}"`);
  out.push('', `unattributed rejections: ${displaySafe(codes(u.rejected), 4 * DISPLAY_MAX_CHARS)}${senders.length ? `; recent unauthenticated senders: ${senders.join(', ')}` : ''}`);
  out.push(`updated: ${isUnixMs(s.updatedUnixMs) ? new Date(s.updatedUnixMs).toISOString() : 'never'}`);
  return out.join('\n');
}

/** What `--json` prints: the vehicles most troubled first, each with its trouble and bytes in the last 24 h. */
export interface HealthReport {
  format: 'fleetmap-health-report';
  version: 1;
  nowUnixMs: number;
  updatedUnixMs: number;
  thresholds: TroubleThresholds;
  vehiclesInTrouble: number;
  vehicles: Array<{ vehicleId: string; trouble: Trouble[]; bytesLast24h: number } & VehicleHealth>;
  unattributed: FleetHealthSnapshot['unattributed'];
}

export function healthReport(s: FleetHealthSnapshot, nowUnixMs: number, t: Readonly<TroubleThresholds> = DEFAULT_TROUBLE_THRESHOLDS): HealthReport {
  const ranked = sortByTrouble(s.vehicles, nowUnixMs, t);
  // Cut every outside string (ids included) after ranking on the whole ones.
  const bounded = boundedHealth({ ...s, vehicles: Object.fromEntries(ranked.map((r, i) => [String(i), r.health])) });
  return {
    format: 'fleetmap-health-report',
    version: 1,
    nowUnixMs,
    updatedUnixMs: s.updatedUnixMs,
    thresholds: { ...t },
    vehiclesInTrouble: ranked.filter((r) => r.trouble.length > 0).length,
    vehicles: ranked.map((r, i) => ({ vehicleId: capLength(r.vehicleId, DISPLAY_MAX_CHARS), trouble: r.trouble, bytesLast24h: bytesLast24h(r.health, nowUnixMs), ...bounded.vehicles[String(i)]! })),
    unattributed: bounded.unattributed,
  };
}

function describeThresholds(t: Readonly<TroubleThresholds>): string {
  return `silent after ${formatDurationS(t.silentAfterS)}, backlog over ${formatDurationS(t.maxOldestUnsentS)}, drops and refusals within ${formatDurationS(t.recentS)}`;
}

function codes(r: Readonly<Record<string, number>>): string {
  const e = Object.entries(r)
    .filter(([, n]) => Number(n) !== 0)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return e.length === 0 ? '-' : e.map(([k, n]) => `${k}:${Number(n)}`).join(',');
}

function isUnixMs(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v) && v > 0 && v < 8.64e15;
}
