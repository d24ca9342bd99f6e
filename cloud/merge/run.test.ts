import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseTileKey, tileFrame } from '../../shared/tiles.ts';
import { LocalDirStore } from '../store/index.ts';
import type { MapFeature } from './features.ts';
import { mergeTile } from './merge-tile.ts';
import { readLatest, runMerge } from './run.ts';
import { simulateFleet, syntheticWorld, writeBatches } from './synthetic.ts';

describe('runMerge versions', () => {
  it('gives two concurrent merges distinct versions and leaves latest on the higher one', async () => {
    const store = new LocalDirStore(mkdtempSync(path.join(tmpdir(), 'fm-run-')));
    await writeBatches(store, simulateFleet(syntheticWorld(), { drives: 3, seed: 5, startUnixMs: Date.UTC(2025, 0, 1) }).observations);
    const [a, b] = await Promise.all([runMerge(store), runMerge(store)]);
    expect([a.version, b.version].sort()).toEqual([1, 2]);
    expect((await readLatest(store))!.version).toBe(2);
    expect(await store.exists('tiles/v1/manifest.json')).toBe(true);
    expect(await store.exists('tiles/v2/manifest.json')).toBe(true);
  }, 60_000);
});

describe('mergeTile', () => {
  it('reports every previous feature removed when a tile has no observations any more', () => {
    const tile = '16/34297/22504';
    const f = tileFrame(parseTileKey(tile));
    const ll = (x: number, y: number): [number, number] => {
      const q = f.toLngLat([x, y]);
      return [q.lng, q.lat];
    };
    const base = { score: 0.9, supportDrives: 4, supportObservations: 8, firstSeenUnixMs: 1, lastSeenUnixMs: 2 };
    const previous: MapFeature[] = [
      { type: 'Feature', id: 'a', geometry: { type: 'LineString', coordinates: [ll(-50, 0), ll(50, 0)] }, properties: { id: 'a', class: 'lane_divider', style: 'solid', ...base } },
      { type: 'Feature', id: 's', geometry: { type: 'Point', coordinates: ll(5, 5) }, properties: { id: 's', class: 'traffic_sign', signCode: 'de206', ...base } },
    ];
    const r = mergeTile({ tile, version: 3, observations: [], previous });
    expect(r.collection.features).toEqual([]);
    expect(r.changes.removed).toEqual({ lane_divider: 1, traffic_sign: 1 });
    expect(r.changes.removedIds.sort()).toEqual(['a', 's']);
  });

  it('refuses unknown options with the key in the message', () => {
    expect(() => mergeTile({ tile: '16/1/1', version: 1, observations: [], options: { gateM: -1 } })).toThrow(/gateM/);
    expect(() => mergeTile({ tile: '16/1/1', version: 1, observations: [], options: { nope: 1 } as never })).toThrow(/unknown merge option "nope"/);
  });
});
