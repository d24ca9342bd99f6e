/**
 * Planar geometry on `[eastM, northM]` points in one local metric frame. Units are metres and
 * radians throughout; nothing here knows about WGS84 or tiles.
 */
import type { XY } from './schema.ts';

export function polylineLengthM(pts: readonly XY[]): number {
  let len = 0;
  for (let i = 1; i < pts.length; i++) {
    const a = pts[i - 1]!;
    const b = pts[i]!;
    len += Math.hypot(b[0] - a[0], b[1] - a[1]);
  }
  return len;
}

/** Cumulative arc length at each vertex (first entry 0). */
export function cumulativeLengthsM(pts: readonly XY[]): Float64Array {
  const out = new Float64Array(pts.length);
  for (let i = 1; i < pts.length; i++) {
    const a = pts[i - 1]!;
    const b = pts[i]!;
    out[i] = out[i - 1]! + Math.hypot(b[0] - a[0], b[1] - a[1]);
  }
  return out;
}

/** The point at arc length `sM` along the polyline (clamped to its ends). */
export function pointAtM(pts: readonly XY[], cum: Float64Array, sM: number): [number, number] {
  const n = pts.length;
  if (n === 0) throw new RangeError('pointAtM needs at least one point');
  if (n === 1 || sM <= 0) return [pts[0]![0], pts[0]![1]];
  const total = cum[n - 1]!;
  if (sM >= total) return [pts[n - 1]![0], pts[n - 1]![1]];
  let lo = 0;
  let hi = n - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (cum[mid]! <= sM) lo = mid;
    else hi = mid;
  }
  const a = pts[lo]!;
  const b = pts[hi]!;
  const seg = cum[hi]! - cum[lo]!;
  const t = seg > 0 ? (sM - cum[lo]!) / seg : 0;
  return [a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t];
}

/** Resample to exactly `count` points evenly spaced by arc length (MapTR-style). */
export function resampleCount(pts: readonly XY[], count: number): Array<[number, number]> {
  if (count < 1) throw new RangeError(`resample count must be >= 1, got ${count}`);
  if (pts.length === 0) throw new RangeError('cannot resample an empty polyline');
  const cum = cumulativeLengthsM(pts);
  const total = cum[pts.length - 1]!;
  const out: Array<[number, number]> = [];
  for (let i = 0; i < count; i++) out.push(pointAtM(pts, cum, count === 1 ? total / 2 : (total * i) / (count - 1)));
  return out;
}

/** Resample at a fixed spacing (metres); always keeps both ends. */
export function resampleSpacing(pts: readonly XY[], spacingM: number): Array<[number, number]> {
  if (!(spacingM > 0)) throw new RangeError(`spacingM must be > 0, got ${spacingM}`);
  const cum = cumulativeLengthsM(pts);
  const total = cum[pts.length - 1] ?? 0;
  const steps = Math.max(1, Math.ceil(total / spacingM));
  return resampleCount(pts, steps + 1);
}

/**
 * The polyline with points inserted on its segments so that none is longer than `maxStepM`
 * (metres): every vertex kept, each segment split evenly. Unlike resampleSpacing, corners stay.
 */
export function densify(pts: readonly XY[], maxStepM: number): Array<[number, number]> {
  if (!(maxStepM > 0)) throw new RangeError(`maxStepM must be > 0, got ${maxStepM}`);
  if (pts.length === 0) return [];
  const out: Array<[number, number]> = [[pts[0]![0], pts[0]![1]]];
  for (let i = 1; i < pts.length; i++) {
    const a = pts[i - 1]!;
    const b = pts[i]!;
    const n = Math.max(1, Math.ceil(Math.hypot(b[0] - a[0], b[1] - a[1]) / maxStepM));
    for (let j = 1; j <= n; j++) out.push([a[0] + ((b[0] - a[0]) * j) / n, a[1] + ((b[1] - a[1]) * j) / n]);
  }
  return out;
}

/** Squared distance from p to segment ab, and the segment parameter t in [0, 1]. */
export function pointSegmentDist2(p: XY, a: XY, b: XY): { d2: number; t: number } {
  const vx = b[0] - a[0];
  const vy = b[1] - a[1];
  const wx = p[0] - a[0];
  const wy = p[1] - a[1];
  const len2 = vx * vx + vy * vy;
  let t = len2 > 0 ? (wx * vx + wy * vy) / len2 : 0;
  t = t < 0 ? 0 : t > 1 ? 1 : t;
  const dx = wx - vx * t;
  const dy = wy - vy * t;
  return { d2: dx * dx + dy * dy, t };
}

/** Distance from p to the nearest point of a polyline (a single point counts as a polyline). */
export function pointPolylineDistM(p: XY, pts: readonly XY[]): number {
  if (pts.length === 1) return Math.hypot(p[0] - pts[0]![0], p[1] - pts[0]![1]);
  let best = Infinity;
  for (let i = 1; i < pts.length; i++) {
    const { d2 } = pointSegmentDist2(p, pts[i - 1]!, pts[i]!);
    if (d2 < best) best = d2;
  }
  return Math.sqrt(best);
}

/**
 * Signed lateral offset of p from a polyline: positive to the left of the direction of travel.
 * Returns the offset and the arc length of the foot point.
 */
export function projectOntoPolyline(p: XY, pts: readonly XY[]): { lateralM: number; sM: number; distM: number } {
  let best = Infinity;
  let bestI = 1;
  let bestT = 0;
  for (let i = 1; i < pts.length; i++) {
    const { d2, t } = pointSegmentDist2(p, pts[i - 1]!, pts[i]!);
    if (d2 < best) {
      best = d2;
      bestI = i;
      bestT = t;
    }
  }
  const a = pts[bestI - 1]!;
  const b = pts[bestI]!;
  const cross = (b[0] - a[0]) * (p[1] - a[1]) - (b[1] - a[1]) * (p[0] - a[0]);
  const dist = Math.sqrt(best);
  let s = 0;
  for (let i = 1; i < bestI; i++) s += Math.hypot(pts[i]![0] - pts[i - 1]![0], pts[i]![1] - pts[i - 1]![1]);
  s += bestT * Math.hypot(b[0] - a[0], b[1] - a[1]);
  return { lateralM: cross >= 0 ? dist : -dist, sM: s, distM: dist };
}

/** Symmetric Chamfer distance (mean of both directed mean nearest-point distances). */
export function chamferM(a: readonly XY[], b: readonly XY[]): number {
  return (directedMeanNearestM(a, b) + directedMeanNearestM(b, a)) / 2;
}

function directedMeanNearestM(from: readonly XY[], to: readonly XY[]): number {
  let sum = 0;
  for (const p of from) {
    let best = Infinity;
    for (const q of to) {
      const dx = p[0] - q[0];
      const dy = p[1] - q[1];
      const d2 = dx * dx + dy * dy;
      if (d2 < best) best = d2;
    }
    sum += Math.sqrt(best);
  }
  return from.length ? sum / from.length : Infinity;
}

export function centroid(pts: readonly XY[]): [number, number] {
  let x = 0;
  let y = 0;
  for (const p of pts) {
    x += p[0];
    y += p[1];
  }
  return [x / pts.length, y / pts.length];
}

/**
 * The total-least-squares line through points 0..n-1 (coordinates by index: `x(i)`, `y(i)`): its
 * centroid and unit direction (the principal axis of the scatter; which of its two senses is
 * arbitrary). n >= 1; with all points equal the direction is (1, 0).
 */
export function principalAxis(n: number, x: (i: number) => number, y: (i: number) => number): { cx: number; cy: number; ux: number; uy: number } {
  let cx = 0;
  let cy = 0;
  for (let i = 0; i < n; i++) {
    cx += x(i);
    cy += y(i);
  }
  cx /= n;
  cy /= n;
  let sxx = 0;
  let sxy = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = x(i) - cx;
    const dy = y(i) - cy;
    sxx += dx * dx;
    sxy += dx * dy;
    syy += dy * dy;
  }
  const th = 0.5 * Math.atan2(2 * sxy, sxx - syy);
  return { cx, cy, ux: Math.cos(th), uy: Math.sin(th) };
}

export interface BBox {
  minX: number;
  minY: number;
  maxX: number;
  maxY: number;
}

export function bboxOf(pts: readonly XY[]): BBox {
  let minX = Infinity;
  let minY = Infinity;
  let maxX = -Infinity;
  let maxY = -Infinity;
  for (const p of pts) {
    if (p[0] < minX) minX = p[0];
    if (p[1] < minY) minY = p[1];
    if (p[0] > maxX) maxX = p[0];
    if (p[1] > maxY) maxY = p[1];
  }
  return { minX, minY, maxX, maxY };
}

/** Rotate by `yawRad` (counter-clockwise) then translate: body frame -> world frame. */
export function transformPoint(p: XY, xM: number, yM: number, yawRad: number): [number, number] {
  const c = Math.cos(yawRad);
  const s = Math.sin(yawRad);
  return [xM + c * p[0] - s * p[1], yM + s * p[0] + c * p[1]];
}

/** Inverse of transformPoint: world frame -> body frame. */
export function inverseTransformPoint(p: XY, xM: number, yM: number, yawRad: number): [number, number] {
  const c = Math.cos(yawRad);
  const s = Math.sin(yawRad);
  const dx = p[0] - xM;
  const dy = p[1] - yM;
  return [c * dx + s * dy, -s * dx + c * dy];
}

/** Wrap an angle to (-pi, pi]. */
export function wrapAngleRad(a: number): number {
  let r = a % (2 * Math.PI);
  if (r <= -Math.PI) r += 2 * Math.PI;
  if (r > Math.PI) r -= 2 * Math.PI;
  return r;
}

/** Whether `p` lies inside `ring` (even-odd rule; points on an edge may go either way). */
export function pointInRing(p: XY, ring: readonly XY[]): boolean {
  let inside = false;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const a = ring[i]!;
    const b = ring[j]!;
    if (a[1] > p[1] !== b[1] > p[1] && p[0] < ((b[0] - a[0]) * (p[1] - a[1])) / (b[1] - a[1]) + a[0]) inside = !inside;
  }
  return inside;
}

/** Area enclosed by a ring (either orientation, not closed), square metres (shoelace). */
export function ringAreaM2(ring: readonly XY[]): number {
  let area2 = 0;
  for (let i = 0; i < ring.length; i++) {
    const p = ring[i]!;
    const q = ring[(i + 1) % ring.length]!;
    area2 += p[0] * q[1] - q[0] * p[1];
  }
  return Math.abs(area2) / 2;
}

/** Convex hull of points, counter-clockwise, not closed (Andrew's monotone chain). */
export function convexHull(pts: readonly XY[]): Array<[number, number]> {
  const p = pts.map((q): [number, number] => [q[0], q[1]]).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  if (p.length < 3) return p;
  const cross = (o: XY, a: XY, b: XY): number => (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0]);
  const lower: Array<[number, number]> = [];
  for (const q of p) {
    while (lower.length >= 2 && cross(lower[lower.length - 2]!, lower[lower.length - 1]!, q) <= 0) lower.pop();
    lower.push(q);
  }
  const upper: Array<[number, number]> = [];
  for (let i = p.length - 1; i >= 0; i--) {
    const q = p[i]!;
    while (upper.length >= 2 && cross(upper[upper.length - 2]!, upper[upper.length - 1]!, q) <= 0) upper.pop();
    upper.push(q);
  }
  return [...lower.slice(0, -1), ...upper.slice(0, -1)];
}

/** Smallest distance from either ring's vertices to the other's edges, metres (outlines that cross between vertices are not seen). */
export function ringGapM(a: readonly XY[], b: readonly XY[]): number {
  let best = Infinity;
  for (const [from, to] of [[a, b], [b, a]] as const) {
    for (const p of from) {
      for (let i = 0; i < to.length; i++) {
        const { d2 } = pointSegmentDist2(p, to[i]!, to[(i + 1) % to.length]!);
        if (d2 < best) best = d2;
      }
    }
  }
  return Math.sqrt(best);
}
