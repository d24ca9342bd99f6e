/**
 * End to end through the public entry (`runMerge`): synthetic fleets written as real batches
 * into a LocalDirStore, merged, published tiles read back and compared with the truth.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { XY } from '../../shared/schema.ts';
import { tileBounds, parseTileKey } from '../../shared/tiles.ts';
import { LocalDirStore } from '../store/index.ts';
import type { MapFeature, TileFeatureCollection } from './features.ts';
import { runMerge, readLatest, type Manifest } from './run.ts';
import { extendDashedEnds } from './dashed-ends.ts';
import { DEFAULT_MERGE_OPTIONS } from './options.ts';
import { distToPolyline, lineErrors, meanOffset, simulateFleet, syntheticWorld, writeBatches, type Fleet, type TruthWorld } from './synthetic.ts';

const T0 = Date.UTC(2025, 2, 1, 8);
const DAY = 86_400_000;

async function readVersion(store: LocalDirStore, m: Manifest): Promise<Map<string, MapFeature[]>> {
  const out = new Map<string, MapFeature[]>();
  for (const t of m.tiles) {
    const fc = JSON.parse((await store.get(t.key))!.toString('utf8')) as TileFeatureCollection;
    expect(fc.type).toBe('FeatureCollection');
    out.set(t.tile, fc.features);
  }
  return out;
}

const all = (byTile: Map<string, MapFeature[]>): MapFeature[] => [...byTile.values()].flat();
const local = (w: TruthWorld, c: [number, number]): XY => w.frame.toLocal({ lng: c[0], lat: c[1] });

describe('merge of a synthetic fleet', () => {
  const world = syntheticWorld();
  let store: LocalDirStore;
  let fleet: Fleet;
  let v1: Manifest;
  let tiles: Map<string, MapFeature[]>;

  beforeAll(async () => {
    store = new LocalDirStore(mkdtempSync(path.join(tmpdir(), 'fm-merge-')));
    fleet = simulateFleet(world, { drives: 10, seed: 11, startUnixMs: T0, falsePositives: true, multipath: true });
    await writeBatches(store, fleet.observations);
    v1 = await runMerge(store, { nowUnixMs: () => T0 + DAY });
    tiles = await readVersion(store, v1);
  }, 60_000);

  it('publishes v1 with a manifest and latest.json', async () => {
    expect(v1.version).toBe(1);
    expect(v1.previousVersion).toBeNull();
    expect(v1.inputBatchCount).toBe(10);
    expect(v1.tiles.map((t) => t.tile).sort()).toEqual([...tiles.keys()].sort());
    expect(tiles.size).toBe(2);
    expect(await readLatest(store)).toEqual({ version: 1, manifest: 'tiles/v1/manifest.json', createdUnixMs: T0 + DAY });
    const stored = JSON.parse((await store.get('tiles/v1/manifest.json'))!.toString('utf8')) as Manifest;
    expect(stored.tiles.reduce((a, t) => a + t.features, 0)).toBe(all(tiles).length);
    for (const f of all(tiles)) {
      expect(f.id).toBe(f.properties.id);
      expect(f.properties.supportDrives).toBeGreaterThanOrEqual(2);
      expect(f.properties.score).toBeGreaterThan(0);
      expect(f.properties.score).toBeLessThanOrEqual(1);
      expect(f.properties.firstSeenUnixMs).toBeLessThanOrEqual(f.properties.lastSeenUnixMs);
    }
  });

  it('recovers every line to within centimetres of the truth shifted by the drives mean error', () => {
    const offset = meanOffset(fleet.drives);
    for (const e of lineErrors(world, all(tiles), offset)) {
      expect(e.coverage, e.id).toBeGreaterThan(0.97);
      expect(e.meanM, e.id).toBeLessThan(0.08);
      expect(e.maxM, e.id).toBeLessThan(0.25);
    }
    // The drives' own errors were metres; the shared part is all that is left.
    expect(Math.hypot(...offset)).toBeLessThan(1);
  });

  it('keeps adjacent dividers 3.5 m apart as separate lines with their own style', () => {
    const offset = meanOffset(fleet.drives);
    const dividers = all(tiles).filter((f) => f.properties.class === 'lane_divider');
    for (const truth of world.lines.filter((l) => l.cls === 'lane_divider')) {
      // A dashed line's free ends are published dashedEndExtendM past the last dash (dashed-ends.ts).
      const o = DEFAULT_MERGE_OPTIONS;
      const [runOn] = extendDashedEnds([{ cls: 'lane_divider', ...(truth.style ? { style: truth.style } : {}), points: truth.points }], { extendM: o.dashedEndExtendM, clearM: o.dashedEndClearM, tangentM: o.dashedEndTangentM });
      const shifted = (runOn ?? truth.points).map((p) => [p[0] + offset[0], p[1] + offset[1]] as XY);
      const mine = dividers.filter((f) => (f.geometry.coordinates as Array<[number, number]>).every((c) => distToPolyline(local(world, c), shifted) < 0.3));
      expect(mine.length, truth.id).toBeGreaterThanOrEqual(2); // one per tile
      for (const f of mine) expect(f.properties.style, truth.id).toBe(truth.style);
    }
    // No divider lies between the truth dividers.
    for (const f of dividers) {
      const mid = local(world, (f.geometry.coordinates as Array<[number, number]>)[1]!);
      const d = Math.min(...world.lines.filter((l) => l.cls === 'lane_divider').map((l) => distToPolyline([mid[0] - offset[0], mid[1] - offset[1]], l.points)));
      expect(d).toBeLessThan(0.3);
    }
  });

  it('drops single-drive false positives and keeps the real signs, light, stop line and crosswalk', () => {
    const offset = meanOffset(fleet.drives);
    const feats = all(tiles);
    // Phantom divider at +10.5 m (drive 0) and between lanes (drive 5), phantom sign (drive 3).
    for (const f of feats) {
      if (f.geometry.type !== 'LineString') continue;
      for (const c of f.geometry.coordinates) {
        const p = local(world, c);
        const lat = p[1] - offset[1] - 0.0006 * (p[0] - offset[0]) ** 2;
        expect(Math.abs(lat)).toBeLessThan(7.5);
      }
    }
    const signs = feats.filter((f) => f.properties.class === 'traffic_sign');
    expect(signs.map((s) => s.properties.signCode).sort()).toEqual(['de206', 'de274']);
    for (const truth of world.points) {
      const hit = feats.filter((f) => f.properties.class === truth.cls && f.geometry.type === 'Point').map((f) => local(world, f.geometry.coordinates as [number, number]));
      const d = Math.min(...hit.map((p) => Math.hypot(p[0] - truth.at[0] - offset[0], p[1] - truth.at[1] - offset[1])));
      expect(d, truth.id).toBeLessThan(0.2);
    }
    const xw = feats.filter((f) => f.properties.class === 'crosswalk');
    expect(xw).toHaveLength(1);
    const ring = (xw[0]!.geometry.coordinates as Array<Array<[number, number]>>)[0]!;
    expect(ring[0]).toEqual(ring[ring.length - 1]);
    for (const c of ring.slice(0, -1)) {
      const p = local(world, c);
      expect(Math.min(...world.crosswalks[0]!.ring.map((q) => Math.hypot(p[0] - q[0] - offset[0], p[1] - q[1] - offset[1])))).toBeLessThan(0.2);
    }
    const stops = feats.filter((f) => f.properties.class === 'stop_line');
    expect(stops).toHaveLength(1);
  });

  it('publishes a line crossing a tile border once per tile, meeting on the border', () => {
    const keys = [...tiles.keys()].sort();
    const [west, east] = keys.map((k) => tiles.get(k)!) as [MapFeature[], MapFeature[]];
    const bWest = tileBounds(parseTileKey(keys[0]!));
    for (const cls of ['lane_divider', 'road_boundary'] as const) {
      const wl = west.filter((f) => f.properties.class === cls);
      const el = east.filter((f) => f.properties.class === cls);
      expect(wl.length).toBe(el.length);
      for (const f of wl) {
        const coords = f.geometry.coordinates as Array<[number, number]>;
        // Inside its tile, and one end on the shared border.
        for (const c of coords) expect(c[0]).toBeLessThanOrEqual(bWest.east + 1e-9);
        const onBorder = coords.filter((c) => Math.abs(c[0] - bWest.east) < 1e-8);
        expect(onBorder).toHaveLength(1);
        // The east tile has a line ending on the border within 10 cm of that point (the two jobs
        // estimate the drive segments that straddle the border from different data: ~2-6 cm).
        const p = local(world, onBorder[0]!);
        const partner = el
          .map((g) => (g.geometry.coordinates as Array<[number, number]>).filter((c) => Math.abs(c[0] - bWest.east) < 1e-8))
          .flat()
          .map((c) => Math.hypot(...(local(world, c).map((v, i) => v - p[i]!) as [number, number])));
        expect(Math.min(...partner)).toBeLessThan(0.1);
      }
    }
  });

  it('builds v2 when a divider is removed from the road, reporting it removed in both tiles', async () => {
    const later = simulateFleet(world, { drives: 10, seed: 12, startUnixMs: T0 + 30 * DAY, without: ['div_left'], driveIdPrefix: 'later' });
    await writeBatches(store, later.observations, 200, 1);
    const v2 = await runMerge(store, { nowUnixMs: () => T0 + 31 * DAY });
    expect(v2.version).toBe(2);
    expect(v2.previousVersion).toBe(1);
    expect(v2.inputBatchCount).toBe(20);
    expect(v2.changes.totals.removed).toEqual({ lane_divider: 2 });
    expect(v2.changes.totals.added).toEqual({});
    expect(v2.changes.totals.moved).toEqual({});
    expect((await readLatest(store))!.version).toBe(2);
    // v1 is untouched, ids carry over for what stayed.
    const v1Again = await readVersion(store, v1);
    expect(all(v1Again).length).toBe(all(tiles).length);
    const t2 = await readVersion(store, v2);
    const ids1 = new Set(all(tiles).map((f) => f.id));
    const kept = all(t2).filter((f) => ids1.has(f.id));
    expect(kept.length).toBe(all(t2).length);
    for (const f of kept) expect(f.properties.firstSeenUnixMs).toBeLessThan(T0 + DAY);
    const removed = Object.values(v2.changes.tiles).flatMap((c) => c.removedIds);
    expect(removed).toHaveLength(2);
    for (const id of removed) expect(all(tiles).find((f) => f.id === id)!.properties.style).toBe('dashed');
  }, 60_000);
});
