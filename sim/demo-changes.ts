/**
 * The demo's change phase: after the fleet's first pass is merged into v1, the world changes
 * (sim/change-scenarios.ts, every scenario, where both passes drive often enough), part of the
 * fleet drives again, the merge publishes v2, and what `fleetmap cloud diff` lists for v1 -> v2
 * is scored against the true changes.
 */
import { DEFAULT_DIFF_OPTIONS, diffVersions, type VersionDiff } from '../cloud/merge/diff.ts';
import { DEFAULT_MERGE_OPTIONS } from '../cloud/merge/options.ts';
import type { ObjectStore } from '../cloud/store/index.ts';
import { applyChangeScenarios, CHANGE_SCENARIOS, eligibleAlong, type ChangedWorld } from './change-scenarios.ts';
import { reportedFromDiff, scoreChanges, type ChangeScore } from './eval/change-eval.ts';
import { planFleet, type FleetPlan, type PlannedDrive } from './fleet.ts';
import type { Lanelet2Map } from './lanelet2.ts';
import { loadPublishedMap } from './published-tiles.ts';
import { deriveSeed } from './rng.ts';

export interface ChangePhasePlan {
  world: ChangedWorld;
  plan: FleetPlan;
}

export interface ChangePhaseOptions {
  /** Vehicles that drive again after the change. */
  vehicles: number;
  drivesPerVehicle: number;
  driveLengthM: number;
  seed: number;
  /** Days between the first pass and the second. */
  laterDays: number;
  /**
   * Drives of each pass a changed place needs (else it is not changed: nobody would see it).
   * CHANGE_MIN_DRIVES: what the merge needs to report a change at all.
   */
  minDrives: number;
}

/**
 * Drives of each pass that a place needs before the change phase may change it: as many as the
 * merge needs to confirm a change there. The diff confirms an added or moved feature on
 * `confirmDrives` (3) drives and a removal of one that had that support, and the merge drops a
 * feature only after `staleAfterMissedDrives` (3) drives missed it. With 2, the demo placed changes
 * where only two drives passed after them (Karlsruhe, seed 1: the added stop line, on a lanelet two
 * drives of each pass ran), which no merge rule could confirm: scored as a miss of detection, it
 * was a miss of coverage.
 */
export const CHANGE_MIN_DRIVES = Math.max(DEFAULT_DIFF_OPTIONS.confirmDrives, DEFAULT_MERGE_OPTIONS.staleAfterMissedDrives);

/** The second pass's fleet plan and the changed world it drives. */
export function planChangePhase(map: Lanelet2Map, first: FleetPlan, o: ChangePhaseOptions): ChangePhasePlan {
  const firstStartUnixMs = Math.min(...first.drives.map((d) => d.startUnixMs));
  const later = planFleet(map, {
    vehicles: o.vehicles,
    drivesPerVehicle: o.drivesPerVehicle,
    driveLengthM: o.driveLengthM,
    seed: deriveSeed(o.seed, 'change-phase'),
    startUnixMs: firstStartUnixMs + o.laterDays * 86_400_000,
  });
  // Drive numbers continue each vehicle's first pass: a drive id names one drive (the merge
  // scopes it to its vehicle), so veh-001's drives after the change are d4, d5, ... after d1-d3.
  const firstDrives = new Map<string, number>();
  for (const d of first.drives) firstDrives.set(d.vehicleId, (firstDrives.get(d.vehicleId) ?? 0) + 1);
  const rename = (d: PlannedDrive): PlannedDrive => {
    const n = Number(/-d(\d+)$/.exec(d.driveId)?.[1] ?? 1);
    return { ...d, driveId: `${d.vehicleId}-d${(firstDrives.get(d.vehicleId) ?? 0) + n}` };
  };
  const plan: FleetPlan = { ...later, vehicles: later.vehicles.map((v) => ({ ...v, drives: v.drives.map(rename) })), drives: later.drives.map(rename) };
  const eligible = eligibleAlong(map, first.drives.map((d) => d.route), plan.drives.map((d) => d.route), o.minDrives);
  const world = applyChangeScenarios(map, CHANGE_SCENARIOS, eligible, { seed: deriveSeed(o.seed, 'change-scenarios') });
  // The second pass drives the changed world (same lanelets, so the same routes).
  return { world, plan };
}

export interface ChangePhaseResult {
  diff: VersionDiff;
  score: ChangeScore;
}

export async function scoreChangePhase(store: ObjectStore, map: Lanelet2Map, world: ChangedWorld, from: number, to: number, coveredKm: number): Promise<ChangePhaseResult> {
  const diff = await diffVersions(store, from, to);
  const previous = (await loadPublishedMap(store, map.frame, from)).primitives;
  const score = scoreChanges(world.changes, reportedFromDiff(diff.changes, map.frame), coveredKm, { previous });
  return { diff, score };
}

/** A few lines for the terminal: the true changes, which were found, and the scores. */
export function formatChangePhase(r: ChangePhaseResult): string {
  const s = r.score;
  const f = (v: number | null): string => (v === null ? '-' : v.toFixed(2));
  const lines = [`change detection v${r.diff.from} -> v${r.diff.to}: ${s.detected}/${s.trueChanges} true changes found (${s.notInPrevious} more changed what v${r.diff.from} never had), ${s.reported} confirmed changes reported (${s.falseChanges} false); precision ${f(s.precision)}, recall ${f(s.recall)}, F1 ${f(s.f1)}, false changes per 10 km ${f(s.falseChangesPer10Km)}`];
  for (const c of s.perChange) lines.push(`  ${c.detected ? 'found ' : 'missed'}  ${c.scenario.padEnd(18)} ${c.kind.padEnd(8)} ${c.cls}`);
  lines.push(`  (fleetmap cloud diff --store <out>/store v${r.diff.from} v${r.diff.to} lists them with their evidence)`);
  return lines.join('\n');
}
