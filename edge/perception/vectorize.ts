/**
 * Bird's-eye class grid -> map primitives (the same code for one frame and for the fused local
 * map). Positions are metres in the grid's frame (the local map's east-north frame, or the body
 * frame x forward / y left for a single frame: any right-handed planar frame).
 *
 * Per cell the probability of a class is evidence / visibility; a cell belongs to a class group
 * when that fraction reaches `presenceThreshold` (and the cell was seen at all):
 * - lane dividers: solid + dashed as one mask -> Zhang-Suen skeleton -> traced pieces, centred
 *   sideways on the evidence (sub-cell), linked end to end across dash gaps (<= dividerMaxGapM)
 *   when their directions agree; style by vote of the solid/dashed evidence and the painted
 *   fraction along the line;
 * - road boundaries: the same with the curb/border/barrier mask, kind by evidence vote;
 * - stop lines: connected component -> its principal axis as a 2-point segment;
 * - crosswalks: stripes joined by a small dilation -> oriented rectangle (4 corners, CCW);
 * - signs / lights: component centroids (signCode '').
 * Lines are simplified (Douglas-Peucker) and filtered by length. With a `clip` rectangle, each
 * primitive is kept only inside it (polylines cut at its edges; other classes kept when their
 * centre lies in [min, max)), so neighbouring chunks vectorised with overlapping margins emit
 * nothing twice.
 */
import { SEG_CLASS_COUNT, SEG_CLASS_IDS } from '../../shared/camera.ts';
import type { BoundaryKind, DividerStyle, PrimitiveClass } from '../../shared/schema.ts';
import { simplify } from '../compact.ts';
import { clipPolyline, lengthM, linkPolylines, type Pt } from './polyline.ts';
import { components, dilate, fillHoles, pruneSpurs, thinZhangSuen, traceSkeleton } from './raster.ts';

/**
 * Class evidence on a square-cell grid. Cell (col, row) covers [originXM + col * cellM, + cellM)
 * x [originYM + row * cellM, + cellM); index row * widthCells + col (row 0 at the lowest y).
 */
export interface BevGrid {
  widthCells: number;
  heightCells: number;
  /** Cell side, metres. */
  cellM: number;
  /** Corner of cell (0, 0) (its lowest x and y), metres. */
  originXM: number;
  originYM: number;
  /** How much each cell was seen (weighted samples). */
  visibility: Float32Array;
  /**
   * Evidence per class id 1..SEG_CLASS_COUNT-1 (background is not stored): plane of class k at
   * [(k - 1) * cells, k * cells).
   */
  evidence: Float32Array;
}

/** A vectorised primitive in the grid's frame, metres. */
export interface VectorPrimitive {
  cls: PrimitiveClass;
  style?: DividerStyle;
  kind?: BoundaryKind;
  signCode?: string;
  /** evidence / visibility over the primitive's cells, in [0, 1]. */
  score: number;
  /** Vertices [xM, yM] (a polygon's corners without repeating the first; one entry for points). */
  points: Array<[number, number]>;
}

export interface ClipRect {
  minXM: number;
  minYM: number;
  maxXM: number;
  maxYM: number;
}

export interface VectorizeOptions {
  /** Fraction evidence / visibility at which a cell counts as the class, in (0, 1]. */
  presenceThreshold: number;
  /** Cells seen less than this (weighted samples) count as unseen. */
  minVisibility: number;
  /** Longest gap bridged between divider pieces (dash gaps), metres. */
  dividerMaxGapM: number;
  /** Longest gap bridged between boundary pieces, metres. */
  boundaryMaxGapM: number;
  /** Largest direction difference for linking, radians. */
  linkMaxAngleRad: number;
  /** Largest sideways offset for linking, metres. */
  linkMaxLateralM: number;
  /** Traced pieces shorter than this are noise, metres. */
  minPieceM: number;
  /** Shortest divider / boundary kept (before clipping), metres. */
  minLineLengthM: number;
  /** Shortest stop line, metres. */
  minStopLineLengthM: number;
  /** Smallest crosswalk rectangle, square metres. */
  minCrosswalkAreaM2: number;
  /** Crosswalk stripes closer than this are one crosswalk, metres. */
  crosswalkJoinM: number;
  /** Smallest sign / light blob, cells. */
  minPointCells: number;
  /** Holes in a line's mask up to this area are filled before thinning, square metres. */
  maxHoleM2: number;
  /** Skeleton branches from a line end to a junction shorter than this are removed, metres. */
  maxSpurM: number;
  /** Traced lines are smoothed with a moving average over +-this along the line, metres. */
  smoothHalfWindowM: number;
  /** A line lying (mostly) within this of a longer one is a duplicate trace of it, metres. */
  duplicateDistanceM: number;
  /** Sideways search for centring a line on its evidence, metres each side. */
  refineHalfWidthM: number;
  /** Painted fraction at or above which the geometry says "solid", in [0, 1]. */
  solidPaintedFraction: number;
  /** Douglas-Peucker tolerance, metres. */
  simplifyToleranceM: number;
}

export const DEFAULT_VECTORIZE_OPTIONS: VectorizeOptions = {
  presenceThreshold: 0.35, // fraction
  minVisibility: 0.01, // weighted samples
  dividerMaxGapM: 8, // m
  boundaryMaxGapM: 3, // m
  linkMaxAngleRad: 0.2, // rad
  linkMaxLateralM: 0.35, // m
  minPieceM: 0.3, // m
  minLineLengthM: 1.5, // m
  minStopLineLengthM: 1, // m
  minCrosswalkAreaM2: 2, // m^2
  crosswalkJoinM: 0.9, // m
  minPointCells: 2, // cells
  maxHoleM2: 1, // m^2
  maxSpurM: 0.9, // m
  smoothHalfWindowM: 0.6, // m
  duplicateDistanceM: 0.4, // m
  refineHalfWidthM: 0.45, // m
  solidPaintedFraction: 0.9, // fraction
  simplifyToleranceM: 0.06, // m
};

const C = SEG_CLASS_IDS;
const DIVIDER = [C.divider_solid, C.divider_dashed];
const BOUNDARY = [C.boundary_curb, C.boundary_border, C.boundary_barrier];
const BOUNDARY_KIND_BY_CLASS: Record<number, BoundaryKind> = { [C.boundary_curb]: 'curb', [C.boundary_border]: 'road_border', [C.boundary_barrier]: 'barrier' };

export function validateVectorizeOptions(o: VectorizeOptions): void {
  if (!(o.presenceThreshold > 0 && o.presenceThreshold <= 1)) throw new RangeError(`vectorize.presenceThreshold must be in (0, 1], got ${o.presenceThreshold}`);
  for (const k of ['minVisibility', 'dividerMaxGapM', 'boundaryMaxGapM', 'linkMaxAngleRad', 'linkMaxLateralM', 'minPieceM', 'minLineLengthM', 'minStopLineLengthM', 'minCrosswalkAreaM2', 'crosswalkJoinM', 'minPointCells', 'maxHoleM2', 'maxSpurM', 'smoothHalfWindowM', 'duplicateDistanceM', 'refineHalfWidthM', 'simplifyToleranceM'] as const) {
    if (!(o[k] >= 0 && Number.isFinite(o[k]))) throw new RangeError(`vectorize.${k} must be a finite number >= 0, got ${o[k]}`);
  }
  if (!(o.solidPaintedFraction >= 0 && o.solidPaintedFraction <= 1)) throw new RangeError(`vectorize.solidPaintedFraction must be in [0, 1], got ${o.solidPaintedFraction}`);
}

export function allocBevGrid(widthCells: number, heightCells: number, cellM: number, originXM: number, originYM: number): BevGrid {
  const n = widthCells * heightCells;
  return { widthCells, heightCells, cellM, originXM, originYM, visibility: new Float32Array(n), evidence: new Float32Array(n * (SEG_CLASS_COUNT - 1)) };
}

/** Vectorise a grid; with `clip`, only what lies inside the rectangle is returned. */
export function vectorizeGrid(grid: BevGrid, options: Partial<VectorizeOptions> = {}, clip?: ClipRect): VectorPrimitive[] {
  const o = { ...DEFAULT_VECTORIZE_OPTIONS, ...options };
  validateVectorizeOptions(o);
  const v = new GridView(grid, o);
  const out: VectorPrimitive[] = [];
  v.lines(DIVIDER, o.dividerMaxGapM, clip, out);
  v.lines(BOUNDARY, o.boundaryMaxGapM, clip, out);
  v.stopLines(clip, out);
  v.crosswalks(clip, out);
  v.points(C.sign_base, 'traffic_sign', clip, out);
  v.points(C.light_base, 'traffic_light', clip, out);
  return out;
}

class GridView {
  readonly w: number;
  readonly h: number;
  readonly n: number;
  readonly cell: number;

  constructor(
    readonly g: BevGrid,
    readonly o: VectorizeOptions,
  ) {
    this.w = g.widthCells;
    this.h = g.heightCells;
    this.n = this.w * this.h;
    this.cell = g.cellM;
    if (g.visibility.length !== this.n || g.evidence.length !== this.n * (SEG_CLASS_COUNT - 1)) {
      throw new RangeError(`vectorize: grid ${this.w}x${this.h} needs visibility[${this.n}] and evidence[${this.n * (SEG_CLASS_COUNT - 1)}], got ${g.visibility.length} and ${g.evidence.length}`);
    }
  }

  /** Per cell: summed evidence of `classes` / visibility (0 where unseen). */
  ratio(classes: readonly number[]): Float32Array {
    const r = new Float32Array(this.n);
    const { visibility: vis, evidence: ev } = this.g;
    const minVis = this.o.minVisibility;
    for (let i = 0; i < this.n; i++) {
      const vv = vis[i]!;
      if (!(vv > 0) || vv < minVis) continue;
      let s = 0;
      for (const k of classes) s += ev[(k - 1) * this.n + i]!;
      r[i] = Math.min(1, s / vv);
    }
    return r;
  }

  mask(ratio: Float32Array): Uint8Array {
    const m = new Uint8Array(this.n);
    const t = this.o.presenceThreshold;
    for (let i = 0; i < this.n; i++) m[i] = ratio[i]! >= t ? 1 : 0;
    return m;
  }

  centre(i: number): Pt {
    const c = i % this.w;
    const r = (i - c) / this.w;
    return [this.g.originXM + (c + 0.5) * this.cell, this.g.originYM + (r + 0.5) * this.cell];
  }

  cellAt(x: number, y: number): number {
    const c = Math.floor((x - this.g.originXM) / this.cell);
    const r = Math.floor((y - this.g.originYM) / this.cell);
    return c < 0 || r < 0 || c >= this.w || r >= this.h ? -1 : r * this.w + c;
  }

  /** Bilinear sample of a per-cell array at (x, y), metres (0 outside). */
  sample(a: Float32Array, x: number, y: number): number {
    const fx = (x - this.g.originXM) / this.cell - 0.5;
    const fy = (y - this.g.originYM) / this.cell - 0.5;
    const c = Math.floor(fx);
    const r = Math.floor(fy);
    const tx = fx - c;
    const ty = fy - r;
    const get = (cc: number, rr: number): number => (cc < 0 || rr < 0 || cc >= this.w || rr >= this.h ? 0 : a[rr * this.w + cc]!);
    return (1 - ty) * ((1 - tx) * get(c, r) + tx * get(c + 1, r)) + ty * ((1 - tx) * get(c, r + 1) + tx * get(c + 1, r + 1));
  }

  lines(classes: readonly number[], maxGapM: number, clip: ClipRect | undefined, out: VectorPrimitive[]): void {
    const o = this.o;
    const ratio = this.ratio(classes);
    const mask = this.mask(ratio);
    const cellsPerM = 1 / this.cell;
    const solid = fillHoles(mask.slice(), this.w, this.h, Math.round(o.maxHoleM2 * cellsPerM * cellsPerM));
    const skel = pruneSpurs(thinZhangSuen(solid, this.w, this.h), this.w, this.h, Math.round(o.maxSpurM * cellsPerM));
    const pieces: Pt[][] = [];
    for (const path of traceSkeleton(skel, this.w, this.h)) {
      const pts = path.map((i) => this.centre(i));
      if (lengthM(pts) + this.cell < o.minPieceM) continue;
      pieces.push(smoothPolyline(this.refine(pts, ratio), Math.round(o.smoothHalfWindowM * cellsPerM)));
    }
    const chains = dropDuplicates(linkPolylines(pieces, { maxGapM, maxAngleRad: o.linkMaxAngleRad, maxLateralM: o.linkMaxLateralM }), o.duplicateDistanceM);
    const planes = classes.map((k) => this.g.evidence.subarray((k - 1) * this.n, k * this.n));
    for (const chain of chains) {
      if (lengthM(chain) < o.minLineLengthM) continue;
      // Walk the chain at half-cell steps: painted fraction (over seen samples), score, votes.
      const votes = new Float64Array(classes.length);
      let seen = 0;
      let painted = 0;
      let scoreSum = 0;
      forEachSample(chain, this.cell / 2, (x, y) => {
        const i = this.cellAt(x, y);
        if (i < 0 || !(this.g.visibility[i]! >= o.minVisibility && this.g.visibility[i]! > 0)) return;
        seen++;
        const j = this.bestNear(mask, ratio, i);
        if (j < 0) return;
        painted++;
        scoreSum += ratio[j]!;
        for (let k = 0; k < planes.length; k++) votes[k] = votes[k]! + planes[k]![j]!;
      });
      if (painted === 0) continue;
      const prim: VectorPrimitive = { cls: classes === DIVIDER ? 'lane_divider' : 'road_boundary', score: clamp01(scoreSum / painted), points: [] };
      if (classes === DIVIDER) {
        const paintedFrac = seen > 0 ? painted / seen : 1;
        const dashedVote = votes[1]! / Math.max(1e-9, votes[0]! + votes[1]!);
        const gapVote = clamp01((o.solidPaintedFraction - paintedFrac) / 0.4);
        prim.style = (dashedVote + gapVote) / 2 >= 0.5 ? 'dashed' : 'solid';
      } else {
        let best = 0;
        for (let k = 1; k < votes.length; k++) if (votes[k]! > votes[best]!) best = k;
        prim.kind = BOUNDARY_KIND_BY_CLASS[classes[best]!]!;
      }
      const simple = simplify(chain, o.simplifyToleranceM);
      const parts = clip ? clipPolyline(simple, clip.minXM, clip.minYM, clip.maxXM, clip.maxYM) : [simple];
      for (const part of parts) {
        if (lengthM(part) < this.cell) continue;
        out.push({ ...prim, points: part });
      }
    }
  }

  stopLines(clip: ClipRect | undefined, out: VectorPrimitive[]): void {
    const ratio = this.ratio([C.stop_line]);
    for (const comp of components(this.mask(ratio), this.w, this.h)) {
      if (comp.length < 2) continue;
      const a = this.axes(comp, ratio);
      const p0: Pt = [a.cx + a.ux * (a.min0 - this.cell / 2), a.cy + a.uy * (a.min0 - this.cell / 2)];
      const p1: Pt = [a.cx + a.ux * (a.max0 + this.cell / 2), a.cy + a.uy * (a.max0 + this.cell / 2)];
      if (Math.hypot(p1[0] - p0[0], p1[1] - p0[1]) < this.o.minStopLineLengthM) continue;
      if (clip && !inRect(clip, (p0[0] + p1[0]) / 2, (p0[1] + p1[1]) / 2)) continue;
      out.push({ cls: 'stop_line', score: clamp01(a.meanRatio), points: [p0, p1] });
    }
  }

  crosswalks(clip: ClipRect | undefined, out: VectorPrimitive[]): void {
    const ratio = this.ratio([C.crosswalk]);
    const mask = this.mask(ratio);
    const joined = dilate(mask, this.w, this.h, Math.round(this.o.crosswalkJoinM / 2 / this.cell));
    for (const comp of components(joined, this.w, this.h)) {
      const cells = comp.filter((i) => mask[i] === 1);
      if (cells.length < 3) continue;
      const a = this.axes(cells, ratio);
      const h = this.cell / 2;
      const l0 = a.min0 - h;
      const l1 = a.max0 + h;
      const m0 = a.min1 - h;
      const m1 = a.max1 + h;
      if ((l1 - l0) * (m1 - m0) < this.o.minCrosswalkAreaM2) continue;
      const corner = (s: number, t: number): Pt => [a.cx + a.ux * s - a.uy * t, a.cy + a.uy * s + a.ux * t];
      const poly = [corner(l0, m0), corner(l1, m0), corner(l1, m1), corner(l0, m1)];
      if (clip && !inRect(clip, a.cx + a.ux * (l0 + l1) / 2 - a.uy * (m0 + m1) / 2, a.cy + a.uy * (l0 + l1) / 2 + a.ux * (m0 + m1) / 2)) continue;
      out.push({ cls: 'crosswalk', score: clamp01(a.meanRatio), points: poly });
    }
  }

  points(classId: number, cls: 'traffic_sign' | 'traffic_light', clip: ClipRect | undefined, out: VectorPrimitive[]): void {
    const ratio = this.ratio([classId]);
    for (const comp of components(this.mask(ratio), this.w, this.h)) {
      if (comp.length < this.o.minPointCells) continue;
      let sw = 0;
      let sx = 0;
      let sy = 0;
      for (const i of comp) {
        const w = ratio[i]!;
        const [x, y] = this.centre(i);
        sw += w;
        sx += w * x;
        sy += w * y;
      }
      const p: Pt = [sx / sw, sy / sw];
      if (clip && !inRect(clip, p[0], p[1])) continue;
      const prim: VectorPrimitive = { cls, score: clamp01(sw / comp.length), points: [p] };
      if (cls === 'traffic_sign') prim.signCode = '';
      out.push(prim);
    }
  }

  /** Weighted centroid, principal axis (u) and extents along u (0) and its normal (1). */
  axes(cells: readonly number[], ratio: Float32Array): { cx: number; cy: number; ux: number; uy: number; min0: number; max0: number; min1: number; max1: number; meanRatio: number } {
    let sw = 0;
    let sx = 0;
    let sy = 0;
    for (const i of cells) {
      const [x, y] = this.centre(i);
      const w = ratio[i]!;
      sw += w;
      sx += w * x;
      sy += w * y;
    }
    const cx = sx / sw;
    const cy = sy / sw;
    let sxx = 0;
    let syy = 0;
    let sxy = 0;
    for (const i of cells) {
      const [x, y] = this.centre(i);
      const w = ratio[i]!;
      sxx += w * (x - cx) ** 2;
      syy += w * (y - cy) ** 2;
      sxy += w * (x - cx) * (y - cy);
    }
    const th = 0.5 * Math.atan2(2 * sxy, sxx - syy);
    const ux = Math.cos(th);
    const uy = Math.sin(th);
    let min0 = Infinity;
    let max0 = -Infinity;
    let min1 = Infinity;
    let max1 = -Infinity;
    for (const i of cells) {
      const [x, y] = this.centre(i);
      const s = (x - cx) * ux + (y - cy) * uy;
      const t = -(x - cx) * uy + (y - cy) * ux;
      if (s < min0) min0 = s;
      if (s > max0) max0 = s;
      if (t < min1) min1 = t;
      if (t > max1) max1 = t;
    }
    return { cx, cy, ux, uy, min0, max0, min1, max1, meanRatio: sw / cells.length };
  }

  /** Move each traced point sideways to the evidence-weighted centre of the line there. */
  refine(pts: Pt[], ratio: Float32Array): Pt[] {
    const n = pts.length;
    if (n < 2) return pts;
    const half = this.o.refineHalfWidthM;
    const step = this.cell / 3;
    const k = Math.max(1, Math.round(half / step));
    const reach = Math.max(1, Math.round(1 / this.cell)); // tangent over ~2 m
    const out: Pt[] = new Array(n);
    const floor = this.o.presenceThreshold * 0.5;
    for (let i = 0; i < n; i++) {
      const a = pts[Math.max(0, i - reach)]!;
      const b = pts[Math.min(n - 1, i + reach)]!;
      let tx = b[0] - a[0];
      let ty = b[1] - a[1];
      const d = Math.hypot(tx, ty);
      const p = pts[i]!;
      if (d === 0) {
        out[i] = p;
        continue;
      }
      tx /= d;
      ty /= d;
      const nx = -ty;
      const ny = tx;
      let sw = 0;
      let so = 0;
      for (let j = -k; j <= k; j++) {
        const off = j * step;
        const w = this.sample(ratio, p[0] + nx * off, p[1] + ny * off) - floor;
        if (w <= 0) continue;
        sw += w;
        so += w * off;
      }
      const shift = sw > 0 ? so / sw : 0;
      out[i] = [p[0] + nx * shift, p[1] + ny * shift];
    }
    return out;
  }

  /** The cell at or next to `i` (3 x 3) in the mask with the highest ratio, or -1. */
  bestNear(mask: Uint8Array, ratio: Float32Array, i: number): number {
    const c = i % this.w;
    const r = (i - c) / this.w;
    let best = -1;
    for (let dr = -1; dr <= 1; dr++) {
      for (let dc = -1; dc <= 1; dc++) {
        const cc = c + dc;
        const rr = r + dr;
        if (cc < 0 || rr < 0 || cc >= this.w || rr >= this.h) continue;
        const j = rr * this.w + cc;
        if (mask[j] && (best < 0 || ratio[j]! > ratio[best]!)) best = j;
      }
    }
    return best;
  }
}

/**
 * Drop chains that run alongside a longer chain (a blob thinned into two parallel traces): at
 * least 70 % of their length within `distM` of it.
 */
function dropDuplicates(chains: Pt[][], distM: number): Pt[][] {
  const byLength = chains.map((c) => ({ c, len: lengthM(c) })).sort((a, b) => b.len - a.len);
  const kept: Pt[][] = [];
  for (const { c } of byLength) {
    let total = 0;
    let close = 0;
    forEachSample(c, 0.5, (x, y) => {
      total++;
      if (kept.some((k) => distToPolylineM(x, y, k) <= distM)) close++;
    });
    if (total === 0 || close / total < 0.7) kept.push(c);
  }
  return kept;
}

function distToPolylineM(x: number, y: number, pts: readonly Pt[]): number {
  let best = Infinity;
  for (let i = 0; i + 1 < pts.length; i++) {
    const a = pts[i]!;
    const b = pts[i + 1]!;
    const vx = b[0] - a[0];
    const vy = b[1] - a[1];
    const len2 = vx * vx + vy * vy;
    let t = len2 > 0 ? ((x - a[0]) * vx + (y - a[1]) * vy) / len2 : 0;
    t = t < 0 ? 0 : t > 1 ? 1 : t;
    const d = Math.hypot(x - a[0] - t * vx, y - a[1] - t * vy);
    if (d < best) best = d;
  }
  return best;
}

/** Moving average of the vertices over +-k neighbours (the window shrinks at the ends, which stay). */
function smoothPolyline(pts: Pt[], k: number): Pt[] {
  const n = pts.length;
  if (k < 1 || n < 3) return pts;
  const out: Pt[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const m = Math.min(k, i, n - 1 - i);
    let sx = 0;
    let sy = 0;
    for (let j = i - m; j <= i + m; j++) {
      sx += pts[j]![0];
      sy += pts[j]![1];
    }
    out[i] = [sx / (2 * m + 1), sy / (2 * m + 1)];
  }
  return out;
}

function forEachSample(pts: readonly Pt[], stepM: number, f: (x: number, y: number) => void): void {
  let carry = 0;
  for (let i = 0; i + 1 < pts.length; i++) {
    const a = pts[i]!;
    const b = pts[i + 1]!;
    const len = Math.hypot(b[0] - a[0], b[1] - a[1]);
    let s = carry;
    for (; s < len; s += stepM) f(a[0] + ((b[0] - a[0]) * s) / len, a[1] + ((b[1] - a[1]) * s) / len);
    carry = s - len;
  }
  const last = pts[pts.length - 1]!;
  f(last[0], last[1]);
}

function inRect(r: ClipRect, x: number, y: number): boolean {
  return x >= r.minXM && x < r.maxXM && y >= r.minYM && y < r.maxYM;
}

function clamp01(x: number): number {
  return x < 0 ? 0 : x > 1 ? 1 : x;
}
