/**
 * simulateFleetIntoStore with an RTK receiver: the drive's bias is centimetres and the stored
 * observations declare the edge's pose sigma under the merge's anchor limit; the same drive with
 * the consumer receiver declares more.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_MERGE_OPTIONS } from '../cloud/merge/options.ts';
import { readStoredBatch } from '../cloud/merge/stored-batch.ts';
import { LocalDirStore } from '../cloud/store/index.ts';
import { planFleet } from './fleet.ts';
import { simulateFleetIntoStore } from './fleet-store.ts';
import { RTK_EDGE_MIN_GNSS_SIGMA_M, RTK_GNSS_ERROR_OPTIONS } from './gnss-error.ts';
import { loadLanelet2, osmBoundsCentre } from './lanelet2.ts';
import { generateMap } from './mapgen/index.ts';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function poseSigmasCm(store: LocalDirStore): Promise<number[]> {
  const out: number[] = [];
  for (const k of await store.list('batches/')) out.push(...readStoredBatch(k, (await store.get(k))!).observations.map((o) => o.poseSigmaCm));
  return out;
}

describe('simulateFleetIntoStore', () => {
  it('an RTK drive has centimetres of bias and declares a pose sigma under the anchor limit', async () => {
    const { osmXml } = generateMap({ seed: 5, layout: 'grid' });
    const map = loadLanelet2(osmXml, { origin: osmBoundsCentre(osmXml) });
    const drive = planFleet(map, { vehicles: 1, drivesPerVehicle: 1, driveLengthM: 800, seed: 2 }).drives;
    const anchorCm = 100 * DEFAULT_MERGE_OPTIONS.anchorMaxSigmaM;
    const run = async (rtk: boolean) => {
      const dir = mkdtempSync(path.join(tmpdir(), 'fm-fleet-store-'));
      dirs.push(dir);
      const store = new LocalDirStore(dir);
      const r = await simulateFleetIntoStore(map, drive, store, rtk ? { gnss: RTK_GNSS_ERROR_OPTIONS, minGnssSigmaM: RTK_EDGE_MIN_GNSS_SIGMA_M } : {});
      return { r, sigmas: await poseSigmasCm(store) };
    };
    const rtk = await run(true);
    const consumer = await run(false);
    expect(rtk.sigmas.length).toBeGreaterThan(10);
    expect(Math.max(...rtk.sigmas)).toBeLessThanOrEqual(anchorCm);
    expect(Math.hypot(...rtk.r.biases[0]!)).toBeLessThan(0.1);
    expect(Math.min(...consumer.sigmas)).toBeGreaterThan(anchorCm);
  });
});
