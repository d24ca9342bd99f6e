import { describe, expect, it } from 'vitest';
import type { LngLat } from '../../shared/geo.ts';
import { tileKey, tileOf, tileFrame } from '../../shared/tiles.ts';
import type { Manifest, TileFeatureCollection } from '../merge/index.ts';
import { addObservations, COVERAGE_ZOOM } from './coverage.ts';
import { diffView, indexFeatures } from './diff.ts';

const props = (id: string, cls: 'lane_divider' | 'traffic_sign') => ({ id, class: cls, score: 0.9, supportDrives: 3, supportObservations: 9, firstSeenUnixMs: 1, lastSeenUnixMs: 2 });

function collection(tile: string, features: TileFeatureCollection['features']): TileFeatureCollection {
  return { type: 'FeatureCollection', tile, version: 1, features };
}

describe('change list', () => {
  it('names each change with its class and place, from this version (added, moved) or the previous one (removed)', () => {
    const tile = '16/34297/22504';
    const cur = indexFeatures([
      collection(tile, [
        { type: 'Feature', id: 'a', geometry: { type: 'LineString', coordinates: [[8.40, 49.0], [8.41, 49.01], [8.42, 49.02]] }, properties: props('a', 'lane_divider') },
        { type: 'Feature', id: 'm', geometry: { type: 'Point', coordinates: [8.43, 49.03] }, properties: props('m', 'traffic_sign') },
      ]),
    ]);
    const prev = indexFeatures([collection(tile, [{ type: 'Feature', id: 'r', geometry: { type: 'Point', coordinates: [8.44, 49.04] }, properties: props('r', 'traffic_sign') }])]);
    const changes = { added: {}, removed: {}, moved: {}, unchanged: 0, lowConfidence: { added: {}, removed: {} }, addedIds: ['a'], removedIds: ['r'], movedIds: ['m'], commonShiftM: [0, 0] as [number, number] };
    const manifest = { version: 2, previousVersion: 1, changes: { totals: { added: {}, removed: {}, moved: {}, lowConfidence: { added: {}, removed: {} } }, tiles: { [tile]: changes } } } as unknown as Manifest;
    const d = diffView(manifest, cur, prev);
    expect(d.highlightIds.sort()).toEqual(['a', 'm']);
    expect(d.removedIds).toEqual(['r']);
    expect(d.entries).toEqual([
      { change: 'added', id: 'a', tile, class: 'lane_divider', at: [8.41, 49.01], score: 0.9 },
      { change: 'moved', id: 'm', tile, class: 'traffic_sign', at: [8.43, 49.03], score: 0.9 },
      { change: 'removed', id: 'r', tile, class: 'traffic_sign', at: [8.44, 49.04], score: 0.9 },
    ]);
    const few = diffView(manifest, cur, undefined, 1);
    expect(few.entries).toHaveLength(1);
    expect(few.truncated).toBe(2);
    expect(diffView(manifest, new Map(), undefined).entries[2]).toMatchObject({ class: null, at: null }); // not found: said, not invented
  });

  it('lists a stretch removed from, or moved within, a line that stays at the stretch middle, with the line score', () => {
    const tile = '16/34297/22504';
    const line = (score: number) => indexFeatures([collection(tile, [{ type: 'Feature', id: 'l', geometry: { type: 'LineString', coordinates: [[8.40, 49.0], [8.42, 49.02]] }, properties: { ...props('l', 'lane_divider'), score } }])]);
    const part = (id: string, lng: number) => ({ id, parentId: 'l', cls: 'lane_divider' as const, coordinates: [[lng, 49.0], [lng + 0.001, 49.001], [lng + 0.002, 49.002]] as Array<[number, number]> });
    const changes = { added: {}, removed: {}, moved: {}, unchanged: 1, lowConfidence: { added: {}, removed: {} }, addedIds: [], removedIds: [], movedIds: [], removedParts: [part('gone', 8.401)], movedParts: [part('aside', 8.41)], commonShiftM: [0, 0] as [number, number] };
    const manifest = { version: 2, previousVersion: 1, changes: { totals: { added: {}, removed: {}, moved: {}, lowConfidence: { added: {}, removed: {} } }, tiles: { [tile]: changes } } } as unknown as Manifest;
    const d = diffView(manifest, line(0.8), line(0.6));
    expect(d.entries).toEqual([
      { change: 'removed', id: 'gone', tile, class: 'lane_divider', at: [8.402, 49.001], score: 0.6 },
      { change: 'moved', id: 'aside', tile, class: 'lane_divider', at: [8.41 + 0.001, 49.001], score: 0.8 },
    ]);
    // The line a stretch moved in is highlighted; nothing is removed whole.
    expect(d.highlightIds).toEqual(['l']);
    expect(d.removedIds).toEqual([]);
  });

  it('counts distinct drives per coverage cell at the observation first vertex', () => {
    const at: LngLat = { lng: 8.4037, lat: 49.0069 };
    const t = tileOf(at);
    const [x, y] = tileFrame(t).toLocal(at);
    const obs = (driveId: string, dxM: number) => ({ tile: tileKey(t), driveId, tUnixMs: 0, cls: 'lane_divider' as const, score: 1, poseSigmaCm: 10, pointsCm: [[Math.round((x + dxM) * 100), Math.round(y * 100)] as [number, number]] });
    const cells = new Map<string, Set<string>>();
    addObservations(cells, [obs('v/1', 0), obs('v/2', 0.5), obs('v/1', 0.2), obs('v/3', 500)]);
    const here = tileKey(tileOf(at, COVERAGE_ZOOM));
    expect(cells.get(here)?.size).toBe(2);
    expect(cells.size).toBe(2);
  });
});
