/**
 * Per-patch rigid alignment for the *relative* figures.
 *
 * No merge can remove the part of the GNSS error that all drives over a place share: with
 * independent per-drive biases of sigma, the consensus is off by about sigma / sqrt(drives)
 * while its local geometry can be far better. To score that local geometry we remove ONE
 * best-fit translation per alignment patch (default 100 m x 100 m) and score again.
 *
 * Translation only, no rotation: a shared GNSS bias is a translation, and over 100 m a heading
 * error small enough to survive the merge moves points by centimetres at most; estimating a
 * rotation from a few lines would also let the fit absorb real shape errors.
 *
 * Estimate (per patch, all classes together, each sample matched within its own class): the
 * predictions are sampled every `sampleStepM` along their lines (points as they are); an
 * iterative closest point loop then pairs each sample with its nearest ground truth within the
 * gate and solves a point-to-line least-squares step (point-to-point for signs and lights), so a
 * straight road constrains only the offset across it and the unobservable along-road component
 * stays at 0 (a small ridge term damps directions fewer than ~1% of the pairs constrain). Robust
 * to outliers (false lines, misses): pairs farther than the gate (default 2 m) are ignored, and
 * from the second iteration on only pairs within max(minGateM, min(gateM / 2^iteration,
 * 3 x median residual)) are kept;
 * samples whose nearest ground truth is an open end reached from beyond it are ignored.
 *
 * Assignment: polylines are cut at the alignment grid and each piece moves with its own patch
 * (a long merged boundary spans many patches and must not follow one patch's offset); the moved
 * pieces are chained back into one polyline, so a primitive stays one primitive. Crosswalk rings
 * and points move whole with the patch of their centroid.
 */
import { CLASS_GEOMETRY, type PrimitiveClass, type ScoredPrimitive, type Primitive, type XY } from '../../shared/schema.ts';
import { centroid, resampleSpacing } from '../../shared/geometry.ts';
import { SegmentGrid, cellKey } from './grid_index.ts';
import { cutPolylineOnGrid, lineOf } from './instances.ts';
import { quantile } from './metrics.ts';

export interface AlignOptions {
  /** Alignment patch edge, metres. */
  patchM: number;
  /** Grid origin, `[eastM, northM]`. */
  originM: XY;
  /** Pairs farther apart than this are never used, metres. */
  gateM: number;
  /** The adaptive gate never shrinks below this, metres. */
  minGateM: number;
  /** Sampling step along prediction lines, metres. */
  sampleStepM: number;
  /** Fewer kept pairs than this in a patch: no offset is applied there. */
  minPairs: number;
  /** Iteration cap of the closest-point loop. */
  maxIterations: number;
}

export const DEFAULT_ALIGN_OPTIONS: AlignOptions = {
  patchM: 100, // m
  originM: [0, 0], // [eastM, northM]
  gateM: 2, // m
  minGateM: 0.2, // m
  sampleStepM: 1, // m
  minPairs: 10, // pairs (~10 m of line)
  maxIterations: 30,
};

/** The translation removed in one alignment patch (prediction + offset ~ ground truth). */
export interface PatchOffset {
  ix: number;
  iy: number;
  dxM: number;
  dyM: number;
  /** Pairs used in the last iteration. */
  pairs: number;
  /** False when the patch had too few pairs: its offset is 0. */
  aligned: boolean;
}

interface Piece {
  src: number;
  cls: PrimitiveClass;
  cell: number;
  ix: number;
  iy: number;
  points: Array<[number, number]>;
}

/** Estimate one translation per alignment patch and return the shifted predictions. */
export function alignPerPatch(
  gt: readonly Primitive[],
  pred: readonly ScoredPrimitive[],
  options: Partial<AlignOptions> = {},
): { shifted: ScoredPrimitive[]; offsets: PatchOffset[] } {
  const opts = { ...DEFAULT_ALIGN_OPTIONS, ...options };
  const pieces = piecesOf(pred, opts);
  const grids = gtGrids(gt);
  const byCell = new Map<number, Piece[]>();
  for (const pc of pieces) {
    const list = byCell.get(pc.cell);
    if (list === undefined) byCell.set(pc.cell, [pc]);
    else list.push(pc);
  }
  const offsets = new Map<number, PatchOffset>();
  for (const [cell, list] of byCell) {
    const first = list[0]!;
    offsets.set(cell, { ix: first.ix, iy: first.iy, ...estimateOffset(list, grids, opts) });
  }
  // Each primitive stays one primitive: its pieces, each moved with its own patch, are chained
  // in order (a border vertex appears once per side, joined by a step of the offset difference),
  // so the AP's cutting rules still see the original primitive.
  const moved: Array<Array<[number, number]>> = pred.map(() => []);
  for (const pc of pieces) {
    const o = offsets.get(pc.cell)!;
    const out = moved[pc.src]!;
    for (const q of pc.points) out.push([q[0] + o.dxM, q[1] + o.dyM]);
  }
  const shifted: ScoredPrimitive[] = pred.map((p, i) => ({ ...p, points: moved[i]! }));
  return { shifted, offsets: [...offsets.values()] };
}

/** Median length of the applied offsets, cm (null when no patch was aligned). */
export function medianOffsetCm(offsets: readonly PatchOffset[]): number | null {
  const q = quantile(
    offsets.filter((o) => o.aligned).map((o) => 100 * Math.hypot(o.dxM, o.dyM)),
    0.5,
  );
  return q;
}

function piecesOf(pred: readonly ScoredPrimitive[], opts: AlignOptions): Piece[] {
  const out: Piece[] = [];
  const at = (x: number, y: number): { ix: number; iy: number; cell: number } => {
    const ix = Math.floor((x - opts.originM[0]) / opts.patchM);
    const iy = Math.floor((y - opts.originM[1]) / opts.patchM);
    return { ix, iy, cell: cellKey(ix, iy) };
  };
  pred.forEach((p, src) => {
    const shape = CLASS_GEOMETRY[p.cls];
    const pts: Array<[number, number]> = p.points.map((q) => [q[0], q[1]]);
    if (shape === 'polyline') {
      for (const pc of cutPolylineOnGrid(pts, false, opts.patchM, opts.originM)) {
        out.push({ src, cls: p.cls, cell: cellKey(pc.ix, pc.iy), ix: pc.ix, iy: pc.iy, points: pc.points });
      }
      return;
    }
    const [cx, cy] = centroid(pts);
    out.push({ src, cls: p.cls, ...at(cx, cy), points: pts });
  });
  return out;
}

function gtGrids(gt: readonly Primitive[]): Map<PrimitiveClass, SegmentGrid> {
  const lines = new Map<PrimitiveClass, Array<{ points: Array<[number, number]>; closed: boolean }>>();
  for (const g of gt) {
    const list = lines.get(g.cls) ?? [];
    list.push(lineOf(g));
    lines.set(g.cls, list);
  }
  const out = new Map<PrimitiveClass, SegmentGrid>();
  for (const [cls, list] of lines) out.set(cls, new SegmentGrid(list, 4));
  return out;
}

function estimateOffset(pieces: readonly Piece[], grids: Map<PrimitiveClass, SegmentGrid>, opts: AlignOptions): Omit<PatchOffset, 'ix' | 'iy'> {
  const xs: number[] = [];
  const ys: number[] = [];
  const gridOf: SegmentGrid[] = [];
  const isPoint: boolean[] = [];
  for (const pc of pieces) {
    const grid = grids.get(pc.cls);
    if (grid === undefined) continue;
    const point = CLASS_GEOMETRY[pc.cls] === 'point';
    const closed = CLASS_GEOMETRY[pc.cls] === 'polygon';
    const line = closed ? [...pc.points, pc.points[0]!] : pc.points;
    const samples = point ? line : resampleSpacing(line, opts.sampleStepM);
    for (const s of samples) {
      xs.push(s[0]);
      ys.push(s[1]);
      gridOf.push(grid);
      isPoint.push(point);
    }
  }
  let tx = 0;
  let ty = 0;
  let gate = opts.gateM;
  let pairs = 0;
  // Per pair: normal (nx, ny) and residual e along it; point pairs use two unit normals.
  const nx: number[] = [];
  const ny: number[] = [];
  const e: number[] = [];
  const mag: number[] = [];
  for (let it = 0; it < opts.maxIterations; it++) {
    nx.length = 0;
    ny.length = 0;
    e.length = 0;
    mag.length = 0;
    for (let i = 0; i < xs.length; i++) {
      const x = xs[i]! + tx;
      const y = ys[i]! + ty;
      const hit = gridOf[i]!.nearest(x, y, opts.gateM);
      if (hit === null || hit.beyondEnd) continue;
      const rx = hit.footX - x;
      const ry = hit.footY - y;
      if (isPoint[i]) {
        nx.push(1, 0);
        ny.push(0, 1);
        e.push(rx, ry);
        const m = Math.hypot(rx, ry);
        mag.push(m, m);
        continue;
      }
      let ux: number;
      let uy: number;
      const interior = hit.t > 0 && hit.t < 1 && (hit.dirX !== 0 || hit.dirY !== 0);
      if (interior) {
        ux = -hit.dirY;
        uy = hit.dirX;
      } else if (hit.distM > 1e-9) {
        ux = rx / hit.distM;
        uy = ry / hit.distM;
      } else continue;
      const ei = ux * rx + uy * ry;
      nx.push(ux);
      ny.push(uy);
      e.push(ei);
      mag.push(Math.abs(ei));
    }
    if (it > 0) {
      // Anneal (halve the gate each iteration) and adapt (3 x median residual): the annealing
      // stops a false line just inside the first gate from holding the fit halfway to it.
      const med = quantile(mag, 0.5) ?? 0;
      gate = Math.max(opts.minGateM, Math.min(opts.gateM * 0.5 ** it, 3 * med));
    }
    let a00 = 0;
    let a01 = 0;
    let a11 = 0;
    let b0 = 0;
    let b1 = 0;
    let used = 0;
    for (let k = 0; k < e.length; k++) {
      if (mag[k]! > gate) continue;
      const ux = nx[k]!;
      const uy = ny[k]!;
      a00 += ux * ux;
      a01 += ux * uy;
      a11 += uy * uy;
      b0 += ux * e[k]!;
      b1 += uy * e[k]!;
      used++;
    }
    pairs = used;
    if (used < opts.minPairs) break;
    const ridge = 0.01 * (a00 + a11);
    const m00 = a00 + ridge;
    const m11 = a11 + ridge;
    const det = m00 * m11 - a01 * a01;
    if (!(det > 0)) break;
    const dx = (m11 * b0 - a01 * b1) / det;
    const dy = (m00 * b1 - a01 * b0) / det;
    tx += dx;
    ty += dy;
    if (Math.hypot(dx, dy) < 1e-4) break;
  }
  if (pairs < opts.minPairs) return { dxM: 0, dyM: 0, pairs, aligned: false };
  return { dxM: tx, dyM: ty, pairs, aligned: true };
}
