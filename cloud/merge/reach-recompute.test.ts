/**
 * The incremental merge recomputes a tile when an observation that changed reaches its job (a
 * vertex within marginM of its square), and carries every other tile by reference, even a
 * neighbour of a changed tile: proven on the synthetic two-tile world, with one new observation
 * far from the shared border and then one beside it.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { WireObservation } from '../../shared/batch.ts';
import { parseTileKey } from '../../shared/tiles.ts';
import { LocalDirStore } from '../store/index.ts';
import { InProcessExecutor } from './executor.ts';
import { DEFAULT_MERGE_OPTIONS } from './options.ts';
import { resolvePublished } from './publish.ts';
import { runMerge } from './run.ts';
import { tileBoxM } from './shards.ts';
import { simulateFleet, syntheticWorld, writeBatches } from './synthetic.ts';

describe('incremental merge: which tiles are recomputed', () => {
  it('carries a neighbour that the new observation does not reach, and recomputes it once one does', async () => {
    const fleet = simulateFleet(syntheticWorld(), { drives: 4, seed: 5, startUnixMs: Date.UTC(2025, 0, 1) });
    const store = new LocalDirStore(mkdtempSync(path.join(tmpdir(), 'fm-reach-')));
    await writeBatches(store, fleet.observations);
    const merge = async (): Promise<Map<string, string>> => {
      await runMerge(store, { executor: new InProcessExecutor({ store, concurrency: 1 }) });
      const { manifest } = await resolvePublished(store);
      return new Map(manifest.tiles.map((t) => [t.tile, t.key]));
    };
    const v1 = await merge();
    const tiles = [...v1.keys()].sort();
    expect(tiles).toHaveLength(2);
    const [a, b] = tiles.map(parseTileKey) as [ReturnType<typeof parseTileKey>, ReturnType<typeof parseTileKey>];
    expect(Math.abs(a.x - b.x) + Math.abs(a.y - b.y)).toBe(1);
    // A point of tile a at `gapM` from the border it shares with b, in a's frame (metres).
    const [x0, y0, x1, y1] = tileBoxM(a);
    const atGap = (gapM: number): [number, number] => {
      const midX = (x0 + x1) / 2;
      const midY = (y0 + y1) / 2;
      if (b.x > a.x) return [x1 - gapM, midY];
      if (b.x < a.x) return [x0 + gapM, midY];
      // y grows south in tile indices and north in the local frame.
      return b.y > a.y ? [midX, y0 + gapM] : [midX, y1 - gapM];
    };
    const sign = (driveId: string, tUnixMs: number, [xM, yM]: [number, number]): WireObservation => ({
      tile: tiles[0]!, driveId, tUnixMs, cls: 'traffic_sign', signCode: 'de274', score: 0.9, poseSigmaCm: 50, pointsCm: [[Math.round(xM * 100), Math.round(yM * 100)]],
    });
    const farM = DEFAULT_MERGE_OPTIONS.marginM + 100;
    await writeBatches(store, [sign('late1', Date.UTC(2025, 0, 2), atGap(farM))], 200, 1000);
    const v2 = await merge();
    expect(v2.get(tiles[0]!)).not.toBe(v1.get(tiles[0]!)); // its own state changed
    expect(v2.get(tiles[1]!)).toBe(v1.get(tiles[1]!)); // carried: the new sign is out of its reach
    await writeBatches(store, [sign('late2', Date.UTC(2025, 0, 3), atGap(DEFAULT_MERGE_OPTIONS.marginM / 3))], 200, 1000);
    const v3 = await merge();
    expect(v3.get(tiles[0]!)).not.toBe(v2.get(tiles[0]!));
    expect(v3.get(tiles[1]!)).not.toBe(v2.get(tiles[1]!)); // within its margin: recomputed
  }, 60_000);
});
