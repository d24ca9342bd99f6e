/**
 * Slippy-map tiles (z/x/y, Web-Mercator tiling of WGS84 lng/lat) and each tile's local frame.
 *
 * Map zoom: MAP_TILE_ZOOM = 16. At 49 deg N a z16 tile is about 400 m x 400 m:
 * - large enough that a perception observation (tens of metres) rarely straddles two tiles, and
 *   a tile holds one block of a city, the unit a merge worker aligns and clusters in one go;
 * - small enough that one tile's observations from a whole fleet fit in a worker's memory, that
 *   tile-local coordinates in centimetres fit in 16-bit-ish integers (+-327 m from the centre, so
 *   msgpack stores most of them in 3 bytes, deltas in 1-2), and that a changed street republishes
 *   only a few tiles.
 */
import { LocalFrame, assertLngLat, type LngLat, type LngLatBounds } from './geo.ts';

export const MAP_TILE_ZOOM = 16;

export interface TileId {
  z: number;
  x: number;
  y: number;
}

export function tileKey(t: TileId): string {
  return `${t.z}/${t.x}/${t.y}`;
}

/**
 * Parse a canonical tile key: exactly what tileKey writes ("16/34297/22504"): decimal digits, no
 * sign, no leading zeros, x and y in range for z. "16/034297/22504" is refused, so one tile has
 * one key (keys name store objects and group observations).
 */
export function parseTileKey(key: string): TileId {
  const m = typeof key === 'string' && key.length <= 24 ? /^(0|[1-9]\d?)\/(0|[1-9]\d{0,9})\/(0|[1-9]\d{0,9})$/.exec(key) : null;
  if (!m) throw new SyntaxError(`tile key must be canonical "z/x/y" (decimal, no leading zeros or signs), got ${JSON.stringify(typeof key === 'string' ? key.slice(0, 40) : key)}`);
  const t = { z: Number(m[1]), x: Number(m[2]), y: Number(m[3]) };
  assertTile(t);
  return t;
}

export function assertTile(t: TileId): void {
  if (!Number.isInteger(t.z) || t.z < 0 || t.z > 30) throw new RangeError(`tile z must be an integer in [0, 30], got ${t.z}`);
  const n = 2 ** t.z;
  if (!Number.isInteger(t.x) || t.x < 0 || t.x >= n) throw new RangeError(`tile x must be an integer in [0, ${n - 1}] at z${t.z}, got ${t.x}`);
  if (!Number.isInteger(t.y) || t.y < 0 || t.y >= n) throw new RangeError(`tile y must be an integer in [0, ${n - 1}] at z${t.z}, got ${t.y}`);
}

/** The tile containing a WGS84 position at zoom z. */
export function tileOf(p: LngLat, z: number = MAP_TILE_ZOOM): TileId {
  assertLngLat(p);
  const n = 2 ** z;
  const x = Math.floor(((p.lng + 180) / 360) * n);
  const latRad = (p.lat * Math.PI) / 180;
  const y = Math.floor(((1 - Math.log(Math.tan(latRad) + 1 / Math.cos(latRad)) / Math.PI) / 2) * n);
  return { z, x: Math.min(Math.max(x, 0), n - 1), y: Math.min(Math.max(y, 0), n - 1) };
}

/** North-west corner of a tile (lng/lat of its top-left pixel). */
export function tileNorthWest(t: TileId): LngLat {
  const n = 2 ** t.z;
  const lng = (t.x / n) * 360 - 180;
  const lat = (Math.atan(Math.sinh(Math.PI * (1 - (2 * t.y) / n))) * 180) / Math.PI;
  return { lng, lat };
}

export type { LngLatBounds } from './geo.ts';

export function tileBounds(t: TileId): LngLatBounds {
  const nw = tileNorthWest(t);
  const se = tileNorthWest({ z: t.z, x: t.x + 1, y: t.y + 1 });
  return { west: nw.lng, north: nw.lat, east: se.lng, south: se.lat };
}

/** Centre of a tile; the origin of its local frame. */
export function tileCentre(t: TileId): LngLat {
  const b = tileBounds(t);
  return { lng: (b.west + b.east) / 2, lat: (b.south + b.north) / 2 };
}

const frameCache = new Map<string, LocalFrame>();

/** The tile's local metric frame: east-north tangent plane at the tile centre. */
export function tileFrame(t: TileId): LocalFrame {
  const key = tileKey(t);
  let f = frameCache.get(key);
  if (!f) {
    f = new LocalFrame(tileCentre(t));
    frameCache.set(key, f);
  }
  return f;
}

/** All tiles at zoom z that intersect a lng/lat box (west > east: across +-180, geo.ts). */
export function tilesCovering(b: LngLatBounds, z: number = MAP_TILE_ZOOM): TileId[] {
  const nw = tileOf({ lng: b.west, lat: b.north }, z);
  const se = tileOf({ lng: b.east, lat: b.south }, z);
  const n = 2 ** z;
  const columns = b.west > b.east ? se.x + n - nw.x : se.x - nw.x;
  const out: TileId[] = [];
  for (let i = 0; i <= columns; i++) for (let y = nw.y; y <= se.y; y++) out.push({ z, x: (nw.x + i) % n, y });
  return out;
}

/**
 * The tile `dx` columns east and `dy` rows south of `t`, or undefined beyond the top or bottom
 * row. Columns wrap: east of the last column (x = 2^z - 1, ending at 180 deg) is column 0
 * (starting at -180 deg), the same meridian.
 */
export function tileOffset(t: TileId, dx: number, dy: number): TileId | undefined {
  const n = 2 ** t.z;
  const y = t.y + dy;
  if (y < 0 || y >= n) return undefined;
  return { z: t.z, x: (((t.x + dx) % n) + n) % n, y };
}
