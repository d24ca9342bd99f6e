/**
 * Distance figures beside the AP: lateral error of matched instances, length of one map lying
 * within a radius of another (recall of ground truth, false-positive length), and quantiles.
 * Geometry is `[eastM, northM]` in metres; results are in metres unless a name says otherwise.
 */
import { pointSegmentDist2, type BBox } from '../../shared/geometry.ts';
import type { XY } from '../../shared/schema.ts';
import type { IndexedLine, SegmentGrid } from './grid_index.ts';

/**
 * Perpendicular distances from `samples` to the polyline `line`, metres. A sample whose nearest
 * point is an open end of the line, reached from beyond that end, is left out: its distance
 * would measure an along-track overhang, not a lateral error.
 */
export function perpendicularDistancesM(samples: readonly XY[], line: readonly XY[], closed: boolean): number[] {
  const out: number[] = [];
  if (line.length === 1) {
    const q = line[0]!;
    for (const p of samples) out.push(Math.hypot(p[0] - q[0], p[1] - q[1]));
    return out;
  }
  const last = line.length - 1;
  for (const p of samples) {
    let best = Infinity;
    let bestI = 1;
    let bestT = 0;
    for (let i = 1; i <= last; i++) {
      const { d2, t } = pointSegmentDist2(p, line[i - 1]!, line[i]!);
      if (d2 < best) {
        best = d2;
        bestI = i;
        bestT = t;
      }
    }
    const d = Math.sqrt(best);
    if (!closed && d > 1e-9 && ((bestI === 1 && bestT === 0) || (bestI === last && bestT === 1))) continue;
    out.push(d);
  }
  return out;
}

/**
 * Walk every line in steps of at most `stepM` and call `visit` with each step's midpoint and
 * length, metres (the one sampling of lengths along lines in the evaluation).
 */
export function forEachStepMidpoint(lines: ReadonlyArray<{ points: readonly XY[] }>, stepM: number, visit: (x: number, y: number, stepLenM: number) => void): void {
  for (const l of lines) {
    const pts = l.points;
    for (let i = 1; i < pts.length; i++) {
      const a = pts[i - 1]!;
      const b = pts[i]!;
      const len = Math.hypot(b[0] - a[0], b[1] - a[1]);
      if (len === 0) continue;
      const n = Math.ceil(len / stepM);
      for (let k = 0; k < n; k++) {
        const t = (k + 0.5) / n;
        visit(a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t, len / n);
      }
    }
  }
}

/**
 * Length of `lines` lying within `radiusM` of anything in `grid`, metres. Each line is walked in
 * steps of at most `stepM`; a step counts as within when its midpoint is.
 */
export function lengthWithinM(lines: readonly IndexedLine[], grid: SegmentGrid | null, radiusM: number, stepM: number): { totalM: number; withinM: number } {
  let totalM = 0;
  let withinM = 0;
  forEachStepMidpoint(lines, stepM, (x, y, stepLenM) => {
    totalM += stepLenM;
    if (grid !== null && grid.anyWithin(x, y, radiusM)) withinM += stepLenM;
  });
  return { totalM, withinM };
}

/** How many of `points` lie within `radiusM` of anything in `grid`. */
export function pointsWithin(points: readonly XY[], grid: SegmentGrid | null, radiusM: number): number {
  if (grid === null) return 0;
  let n = 0;
  for (const p of points) if (grid.anyWithin(p[0], p[1], radiusM)) n++;
  return n;
}

/** Quantile q in [0, 1] with linear interpolation between order statistics; null if empty. */
export function quantile(values: readonly number[], q: number): number | null {
  if (values.length === 0) return null;
  const s = Float64Array.from(values).sort();
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, s.length - 1);
  return s[lo]! + (s[hi]! - s[lo]!) * (pos - lo);
}

/** Distance between two boxes (0 when they overlap), metres. */
export function bboxGapM(a: BBox, b: BBox): number {
  const gx = Math.max(0, b.minX - a.maxX, a.minX - b.maxX);
  const gy = Math.max(0, b.minY - a.maxY, a.minY - b.maxY);
  return Math.hypot(gx, gy);
}
