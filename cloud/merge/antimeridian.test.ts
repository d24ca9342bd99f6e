/**
 * A map across the antimeridian (+-180 deg: Fiji, Chukotka): the same synthetic road and fleet
 * (synthetic.ts, the same seed) placed once where the road crosses 180 deg and once on an
 * ordinary tile border at the same latitude. The merge must give the same map in both places:
 * the tiles on either side are neighbours (their observations meet in one job), published lines
 * end on +-180 deg and stay within [-180, 180], a crosswalk lying across the line is cut into a
 * MultiPolygon of its two sides (RFC 7946 section 3.1.9) that every reader joins into the same
 * crosswalk again, and the exports name the box across it.
 * (Before, every figure on such a map was 0: each side's tiles never saw the other's data and a
 * line crossing 180 deg was clipped as if it ran round the globe.)
 */
import Database from 'better-sqlite3';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAP_TILE_ZOOM, parseTileKey, tileOf } from '../../shared/tiles.ts';
import { loadLanelet2, osmBoundsCentre } from '../../sim/lanelet2.ts';
import { LocalDirStore } from '../store/index.ts';
import { exportLanelet2File } from './export-lanelet2.ts';
import { exportMbtiles } from './export-mbtiles.ts';
import { gunzipSync } from 'node:zlib';
import { featurePoints, type MapFeature, type TileFeatureCollection } from './features.ts';
import { decodeTile } from './mvt.ts';
import { tileToLngLat } from './export-mbtiles.ts';
import { ringAreaM2 } from '../../shared/geometry.ts';
import { runMerge } from './run.ts';
import { lineErrors, simulateFleet, syntheticWorld, writeBatches, type LineError, type TruthWorld } from './synthetic.ts';

const T0 = Date.UTC(2025, 2, 1, 8);
const LAT = -16.8;
const dirs: string[] = [];
const tempDir = (name: string): string => {
  const d = mkdtempSync(path.join(tmpdir(), `fm-am-${name}-`));
  dirs.push(d);
  return d;
};

interface Merged {
  world: TruthWorld;
  store: LocalDirStore;
  tiles: string[];
  features: MapFeature[];
  errors: LineError[];
}

async function mergeAt(lng: number, name: string, crosswalkAtM?: number): Promise<Merged> {
  const world = syntheticWorld({ lng, lat: LAT }, crosswalkAtM);
  const fleet = simulateFleet(world, { drives: 8, seed: 11, startUnixMs: T0 });
  const store = new LocalDirStore(tempDir(name));
  await writeBatches(store, fleet.observations);
  const m = await runMerge(store, { nowUnixMs: () => T0 + 86_400_000 });
  const features: MapFeature[] = [];
  for (const t of m.tiles) features.push(...(JSON.parse((await store.get(t.key))!.toString('utf8')) as TileFeatureCollection).features);
  return { world, store, tiles: m.tiles.map((t) => t.key), features, errors: lineErrors(world, features, [0, 0]) };
}

function lngsOf(features: readonly MapFeature[]): number[] {
  const out: number[] = [];
  const walk = (c: unknown): void => {
    if (Array.isArray(c) && typeof c[0] === 'number') out.push(c[0]);
    else if (Array.isArray(c)) c.forEach(walk);
  };
  for (const f of features) walk(f.geometry.coordinates);
  return out;
}

describe('a map across the antimeridian', () => {
  let across: Merged;
  let ordinary: Merged;
  /** The same with the crosswalk across the border the road crosses (+-180 deg, an ordinary one). */
  let acrossCw: Merged;
  let ordinaryCw: Merged;
  beforeAll(async () => {
    // syntheticWorld puts its origin (where the road crosses a tile border) on the west edge of
    // the tile holding `near`: -180 deg for the first, an ordinary border for the second.
    across = await mergeAt(-179.999, 'across');
    ordinary = await mergeAt(178.001, 'ordinary');
    acrossCw = await mergeAt(-179.999, 'across-cw', 0);
    ordinaryCw = await mergeAt(178.001, 'ordinary-cw', 0);
  }, 120_000);
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('publishes tiles on both sides, their lines meeting on +-180 deg and never beyond it', () => {
    const n = 2 ** MAP_TILE_ZOOM;
    const columns = new Set(across.tiles.map((k) => parseTileKey(k.split('/').slice(-3).join('/').replace(/\.geojson$/, '')).x));
    expect(columns.has(0)).toBe(true);
    expect(columns.has(n - 1)).toBe(true);
    const lngs = lngsOf(across.features.filter((f) => f.geometry.type === 'LineString'));
    expect(Math.min(...lngs)).toBeGreaterThanOrEqual(-180);
    expect(Math.max(...lngs)).toBeLessThanOrEqual(180);
    expect(lngs).toContain(180);
    expect(lngs).toContain(-180);
  });

  it('merges the road as well as on an ordinary tile border', () => {
    expect(across.errors.map((e) => e.id)).toEqual(ordinary.errors.map((e) => e.id));
    across.errors.forEach((e, i) => {
      const o = ordinary.errors[i]!;
      // the same observations in metres, one frame rotated by a few degrees of longitude: the
      // same consensus within a centimetre, each line covered as far
      expect(Math.abs(e.meanM - o.meanM), e.id).toBeLessThan(0.005);
      expect(e.coverage, e.id).toBeGreaterThan(o.coverage - 0.02);
      expect(e.coverage, e.id).toBeGreaterThan(0.5);
    });
    const count = (m: Merged, cls: string): number => m.features.filter((f) => f.properties.class === cls).length;
    for (const cls of ['traffic_sign', 'traffic_light', 'crosswalk']) expect(count(across, cls), cls).toBe(count(ordinary, cls));
  });

  it('cuts the crosswalk across 180 deg into its two sides, which read back as the crosswalk published on an ordinary border', () => {
    const [cw] = acrossCw.features.filter((f) => f.properties.class === 'crosswalk');
    const [plain] = ordinaryCw.features.filter((f) => f.properties.class === 'crosswalk');
    expect(plain!.geometry.type).toBe('Polygon');
    expect(cw!.geometry.type).toBe('MultiPolygon');
    const lngs = lngsOf([cw!]);
    expect(Math.min(...lngs)).toBeGreaterThanOrEqual(-180);
    expect(Math.max(...lngs)).toBeLessThanOrEqual(180);
    expect(lngs).toContain(180);
    expect(lngs).toContain(-180);
    // Joined again (the cut vertices dropped): the ordinary border's ring, vertex for vertex,
    // in metres of each world's own frame (the same observations there).
    const ring = featurePoints(cw!, acrossCw.world.frame);
    const want = featurePoints(plain!, ordinaryCw.world.frame);
    expect(ring).toHaveLength(want.length);
    for (const q of want) expect(Math.min(...ring.map((r) => Math.hypot(r[0] - q[0], r[1] - q[1])))).toBeLessThan(0.01);
    expect(Math.abs(ringAreaM2(ring) - ringAreaM2(want))).toBeLessThan(0.1);
  });

  it('exports an MBTiles box over the whole band of longitudes and a Lanelet2 file that reloads on the right side of the Earth', async () => {
    const dir = tempDir('export');
    const mbtiles = path.join(dir, 'map.mbtiles');
    await exportMbtiles(across.store, mbtiles);
    const db = new Database(mbtiles, { readonly: true });
    const meta = Object.fromEntries((db.prepare('SELECT name, value FROM metadata').all() as Array<{ name: string; value: string }>).map((r) => [r.name, r.value]));
    db.close();
    const [west, south, east, north] = meta.bounds!.split(',').map(Number);
    expect([west, east]).toEqual([-180, 180]);
    expect(south).toBeLessThan(LAT);
    expect(north).toBeGreaterThan(LAT);
    expect(Math.abs(Number(meta.center!.split(',')[0]))).toBeGreaterThan(179.99);
    const osm = path.join(dir, 'map.osm');
    await exportLanelet2File(across.store, osm);
    const xml = readFileSync(osm, 'utf8');
    const bounds = /<bounds minlat='([-\d.]+)' minlon='([-\d.]+)' maxlat='([-\d.]+)' maxlon='([-\d.]+)'/.exec(xml)!;
    expect(Number(bounds[2])).toBeGreaterThan(Number(bounds[4])); // minlon > maxlon: across 180 deg
    const centre = osmBoundsCentre(xml);
    expect(Math.abs(centre.lng)).toBeGreaterThan(179.99);
    const map = loadLanelet2(xml, { origin: centre });
    // every reloaded vertex within the road's few hundred metres of the centre, none round the globe
    const far = Math.max(...map.primitives.flatMap((p) => p.points.map(([x, y]) => Math.hypot(x, y))));
    expect(far).toBeLessThan(1000);
    expect(map.primitives.length).toBe(across.features.length);
  });

  it('exports the cut crosswalk as one ring: a vector tile overhanging its edge, one Lanelet2 crosswalk', async () => {
    const dir = tempDir('export-cw');
    const [cw] = acrossCw.features.filter((f) => f.properties.class === 'crosswalk');
    const cwRing = featurePoints(cw!, acrossCw.world.frame);
    // The tile holding its centroid published it; its vector tile holds one ring, the far side
    // past the tile's edge (as any feature overhanging its tile).
    const mbtiles = path.join(dir, 'map.mbtiles');
    await exportMbtiles(acrossCw.store, mbtiles);
    const t = tileOf(acrossCw.world.frame.toLngLat([cwRing.reduce((a, p) => a + p[0], 0) / cwRing.length, cwRing.reduce((a, p) => a + p[1], 0) / cwRing.length]), MAP_TILE_ZOOM);
    const db = new Database(mbtiles, { readonly: true });
    const row = db.prepare('SELECT tile_data FROM tiles WHERE zoom_level = ? AND tile_column = ? AND tile_row = ?').get(t.z, t.x, 2 ** t.z - 1 - t.y) as { tile_data: Buffer };
    db.close();
    const layer = decodeTile(gunzipSync(row.tile_data)).find((l) => l.name === 'crosswalk')!;
    expect(layer.features).toHaveLength(1);
    expect(layer.features[0]!.parts).toHaveLength(1);
    const mvtRing = layer.features[0]!.parts[0]!.slice(0, -1).map(([x, y]) => {
      const [lng, lat] = tileToLngLat(x, y, t, layer.extent);
      return acrossCw.world.frame.toLocal({ lng, lat });
    });
    expect(Math.abs(ringAreaM2(mvtRing) - ringAreaM2(cwRing))).toBeLessThan(1);
    expect(ringAreaM2(cwRing)).toBeGreaterThan(40); // about 4 x 14 m

    const osm = path.join(dir, 'map.osm');
    await exportLanelet2File(acrossCw.store, osm);
    const xml = readFileSync(osm, 'utf8');
    const map = loadLanelet2(xml, { origin: osmBoundsCentre(xml) });
    const crosswalks = map.primitives.filter((p) => p.cls === 'crosswalk');
    expect(crosswalks).toHaveLength(1);
    expect(crosswalks[0]!.points).toHaveLength(cwRing.length);
    expect(Math.abs(ringAreaM2(crosswalks[0]!.points) - ringAreaM2(cwRing))).toBeLessThan(0.5);
  });
});

