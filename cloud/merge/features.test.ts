import { describe, expect, it } from 'vitest';
import { parseTileKey, tileBounds, tileFrame } from '../../shared/tiles.ts';
import { clipPolyline, clipToTile } from './features.ts';

const b = { west: 0, south: 0, east: 10, north: 10 };

describe('clipping to a tile', () => {
  it('cuts a polyline that leaves and re-enters into runs ending on the border', () => {
    const runs = clipPolyline([[-5, 5], [5, 5], [5, 15], [8, 15], [8, 5]], b);
    expect(runs).toEqual([[[0, 5], [5, 5], [5, 10]], [[8, 10], [8, 5]]]);
    expect(clipPolyline([[-5, -5], [-1, 20]], b)).toEqual([]);
  });

  it('gives each point and polygon to exactly one tile and writes closed polygons in lng/lat', () => {
    const t = parseTileKey('16/34297/22504');
    const f = tileFrame(t);
    const tb = tileBounds(t);
    expect(clipToTile('traffic_sign', [[0, 0]], f, t, tb, 0.05)).toHaveLength(1);
    expect(clipToTile('traffic_sign', [[0, 500]], f, t, tb, 0.05)).toHaveLength(0);
    // Polygons are whole, owned by the tile of their centroid.
    expect(clipToTile('crosswalk', [[0, 0], [4, 0], [4, 10], [0, 10]].map(([x, y]) => [x! + 205, y!] as [number, number]), f, t, tb, 0.05)).toHaveLength(0);
    const [poly] = clipToTile('crosswalk', [[0, 0], [4, 0], [4, 10], [0, 10]], f, t, tb, 0.05);
    expect(poly!.type).toBe('Polygon');
    const ring = (poly as { coordinates: number[][][] }).coordinates[0]!;
    expect(ring).toHaveLength(5);
    expect(ring[0]).toEqual(ring[4]);
    const ll = f.toLngLat([4, 10]);
    expect(ring.some(([lng, lat]) => Math.abs(lng! - ll.lng) < 1e-7 && Math.abs(lat! - ll.lat) < 1e-7)).toBe(true);
  });
});
