/**
 * Round trip: a small published version (GeoJSON tiles written straight into a LocalDirStore),
 * exported as Lanelet2 OSM, read back by the simulator's Lanelet2 loader: the same elements per
 * class, the same styles / kinds / sign codes, geometry within 1 cm.
 */
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { LocalFrame } from '../../shared/geo.ts';
import type { XY } from '../../shared/schema.ts';
import { tileBounds, tileCentre, tileKey, tileOf } from '../../shared/tiles.ts';
import { classKey, loadLanelet2, osmBoundsCentre } from '../../sim/lanelet2.ts';
import { parseOsmXml } from '../../sim/osm-xml.ts';
import { LocalDirStore } from '../store/index.ts';
import { exportLanelet2, exportLanelet2File, readPublishedFeatures } from './export-lanelet2.ts';
import { areaRing, firstPosition, type FeatureProperties, type MapFeature, type Position, type TileFeatureCollection } from './features.ts';

const r8 = (v: number): number => Math.round(v * 1e8) / 1e8;

/** Features of two neighbouring z16 tiles in Karlsruhe, built in the first tile's frame. */
function publishedFeatures(): Map<string, MapFeature[]> {
  const t0 = tileOf({ lng: 8.4136, lat: 49.0056 });
  const frame = new LocalFrame(tileCentre(t0));
  const ll = (p: XY): Position => {
    const q = frame.toLngLat(p);
    return [r8(q.lng), r8(q.lat)];
  };
  const byTile = new Map<string, MapFeature[]>();
  let n = 0;
  const add = (props: Omit<FeatureProperties, 'id' | 'score' | 'supportDrives' | 'supportObservations' | 'firstSeenUnixMs' | 'lastSeenUnixMs'>, geometry: MapFeature['geometry']): void => {
    const first = firstPosition(geometry);
    const key = tileKey(tileOf({ lng: first[0], lat: first[1] }));
    const id = `${key.replace(/\//g, '-')}-f${n++}`;
    const f: MapFeature = {
      type: 'Feature',
      id,
      geometry,
      properties: { id, score: 0.8, supportDrives: 5, supportObservations: 12, firstSeenUnixMs: 1, lastSeenUnixMs: 2, ...props },
    };
    byTile.set(key, [...(byTile.get(key) ?? []), f]);
  };
  const line = (pts: XY[]): MapFeature['geometry'] => ({ type: 'LineString', coordinates: pts.map(ll) });
  // A road running east-west, 3.5 m lanes.
  add({ class: 'lane_divider', style: 'dashed', spreadM: 0.1 }, line([[-150, 0], [-50, 0.4], [60, 0.2], [150, -0.3]]));
  add({ class: 'lane_divider', style: 'solid', spreadM: 0.1 }, line([[-150, 3.5], [150, 3.6]]));
  add({ class: 'lane_divider', style: 'mixed', spreadM: 0.1 }, line([[-100, -3.5], [0, -3.4], [100, -3.5]]));
  add({ class: 'road_boundary', kind: 'curb', spreadM: 0.1 }, line([[-150, 7], [-20, 7.2], [150, 7.1]]));
  add({ class: 'road_boundary', kind: 'road_border', spreadM: 0.1 }, line([[-150, -7], [150, -7.1]]));
  add({ class: 'road_boundary', kind: 'barrier', spreadM: 0.1 }, line([[-150, -9], [-60, -9.2]]));
  add({ class: 'stop_line' }, line([[40, 0.1], [40.05, -3.4]]));
  add({ class: 'stop_line' }, line([[-40, 0.1], [-40, 3.5]]));
  add({ class: 'crosswalk' }, { type: 'Polygon', coordinates: [[ll([45, -7]), ll([49, -7]), ll([49, 7]), ll([45, 7]), ll([45, -7])]] });
  add({ class: 'crosswalk' }, { type: 'Polygon', coordinates: [[ll([-50, -7]), ll([-46, -7.1]), ll([-45.5, 0]), ll([-46, 7]), ll([-50, 7]), ll([-50, -7])]] });
  add({ class: 'traffic_sign', signCode: 'de206' }, { type: 'Point', coordinates: ll([38, -8]) });
  add({ class: 'traffic_sign', signCode: '' }, { type: 'Point', coordinates: ll([-10, 8.5]) });
  add({ class: 'traffic_light' }, { type: 'Point', coordinates: ll([42, 8]) });
  // Into the eastern neighbour (x + 1): a divider and a sign there.
  const east = tileBounds(t0).east;
  const xEast = frame.toLocal({ lng: east, lat: frame.origin.lat })[0];
  add({ class: 'lane_divider', style: 'dashed', spreadM: 0.1 }, line([[xEast + 1, 0], [xEast + 80, 0.5]]));
  add({ class: 'traffic_sign', signCode: 'de205' }, { type: 'Point', coordinates: ll([xEast + 30, -8]) });
  return byTile;
}

async function publish(byTile: Map<string, MapFeature[]>): Promise<LocalDirStore> {
  const store = new LocalDirStore(mkdtempSync(path.join(tmpdir(), 'fleetmap-export-')));
  const tiles: Array<{ tile: string; key: string }> = [];
  for (const [tile, features] of byTile) {
    const fc: TileFeatureCollection = { type: 'FeatureCollection', tile, version: 1, features };
    const key = `tiles/v1/${tile}.geojson`;
    await store.put(key, Buffer.from(JSON.stringify(fc)));
    tiles.push({ tile, key });
  }
  await store.put('tiles/v1/manifest.json', Buffer.from(JSON.stringify({ version: 1, tiles })));
  await store.put('tiles/latest.json', Buffer.from(JSON.stringify({ version: 1, manifest: 'tiles/v1/manifest.json', createdUnixMs: 2 })));
  return store;
}

const published = (f: MapFeature): string => {
  const p = f.properties;
  if (p.class === 'lane_divider') return `lane_divider/${p.style}`;
  if (p.class === 'road_boundary') return `road_boundary/${p.kind}`;
  return p.class;
};

describe('exportLanelet2', () => {
  it('reloads through the Lanelet2 loader with the same elements, kinds and geometry (< 1 cm)', async () => {
    const byTile = publishedFeatures();
    expect(byTile.size).toBe(2);
    const store = await publish(byTile);
    const { version, features } = await readPublishedFeatures(store);
    expect(version).toBe(1);
    expect(features).toHaveLength(15);

    const xml = exportLanelet2(features, { generator: 'fleetmap test' });
    expect(xml.startsWith(`<?xml version='1.0' encoding='UTF-8'?>\n<osm version='0.6' upload='false' generator='fleetmap test'>`)).toBe(true);
    const map = loadLanelet2(xml, { origin: osmBoundsCentre(xml), strict: true });
    expect(map.errors).toEqual([]);
    expect(map.unmapped).toEqual({});
    expect(map.lanelets).toEqual([]);

    // Same number of elements per class (and style / kind).
    const want: Record<string, number> = {};
    for (const f of features) want[published(f)] = (want[published(f)] ?? 0) + 1;
    const got: Record<string, number> = {};
    for (const p of map.primitives) got[classKey(p)] = (got[classKey(p)] ?? 0) + 1;
    expect(got).toEqual(want);

    // Match reloaded primitives to features through the fleetmap:id tag of their way / relation.
    const doc = parseOsmXml(xml);
    const featureIdOf = (osmId: string): string => (doc.ways.get(osmId) ?? doc.relations.get(osmId))!.tags['fleetmap:id']!;
    const byId = new Map(features.map((f) => [f.properties.id, f]));
    const to = (c: Position): XY => map.frame.toLocal({ lng: c[0], lat: c[1] });
    let worstM = 0;
    for (const p of map.primitives) {
      const f = byId.get(featureIdOf(p.id))!;
      expect(f.properties.class).toBe(p.cls);
      const g = f.geometry;
      if (g.type === 'Point') {
        expect(p.points).toHaveLength(1);
        worstM = Math.max(worstM, dist(p.points[0]!, to(g.coordinates)));
        if (p.cls === 'traffic_sign') expect(p.signCode).toBe(f.properties.signCode);
      } else if (g.type === 'LineString') {
        expect(p.points).toHaveLength(g.coordinates.length);
        g.coordinates.forEach((c, i) => (worstM = Math.max(worstM, dist(p.points[i]!, to(c)))));
        expect(p.style).toBe(f.properties.style);
        expect(p.kind).toBe(f.properties.kind);
      } else {
        // The loader orders rings counter-clockwise from any vertex: compare as vertex sets.
        const ring = areaRing(g).slice(0, -1).map(to);
        expect(p.points).toHaveLength(ring.length);
        for (const q of ring) worstM = Math.max(worstM, Math.min(...p.points.map((r) => dist(r, q))));
      }
    }
    expect(worstM).toBeLessThan(0.01);

    // Lanelet2 tagging.
    const tagsOf = (fid: string): Record<string, string> => [...doc.ways.values(), ...doc.relations.values()].find((e) => e.tags['fleetmap:id'] === fid)!.tags;
    const f = (pred: (x: MapFeature) => boolean): MapFeature => features.find(pred)!;
    expect(tagsOf(f((x) => x.properties.style === 'mixed').id)).toMatchObject({ type: 'line_thin', subtype: 'solid_dashed' });
    expect(tagsOf(f((x) => x.properties.kind === 'curb').id)).toMatchObject({ type: 'curbstone', subtype: 'high' });
    expect(tagsOf(f((x) => x.properties.kind === 'barrier').id)).toMatchObject({ type: 'guard_rail' });
    expect(tagsOf(f((x) => x.properties.class === 'crosswalk').id)).toMatchObject({ type: 'multipolygon', subtype: 'crosswalk' });
    expect(tagsOf(f((x) => x.properties.signCode === 'de206').id)).toMatchObject({ type: 'traffic_sign', subtype: 'de206' });
    expect(tagsOf(f((x) => x.properties.signCode === '').id).subtype).toBeUndefined();

    // Stable: the same version exports to the same text whatever the feature order.
    expect(exportLanelet2([...features].reverse(), { generator: 'fleetmap test' })).toBe(xml);
  });

  it('writes a new file, never over an existing one', async () => {
    const store = await publish(publishedFeatures());
    const dir = mkdtempSync(path.join(tmpdir(), 'fleetmap-export-out-'));
    const out = path.join(dir, 'map.osm');
    const summary = await exportLanelet2File(store, out);
    expect(summary).toMatchObject({ version: 1, file: out, features: 15 });
    const xml = readFileSync(out, 'utf8');
    expect(summary.bytes).toBe(Buffer.byteLength(xml));
    expect(xml).toContain(`generator='fleetmap map v1'`);
    expect(loadLanelet2(xml, { origin: osmBoundsCentre(xml), strict: true }).primitives).toHaveLength(15);
    await expect(exportLanelet2File(store, out)).rejects.toThrow(/refusing to overwrite/);
    await expect(exportLanelet2File(store, path.join(dir, 'v2.osm'), 2)).rejects.toThrow(/map version 2 is not published/);
    expect(readdirSync(dir)).toEqual(['map.osm']);
  });

  it('writes a closed line (a kerb round an island) as a closed way on shared first and last node', () => {
    const id = 'ring';
    const ring: Position[] = [[8.4, 49.0], [8.4001, 49.0], [8.4001, 49.0001], [8.4, 49.0001], [8.4, 49.0]];
    const xml = exportLanelet2([
      { type: 'Feature', id, geometry: { type: 'LineString', coordinates: ring }, properties: { id, class: 'road_boundary', kind: 'curb', score: 1, supportDrives: 3, supportObservations: 3, firstSeenUnixMs: 0, lastSeenUnixMs: 0 } },
    ]);
    const refs = [...xml.matchAll(/<nd ref='(\d+)' \/>/g)].map((m) => m[1]);
    expect(refs).toHaveLength(5);
    expect(refs[4]).toBe(refs[0]);
    expect(new Set(refs).size).toBe(4);
    expect([...xml.matchAll(/<node /g)]).toHaveLength(4);
    // The loader reads it back closed, round the same four corners.
    const map = loadLanelet2(xml, { origin: osmBoundsCentre(xml) });
    const kerb = map.primitives.find((p) => p.cls === 'road_boundary')!;
    expect(kerb.points).toHaveLength(5);
    expect(dist(kerb.points[0]!, kerb.points[4]!)).toBeLessThan(1e-9);
  });

  it('writes ele where a position has a height, with 8 decimals of lat/lon', () => {
    const id = 'a';
    const xml = exportLanelet2([
      {
        type: 'Feature',
        id,
        geometry: { type: 'LineString', coordinates: [[8.4, 49.0, 112.25] as unknown as Position, [8.40001234, 49.00000001]] },
        properties: { id, class: 'stop_line', score: 1, supportDrives: 3, supportObservations: 3, firstSeenUnixMs: 0, lastSeenUnixMs: 0 },
      },
    ]);
    expect(xml).toContain(`lat='49.00000000' lon='8.40000000'>\n    <tag k='ele' v='112.250' />`);
    expect(xml).toContain(`lat='49.00000001' lon='8.40001234' />`);
    expect(() => exportLanelet2([], { curbSubtype: 'medium' as 'high' })).toThrow(/options.curbSubtype must be "high" or "low", got "medium"/);
  });
});

function dist(a: XY, b: XY): number {
  return Math.hypot(a[0] - b[0], a[1] - b[1]);
}
