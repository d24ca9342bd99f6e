/**
 * Change detection end to end: a simulated fleet (oracle perception, edge georeferencing
 * in-process) drives a generated map, the merge publishes v1; the world changes; the fleet drives
 * again and the merge publishes v2, whose changes `fleetmap cloud diff` lists (cloud/merge/diff.ts);
 * they are scored against the simulator's true changes; a third pass must not bring a removed
 * marking back.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { diffVersions } from '../cloud/merge/diff.ts';
import { runMerge } from '../cloud/merge/index.ts';
import { LocalDirStore } from '../cloud/store/index.ts';
import { pointPolylineDistM } from '../shared/geometry.ts';
import { applyChangeScenarios, eligibleAlong } from './change-scenarios.ts';
import { reportedFromDiff, scoreChanges } from './eval/change-eval.ts';
import { planFleet } from './fleet.ts';
import { simulateFleetIntoStore } from './fleet-store.ts';
import { loadLanelet2, osmBoundsCentre } from './lanelet2.ts';
import { generateMap } from './mapgen/index.ts';
import { loadPublishedMap } from './published-tiles.ts';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A generated grid map, `passes` fleet plans a month apart, and the first pass merged as v1. */
async function firstPassMerged(passes: number, name: string) {
  const { osmXml } = generateMap({ seed: 3, layout: 'grid' });
  const map = loadLanelet2(osmXml, { origin: osmBoundsCentre(osmXml) });
  const fleet = { vehicles: 4, drivesPerVehicle: 2, driveLengthM: 1500 };
  const plans = Array.from({ length: passes }, (_, i) => planFleet(map, { ...fleet, seed: i + 1, startUnixMs: Date.UTC(2025, 2 + i, 10, 6) }));
  const dir = mkdtempSync(path.join(tmpdir(), `fm-change-${name}-`));
  dirs.push(dir);
  const store = new LocalDirStore(dir);
  const seqOf = new Map<string, number>();
  await simulateFleetIntoStore(map, plans[0]!.drives, store, { seqOf });
  await runMerge(store, { nowUnixMs: () => Date.UTC(2025, 3, 1) });
  return { map, plans, store, seqOf };
}

describe('change detection on a simulated fleet', () => {
  it('reports a removed marking as removed, confirmed, and never adds it back', async () => {
    const { map, plans, store, seqOf } = await firstPassMerged(3, 'removed');

    // Remove one stop line that both passes drive past at least three times.
    const eligible = eligibleAlong(map, plans[0]!.drives.map((d) => d.route), plans[1]!.drives.map((d) => d.route), 3);
    const world = applyChangeScenarios(map, ['remove-markings'], eligible, { seed: 7, removeDividers: 0 });
    expect(world.changes).toHaveLength(1);
    const gone = world.changes[0]!;
    expect(gone).toMatchObject({ kind: 'removed', cls: 'stop_line' });
    const v1 = await loadPublishedMap(store, map.frame, 1);
    const near = (pts: ReadonlyArray<readonly [number, number]>): boolean => pts.some((p) => pointPolylineDistM([p[0], p[1]], gone.beforeM!) < 1.5);
    expect(v1.primitives.some((p) => p.cls === 'stop_line' && near(p.points)), 'v1 mapped the stop line').toBe(true);

    await simulateFleetIntoStore(world.map, plans[1]!.drives, store, { seqOf, driveSuffix: '-p2' });
    await runMerge(store, { nowUnixMs: () => Date.UTC(2025, 4, 1) });
    const d12 = await diffVersions(store, 1, 2);
    const score = scoreChanges(world.changes, reportedFromDiff(d12.changes, map.frame), 10);
    expect(score.perChange[0]!.detected).toBe(true);
    const removal = d12.changes.find((c) => c.kind === 'removed' && c.cls === 'stop_line')!;
    expect(removal.status).toBe('confirmed');
    expect(removal.evidence.reportedIn).toEqual([2]);

    await simulateFleetIntoStore(world.map, plans[2]!.drives, store, { seqOf, driveSuffix: '-p3' });
    await runMerge(store, { nowUnixMs: () => Date.UTC(2025, 5, 1) });
    const d23 = await diffVersions(store, 2, 3);
    const readded = reportedFromDiff(d23.changes, map.frame, ['confirmed', 'candidate']).filter((r) => r.kind === 'added' && r.cls === 'stop_line' && near(r.pointsM));
    expect(readded).toEqual([]);
    const v3 = await loadPublishedMap(store, map.frame, 3);
    expect(v3.primitives.some((p) => p.cls === 'stop_line' && near(p.points))).toBe(false);
  });

  it('confirms a new crosswalk within one pass after it was painted: drives from before it existed do not count as misses', async () => {
    const { map, plans, store, seqOf } = await firstPassMerged(2, 'added');
    const eligible = eligibleAlong(map, plans[0]!.drives.map((d) => d.route), plans[1]!.drives.map((d) => d.route), 3);
    const world = applyChangeScenarios(map, ['new-crosswalk'], eligible, { seed: 7 });
    expect(world.changes).toHaveLength(1);
    expect(world.changes[0]).toMatchObject({ kind: 'added', cls: 'crosswalk' });
    await simulateFleetIntoStore(world.map, plans[1]!.drives, store, { seqOf, driveSuffix: '-p2' });
    await runMerge(store, { nowUnixMs: () => Date.UTC(2025, 4, 1) });
    const d12 = await diffVersions(store, 1, 2);
    const score = scoreChanges(world.changes, reportedFromDiff(d12.changes, map.frame), 10);
    expect(score.perChange[0]!.detected).toBe(true);
    expect(score.falseChanges).toBe(0);
  });
});
