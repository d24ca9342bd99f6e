import { describe, expect, it } from 'vitest';
import { ringAreaM2 } from '../../shared/geometry.ts';
import type { XY } from '../../shared/schema.ts';
import { pointInRing } from '../../shared/geometry.ts';
import { loadLanelet2, osmBoundsCentre, type Lanelet2Map } from '../lanelet2.ts';
import { parseOsmXml } from '../osm-xml.ts';
import { CROSSWALK_STYLES, generateMap, type GenerateMapOptions } from './index.ts';

function generateAndLoad(o: GenerateMapOptions): { map: Lanelet2Map; xml: string; stats: ReturnType<typeof generateMap>['stats'] } {
  const g = generateMap(o);
  return { map: loadLanelet2(g.osmXml, { origin: osmBoundsCentre(g.osmXml) }), xml: g.osmXml, stats: g.stats };
}

/** Vertices of every way tagged `type=typeValue`, in the map's frame. */
function waysOfType(xml: string, map: Lanelet2Map, typeValue: string): XY[][] {
  const doc = parseOsmXml(xml);
  return [...doc.ways.values()]
    .filter((w) => w.tags.type === typeValue)
    .map((w) => w.nodeIds.map((id) => map.frame.toLocal({ lng: doc.nodes.get(id)!.lon, lat: doc.nodes.get(id)!.lat })));
}

function covered(p: XY, ring: readonly XY[], tolM = 0.01): boolean {
  if (pointInRing(p, ring)) return true;
  for (let i = 0; i < ring.length; i++) {
    const a = ring[i]!;
    const b = ring[(i + 1) % ring.length]!;
    const dx = b[0] - a[0];
    const dy = b[1] - a[1];
    const t = Math.max(0, Math.min(1, ((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / (dx * dx + dy * dy)));
    if (Math.hypot(a[0] + t * dx - p[0], a[1] + t * dy - p[1]) <= tolM) return true;
  }
  return false;
}

describe('generated maps in every crosswalk and stop-line convention', () => {
  it.each(CROSSWALK_STYLES.map((s) => [s]))('crossings drawn as %s load as one crosswalk each', (crosswalkStyle) => {
    for (const trafficSide of ['right', 'left'] as const) {
      const { map, stats } = generateAndLoad({ seed: 7, layout: 'mixed', crosswalkStyle, trafficSide });
      expect(map.errors).toEqual([]);
      expect(stats.crosswalks).toBeGreaterThan(3);
      expect(map.totals['crosswalk']?.count).toBe(stats.crosswalks);
    }
  });

  it('clusters stripe-by-stripe crossings: one polygon per crossing, covering every stripe', () => {
    const { map, xml, stats } = generateAndLoad({ seed: 7, layout: 'multilane', crosswalkStyle: 'stripes' });
    const stripes = waysOfType(xml, map, 'zebra_marking');
    expect(stripes.length).toBeGreaterThan(5 * stats.crosswalks); // many ways, few crossings
    const crosswalks = map.primitives.filter((p) => p.cls === 'crosswalk');
    expect(crosswalks).toHaveLength(stats.crosswalks);
    for (const s of stripes) {
      const hosts = crosswalks.filter((c) => s.every((v) => covered(v, c.points)));
      expect(hosts, `stripe at ${s[0]!.map((v) => v.toFixed(1))}`).toHaveLength(1);
    }
    // Every crossing is about as wide as the road and as deep as the bars (4 m).
    for (const c of crosswalks) expect(ringAreaM2(c.points)).toBeGreaterThan(4 * 5);
  });

  it('absorbs stripes inside a crosswalk lanelet with virtual bounds into that one crosswalk', () => {
    const { map, xml, stats } = generateAndLoad({ seed: 7, layout: 'grid', crosswalkStyle: 'lanelet_stripes' });
    const crosswalks = map.primitives.filter((p) => p.cls === 'crosswalk');
    expect(crosswalks).toHaveLength(stats.crosswalks);
    expect(crosswalks.every((c) => map.laneletById.get(c.id)?.subtype === 'crosswalk')).toBe(true);
    for (const s of waysOfType(xml, map, 'zebra_marking')) expect(crosswalks.some((c) => s.every((v) => covered(v, c.points, 0.05)))).toBe(true);
  });

  it('loads a crosswalk lanelet bounded by its two side lines as one polygon between them', () => {
    const { map, stats } = generateAndLoad({ seed: 7, layout: 'grid', crosswalkStyle: 'lanelet' });
    const crosswalks = map.primitives.filter((p) => p.cls === 'crosswalk');
    expect(crosswalks).toHaveLength(stats.crosswalks);
    for (const c of crosswalks) {
      const l = map.laneletById.get(c.id)!;
      expect(l.subtype).toBe('crosswalk');
      expect(l.vehicle).toBe(false);
      expect(l.leftBound.type).toBe('pedestrian_marking');
      expect(ringAreaM2(c.points)).toBeCloseTo(4 * (l.lengthM), -1); // 4 m deep, road wide
    }
  });

  it('keeps per-lane stop lines that touch as separate stop lines', () => {
    const { map, stats } = generateAndLoad({ seed: 7, layout: 'multilane', stopLineStyle: 'per_lane' });
    const lines = map.primitives.filter((p) => p.cls === 'stop_line');
    expect(lines).toHaveLength(stats.stopLines);
    let touching = 0;
    for (let i = 0; i < lines.length; i++) {
      for (let j = i + 1; j < lines.length; j++) {
        const a = lines[i]!.points;
        const b = lines[j]!.points;
        if ([a[0]!, a[a.length - 1]!].some((p) => [b[0]!, b[b.length - 1]!].some((q) => Math.hypot(p[0] - q[0], p[1] - q[1]) < 0.01))) touching++;
      }
    }
    expect(touching).toBeGreaterThan(5);
    // Each is one lane wide.
    for (const l of lines) expect(Math.hypot(l.points[1]![0] - l.points[0]![0], l.points[1]![1] - l.points[0]![1])).toBeLessThan(3.6);
  });

  it('loads a stop line spanning all incoming lanes as one stop line', () => {
    const perLane = generateAndLoad({ seed: 7, layout: 'multilane', stopLineStyle: 'per_lane' });
    const spanning = generateAndLoad({ seed: 7, layout: 'multilane', stopLineStyle: 'spanning' });
    expect(spanning.map.totals['stop_line']?.count).toBe(spanning.stats.stopLines);
    expect(spanning.stats.stopLines).toBeLessThan(perLane.stats.stopLines);
    expect(spanning.map.totals['stop_line']!.lengthM).toBeCloseTo(perLane.map.totals['stop_line']!.lengthM, 0);
  });

  it('refuses unknown conventions, naming the field and value', () => {
    expect(() => generateMap({ seed: 1, crosswalkStyle: 'dots' as 'stripes' })).toThrow(/crosswalkStyle must be one of .*got "dots"/);
    expect(() => generateMap({ seed: 1, stopLineStyle: 'none' as 'per_lane' })).toThrow(/stopLineStyle must be one of .*got "none"/);
    expect(generateMap({ seed: 1, crosswalkStyle: 'stripes', stopLineStyle: 'spanning' }).name).toBe('mapgen-mixed-s1-rht-cw_stripes-sl_spanning');
  });
});
