/**
 * Fine alignment: per drive segment, a 2-D translation and (when rotationPriorSigmaRad > 0) a
 * small rotation about the segment's pivot, from point-to-line residuals against the consensus
 * lines (and point-to-point against consensus signs/lights), robust (Tukey), with priors: each
 * translation ~ N(0, biasPriorSigmaM^2) (which only matters in directions the data leave free,
 * e.g. along a straight road), each rotation ~ N(0, rotationPriorSigmaRad^2), and consecutive
 * segments of a drive differ in translation by ~ N(0, driftStepSigmaM^2) (GNSS bias drifts
 * slowly; a Huber weight lets a multipath jump through). Solved per drive by Gauss-Seidel on the
 * chain of its segments. The rotation takes up a heading error, or a drift that runs on within
 * one segment: the residual across a line then grows along it.
 */
import { centreOnDrives } from './align-coarse.ts';
import { refit } from './cluster-lines.ts';
import type { Clustering } from './consensus.ts';
import type { MergeOptions } from './options.ts';
import { hypot, medianInPlace, newProjection, Polyline } from './polyline.ts';
import { correctPoints, correctVertices, type Prepared, type Resampled } from './prepare.ts';

/** Information weight of one metre of line (points along one observation are correlated), 1/m^2. */
export const LINE_WEIGHT_PER_M = 25;
/** Information weight of one sign/light observation per axis, 1/m^2. */
export const POINT_OBS_WEIGHT = 75;

/**
 * Accumulated normal equations of every segment in its unknowns (dx, dy, theta): A, symmetric,
 * stored as (xx, xy, xt, yy, yt, tt), and b (x, y, t). `lever` is the derivative of the residual
 * with respect to theta (0 when rotation is off, which leaves the theta entries 0).
 */
export class SegmentEquations {
  readonly A: Float64Array;
  readonly b: Float64Array;
  readonly robustM: number;

  constructor(nSeg: number, robustM: number) {
    this.A = new Float64Array(6 * nSeg);
    this.b = new Float64Array(3 * nSeg);
    this.robustM = robustM;
  }

  /**
   * Residual r = n . (p - foot) along unit normal (nx, ny); `lever` = n . perp(q - pivot) for the
   * raw point q (perp(v) = (-vy, vx)), the residual's change per radian of the segment's rotation.
   */
  addLine(seg: number, nx: number, ny: number, r: number, w: number, lever = 0): void {
    const ww = w * tukey(r, this.robustM);
    if (ww <= 0) return;
    const A = this.A;
    const b = this.b;
    const a = 6 * seg;
    A[a] = A[a]! + ww * nx * nx;
    A[a + 1] = A[a + 1]! + ww * nx * ny;
    A[a + 2] = A[a + 2]! + ww * nx * lever;
    A[a + 3] = A[a + 3]! + ww * ny * ny;
    A[a + 4] = A[a + 4]! + ww * ny * lever;
    A[a + 5] = A[a + 5]! + ww * lever * lever;
    b[3 * seg] = b[3 * seg]! - ww * nx * r;
    b[3 * seg + 1] = b[3 * seg + 1]! - ww * ny * r;
    b[3 * seg + 2] = b[3 * seg + 2]! - ww * lever * r;
  }

  /** Residual vector (rx, ry) = p - target; (ux, uy) = perp(q - pivot) for the raw point q (0, 0 without rotation). */
  addPoint(seg: number, rx: number, ry: number, w: number, ux = 0, uy = 0): void {
    const ww = w * tukey(hypot(rx, ry), 2 * this.robustM);
    if (ww <= 0) return;
    const A = this.A;
    const b = this.b;
    const a = 6 * seg;
    A[a] = A[a]! + ww;
    A[a + 2] = A[a + 2]! + ww * ux;
    A[a + 3] = A[a + 3]! + ww;
    A[a + 4] = A[a + 4]! + ww * uy;
    A[a + 5] = A[a + 5]! + ww * (ux * ux + uy * uy);
    b[3 * seg] = b[3 * seg]! - ww * rx;
    b[3 * seg + 1] = b[3 * seg + 1]! - ww * ry;
    b[3 * seg + 2] = b[3 * seg + 2]! - ww * (ux * rx + uy * ry);
  }
}

function tukey(r: number, c: number): number {
  const u = r / c;
  return u * u >= 1 ? 0 : (1 - u * u) ** 2;
}

/** Lever used to express a rotation step as metres in the convergence test (a segment's reach). */
const ROTATION_STEP_LEVER_M = 20;

/**
 * Updates `corr` ([dx, dy] per segment) and `theta` (rotation per segment; null when off) in
 * place from the equations (which are linearised at the current corrections), then re-centres
 * the gauge. Returns the largest step, metres.
 */
export function solveSegments(p: Prepared, corr: Float64Array, eq: SegmentEquations, o: MergeOptions, theta: Float64Array | null = null): number {
  const old = corr.slice();
  const oldTheta = theta ? theta.slice() : null;
  const lam0 = 1 / (o.biasPriorSigmaM * o.biasPriorSigmaM);
  const lamT = theta ? 1 / (o.rotationPriorSigmaRad * o.rotationPriorSigmaRad) : 0;
  const sig = o.driftStepSigmaM;
  const A = eq.A;
  const B = eq.b;
  for (const segs of p.driveSegs) {
    const m = segs.length;
    if (!m) continue;
    // Chain weights between consecutive segments, Huber on the current difference.
    const lam = new Float64Array(Math.max(0, m - 1));
    for (let round = 0; round < 2; round++) {
      for (let k = 0; k + 1 < m; k++) {
        const a = segs[k]!;
        const c = segs[k + 1]!;
        const gapS = Math.max(0, (p.segT0[c]! - p.segT1[a]!) / 1000);
        const s = sig * Math.sqrt(1 + gapS / o.segmentMaxS);
        const diff = hypot(corr[2 * a]! - corr[2 * c]!, corr[2 * a + 1]! - corr[2 * c + 1]!);
        lam[k] = (1 / (s * s)) * (diff > 2 * s ? (2 * s) / diff : 1);
      }
      for (let sweep = 0; sweep < 30; sweep++) {
        for (let k = 0; k < m; k++) {
          const s = segs[k]!;
          const a6 = 6 * s;
          let axx = A[a6]! + lam0;
          const axy = A[a6 + 1]!;
          let ayy = A[a6 + 3]! + lam0;
          let bx = A[a6]! * old[2 * s]! + axy * old[2 * s + 1]! + B[3 * s]!;
          let by = axy * old[2 * s]! + A[a6 + 3]! * old[2 * s + 1]! + B[3 * s + 1]!;
          if (k > 0) {
            const l = lam[k - 1]!;
            const nb = segs[k - 1]!;
            axx += l;
            ayy += l;
            bx += l * corr[2 * nb]!;
            by += l * corr[2 * nb + 1]!;
          }
          if (k + 1 < m) {
            const l = lam[k]!;
            const nb = segs[k + 1]!;
            axx += l;
            ayy += l;
            bx += l * corr[2 * nb]!;
            by += l * corr[2 * nb + 1]!;
          }
          if (!theta) {
            const det = axx * ayy - axy * axy;
            corr[2 * s] = (ayy * bx - axy * by) / det;
            corr[2 * s + 1] = (axx * by - axy * bx) / det;
            continue;
          }
          // With the rotation: the 3x3 system in (dx, dy, theta), by Cramer's rule.
          const axt = A[a6 + 2]!;
          const ayt = A[a6 + 4]!;
          const att = A[a6 + 5]! + lamT;
          const t0 = oldTheta![s]!;
          bx += axt * t0;
          by += ayt * t0;
          const bt = axt * old[2 * s]! + ayt * old[2 * s + 1]! + A[a6 + 5]! * t0 + B[3 * s + 2]!;
          const c00 = ayy * att - ayt * ayt;
          const c01 = axt * ayt - axy * att;
          const c02 = axy * ayt - axt * ayy;
          const det = axx * c00 + axy * c01 + axt * c02;
          const c11 = axx * att - axt * axt;
          const c12 = axt * axy - axx * ayt;
          const c22 = axx * ayy - axy * axy;
          corr[2 * s] = (c00 * bx + c01 * by + c02 * bt) / det;
          corr[2 * s + 1] = (c01 * bx + c11 * by + c12 * bt) / det;
          theta[s] = (c02 * bx + c12 * by + c22 * bt) / det;
        }
        if (m === 1) break;
      }
    }
  }
  centreOnDrives(p, corr);
  let maxStep = 0;
  for (let s = 0; s < p.nSeg; s++) {
    maxStep = Math.max(maxStep, hypot(corr[2 * s]! - old[2 * s]!, corr[2 * s + 1]! - old[2 * s + 1]!));
    if (theta) maxStep = Math.max(maxStep, Math.abs(theta[s]! - oldTheta![s]!) * ROTATION_STEP_LEVER_M);
  }
  return maxStep;
}

/**
 * Iterates {refit each consensus to the current corrections, align each segment to the
 * consensus} with the clusters' membership fixed. Single-drive clusters carry no information
 * about the others and are skipped. Mutates the clusters' lines and `corr`.
 */
export function alignToConsensus(p: Prepared, r: Resampled, c: Clustering, corr: Float64Array, o: MergeOptions, theta: Float64Array | null = null): { iterations: number; lastStepM: number } {
  const pr = newProjection(2 * o.fineRobustM);
  let lastStepM = 0;
  let it = 0;
  for (; it < o.fineIterations; it++) {
    const pos = correctPoints(r, p, corr, null, theta);
    const vtx = correctVertices(p, corr, null, theta);
    const eq = new SegmentEquations(p.nSeg, o.fineRobustM);
    for (const { cl, clusters } of c.lines) {
      const P = cl.P;
      for (let k = 0; k < P.n; k++) {
        P.x[k] = pos.x[cl.src[k]!]!;
        P.y[k] = pos.y[cl.src[k]!]!;
      }
      for (const k of clusters) {
        if (maxOf(k.support) < 2) continue;
        const L = refit(new Polyline(k.x, k.y), P, k.pts, cl.params);
        k.x = L.x;
        k.y = L.y;
        let hint = -1;
        let prevI = -2;
        for (const i of k.pts) {
          if (i !== prevI + 1) hint = -1;
          prevI = i;
          if (!L.projectAt(P.x, P.y, i, pr, hint)) {
            hint = -1;
            continue;
          }
          hint = Math.floor(pr.pos) | 0;
          if (pr.beyond !== 0) continue;
          const q = cl.src[i]!;
          const s = p.seg[r.obs[q]!]!;
          // Rotation lever n . perp(q - pivot), n = (-ty, tx), perp(v) = (-vy, vx).
          const lever = theta ? pr.ty * (r.ry[q]! - p.segPivotY[s]!) + pr.tx * (r.rx[q]! - p.segPivotX[s]!) : 0;
          eq.addLine(s, -pr.ty, pr.tx, pr.lat, LINE_WEIGHT_PER_M * cl.params.spacingM, lever);
        }
      }
    }
    const bx = new Float64Array(64);
    const by = new Float64Array(64);
    for (const pc of c.points) {
      if (new Set(pc.members.map((i) => p.drive[i]!)).size < 2 || pc.members.length > bx.length) continue;
      pc.members.forEach((i, k) => {
        bx[k] = vtx.x[p.vStart[i]!]!;
        by[k] = vtx.y[p.vStart[i]!]!;
      });
      const cx = medianInPlace(bx, pc.members.length);
      const cy = medianInPlace(by, pc.members.length);
      for (const i of pc.members) {
        const s = p.seg[i]!;
        const v = p.vStart[i]!;
        const ux = theta ? -(p.vy[v]! - p.segPivotY[s]!) : 0;
        const uy = theta ? p.vx[v]! - p.segPivotX[s]! : 0;
        eq.addPoint(s, vtx.x[v]! - cx, vtx.y[v]! - cy, POINT_OBS_WEIGHT, ux, uy);
      }
    }
    lastStepM = solveSegments(p, corr, eq, o, theta);
    if (lastStepM < 0.002) {
      it++;
      break;
    }
  }
  return { iterations: it, lastStepM };
}

/** Largest entry, 0 for none (Math.max(0, ...a) without spreading a long array into arguments). */
function maxOf(a: Int32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) if (a[i]! > m) m = a[i]!;
  return m;
}
