/**
 * Drive alignment with rotation: a synthetic fleet whose drives each carry a bias, a drift and
 * a heading error (its positions rotated by a few milliradians about the world's origin), merged
 * with the segments' rotation on (`rotationPriorSigmaRad` 0.005) and off (the default).
 *
 * What rotation buys is per drive: each drive's segments are turned back onto the consensus, so
 * its observations agree with the other drives' (the test reads each segment's estimated
 * rotation from the tile's stats). The consensus itself keeps the drives' MEAN error (no merge
 * can remove what they share), and zero-mean heading errors largely average out of it with or
 * without rotation, so the end-to-end check is that the published lines stay within centimetres
 * of the truth moved by the mean offset and mean rotation, and no worse than translation alone.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { WireObservation } from '../../shared/batch.ts';
import type { XY } from '../../shared/schema.ts';
import { parseTileKey } from '../../shared/tiles.ts';
import { quantile } from '../../sim/eval/metrics.ts';
import { LocalDirStore } from '../store/index.ts';
import type { MapFeature, TileFeatureCollection } from './features.ts';
import { mergeTile, type SegmentCorrection } from './merge-tile.ts';
import type { MergeOptions } from './options.ts';
import { runMerge } from './run.ts';
import { gatherForTile } from './shards.ts';
import { distToPolyline, meanOffset, simulateFleet, syntheticWorld, writeBatches, type Fleet, type TruthWorld } from './synthetic.ts';

const T0 = Date.UTC(2025, 2, 1, 8);
const DAY = 86_400_000;

async function mergeFleet(fleet: Fleet, options: Partial<MergeOptions>): Promise<MapFeature[]> {
  const store = new LocalDirStore(mkdtempSync(path.join(tmpdir(), 'fm-rotation-')));
  await writeBatches(store, fleet.observations);
  const m = await runMerge(store, { nowUnixMs: () => T0 + DAY, options });
  const out: MapFeature[] = [];
  for (const t of m.tiles) out.push(...(JSON.parse((await store.get(t.key))!.toString('utf8')) as TileFeatureCollection).features);
  return out;
}

/** Every tile's segment corrections (`mergeTile`'s stats), all tiles together. */
function corrections(fleet: Fleet, options: Partial<MergeOptions>): SegmentCorrection[] {
  const byTile = new Map<string, WireObservation[]>();
  for (const ob of fleet.observations) {
    const list = byTile.get(ob.tile);
    if (list) list.push(ob);
    else byTile.set(ob.tile, [ob]);
  }
  const out: SegmentCorrection[] = [];
  for (const tile of byTile.keys()) {
    out.push(...mergeTile({ tile, version: 1, observations: gatherForTile(parseTileKey(tile), byTile, 60), options }).stats.corrections);
  }
  return out;
}

/**
 * Distances from the truth's dividers and boundaries (sampled every metre where the drives of
 * both directions pass, moved by the fleet's mean offset and mean rotation) to the nearest
 * published line of their class, metres.
 */
function lineDistances(w: TruthWorld, fleet: Fleet, features: readonly MapFeature[]): number[] {
  const [ox, oy] = meanOffset(fleet.drives);
  const th = fleet.drives.reduce((a, d) => a + d.rotationRad, 0) / fleet.drives.length;
  const out: number[] = [];
  for (const line of w.lines) {
    if (line.cls === 'stop_line') continue;
    const published = features
      .filter((f) => f.properties.class === line.cls && f.geometry.type === 'LineString')
      .map((f) => (f.geometry.coordinates as Array<[number, number]>).map(([lng, lat]) => w.frame.toLocal({ lng, lat }) as XY));
    for (let i = 1; i < line.points.length; i++) {
      const a = line.points[i - 1]!;
      const b = line.points[i]!;
      const len = Math.hypot(b[0] - a[0], b[1] - a[1]);
      for (let s = 0; s < len; s += 1) {
        const x = a[0] + ((b[0] - a[0]) * s) / len;
        const y = a[1] + ((b[1] - a[1]) * s) / len;
        // Near the road's ends a drive turns and is seen in one direction only: not scored.
        if (Math.abs(x) > 100) continue;
        const q: XY = [x + ox - th * y, y + oy + th * x];
        out.push(Math.min(...published.map((pts) => distToPolyline(q, pts))));
      }
    }
  }
  return out;
}

const q = (a: readonly number[], at: number): number => quantile(a, at) ?? NaN;
const median = (a: readonly number[]): number => q(a, 0.5);

describe('alignment with rotation', () => {
  const world = syntheticWorld();
  // 8 mrad of heading error per drive: +-0.8 m 100 m from the origin.
  const ROTATION_ON: Partial<MergeOptions> = { rotationPriorSigmaRad: 0.005 };
  const fleet = simulateFleet(world, { drives: 12, seed: 31, startUnixMs: T0, rotationSigmaRad: 0.008 });
  const meanRotationRad = fleet.drives.reduce((a, d) => a + d.rotationRad, 0) / fleet.drives.length;

  it('estimates each drive\'s heading error relative to the fleet\'s mean, to about a milliradian', () => {
    const spreadMrad = 1000 * (Math.max(...fleet.drives.map((d) => d.rotationRad)) - Math.min(...fleet.drives.map((d) => d.rotationRad)));
    expect(spreadMrad).toBeGreaterThan(15);
    const all = corrections(fleet, ROTATION_ON);
    const errorsMrad = fleet.drives.map((d) => {
      const own = all.filter((c) => c.driveId.endsWith(`/${d.driveId}`) || c.driveId === d.driveId).map((c) => c.rotationMrad);
      expect(own.length).toBeGreaterThan(1);
      // The correction turns the drive back: minus its rotation relative to the mean.
      return Math.abs(median(own) + 1000 * (d.rotationRad - meanRotationRad));
    });
    expect(median(errorsMrad)).toBeLessThan(1.5);
    expect(Math.max(...errorsMrad)).toBeLessThan(4);
    // With rotation off (the default) every segment reports none.
    expect(corrections(fleet, {}).every((c) => c.rotationMrad === 0)).toBe(true);
  }, 120_000);

  describe('end to end', () => {
    let withRotation: number[];
    let translationOnly: number[];
    beforeAll(async () => {
      withRotation = lineDistances(world, fleet, await mergeFleet(fleet, ROTATION_ON));
      translationOnly = lineDistances(world, fleet, await mergeFleet(fleet, {}));
    }, 120_000);

    it('publishes every divider and boundary within centimetres of the truth under the mean error, no worse than translation alone', () => {
      expect(withRotation.length).toBe(translationOnly.length);
      expect(withRotation.length).toBeGreaterThan(500);
      expect(median(withRotation)).toBeLessThan(0.08);
      expect(q(withRotation, 0.95)).toBeLessThan(0.2);
      expect(median(withRotation)).toBeLessThan(median(translationOnly) + 0.01);
      expect(q(withRotation, 0.95)).toBeLessThan(q(translationOnly, 0.95) + 0.02);
    });
  });

  it('changes nothing for a fleet without heading errors beyond a few millimetres', async () => {
    const plain = simulateFleet(world, { drives: 8, seed: 32, startUnixMs: T0 });
    const on = lineDistances(world, plain, await mergeFleet(plain, ROTATION_ON));
    const off = lineDistances(world, plain, await mergeFleet(plain, {}));
    expect(Math.abs(median(on) - median(off))).toBeLessThan(0.01);
    expect(q(on, 0.95)).toBeLessThan(q(off, 0.95) + 0.02);
    // Segments estimate no rotation where there is none: well under a milliradian.
    expect(median(corrections(plain, ROTATION_ON).map((c) => Math.abs(c.rotationMrad)))).toBeLessThan(1);
  }, 120_000);
});
