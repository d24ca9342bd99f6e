/**
 * Crosswalk areas from Lanelet2 crossing markings.
 *
 * In Lanelet2 maps a crossing is painted as two roughly parallel lines (`pedestrian_marking`,
 * or `zebra_marking` for the long sides of a zebra) a few metres apart; the area between them
 * is the crosswalk. Sometimes a lanelet (subtype crosswalk, or a road lanelet across a zebra)
 * names both lines as its left/right bounds; often the lines stand alone. So:
 * 1. a closed marking way is a crosswalk polygon by itself;
 * 2. two marking ways that are the left and right bound of one lanelet form one crosswalk;
 * 3. the remaining lines are paired greedily with their nearest near-parallel, overlapping
 *    partner within `maxGapM`;
 * 4. a line left without a partner is reported (it is not an area) and dropped.
 *
 * Rings are counter-clockwise, not closed (first vertex not repeated).
 */
import type { XY } from '../shared/schema.ts';
import { polylineLengthM } from '../shared/geometry.ts';

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
  /** Lanelet id (case 2), way id (case 1) or "wayA+wayB" (case 3). */
  id: string;
  ring: XY[];
  /** The marking lines used, and their total length in metres. */
  wayIds: string[];
  sourceType: string;
  sourceSubtype: string;
  markingLengthM: number;
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
}

export const DEFAULT_CROSSWALK_PAIRING: CrosswalkPairingOptions = {
  maxGapM: 10, // metres; crossings are 3-8 m wide
  minGapM: 1, // metres
  maxAngleDeg: 25, // degrees
  minOverlapFraction: 0.3, // of the shorter line
};

export function buildCrosswalks(
  markings: readonly MarkingLine[],
  laneletBounds: ReadonlyArray<{ id: string; leftWayId: string; rightWayId: string }>,
  options: Partial<CrosswalkPairingOptions> = {},
): { areas: CrosswalkArea[]; unpaired: MarkingLine[] } {
  const opts = { ...DEFAULT_CROSSWALK_PAIRING, ...options };
  const byId = new Map(markings.map((m) => [m.id, m]));
  const used = new Set<string>();
  const areas: CrosswalkArea[] = [];

  for (const m of markings) {
    if (!m.closed || m.points.length < 3) continue;
    used.add(m.id);
    areas.push(area(m.id, counterClockwise(m.points), [m]));
  }
  for (const l of laneletBounds) {
    const a = byId.get(l.leftWayId);
    const b = byId.get(l.rightWayId);
    if (!a || !b || a === b || used.has(a.id) || used.has(b.id)) continue;
    used.add(a.id);
    used.add(b.id);
    areas.push(area(l.id, ringBetween(a.points, b.points), [a, b]));
  }

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
    areas.push(area(`${a.id}+${b.id}`, ringBetween(a.points, b.points), [a, b]));
  }
  return { areas, unpaired: markings.filter((m) => !used.has(m.id)) };
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
