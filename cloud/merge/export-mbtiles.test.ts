/**
 * MBTiles export: MVT encoding against the spec's own examples, then whole exports of a published
 * version (written directly, and made by runMerge on synthetic drives) opened with better-sqlite3
 * and decoded back, and the CLI's exits.
 */
import Database from 'better-sqlite3';
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { MAP_TILE_ZOOM, parseTileKey, tileBounds, tileFrame, tileKey, type TileId } from '../../shared/tiles.ts';
import { run as runCommand } from '../../cli/main.ts';
import { LocalDirStore } from '../store/index.ts';
import exportCli from './export-cli.ts';
import { exportMbtiles, MBTILES_APPLICATION_ID, tileToLngLat } from './export-mbtiles.ts';
import { areaRing, type MapFeature, type Position, type TileFeatureCollection } from './features.ts';
import { decodeTile, encodeGeometry, encodeTile, signedArea, type DecodedLayer } from './mvt.ts';
import { runMerge } from './run.ts';
import { simulateFleet, syntheticWorld, writeBatches } from './synthetic.ts';

const REQUIRED_METADATA = ['name', 'format', 'bounds', 'center', 'minzoom', 'maxzoom', 'json', 'attribution', 'description', 'version', 'type'];
const T0 = Date.UTC(2025, 0, 1);

describe('MVT encoding', () => {
  it('matches the MVT 2.1 spec examples (section 4.3.5)', () => {
    expect(encodeGeometry({ type: 'Point', points: [[25, 17]] })).toEqual([9, 50, 34]);
    expect(encodeGeometry({ type: 'Point', points: [[5, 7], [3, 2]] })).toEqual([17, 10, 14, 3, 9]);
    expect(encodeGeometry({ type: 'LineString', lines: [[[2, 2], [2, 10], [10, 10]]] })).toEqual([9, 4, 4, 18, 0, 16, 16, 0]);
    expect(encodeGeometry({ type: 'LineString', lines: [[[2, 2], [2, 10], [10, 10]], [[1, 1], [3, 5]]] })).toEqual([9, 4, 4, 18, 0, 16, 16, 0, 9, 17, 17, 10, 4, 8]);
    expect(encodeGeometry({ type: 'Polygon', rings: [[[3, 6], [8, 12], [20, 34], [3, 6]]] })).toEqual([9, 6, 12, 18, 10, 12, 24, 44, 15]);
  });

  it('writes exterior rings clockwise on screen, drops repeated points and degenerate parts', () => {
    const ccw: Array<[number, number]> = [[0, 0], [0, 10], [10, 10], [10, 0]];
    expect(signedArea(ccw)).toBeLessThan(0);
    const [layer] = decodeTile(encodeTile([{ name: 'p', features: [{ geometry: { type: 'Polygon', rings: [ccw] }, properties: {} }] }]));
    expect(signedArea(layer!.features[0]!.parts[0]!.slice(0, -1))).toBeGreaterThan(0);
    expect(encodeGeometry({ type: 'LineString', lines: [[[1, 1], [1.2, 1.1], [3, 1]]] })).toEqual([9, 2, 2, 10, 4, 0]);
    // Shorter than a unit: one unit long along its main axis; a zero-length one is dropped.
    expect(encodeGeometry({ type: 'LineString', lines: [[[1, 1], [1.2, 1.1]]] })).toEqual([9, 2, 2, 10, 2, 0]);
    expect(encodeGeometry({ type: 'LineString', lines: [[[1, 1], [0.9, 0.6]]] })).toEqual([9, 2, 2, 10, 0, 1]);
    expect(encodeGeometry({ type: 'LineString', lines: [[[1, 1], [1, 1]]] })).toEqual([]);
  });

  it('round-trips layers, properties of every value type and feature ids', () => {
    const props = { s: 'dashed', u: 1_741_588_793_436, neg: -12, d: 0.746, b: true, skip: undefined };
    const buf = encodeTile([
      { name: 'a', features: [{ id: 7, geometry: { type: 'Point', points: [[-3, 4100]] }, properties: props }] },
      { name: 'empty', features: [] },
    ]);
    const layers = decodeTile(buf);
    expect(layers.map((l) => [l.name, l.version, l.extent])).toEqual([['a', 2, 4096]]);
    const f = layers[0]!.features[0]!;
    expect(f).toEqual({ id: 7, type: 'Point', parts: [[[-3, 4100]]], properties: { s: 'dashed', u: 1_741_588_793_436, neg: -12, d: 0.746, b: true } });
  });
});

// --- a published version written directly: every class, one crosswalk overhanging its tile ---

const TILE_A = '16/34297/22504';
const TILE_B = '16/34298/22504'; // east neighbour: another z15 parent (17148 vs 17149), the same z14 one (8574)

function ll(tile: string, x: number, y: number): Position {
  const q = tileFrame(parseTileKey(tile)).toLngLat([x, y]);
  return [Math.round(q.lng * 1e8) / 1e8, Math.round(q.lat * 1e8) / 1e8];
}

function feature(id: string, geometry: MapFeature['geometry'], extra: Partial<MapFeature['properties']> & Pick<MapFeature['properties'], 'class'>): MapFeature {
  const base = { id, score: 0.812, supportDrives: 5, supportObservations: 17, firstSeenUnixMs: T0, lastSeenUnixMs: T0 + 86_400_000 };
  return { type: 'Feature', id, geometry, properties: { ...base, ...extra } };
}

function handMadeVersion(): TileFeatureCollection[] {
  const a: MapFeature[] = [
    feature('a-div', { type: 'LineString', coordinates: [ll(TILE_A, -150, 1), ll(TILE_A, 0, 2.5), ll(TILE_A, 150, 3)] }, { class: 'lane_divider', style: 'dashed', spreadM: 0.12 }),
    feature('a-div2', { type: 'LineString', coordinates: [ll(TILE_A, -150, -2), ll(TILE_A, 150, -2)] }, { class: 'lane_divider', style: 'solid', spreadM: 0.08 }),
    feature('a-bnd', { type: 'LineString', coordinates: [ll(TILE_A, -150, 6), ll(TILE_A, 150, 6.5)] }, { class: 'road_boundary', kind: 'curb', spreadM: 0.2 }),
    feature('a-stop', { type: 'LineString', coordinates: [ll(TILE_A, 20, -4), ll(TILE_A, 20, 0)] }, { class: 'stop_line' }),
    // Counter-clockwise on the map (y up), closed: must come out as a clockwise screen ring.
    feature('a-cw', { type: 'Polygon', coordinates: [[ll(TILE_A, 30, -4), ll(TILE_A, 34, -4), ll(TILE_A, 34, 4), ll(TILE_A, 30, 4), ll(TILE_A, 30, -4)]] }, { class: 'crosswalk' }),
    feature('a-sign', { type: 'Point', coordinates: ll(TILE_A, 18, -6) }, { class: 'traffic_sign', signCode: 'de206' }),
    feature('a-light', { type: 'Point', coordinates: ll(TILE_A, 19, 8) }, { class: 'traffic_light' }),
  ];
  const b: MapFeature[] = [
    feature('b-bnd', { type: 'LineString', coordinates: [ll(TILE_B, -100, 6), ll(TILE_B, 100, 7)] }, { class: 'road_boundary', kind: 'barrier', spreadM: 0.1 }),
    feature('b-sign', { type: 'Point', coordinates: ll(TILE_B, 5, -6) }, { class: 'traffic_sign', signCode: '' }),
  ];
  return [
    { type: 'FeatureCollection', tile: TILE_A, version: 1, features: a },
    { type: 'FeatureCollection', tile: TILE_B, version: 1, features: b },
  ];
}

async function publish(store: LocalDirStore, collections: TileFeatureCollection[]): Promise<void> {
  const tiles = collections.map((c) => ({ tile: c.tile, key: `tiles/v1/${c.tile}.geojson`, features: c.features.length, byClass: {}, dropped: { stale: 0, shadows: 0 } }));
  for (const c of collections) await store.put(`tiles/v1/${c.tile}.geojson`, Buffer.from(JSON.stringify(c)));
  await store.put('tiles/v1/manifest.json', Buffer.from(JSON.stringify({ version: 1, createdUnixMs: T0, tiles })));
  await store.put('tiles/latest.json', Buffer.from(JSON.stringify({ version: 1, manifest: 'tiles/v1/manifest.json', createdUnixMs: T0 })));
}

interface Opened {
  metadata: Record<string, string>;
  rows: Array<{ zoom_level: number; tile_column: number; tile_row: number; tile_data: Buffer }>;
  applicationId: number;
  indexes: Array<{ name: string; tbl_name: string; sql: string }>;
}

function open(file: string): Opened {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const metadata = Object.fromEntries((db.prepare('SELECT name, value FROM metadata').all() as Array<{ name: string; value: string }>).map((r) => [r.name, r.value]));
    const rows = db.prepare('SELECT zoom_level, tile_column, tile_row, tile_data FROM tiles ORDER BY zoom_level, tile_column, tile_row').all() as Opened['rows'];
    const applicationId = db.pragma('application_id', { simple: true }) as number;
    const indexes = db.prepare("SELECT name, tbl_name, sql FROM sqlite_master WHERE type = 'index'").all() as Opened['indexes'];
    return { metadata, rows, applicationId, indexes };
  } finally {
    db.close();
  }
}

/** The row of tile z/x/y (XYZ), found by its TMS row. */
function rowOf(o: Opened, t: TileId): DecodedLayer[] | undefined {
  const r = o.rows.find((q) => q.zoom_level === t.z && q.tile_column === t.x && q.tile_row === 2 ** t.z - 1 - t.y);
  return r ? decodeTile(gunzipSync(r.tile_data)) : undefined;
}

const GEOM_OF: Record<string, string> = { lane_divider: 'LineString', road_boundary: 'LineString', stop_line: 'LineString', crosswalk: 'Polygon', traffic_sign: 'Point', traffic_light: 'Point' };

/** Metres between two lng/lat positions (local flat approximation). */
function distM(a: Position, b: Position): number {
  return Math.hypot((a[0] - b[0]) * 111_320 * Math.cos((a[1] * Math.PI) / 180), (a[1] - b[1]) * 111_320);
}

/** Every published feature of each z16 tile is in the exported tile, same layer, type, properties and shape. */
function expectTilesMatch(o: Opened, collections: readonly TileFeatureCollection[]): void {
  for (const c of collections) {
    const t = parseTileKey(c.tile);
    const layers = rowOf(o, t);
    expect(layers, c.tile).toBeDefined();
    const decoded = layers!.flatMap((l) => l.features.map((f) => ({ layer: l.name, extent: l.extent, f })));
    expect(decoded.length, c.tile).toBe(c.features.length);
    for (const l of layers!) expect(l.version).toBe(2);
    for (const pf of c.features) {
      const d = decoded.find((q) => q.f.properties.id === pf.properties.id);
      expect(d, pf.properties.id).toBeDefined();
      const { class: cls, ...rest } = pf.properties;
      expect(d!.layer).toBe(cls);
      expect(d!.f.type).toBe(GEOM_OF[cls]);
      expect(d!.f.properties).toEqual(Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined)));
      const back = d!.f.parts.map((part) => part.map(([x, y]) => tileToLngLat(x, y, t, d!.extent)));
      const g = pf.geometry;
      const want: Position[][] = g.type === 'Point' ? [[g.coordinates]] : g.type === 'LineString' ? [g.coordinates] : [areaRing(g, (tileBounds(t).west + tileBounds(t).east) / 2)];
      expect(back.length).toBe(want.length);
      if (g.type === 'Polygon') expect(signedArea(d!.f.parts[0]!.slice(0, -1))).toBeGreaterThan(0);
      // Half a unit per axis at z16 is <= ~5 cm; the decoded vertices are the published ones,
      // less any that fell on the previous vertex after rounding (and rings in either order).
      for (let i = 0; i < want.length; i++) {
        for (const p of back[i]!) expect(Math.min(...want[i]!.map((q) => distM(p, q)))).toBeLessThan(0.075);
        for (const q of want[i]!) expect(Math.min(...back[i]!.map((p) => distM(p, q)))).toBeLessThan(0.075);
      }
    }
  }
}

describe('exportMbtiles on a hand-made version', () => {
  let file: string;
  let collections: TileFeatureCollection[];
  let o: Opened;

  beforeAll(async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'fm-mbt-'));
    const store = new LocalDirStore(path.join(dir, 'store'));
    collections = handMadeVersion();
    await publish(store, collections);
    file = path.join(dir, 'map.mbtiles');
    const s = await exportMbtiles(store, file);
    expect(s).toMatchObject({ version: 1, minZoom: 14, maxZoom: MAP_TILE_ZOOM, features: 9 });
    o = open(file);
    expect(readdirSync(dir).sort()).toEqual(['map.mbtiles', 'store']); // no temp or journal file left
  });

  it('has complete MBTiles 1.3 metadata with valid vector_layers', () => {
    for (const k of REQUIRED_METADATA) expect(o.metadata[k], k).toBeTruthy();
    expect(o.metadata).toMatchObject({ format: 'pbf', minzoom: '14', maxzoom: '16', type: 'overlay', version: '1', name: 'fleetmap v1' });
    const [w, s, e, n] = o.metadata.bounds!.split(',').map(Number);
    const [cx, cy, cz] = o.metadata.center!.split(',').map(Number);
    expect(w! < cx! && cx! < e! && s! < cy! && cy! < n! && cz === 16).toBe(true);
    for (const c of collections) for (const f of c.features) if (f.geometry.type === 'Point') {
      const [lng, lat] = f.geometry.coordinates;
      expect(lng >= w! && lng <= e! && lat >= s! && lat <= n!).toBe(true);
    }
    const json = JSON.parse(o.metadata.json!) as { vector_layers: Array<{ id: string; fields: Record<string, string>; minzoom: number; maxzoom: number }> };
    expect(json.vector_layers.map((l) => l.id)).toEqual(['lane_divider', 'road_boundary', 'stop_line', 'crosswalk', 'traffic_sign', 'traffic_light']);
    const byId = Object.fromEntries(json.vector_layers.map((l) => [l.id, l]));
    expect(byId.lane_divider!.fields).toMatchObject({ id: 'String', style: 'String', score: 'Number', supportDrives: 'Number', spreadM: 'Number' });
    expect(byId.road_boundary!.fields.kind).toBe('String');
    expect(byId.traffic_sign!.fields.signCode).toBe('String');
    for (const l of json.vector_layers) expect([l.minzoom, l.maxzoom]).toEqual([14, 16]);
  });

  it('uses the MBTiles schema, unique indexes and application id', () => {
    expect(o.applicationId).toBe(MBTILES_APPLICATION_ID);
    const tileIndex = o.indexes.find((i) => i.tbl_name === 'tiles');
    expect(tileIndex?.sql).toMatch(/CREATE UNIQUE INDEX tile_index ON tiles \(zoom_level, tile_column, tile_row\)/);
    expect(o.indexes.find((i) => i.tbl_name === 'metadata')?.sql).toMatch(/UNIQUE/);
  });

  it('stores each tile at its TMS row (flipped y), gzip-compressed, at z14-z16', () => {
    const a = parseTileKey(TILE_A);
    const b = parseTileKey(TILE_B);
    const expected = [
      [14, a.x >> 2, (1 << 14) - 1 - (a.y >> 2)],
      [15, a.x >> 1, (1 << 15) - 1 - (a.y >> 1)],
      [15, b.x >> 1, (1 << 15) - 1 - (b.y >> 1)],
      [16, a.x, (1 << 16) - 1 - a.y],
      [16, b.x, (1 << 16) - 1 - b.y],
    ];
    expect(o.rows.map((r) => [r.zoom_level, r.tile_column, r.tile_row])).toEqual(expected);
    for (const r of o.rows) expect([r.tile_data[0], r.tile_data[1]]).toEqual([0x1f, 0x8b]);
    // Lower zooms hold every feature of their children.
    const count = (t: TileId): number => rowOf(o, t)!.reduce((n, l) => n + l.features.length, 0);
    expect(count({ z: 14, x: a.x >> 2, y: a.y >> 2 })).toBe(9);
    expect(count({ z: 15, x: a.x >> 1, y: a.y >> 1 })).toBe(7);
  });

  it('decodes every z16 tile to the published features: layers, types, properties, coordinates', () => {
    expectTilesMatch(o, collections);
    const a = rowOf(o, parseTileKey(TILE_A))!;
    expect(a.map((l) => [l.name, l.features.length])).toEqual([['lane_divider', 2], ['road_boundary', 1], ['stop_line', 1], ['crosswalk', 1], ['traffic_sign', 1], ['traffic_light', 1]]);
    const styles = a[0]!.features.map((f) => f.properties.style).sort();
    expect(styles).toEqual(['dashed', 'solid']);
  });

  it('refuses to overwrite an existing file and an unpublished version', async () => {
    const store = new LocalDirStore(path.join(path.dirname(file), 'store'));
    await expect(exportMbtiles(store, file)).rejects.toThrow(/refusing to overwrite/);
    await expect(exportMbtiles(store, `${file}.2`, 7)).rejects.toThrow(/map version 7 is not published/);
    const empty = new LocalDirStore(mkdtempSync(path.join(tmpdir(), 'fm-mbt-empty-')));
    await expect(exportMbtiles(empty, `${file}.3`)).rejects.toThrow(/no published map version/);
  });
});

describe('exportMbtiles on a merged version', () => {
  it('exports what runMerge published, tile for tile', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'fm-mbt-merge-'));
    const store = new LocalDirStore(path.join(dir, 'store'));
    await writeBatches(store, simulateFleet(syntheticWorld(), { drives: 4, seed: 3, startUnixMs: T0 }).observations);
    const m = await runMerge(store, { nowUnixMs: () => T0 + 86_400_000 });
    const collections: TileFeatureCollection[] = [];
    for (const t of m.tiles) collections.push(JSON.parse((await store.get(t.key))!.toString('utf8')) as TileFeatureCollection);
    const total = collections.reduce((n, c) => n + c.features.length, 0);
    expect(total).toBeGreaterThan(10);
    const file = path.join(dir, 'v1.mbtiles');
    const s = await exportMbtiles(store, file, 1);
    expect(s.features).toBe(total);
    const o = open(file);
    expectTilesMatch(o, collections.filter((c) => c.features.length > 0));
    const classes = new Set(collections.flatMap((c) => c.features.map((f) => f.properties.class)));
    expect(classes.size).toBe(6); // every class, so every geometry type, went through
    const json = JSON.parse(o.metadata.json!) as { vector_layers: Array<{ id: string }> };
    expect(new Set(json.vector_layers.map((l) => l.id))).toEqual(classes);
    expect(o.rows.filter((r) => r.zoom_level === 16).map((r) => tileKey({ z: 16, x: r.tile_column, y: 2 ** 16 - 1 - r.tile_row })).sort()).toEqual(
      collections.filter((c) => c.features.length > 0).map((c) => c.tile).sort(),
    );
  }, 60_000);
});

describe('fleetmap cloud export', () => {
  async function cli(argv: string[], throughMain = false): Promise<{ code: number; out: string; err: string }> {
    const out: string[] = [];
    const err: string[] = [];
    const log = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
    const error = vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void err.push(a.join(' ')));
    try {
      const code = throughMain ? await runCommand(argv) : await exportCli(argv);
      return { code, out: out.join('\n'), err: err.join('\n') };
    } finally {
      log.mockRestore();
      error.mockRestore();
    }
  }

  it('exports, then refuses bad arguments with one line and exit 2, runtime failures with exit 1', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'fm-mbt-cli-'));
    const storeDir = path.join(dir, 'store');
    await publish(new LocalDirStore(storeDir), handMadeVersion());
    const file = path.join(dir, 'out.mbtiles');
    const ok = await cli(['--store', storeDir, '--format', 'mbtiles', '--out', file, '--version', '1']);
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.out)).toMatchObject({ format: 'mbtiles', version: 1, features: 9 });
    expect(existsSync(file)).toBe(true);

    const usage: Array<[string[], RegExp]> = [
      [['--format', 'mbtiles', '--out', `${file}.x`], /--store DIR is required/],
      [['--store', storeDir, '--out', `${file}.x`], /--format is required/],
      [['--store', storeDir, '--format', 'mbtiles'], /--out FILE is required/],
      [['--store', storeDir, '--format', 'shapefile', '--out', `${file}.x`], /--format "shapefile" is not one of: mbtiles/],
      [['--store', storeDir, '--format', 'mbtiles', '--out', `${file}.x`, '--version', '0'], /--version must be an integer >= 1/],
      [['--store', path.join(dir, 'nope'), '--format', 'mbtiles', '--out', `${file}.x`], /no such directory/],
      [['--store', storeDir, '--format', 'mbtiles', '--out', file], /refusing to overwrite/],
      [['--store', storeDir, '--format', 'mbtiles', '--out', path.join(dir, 'no-dir', 'x.mbtiles')], /does not exist/],
      [['--store', storeDir, '--bogus'], /bogus/],
    ];
    for (const [argv, re] of usage) {
      const r = await cli(argv);
      expect(r.code, argv.join(' ')).toBe(2);
      expect(r.err).toMatch(re);
      expect(r.err.split('\n')).toHaveLength(1);
    }
    const missing = await cli(['--store', storeDir, '--format', 'mbtiles', '--out', `${file}.v9`, '--version', '9']);
    expect(missing.code).toBe(1);
    expect(missing.err).toMatch(/^fleetmap cloud export: map version 9 is not published/);
    expect(missing.err.split('\n')).toHaveLength(1);
    expect(existsSync(`${file}.v9`)).toBe(false);
    // Registered in the command table: the same command through cli/main.ts.
    const viaMain = await cli(['cloud', 'export', '--store', storeDir, '--format', 'mbtiles', '--out', path.join(dir, 'main.mbtiles')], true);
    expect(viaMain.code).toBe(0);
    expect(existsSync(path.join(dir, 'main.mbtiles'))).toBe(true);
    writeFileSync(path.join(dir, 'keep.txt'), 'mine');
    expect((await cli(['--store', storeDir, '--format', 'mbtiles', '--out', path.join(dir, 'keep.txt')])).code).toBe(2);
  });
});
