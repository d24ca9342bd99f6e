import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { polylineLengthM, projectOntoPolyline, ringAreaM2 } from '../shared/geometry.ts';
import { KARLSRUHE_OSM_PATH } from './bundled-maps.ts';
import { loadLanelet2, osmBoundsCentre } from './lanelet2.ts';
import { MapLoadError } from './map-errors.ts';

const xml = readFileSync(KARLSRUHE_OSM_PATH, 'utf8');
const map = loadLanelet2(xml, { origin: osmBoundsCentre(xml) });

/** Expect `actual` within `fraction` of `expected`. */
function near(actual: number | undefined, expected: number, fraction: number): void {
  expect(actual).toBeDefined();
  expect(Math.abs(actual! - expected)).toBeLessThanOrEqual(expected * fraction);
}

describe('loadLanelet2 on the Karlsruhe map', () => {
  it('matches the README totals per class', () => {
    const t = map.totals;
    near(t['lane_divider/dashed']?.lengthM, 2980, 0.02);
    near(t['lane_divider/solid']?.lengthM, 1090, 0.02);
    near(t['lane_divider/mixed']?.lengthM, 35, 0.1);
    near(t['road_boundary/curb']?.lengthM, 6060, 0.02);
    near(t['road_boundary/road_border']?.lengthM, 8470, 0.02);
    near(t['road_boundary/barrier']?.lengthM, 3530, 0.02);
    near(t['stop_line']?.lengthM, 190, 0.05);
    // Crosswalks: the marking lines that became areas (one lone line is left out).
    near(t['crosswalk']?.lengthM, 620, 0.05);
    expect((t['traffic_sign']?.count ?? 0) + (t['traffic_light']?.count ?? 0)).toBe(21);
    expect(t['traffic_light']?.count).toBe(10);
    expect(t['stop_line']?.count).toBe(28);
    // 14 from lanelets bounded by marking lines, 20 from paired free side lines.
    expect(t['crosswalk']?.count).toBe(34);
  });

  it('sums the totals from the primitives themselves', () => {
    const dashed = map.primitives.filter((p) => p.cls === 'lane_divider' && p.style === 'dashed');
    near(dashed.reduce((s, p) => s + polylineLengthM(p.points), 0), 2980, 0.02);
    const barriers = map.primitives.filter((p) => p.cls === 'road_boundary' && p.kind === 'barrier');
    expect(new Set(barriers.map((p) => p.sourceType))).toEqual(new Set(['wall', 'fence', 'guard_rail']));
  });

  it('leaves virtual lines and unknown paint out', () => {
    expect(map.primitives.some((p) => p.sourceType === 'virtual')).toBe(false);
    expect(map.primitives.some((p) => p.sourceType === 'bike_marking' || p.sourceType === 'zig-zag')).toBe(false);
    const virtualM = Object.entries(map.unmapped)
      .filter(([k]) => k.startsWith('virtual/'))
      .reduce((s, [, v]) => s + v.lengthM, 0);
    near(virtualM, 2350, 0.03);
  });

  it('gives each class its geometry and attributes', () => {
    const ids = new Set<string>();
    for (const p of map.primitives) {
      expect(ids.has(p.id), `duplicate id ${p.id}`).toBe(false);
      ids.add(p.id);
      if (p.cls === 'traffic_sign' || p.cls === 'traffic_light') expect(p.points).toHaveLength(1);
      else if (p.cls === 'crosswalk') expect(p.points.length).toBeGreaterThanOrEqual(3);
      else expect(p.points.length).toBeGreaterThanOrEqual(2);
      if (p.cls === 'lane_divider') expect(['solid', 'dashed', 'mixed']).toContain(p.style);
      if (p.cls === 'road_boundary') expect(['curb', 'road_border', 'barrier']).toContain(p.kind);
    }
    const signCodes = map.primitives.filter((p) => p.cls === 'traffic_sign').map((p) => p.signCode);
    expect(signCodes).toContain('de205');
    expect(signCodes).toContain('de301');
    // Every crossing is a proper area a few metres wide.
    for (const c of map.primitives.filter((p) => p.cls === 'crosswalk')) expect(ringAreaM2(c.points)).toBeGreaterThan(5);
  });

  it('projects into the explicit origin frame', () => {
    const centre = osmBoundsCentre(xml);
    expect(centre.lat).toBeCloseTo(49.0065, 2);
    expect(centre.lng).toBeCloseTo(8.435, 2);
    expect(map.frame.origin).toEqual(centre);
    // Node 38992 (first in the file) at 49.00345654351 N, 8.42427590707 E.
    const [e, n] = map.frame.toLocal({ lat: 49.00345654351, lng: 8.42427590707 });
    const all = map.primitives.flatMap((p) => p.points).concat(map.lanelets.flatMap((l) => l.left));
    expect(all.some((p) => Math.hypot(p[0] - e, p[1] - n) < 1e-6)).toBe(true);
  });

  it('requires an origin, with a clear message', () => {
    expect(() => loadLanelet2(xml, {} as never)).toThrow(/origin is required/);
    expect(() => loadLanelet2(xml, undefined as never)).toThrow(MapLoadError);
    expect(() => loadLanelet2(xml, { origin: { lng: 200, lat: 49 } })).toThrow(/opts.origin.lng/);
  });

  it('builds lanelets with consistent direction, successors and neighbours', () => {
    expect(map.lanelets.length).toBe(371);
    const vehicle = map.lanelets.filter((l) => l.vehicle);
    expect(vehicle.length).toBeGreaterThan(300);
    let withSuccessor = 0;
    for (const l of map.lanelets) {
      expect(l.lengthM).toBeGreaterThan(0);
      for (const s of l.successorIds) {
        const next = map.laneletById.get(s);
        expect(next).toBeDefined();
        expect(next!.startNodeIds).toEqual(l.endNodeIds);
      }
      if (l.successorIds.length > 0) withSuccessor++;
      // The left bound lies to the left of the direction of travel.
      const mid = l.left[Math.floor(l.left.length / 2)]!;
      expect(projectOntoPolyline(mid, l.centreline).lateralM).toBeGreaterThanOrEqual(-0.05);
      if (l.leftNeighbourId) expect(map.laneletById.get(l.leftNeighbourId)!.rightNeighbourId).toBe(l.id);
    }
    expect(withSuccessor / map.lanelets.length).toBeGreaterThan(0.7);
  });
});

// --- synthetic maps -----------------------------------------------------------------------

const LAT0 = 49;
const LNG0 = 8;
const M_PER_DEG_LAT = 111_200;
const M_PER_DEG_LNG = 111_200 * Math.cos((LAT0 * Math.PI) / 180);

function node(id: number, eastM: number, northM: number): string {
  return `<node id='${id}' lat='${LAT0 + northM / M_PER_DEG_LAT}' lon='${LNG0 + eastM / M_PER_DEG_LNG}' />`;
}
function way(id: number, refs: number[], tags: Record<string, string>): string {
  return `<way id='${id}'>${refs.map((r) => `<nd ref='${r}' />`).join('')}${Object.entries(tags)
    .map(([k, v]) => `<tag k='${k}' v='${v}' />`)
    .join('')}</way>`;
}
function lanelet(id: number, left: number, right: number): string {
  return `<relation id='${id}'><member type='way' ref='${left}' role='left' /><member type='way' ref='${right}' role='right' /><tag k='type' v='lanelet' /><tag k='subtype' v='road' /></relation>`;
}
function osm(body: string[]): string {
  return `<?xml version='1.0' encoding='UTF-8'?>\n<osm version='0.6'>\n${body.join('\n')}\n</osm>`;
}

/** Two lanelets heading east, 3.5 m wide, x 0..50 and 50..100; bounds drawn in mixed directions. */
function twoLanelets(extra: string[] = []): string {
  return osm([
    node(1, 0, 3.5), node(2, 50, 3.5), node(3, 100, 3.5),
    node(4, 0, 0), node(5, 50, 0), node(6, 100, 0),
    way(10, [1, 2], { type: 'line_thin', subtype: 'dashed' }),
    way(11, [3, 2], { type: 'line_thin', subtype: 'solid' }), // drawn westwards
    way(12, [5, 4], { type: 'curbstone', subtype: 'high' }), // drawn westwards
    way(13, [6, 5], { type: 'virtual' }),
    lanelet(100, 10, 12),
    lanelet(101, 11, 13),
    ...extra,
  ]);
}

describe('loadLanelet2 on synthetic maps', () => {
  const origin = { lat: LAT0, lng: LNG0 };

  it('orients bounds and links successors whatever direction ways are drawn in', () => {
    const m = loadLanelet2(twoLanelets(), { origin });
    expect(m.errors).toEqual([]);
    const a = m.laneletById.get('100')!;
    const b = m.laneletById.get('101')!;
    expect(a.successorIds).toEqual(['101']);
    expect(b.successorIds).toEqual([]);
    // Both are driven eastwards: the left bound (north, y = 3.5) is on the left.
    expect(a.centreline[0]![0]).toBeLessThan(a.centreline[a.centreline.length - 1]![0]);
    expect(b.centreline[0]![0]).toBeLessThan(b.centreline[b.centreline.length - 1]![0]);
    expect(a.centreline[0]![1]).toBeCloseTo(1.75, 1);
    expect(a.lengthM).toBeCloseTo(50, 0);
    expect(m.primitives.map((p) => p.id).sort()).toEqual(['10', '11', '12']);
  });

  it('collects problems and goes on; strict mode throws', () => {
    const text = twoLanelets([way(20, [1, 999], { type: 'line_thin', subtype: 'solid' }), lanelet(102, 10, 777)]);
    const m = loadLanelet2(text, { origin });
    expect(m.errors.map((e) => e.code).sort()).toEqual(['degenerate_geometry', 'missing_reference', 'missing_reference']);
    expect(m.errors.some((e) => e.element === 'way 20' && /node 999/.test(e.message))).toBe(true);
    expect(m.laneletById.has('102')).toBe(false);
    expect(() => loadLanelet2(text, { origin, strict: true })).toThrow(/node 999/);
  });

  it('names the side a lanelet lacks or misses', () => {
    const onlyLeft = `<relation id='103'><member type='way' ref='10' role='left' /><tag k='type' v='lanelet' /></relation>`;
    const m = loadLanelet2(twoLanelets([onlyLeft, lanelet(104, 10, 777)]), { origin });
    expect(m.errors.find((e) => e.element === 'relation 103')).toMatchObject({ code: 'incomplete_lanelet', message: 'lanelet lacks its right way member' });
    expect(m.errors.find((e) => e.element === 'relation 104')).toMatchObject({ code: 'missing_reference', message: 'lanelet references a missing right way 777' });
  });

  it('throws when nothing usable remains', () => {
    expect(() => loadLanelet2('<html></html>', { origin })).toThrow(/no <osm> root/);
    expect(() => loadLanelet2(osm([]), { origin })).toThrow(MapLoadError);
    expect(() => loadLanelet2(osm([node(1, 0, 0), node(2, 5, 0), way(3, [1, 2], { type: 'virtual' })]), { origin })).toThrow(/no map primitives and no lanelets/);
  });

  it('pairs crossing markings into areas and uses bounds or node extent for the centre', () => {
    const text = osm([
      node(1, 0, 0), node(2, 0, 8), node(3, 4, 0), node(4, 4, 8),
      way(10, [1, 2], { type: 'pedestrian_marking' }),
      way(11, [4, 3], { type: 'pedestrian_marking' }),
    ]);
    const m = loadLanelet2(text, { origin });
    const cw = m.primitives.filter((p) => p.cls === 'crosswalk');
    expect(cw).toHaveLength(1);
    expect(cw[0]!.points).toHaveLength(4);
    expect(ringAreaM2(cw[0]!.points)).toBeCloseTo(32, 0);
    const c = osmBoundsCentre(text);
    expect(c.lat).toBeCloseTo(LAT0 + 4 / M_PER_DEG_LAT, 8);
    const withBounds = text.replace("<osm version='0.6'>", "<osm version='0.6'><bounds minlat='48' minlon='7' maxlat='50' maxlon='9' />");
    expect(osmBoundsCentre(withBounds)).toEqual({ lat: 49, lng: 8 });
  });
});
