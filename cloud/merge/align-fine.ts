/**
 * Fine alignment: per drive segment, a 2-D translation from point-to-line residuals against
 * the consensus lines (and point-to-point against consensus signs/lights), robust (Tukey), with
 * two priors: each correction ~ N(0, biasPriorSigmaM^2) (which only matters in directions the
 * data leave free, e.g. along a straight road), and consecutive segments of a drive differ by
 * ~ N(0, driftStepSigmaM^2) (GNSS bias drifts slowly; a Huber weight lets a multipath jump
 * through). Solved per drive by Gauss-Seidel on the chain of its segments.
 */
import { centreOnDrives } from './align-coarse.ts';
import { refit } from './cluster-lines.ts';
import { correctVertices, type Clustering } from './consensus.ts';
import type { MergeOptions } from './options.ts';
import { hypot, medianInPlace, newProjection, Polyline } from './polyline.ts';
import { correctPoints, type Prepared, type Resampled } from './prepare.ts';

/** Information weight of one metre of line (points along one observation are correlated), 1/m^2. */
export const LINE_WEIGHT_PER_M = 25;
/** Information weight of one sign/light observation per axis, 1/m^2. */
export const POINT_OBS_WEIGHT = 75;

/** Accumulated normal equations of every segment: A (xx, xy, yy) and b (x, y). */
export class SegmentEquations {
  readonly A: Float64Array;
  readonly b: Float64Array;
  readonly robustM: number;

  constructor(nSeg: number, robustM: number) {
    this.A = new Float64Array(3 * nSeg);
    this.b = new Float64Array(2 * nSeg);
    this.robustM = robustM;
  }

  /** Residual r = n . (p - foot) along unit normal (nx, ny). */
  addLine(seg: number, nx: number, ny: number, r: number, w: number): void {
    const ww = w * tukey(r, this.robustM);
    if (ww <= 0) return;
    const A = this.A;
    const b = this.b;
    A[3 * seg] = A[3 * seg]! + ww * nx * nx;
    A[3 * seg + 1] = A[3 * seg + 1]! + ww * nx * ny;
    A[3 * seg + 2] = A[3 * seg + 2]! + ww * ny * ny;
    b[2 * seg] = b[2 * seg]! - ww * nx * r;
    b[2 * seg + 1] = b[2 * seg + 1]! - ww * ny * r;
  }

  /** Residual vector (rx, ry) = p - target. */
  addPoint(seg: number, rx: number, ry: number, w: number): void {
    const ww = w * tukey(hypot(rx, ry), 2 * this.robustM);
    if (ww <= 0) return;
    this.A[3 * seg] = this.A[3 * seg]! + ww;
    this.A[3 * seg + 2] = this.A[3 * seg + 2]! + ww;
    this.b[2 * seg] = this.b[2 * seg]! - ww * rx;
    this.b[2 * seg + 1] = this.b[2 * seg + 1]! - ww * ry;
  }
}

function tukey(r: number, c: number): number {
  const u = r / c;
  return u * u >= 1 ? 0 : (1 - u * u) ** 2;
}

/**
 * Updates `corr` ([dx, dy] per segment) in place from the equations (which are linearised at
 * the current corrections), then re-centres the gauge. Returns the largest step, metres.
 */
export function solveSegments(p: Prepared, corr: Float64Array, eq: SegmentEquations, o: MergeOptions): number {
  const old = corr.slice();
  const lam0 = 1 / (o.biasPriorSigmaM * o.biasPriorSigmaM);
  const sig = o.driftStepSigmaM;
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
          let axx = eq.A[3 * s]! + lam0;
          const axy = eq.A[3 * s + 1]!;
          let ayy = eq.A[3 * s + 2]! + lam0;
          let bx = eq.A[3 * s]! * old[2 * s]! + axy * old[2 * s + 1]! + eq.b[2 * s]!;
          let by = axy * old[2 * s]! + eq.A[3 * s + 2]! * old[2 * s + 1]! + eq.b[2 * s + 1]!;
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
          const det = axx * ayy - axy * axy;
          corr[2 * s] = (ayy * bx - axy * by) / det;
          corr[2 * s + 1] = (axx * by - axy * bx) / det;
        }
        if (m === 1) break;
      }
    }
  }
  centreOnDrives(p, corr);
  let maxStep = 0;
  for (let s = 0; s < p.nSeg; s++) maxStep = Math.max(maxStep, hypot(corr[2 * s]! - old[2 * s]!, corr[2 * s + 1]! - old[2 * s + 1]!));
  return maxStep;
}

/**
 * Iterates {refit each consensus to the current corrections, align each segment to the
 * consensus} with the clusters' membership fixed. Single-drive clusters carry no information
 * about the others and are skipped. Mutates the clusters' lines and `corr`.
 */
export function alignToConsensus(p: Prepared, r: Resampled, c: Clustering, corr: Float64Array, o: MergeOptions): { iterations: number; lastStepM: number } {
  const pr = newProjection(2 * o.fineRobustM);
  let lastStepM = 0;
  let it = 0;
  for (; it < o.fineIterations; it++) {
    const pos = correctPoints(r, p, corr, null);
    const vtx = correctVertices(p, corr, null);
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
          if (pr.beyond === 0) eq.addLine(p.seg[r.obs[cl.src[i]!]!]!, -pr.ty, pr.tx, pr.lat, LINE_WEIGHT_PER_M * cl.params.spacingM);
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
      for (const i of pc.members) eq.addPoint(p.seg[i]!, vtx.x[p.vStart[i]!]! - cx, vtx.y[p.vStart[i]!]! - cy, POINT_OBS_WEIGHT);
    }
    lastStepM = solveSegments(p, corr, eq, o);
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
