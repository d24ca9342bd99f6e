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
 * - road boundaries: the same, in two groups: kerbs and road borders as one mask (kind by
 *   evidence vote), barriers (guard rails, walls, fences) as another. A barrier often stands a
 *   metre or two behind a road border; seen from afar the two bands of evidence touch, and one
 *   mask thinned them into one line between them, of the kind with more evidence;
 * - stop lines: connected component -> its principal axis as a 2-point segment;
 * - crosswalks: stripes joined by a small dilation -> oriented rectangle (4 corners, CCW);
 * - signs / lights: component centroids (signCode '') at their own, lower presence threshold
 *   (`pointPresenceThreshold`: their evidence is the base classes' probability, see
 *   LocalMapOptions.pointProbThreshold), kept when the blob holds at least `minPointEvidence`
 *   (a pole foot is seen over many frames, stray pole-foot pixels of the model are not);
 *   with radar poles given, each pole the camera's evidence around it calls a sign or a light
 *   instead (`classifyPoles`: the radar places, the camera names).
 * Lines are simplified (Douglas-Peucker) and filtered by length. With a `clip` rectangle, each
 * primitive is kept only inside it (polylines cut at its edges; other classes kept when their
 * centre lies in [min, max)), so neighbouring chunks vectorised with overlapping margins emit
 * nothing twice.
 *
 * Cost (noisy model output means thousands of blobs and spurs per chunk): each class group is
 * processed on the bounding box of its evidence only (BevGrid.evidenceBoxes when the caller
 * knows it, else a scan), raster steps reuse scratch buffers, and the duplicate-trace test looks
 * up the kept lines' segments in a bucket grid instead of measuring against every line.
 */
import { SEG_CLASS_COUNT, SEG_CLASS_IDS } from '../../shared/camera.ts';
import { pointInRing, pointSegmentDist2 } from '../../shared/geometry.ts';
import type { BoundaryKind, DividerStyle, PrimitiveClass } from '../../shared/schema.ts';
import { simplify } from '../compact.ts';
import { clipPolyline, lengthM, linkPolylines, type Pt } from './polyline.ts';
import { componentsFlat, dilate, fillHoles, pruneSpurs, thinZhangSuen, traceSkeletonFlat } from './raster.ts';

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
  /**
   * Optional hint: per evidence plane (class k at k - 1) a cell box [c0, r0, c1, r1] (inclusive;
   * empty when c1 < c0) that contains all its non-zero cells, 4 entries per plane. When absent
   * the vectoriser scans the planes for it. A box too large only costs time; one too small loses
   * evidence.
   */
  evidenceBoxes?: Int32Array;
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
  /** Collinear test for divider pieces too short to extend across a dash gap (polyline.ts LinkOptions.fitMaxResidualM), metres; 0 = off. Boundaries do not use it. */
  linkFitMaxResidualM: number;
  /** Traced pieces shorter than this are noise, metres. */
  minPieceM: number;
  /** Shortest divider / boundary kept (before clipping), metres. */
  minLineLengthM: number;
  /** Shortest stop line, metres. */
  minStopLineLengthM: number;
  /** Presence threshold of stop-line cells, in (0, 1]. */
  stopLinePresenceThreshold: number;
  /**
   * A stop line is across its lane: one whose midpoint lies in a crosswalk found in the same grid
   * (a zebra stripe), or that runs within stopLineDividerDistanceM of a divider found there at
   * less than stopLineDividerAngleRad to it (a dash seen at an angle), is not one. 0 = off.
   */
  stopLineDividerDistanceM: number;
  stopLineDividerAngleRad: number;
  /**
   * With the car's travel axis through the grid (vectorizeGrid's `travelAxisRad`), a stop line
   * at less than this to it is not one: stop lines the car meets lie across its way, bars along
   * it are dashes, stripes or kerb pieces (0 = off), radians.
   */
  stopLineMinAngleToTravelRad: number;
  /** A stop line spans its cells' weighted quantiles q .. 1 - q along its axis, q in [0, 0.5). */
  stopLineExtentQuantile: number;
  /** Smallest crosswalk rectangle, square metres. */
  minCrosswalkAreaM2: number;
  /** Crosswalk stripes closer than this are one crosswalk, metres. */
  crosswalkJoinM: number;
  /** Presence threshold of crosswalk cells, in (0, 1] (far pixels smear stripes along their ray). */
  crosswalkPresenceThreshold: number;
  /**
   * The crosswalk rectangle spans its cells' evidence-weighted quantiles q .. 1 - q along each
   * axis, q in [0, 0.5) (0: the extreme cells; stray cells joined to it do not stretch it),
   * across the car's way scaled by 1 / (1 - 2 q) about their middle (the length of a side that
   * even evidence covers).
   */
  crosswalkExtentQuantile: number;
  /**
   * Two crosswalks side by side (across a median island, a cycle crossing beside a footway) that
   * the evidence runs together are split where the blob's cell count along its long axis, in
   * 0.5 m bins smoothed over 1 m, falls below this fraction of its median bin and is back to the median's 0.8 on
   * both sides over at least 2 m each, in [0, 1) (0: never split).
   */
  crosswalkSplitValley: number;
  /** Smallest sign / light blob, cells. */
  minPointCells: number;
  /**
   * Presence threshold of the sign / light bases, in (0, 1]: lower than `presenceThreshold`, as
   * their evidence is their probability (rarely high for a blob of a few pixels), see
   * LocalMapOptions.pointProbThreshold.
   */
  pointPresenceThreshold: number;
  /**
   * Least evidence a sign / light blob must hold (summed over its cells: weighted samples times
   * probability, about pixel-frames of support): a pole foot is seen over many frames, the
   * model's stray pole-foot pixels are not.
   */
  minPointEvidence: number;
  /**
   * With radar poles (vectorizeGrid's `poles`): the camera's sign / light evidence is summed
   * within this of each pole, metres (the model's pole foot lies near, not at, the pole) ...
   */
  poleCameraRadiusM: number;
  /** ... and the pole is a sign or a light when the larger sum reaches this (else not uploaded); */
  minPoleEvidence: number;
  /**
   * ... it is both (a sign on a traffic light's pole) when the smaller sum also reaches
   * minPoleEvidence and this fraction of the larger, in (0, 1] (1: only ever one class).
   */
  poleBothFraction: number;
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
  /** Douglas-Peucker tolerance of lane dividers, metres. */
  simplifyToleranceM: number;
  /**
   * Douglas-Peucker tolerance of road boundaries, metres: looser than the dividers' (a kerb's
   * edge is placed less exactly than paint, and its trace wiggles by more than 6 cm, which cost
   * a vertex every few decimetres: boundaries were two thirds of the uplink).
   */
  boundarySimplifyToleranceM: number;
}

export const DEFAULT_VECTORIZE_OPTIONS: VectorizeOptions = {
  presenceThreshold: 0.35, // fraction
  minVisibility: 0.01, // weighted samples
  dividerMaxGapM: 8, // m
  boundaryMaxGapM: 3, // m
  linkMaxAngleRad: 0.2, // rad
  linkMaxLateralM: 0.35, // m
  linkFitMaxResidualM: 0.3, // m
  minPieceM: 0.3, // m
  minLineLengthM: 1.5, // m
  minStopLineLengthM: 2.5, // m (a stop line spans at least a lane)
  stopLinePresenceThreshold: 0.3, // fraction
  stopLineDividerDistanceM: 0.5, // m
  stopLineDividerAngleRad: 0.5, // rad
  stopLineMinAngleToTravelRad: 0, // rad (off; 0.96 halves false stop lines but costs recall, docs/PERCEPTION.md)
  stopLineExtentQuantile: 0, // fraction
  minCrosswalkAreaM2: 2, // m^2
  crosswalkJoinM: 0.9, // m
  crosswalkPresenceThreshold: 0.6, // fraction
  crosswalkExtentQuantile: 0.08, // fraction
  crosswalkSplitValley: 0.5, // fraction
  minPointCells: 2, // cells
  pointPresenceThreshold: 0.2, // fraction
  minPointEvidence: 8, // weighted samples (about pixel-frames x probability)
  poleCameraRadiusM: 2, // m
  minPoleEvidence: 2, // weighted samples
  poleBothFraction: 0.3, // fraction
  maxHoleM2: 1, // m^2
  maxSpurM: 0.9, // m
  smoothHalfWindowM: 0.6, // m
  duplicateDistanceM: 0.4, // m
  refineHalfWidthM: 0.45, // m
  solidPaintedFraction: 0.9, // fraction
  simplifyToleranceM: 0.06, // m
  boundarySimplifyToleranceM: 0.1, // m
};

const C = SEG_CLASS_IDS;
const DIVIDER = [C.divider_solid, C.divider_dashed];
/** Kerbs and road borders: one group (a kerb's label and a border's mix along one edge). */
const KERB_BORDER = [C.boundary_curb, C.boundary_border];
/** Barriers: a group of their own (they stand apart from the road's edge, see the header). */
const BARRIER = [C.boundary_barrier];
const BOUNDARY_KIND_BY_CLASS: Record<number, BoundaryKind> = { [C.boundary_curb]: 'curb', [C.boundary_border]: 'road_border', [C.boundary_barrier]: 'barrier' };

export function validateVectorizeOptions(o: VectorizeOptions): void {
  if (!(o.presenceThreshold > 0 && o.presenceThreshold <= 1)) throw new RangeError(`vectorize.presenceThreshold must be in (0, 1], got ${o.presenceThreshold}`);
  if (!(o.stopLinePresenceThreshold > 0 && o.stopLinePresenceThreshold <= 1)) throw new RangeError(`vectorize.stopLinePresenceThreshold must be in (0, 1], got ${o.stopLinePresenceThreshold}`);
  if (!(o.stopLineExtentQuantile >= 0 && o.stopLineExtentQuantile < 0.5)) throw new RangeError(`vectorize.stopLineExtentQuantile must be in [0, 0.5), got ${o.stopLineExtentQuantile}`);
  if (!(o.crosswalkPresenceThreshold > 0 && o.crosswalkPresenceThreshold <= 1)) throw new RangeError(`vectorize.crosswalkPresenceThreshold must be in (0, 1], got ${o.crosswalkPresenceThreshold}`);
  if (!(o.crosswalkExtentQuantile >= 0 && o.crosswalkExtentQuantile < 0.5)) throw new RangeError(`vectorize.crosswalkExtentQuantile must be in [0, 0.5), got ${o.crosswalkExtentQuantile}`);
  if (!(o.crosswalkSplitValley >= 0 && o.crosswalkSplitValley < 1)) throw new RangeError(`vectorize.crosswalkSplitValley must be in [0, 1), got ${o.crosswalkSplitValley}`);
  if (!(o.poleBothFraction > 0 && o.poleBothFraction <= 1)) throw new RangeError(`vectorize.poleBothFraction must be in (0, 1], got ${o.poleBothFraction}`);
  if (!(o.pointPresenceThreshold > 0 && o.pointPresenceThreshold <= 1)) throw new RangeError(`vectorize.pointPresenceThreshold must be in (0, 1], got ${o.pointPresenceThreshold}`);
  for (const k of ['minVisibility', 'dividerMaxGapM', 'boundaryMaxGapM', 'linkMaxAngleRad', 'linkMaxLateralM', 'linkFitMaxResidualM', 'minPieceM', 'minLineLengthM', 'minStopLineLengthM', 'minCrosswalkAreaM2', 'crosswalkJoinM', 'minPointCells', 'minPointEvidence', 'stopLineDividerDistanceM', 'stopLineDividerAngleRad', 'stopLineMinAngleToTravelRad', 'poleCameraRadiusM', 'minPoleEvidence', 'maxHoleM2', 'maxSpurM', 'smoothHalfWindowM', 'duplicateDistanceM', 'refineHalfWidthM', 'simplifyToleranceM', 'boundarySimplifyToleranceM'] as const) {
    if (!(o[k] >= 0 && Number.isFinite(o[k]))) throw new RangeError(`vectorize.${k} must be a finite number >= 0, got ${o[k]}`);
  }
  if (!(o.solidPaintedFraction >= 0 && o.solidPaintedFraction <= 1)) throw new RangeError(`vectorize.solidPaintedFraction must be in [0, 1], got ${o.solidPaintedFraction}`);
}

export function allocBevGrid(widthCells: number, heightCells: number, cellM: number, originXM: number, originYM: number): BevGrid {
  const n = widthCells * heightCells;
  return { widthCells, heightCells, cellM, originXM, originYM, visibility: new Float32Array(n), evidence: new Float32Array(n * (SEG_CLASS_COUNT - 1)) };
}

/** A pole placed by another sensor (the radar, radar-poles.ts), in the grid's frame. */
export interface PolePoint {
  xM: number;
  yM: number;
}

/**
 * Vectorise a grid; with `clip`, only what lies inside the rectangle is returned. With `poles`
 * (the vehicle has a radar), signs and lights are those poles that the camera's evidence calls
 * one (classifyPoles), placed where the radar put them; without, the camera's pole-foot blobs. With
 * `travelAxisRad` (the car's way through the grid, radians mod pi) stop lines along it are dropped.
 */
export function vectorizeGrid(grid: BevGrid, options: Partial<VectorizeOptions> = {}, clip?: ClipRect, poles?: readonly PolePoint[], travelAxisRad?: number): VectorPrimitive[] {
  const o = { ...DEFAULT_VECTORIZE_OPTIONS, ...options };
  validateVectorizeOptions(o);
  const v = new GridView(grid, o);
  const out: VectorPrimitive[] = [];
  // The collinear link test is for dashes (paint broken by design); a boundary's gaps are
  // driveways and occlusions, which the extension test alone bridges.
  v.lines(DIVIDER, o.dividerMaxGapM, o.linkFitMaxResidualM, clip, out);
  v.lines(KERB_BORDER, o.boundaryMaxGapM, 0, clip, out);
  v.lines(BARRIER, o.boundaryMaxGapM, 0, clip, out);
  const crosswalks: VectorPrimitive[] = [];
  v.crosswalks(clip, crosswalks, travelAxisRad);
  const stopLines: VectorPrimitive[] = [];
  v.stopLines(clip, stopLines);
  for (const p of stopLines) if (isStopLine(p, out, crosswalks, o, travelAxisRad)) out.push(p);
  out.push(...crosswalks);
  if (poles) {
    v.classifyPoles(poles, out);
  } else {
    v.points(C.sign_base, 'traffic_sign', clip, out);
    v.points(C.light_base, 'traffic_light', clip, out);
  }
  return out;
}

// Traced path and its refinement, reused across pieces.
let pathX = new Float64Array(256);
let pathY = new Float64Array(256);
let refX = new Float64Array(256);
let refY = new Float64Array(256);

// Per-class votes of a line (lines), reused.
let votesBuf = new Float64Array(4);

// Per-group scratch (crop-sized), reused across calls: vectorizeGrid is not re-entrant.
let ratioBuf = new Float32Array(0);
let maskBuf = new Uint8Array(0);
let workBuf = new Uint8Array(0);

/**
 * A view of the grid for one class group, cropped to the bounding box of the group's evidence
 * plus a margin: nothing outside it can be set (ratio 0), so every raster step on the crop gives
 * what it gives on the whole grid (scan orders are preserved; the crop border is unset unless it
 * is the grid border). Cell index i is crop-relative (row * w + col); positions use the full
 * grid's origin so they are computed exactly as on the whole grid.
 */
class GridView {
  readonly W: number;
  readonly H: number;
  readonly N: number;
  readonly cell: number;
  /** Per evidence plane (class k at k - 1): bounding box of its non-zero cells [c0, r0, c1, r1] (inclusive), or null. */
  private readonly boxes: Array<[number, number, number, number] | null>;
  // Current crop.
  x0 = 0;
  y0 = 0;
  w = 0;
  h = 0;
  n = 0;
  ratio = ratioBuf;
  mask = maskBuf;

  constructor(
    readonly g: BevGrid,
    readonly o: VectorizeOptions,
  ) {
    this.W = g.widthCells;
    this.H = g.heightCells;
    this.N = this.W * this.H;
    this.cell = g.cellM;
    if (g.visibility.length !== this.N || g.evidence.length !== this.N * (SEG_CLASS_COUNT - 1)) {
      throw new RangeError(`vectorize: grid ${this.W}x${this.H} needs visibility[${this.N}] and evidence[${this.N * (SEG_CLASS_COUNT - 1)}], got ${g.visibility.length} and ${g.evidence.length}`);
    }
    this.boxes = new Array(SEG_CLASS_COUNT - 1).fill(null);
    const hint = g.evidenceBoxes;
    if (hint !== undefined && hint.length !== 4 * (SEG_CLASS_COUNT - 1)) throw new RangeError(`vectorize: evidenceBoxes needs ${4 * (SEG_CLASS_COUNT - 1)} entries, got ${hint.length}`);
    for (let k = 0; k < SEG_CLASS_COUNT - 1; k++) {
      if (!hint) {
        this.boxes[k] = planeBox(g.evidence, k * this.N, this.W, this.H);
        continue;
      }
      const c0 = Math.max(0, hint[4 * k]!);
      const r0 = Math.max(0, hint[4 * k + 1]!);
      const c1 = Math.min(this.W - 1, hint[4 * k + 2]!);
      const r1 = Math.min(this.H - 1, hint[4 * k + 3]!);
      this.boxes[k] = c1 >= c0 && r1 >= r0 ? [c0, r0, c1, r1] : null;
    }
  }

  /**
   * Crop to the evidence of `classes` plus `margin` cells and compute ratio and mask there;
   * false when the group has no evidence at all.
   */
  select(classes: readonly number[], margin: number, threshold = this.o.presenceThreshold): boolean {
    let c0 = Infinity;
    let r0 = Infinity;
    let c1 = -Infinity;
    let r1 = -Infinity;
    for (const k of classes) {
      const b = this.boxes[k - 1];
      if (!b) continue;
      c0 = Math.min(c0, b[0]);
      r0 = Math.min(r0, b[1]);
      c1 = Math.max(c1, b[2]);
      r1 = Math.max(r1, b[3]);
    }
    if (!(c1 >= c0)) return false;
    this.x0 = Math.max(0, c0 - margin);
    this.y0 = Math.max(0, r0 - margin);
    this.w = Math.min(this.W - 1, c1 + margin) - this.x0 + 1;
    this.h = Math.min(this.H - 1, r1 + margin) - this.y0 + 1;
    this.n = this.w * this.h;
    if (ratioBuf.length < this.n) {
      ratioBuf = new Float32Array(Math.max(this.n, ratioBuf.length * 2));
      maskBuf = new Uint8Array(ratioBuf.length);
      workBuf = new Uint8Array(ratioBuf.length);
    }
    this.ratio = ratioBuf.subarray(0, this.n);
    this.mask = maskBuf.subarray(0, this.n);
    // Per cell: summed evidence of `classes` / visibility (0 where unseen).
    const { visibility: vis, evidence: ev } = this.g;
    const minVis = this.o.minVisibility;
    const t = threshold;
    const r = this.ratio;
    const m = this.mask;
    const N = this.N;
    // Up to three planes summed in class order (as s = 0; s += ... would), unrolled; most cells
    // hold no evidence of the group: ratio and mask stay 0 there.
    r.fill(0);
    m.fill(0);
    const o0 = (classes[0]! - 1) * N;
    const o1 = classes.length > 1 ? (classes[1]! - 1) * N : -1;
    const o2 = classes.length > 2 ? (classes[2]! - 1) * N : -1;
    const more = classes.length > 3;
    const { w, h, x0, y0, W } = this;
    for (let rr = 0; rr < h; rr++) {
      const full = (rr + y0) * W + x0;
      const row = rr * w;
      for (let cc = 0; cc < w; cc++) {
        const fi = full + cc;
        let s = ev[o0 + fi]!;
        if (o1 >= 0) s += ev[o1 + fi]!;
        if (o2 >= 0) s += ev[o2 + fi]!;
        if (more) for (let j = 3; j < classes.length; j++) s += ev[(classes[j]! - 1) * N + fi]!;
        if (s === 0) continue;
        // Evidence comes with visibility; a cell seen too little counts as unseen.
        const vv = vis[fi]!;
        if (!(vv > 0) || vv < minVis) continue;
        // Stored as float32; the mask compares the stored value.
        const q = Math.fround(Math.min(1, s / vv));
        r[row + cc] = q;
        if (q >= t) m[row + cc] = 1;
      }
    }
    return true;
  }

  /** Full-grid index of crop cell i. */
  full(i: number): number {
    const c = i % this.w;
    const r = (i - c) / this.w;
    return (r + this.y0) * this.W + c + this.x0;
  }

  centreX(i: number): number {
    return this.g.originXM + ((i % this.w) + this.x0 + 0.5) * this.cell;
  }

  centreY(i: number): number {
    const c = i % this.w;
    return this.g.originYM + ((i - c) / this.w + this.y0 + 0.5) * this.cell;
  }

  /** Bilinear sample of the crop's ratio at (x, y), metres (0 outside). */
  sample(x: number, y: number): number {
    const fx = (x - this.g.originXM) / this.cell - 0.5;
    const fy = (y - this.g.originYM) / this.cell - 0.5;
    const c = Math.floor(fx);
    const r = Math.floor(fy);
    const tx = fx - c;
    const ty = fy - r;
    const cc = c - this.x0;
    const rr = r - this.y0;
    const w = this.w;
    const h = this.h;
    const a = this.ratio;
    if (cc >= 0 && rr >= 0 && cc + 1 < w && rr + 1 < h) {
      const i = rr * w + cc;
      return (1 - ty) * ((1 - tx) * a[i]! + tx * a[i + 1]!) + ty * ((1 - tx) * a[i + w]! + tx * a[i + w + 1]!);
    }
    const inC0 = cc >= 0 && cc < w;
    const inC1 = cc + 1 >= 0 && cc + 1 < w;
    const inR0 = rr >= 0 && rr < h;
    const inR1 = rr + 1 >= 0 && rr + 1 < h;
    const v00 = inC0 && inR0 ? a[rr * w + cc]! : 0;
    const v10 = inC1 && inR0 ? a[rr * w + cc + 1]! : 0;
    const v01 = inC0 && inR1 ? a[(rr + 1) * w + cc]! : 0;
    const v11 = inC1 && inR1 ? a[(rr + 1) * w + cc + 1]! : 0;
    return (1 - ty) * ((1 - tx) * v00 + tx * v10) + ty * ((1 - tx) * v01 + tx * v11);
  }

  lines(classes: readonly number[], maxGapM: number, fitMaxResidualM: number, clip: ClipRect | undefined, out: VectorPrimitive[]): void {
    if (!this.select(classes, 2)) return;
    const o = this.o;
    const { ratio, mask, w, h, n, x0, y0, cell } = this;
    const { originXM, originYM } = this.g;
    const cellsPerM = 1 / this.cell;
    const solid = workBuf.subarray(0, n);
    solid.set(mask);
    fillHoles(solid, w, h, Math.round(o.maxHoleM2 * cellsPerM * cellsPerM));
    const skel = pruneSpurs(thinZhangSuen(solid, w, h), w, h, Math.round(o.maxSpurM * cellsPerM));
    const pieces: Pt[][] = [];
    const smoothK = Math.round(o.smoothHalfWindowM * cellsPerM);
    const paths = traceSkeletonFlat(skel, w, h);
    for (let pk = 0; pk < paths.count; pk++) {
      const p0 = paths.start[pk]!;
      const n = paths.start[pk + 1]! - p0;
      if (pathX.length < n) {
        pathX = new Float64Array(Math.max(n, 2 * pathX.length));
        pathY = new Float64Array(pathX.length);
        refX = new Float64Array(pathX.length);
        refY = new Float64Array(pathX.length);
      }
      let len = 0;
      for (let k = 0; k < n; k++) {
        // centreX / centreY with one remainder per cell.
        const i = paths.cells[p0 + k]!;
        const c = i % w;
        pathX[k] = originXM + (c + x0 + 0.5) * cell;
        pathY[k] = originYM + ((i - c) / w + y0 + 0.5) * cell;
        if (k > 0) {
          const dx = pathX[k]! - pathX[k - 1]!;
          const dy = pathY[k]! - pathY[k - 1]!;
          len += Math.sqrt(dx * dx + dy * dy);
        }
      }
      if (len + this.cell < o.minPieceM) continue;
      this.refine(pathX, pathY, n, refX, refY);
      pieces.push(smoothPolyline(refX, refY, n, smoothK));
    }
    const chains = dropDuplicates(linkPolylines(pieces, { maxGapM, maxAngleRad: o.linkMaxAngleRad, maxLateralM: o.linkMaxLateralM, fitMaxResidualM }), o.duplicateDistanceM);
    const planes = classes.map((k) => this.g.evidence.subarray((k - 1) * this.N, k * this.N));
    const vis = this.g.visibility;
    const nv = classes.length;
    if (votesBuf.length < nv) votesBuf = new Float64Array(nv);
    const votes = votesBuf;
    const minVis = o.minVisibility;
    const step = this.cell / 2;
    for (const chain of chains) {
      if (lengthM(chain) < o.minLineLengthM) continue;
      // Walk the chain at half-cell steps: painted fraction (over seen samples), score, votes.
      votes.fill(0, 0, nv);
      let seen = 0;
      let painted = 0;
      let scoreSum = 0;
      const ns = samplePolyline(chain, step);
      for (let q = 0; q < ns; q++) {
        const x = sampleXY[2 * q]!;
        const y = sampleXY[2 * q + 1]!;
        const fc = Math.floor((x - this.g.originXM) / this.cell);
        const fr = Math.floor((y - this.g.originYM) / this.cell);
        if (fc < 0 || fr < 0 || fc >= this.W || fr >= this.H) continue;
        const vv = vis[fr * this.W + fc]!;
        if (!(vv >= minVis && vv > 0)) continue;
        seen++;
        const cc = fc - this.x0;
        const rr = fr - this.y0;
        // Outside the crop (margin 2) no mask cell is within reach of bestNear.
        const j = cc >= 0 && rr >= 0 && cc < w && rr < h ? this.bestNear(mask, ratio, rr * w + cc) : -1;
        if (j < 0) continue;
        painted++;
        scoreSum += ratio[j]!;
        const fj = this.full(j);
        for (let k = 0; k < planes.length; k++) votes[k] = votes[k]! + planes[k]![fj]!;
      }
      if (painted === 0) continue;
      const prim: VectorPrimitive = { cls: classes === DIVIDER ? 'lane_divider' : 'road_boundary', score: clamp01(scoreSum / painted), points: [] };
      if (classes === DIVIDER) {
        const paintedFrac = seen > 0 ? painted / seen : 1;
        const dashedVote = votes[1]! / Math.max(1e-9, votes[0]! + votes[1]!);
        const gapVote = clamp01((o.solidPaintedFraction - paintedFrac) / 0.4);
        prim.style = (dashedVote + gapVote) / 2 >= 0.5 ? 'dashed' : 'solid';
      } else {
        let best = 0;
        for (let k = 1; k < nv; k++) if (votes[k]! > votes[best]!) best = k;
        prim.kind = BOUNDARY_KIND_BY_CLASS[classes[best]!]!;
      }
      const simple = simplify(chain, classes === DIVIDER ? o.simplifyToleranceM : o.boundarySimplifyToleranceM);
      const parts = clip ? clipPolyline(simple, clip.minXM, clip.minYM, clip.maxXM, clip.maxYM) : [simple];
      for (const part of parts) {
        if (lengthM(part) < this.cell) continue;
        out.push({ ...prim, points: part });
      }
    }
  }

  stopLines(clip: ClipRect | undefined, out: VectorPrimitive[]): void {
    if (!this.select([C.stop_line], 2, this.o.stopLinePresenceThreshold)) return;
    const comps = componentsFlat(this.mask, this.w, this.h);
    const half = this.cell / 2;
    for (let k = 0; k < comps.count; k++) {
      const s = comps.start[k]!;
      const e = comps.start[k + 1]!;
      if (e - s < 2) continue;
      const a = this.axes(comps.cells, s, e, this.o.stopLineExtentQuantile);
      const p0: Pt = [a.cx + a.ux * (a.min0 - half), a.cy + a.uy * (a.min0 - half)];
      const p1: Pt = [a.cx + a.ux * (a.max0 + half), a.cy + a.uy * (a.max0 + half)];
      if (Math.hypot(p1[0] - p0[0], p1[1] - p0[1]) < this.o.minStopLineLengthM) continue;
      if (clip && !inRect(clip, (p0[0] + p1[0]) / 2, (p0[1] + p1[1]) / 2)) continue;
      out.push({ cls: 'stop_line', score: clamp01(a.meanRatio), points: [p0, p1] });
    }
  }

  crosswalks(clip: ClipRect | undefined, out: VectorPrimitive[], travelAxisRad: number | undefined): void {
    const radius = Math.round(this.o.crosswalkJoinM / 2 / this.cell);
    if (!this.select([C.crosswalk], radius + 2, this.o.crosswalkPresenceThreshold)) return;
    const mask = this.mask;
    const joined = dilate(mask, this.w, this.h, radius);
    const comps = componentsFlat(joined, this.w, this.h);
    const cells = new Int32Array(comps.cells.length);
    for (let k = 0; k < comps.count; k++) {
      let nc = 0;
      for (let q = comps.start[k]!; q < comps.start[k + 1]!; q++) {
        const i = comps.cells[q]!;
        if (mask[i] === 1) cells[nc++] = i;
      }
      if (nc < 3) continue;
      for (const [ps, pe] of this.splitAtValleys(cells, nc)) this.crosswalkRect(cells, ps, pe, clip, out, travelAxisRad);
    }
  }

  /**
   * Ranges [start, end) of `cells` (reordered in place) that are one crosswalk each: the whole
   * blob, or its parts between the valleys of crosswalkSplitValley along its long axis.
   */
  private splitAtValleys(cells: Int32Array, nc: number): Array<[number, number]> {
    const f = this.o.crosswalkSplitValley;
    if (f <= 0) return [[0, nc]];
    const a = this.axes(cells, 0, nc);
    const BIN_M = 0.5;
    const MIN_SIDE_BINS = 4; // 2 m
    const nb = Math.floor((a.max0 - a.min0) / BIN_M) + 1;
    if (nb < 2 * MIN_SIDE_BINS + 1) return [[0, nc]];
    const binOf = (i: number): number => Math.floor(((this.centreX(i) - a.cx) * a.ux + (this.centreY(i) - a.cy) * a.uy - a.min0) / BIN_M);
    const raw = new Float64Array(nb);
    for (let q = 0; q < nc; q++) raw[binOf(cells[q]!)]!++;
    // Smoothed [1 2 1] / 4: zebra stripes (about 1 m period) make alternate bins full and empty.
    const count = new Float64Array(nb);
    for (let b = 0; b < nb; b++) count[b] = (raw[Math.max(0, b - 1)]! + 2 * raw[b]! + raw[Math.min(nb - 1, b + 1)]!) / 4;
    const med = Float64Array.from(count).sort()[nb >> 1]!;
    const solid = (b: number): boolean => count[b]! >= 0.8 * med;
    // Cuts: the lowest bin of each interior run below f * median with enough solid bins on both sides.
    const cuts: number[] = [];
    let solidBefore = 0;
    for (let b = 0; b < nb; b++) {
      if (count[b]! >= f * med) {
        if (solid(b)) solidBefore++;
        continue;
      }
      let e = b;
      let low = b;
      while (e + 1 < nb && count[e + 1]! < f * med) {
        e++;
        if (count[e]! < count[low]!) low = e;
      }
      let solidAfter = 0;
      for (let c = e + 1; c < nb && count[c]! >= f * med; c++) if (solid(c)) solidAfter++;
      if (b > 0 && e < nb - 1 && solidBefore >= MIN_SIDE_BINS && solidAfter >= MIN_SIDE_BINS) {
        cuts.push(low);
        solidBefore = 0;
      }
      b = e;
    }
    if (!cuts.length) return [[0, nc]];
    // Stable counting sort of the cells by part.
    const partOf = (i: number): number => {
      const b = binOf(i);
      let k = 0;
      while (k < cuts.length && b > cuts[k]!) k++;
      return k;
    };
    const sizes = new Int32Array(cuts.length + 1);
    for (let q = 0; q < nc; q++) sizes[partOf(cells[q]!)]!++;
    const sorted = new Int32Array(nc);
    const at = new Int32Array(cuts.length + 1);
    for (let k = 1; k <= cuts.length; k++) at[k] = at[k - 1]! + sizes[k - 1]!;
    const ranges: Array<[number, number]> = Array.from(at, (s0, k) => [s0, s0 + sizes[k]!]);
    for (let q = 0; q < nc; q++) {
      const i = cells[q]!;
      sorted[at[partOf(i)]!++] = i;
    }
    cells.set(sorted);
    return ranges.filter(([s0, e0]) => e0 - s0 >= 3);
  }

  /** The rectangle of crosswalk cells[s, e), when large enough and inside `clip`. */
  private crosswalkRect(cells: Int32Array, s: number, e: number, clip: ClipRect | undefined, out: VectorPrimitive[], travelAxisRad: number | undefined): void {
    {
      const q = this.o.crosswalkExtentQuantile;
      const a = this.axes(cells, s, e, q);
      // The quantiles q .. 1 - q of evidence spread evenly over a side of length L lie q L in from
      // its ends: scaled by 1 / (1 - 2 q) about their middle they span L again. Only across the
      // car's way (the long axis when it is not known): along it, each pixel's evidence smears
      // along its viewing ray, which already stretches the quantiles by about as much.
      const grow = 1 / (1 - 2 * q);
      const longAcross = travelAxisRad === undefined || Math.abs(a.ux * Math.cos(travelAxisRad) + a.uy * Math.sin(travelAxisRad)) <= Math.abs(a.ux * Math.sin(travelAxisRad) - a.uy * Math.cos(travelAxisRad));
      const h = this.cell / 2;
      const mid0 = (a.min0 + a.max0) / 2;
      const mid1 = (a.min1 + a.max1) / 2;
      const half0 = ((a.max0 - a.min0) / 2) * (longAcross ? grow : 1) + h;
      const half1 = ((a.max1 - a.min1) / 2) * (longAcross ? 1 : grow) + h;
      const l0 = mid0 - half0;
      const l1 = mid0 + half0;
      const m0 = mid1 - half1;
      const m1 = mid1 + half1;
      if ((l1 - l0) * (m1 - m0) < this.o.minCrosswalkAreaM2) return;
      const poly: Pt[] = [
        [a.cx + a.ux * l0 - a.uy * m0, a.cy + a.uy * l0 + a.ux * m0],
        [a.cx + a.ux * l1 - a.uy * m0, a.cy + a.uy * l1 + a.ux * m0],
        [a.cx + a.ux * l1 - a.uy * m1, a.cy + a.uy * l1 + a.ux * m1],
        [a.cx + a.ux * l0 - a.uy * m1, a.cy + a.uy * l0 + a.ux * m1],
      ];
      if (clip && !inRect(clip, a.cx + a.ux * (l0 + l1) / 2 - a.uy * (m0 + m1) / 2, a.cy + a.uy * (l0 + l1) / 2 + a.ux * (m0 + m1) / 2)) return;
      out.push({ cls: 'crosswalk', score: clamp01(a.meanRatio), points: poly });
    }
  }

  points(classId: number, cls: 'traffic_sign' | 'traffic_light', clip: ClipRect | undefined, out: VectorPrimitive[]): void {
    if (!this.select([classId], 2, this.o.pointPresenceThreshold)) return;
    const ratio = this.ratio;
    const comps = componentsFlat(this.mask, this.w, this.h);
    for (let k = 0; k < comps.count; k++) {
      const s = comps.start[k]!;
      const e = comps.start[k + 1]!;
      if (e - s < this.o.minPointCells) continue;
      let sw = 0;
      let sx = 0;
      let sy = 0;
      for (let q = s; q < e; q++) {
        const i = comps.cells[q]!;
        const w = ratio[i]!;
        sw += w;
        sx += w * this.centreX(i);
        sy += w * this.centreY(i);
      }
      const p: Pt = [sx / sw, sy / sw];
      if (clip && !inRect(clip, p[0], p[1])) continue;
      if (this.o.minPointEvidence > 0) {
        const ev = this.g.evidence;
        const base = (classId - 1) * this.N;
        let mass = 0;
        for (let q = s; q < e; q++) mass += ev[base + this.full(comps.cells[q]!)]!;
        if (mass < this.o.minPointEvidence) continue;
      }
      const prim: VectorPrimitive = { cls, score: clamp01(sw / (e - s)), points: [p] };
      if (cls === 'traffic_sign') prim.signCode = '';
      out.push(prim);
    }
  }

  /**
   * Radar poles -> signs and lights: the camera's sign_base and light_base evidence within
   * poleCameraRadiusM of each pole; the larger, when it reaches minPoleEvidence, names the class,
   * the smaller adds its own when it reaches minPoleEvidence and poleBothFraction of the larger
   * (a sign on a light's pole). A pole the camera calls neither (a lamp post, a tree) is not
   * uploaded. Each cell's evidence counts for the nearest pole only: a lamp post 1.5 m from a
   * traffic light does not take the light's name. Score: a class's evidence e as
   * e / (e + minPoleEvidence), 0.5 at the threshold.
   */
  classifyPoles(poles: readonly PolePoint[], out: VectorPrimitive[]): void {
    const { evidence: ev, originXM, originYM } = this.g;
    const c = this.cell;
    const R = this.o.poleCameraRadiusM;
    const reach = Math.ceil(R / c);
    const signOff = (C.sign_base - 1) * this.N;
    const lightOff = (C.light_base - 1) * this.N;
    for (const p of poles) {
      // Poles whose cells may be nearer to them than to p.
      const rivals = poles.filter((q) => q !== p && Math.hypot(q.xM - p.xM, q.yM - p.yM) < 2 * R);
      const pc = Math.floor((p.xM - originXM) / c);
      const pr = Math.floor((p.yM - originYM) / c);
      let sign = 0;
      let light = 0;
      for (let r = Math.max(0, pr - reach); r <= Math.min(this.H - 1, pr + reach); r++) {
        const y = originYM + (r + 0.5) * c;
        const dy = y - p.yM;
        for (let col = Math.max(0, pc - reach); col <= Math.min(this.W - 1, pc + reach); col++) {
          const x = originXM + (col + 0.5) * c;
          const dx = x - p.xM;
          const d2 = dx * dx + dy * dy;
          if (d2 > R * R) continue;
          let nearer = false;
          for (let k = 0; k < rivals.length && !nearer; k++) nearer = (x - rivals[k]!.xM) ** 2 + (y - rivals[k]!.yM) ** 2 < d2;
          if (nearer) continue;
          const fi = r * this.W + col;
          sign += ev[signOff + fi]!;
          light += ev[lightOff + fi]!;
        }
      }
      const best = Math.max(sign, light);
      const least = Math.max(this.o.minPoleEvidence, Number.MIN_VALUE);
      const score = (e: number): number => e / (e + least);
      if (sign >= least && sign >= this.o.poleBothFraction * best) out.push({ cls: 'traffic_sign', score: score(sign), points: [[p.xM, p.yM]], signCode: '' });
      if (light >= least && light >= this.o.poleBothFraction * best) out.push({ cls: 'traffic_light', score: score(light), points: [[p.xM, p.yM]] });
    }
  }

  /**
   * Weighted centroid, principal axis (u) and extents along u (0) and its normal (1) of
   * cells[s..e): the extreme cells, or with `quantile` q > 0 the weighted quantiles q and 1 - q.
   */
  axes(cells: Int32Array, s: number, e: number, quantile = 0): { cx: number; cy: number; ux: number; uy: number; min0: number; max0: number; min1: number; max1: number; meanRatio: number } {
    const ratio = this.ratio;
    // Cell centres once (centreX / centreY), read by every pass below.
    const m = e - s;
    if (axX.length < m) {
      axX = new Float64Array(Math.max(m, 2 * axX.length));
      axY = new Float64Array(axX.length);
    }
    const xs = axX;
    const ys = axY;
    for (let q = s; q < e; q++) {
      const i = cells[q]!;
      xs[q - s] = this.centreX(i);
      ys[q - s] = this.centreY(i);
    }
    let sw = 0;
    let sx = 0;
    let sy = 0;
    for (let q = s; q < e; q++) {
      const w = ratio[cells[q]!]!;
      sw += w;
      sx += w * xs[q - s]!;
      sy += w * ys[q - s]!;
    }
    const cx = sx / sw;
    const cy = sy / sw;
    let sxx = 0;
    let syy = 0;
    let sxy = 0;
    for (let q = s; q < e; q++) {
      const x = xs[q - s]!;
      const y = ys[q - s]!;
      const w = ratio[cells[q]!]!;
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
    for (let q = s; q < e; q++) {
      const x = xs[q - s]!;
      const y = ys[q - s]!;
      const s0 = (x - cx) * ux + (y - cy) * uy;
      const t = -(x - cx) * uy + (y - cy) * ux;
      if (s0 < min0) min0 = s0;
      if (s0 > max0) max0 = s0;
      if (t < min1) min1 = t;
      if (t > max1) max1 = t;
    }
    if (quantile > 0) {
      const n = e - s;
      if (qAlong.length < n) {
        qAlong = new Float64Array(Math.max(n, 2 * qAlong.length));
        qAcross = new Float64Array(qAlong.length);
        qWeight = new Float64Array(qAlong.length);
      }
      for (let q = s; q < e; q++) {
        const x = xs[q - s]! - cx;
        const y = ys[q - s]! - cy;
        qAlong[q - s] = x * ux + y * uy;
        qAcross[q - s] = -x * uy + y * ux;
      }
      for (let q = s; q < e; q++) qWeight[q - s] = ratio[cells[q]!]!;
      weightedQuantilesInto(qAlong, qWeight, n, sw, quantile, qOut);
      min0 = qOut[0]!;
      max0 = qOut[1]!;
      for (let q = s; q < e; q++) qWeight[q - s] = ratio[cells[q]!]!;
      weightedQuantilesInto(qAcross, qWeight, n, sw, quantile, qOut);
      min1 = qOut[0]!;
      max1 = qOut[1]!;
    }
    return { cx, cy, ux, uy, min0, max0, min1, max1, meanRatio: sw / (e - s) };
  }

  /**
   * Move each traced point (xs, ys)[0..n) sideways to the evidence-weighted centre of the line
   * there, into (ox, oy).
   * For a line to the side of the car that centre lies outward (up to ~15 cm at 4-6 m): the
   * perspective's stretched footprints give its profile a long far-side tail. The profile's peak
   * and mean shifts were tried and lost in the merged map (docs/PERCEPTION.md, "refine").
   */
  refine(xs: Float64Array, ys: Float64Array, n: number, ox: Float64Array, oy: Float64Array): void {
    if (n < 2) {
      for (let i = 0; i < n; i++) {
        ox[i] = xs[i]!;
        oy[i] = ys[i]!;
      }
      return;
    }
    const half = this.o.refineHalfWidthM;
    const step = this.cell / 3;
    const k = Math.max(1, Math.round(half / step));
    const reach = Math.max(1, Math.round(1 / this.cell)); // tangent over ~2 m
    const floor = this.o.presenceThreshold * 0.5;
    // sample()'s interior case inlined with the view's fields in locals (the same arithmetic).
    const { x0: cx0, y0: cy0, w, h, ratio, cell } = this;
    const ox0 = this.g.originXM;
    const oy0 = this.g.originYM;
    for (let i = 0; i < n; i++) {
      const a = Math.max(0, i - reach);
      const b = Math.min(n - 1, i + reach);
      let tx = xs[b]! - xs[a]!;
      let ty = ys[b]! - ys[a]!;
      const d = Math.sqrt(tx * tx + ty * ty);
      const px = xs[i]!;
      const py = ys[i]!;
      if (d === 0) {
        ox[i] = px;
        oy[i] = py;
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
        const x = px + nx * off;
        const y = py + ny * off;
        const fx = (x - ox0) / cell - 0.5;
        const fy = (y - oy0) / cell - 0.5;
        // Cell coordinates as int32 (| 0 keeps the floor's value; crops are far below 2^31
        // cells): the index arithmetic stays integer instead of converting doubles.
        const c = Math.floor(fx) | 0;
        const r = Math.floor(fy) | 0;
        const cc = c - cx0;
        const rr = r - cy0;
        let v: number;
        if (cc >= 0 && rr >= 0 && cc + 1 < w && rr + 1 < h) {
          const q = rr * w + cc;
          const a00 = ratio[q]!;
          const a01 = ratio[q + 1]!;
          const a10 = ratio[q + w]!;
          const a11 = ratio[q + w + 1]!;
          // Off the line all four are 0: v would be 0 and v - floor <= 0, so the sample adds nothing.
          if (a00 === 0 && a01 === 0 && a10 === 0 && a11 === 0) continue;
          const tx = fx - c;
          const ty = fy - r;
          v = (1 - ty) * ((1 - tx) * a00 + tx * a01) + ty * ((1 - tx) * a10 + tx * a11);
        } else v = this.sample(x, y);
        const wt = v - floor;
        if (wt <= 0) continue;
        sw += wt;
        so += wt * off;
      }
      const shift = sw > 0 ? so / sw : 0;
      ox[i] = px + nx * shift;
      oy[i] = py + ny * shift;
    }
  }

  /** The crop cell at or next to `i` (3 x 3) in the mask with the highest ratio, or -1. */
  bestNear(mask: Uint8Array, ratio: Float32Array, i: number): number {
    const w = this.w;
    const c = i % w;
    const r = (i - c) / w;
    let best = -1;
    for (let dr = -1; dr <= 1; dr++) {
      for (let dc = -1; dc <= 1; dc++) {
        const cc = c + dc;
        const rr = r + dr;
        if (cc < 0 || rr < 0 || cc >= w || rr >= this.h) continue;
        const j = rr * w + cc;
        if (mask[j] && (best < 0 || ratio[j]! > ratio[best]!)) best = j;
      }
    }
    return best;
  }
}

/** Bounding box [c0, r0, c1, r1] (inclusive) of the non-zero cells of a plane, or null. */
function planeBox(a: Float32Array, base: number, w: number, h: number): [number, number, number, number] | null {
  let r0 = -1;
  let r1 = -1;
  let c0 = w;
  let c1 = -1;
  for (let r = 0; r < h; r++) {
    const row = base + r * w;
    let first = -1;
    for (let c = 0; c < w; c++) {
      if (a[row + c] !== 0) {
        first = c;
        break;
      }
    }
    if (first < 0) continue;
    if (r0 < 0) r0 = r;
    r1 = r;
    if (first < c0) c0 = first;
    for (let c = w - 1; c > c1; c--) {
      if (a[row + c] !== 0) {
        c1 = c;
        break;
      }
    }
  }
  return r0 < 0 ? null : [c0, r0, Math.max(c0, c1), r1];
}

// Polyline samples (x, y pairs) of the last samplePolyline call.
let sampleXY = new Float64Array(256);

/**
 * Points every `stepM` along a polyline (carrying the remainder across vertices) plus its last
 * vertex, into `sampleXY`; returns how many.
 */
function samplePolyline(pts: readonly Pt[], stepM: number): number {
  let n = 0;
  let carry = 0;
  for (let i = 0; i + 1 < pts.length; i++) {
    const a = pts[i]!;
    const b = pts[i + 1]!;
    const len = Math.sqrt((b[0] - a[0]) ** 2 + (b[1] - a[1]) ** 2);
    let s = carry;
    for (; s < len; s += stepM) {
      if (2 * n + 2 > sampleXY.length) sampleXY = growF64(sampleXY);
      sampleXY[2 * n] = a[0] + ((b[0] - a[0]) * s) / len;
      sampleXY[2 * n + 1] = a[1] + ((b[1] - a[1]) * s) / len;
      n++;
    }
    carry = s - len;
  }
  const last = pts[pts.length - 1]!;
  if (2 * n + 2 > sampleXY.length) sampleXY = growF64(sampleXY);
  sampleXY[2 * n] = last[0];
  sampleXY[2 * n + 1] = last[1];
  return n + 1;
}

function growF64(a: Float64Array<ArrayBuffer>): Float64Array<ArrayBuffer> {
  const b = new Float64Array(a.length * 2);
  b.set(a);
  return b;
}

/**
 * Drop chains that run alongside a longer chain (a blob thinned into two parallel traces): at
 * least 70 % of their length within `distM` of it. The kept chains' segments are bucketed on a
 * grid (each in every bucket its box grown by `distM` touches), so a sample is tested only
 * against the segments that can be within `distM` of it.
 */
function dropDuplicates(chains: Pt[][], distM: number): Pt[][] {
  const byLength = chains.map((c) => ({ c, len: lengthM(c) })).sort((a, b) => b.len - a.len);
  if (byLength.length <= 1) return byLength.map((e) => e.c);
  let minX = Infinity;
  let minY = Infinity;
  let maxX = -Infinity;
  let maxY = -Infinity;
  for (const c of chains) {
    for (const p of c) {
      if (p[0] < minX) minX = p[0];
      if (p[0] > maxX) maxX = p[0];
      if (p[1] < minY) minY = p[1];
      if (p[1] > maxY) maxY = p[1];
    }
  }
  const bucketM = Math.max(0.5, 2 * distM);
  minX -= distM + bucketM;
  minY -= distM + bucketM;
  const nbx = Math.max(1, Math.ceil((maxX + distM + bucketM - minX) / bucketM));
  const nby = Math.max(1, Math.ceil((maxY + distM + bucketM - minY) / bucketM));
  const index = new SegmentBuckets(nbx, nby);
  const kept: Pt[][] = [];
  for (const { c } of byLength) {
    let total = 0;
    let close = 0;
    const ns = samplePolyline(c, 0.5);
    for (let q = 0; q < ns; q++) {
      total++;
      const x = sampleXY[2 * q]!;
      const y = sampleXY[2 * q + 1]!;
      const bx = Math.floor((x - minX) / bucketM);
      const by = Math.floor((y - minY) / bucketM);
      if (bx < 0 || by < 0 || bx >= nbx || by >= nby) continue;
      if (index.anyWithin(by * nbx + bx, x, y, distM)) close++;
    }
    if (total === 0 || close / total < 0.7) {
      kept.push(c);
      for (let i = 0; i + 1 < c.length; i++) {
        const a = c[i]!;
        const b = c[i + 1]!;
        const bx0 = Math.max(0, Math.floor((Math.min(a[0], b[0]) - distM - minX) / bucketM));
        const bx1 = Math.min(nbx - 1, Math.floor((Math.max(a[0], b[0]) + distM - minX) / bucketM));
        const by0 = Math.max(0, Math.floor((Math.min(a[1], b[1]) - distM - minY) / bucketM));
        const by1 = Math.min(nby - 1, Math.floor((Math.max(a[1], b[1]) + distM - minY) / bucketM));
        const s = index.addSegment(a[0], a[1], b[0], b[1]);
        for (let yy = by0; yy <= by1; yy++) for (let xx = bx0; xx <= bx1; xx++) index.link(yy * nbx + xx, s);
      }
    }
  }
  return kept;
}

/** Segments in buckets (singly linked lists in typed arrays). */
class SegmentBuckets {
  private readonly head: Int32Array;
  private next = new Int32Array(64);
  private seg = new Int32Array(64);
  private entries = 0;
  private coords = new Float64Array(64);
  private segments = 0;

  constructor(nbx: number, nby: number) {
    this.head = new Int32Array(nbx * nby).fill(-1);
  }

  addSegment(ax: number, ay: number, bx: number, by: number): number {
    if (4 * this.segments + 4 > this.coords.length) this.coords = growF64(this.coords);
    const s = this.segments++;
    this.coords[4 * s] = ax;
    this.coords[4 * s + 1] = ay;
    this.coords[4 * s + 2] = bx;
    this.coords[4 * s + 3] = by;
    return s;
  }

  link(bucket: number, s: number): void {
    if (this.entries >= this.next.length) {
      const n2 = new Int32Array(this.next.length * 2);
      n2.set(this.next);
      this.next = n2;
      const s2 = new Int32Array(this.seg.length * 2);
      s2.set(this.seg);
      this.seg = s2;
    }
    const e = this.entries++;
    this.seg[e] = s;
    this.next[e] = this.head[bucket]!;
    this.head[bucket] = e;
  }

  /** Whether a segment linked to `bucket` lies within `distM` of (x, y). */
  anyWithin(bucket: number, x: number, y: number, distM: number): boolean {
    const c = this.coords;
    const dist2 = distM * distM;
    for (let e = this.head[bucket]!; e >= 0; e = this.next[e]!) {
      const s = 4 * this.seg[e]!;
      const ax = c[s]!;
      const ay = c[s + 1]!;
      const vx = c[s + 2]! - ax;
      const vy = c[s + 3]! - ay;
      const len2 = vx * vx + vy * vy;
      let t = len2 > 0 ? ((x - ax) * vx + (y - ay) * vy) / len2 : 0;
      t = t < 0 ? 0 : t > 1 ? 1 : t;
      const dx = x - ax - t * vx;
      const dy = y - ay - t * vy;
      if (dx * dx + dy * dy <= dist2) return true;
    }
    return false;
  }
}

/**
 * Moving average of the vertices (xs, ys)[0..n) over +-k neighbours (the window shrinks at the
 * ends, which stay), as a polyline.
 */
function smoothPolyline(xs: Float64Array, ys: Float64Array, n: number, k: number): Pt[] {
  const out: Pt[] = [];
  if (k < 1 || n < 3) {
    for (let i = 0; i < n; i++) out.push([xs[i]!, ys[i]!]);
    return out;
  }
  for (let i = 0; i < n; i++) {
    const m = Math.min(k, i, n - 1 - i);
    let sx = 0;
    let sy = 0;
    for (let j = i - m; j <= i + m; j++) {
      sx += xs[j]!;
      sy += ys[j]!;
    }
    out.push([sx / (2 * m + 1), sy / (2 * m + 1)]);
  }
  return out;
}

/** Whether a stop-line candidate is not a zebra stripe nor a divider dash (see stopLineDividerDistanceM). */
function isStopLine(p: VectorPrimitive, lines: readonly VectorPrimitive[], crosswalks: readonly VectorPrimitive[], o: VectorizeOptions, travelAxisRad: number | undefined): boolean {
  const [a, b] = p.points as [Pt, Pt];
  const mx = (a[0] + b[0]) / 2;
  const my = (a[1] + b[1]) / 2;
  const dir = Math.atan2(b[1] - a[1], b[0] - a[0]);
  if (travelAxisRad !== undefined && o.stopLineMinAngleToTravelRad > 0 && wrapHalfTurn(dir - travelAxisRad) < o.stopLineMinAngleToTravelRad) return false;
  for (const c of crosswalks) if (pointInRing([mx, my], c.points)) return false;
  if (!(o.stopLineDividerDistanceM > 0)) return true;
  for (const l of lines) {
    if (l.cls !== 'lane_divider') continue;
    for (let i = 0; i + 1 < l.points.length; i++) {
      const [p0, p1] = [l.points[i]!, l.points[i + 1]!];
      const d = Math.abs(wrapHalfTurn(Math.atan2(p1[1] - p0[1], p1[0] - p0[0]) - dir));
      if (d >= o.stopLineDividerAngleRad) continue;
      if (pointSegmentDist2([mx, my], p0, p1).d2 <= o.stopLineDividerDistanceM ** 2) return false;
    }
  }
  return true;
}

/** An angle difference folded into [0, pi/2] (lines have no direction). */
function wrapHalfTurn(d: number): number {
  let r = Math.abs(d) % Math.PI;
  if (r > Math.PI / 2) r = Math.PI - r;
  return r;
}

function inRect(r: ClipRect, x: number, y: number): boolean {
  return x >= r.minXM && x < r.maxXM && y >= r.minYM && y < r.maxYM;
}

function clamp01(x: number): number {
  return x < 0 ? 0 : x > 1 ? 1 : x;
}

// Cell centres of axes' cells, reused.
let axX = new Float64Array(64);
let axY = new Float64Array(64);
// Scratch of axes' weighted quantiles (values along / across, weights, result), reused.
let qAlong = new Float64Array(64);
let qAcross = new Float64Array(64);
let qWeight = new Float64Array(64);
let sortTmpV = new Float64Array(64);
let sortTmpW = new Float64Array(64);
const qOut = new Float64Array(2);

/**
 * The values at weighted quantiles q and 1 - q of the (values[k], weights[k]) pairs, k < n, whose
 * weights sum to total, into out[0], out[1]. Sorts both arrays in place by value, stably (as
 * Array.prototype.sort with (a, b) => a - b on the pairs would: equal values keep their order,
 * so the weights are summed in the same order).
 */
function weightedQuantilesInto(values: Float64Array, weights: Float64Array, n: number, total: number, q: number, out: Float64Array): void {
  stableSortPairs(values, weights, n);
  let acc = 0;
  let lo = values[0]!;
  let hi = values[n - 1]!;
  let loFound = false;
  for (let k = 0; k < n; k++) {
    const v = values[k]!;
    acc += weights[k]!;
    if (!loFound && acc >= q * total) {
      lo = v;
      loFound = true;
    }
    if (acc >= (1 - q) * total) {
      hi = v;
      break;
    }
  }
  out[0] = lo;
  out[1] = hi;
}

/** Stable sort of values[0..n) ascending, carrying weights along: insertion-sorted runs of 16, then bottom-up merges. */
function stableSortPairs(values: Float64Array, weights: Float64Array, n: number): void {
  const RUN = 16;
  for (let a = 0; a < n; a += RUN) {
    const end = Math.min(n, a + RUN);
    for (let i = a + 1; i < end; i++) {
      const v = values[i]!;
      const w = weights[i]!;
      let j = i - 1;
      // Only a strictly larger value moves up (equal values keep their order).
      while (j >= a && values[j]! > v) {
        values[j + 1] = values[j]!;
        weights[j + 1] = weights[j]!;
        j--;
      }
      values[j + 1] = v;
      weights[j + 1] = w;
    }
  }
  if (n <= RUN) return;
  if (sortTmpV.length < n) {
    sortTmpV = new Float64Array(Math.max(n, 2 * sortTmpV.length));
    sortTmpW = new Float64Array(sortTmpV.length);
  }
  let srcV: Float64Array = values;
  let srcW: Float64Array = weights;
  let dstV: Float64Array = sortTmpV;
  let dstW: Float64Array = sortTmpW;
  for (let width = RUN; width < n; width *= 2) {
    for (let a = 0; a < n; a += 2 * width) {
      const mid = Math.min(n, a + width);
      const end = Math.min(n, a + 2 * width);
      let i = a;
      let j = mid;
      let k = a;
      // The left element goes first unless the right one is strictly smaller (stable).
      while (i < mid && j < end) {
        if (srcV[j]! < srcV[i]!) {
          dstV[k] = srcV[j]!;
          dstW[k++] = srcW[j++]!;
        } else {
          dstV[k] = srcV[i]!;
          dstW[k++] = srcW[i++]!;
        }
      }
      while (i < mid) {
        dstV[k] = srcV[i]!;
        dstW[k++] = srcW[i++]!;
      }
      while (j < end) {
        dstV[k] = srcV[j]!;
        dstW[k++] = srcW[j++]!;
      }
    }
    const tv = srcV;
    const tw = srcW;
    srcV = dstV;
    srcW = dstW;
    dstV = tv;
    dstW = tw;
  }
  if (srcV !== values) {
    values.set(srcV.subarray(0, n));
    weights.set(srcW.subarray(0, n));
  }
}
