/**
 * Hand-made OSM fixtures for the crosswalk and stop-line conventions of the Lanelet2 tagging
 * specification that the map generator does not draw (sim/mapgen/paint-conventions.test.ts
 * covers those it does).
 */
import { ringAreaM2 } from '../shared/geometry.ts';
import { describe, expect, it } from 'vitest';
import { LocalFrame } from '../shared/geo.ts';
import { polylineLengthM } from '../shared/geometry.ts';
import type { XY } from '../shared/schema.ts';
import { clusterStripes, stripeShape } from './crosswalk-stripes.ts';
import { pointInRing } from '../shared/geometry.ts';
import { loadLanelet2, type Lanelet2Map } from './lanelet2.ts';

const origin = { lat: 49, lng: 8 };
const frame = new LocalFrame(origin);

/** A tiny OSM document builder in metres east/north of (49 N, 8 E) (the loader's frame); ids count up from 1. */
class Fixture {
  private readonly lines: string[] = [];
  private next = 1;

  node(eastM: number, northM: number): number {
    const id = this.next++;
    const ll = frame.toLngLat([eastM, northM]);
    this.lines.push(`<node id='${id}' lat='${ll.lat}' lon='${ll.lng}' />`);
    return id;
  }

  /** A way through new nodes; `closed` repeats the first node at the end. */
  way(pts: readonly XY[], tags: Record<string, string>, closed = false): number {
    const ids = pts.map((p) => this.node(p[0], p[1]));
    return this.wayOf(closed ? [...ids, ids[0]!] : ids, tags);
  }

  wayOf(nodeIds: readonly number[], tags: Record<string, string>): number {
    const id = this.next++;
    this.lines.push(`<way id='${id}'>${nodeIds.map((r) => `<nd ref='${r}' />`).join('')}${tagsXml(tags)}</way>`);
    return id;
  }

  relation(members: ReadonlyArray<[type: 'way' | 'relation', ref: number, role: string]>, tags: Record<string, string>): number {
    const id = this.next++;
    this.lines.push(`<relation id='${id}'>${members.map(([t, r, role]) => `<member type='${t}' ref='${r}' role='${role}' />`).join('')}${tagsXml(tags)}</relation>`);
    return id;
  }

  lanelet(left: number, right: number, tags: Record<string, string> = {}): number {
    return this.relation([['way', left, 'left'], ['way', right, 'right']], { type: 'lanelet', subtype: 'road', ...tags });
  }

  load(): Lanelet2Map {
    return loadLanelet2(`<?xml version='1.0' encoding='UTF-8'?>\n<osm version='0.6'>\n${this.lines.join('\n')}\n</osm>`, { origin });
  }
}

function tagsXml(tags: Record<string, string>): string {
  return Object.entries(tags).map(([k, v]) => `<tag k='${k}' v='${v}' />`).join('');
}

/** A two-lane road running east along y = 0..7 (so the map has something besides paint). */
function road(f: Fixture, x0 = -20, x1 = 60): void {
  const a = f.way([[x0, 7], [x1, 7]], { type: 'curbstone', subtype: 'high' });
  const b = f.way([[x0, 0], [x1, 0]], { type: 'curbstone', subtype: 'high' });
  f.lanelet(a, b);
}

/** Zebra bars across the road at x0..x0+depth: one per metre of road width, 0.5 m wide. */
function stripes(f: Fixture, x0: number, tags: Record<string, string>, drawn: 'outline' | 'centre_line', depthM = 4): number[] {
  const ids: number[] = [];
  for (let y = 0.5; y <= 6.5; y += 1) {
    if (drawn === 'centre_line') ids.push(f.way([[x0, y], [x0 + depthM, y]], tags));
    else ids.push(f.way([[x0, y - 0.25], [x0 + depthM, y - 0.25], [x0 + depthM, y + 0.25], [x0, y + 0.25]], tags, true));
  }
  return ids;
}

const crosswalksOf = (m: Lanelet2Map) => m.primitives.filter((p) => p.cls === 'crosswalk');
const stopLinesOf = (m: Lanelet2Map) => m.primitives.filter((p) => p.cls === 'stop_line');

describe('crosswalk conventions', () => {
  it('zebra_marking bars drawn as outlines make one crosswalk per crossing, covering them', () => {
    const f = new Fixture();
    road(f);
    stripes(f, 0, { type: 'zebra_marking' }, 'outline');
    stripes(f, 30, { type: 'pedestrian_marking', area: 'yes' }, 'outline');
    const m = f.load();
    expect(m.errors).toEqual([]);
    const cw = crosswalksOf(m);
    expect(cw).toHaveLength(2);
    expect(m.totals['crosswalk']?.count).toBe(2);
    for (const c of cw) expect(ringAreaM2(c.points)).toBeCloseTo(4 * 6.5, 1);
    expect(cw.every((c) => c.id.split('+').length === 7)).toBe(true);
  });

  it('zebra_marking bars drawn as centre lines make one crosswalk, widened to the painted bars', () => {
    const f = new Fixture();
    road(f);
    stripes(f, 10, { type: 'zebra_marking' }, 'centre_line');
    const m = f.load();
    expect(m.errors).toEqual([]);
    const cw = crosswalksOf(m);
    expect(cw).toHaveLength(1);
    expect(ringAreaM2(cw[0]!.points)).toBeCloseTo(4 * 6.5, 1);
    expect(pointInRing([12, 3.5], cw[0]!.points)).toBe(true);
  });

  it('two zebra_marking side lines standing alone make one crosswalk', () => {
    const f = new Fixture();
    road(f);
    f.way([[10, 0], [10, 7]], { type: 'zebra_marking' });
    f.way([[14, 7], [14, 0]], { type: 'zebra_marking' });
    const cw = crosswalksOf(f.load());
    expect(cw).toHaveLength(1);
    expect(ringAreaM2(cw[0]!.points)).toBeCloseTo(28, 1);
  });

  it('a crosswalk lanelet with virtual bounds is one polygon between them; one between kerbs is a footway', () => {
    const f = new Fixture();
    road(f);
    const l = f.way([[10, -2], [10, 9]], { type: 'virtual' });
    const r = f.way([[14, -2], [14, 9]], { type: 'virtual' });
    const crossing = f.lanelet(l, r, { subtype: 'crosswalk', one_way: 'no' });
    const kl = f.way([[40, 9], [40, 20]], { type: 'curbstone', subtype: 'high' });
    const kr = f.way([[42, 9], [42, 20]], { type: 'wall' });
    f.lanelet(kl, kr, { subtype: 'crosswalk', one_way: 'no' });
    const m = f.load();
    const cw = crosswalksOf(m);
    expect(cw.map((c) => c.id)).toEqual([String(crossing)]);
    expect(ringAreaM2(cw[0]!.points)).toBeCloseTo(44, 1);
    expect(m.totals['crosswalk']).toEqual({ count: 1, lengthM: 0 }); // no paint lines among its bounds
  });

  it('bars inside a crosswalk lanelet or between side lines are the same crossing, not a second one', () => {
    const f = new Fixture();
    road(f);
    const l = f.way([[10, 0], [10, 7]], { type: 'virtual' });
    const r = f.way([[14, 0], [14, 7]], { type: 'virtual' });
    f.lanelet(l, r, { subtype: 'crosswalk', one_way: 'no' });
    stripes(f, 10, { type: 'zebra_marking' }, 'outline');
    f.way([[30, 0], [30, 7]], { type: 'pedestrian_marking' });
    f.way([[34, 0], [34, 7]], { type: 'pedestrian_marking' });
    stripes(f, 30, { type: 'zebra_marking' }, 'centre_line');
    const m = f.load();
    expect(m.errors).toEqual([]);
    expect(crosswalksOf(m)).toHaveLength(2);
    // The marking length counts the bars and side lines once each.
    expect(m.totals['crosswalk']!.lengthM).toBeCloseTo(7 * (2 * 4 + 2 * 0.5) + 14 + 7 * 4, 1);
  });

  it('a crosswalk area (multipolygon, subtype=crosswalk) is one polygon, bars inside it included', () => {
    const f = new Fixture();
    road(f);
    const a = f.node(10, 0);
    const b = f.node(14, 0);
    const c = f.node(14, 7);
    const d = f.node(10, 7);
    const w1 = f.wayOf([a, b, c], { type: 'virtual' });
    const w2 = f.wayOf([a, d, c], { type: 'virtual' }); // drawn the other way round
    const area = f.relation([['way', w1, 'outer'], ['way', w2, 'outer']], { type: 'multipolygon', subtype: 'crosswalk' });
    stripes(f, 10, { type: 'zebra_marking' }, 'outline');
    const m = f.load();
    expect(m.errors).toEqual([]);
    const cw = crosswalksOf(m);
    expect(cw.map((x) => x.id)).toEqual([String(area)]);
    expect(ringAreaM2(cw[0]!.points)).toBeCloseTo(28, 1);
  });

  it('a closed marking ring wider than a bar outlines a whole crossing', () => {
    const f = new Fixture();
    road(f);
    f.way([[10, 0], [14, 0], [14, 7], [10, 7]], { type: 'zebra_marking' }, true);
    const cw = crosswalksOf(f.load());
    expect(cw).toHaveLength(1);
    expect(ringAreaM2(cw[0]!.points)).toBeCloseTo(28, 1);
  });
});

describe('stop-line conventions', () => {
  it('per-lane stop lines that share a node stay separate; one spanning line is one', () => {
    const f = new Fixture();
    road(f);
    const n0 = f.node(50, 0);
    const n1 = f.node(50, 3.5);
    const n2 = f.node(50, 7);
    f.wayOf([n0, n1], { type: 'stop_line' });
    f.wayOf([n1, n2], { type: 'stop_line' });
    f.way([[20, 0], [20, 7]], { type: 'stop_line' });
    const lines = stopLinesOf(f.load());
    expect(lines).toHaveLength(3);
    expect(lines.map((l) => polylineLengthM(l.points)).sort((a, b) => a - b).map((v) => v.toFixed(1))).toEqual(['3.5', '3.5', '7.0']);
  });

  it('a stop line drawn as its outline becomes its centre line', () => {
    const f = new Fixture();
    road(f);
    f.way([[30, 0], [30.5, 0], [30.5, 7], [30, 7]], { type: 'stop_line' }, true);
    const m = f.load();
    const lines = stopLinesOf(m);
    expect(lines).toHaveLength(1);
    expect(lines[0]!.points).toHaveLength(2);
    expect(polylineLengthM(lines[0]!.points)).toBeCloseTo(7, 2);
    expect(lines[0]!.points[0]![0]).toBeCloseTo(30.25, 2);
    expect(m.totals['stop_line']!.lengthM).toBeCloseTo(7, 2);
  });

  it('a painted ref_line of a light, right of way or all-way stop is a stop line; a speed limit ref_line or a virtual one is not', () => {
    const f = new Fixture();
    road(f);
    const light = f.way([[52, -2], [52, -2.5]], { type: 'traffic_light', subtype: 'red_yellow_green' });
    const thick = f.way([[50, 0], [50, 7]], { type: 'line_thick', subtype: 'solid' });
    f.relation([['way', thick, 'ref_line'], ['way', light, 'refers']], { type: 'regulatory_element', subtype: 'traffic_light' });
    const virtualLine = f.way([[45, 0], [45, 7]], { type: 'virtual' });
    f.relation([['way', virtualLine, 'ref_line'], ['way', light, 'refers']], { type: 'regulatory_element', subtype: 'traffic_light' });
    const n0 = f.node(5, 0);
    const n1 = f.node(5, 3.5);
    const n2 = f.node(5, 7);
    const a = f.wayOf([n0, n1], { type: 'line_thin', subtype: 'solid' });
    const b = f.wayOf([n1, n2], {});
    f.relation([['way', a, 'ref_line'], ['way', b, 'ref_line']], { type: 'regulatory_element', subtype: 'all_way_stop' });
    const stop = f.way([[0, -2], [0, -2.6]], { type: 'traffic_sign', subtype: 'de206' });
    const signLine = f.way([[-5, 0], [-5, 7]], { type: 'line_thin', subtype: 'solid' });
    f.relation([['way', signLine, 'ref_line'], ['way', stop, 'refers']], { type: 'regulatory_element', subtype: 'traffic_sign' });
    const limit = f.way([[25, -2], [25, -2.6]], { type: 'traffic_sign', subtype: 'de274' });
    const limitLine = f.way([[25, 0], [25, 7]], { type: 'line_thin', subtype: 'solid' });
    f.relation([['way', limitLine, 'ref_line'], ['way', limit, 'refers']], { type: 'regulatory_element', subtype: 'speed_limit' });
    const m = f.load();
    expect(m.errors).toEqual([]);
    expect(stopLinesOf(m).map((p) => p.id).sort()).toEqual([a, b, signLine, thick].map(String).sort());
    expect(stopLinesOf(m).find((p) => p.id === String(thick))!.sourceType).toBe('line_thick');
    expect(m.primitives.find((p) => p.id === String(limitLine))!.cls).toBe('lane_divider');
    expect(m.primitives.some((p) => p.id === String(virtualLine))).toBe(false);
    expect(m.totals['stop_line']!.count).toBe(4);
  });
});

describe('clusterStripes', () => {
  it('groups bars side by side at a short pitch and separates crossings and crossed directions', () => {
    const bar = (x: number, y: number, vertical = false): XY[] =>
      vertical ? [[x, y], [x + 0.5, y], [x + 0.5, y + 4], [x, y + 4]] : [[x, y], [x + 4, y], [x + 4, y + 0.5], [x, y + 0.5]];
    const shapes = [bar(0, 0), bar(0, 1), bar(0, 2), bar(10, 0), bar(10, 1), bar(0, 3.2, true), bar(0, 10)].map((b) => stripeShape(b, true));
    expect(shapes[0]!.lengthM).toBeCloseTo(4, 6);
    expect(shapes[0]!.widthM).toBeCloseTo(0.5, 6);
    expect(clusterStripes(shapes)).toEqual([[0, 1, 2], [3, 4], [5], [6]]);
  });
});

