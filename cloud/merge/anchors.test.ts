/**
 * Anchor drives: one drive with survey-grade positioning (RTK: centimetres, declared as a 3 cm
 * pose sigma in its batches) among ten consumer-grade ones (about 1 m bias each). Without it the
 * map sits at the drives' mean error; with it, the gauge follows the anchor and the map sits
 * where the world is. Absolute errors here are against the truth itself (no offset removed).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LocalDirStore } from '../store/index.ts';
import type { TileFeatureCollection } from './features.ts';
import { segmentWeights } from './gauge.ts';
import { resolveMergeOptions } from './options.ts';
import { prepare } from './prepare.ts';
import { runMerge } from './run.ts';
import { lineErrors, meanOffset, simulateFleet, syntheticWorld, writeBatches } from './synthetic.ts';

const T0 = Date.UTC(2025, 2, 1, 8);
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function mergedLineErrorM(anchors: number, seed: number): Promise<{ medianM: number; fleetOffsetM: number }> {
  const world = syntheticWorld();
  const fleet = simulateFleet(world, { drives: 10, seed, startUnixMs: T0, anchors });
  const dir = mkdtempSync(path.join(tmpdir(), 'fm-anchor-'));
  dirs.push(dir);
  const store = new LocalDirStore(dir);
  await writeBatches(store, fleet.observations);
  const m = await runMerge(store, { nowUnixMs: () => T0 + 86_400_000 });
  const features = [];
  for (const t of m.tiles) features.push(...(JSON.parse((await store.get(t.key))!.toString('utf8')) as TileFeatureCollection).features);
  const errs = lineErrors(world, features, [0, 0])
    .map((e) => e.meanM)
    .sort((a, b) => a - b);
  return { medianM: errs[errs.length >> 1]!, fleetOffsetM: Math.hypot(...meanOffset(fleet.drives)) };
}

describe('anchor drives', () => {
  it('an RTK drive among ten pulls the map onto the truth', async () => {
    // fleets whose consumer drives share a large mean error (seeds chosen for it: >= 0.25 m)
    for (const seed of [21, 23, 24]) {
      const without = await mergedLineErrorM(0, seed);
      const withAnchor = await mergedLineErrorM(1, seed);
      expect(without.fleetOffsetM, `seed ${seed}`).toBeGreaterThan(0.25);
      // without: the map carries the fleet's mean error across the lines, which no merge can remove
      expect(without.medianM, `seed ${seed}`).toBeGreaterThan(0.2);
      // with one anchor: within 10 cm of the truth
      expect(withAnchor.medianM, `seed ${seed}`).toBeLessThan(0.1);
      expect(withAnchor.medianM, `seed ${seed}`).toBeLessThan(without.medianM / 2);
    }
  }, 120_000);

  it('weighs only segments whose declared pose sigma is survey-grade', () => {
    const world = syntheticWorld();
    const fleet = simulateFleet(world, { drives: 3, seed: 5, startUnixMs: T0, anchors: 1 });
    const o = resolveMergeOptions();
    const tile = fleet.observations[0]!.tile;
    const p = prepare(
      fleet.observations.filter((x) => x.tile === tile).map((x) => ({ ...x, points: x.pointsCm.map(([a, b]) => [a / 100, b / 100] as [number, number]) })),
      o,
    );
    const w = segmentWeights(p, o);
    const anchorDrive = p.driveIds.findIndex((d) => d.endsWith('-0'));
    for (let s = 0; s < p.nSeg; s++) expect(w[s], `segment ${s}`).toBe(p.segDrive[s] === anchorDrive ? o.anchorGaugeWeight : 1);
  });
});
