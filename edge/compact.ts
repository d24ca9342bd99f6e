/**
 * Compaction: keep the uplink small without losing map content.
 *
 * Perception reports every primitive in view each frame (2 Hz, ~35 m ahead), so at city speeds
 * every metre of paint is seen 6-10 times by one drive. Those repeats share the drive's pose
 * error, so they add bytes but almost no information for the cloud merge, whose accuracy comes
 * from many *drives*. The compactor therefore:
 * 1. keeps one *keyframe* per `keyframeSpacingM` travelled (other frames are dropped, counted);
 * 2. crops each keyframe to the stretch of road that is new since the previous keyframe: the
 *    body-frame band x in [windowStartM, windowStartM + travelled) (capped at `maxWindowM`), so
 *    consecutive keyframes tile the road with each place observed once per drive, from a
 *    near range where perception is most accurate;
 * 3. simplifies polylines with Douglas-Peucker at `simplifyToleranceM` (straight paint collapses
 *    to a few vertices).
 * Polygons (crosswalks), stop lines and points are kept whole, once, when their centroid falls in
 * the band. All geometry is in the body frame (x forward, y left, metres); pure, no I/O.
 */
import { centroid, polylineLengthM } from '../shared/geometry.ts';
import type { BodyObservation } from '../shared/topics.ts';

export interface CompactOptions {
  /** Travel between keyframes, metres. */
  keyframeSpacingM: number;
  /** Near edge of the kept band, body x, metres (0 = the rear axle). */
  windowStartM: number;
  /** Longest band kept from one keyframe (after a stop, an outage or a turn), metres. */
  maxWindowM: number;
  /** Douglas-Peucker tolerance, metres. */
  simplifyToleranceM: number;
  /** Drop cropped line pieces shorter than this, metres. */
  minPieceM: number;
}

export const DEFAULT_COMPACT_OPTIONS: CompactOptions = {
  keyframeSpacingM: 12, // m
  windowStartM: 2, // m
  maxWindowM: 30, // m
  simplifyToleranceM: 0.05, // m
  minPieceM: 0.5, // m
};

export interface CompactCounters {
  framesIn: number;
  keyframes: number;
  observationsIn: number;
  observationsOut: number;
  verticesIn: number;
  verticesOut: number;
}

const LINE_CLASSES = new Set(['lane_divider', 'road_boundary']);

export class ObservationCompactor {
  readonly options: CompactOptions;
  readonly counters: CompactCounters = { framesIn: 0, keyframes: 0, observationsIn: 0, observationsOut: 0, verticesIn: 0, verticesOut: 0 };
  private last: { xM: number; yM: number } | undefined;
  /** Which metric frame `last` is in (any identity the caller uses; reset when it changes). */
  frameOrigin: unknown;

  constructor(options: Partial<CompactOptions> = {}) {
    this.options = { ...DEFAULT_COMPACT_OPTIONS, ...options };
    const o = this.options;
    for (const k of ['keyframeSpacingM', 'maxWindowM'] as const) {
      if (!(o[k] > 0)) throw new RangeError(`compact.${k} must be > 0 m, got ${o[k]}`);
    }
    if (!(o.simplifyToleranceM >= 0)) throw new RangeError(`compact.simplifyToleranceM must be >= 0 m, got ${o.simplifyToleranceM}`);
    if (o.maxWindowM < o.keyframeSpacingM) throw new RangeError(`compact.maxWindowM (${o.maxWindowM}) must be >= keyframeSpacingM (${o.keyframeSpacingM})`);
  }

  /** Forget the previous keyframe (a new drive, or the pose was reset). */
  reset(): void {
    this.last = undefined;
  }

  /**
   * One perception frame at the vehicle position (any fixed metric frame, metres).
   * Returns the observations to keep (cropped, simplified), or undefined when the frame is not a
   * keyframe.
   */
  frame(xM: number, yM: number, observations: readonly BodyObservation[]): BodyObservation[] | undefined {
    const o = this.options;
    this.counters.framesIn++;
    for (const ob of observations) {
      this.counters.observationsIn++;
      this.counters.verticesIn += ob.pointsBody.length;
    }
    let windowM = o.maxWindowM;
    if (this.last) {
      const travelled = Math.hypot(xM - this.last.xM, yM - this.last.yM);
      if (travelled < o.keyframeSpacingM) return undefined;
      windowM = Math.min(travelled, o.maxWindowM);
    }
    this.last = { xM, yM };
    this.counters.keyframes++;
    const x0 = o.windowStartM;
    const x1 = o.windowStartM + windowM;
    const out: BodyObservation[] = [];
    for (const ob of observations) {
      if (LINE_CLASSES.has(ob.cls)) {
        for (const piece of cropBand(ob.pointsBody, x0, x1)) {
          if (polylineLengthM(piece) < o.minPieceM) continue;
          out.push({ ...ob, pointsBody: simplify(piece, o.simplifyToleranceM) });
        }
      } else {
        const [cx] = centroid(ob.pointsBody);
        if (cx >= x0 && cx < x1) out.push(ob);
      }
    }
    for (const ob of out) {
      this.counters.observationsOut++;
      this.counters.verticesOut += ob.pointsBody.length;
    }
    return out;
  }
}

/** Pieces of a polyline inside the band x0 <= x <= x1 (cut exactly at the band edges). */
export function cropBand(pts: ReadonlyArray<[number, number]>, x0: number, x1: number): Array<Array<[number, number]>> {
  const pieces: Array<Array<[number, number]>> = [];
  let cur: Array<[number, number]> = [];
  const close = (): void => {
    if (cur.length > 1) pieces.push(cur);
    cur = [];
  };
  for (let i = 1; i < pts.length; i++) {
    const a = pts[i - 1]!;
    const b = pts[i]!;
    const dx = b[0] - a[0];
    // Parametric interval [tIn, tOut] of the segment inside the band (1-D Liang-Barsky).
    let tIn = 0;
    let tOut = 1;
    if (dx === 0) {
      if (a[0] < x0 || a[0] > x1) tIn = 2;
    } else {
      const t0 = (x0 - a[0]) / dx;
      const t1 = (x1 - a[0]) / dx;
      tIn = Math.max(0, Math.min(t0, t1));
      tOut = Math.min(1, Math.max(t0, t1));
    }
    if (tIn > tOut) {
      close();
      continue;
    }
    const at = (t: number): [number, number] => (t === 0 ? [a[0], a[1]] : t === 1 ? [b[0], b[1]] : [a[0] + dx * t, a[1] + (b[1] - a[1]) * t]);
    if (tIn > 0) close();
    if (cur.length === 0) cur.push(at(tIn));
    cur.push(at(tOut));
    if (tOut < 1) close();
  }
  close();
  return pieces;
}

/** Douglas-Peucker simplification, keeping both ends. */
export function simplify(pts: ReadonlyArray<[number, number]>, toleranceM: number): Array<[number, number]> {
  if (pts.length <= 2 || toleranceM <= 0) return pts.slice();
  const keep = new Uint8Array(pts.length);
  keep[0] = 1;
  keep[pts.length - 1] = 1;
  const stack: Array<[number, number]> = [[0, pts.length - 1]];
  const tol2 = toleranceM * toleranceM;
  while (stack.length) {
    const [i0, i1] = stack.pop()!;
    const a = pts[i0]!;
    const b = pts[i1]!;
    const vx = b[0] - a[0];
    const vy = b[1] - a[1];
    const len2 = vx * vx + vy * vy;
    let worst = -1;
    let worstD2 = tol2;
    for (let i = i0 + 1; i < i1; i++) {
      const p = pts[i]!;
      let t = len2 > 0 ? ((p[0] - a[0]) * vx + (p[1] - a[1]) * vy) / len2 : 0;
      t = t < 0 ? 0 : t > 1 ? 1 : t;
      const dx = p[0] - a[0] - vx * t;
      const dy = p[1] - a[1] - vy * t;
      const d2 = dx * dx + dy * dy;
      if (d2 > worstD2) {
        worstD2 = d2;
        worst = i;
      }
    }
    if (worst > 0) {
      keep[worst] = 1;
      stack.push([i0, worst], [worst, i1]);
    }
  }
  return pts.filter((_, i) => keep[i] === 1);
}
