/**
 * Two lanes' stop lines that abut (per-lane bars, the divider between the lanes ending on them):
 * the drives see one bar across both lanes, and the merge publishes two, split where the divider
 * ends (bars-at-lane-ends.ts). Each has its own evidence, so when one lane's bar is ground off
 * the next version reports that bar removed and keeps its neighbour.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { pointPolylineDistM } from '../../shared/geometry.ts';
import type { XY } from '../../shared/schema.ts';
import { LocalDirStore } from '../store/index.ts';
import { diffVersions } from './diff.ts';
import type { MergeOptions } from './options.ts';
import { readTileObject, resolvePublished } from './publish.ts';
import { runMerge } from './run.ts';
import { simulateFleet, syntheticWorld, writeBatches, type TruthWorld } from './synthetic.ts';

const T0 = Date.UTC(2025, 4, 1, 8);
const DAY_MS = 86_400_000;
const base = syntheticWorld();
const stop = base.lines.find((l) => l.id === 'stop')!;
const [p0, p1] = stop.points as [XY, XY];
// The stop line spans lateral -6.8 .. +0.2 m; the lane divider between its two lanes lies at -3.5.
const at = (f: number): XY => [p0[0] + (p1[0] - p0[0]) * f, p0[1] + (p1[1] - p0[1]) * f];
const split = at(3.3 / 7);
const barA: XY[] = [p0, split];
const barB: XY[] = [split, p1];
const divRight = base.lines.find((l) => l.id === 'div_right')!;
/** Per-lane bars; the divider between the two lanes ends on them. */
const world: TruthWorld = {
  ...base,
  lines: [
    ...base.lines.filter((l) => l !== stop && l !== divRight),
    { ...divRight, points: divRight.points.slice(0, divRight.points.findIndex((q) => pointPolylineDistM(q, stop.points) < 0.01) + 1) },
    { id: 'stop_a', cls: 'stop_line', points: barA },
    { id: 'stop_b', cls: 'stop_line', points: barB },
  ],
};
/**
 * Bar B ground off. The drives since see bar A running on 0.8 m into B's lane (a camera's bar
 * ends scatter so): a radial gate of matchGateM around those points would cover most of B's
 * samples and hide the removal; the along-the-bar gate (absentSince alongM) does not.
 */
const after: TruthWorld = {
  ...world,
  lines: [...world.lines.filter((l) => l.id !== 'stop_a' && l.id !== 'stop_b'), { id: 'stop_a', cls: 'stop_line', points: [p0, at((3.3 + 0.8) / 7)] }],
};
const mid = (l: XY[]): XY => [(l[0]![0] + l[1]![0]) / 2, (l[0]![1] + l[1]![1]) / 2];
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function stopLines(store: LocalDirStore, v: number): Promise<XY[][]> {
  const { manifest } = await resolvePublished(store, v);
  const out: XY[][] = [];
  for (const t of manifest.tiles) {
    for (const f of (await readTileObject(store, t.key, 'test')).features) {
      if (f.properties.class === 'stop_line' && f.geometry.type === 'LineString') out.push(f.geometry.coordinates.map(([lng, lat]) => world.frame.toLocal({ lng: lng!, lat: lat! })));
    }
  }
  return out;
}

async function twoVersions(name: string, options: Partial<MergeOptions>): Promise<LocalDirStore> {
  const dir = mkdtempSync(path.join(tmpdir(), `fm-lanebars-${name}-`));
  dirs.push(dir);
  const store = new LocalDirStore(dir);
  await writeBatches(store, simulateFleet(world, { drives: 6, seed: 51, startUnixMs: T0, driveIdPrefix: 'l1' }).observations);
  await runMerge(store, { nowUnixMs: () => T0 + DAY_MS / 2, options });
  await writeBatches(store, simulateFleet(after, { drives: 5, seed: 52, startUnixMs: T0 + DAY_MS, driveIdPrefix: 'l2' }).observations);
  await runMerge(store, { nowUnixMs: () => T0 + 2 * DAY_MS, options });
  return store;
}

describe('two lanes\' stop lines that abut', () => {
  it('are published as two bars split at the lane divider; one ground off is reported removed, its neighbour kept', async () => {
    const store = await twoVersions('on', {});
    const v1 = await stopLines(store, 1);
    expect(v1).toHaveLength(2);
    for (const bar of [barA, barB]) expect(v1.some((l) => pointPolylineDistM(mid(bar), l) < 0.75 && pointPolylineDistM(bar[0]!, l) < 1 && pointPolylineDistM(bar[1]!, l) < 1)).toBe(true);
    // Neither published bar reaches into the other lane by more than a metre.
    for (const l of v1) expect(Math.min(pointPolylineDistM(mid(barA), l), pointPolylineDistM(mid(barB), l))).toBeLessThan(0.75);
    expect(v1.every((l) => Math.min(pointPolylineDistM(mid(barA), l), pointPolylineDistM(mid(barB), l)) < 0.75)).toBe(true);
    const v2 = await stopLines(store, 2);
    expect(v2.filter((l) => pointPolylineDistM(mid(barB), l) < 1)).toEqual([]);
    expect(v2.filter((l) => pointPolylineDistM(mid(barA), l) < 0.75)).toHaveLength(1);
    const d = await diffVersions(store, 1, 2);
    const removed = d.changes.filter((c) => c.kind === 'removed' && c.cls === 'stop_line');
    expect(removed).toHaveLength(1);
    const g = removed[0]!.geometries[0]!;
    const pts = (g.type === 'LineString' ? g.coordinates : []).map(([lng, lat]) => world.frame.toLocal({ lng: lng!, lat: lat! }));
    expect(pointPolylineDistM(mid(barB), pts)).toBeLessThan(0.75);
    expect(pointPolylineDistM(mid(barA), pts)).toBeGreaterThan(1);
  }, 60_000);

  it('stay one bar across both lanes with the split off, and the removal goes unseen', async () => {
    const store = await twoVersions('off', { stopLineLaneReachM: 0 });
    const v1 = await stopLines(store, 1);
    expect(v1).toHaveLength(1);
    const d = await diffVersions(store, 1, 2);
    expect(d.changes.filter((c) => c.kind === 'removed' && c.cls === 'stop_line')).toEqual([]);
  }, 60_000);
});
