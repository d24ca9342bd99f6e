/**
 * Where a Lanelet2 file's nodes lie: lat/lon as written, local_x / local_y with an explicit origin
 * (Autoware's local projection), blank coordinates never read as 0, stray nodes dropped; and a
 * single-lanelet ring that a drive can go round, a bounded number of times.
 */
import { describe, expect, it } from 'vitest';
import { LocalFrame, type LngLat } from '../shared/geo.ts';
import { ringRoadOsm } from '../test/fixtures/ring-road.ts';
import { parseMapOrigin } from './bundled-maps.ts';
import { buildLaneletGraph } from './lanelet-graph.ts';
import { loadLanelet2, osmBoundsCentre, type Lanelet2Map } from './lanelet2.ts';
import { MapLoadError } from './map-errors.ts';
import { MAX_NODE_SPREAD_M, parseOsmXml } from './osm-xml.ts';
import { MAX_PASSES_PER_DRIVE, planRoute } from './routes.ts';
import { Rng } from './rng.ts';

const load = (xml: string, localOrigin?: LngLat): Lanelet2Map => {
  const doc = parseOsmXml(xml, localOrigin ? { localOrigin } : {});
  return loadLanelet2(doc, { origin: osmBoundsCentre(doc) });
};

/** The ring road with every node's lat/lon blanked and its position in local_x / local_y from `origin`. */
function localOnly(xml: string, origin: LngLat): string {
  const frame = new LocalFrame(origin);
  return xml.replace(/<node id='(\d+)' visible='true' version='1' lat='([-\d.]+)' lon='([-\d.]+)' \/>/g, (_m, id: string, lat: string, lon: string) => {
    const [x, y] = frame.toLocal({ lat: Number(lat), lng: Number(lon) });
    return `<node id='${id}' lat='' lon=''><tag k='local_x' v='${x.toFixed(4)}'/><tag k='local_y' v='${y.toFixed(4)}'/><tag k='ele' v='1.5'/></node>`;
  });
}

describe('node positions', () => {
  const xml = ringRoadOsm();
  const truth = load(xml);

  it('places local_x / local_y nodes from the given origin: the same map as the lat/lon file, to the millimetre', () => {
    const origin = { lat: 48.7791, lng: 9.1812 }; // near the map, not its centre
    const local = localOnly(xml, origin);
    expect(local).not.toContain("lat='48");
    const m = load(local, origin);
    expect(m.errors).toEqual(truth.errors);
    expect(m.primitives.map((p) => p.id)).toEqual(truth.primitives.map((p) => p.id));
    expect(m.lanelets.length).toBe(truth.lanelets.length);
    let worstM = 0;
    for (let i = 0; i < truth.primitives.length; i++) {
      const a = truth.primitives[i]!.points;
      const b = m.primitives[i]!.points;
      expect(b.length).toBe(a.length);
      a.forEach((p, k) => {
        // compare on the ground: each map's frame back to WGS84, then into one frame
        const pa = truth.frame.toLocal(truth.frame.toLngLat(p));
        const pb = truth.frame.toLocal(m.frame.toLngLat(b[k]!));
        worstM = Math.max(worstM, Math.hypot(pa[0] - pb[0], pa[1] - pb[1]));
      });
    }
    expect(worstM).toBeLessThan(0.001);
  });

  it('refuses a local-only file without an origin, naming the flag, and never puts its nodes at 0,0', () => {
    const local = localOnly(xml, { lat: 48.78, lng: 9.18 });
    const doc = parseOsmXml(local);
    expect(doc.localOnlyNodes).toBeGreaterThan(100);
    expect(doc.nodes.size).toBe(0);
    expect(() => osmBoundsCentre(doc)).toThrow(MapLoadError);
    expect(() => osmBoundsCentre(doc)).toThrow(/no lat\/lon, only local_x\/local_y.*--map-origin LAT,LON/);
    expect(() => loadLanelet2(doc, { origin: { lat: 48.78, lng: 9.18 } })).toThrow(/--map-origin/);
  });

  it('reads blank lat/lon without local coordinates as a malformed node, not as 0,0', () => {
    const blank = xml.replace(/<node id='1' visible='true' version='1' lat='[-\d.]+' lon='[-\d.]+' \/>/, "<node id='1' lat='' lon=' ' />");
    const doc = parseOsmXml(blank);
    expect(doc.nodes.has('1')).toBe(false);
    expect(doc.problems).toContainEqual(expect.objectContaining({ code: 'malformed_element', element: 'node 1' }));
    const m = loadLanelet2(doc, { origin: osmBoundsCentre(doc) });
    expect(m.bounds.south).toBeGreaterThan(48);
    expect(m.primitives.length).toBeGreaterThan(0);
  });

  it('drops a stray node far from the rest (at 0,0) and loads the map around it as before', () => {
    const stray = xml.replace(/<node id='1' visible='true' version='1' lat='[-\d.]+' lon='[-\d.]+' \/>/, "<node id='1' lat='0' lon='0' />");
    const doc = parseOsmXml(stray);
    expect(doc.nodes.has('1')).toBe(false);
    const p = doc.problems.find((q) => q.code === 'implausible_position');
    expect(p?.element).toBe('node 1');
    expect(p?.message).toMatch(/km from the map's median position/);
    const m = loadLanelet2(doc, { origin: osmBoundsCentre(doc) });
    expect(m.bounds.west).toBeGreaterThan(9.1);
    expect(m.bounds.south).toBeGreaterThan(48.7);
    // every way through the stray node lost only that vertex: no primitive is longer than the ring
    for (const q of m.primitives) {
      let lengthM = 0;
      for (let k = 1; k < q.points.length; k++) lengthM += Math.hypot(q.points[k]![0] - q.points[k - 1]![0], q.points[k]![1] - q.points[k - 1]![1]);
      expect(lengthM).toBeLessThan(1000);
    }
  });

  it('keeps a map whose nodes spread less than the limit, across the antimeridian too', () => {
    const nodes = (lons: number[]): string =>
      `<osm version='0.6'>${lons.map((lon, i) => `<node id='${i + 1}' lat='-16.5' lon='${lon}' />`).join('')}</osm>`;
    const near = parseOsmXml(nodes([179.99, 179.995, -179.995, -179.99]));
    expect(near.nodes.size).toBe(4);
    expect(near.problems).toEqual([]);
    // 1.5 degrees of longitude at 16.5 S are about 160 km: the far one goes
    const far = parseOsmXml(nodes([179.99, 179.995, -179.995, -178.5]));
    expect(MAX_NODE_SPREAD_M).toBeLessThan(160_000);
    expect(far.nodes.size).toBe(3);
    expect(far.problems.map((q) => q.code)).toEqual(['implausible_position']);
  });

  it('parses --map-origin as LAT,LON and refuses anything else with one clear line', () => {
    expect(parseMapOrigin('--map-origin', '35.2379,139.9009')).toEqual({ lat: 35.2379, lng: 139.9009 });
    expect(parseMapOrigin('--map-origin', ' -33.9 , 151.2 ')).toEqual({ lat: -33.9, lng: 151.2 });
    for (const bad of ['', '35.2', '35.2,', ',139.9', '95,10', '10,190', 'a,b', '1,2,3']) {
      expect(() => parseMapOrigin('--map-origin', bad)).toThrow(/--map-origin must be LAT,LON/);
    }
  });
});

/** One one-way lanelet going round a circle of `radiusM` (left bound inside), open by `gapDeg` (0: closed on its first nodes). */
function ringLaneletOsm(gapDeg: number): string {
  const lat0 = 35.0;
  const lon0 = 139.0;
  const mPerDegLat = 111_000;
  const mPerDegLon = 111_000 * Math.cos((lat0 * Math.PI) / 180);
  const nodes: string[] = [];
  const bound = (radiusM: number, first: number): number[] => {
    const ids: number[] = [];
    const n = 72;
    const span = 360 - gapDeg;
    const count = gapDeg === 0 ? n : n + 1;
    for (let k = 0; k < count; k++) {
      const a = ((span * k) / n) * (Math.PI / 180);
      const id = first + k;
      nodes.push(`<node id='${id}' lat='${lat0 + (radiusM * Math.sin(a)) / mPerDegLat}' lon='${lon0 + (radiusM * Math.cos(a)) / mPerDegLon}' />`);
      ids.push(id);
    }
    return gapDeg === 0 ? [...ids, ids[0]!] : ids;
  };
  const inner = bound(60, 1000);
  const outer = bound(63.5, 2000);
  const way = (id: number, refs: number[]): string => `<way id='${id}'>${refs.map((r) => `<nd ref='${r}' />`).join('')}<tag k='type' v='line_thin' /><tag k='subtype' v='solid' /></way>`;
  // counter-clockwise: the inner circle is on the left
  return `<osm version='0.6'>${nodes.join('')}${way(1, inner)}${way(2, outer)}<relation id='9'><member type='way' ref='1' role='left' /><member type='way' ref='2' role='right' /><tag k='type' v='lanelet' /><tag k='subtype' v='road' /><tag k='one_way' v='yes' /></relation></osm>`;
}

describe('a ring of one lanelet', () => {
  it('continues into itself when its bounds close on their first nodes, and a drive goes round it', () => {
    const m = load(ringLaneletOsm(0));
    expect(m.lanelets.length).toBe(1);
    const g = buildLaneletGraph(m);
    expect(g.nodes.length).toBe(1);
    expect(g.nodes[0]!.successors).toEqual([{ to: 0, connector: null }]);
    const r = planRoute(g, new Rng(3), { targetLengthM: 1500 });
    expect(r.lengthM).toBeGreaterThanOrEqual(1500);
  });

  it('is bridged from its end to its own start across a small gap', () => {
    const m = load(ringLaneletOsm(5)); // about 5.4 m open
    const g = buildLaneletGraph(m);
    expect(g.nodes[0]!.successors.map((s) => s.to)).toEqual([0]);
    expect(g.nodes[0]!.successors[0]!.connector?.lengthM).toBeGreaterThan(3);
    expect(planRoute(g, new Rng(3), { targetLengthM: 1500 }).lengthM).toBeGreaterThanOrEqual(1500);
  });

  it('is entered at most maxPassesPerDrive times by one drive: a long drive on a small map ends short instead of circling', () => {
    const g = buildLaneletGraph(load(ringLaneletOsm(0)));
    const capped = planRoute(g, new Rng(3), { targetLengthM: 20_000 });
    expect(capped.laneletIds.length).toBe(MAX_PASSES_PER_DRIVE);
    expect(capped.reachedTarget).toBe(false);
    expect(planRoute(g, new Rng(3), { targetLengthM: 20_000, maxPassesPerDrive: 2 }).laneletIds.length).toBe(2);
    const free = planRoute(g, new Rng(3), { targetLengthM: 20_000, maxPassesPerDrive: Infinity });
    expect(free.reachedTarget).toBe(true);
    expect(free.laneletIds.length).toBeGreaterThan(MAX_PASSES_PER_DRIVE);
    expect(() => planRoute(g, new Rng(3), { maxPassesPerDrive: 0 })).toThrow(/maxPassesPerDrive/);
  });

  it('is never bridged from one direction of a two-way lanelet into its other direction', () => {
    const m = load(ringLaneletOsm(5).replace("v='yes'", "v='no'"));
    const g = buildLaneletGraph(m);
    expect(g.nodes.length).toBe(2);
    for (const n of g.nodes) for (const s of n.successors) expect(s.to).toBe(n.index);
  });
});
