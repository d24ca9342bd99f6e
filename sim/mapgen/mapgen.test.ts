import { describe, expect, it } from 'vitest';
import { planFleet } from '../fleet.ts';
import { buildLaneletGraph } from '../lanelet-graph.ts';
import { loadLanelet2, osmBoundsCentre, type Lanelet2Map } from '../lanelet2.ts';
import { generateMap, LAYOUTS, type GenerateMapOptions, type Layout } from './index.ts';

const BOUNDARY_TYPES = new Set(['curbstone', 'road_border', 'guard_rail']);

function load(o: GenerateMapOptions): Lanelet2Map {
  const { osmXml } = generateMap(o);
  return loadLanelet2(osmXml, { origin: osmBoundsCentre(osmXml) });
}

/** Primitive classes each layout must hold (besides dividers, boundaries, stop lines, signs). */
const EXPECTED: Record<Layout, string[]> = {
  grid: ['road_boundary/curb', 'traffic_light'],
  suburban: ['road_boundary/road_border'],
  roundabout: ['road_boundary/curb', 'crosswalk'],
  multilane: ['road_boundary/curb', 'traffic_light', 'crosswalk'],
  mixed: ['road_boundary/curb', 'road_boundary/road_border', 'traffic_light', 'crosswalk'],
};

describe.each(LAYOUTS.map((l) => [l]))('generateMap layout %s', (layout) => {
  const seed = 7;
  const map = load({ seed, layout });

  it('loads without problems, with every expected class', () => {
    expect(map.errors).toEqual([]);
    for (const key of ['lane_divider/solid', 'lane_divider/dashed', 'stop_line', 'traffic_sign', ...EXPECTED[layout]]) {
      expect(map.totals[key]?.count ?? 0, key).toBeGreaterThan(0);
    }
  });

  it('has a closed lanelet graph of 5-15 km over 0.4-1.5 km', () => {
    const graph = buildLaneletGraph(map, { bridges: false });
    expect(graph.nodes.filter((n) => n.successors.length === 0)).toEqual([]);
    const laneKm = map.lanelets.reduce((s, l) => s + l.lengthM, 0) / 1000;
    expect(laneKm).toBeGreaterThan(5);
    expect(laneKm).toBeLessThan(15);
    const xs = map.primitives.flatMap((p) => p.points.map((q) => q[0]));
    const ys = map.primitives.flatMap((p) => p.points.map((q) => q[1]));
    const spanM = Math.max(Math.max(...xs) - Math.min(...xs), Math.max(...ys) - Math.min(...ys));
    expect(spanM).toBeGreaterThan(400);
    expect(spanM).toBeLessThan(1500);
  });

  it('can be driven by a fleet for 1.5 km without connectors', () => {
    const plan = planFleet(map, { vehicles: 2, drivesPerVehicle: 1, driveLengthM: 1500, seed });
    for (const d of plan.drives) {
      expect(d.route.reachedTarget).toBe(true);
      expect(d.route.connectors).toEqual([]);
      expect(d.route.lengthM).toBeGreaterThanOrEqual(1500);
    }
  });

  it('drives on the left in left-hand traffic', () => {
    const side = (m: Lanelet2Map): { left: number; right: number } => {
      let left = 0;
      let right = 0;
      for (const l of m.lanelets) {
        if (BOUNDARY_TYPES.has(l.leftBound.type)) left++;
        if (BOUNDARY_TYPES.has(l.rightBound.type)) right++;
      }
      return { left, right };
    };
    const rht = side(map);
    const lht = side(load({ seed, layout, trafficSide: 'left' }));
    expect(rht.right).toBeGreaterThan(rht.left);
    expect(lht.left).toBeGreaterThan(lht.right);
    expect(lht).toEqual({ left: rht.right, right: rht.left });
  });
});

describe('generateMap', () => {
  it('is a pure function of its options', () => {
    const a = generateMap({ seed: 3, layout: 'grid' });
    expect(generateMap({ seed: 3, layout: 'grid' }).osmXml).toBe(a.osmXml);
    expect(generateMap({ seed: 4, layout: 'grid' }).osmXml).not.toBe(a.osmXml);
    expect(a.name).toBe('mapgen-grid-s3-rht');
  });

  it('writes yellow and white paint, kerbs, road borders and guard rails across layouts', () => {
    const xml = LAYOUTS.map((layout) => generateMap({ seed: 11, layout }).osmXml).join('');
    for (const tag of ["v='yellow'", "v='white'", "v='solid_solid'", "v='curbstone'", "v='road_border'", "v='guard_rail'", "v='pedestrian_marking'", "v='de206'", "v='de205'", "v='de274'", "v='traffic_light'", "v='virtual'"]) {
      expect(xml, tag).toContain(tag);
    }
  });

  it('places the map around the requested origin', () => {
    const { osmXml } = generateMap({ seed: 1, layout: 'suburban', originLat: -33.87, originLng: 151.21, trafficSide: 'left' });
    const c = osmBoundsCentre(osmXml);
    expect(c.lat).toBeCloseTo(-33.87, 2);
    expect(c.lng).toBeCloseTo(151.21, 2);
  });

  it('refuses bad options, naming the field and value', () => {
    expect(() => generateMap({ seed: 1.5 })).toThrow(/seed must be an integer, got 1.5/);
    expect(() => generateMap({ seed: 1, layout: 'spiral' as Layout })).toThrow(/layout must be one of .*got "spiral"/);
    expect(() => generateMap({ seed: 1, trafficSide: 'middle' as 'left' })).toThrow(/trafficSide must be right\|left, got "middle"/);
    expect(() => generateMap({ seed: 1, originLat: 95 })).toThrow(/originLat must be in \[-80, 80\] degrees, got 95/);
  });
});

describe('a generated map across the antimeridian', () => {
  const origin = { lat: -16.8, lng: 179.9995 };
  const g = generateMap({ seed: 3, layout: 'grid', originLat: origin.lat, originLng: origin.lng });
  const far = (xml: string): number => {
    const map = loadLanelet2(xml, { origin: osmBoundsCentre(xml) });
    return Math.max(...map.primitives.flatMap((p) => p.points.map(([x, y]) => Math.hypot(x, y))));
  };

  it('writes its box across 180 deg and loads around its origin, not on the other side of the Earth', () => {
    const lons = [...g.osmXml.matchAll(/lon='([-\d.]+)'/g)].map((m) => Number(m[1]));
    expect(lons.some((v) => v > 179.99) && lons.some((v) => v < -179.99)).toBe(true);
    const b = /<bounds minlat='[-\d.]+' minlon='([-\d.]+)' maxlat='[-\d.]+' maxlon='([-\d.]+)'/.exec(g.osmXml)!;
    expect(Number(b[1])).toBeGreaterThan(Number(b[2]));
    const c = osmBoundsCentre(g.osmXml);
    expect(Math.abs(c.lng - origin.lng)).toBeLessThan(0.01);
    expect(far(g.osmXml)).toBeLessThan(2000);
  });

  it('loads the same when its <bounds> say -180 to 180 (min and max longitude) or are missing', () => {
    const naive = g.osmXml.replace(/minlon='[-\d.]+'/, "minlon='-179.99999000'").replace(/maxlon='[-\d.]+'/, "maxlon='179.99999000'");
    const none = g.osmXml.replace(/\s*<bounds [^>]*\/>/, '');
    for (const xml of [naive, none]) {
      expect(Math.abs(osmBoundsCentre(xml).lng - osmBoundsCentre(g.osmXml).lng)).toBeLessThan(1e-6);
      expect(far(xml)).toBeLessThan(2000);
    }
  });
});
