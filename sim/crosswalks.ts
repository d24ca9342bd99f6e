/**
 * Crosswalk areas from Lanelet2 crossing markings: one polygon per physical crossing, whatever
 * convention the map was drawn in (Lanelet2's LinestringTagging / LaneletAndAreaTagging):
 * 1. a crossing area: a multipolygon area with `subtype=crosswalk` (its outer ring), or a closed
 *    marking way wider than a stripe (the outline of the whole crossing);
 * 2. a lanelet whose left and right bounds are both marking lines (`pedestrian_marking` or
 *    `zebra_marking`: a crosswalk lanelet, or a road lanelet across a zebra), or a crosswalk
 *    lanelet (`subtype=crosswalk`) bounded by painted or virtual lines: the area between them.
 *    A crosswalk lanelet bounded by kerbs, walls or fences is a footway, not paint: skipped;
 * 3. zebra stripes drawn one way per stripe (closed rings, or groups of >= 3 short parallel
 *    centre lines) are clustered into crossings (crosswalk-stripes.ts): the box around them;
 * 4. the remaining lines are paired greedily with their nearest near-parallel, overlapping
 *    partner within `maxGapM` (two side lines of a crossing);
 * 5. a line left without a partner is reported (it is not an area) and dropped.
 * A stripe group or side-line pair whose centre lies inside an area from 1 or 2 is the same
 * crossing drawn twice: its ways are added to that area, no second crosswalk is made.
 * 6. Last, one crossing drawn as several areas becomes one (mergeSameCrossings): two areas of
 *    which one's centre lies inside the other (a crosswalk lanelet and an area, an area and its
 *    own closed outline) keep the larger ring; two halves of a crossing split at the centre line
 *    (two crosswalk lanelets, side lines split at a node) that touch and together fill their
 *    convex hull become that hull.
 *
 * Rings are counter-clockwise, not closed (first vertex not repeated).
 */
import type { XY } from '../shared/schema.ts';
import { centroid, convexHull, pointInRing, polylineLengthM, ringAreaM2, ringGapM } from '../shared/geometry.ts';
import { clusterStripes, DEFAULT_STRIPES, stripeGroupBox, stripeShape, type StripeOptions, type StripeShape } from './crosswalk-stripes.ts';

export interface MarkingLine {
  /** OSM way id. */
  id: string;
  /** OSM type tag, e.g. "pedestrian_marking". */
  type: string;
  subtype: string;
  points: XY[];
  closed: boolean;
}

export interface CrosswalkArea {
  /** Lanelet or area id (1, 2), way id (closed outline) or "wayA+wayB+..." (3, 4). */
  id: string;
  ring: XY[];
  /** The marking ways used, and their total length in metres. */
  wayIds: string[];
  sourceType: string;
  sourceSubtype: string;
  markingLengthM: number;
}

/** A lanelet as the crosswalk builder needs it: subtype, bound ways with their tags and points. */
export interface CrosswalkLaneletInput {
  id: string;
  /** Lanelet subtype ("road", "crosswalk", ...). */
  subtype: string;
  leftWayId: string;
  rightWayId: string;
  /** OSM `type` of the bound ways. */
  leftType: string;
  rightType: string;
  left: readonly XY[];
  right: readonly XY[];
}

/** A crossing drawn as an area (`type=multipolygon`, `subtype=crosswalk`): its outer ring. */
export interface CrosswalkPolygonInput {
  id: string;
  ring: readonly XY[];
  sourceType: string;
  sourceSubtype: string;
}

export interface CrosswalkPairingOptions {
  /** Largest distance between the two lines of one crossing, metres. */
  maxGapM: number;
  /** Smallest distance between them, metres (closer lines are one line drawn twice). */
  minGapM: number;
  /** Largest angle between the two lines, degrees. */
  maxAngleDeg: number;
  /** Smallest overlap along the lines, as a fraction of the shorter line. */
  minOverlapFraction: number;
  /** Fewest open lines that make a crossing drawn as stripe centre lines. */
  minCentreLineStripes: number;
  /** How stripes are grouped (crosswalk-stripes.ts). */
  stripes: StripeOptions;
  /** Two areas this close are halves of one crossing when they fill their hull, metres. */
  halvesTouchM: number;
  /** ... that is, when the hull is at most (1 + halvesHullSlack) times their summed area. */
  halvesHullSlack: number;
}

export const DEFAULT_CROSSWALK_PAIRING: CrosswalkPairingOptions = {
  maxGapM: 10, // metres; crossings are 3-8 m wide
  minGapM: 1, // metres
  maxAngleDeg: 25, // degrees
  minOverlapFraction: 0.3, // of the shorter line
  minCentreLineStripes: 3, // lines; two close lines are more likely one line drawn twice
  stripes: DEFAULT_STRIPES,
  halvesTouchM: 0.05, // metres: a shared node, or a split way's end
  halvesHullSlack: 0.1, // of the summed area
};

/** Bound types a crosswalk lanelet may have to be a painted crossing (not a footway between kerbs). */
const CROSSWALK_BOUND_TYPES = new Set(['pedestrian_marking', 'zebra_marking', 'virtual', 'line_thin', 'line_thick', '']);

export function buildCrosswalks(
  markings: readonly MarkingLine[],
  lanelets: readonly CrosswalkLaneletInput[],
  options: Partial<CrosswalkPairingOptions> = {},
  polygons: readonly CrosswalkPolygonInput[] = [],
): { areas: CrosswalkArea[]; unpaired: MarkingLine[] } {
  const opts = { ...DEFAULT_CROSSWALK_PAIRING, ...options };
  const byId = new Map(markings.map((m) => [m.id, m]));
  const used = new Set<string>();
  const areas: CrosswalkArea[] = [];

  // 1. Areas: crosswalk multipolygons, closed outlines wider than a stripe.
  for (const p of polygons) {
    if (p.ring.length < 3) continue;
    areas.push({ id: p.id, ring: counterClockwise([...p.ring]), wayIds: [], sourceType: p.sourceType, sourceSubtype: p.sourceSubtype, markingLengthM: 0 });
  }
  const closedStripes: Array<{ line: MarkingLine; shape: StripeShape }> = [];
  for (const m of markings) {
    if (!m.closed || m.points.length < 3) continue;
    used.add(m.id);
    const shape = stripeShape(m.points, true);
    if (shape.widthM <= opts.stripes.maxStripeWidthM) closedStripes.push({ line: m, shape });
    else areas.push(area(m.id, counterClockwise(m.points), [m]));
  }
  // 2. Lanelets between marking lines; crosswalk lanelets between painted or virtual lines.
  for (const l of lanelets) {
    const a = byId.get(l.leftWayId);
    const b = byId.get(l.rightWayId);
    const markingPair = a && b && a !== b && !used.has(a.id) && !used.has(b.id);
    const crosswalkLanelet = l.subtype === 'crosswalk' && l.leftWayId !== l.rightWayId && CROSSWALK_BOUND_TYPES.has(l.leftType) && CROSSWALK_BOUND_TYPES.has(l.rightType);
    if (!markingPair && !crosswalkLanelet) continue;
    const lines = [a, b].filter((m): m is MarkingLine => m !== undefined && !used.has(m.id));
    for (const m of lines) used.add(m.id);
    const ring = markingPair ? ringBetween(a.points, b.points) : ringBetween(l.left, l.right);
    areas.push(lines.length > 0 ? area(l.id, ring, lines) : { id: l.id, ring, wayIds: [], sourceType: 'lanelet', sourceSubtype: l.subtype, markingLengthM: 0 });
  }
  const explicit = areas.length;

  // 3a. Open lines drawn as stripe centre lines: groups of >= minCentreLineStripes.
  const open = markings.filter((m) => !used.has(m.id) && m.points.length >= 2);
  const stripeGroups: Array<Array<{ line: MarkingLine; shape: StripeShape; centreLine: boolean }>> = [];
  const openShapes = open.map((m) => stripeShape(m.points, false));
  for (const g of clusterStripes(openShapes, opts.stripes)) {
    if (g.length < opts.minCentreLineStripes) continue;
    stripeGroups.push(g.map((i) => ({ line: open[i]!, shape: openShapes[i]!, centreLine: true })));
    for (const i of g) used.add(open[i]!.id);
  }
  // 3b. Closed stripes: every group is a crossing, even a lone stripe.
  for (const g of clusterStripes(closedStripes.map((s) => s.shape), opts.stripes)) {
    stripeGroups.push(g.map((i) => ({ ...closedStripes[i]!, centreLine: false })));
  }

  // 4. Side lines paired greedily.
  const rest = markings.filter((m) => !used.has(m.id) && m.points.length >= 2);
  const candidates: Array<{ i: number; j: number; gapM: number }> = [];
  const cosMax = Math.cos((opts.maxAngleDeg * Math.PI) / 180);
  for (let i = 0; i < rest.length; i++) {
    for (let j = i + 1; j < rest.length; j++) {
      const gapM = pairGapM(rest[i]!.points, rest[j]!.points, cosMax, opts.minOverlapFraction);
      if (gapM >= opts.minGapM && gapM <= opts.maxGapM) candidates.push({ i, j, gapM });
    }
  }
  candidates.sort((p, q) => p.gapM - q.gapM);
  for (const c of candidates) {
    const a = rest[c.i]!;
    const b = rest[c.j]!;
    if (used.has(a.id) || used.has(b.id)) continue;
    used.add(a.id);
    used.add(b.id);
    const pair = area(`${a.id}+${b.id}`, ringBetween(a.points, b.points), [a, b]);
    if (!absorb(areas, explicit, pair)) areas.push(pair);
  }
  // Stripe groups last: they may lie inside a crossing already drawn as an area or side lines.
  for (const g of stripeGroups) {
    const lines = g.map((s) => s.line);
    const cw = area(lines.map((l) => l.id).join('+'), counterClockwise(stripeGroupBox(g.map((s) => ({ points: s.line.points, shape: s.shape, centreLine: s.centreLine })), opts.stripes.centreLineHalfWidthM)), lines);
    if (!absorb(areas, areas.length, cw)) areas.push(cw);
  }
  return { areas: mergeSameCrossings(areas, opts.halvesTouchM, opts.halvesHullSlack), unpaired: markings.filter((m) => !used.has(m.id)) };
}

/** Step 6 (see the module comment): one area per crossing drawn as several. */
function mergeSameCrossings(areas: readonly CrosswalkArea[], touchM: number, hullSlack: number): CrosswalkArea[] {
  const out = [...areas];
  for (let merged = true; merged; ) {
    merged = false;
    for (let i = 0; i < out.length && !merged; i++) {
      for (let j = i + 1; j < out.length && !merged; j++) {
        const a = out[i]!;
        const b = out[j]!;
        const areaA = ringAreaM2(a.ring);
        const areaB = ringAreaM2(b.ring);
        let ring: XY[] | undefined;
        if (pointInRing(centroid(a.ring), b.ring) || pointInRing(centroid(b.ring), a.ring)) ring = areaA >= areaB ? a.ring : b.ring;
        else if (ringGapM(a.ring, b.ring) <= touchM) {
          const hull = convexHull([...a.ring, ...b.ring]);
          if (ringAreaM2(hull) <= (1 + hullSlack) * (areaA + areaB)) ring = hull;
        }
        if (!ring) continue;
        const host = areaA >= areaB ? a : b;
        out[i] = { ...host, id: ring === host.ring ? host.id : `${a.id}+${b.id}`, ring, wayIds: [...a.wayIds, ...b.wayIds], markingLengthM: a.markingLengthM + b.markingLengthM };
        out.splice(j, 1);
        merged = true;
      }
    }
  }
  return out;
}

/** Adds `cw`'s ways to the first of `areas[0..count)` holding its centre; false when none does. */
function absorb(areas: CrosswalkArea[], count: number, cw: CrosswalkArea): boolean {
  const c = centroid(cw.ring);
  for (let k = 0; k < count; k++) {
    const host = areas[k]!;
    if (!pointInRing(c, host.ring)) continue;
    host.wayIds.push(...cw.wayIds);
    host.markingLengthM += cw.markingLengthM;
    return true;
  }
  return false;
}

function area(id: string, ring: XY[], lines: MarkingLine[]): CrosswalkArea {
  const first = lines[0]!;
  return {
    id,
    ring,
    wayIds: lines.map((l) => l.id),
    sourceType: first.type,
    sourceSubtype: first.subtype,
    markingLengthM: lines.reduce((s, l) => s + polylineLengthM(l.points), 0),
  };
}

/**
 * Gap between two lines if they qualify as the two sides of one crossing (near-parallel and
 * overlapping along their direction), else Infinity.
 */
function pairGapM(a: readonly XY[], b: readonly XY[], cosMax: number, minOverlap: number): number {
  const [ax, ay, aLen] = direction(a);
  const [bx, by, bLen] = direction(b);
  if (aLen === 0 || bLen === 0) return Infinity;
  if (Math.abs(ax * bx + ay * by) < cosMax) return Infinity;
  const a0 = a[0]!;
  // Extents of both lines along a's direction; gap = perpendicular distance of b's midpoint.
  const along = (p: XY): number => (p[0] - a0[0]) * ax + (p[1] - a0[1]) * ay;
  const b0 = along(b[0]!);
  const b1 = along(b[b.length - 1]!);
  const overlap = Math.min(aLen, Math.max(b0, b1)) - Math.max(0, Math.min(b0, b1));
  if (overlap < minOverlap * Math.min(aLen, bLen)) return Infinity;
  const bm = b[0]!;
  const bn = b[b.length - 1]!;
  const mx = (bm[0] + bn[0]) / 2 - a0[0];
  const my = (bm[1] + bn[1]) / 2 - a0[1];
  return Math.abs(mx * -ay + my * ax);
}

/** Unit chord direction and chord length of a polyline. */
function direction(p: readonly XY[]): [number, number, number] {
  const s = p[0]!;
  const e = p[p.length - 1]!;
  const dx = e[0] - s[0];
  const dy = e[1] - s[1];
  const len = Math.hypot(dx, dy);
  return len > 0 ? [dx / len, dy / len, len] : [0, 0, 0];
}

/** The ring enclosed by two side lines: a forward, then b run back towards a's start. */
function ringBetween(a: readonly XY[], b: readonly XY[]): XY[] {
  const [ax, ay] = direction(a);
  const [bx, by] = direction(b);
  const bBack = ax * bx + ay * by > 0 ? [...b].reverse() : [...b];
  return counterClockwise(dropRepeats([...a, ...bBack]));
}

function dropRepeats(ring: XY[]): XY[] {
  const out: XY[] = [];
  for (const p of ring) {
    const q = out[out.length - 1];
    if (!q || q[0] !== p[0] || q[1] !== p[1]) out.push(p);
  }
  const f = out[0];
  const l = out[out.length - 1];
  if (out.length > 1 && f && l && f[0] === l[0] && f[1] === l[1]) out.pop();
  return out;
}

function counterClockwise(ring: readonly XY[]): XY[] {
  const pts = dropRepeats([...ring]);
  let area2 = 0;
  for (let i = 0; i < pts.length; i++) {
    const p = pts[i]!;
    const q = pts[(i + 1) % pts.length]!;
    area2 += p[0] * q[1] - q[0] * p[1];
  }
  return area2 < 0 ? pts.reverse() : pts;
}
