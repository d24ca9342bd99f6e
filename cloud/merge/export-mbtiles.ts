/**
 * A published map version -> one MBTiles 1.3 file of Mapbox Vector Tiles (MVT 2.1), readable by
 * standard tile servers (martin, tileserver-gl, mbtileserver), MapLibre and QGIS.
 *
 * - Layers: one per class (`lane_divider`, `road_boundary`, `stop_line`, `crosswalk`,
 *   `traffic_sign`, `traffic_light`), so a style picks a class by `source-layer`. Each feature
 *   keeps the published properties except `class` (the layer name says it): `id`, `style`
 *   (dividers: solid / dashed / mixed), `kind` (boundaries), `signCode` (signs), `score`,
 *   `supportDrives`, `supportObservations`, `firstSeenUnixMs`, `lastSeenUnixMs`, `spreadM`, `seenShare`,
 *   `recentShiftM`, `recentDrives` and `movedAfterUnixMs` (when present).
 *   Lines are LineString, crosswalks Polygon, signs and lights Point. No MVT feature id (the
 *   fleetmap id is a string: the `id` property).
 * - Zooms: MAP_TILE_ZOOM (16, the published tiles one for one) down to `minZoom` (default 14):
 *   a lower-zoom tile holds every feature of its child z16 tiles, unsimplified.
 * - Geometry in tile extent 4096: at z16 and 49 deg N one unit is ~9.8 cm, so a vertex moves by
 *   at most half a unit (~5 cm) per axis. Features overhanging the tile (crosswalks published
 *   whole) keep coordinates outside [0, 4096).
 * - tiles table: TMS rows (tile_row = 2^z - 1 - y), tile_data gzip-compressed; unique index
 *   tile_index (zoom_level, tile_column, tile_row) and unique index name on metadata (name);
 *   application_id 0x4d504258 ("MPBX").
 * - metadata: name, format=pbf, bounds (W,S,E,N of the exported z16 tiles; W,E = -180,180 when
 *   they lie on both sides of the antimeridian), center (lng,lat,z),
 *   minzoom, maxzoom, json ({"vector_layers": [...]} for the layers present), attribution,
 *   description, version (the map version N), type=overlay.
 *
 * The file is written beside its target under a temp name and linked into place at the end, so a
 * reader never sees half a file and an existing file is never overwritten (link(2) fails).
 */
import Database from 'better-sqlite3';
import { randomBytes } from 'node:crypto';
import { existsSync, linkSync, rmSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import { boundsCentre, lngLatBoundsOf, type LngLat } from '../../shared/geo.ts';
import { PRIMITIVE_CLASSES, type PrimitiveClass } from '../../shared/schema.ts';
import { MAP_TILE_ZOOM, parseTileKey, tileBounds, type LngLatBounds, type TileId } from '../../shared/tiles.ts';
import type { ObjectStore } from '../store/index.ts';
import { areaRing, type MapFeature, type Position, type TileFeatureCollection } from './features.ts';
import { DEFAULT_EXTENT, encodeTile, type MvtFeature, type MvtGeometry, type MvtLayer, type MvtPoint, type MvtValue } from './mvt.ts';
import { readPublishedVersion } from './published-version.ts';

export interface ExportMbtilesOptions {
  /** Lowest zoom written (default 14); the highest is MAP_TILE_ZOOM. */
  minZoom?: number; // zoom level
  /** Tile units across a tile (default 4096). */
  extent?: number;
}

export const DEFAULT_EXPORT_MIN_ZOOM = 14;

export interface ExportSummary {
  version: number;
  file: string;
  minZoom: number;
  maxZoom: number;
  /** Rows in the tiles table, all zooms. */
  tiles: number;
  /** Features in the published version (z16 tiles). */
  features: number;
  bytes: number;
}

/** One published version, read through its manifest. */
export interface VectorTileRow {
  tile: TileId;
  /** gzip-compressed MVT. */
  data: Buffer;
  features: number;
}

export interface VectorTileSet {
  tiles: VectorTileRow[];
  /** Layer name -> field name -> "String" | "Number" | "Boolean" (TileJSON vector_layers types). */
  fields: Map<string, Map<string, string>>;
  /** W, S, E, N of the z16 tiles that hold features. */
  bounds: LngLatBounds;
  minZoom: number;
  maxZoom: number;
}

/** Pure: published z16 collections -> gzip-compressed vector tiles at minZoom..MAP_TILE_ZOOM. */
export function buildVectorTiles(collections: readonly TileFeatureCollection[], o: ExportMbtilesOptions = {}): VectorTileSet {
  const minZoom = o.minZoom ?? DEFAULT_EXPORT_MIN_ZOOM;
  const maxZoom = MAP_TILE_ZOOM;
  const extent = o.extent ?? DEFAULT_EXTENT;
  if (!Number.isInteger(minZoom) || minZoom < 0 || minZoom > maxZoom) throw new RangeError(`minZoom must be an integer in [0, ${maxZoom}], got ${minZoom}`);
  const fields = new Map<string, Map<string, string>>();
  const corners: LngLat[] = [];
  // Features of each output tile, by key "z/x/y".
  const byTile = new Map<string, { tile: TileId; features: MapFeature[] }>();
  for (const c of collections) {
    if (c.features.length === 0) continue;
    const t = parseTileKey(c.tile);
    if (t.z !== maxZoom) throw new Error(`tile ${c.tile} is not at the map zoom ${maxZoom}`);
    const b = tileBounds(t);
    corners.push({ lng: b.west, lat: b.south }, { lng: b.east, lat: b.north });
    for (let z = minZoom; z <= maxZoom; z++) {
      const s = 2 ** (maxZoom - z);
      const pt: TileId = { z, x: Math.floor(t.x / s), y: Math.floor(t.y / s) };
      const key = `${pt.z}/${pt.x}/${pt.y}`;
      let e = byTile.get(key);
      if (!e) byTile.set(key, (e = { tile: pt, features: [] }));
      e.features.push(...c.features);
    }
  }
  const tiles: VectorTileRow[] = [];
  for (const { tile, features } of byTile.values()) {
    const layers = new Map<PrimitiveClass, MvtLayer>();
    for (const f of features) {
      const cls = f.properties.class;
      let layer = layers.get(cls);
      if (!layer) layers.set(cls, (layer = { name: cls, extent, features: [] }));
      layer.features.push(toMvtFeature(f, tile, extent));
      let lf = fields.get(cls);
      if (!lf) fields.set(cls, (lf = new Map()));
      for (const [k, v] of Object.entries(layer.features[layer.features.length - 1]!.properties)) {
        if (v !== undefined) lf.set(k, typeof v === 'string' ? 'String' : typeof v === 'number' ? 'Number' : 'Boolean');
      }
    }
    const ordered = PRIMITIVE_CLASSES.map((c) => layers.get(c)).filter((l): l is MvtLayer => l !== undefined);
    tiles.push({ tile, data: gzipSync(encodeTile(ordered)), features: features.length });
  }
  tiles.sort((a, b) => a.tile.z - b.tile.z || a.tile.x - b.tile.x || a.tile.y - b.tile.y);
  // The tiles' box, across the antimeridian (west > east) where the map lies on both sides of it.
  const bounds = lngLatBoundsOf(corners) ?? { west: Infinity, south: Infinity, east: -Infinity, north: -Infinity };
  return { tiles, fields, bounds, minZoom, maxZoom };
}

/** The metadata rows of an MBTiles 1.3 vector tileset. */
export function mbtilesMetadata(version: number, set: VectorTileSet, createdUnixMs: number): Record<string, string> {
  // MBTiles bounds are left < right: a tileset across the antimeridian gets the whole band of
  // longitudes (-180 to 180) and its centre on the middle of its arc.
  const b = set.bounds.west > set.bounds.east ? { ...set.bounds, west: -180, east: 180 } : set.bounds;
  const centre = boundsCentre(set.bounds);
  const vectorLayers = PRIMITIVE_CLASSES.filter((c) => set.fields.has(c)).map((c) => ({
    id: c,
    description: LAYER_DESCRIPTIONS[c],
    minzoom: set.minZoom,
    maxzoom: set.maxZoom,
    fields: Object.fromEntries([...set.fields.get(c)!.entries()].sort((x, y) => (x[0] < y[0] ? -1 : 1))),
  }));
  const f = (v: number): string => v.toFixed(7).replace(/\.?0+$/, '');
  return {
    name: `fleetmap v${version}`,
    format: 'pbf',
    // Rounded outwards to 1e-7 deg, so the bounds hold every tile.
    bounds: [Math.floor(b.west * 1e7), Math.floor(b.south * 1e7), Math.ceil(b.east * 1e7), Math.ceil(b.north * 1e7)].map((v) => f(v / 1e7)).join(','),
    center: `${f(centre.lng)},${f(centre.lat)},${set.maxZoom}`,
    minzoom: String(set.minZoom),
    maxzoom: String(set.maxZoom),
    json: JSON.stringify({ vector_layers: vectorLayers }),
    attribution: 'fleetmap (fleet-sourced HD map)',
    description: `fleetmap HD map version ${version}, published ${new Date(createdUnixMs).toISOString()}: lane dividers, road boundaries, stop lines, crosswalks, traffic signs and lights merged from a vehicle fleet`,
    version: String(version),
    type: 'overlay',
  };
}

/** Write published version `version` (default latest) of `store` to a new MBTiles file `outFile`. */
export async function exportMbtiles(store: ObjectStore, outFile: string, version?: number, o: ExportMbtilesOptions = {}): Promise<ExportSummary> {
  const file = path.resolve(outFile);
  if (existsSync(file)) throw new Error(`refusing to overwrite ${file}: it exists`);
  const pub = await readPublishedVersion(store, version);
  const set = buildVectorTiles(pub.collections, o);
  if (set.tiles.length === 0) throw new Error(`map version ${pub.version} has no features: nothing to export`);
  const metadata = mbtilesMetadata(pub.version, set, pub.manifest.createdUnixMs);
  const bytes = writeMbtiles(file, set.tiles, metadata);
  return {
    version: pub.version,
    file,
    minZoom: set.minZoom,
    maxZoom: set.maxZoom,
    tiles: set.tiles.length,
    features: pub.collections.reduce((a, c) => a + c.features.length, 0),
    bytes,
  };
}

/** SQLite file with the MBTiles schema; returns its size in bytes. Never replaces `file`. */
export function writeMbtiles(file: string, tiles: readonly VectorTileRow[], metadata: Record<string, string>): number {
  const tmp = `${file}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    const db = new Database(tmp);
    try {
      db.pragma(`application_id = ${MBTILES_APPLICATION_ID}`);
      db.exec(`CREATE TABLE metadata (name text, value text);
        CREATE UNIQUE INDEX name ON metadata (name);
        CREATE TABLE tiles (zoom_level integer, tile_column integer, tile_row integer, tile_data blob);
        CREATE UNIQUE INDEX tile_index ON tiles (zoom_level, tile_column, tile_row);`);
      const putMeta = db.prepare('INSERT INTO metadata (name, value) VALUES (?, ?)');
      const putTile = db.prepare('INSERT INTO tiles (zoom_level, tile_column, tile_row, tile_data) VALUES (?, ?, ?, ?)');
      db.transaction(() => {
        for (const [k, v] of Object.entries(metadata)) putMeta.run(k, v);
        for (const t of tiles) putTile.run(t.tile.z, t.tile.x, tmsRow(t.tile), t.data);
      })();
    } finally {
      db.close();
    }
    try {
      linkSync(tmp, file);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw new Error(`refusing to overwrite ${file}: it appeared while exporting`);
      throw e;
    }
    return statSync(file).size;
  } finally {
    rmSync(tmp, { force: true });
    rmSync(`${tmp}-journal`, { force: true });
  }
}

/** MBTiles rows count from the south (TMS): row = 2^z - 1 - y. */
export function tmsRow(t: TileId): number {
  return 2 ** t.z - 1 - t.y;
}

/** "MPBX": SQLite's officially assigned application_id for MBTiles. */
export const MBTILES_APPLICATION_ID = 0x4d504258;

// --- helpers ---

const LAYER_DESCRIPTIONS: Record<PrimitiveClass, string> = {
  lane_divider: 'Painted lane dividers (LineString); style: solid | dashed | mixed',
  road_boundary: 'Road boundaries (LineString); kind: curb | road_border | barrier',
  stop_line: 'Stop lines (LineString)',
  crosswalk: 'Crosswalks (Polygon)',
  traffic_sign: 'Traffic signs (Point); signCode, e.g. de205',
  traffic_light: 'Traffic lights (Point)',
};

function toMvtFeature(f: MapFeature, tile: TileId, extent: number): MvtFeature {
  const proj = (c: Position): MvtPoint => lngLatToTile(c[0], c[1], tile, extent);
  const g = f.geometry;
  let geometry: MvtGeometry;
  if (g.type === 'Point') geometry = { type: 'Point', points: [proj(g.coordinates)] };
  else if (g.type === 'LineString') geometry = { type: 'LineString', lines: [g.coordinates.map(proj)] };
  // One ring, across the antimeridian too: seen from the tile, its far vertices run on past +-180 deg
  // (tile coordinates outside the extent, as any feature overhanging its tile).
  else {
    const b = tileBounds(tile);
    geometry = { type: 'Polygon', rings: [areaRing(g, (b.west + b.east) / 2).map(proj)] };
  }
  const properties: Record<string, MvtValue> = {};
  for (const [k, v] of Object.entries(f.properties)) {
    if (k === 'class') continue;
    if (typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v))) properties[k] = v;
  }
  return { geometry, properties };
}

/** Web-Mercator tile coordinates (x east, y down, unrounded) of a WGS84 lng/lat in `tile`. */
export function lngLatToTile(lng: number, lat: number, tile: TileId, extent: number = DEFAULT_EXTENT): MvtPoint {
  const n = 2 ** tile.z;
  const latRad = (lat * Math.PI) / 180;
  const wx = ((lng + 180) / 360) * n;
  const wy = ((1 - Math.log(Math.tan(latRad) + 1 / Math.cos(latRad)) / Math.PI) / 2) * n;
  return [(wx - tile.x) * extent, (wy - tile.y) * extent];
}

/** Inverse of lngLatToTile: [lng, lat] of tile coordinates. */
export function tileToLngLat(px: number, py: number, tile: TileId, extent: number = DEFAULT_EXTENT): Position {
  const n = 2 ** tile.z;
  const wx = tile.x + px / extent;
  const wy = tile.y + py / extent;
  const lng = (wx / n) * 360 - 180;
  const lat = (Math.atan(Math.sinh(Math.PI * (1 - (2 * wy) / n))) * 180) / Math.PI;
  return [lng, lat];
}
