import { describe, expect, it } from 'vitest';
import { MAP_TILE_ZOOM, parseTileKey, tileBounds, tileCentre, tileFrame, tileKey, tileOf, tilesCovering, tileOffset } from './tiles.ts';

describe('tiles', () => {
  it('finds the z16 tile of Karlsruhe and contains the point', () => {
    const p = { lng: 8.4244, lat: 49.0034 };
    const t = tileOf(p);
    expect(t.z).toBe(MAP_TILE_ZOOM);
    // x = floor((lng + 180) / 360 * 2^16)
    expect(t.x).toBe(Math.floor(((8.4244 + 180) / 360) * 65536));
    const b = tileBounds(t);
    expect(p.lng).toBeGreaterThanOrEqual(b.west);
    expect(p.lng).toBeLessThan(b.east);
    expect(p.lat).toBeGreaterThan(b.south);
    expect(p.lat).toBeLessThanOrEqual(b.north);
  });
  it('tiles are about 400 m wide at 49 N, and the local frame is centred', () => {
    const t = tileOf({ lng: 8.4244, lat: 49.0034 });
    const b = tileBounds(t);
    const f = tileFrame(t);
    const [w] = f.toLocal({ lng: b.west, lat: (b.north + b.south) / 2 });
    const [e] = f.toLocal({ lng: b.east, lat: (b.north + b.south) / 2 });
    expect(e - w).toBeGreaterThan(390);
    expect(e - w).toBeLessThan(410);
    const c = f.toLocal(tileCentre(t));
    expect(Math.hypot(c[0], c[1])).toBeLessThan(1e-6);
  });
  it('neighbouring tiles share their edges', () => {
    const t = { z: 16, x: 34301, y: 22474 };
    expect(tileBounds(t).east).toBe(tileBounds({ ...t, x: t.x + 1 }).west);
    expect(tileBounds(t).south).toBeCloseTo(tileBounds({ ...t, y: t.y + 1 }).north, 12);
  });
  it('parses keys and refuses bad ones precisely', () => {
    expect(parseTileKey('16/34301/22474')).toEqual({ z: 16, x: 34301, y: 22474 });
    expect(tileKey({ z: 16, x: 1, y: 2 })).toBe('16/1/2');
    expect(() => parseTileKey('16/1')).toThrow('tile key must be canonical "z/x/y" (decimal, no leading zeros or signs), got "16/1"');
    expect(() => parseTileKey('2/4/0')).toThrow('tile x must be an integer in [0, 3] at z2, got 4');
  });
  it('accepts only canonical keys: what tileKey writes', () => {
    for (const bad of ['16/034297/22504', '016/34297/22504', '16/34297/022504', '+16/1/2', '16/+1/2', '16/-1/2', '16/1/2/', ' 16/1/2', '16/1/2 ', '16/1.0/2', '16/1e3/2', '16/0x10/2', '16//2', '16/1/2\n', '99/1/2']) {
      expect(() => parseTileKey(bad), bad).toThrow();
    }
    expect(() => parseTileKey('16/65536/0')).toThrow('tile x must be an integer in [0, 65535] at z16, got 65536');
    expect(() => parseTileKey(`16/${'9'.repeat(40)}/0`)).toThrow(/canonical/);
    for (const t of [{ z: 0, x: 0, y: 0 }, { z: 16, x: 0, y: 65535 }, { z: 30, x: 2 ** 30 - 1, y: 7 }]) expect(parseTileKey(tileKey(t))).toEqual(t);
  });
  it('covers a box with every tile it touches', () => {
    const ts = tilesCovering({ west: 8.41, east: 8.45, south: 48.998, north: 49.012 });
    const xs = new Set(ts.map((t) => t.x));
    const ys = new Set(ts.map((t) => t.y));
    expect(ts.length).toBe(xs.size * ys.size);
    expect(xs.size).toBeGreaterThanOrEqual(7);
  });
});

describe('tiles across the antimeridian', () => {
  const n = 2 ** MAP_TILE_ZOOM;
  it('puts 180 deg in the last column and -180 deg in the first', () => {
    expect(tileOf({ lng: 180, lat: -16.8 }).x).toBe(n - 1);
    expect(tileOf({ lng: -180, lat: -16.8 }).x).toBe(0);
    expect(tileBounds({ z: MAP_TILE_ZOOM, x: n - 1, y: 0 }).east).toBe(180);
    expect(tileBounds({ z: MAP_TILE_ZOOM, x: 0, y: 0 }).west).toBe(-180);
  });

  it('covers a box across it with the columns on both sides', () => {
    const ts = tilesCovering({ west: 179.999, south: -16.801, east: -179.999, north: -16.8 });
    const xs = [...new Set(ts.map((t) => t.x))].sort((a, b) => a - b);
    expect(xs).toEqual([0, n - 1]);
    const one = tileOf({ lng: -179.999, lat: -16.8005 });
    expect(ts.some((t) => t.x === one.x && t.y === one.y)).toBe(true);
  });

  it('steps from the last column to the first and back, and not past the top or bottom row', () => {
    expect(tileOffset({ z: MAP_TILE_ZOOM, x: n - 1, y: 5 }, 1, 0)).toEqual({ z: MAP_TILE_ZOOM, x: 0, y: 5 });
    expect(tileOffset({ z: MAP_TILE_ZOOM, x: 0, y: 5 }, -1, 1)).toEqual({ z: MAP_TILE_ZOOM, x: n - 1, y: 6 });
    expect(tileOffset({ z: MAP_TILE_ZOOM, x: 7, y: 0 }, 0, -1)).toBeUndefined();
    expect(tileOffset({ z: MAP_TILE_ZOOM, x: 7, y: n - 1 }, 1, 1)).toBeUndefined();
    expect(tileOffset({ z: 0, x: 0, y: 0 }, 1, 0)).toEqual({ z: 0, x: 0, y: 0 });
  });
});
