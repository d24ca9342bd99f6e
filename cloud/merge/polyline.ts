/**
 * Polylines on flat typed arrays (metres, one local frame): resampling, projection with a
 * vertex grid, simplification. The consensus lines of the merge live here.
 */
import { PointGrid } from './grid.ts';

/** Where a point falls on a polyline. */
export interface Projection {
  /** Signed lateral offset from the line, positive to the left of its direction, metres. */
  lat: number;
  /** Distance to the line (clamped at its ends), metres. */
  dist: number;
  /** Fractional vertex position: segment index + parameter in [0, 1]. */
  pos: number;
  /** -1 beyond the start, 1 beyond the end, 0 alongside. */
  beyond: number;
  /** Unit tangent of the segment at the foot point. */
  tx: number;
  ty: number;
  /** Foot point (clamped at the ends). */
  fx: number;
  fy: number;
  /** Input of `Polyline.projectAt`: the largest distance accepted, metres. */
  maxDistM: number;
}

export function newProjection(maxDistM = Infinity): Projection {
  return { lat: 0, dist: 0, pos: 0, beyond: 0, tx: 1, ty: 0, fx: 0, fy: 0, maxDistM };
}

/** Scratch of the grid queries in `Polyline.project` (synchronous, so one buffer serves all). */
const candidates = { buf: new Int32Array(256) };
/** The disc [x, y, r] of such a query. */
const candidateQuery = new Float64Array(3);

/**
 * An immutable polyline with a vertex grid for projections.
 *
 * Closed: a polyline of >= 4 vertices whose last vertex is its first, bit for bit (a kerb round
 * an island; the merge closes its lines that way and nothing else makes equal ends). It has no
 * ends: projections never fall `beyond` it and the walk from a hint wraps over the seam.
 */
export class Polyline {
  readonly x: Float64Array;
  readonly y: Float64Array;
  readonly n: number;
  readonly closed: boolean;
  private gridCache: PointGrid | undefined;
  private readonly maxSegM: number;
  /** Segment s: vector from vertex s to s + 1 and its squared length (projections read these). */
  private readonly segX: Float64Array;
  private readonly segY: Float64Array;
  private readonly segLen2: Float64Array;
  /** Segment s: its length (1 when degenerate) and unit direction (`fill` reads these). */
  private readonly segLen: Float64Array;
  private readonly segUx: Float64Array;
  private readonly segUy: Float64Array;

  constructor(x: Float64Array, y: Float64Array) {
    if (x.length < 2 || x.length !== y.length) throw new RangeError(`a polyline needs >= 2 vertices in equal-length arrays, got ${x.length}/${y.length}`);
    this.x = x;
    this.y = y;
    this.n = x.length;
    this.closed = isClosedXY(x, y);
    this.segX = new Float64Array(this.n - 1);
    this.segY = new Float64Array(this.n - 1);
    this.segLen2 = new Float64Array(this.n - 1);
    this.segLen = new Float64Array(this.n - 1);
    this.segUx = new Float64Array(this.n - 1);
    this.segUy = new Float64Array(this.n - 1);
    let maxSeg = 0;
    for (let i = 1; i < this.n; i++) {
      const vx = x[i]! - x[i - 1]!;
      const vy = y[i]! - y[i - 1]!;
      this.segX[i - 1] = vx;
      this.segY[i - 1] = vy;
      this.segLen2[i - 1] = vx * vx + vy * vy;
      const h = hypot(vx, vy);
      const len = h || 1;
      this.segLen[i - 1] = len;
      this.segUx[i - 1] = vx / len;
      this.segUy[i - 1] = vy / len;
      maxSeg = Math.max(maxSeg, h);
    }
    this.maxSegM = maxSeg;
  }

  /** The vertex grid, built on first use (many lines are only ever walked from hints). */
  private get grid(): PointGrid {
    return (this.gridCache ??= new PointGrid(this.x, this.y, Math.max(2, this.maxSegM * 2)));
  }

  /**
   * The point of the current query and the last squared distance `segDist2` found: fields, not
   * arguments and return values, so the hot loops below pass no floating-point numbers through
   * calls (V8 boxes each one that crosses a call it did not inline: gigabytes of garbage).
   */
  private qx = NaN;
  private qy = NaN;
  private qd = NaN;
  private qMaxM = NaN;

  /**
   * Projects (px, py) if it lies within maxDistM of the line; fills `out`. `hint` (a segment
   * index, e.g. floor(out.pos) of the previous point of the same observation, 1 m away) starts
   * a local walk to the nearest segment instead of a grid query, and its answer is final.
   */
  project(px: number, py: number, maxDistM: number, out: Projection, hint = -1): boolean {
    this.qx = px;
    this.qy = py;
    this.qMaxM = maxDistM;
    return this.projectQuery(out, hint);
  }

  /** `project` of point i of (xs, ys), within out.maxDistM (no number crosses the call). */
  projectAt(xs: Float64Array, ys: Float64Array, i: number, out: Projection, hint = -1): boolean {
    this.qx = xs[i]!;
    this.qy = ys[i]!;
    this.qMaxM = out.maxDistM;
    return this.projectQuery(out, hint);
  }

  /** The projection of the query point (qx, qy) within qMaxM. */
  private projectQuery(out: Projection, hint: number): boolean {
    const maxDistM = this.qMaxM;
    const last = this.n - 2;
    if (hint >= 0) {
      let s = hint > last ? last : hint;
      if (this.closed) return this.walkClosed(s, out);
      this.segDist2(s);
      let d = this.qd;
      // Distances of the neighbouring segments; a step reuses the two it already knows.
      let dl = Infinity;
      let dr = Infinity;
      if (s > 0) {
        this.segDist2(s - 1);
        dl = this.qd;
      }
      if (s < last) {
        this.segDist2(s + 1);
        dr = this.qd;
      }
      for (;;) {
        if (dl < d && dl <= dr) {
          s--;
          dr = d;
          d = dl;
          dl = Infinity;
          if (s > 0) {
            this.segDist2(s - 1);
            dl = this.qd;
          }
        } else if (dr < d) {
          s++;
          dl = d;
          d = dr;
          dr = Infinity;
          if (s < last) {
            this.segDist2(s + 1);
            dr = this.qd;
          }
        } else break;
      }
      if (!(d <= maxDistM * maxDistM)) return false;
      this.qd = d;
      return this.fill(s, out);
    }
    let best = Infinity;
    let bs = -1;
    const q = candidateQuery;
    q[0] = this.qx;
    q[1] = this.qy;
    q[2] = maxDistM + this.maxSegM;
    const nc = this.grid.collectCandidatesOf(q, candidates);
    const buf = candidates.buf;
    for (let k = 0; k < nc; k++) {
      const v = buf[k]!;
      if (v > 0) {
        this.segDist2(v - 1);
        const d = this.qd;
        if (d < best) {
          best = d;
          bs = v - 1;
        }
      }
      if (v <= last) {
        this.segDist2(v);
        const d = this.qd;
        if (d < best) {
          best = d;
          bs = v;
        }
      }
    }
    if (bs < 0 || best > maxDistM * maxDistM) return false;
    this.qd = best;
    return this.fill(bs, out);
  }

  /**
   * The hint walk of a closed line: to the neighbouring segment while it is nearer, wrapping
   * over the seam (segment 0 follows the last one). Strictly decreasing distances: it ends.
   */
  private walkClosed(start: number, out: Projection): boolean {
    const last = this.n - 2;
    let s = start;
    this.segDist2(s);
    let d = this.qd;
    for (;;) {
      const l = s > 0 ? s - 1 : last;
      const r = s < last ? s + 1 : 0;
      this.segDist2(l);
      const dl = this.qd;
      this.segDist2(r);
      const dr = this.qd;
      if (dl < d && dl <= dr) {
        s = l;
        d = dl;
      } else if (dr < d) {
        s = r;
        d = dr;
      } else break;
    }
    const maxDistM = this.qMaxM;
    if (!(d <= maxDistM * maxDistM)) return false;
    this.qd = d;
    return this.fill(s, out);
  }

  /** Squared distance from the query point to segment s (clamped), into qd. */
  private segDist2(s: number): void {
    const vx = this.segX[s]!;
    const vy = this.segY[s]!;
    const wx = this.qx - this.x[s]!;
    const wy = this.qy - this.y[s]!;
    const len2 = this.segLen2[s]!;
    const dot = wx * vx + wy * vy;
    // Clamped at an end, the parameter is exactly 0 or 1: no division (same result bit for bit;
    // dot >= len2 > 0 rounds to a quotient >= 1).
    if (!(len2 > 0) || dot <= 0) {
      this.qd = wx * wx + wy * wy;
      return;
    }
    if (dot >= len2) {
      const ex = wx - vx;
      const ey = wy - vy;
      this.qd = ex * ex + ey * ey;
      return;
    }
    let t = dot / len2;
    t = t < 0 ? 0 : t > 1 ? 1 : t;
    const dx = wx - vx * t;
    const dy = wy - vy * t;
    this.qd = dx * dx + dy * dy;
  }

  /** Fills `out` for the query point on segment s at squared distance qd. */
  private fill(s: number, out: Projection): true {
    const px = this.qx;
    const py = this.qy;
    const ax = this.x[s]!;
    const ay = this.y[s]!;
    const vx = this.segUx[s]!;
    const vy = this.segUy[s]!;
    const len = this.segLen[s]!;
    const tRaw = ((px - ax) * vx + (py - ay) * vy) / len;
    const t = tRaw < 0 ? 0 : tRaw > 1 ? 1 : tRaw;
    out.tx = vx;
    out.ty = vy;
    out.dist = Math.sqrt(this.qd);
    out.fx = ax + vx * len * t;
    out.fy = ay + vy * len * t;
    out.pos = s + t;
    out.beyond = this.closed ? 0 : s === 0 && tRaw < 0 ? -1 : s === this.n - 2 && tRaw > 1 ? 1 : 0;
    // Lateral against the (extended) segment line, so points past an end get a meaningful offset.
    out.lat = vx * (py - ay) - vy * (px - ax);
    return true;
  }
}

/** Is (x, y) a closed line: >= 4 vertices, the last one the first bit for bit (see `Polyline`)? */
export function isClosedXY(x: ArrayLike<number>, y: ArrayLike<number>): boolean {
  const n = x.length;
  return n >= 4 && x[0] === x[n - 1] && y[0] === y[n - 1];
}

/** The vertex nearest to fractional position `pos` on L (a closed line's last vertex is its first). */
export function vertexAt(L: Polyline, pos: number): number {
  const v = Math.min(L.n - 1, Math.round(pos));
  return L.closed && v === L.n - 1 ? 0 : v;
}

export function polylineLength(x: ArrayLike<number>, y: ArrayLike<number>, from: number, to: number): number {
  let len = 0;
  for (let i = from + 1; i < to; i++) len += hypot(x[i]! - x[i - 1]!, y[i]! - y[i - 1]!);
  return len;
}

/**
 * Resample vertices [from, to) of (x, y) at `spacingM` (both ends kept, spacing adjusted to fit
 * the length exactly). Returns new arrays; a degenerate line gives its two end points.
 */
export function resampleFlat(x: ArrayLike<number>, y: ArrayLike<number>, from: number, to: number, spacingM: number): { x: Float64Array; y: Float64Array } {
  const total = polylineLength(x, y, from, to);
  const steps = resampleSteps(total, spacingM);
  const ox = new Float64Array(steps + 1);
  const oy = new Float64Array(steps + 1);
  resampleInto(x, y, from, to, total, steps, ox, oy, 0);
  return { x: ox, y: oy };
}

/** Intervals `resampleFlat` cuts a line of length totalM into. */
export function resampleSteps(totalM: number, spacingM: number): number {
  return Math.max(1, Math.round(totalM / spacingM));
}

/**
 * `resampleFlat` writing its steps + 1 points into (ox, oy) from `at`; `total` is
 * polylineLength(x, y, from, to) and `steps` resampleSteps(total, spacingM).
 */
export function resampleInto(x: ArrayLike<number>, y: ArrayLike<number>, from: number, to: number, total: number, steps: number, ox: Float64Array, oy: Float64Array, at: number): void {
  const step = total / steps;
  let seg = from;
  let segStart = 0;
  let segLen = to - from > 1 ? hypot(x[from + 1]! - x[from]!, y[from + 1]! - y[from]!) : 0;
  for (let k = 0; k <= steps; k++) {
    const s = k === steps ? total : k * step;
    while (seg < to - 2 && s > segStart + segLen) {
      segStart += segLen;
      seg++;
      segLen = hypot(x[seg + 1]! - x[seg]!, y[seg + 1]! - y[seg]!);
    }
    if (to - from < 2) {
      ox[at + k] = x[from]!;
      oy[at + k] = y[from]!;
      continue;
    }
    const t = segLen > 0 ? Math.min(1, Math.max(0, (s - segStart) / segLen)) : 0;
    ox[at + k] = x[seg]! + (x[seg + 1]! - x[seg]!) * t;
    oy[at + k] = y[seg]! + (y[seg + 1]! - y[seg]!) * t;
  }
}

/**
 * Unit tangents at each vertex by central differences: one-sided at the ends, or with `cyclic`
 * (the distinct vertices of a closed line, x/y[from .. to)) across the seam.
 */
export function vertexTangents(x: ArrayLike<number>, y: ArrayLike<number>, from: number, to: number, tx: Float64Array, ty: Float64Array, outOffset = from, cyclic = false): void {
  for (let i = from; i < to; i++) {
    const a = i > from ? i - 1 : cyclic ? to - 1 : i;
    const b = i < to - 1 ? i + 1 : cyclic ? from : i;
    let dx = x[b]! - x[a]!;
    let dy = y[b]! - y[a]!;
    const len = hypot(dx, dy);
    if (len > 0) {
      dx /= len;
      dy /= len;
    } else {
      dx = 1;
      dy = 0;
    }
    tx[outOffset + i - from] = dx;
    ty[outOffset + i - from] = dy;
  }
}

/** Douglas-Peucker: indices of the kept vertices of [from, to), ends always kept. */
export function simplifyIndices(x: ArrayLike<number>, y: ArrayLike<number>, from: number, to: number, toleranceM: number): number[] {
  const keep = new Uint8Array(to - from);
  keep[0] = 1;
  keep[to - from - 1] = 1;
  const stack: Array<[number, number]> = [[from, to - 1]];
  const tol2 = toleranceM * toleranceM;
  while (stack.length) {
    const [a, b] = stack.pop()!;
    const ax = x[a]!;
    const ay = y[a]!;
    const vx = x[b]! - ax;
    const vy = y[b]! - ay;
    const len2 = vx * vx + vy * vy;
    let worst = -1;
    let wi = -1;
    for (let i = a + 1; i < b; i++) {
      const wx = x[i]! - ax;
      const wy = y[i]! - ay;
      let t = len2 > 0 ? (wx * vx + wy * vy) / len2 : 0;
      t = t < 0 ? 0 : t > 1 ? 1 : t;
      const dx = wx - vx * t;
      const dy = wy - vy * t;
      const d2 = dx * dx + dy * dy;
      if (d2 > worst) {
        worst = d2;
        wi = i;
      }
    }
    if (wi >= 0 && worst > tol2) {
      keep[wi - from] = 1;
      stack.push([a, wi], [wi, b]);
    }
  }
  const out: number[] = [];
  for (let i = 0; i < keep.length; i++) if (keep[i]) out.push(from + i);
  return out;
}

/** Median of the first n entries of a (reorders a typed array's; NaN-free input). */
export function medianInPlace(a: Float64Array | number[], n: number): number {
  if (n <= 0) return NaN;
  const mid = n >> 1;
  if (!(a instanceof Float64Array)) {
    const sub = a.slice(0, n).sort((p, q) => p - q);
    return n % 2 ? sub[mid]! : (sub[mid - 1]! + sub[mid]!) / 2;
  }
  selectInPlace(a, mid, 0, n - 1);
  const hi = a[mid]!;
  if (n % 2) return hi;
  // The lower middle: the largest of the entries selection left below mid.
  let lo = a[0]!;
  for (let i = 1; i < mid; i++) if (a[i]! > lo) lo = a[i]!;
  return (lo + hi) / 2;
}

/** Quantile f in [0, 1] of an ascending array, linear between neighbouring entries; NaN when empty. */
export function quantileOfSorted(s: readonly number[], f: number): number {
  const n = s.length;
  if (n === 0) return NaN;
  const t = f * (n - 1);
  const i = Math.floor(t);
  return i + 1 < n ? s[i]! + (t - i) * (s[i + 1]! - s[i]!) : s[n - 1]!;
}

/** Reorders a[left..right] so that a[k] is the value sorting would put there (Hoare's selection). */
function selectInPlace(a: Float64Array, k: number, left: number, right: number): void {
  while (right > left) {
    const t = a[k]!;
    let i = left;
    let j = right;
    swap(a, left, k);
    if (a[right]! > t) swap(a, left, right);
    while (i < j) {
      swap(a, i, j);
      i++;
      j--;
      while (a[i]! < t) i++;
      while (a[j]! > t) j--;
    }
    if (a[left] === t) swap(a, left, j);
    else {
      j++;
      swap(a, j, right);
    }
    if (j <= k) left = j + 1;
    if (k <= j) right = j - 1;
  }
}

function swap(a: Float64Array, i: number, j: number): void {
  const t = a[i]!;
  a[i] = a[j]!;
  a[j] = t;
}

/**
 * Math.hypot(x, y), bit for bit (V8's algorithm for two arguments: scale by the larger
 * magnitude, sum the squares, sqrt, scale back), a few times faster than the builtin call.
 * Finite arguments only (coordinates): NaN in, NaN out.
 */
export function hypot(x: number, y: number): number {
  const a = x < 0 ? -x : x;
  const b = y < 0 ? -y : y;
  const m = a > b ? a : b;
  if (m === 0) return 0;
  if (m === Infinity) return Infinity;
  const p = a / m;
  const q = b / m;
  return Math.sqrt(p * p + q * q) * m;
}
