/**
 * Stop lines as straight bars (merge option stopLineMaxBendM, off by default): the consensus is
 * split where it bends (two bars the clustering chained) and each piece is the straight line
 * fitted to it (consensus.ts straightBars).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { XY } from '../../shared/schema.ts';
import { LocalDirStore } from '../store/index.ts';
import { fitBar } from './consensus.ts';
import type { MapFeature, TileFeatureCollection } from './features.ts';
import { runMerge } from './run.ts';
import { distToPolyline, simulateFleet, syntheticWorld, writeBatches } from './synthetic.ts';

const T0 = Date.UTC(2025, 2, 1, 8);

describe('fitBar', () => {
  it('fits the straight line through noisy vertices, from the first vertex to the last', () => {
    const x = [0, 1, 2, 3, 4].map((v) => v * 0.8);
    const y = [0.05, -0.04, 0.06, -0.05, 0.04].map((v, i) => 2 + 0.5 * x[i]! + v);
    const [a, b] = fitBar(x, y, 0, 4);
    expect(Math.atan2(b![1] - a![1], b![0] - a![0])).toBeCloseTo(Math.atan(0.5), 1);
    expect(a![0]).toBeLessThan(b![0]); // keeps the line's direction
    expect(Math.abs(a![1] - (2 + 0.5 * a![0]))).toBeLessThan(0.05);
  });
});

describe('merge of stop lines', () => {
  it('publishes two bars meeting at 20 degrees as two straight bars, not one bent line', async () => {
    const world = syntheticWorld();
    const stop = world.lines.find((l) => l.id === 'stop')!;
    const [p0, p1] = stop.points as [XY, XY];
    // Bar A: the first 3.4 m of the stop line; bar B goes on from its end, turned by 20 degrees
    // (the bars of two lanes on a skewed approach).
    const len = Math.hypot(p1[0] - p0[0], p1[1] - p0[1]);
    const u: XY = [(p1[0] - p0[0]) / len, (p1[1] - p0[1]) / len];
    const mid: XY = [p0[0] + u[0] * 3.4, p0[1] + u[1] * 3.4];
    const turn = (20 * Math.PI) / 180;
    const v: XY = [u[0] * Math.cos(turn) - u[1] * Math.sin(turn), u[0] * Math.sin(turn) + u[1] * Math.cos(turn)];
    const end: XY = [mid[0] + v[0] * 3.4, mid[1] + v[1] * 3.4];
    const barA: XY[] = [p0, mid];
    const barB: XY[] = [mid, end];
    world.lines = world.lines.filter((l) => l.id !== 'stop');
    world.lines.push({ id: 'stop-a', cls: 'stop_line', points: barA }, { id: 'stop-b', cls: 'stop_line', points: barB });

    const fleet = simulateFleet(world, { drives: 12, seed: 5, startUnixMs: T0, biasSigmaM: 0.05, driftMPerMin: 0 });
    const mergedStopLines = async (stopLineMaxBendM?: number): Promise<XY[][]> => {
      const store = new LocalDirStore(mkdtempSync(path.join(tmpdir(), 'fm-stopbars-')));
      await writeBatches(store, fleet.observations);
      const m = await runMerge(store, { nowUnixMs: () => T0 + 86_400_000, options: stopLineMaxBendM === undefined ? {} : { stopLineMaxBendM } });
      const feats: MapFeature[] = [];
      for (const t of m.tiles) feats.push(...(JSON.parse((await store.get(t.key))!.toString('utf8')) as TileFeatureCollection).features);
      return feats.filter((f) => f.properties.class === 'stop_line').map((f) => (f.geometry.coordinates as Array<[number, number]>).map((c) => world.frame.toLocal({ lng: c[0], lat: c[1] })));
    };
    // Off (0, the default): the clustering's one bent line over both bars.
    const off = await mergedStopLines();
    expect(off).toHaveLength(1);
    expect(off[0]!.length).toBeGreaterThan(2);
    const bars = await mergedStopLines(0.25);
    expect(bars).toHaveLength(2);
    for (const bar of bars) expect(bar).toHaveLength(2); // straight
    // Each bar on its own truth: both ends within 0.25 m of it, and its direction within 5 degrees.
    for (const truth of [barA, barB]) {
      const dirT = Math.atan2(truth[1]![1] - truth[0]![1], truth[1]![0] - truth[0]![0]);
      const mine = bars.find((b) => b.every((q) => distToPolyline(q, truth) < 0.25));
      expect(mine, `a bar along ${JSON.stringify(truth)}; got ${JSON.stringify(bars)}`).toBeDefined();
      const d = Math.atan2(mine![1]![1] - mine![0]![1], mine![1]![0] - mine![0]![0]) - dirT;
      expect(Math.abs(Math.atan2(Math.sin(2 * d), Math.cos(2 * d)) / 2)).toBeLessThan((5 * Math.PI) / 180);
    }
  }, 60_000);
});
