/**
 * Zebra crossings drawn stripe by stripe: each painted bar is its own way, either its outline
 * (a closed `zebra_marking` / `pedestrian_marking` ring, or `area=yes`) or its centre line (a
 * short open marking line; Lanelet2 lets a symbol be drawn either way). Stripes of one
 * crossing are near-parallel, side by side at a small pitch and overlap along their length, so
 * they are clustered by that adjacency (union-find) and each cluster becomes ONE crossing: the
 * box around its stripes, aligned with them.
 *
 * Geometry is `[eastM, northM]` metres; boxes are counter-clockwise, not closed.
 */
import type { XY } from '../shared/schema.ts';

export interface StripeOptions {
  /** Largest centre-to-centre distance of neighbouring stripes, across them, metres. */
  maxPitchM: number;
  /** Largest angle between neighbouring stripes, degrees. */
  maxAngleDeg: number;
  /** Smallest overlap of neighbours along the stripes, fraction of the shorter one. */
  minOverlapFraction: number;
  /** A closed ring at most this wide (short side) is a stripe; wider, it outlines a whole crossing, metres. */
  maxStripeWidthM: number;
  /** Half the painted width given to stripes drawn as centre lines, metres. */
  centreLineHalfWidthM: number;
}

export const DEFAULT_STRIPES: StripeOptions = {
  maxPitchM: 1.8, // metres; zebra bars are 0.4-0.6 m wide at a 0.8-1.2 m pitch
  maxAngleDeg: 15, // degrees
  minOverlapFraction: 0.5, // of the shorter stripe
  maxStripeWidthM: 1.2, // metres
  centreLineHalfWidthM: 0.25, // metres
};

/** A stripe seen as an oriented box. */
export interface StripeShape {
  /** Unit direction of the long axis. */
  axis: [number, number];
  centre: XY;
  /** Extent along the axis and across it, metres (across is 0 for a centre line). */
  lengthM: number;
  widthM: number;
}

/**
 * Oriented box of a stripe. A ring (`closed`; a repeated closing vertex is ignored) gets the
 * smallest-area box aligned with one of its edges; an open line is aligned with its chord.
 */
export function stripeShape(points: readonly XY[], closed: boolean): StripeShape {
  const pts = closed && points.length > 1 && samePoint(points[0]!, points[points.length - 1]!) ? points.slice(0, -1) : points;
  const first = pts[0]!;
  const last = pts[pts.length - 1]!;
  const chord = Math.hypot(last[0] - first[0], last[1] - first[1]);
  let best: { axis: [number, number]; box: ReturnType<typeof extent> } | null = null;
  const consider = (dx: number, dy: number): void => {
    const len = Math.hypot(dx, dy);
    if (len === 0) return;
    const axis: [number, number] = [dx / len, dy / len];
    const box = extent(pts, axis);
    const areaM2 = (box.u1 - box.u0) * (box.v1 - box.v0);
    if (!best || areaM2 < (best.box.u1 - best.box.u0) * (best.box.v1 - best.box.v0) - 1e-9) best = { axis, box };
  };
  if (closed) {
    for (let i = 0; i < pts.length; i++) {
      const a = pts[i]!;
      const b = pts[(i + 1) % pts.length]!;
      consider(b[0] - a[0], b[1] - a[1]);
    }
  } else if (chord > 0) {
    consider(last[0] - first[0], last[1] - first[1]);
  }
  if (!best) consider(1, 0);
  let { axis, box } = best!;
  // The long axis is the stripe's axis.
  if (box.v1 - box.v0 > box.u1 - box.u0) {
    axis = [-axis[1], axis[0]];
    box = extent(pts, axis);
  }
  const centre: XY = [
    (axis[0] * (box.u0 + box.u1)) / 2 - (axis[1] * (box.v0 + box.v1)) / 2,
    (axis[1] * (box.u0 + box.u1)) / 2 + (axis[0] * (box.v0 + box.v1)) / 2,
  ];
  return { axis, centre, lengthM: box.u1 - box.u0, widthM: box.v1 - box.v0 };
}

/**
 * Groups of stripes that belong to one crossing (indices into `shapes`), each sorted, groups in
 * order of their first index. A stripe with no neighbour is a group of one.
 */
export function clusterStripes(shapes: readonly StripeShape[], options: Partial<StripeOptions> = {}): number[][] {
  const o = { ...DEFAULT_STRIPES, ...options };
  const cosMax = Math.cos((o.maxAngleDeg * Math.PI) / 180);
  const parent = shapes.map((_, i) => i);
  const find = (i: number): number => {
    while (parent[i] !== i) i = parent[i] = parent[parent[i]!]!;
    return i;
  };
  for (let i = 0; i < shapes.length; i++) {
    for (let j = i + 1; j < shapes.length; j++) {
      if (neighbours(shapes[i]!, shapes[j]!, cosMax, o)) parent[find(i)] = find(j);
    }
  }
  const groups = new Map<number, number[]>();
  for (let i = 0; i < shapes.length; i++) {
    const r = find(i);
    const g = groups.get(r);
    if (g) g.push(i);
    else groups.set(r, [i]);
  }
  return [...groups.values()].sort((a, b) => a[0]! - b[0]!);
}

/**
 * The box around a group of stripes, aligned with their mean axis; centre-line stripes are
 * widened by `halfWidthM` across. Counter-clockwise, 4 vertices.
 */
export function stripeGroupBox(stripes: ReadonlyArray<{ points: readonly XY[]; shape: StripeShape; centreLine: boolean }>, halfWidthM = DEFAULT_STRIPES.centreLineHalfWidthM): XY[] {
  const a0 = stripes[0]!.shape.axis;
  let ax = 0;
  let ay = 0;
  for (const s of stripes) {
    const sign = s.shape.axis[0] * a0[0] + s.shape.axis[1] * a0[1] < 0 ? -1 : 1;
    ax += sign * s.shape.axis[0];
    ay += sign * s.shape.axis[1];
  }
  const len = Math.hypot(ax, ay);
  const axis: [number, number] = [ax / len, ay / len];
  let u0 = Infinity;
  let u1 = -Infinity;
  let v0 = Infinity;
  let v1 = -Infinity;
  for (const s of stripes) {
    const b = extent(s.points, axis);
    const pad = s.centreLine ? halfWidthM : 0;
    u0 = Math.min(u0, b.u0);
    u1 = Math.max(u1, b.u1);
    v0 = Math.min(v0, b.v0 - pad);
    v1 = Math.max(v1, b.v1 + pad);
  }
  const at = (u: number, v: number): XY => [axis[0] * u - axis[1] * v, axis[1] * u + axis[0] * v];
  return [at(u0, v0), at(u1, v0), at(u1, v1), at(u0, v1)];
}

function neighbours(a: StripeShape, b: StripeShape, cosMax: number, o: StripeOptions): boolean {
  const dot = a.axis[0] * b.axis[0] + a.axis[1] * b.axis[1];
  if (Math.abs(dot) < cosMax) return false;
  const dx = b.centre[0] - a.centre[0];
  const dy = b.centre[1] - a.centre[1];
  const across = Math.abs(dx * -a.axis[1] + dy * a.axis[0]);
  if (across > o.maxPitchM) return false;
  const along = dx * a.axis[0] + dy * a.axis[1];
  const overlap = Math.min(a.lengthM / 2, along + b.lengthM / 2) - Math.max(-a.lengthM / 2, along - b.lengthM / 2);
  return overlap >= o.minOverlapFraction * Math.min(a.lengthM, b.lengthM);
}

function samePoint(a: XY, b: XY): boolean {
  return a[0] === b[0] && a[1] === b[1];
}

/** Extent of points along `axis` (u) and across it (v, to its left). */
function extent(points: readonly XY[], axis: readonly [number, number]): { u0: number; u1: number; v0: number; v1: number } {
  let u0 = Infinity;
  let u1 = -Infinity;
  let v0 = Infinity;
  let v1 = -Infinity;
  for (const p of points) {
    const u = p[0] * axis[0] + p[1] * axis[1];
    const v = -p[0] * axis[1] + p[1] * axis[0];
    if (u < u0) u0 = u;
    if (u > u1) u1 = u;
    if (v < v0) v0 = v;
    if (v > v1) v1 = v;
  }
  return { u0, u1, v0, v1 };
}
