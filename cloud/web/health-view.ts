/**
 * The fleet health table as the page shows it: health/fleet.json (parsed by the ingest's own
 * parser, strings bounded by its boundedHealth), the vehicles most troubled first with their
 * trouble from the ingest's own rules (cloud/ingest/health.ts troubleOf: silent, refused, drops,
 * backlog; the same flags `fleetmap cloud health` prints), and the lag since each was last seen.
 * Pure: the clock and thresholds are arguments.
 */
import { boundedHealth, bytesLast24h, sortByTrouble, sumCounts, type FleetHealthSnapshot, type Trouble, type TroubleThresholds } from '../ingest/health.ts';

export interface VehicleRow {
  vehicleId: string;
  lastSeenUnixMs: number | null;
  /** Seconds since last seen (null: never). */
  lagS: number | null;
  /** Trouble, most severe first (empty: fine); `silent` is one of them. */
  trouble: Trouble[];
  silent: boolean;
  batchesStored: number;
  duplicates: number;
  /** Authenticated refusals, by code, their sum and the last one's reason. */
  rejected: Record<string, number>;
  rejectedTotal: number;
  lastRejectedReason: string | null;
  bytesStored: number;
  bytesLast24h: number;
  observationsStored: number;
  lastQueueDepth: number | null;
  lastSeq: number | null;
  /** As the vehicle last reported them: drops by reason (and their sum), its oldest unsent data's age. */
  dropsByReason: Record<string, number>;
  dropsTotal: number;
  oldestUnsentAgeS: number | null;
  modelVersion: string | null;
  hwProfile: string | null;
  softwareVersion: string | null;
}

export interface HealthView {
  /** false: the store has no health/fleet.json yet (no ingest has written one). */
  available: boolean;
  nowUnixMs: number;
  updatedUnixMs: number | null;
  thresholds: TroubleThresholds;
  vehicles: VehicleRow[];
  unattributed: { rejected: Record<string, number>; rejectedTotal: number; lastSeenUnixMs: number | null; recentUnknownSenders: string[] };
}

export function healthView(snap: FleetHealthSnapshot | undefined, nowUnixMs: number, thresholds: TroubleThresholds): HealthView {
  if (!snap) return { available: false, nowUnixMs, updatedUnixMs: null, thresholds, vehicles: [], unattributed: { rejected: {}, rejectedTotal: 0, lastSeenUnixMs: null, recentUnknownSenders: [] } };
  const s = boundedHealth(snap);
  const vehicles = sortByTrouble(s.vehicles, nowUnixMs, thresholds).map(({ vehicleId, health: v, trouble }): VehicleRow => {
    const last = finiteOrNull(v.lastSeenUnixMs);
    return {
      vehicleId,
      lastSeenUnixMs: last,
      lagS: last === null ? null : Math.max(0, Math.round((nowUnixMs - last) / 1000)),
      trouble,
      silent: trouble.some((t) => t.code === 'silent'),
      batchesStored: v.batchesStored,
      duplicates: v.duplicates,
      rejected: v.rejected,
      rejectedTotal: sumCounts(v.rejected),
      lastRejectedReason: v.lastRejectedReason ?? null,
      bytesStored: v.bytesStored,
      bytesLast24h: bytesLast24h(v, nowUnixMs),
      observationsStored: v.observationsStored,
      lastQueueDepth: finiteOrNull(v.lastQueueDepth),
      lastSeq: finiteOrNull(v.lastSeq),
      dropsByReason: v.dropsByReason ?? {},
      dropsTotal: sumCounts(v.dropsByReason ?? {}),
      oldestUnsentAgeS: finiteOrNull(v.oldestUnsentAgeS),
      modelVersion: v.modelVersion ?? null,
      hwProfile: v.hwProfile ?? null,
      softwareVersion: v.softwareVersion ?? null,
    };
  });
  const u = s.unattributed;
  return {
    available: true,
    nowUnixMs,
    updatedUnixMs: finiteOrNull(s.updatedUnixMs),
    thresholds,
    vehicles,
    unattributed: { rejected: u.rejected, rejectedTotal: sumCounts(u.rejected), lastSeenUnixMs: finiteOrNull(u.lastSeenUnixMs), recentUnknownSenders: u.recentUnknownSenders },
  };
}

function finiteOrNull(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}
