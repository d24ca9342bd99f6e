/**
 * The local map: ground-projected class evidence of every processed frame, accumulated in the
 * pose estimator's east-north frame (metres, edge/pose.ts) on a grid of square cells, organised
 * in square chunks allocated on demand. Per cell: a visibility weight (how much of the camera's
 * valid field landed there) and per class an evidence weight (the same samples, times the
 * class probability). evidence / visibility is the class probability of the cell.
 *
 * Splatting: each valid output pixel covers a footprint on the ground (GroundLut: near -> far
 * along its ray, and across), metres long for far rows. The footprint is sampled at ~0.7 cell
 * spacing and every pixel adds the same total weight (1): far pixels spread thinly over the cells
 * they cover (no holes), near pixels concentrate (precision). Along the ray the samples' weights
 * fall geometrically from near to far as the pixel's image rows per metre do (GroundLut
 * farDensity): uniform weights would put each pixel's evidence at the middle of its footprint,
 * beyond what its image centre saw, and a line seen from the side would gather a tail away from
 * the car, so that its fused profile's centroid lies outward. The class of a pixel is its arg-max
 * (SegOutput). Boundary pixels above the foot of their column's run (`boundaryFootPx`) count as
 * background: a raised boundary's face projects metres outward. A run that first turns from kerb
 * or border pixels into barrier pixels has a second foot there: the barrier standing behind. Signs
 * and lights (sign_base, light_base: a pole and what it carries) count only at their foot: in
 * each column a vertical run of pole pixels (either class winning the arg-max, or their
 * probabilities together reaching `pointProbThreshold`) adds, at its lowest
 * `poleFootPx` pixels, the run's mean probability of each class (a sign on a light's pole adds
 * to both).
 *
 * Line centres (`lineCentreHalfPx`): a painted line is labelled at least two label pixels wide
 * (sim/camera/map-layer.ts), so where it runs shallow across the image (far lines, seen from the
 * side) a column's run of line pixels spans rows that the ground projection spreads metres along
 * the ray. In such a run the line crosses the column at the run's middle row: its evidence goes
 * only to the part of the run's footprints within `lineCentreHalfPx` rows of that middle, in
 * total as much as before (their visibility stays whole).
 *
 * Emission: `finish(vehicle pose)` vectorises each chunk the vehicle can no longer see (wholly
 * behind it by more than `behindM`, or all of it farther than `farM`) ONCE, on a grid that adds
 * `marginM` of the neighbouring chunks so lines continue across chunk borders, keeping only what
 * lies inside the chunk (polylines cut at its edges) - each stretch of road once. An emitted
 * chunk stays (read-only) as margin for its neighbours until they are emitted too or the
 * vehicle is `retainM` away, then it is freed; a revisit (after a U-turn) starts it afresh.
 * `flush()` (drive end) emits everything left and frees all.
 *
 * Cost: each pixel's footprint lattice is kept in the body frame per ground table (recomputed
 * only when the table is), so a frame only moves it into the map frame; a footprint inside one
 * chunk is splatted ray by ray with local indices, one crossing a chunk edge in runs that stay in
 * one chunk. Each chunk keeps per plane a box around its non-zero cells: a revisit or a freed
 * chunk (kept for reuse) zeroes only those, emission copies only those into one reused grid and
 * hands them to the vectoriser so it works on the evidence's extent alone. The pixels of a column
 * above its top valid ground pixel are scanned (markFeet) only while a pole run reaching down to
 * it is open.
 */
import { SEG_CLASS_COUNT, SEG_CLASS_IDS } from '../../shared/camera.ts';
import type { BoundaryKind, DividerStyle, PrimitiveClass } from '../../shared/schema.ts';
import type { SegOutput } from './decode.ts';
import type { GroundLut } from './ground.ts';
import { allocBevGrid, DEFAULT_VECTORIZE_OPTIONS, validateVectorizeOptions, vectorizeGrid, type BevGrid, type ClipRect, type PolePoint, type VectorizeOptions } from './vectorize.ts';

/**
 * Poles placed by another sensor inside a chunk being emitted (its rectangle in the pose frame),
 * or undefined when there is none (the camera's own pole-foot blobs are used then).
 */
export type PoleSource = (chunk: ClipRect) => readonly PolePoint[] | undefined;

export interface LocalMapOptions {
  /** Cell side, metres. */
  cellM: number;
  /** Cells per chunk side (chunk side = chunkCells * cellM metres). */
  chunkCells: number;
  /** Neighbouring chunks' evidence included around a chunk when vectorising it, metres. */
  marginM: number;
  /** A chunk wholly behind the vehicle by more than this is finished, metres. */
  behindM: number;
  /** A chunk whose nearest point is farther than this from the vehicle is finished, metres. */
  farM: number;
  /** An emitted chunk kept as margin is freed at the latest this far from the vehicle, metres. */
  retainM: number;
  /** Footprint samples per pixel and axis at most (bounds the cost of far rows). */
  maxSamplesPerAxis: number;
  /**
   * A pixel belongs to a pole run when sign_base or light_base wins its arg-max or their
   * probabilities (SegOutput.signBaseProb / lightBaseProb) together reach this, in (0, 1]: a
   * pole is a pixel or two wide and often loses the arg-max to what stands behind it.
   */
  pointProbThreshold: number;
  /**
   * Pole feet: each column's vertical run of pole pixels adds its evidence only at its lowest
   * (nearest) this many pixels, where the pole meets the ground; the rest of the run (the pole
   * above the ground and what it carries) projects metres outward or above the horizon. >= 1.
   */
  poleFootPx: number;
  /**
   * Boundary feet: in each column of the segmentation, a vertical run of boundary pixels (curb,
   * border, barrier together) keeps only its lowest (nearest) this many pixels as evidence; the
   * rest of the run counts as background. Boundaries are labelled at their foot, but the model
   * also marks the kerb face, the rail of a guard rail and the strip behind it, which the
   * flat-ground projection throws metres outward (docs/PERCEPTION.md section 5). Where the run
   * turns from kerb or border pixels into barrier pixels, a barrier stands behind the road's edge
   * (a guard rail on the shoulder): its own lowest pixels count too. 0 = off.
   */
  boundaryFootPx: number;
  /**
   * Line centres: in each column's vertical run of line pixels (dividers solid and dashed
   * together; stop lines) whose band lies within ~27 degrees of the image rows (the middle row's
   * horizontal run at least twice the vertical run), the run's evidence goes only to the rows
   * within this many output pixels of the run's middle row coordinate, in total as much as the
   * whole run would have added (moved, not dropped); every pixel of the run adds its visibility
   * as before. 0 = off; otherwise at most 4.
   */
  lineCentreHalfPx: number;
  /** Vectorisation of finished chunks. */
  vectorize: Partial<VectorizeOptions>;
}

export const DEFAULT_LOCAL_MAP_OPTIONS: LocalMapOptions = {
  cellM: 0.15, // m
  chunkCells: 240, // cells (36 m)
  marginM: 6, // m
  behindM: 5, // m
  farM: 60, // m
  retainM: 120, // m
  maxSamplesPerAxis: 64, // samples
  pointProbThreshold: 0.2, // probability
  boundaryFootPx: 3, // output pixels
  lineCentreHalfPx: 0.5, // output pixels
  poleFootPx: 2, // output pixels
  vectorize: {},
};

/** The vehicle pose of a frame in the pose estimator's frame. */
export interface LocalPose {
  eastM: number;
  northM: number;
  /** Counter-clockwise from east, radians. */
  headingRad: number;
  /** 1-sigma horizontal position uncertainty, metres. */
  sigmaM: number;
}

/** A finished primitive in the pose estimator's east-north frame. */
export interface LocalPrimitive {
  cls: PrimitiveClass;
  style?: DividerStyle;
  kind?: BoundaryKind;
  signCode?: string;
  /** Confidence in [0, 1] (evidence / visibility along the primitive). */
  score: number;
  /** Vertices [eastM, northM] in the pose frame. */
  pointsLocal: Array<[number, number]>;
  /** Largest pose 1-sigma of the frames that built its chunk, metres. */
  poseSigmaM: number;
  /** GNSS time of the last frame that added evidence to its chunk, Unix ms. */
  tUnixMs: number;
}

export interface LocalMapCounters {
  framesAdded: number;
  samplesSplatted: number;
  chunksCreated: number;
  chunksEmitted: number;
  chunksFreed: number;
  chunksRevisited: number;
  primitivesEmitted: number;
}

export interface FinishResult {
  primitives: LocalPrimitive[];
  /** Chunks vectorised by this call. */
  chunksEmitted: number;
  /** Chunks held after this call (live + kept as margin). */
  chunksHeld: number;
}

class Chunk {
  emitted = false;
  maxSigmaM = 0;
  /** Frame counter value when last touched (to update sigma/time once per frame). */
  touchedFrame = 0;
  /** Sum of (cos 2h, sin 2h) over the frames that touched it, h the car's heading: its travel axis. */
  axisC = 0;
  axisS = 0;
  axisN = 0;

  constructor(
    readonly ci: number,
    readonly cj: number,
    readonly visibility: Float32Array,
    readonly evidence: Float32Array,
    /**
     * Per plane (evidence planes 0..PLANES-1, then visibility at PLANES) a cell box [c0, r0, c1,
     * r1] (inclusive, chunk cells; empty when c1 < c0) holding all its non-zero cells.
     */
    readonly boxes: Int32Array,
    public lastTUnixMs: number,
  ) {}
}

const PLANES = SEG_CLASS_COUNT - 1;
const SIGN = SEG_CLASS_IDS.sign_base;
const LIGHT = SEG_CLASS_IDS.light_base;
const CURB = SEG_CLASS_IDS.boundary_curb;
const BORDER = SEG_CLASS_IDS.boundary_border;
const BARRIER = SEG_CLASS_IDS.boundary_barrier;
/**
 * A column's run of line pixels is thinned (markLineCentres) when the middle row's horizontal run
 * is at least this many times as long: a band within ~27 degrees of the image rows. At 45 degrees
 * (ratio 1) the lane lines beside the car, which run along the rays near the image's lower
 * corners, lost 45 % of their uploaded length on the simulator's labels (line-centres.test.ts).
 */
const SHALLOW_RUN_RATIO = 2;
/** Line-centre group of each class id (markLineCentres): 1 dividers (solid and dashed together), 2 stop lines, 0 none. */
const LINE_GROUP = new Uint8Array(256);
LINE_GROUP[SEG_CLASS_IDS.divider_solid] = 1;
LINE_GROUP[SEG_CLASS_IDS.divider_dashed] = 1;
LINE_GROUP[SEG_CLASS_IDS.stop_line] = 2;
/** Box slot of the visibility plane in Chunk.boxes. */
const VIS = PLANES;
/** Freed chunks whose arrays are kept for reuse (each ~2.5 MB at the defaults). */
const POOL_CHUNKS = 4;
/** A sample this close to a cell edge (in cells) may round either way: the fast path keeps clear of chunk edges by it. */
const EDGE_EPS = 1e-6;

export class LocalMap {
  readonly options: LocalMapOptions;
  readonly counters: LocalMapCounters = { framesAdded: 0, samplesSplatted: 0, chunksCreated: 0, chunksEmitted: 0, chunksFreed: 0, chunksRevisited: 0, primitivesEmitted: 0 };
  private readonly chunks = new Map<number, Chunk>();
  private readonly chunkM: number;
  private readonly cellsPerChunk: number;
  /** Arrays of freed chunks (zeroed), reused by new ones. */
  private readonly pool: Array<{ visibility: Float32Array; evidence: Float32Array; boxes: Int32Array }> = [];
  /** Footprint lattices of the ground table last used (see footprintsOf). */
  private fp: Footprints | undefined;
  /** The grid chunks are vectorised on (reused) and per plane the box written into it last time. */
  private grid: BevGrid | undefined;
  private gridWritten: Int32Array | undefined;
  /** Per segmentation pixel (markFeet): 1 when a boundary pixel lies above its run's foot (see boundaryFootPx). */
  private aboveFoot = new Uint8Array(0);
  /** Per segmentation pixel (markFeet): the sign / light evidence of a pole foot (see poleFootPx), else 0. */
  private footSign = new Float32Array(0);
  private footLight = new Float32Array(0);
  /** Per segmentation pixel (markLineCentres): where a line run's evidence goes, reused. */
  private centres: LineCentres = { gains: new Float32Array(0), t0s: new Float32Array(0), t1s: new Float32Array(0) };
  /** Heading of the frame being added (chunks it touches record their travel axis). */
  private frameHeadingRad = 0;

  constructor(
    options: Partial<LocalMapOptions> = {},
    /** Poles from another sensor for each chunk emitted (the radar's, CameraPerception). */
    private readonly poleSource?: PoleSource,
  ) {
    this.options = { ...DEFAULT_LOCAL_MAP_OPTIONS, ...options, vectorize: { ...options.vectorize } };
    const o = this.options;
    if (!(o.cellM >= 0.02 && o.cellM <= 2)) throw new RangeError(`localMap.cellM must be in [0.02, 2] m, got ${o.cellM}`);
    if (!(Number.isInteger(o.chunkCells) && o.chunkCells >= 16 && o.chunkCells <= 2048)) throw new RangeError(`localMap.chunkCells must be an integer in [16, 2048], got ${o.chunkCells}`);
    for (const k of ['marginM', 'behindM', 'farM', 'retainM'] as const) {
      if (!(o[k] >= 0 && Number.isFinite(o[k]))) throw new RangeError(`localMap.${k} must be a finite number >= 0 m, got ${o[k]}`);
    }
    if (o.marginM > o.cellM * o.chunkCells) throw new RangeError(`localMap.marginM (${o.marginM} m) must not exceed a chunk side (${o.cellM * o.chunkCells} m)`);
    if (!(Number.isInteger(o.maxSamplesPerAxis) && o.maxSamplesPerAxis >= 1)) throw new RangeError(`localMap.maxSamplesPerAxis must be a positive integer, got ${o.maxSamplesPerAxis}`);
    if (!(o.pointProbThreshold > 0 && o.pointProbThreshold <= 1)) throw new RangeError(`localMap.pointProbThreshold must be in (0, 1], got ${o.pointProbThreshold}`);
    if (!(Number.isInteger(o.boundaryFootPx) && o.boundaryFootPx >= 0)) throw new RangeError(`localMap.boundaryFootPx must be an integer >= 0, got ${o.boundaryFootPx}`);
    if (!(Number.isInteger(o.poleFootPx) && o.poleFootPx >= 1)) throw new RangeError(`localMap.poleFootPx must be an integer >= 1, got ${o.poleFootPx}`);
    if (!(o.lineCentreHalfPx >= 0 && o.lineCentreHalfPx <= 4)) throw new RangeError(`localMap.lineCentreHalfPx must be in [0, 4] output pixels, got ${o.lineCentreHalfPx}`);
    validateVectorizeOptions({ ...DEFAULT_VECTORIZE_OPTIONS, ...o.vectorize });
    this.chunkM = o.cellM * o.chunkCells;
    this.cellsPerChunk = o.chunkCells * o.chunkCells;
  }

  /** Chunks held (live and kept as margin). */
  get chunksHeld(): number {
    return this.chunks.size;
  }

  /** Bytes of evidence held (visibility + class planes of all chunks, and of freed chunks kept for reuse). */
  get bytesHeld(): number {
    return (this.chunks.size + this.pool.length) * this.cellsPerChunk * (1 + PLANES) * 4;
  }

  /**
   * Splat one segmented frame. `lut` must be current for the frame's vehicle pitch and match the
   * segmentation grid; `pose` is the vehicle pose at the frame time.
   */
  addFrame(seg: SegOutput, lut: GroundLut, pose: LocalPose, tUnixMs: number): void {
    if (seg.widthPx !== lut.options.outWidthPx || seg.heightPx !== lut.options.outHeightPx) {
      throw new RangeError(`localMap.addFrame: segmentation ${seg.widthPx}x${seg.heightPx} does not match the ground table ${lut.options.outWidthPx}x${lut.options.outHeightPx}`);
    }
    for (const k of ['eastM', 'northM', 'headingRad', 'sigmaM'] as const) {
      if (!Number.isFinite(pose[k])) throw new RangeError(`localMap.addFrame: pose.${k} must be finite, got ${pose[k]}`);
    }
    const frameNo = ++this.counters.framesAdded;
    this.frameHeadingRad = pose.headingRad;
    const fp = this.footprintsOf(lut);
    const feet = this.markFeet(seg, fp);
    const centres = this.markLineCentres(seg, fp);
    this.counters.samplesSplatted += this.splatFrame(seg, fp, feet, centres, pose, tUnixMs, frameNo);
  }

  /**
   * addFrame's splatting, returning the samples splatted. A method of its own that returns right
   * after its loop: optimised while in the loop (on-stack replacement), it then has nothing left to
   * run that the interpreter has not seen yet (which would throw the optimised code away).
   */
  private splatFrame(seg: SegOutput, fp: Footprints, feet: Feet, centres: LineCentres, pose: LocalPose, tUnixMs: number, frameNo: number): number {
    const o = this.options;
    const inv = 1 / o.cellM;
    const N = o.chunkCells;
    const cells = this.cellsPerChunk;
    const cos = Math.cos(pose.headingRad);
    const sin = Math.sin(pose.headingRad);
    const e0 = pose.eastM;
    const n0 = pose.northM;
    const classId = seg.classId;
    const prob = seg.prob;
    let chunk: Chunk | undefined;
    let chunkKey = Number.NaN;
    let samples = 0;
    // Chunk column / row of the last pixel and their first grid cell (NaN: none yet).
    let lastCi = 0;
    let lastCj = 0;
    let lastCx = Number.NaN;
    let lastCy = Number.NaN;
    const { above, footSign, footLight } = feet;
    const { gains, t0s, t1s } = centres;
    // Body -> grid units (cells of the map frame).
    const rc = cos * inv;
    const rs = sin * inv;
    const tx = e0 * inv;
    const ty = n0 * inv;
    const { pix, nAs, nCs, ws, qs, geo } = fp;
    for (let j = 0; j < fp.count; j++) {
      const i = pix[j]!;
      const k = classId[i]!;
      const plane = k !== 0 && k !== SIGN && k !== LIGHT && k < SEG_CLASS_COUNT && above[i] === 0 ? k - 1 : -1;
      const nA = nAs[j]!;
      const nC = nCs[j]!;
      const w = ws[j]!;
      const q = qs[j]!;
      const wp = w * prob[i]!;
      // The footprint in grid units: sample (a, c) at (x0, y0) + a * (sx, sy) + c * (svx, svy).
      const g = 6 * j;
      const bx = geo[g]!;
      const by = geo[g + 1]!;
      const x0 = tx + rc * bx - rs * by;
      const y0 = ty + rs * bx + rc * by;
      const sx = rc * geo[g + 2]! - rs * geo[g + 3]!; // step along (the inner loop: the long axis)
      const sy = rs * geo[g + 2]! + rc * geo[g + 3]!;
      const svx = rc * geo[g + 4]! - rs * geo[g + 5]!; // step across
      const svy = rs * geo[g + 4]! + rc * geo[g + 5]!;
      // Box of the samples (the corners of the lattice; the stepped samples stay within them up
      // to rounding far below EDGE_EPS).
      const ex = (nA - 1) * sx;
      const ey = (nA - 1) * sy;
      const fx = (nC - 1) * svx;
      const fy = (nC - 1) * svy;
      // As int32 (| 0 keeps the floor's value: grid cells are far below 2^31).
      const gx0 = Math.floor(x0 + (ex < 0 ? ex : 0) + (fx < 0 ? fx : 0) - EDGE_EPS) | 0;
      const gx1 = Math.floor(x0 + (ex > 0 ? ex : 0) + (fx > 0 ? fx : 0) + EDGE_EPS) | 0;
      const gy0 = Math.floor(y0 + (ey < 0 ? ey : 0) + (fy < 0 ? fy : 0) - EDGE_EPS) | 0;
      const gy1 = Math.floor(y0 + (ey > 0 ? ey : 0) + (fy > 0 ? fy : 0) + EDGE_EPS) | 0;
      // Chunk of (gx0, gy0): = Math.floor(gx0 / N) (gy0 / N), taken from the last pixel's when
      // its range holds (consecutive pixels mostly share a chunk; saves two divisions).
      if (!(gx0 >= lastCx && gx0 < lastCx + N)) {
        lastCi = Math.floor(gx0 / N);
        lastCx = lastCi * N;
      }
      if (!(gy0 >= lastCy && gy0 < lastCy + N)) {
        lastCj = Math.floor(gy0 / N);
        lastCy = lastCj * N;
      }
      const ci = lastCi;
      const cj = lastCj;
      samples += nA * nC;
      const ps = footSign[i]!;
      const pl = footLight[i]!;
      // A line run's pixel (markLineCentres): the footprint adds visibility only, and its samples
      // [a0, a1) along the ray add the run's evidence (none when a1 = a0).
      const centred = gains[i]! > 0 && plane >= 0;
      const ownPlane = centred ? -1 : plane;
      let a0 = 0;
      let a1 = 0;
      let wpA = 0;
      if (centred && t1s[i]! > t0s[i]!) {
        a0 = Math.min(nA - 1, Math.floor(t0s[i]! * nA));
        a1 = Math.min(nA, Math.max(a0 + 1, Math.ceil(t1s[i]! * nA)));
        wpA = wp * Math.pow(q, a0) * gains[i]!;
      }
      if (ps === 0 && pl === 0 && gx1 < (ci + 1) * N && gy1 < (cj + 1) * N) {
        // The whole footprint lies in one chunk: local cell indices, no per-sample chunk test.
        const key = chunkKeyOf(ci, cj);
        if (key !== chunkKey) {
          chunk = this.chunkFor(ci, cj, key, frameNo, pose.sigmaM, tUnixMs);
          chunkKey = key;
        }
        const ch = chunk!;
        const bx0 = gx0 - ci * N;
        const bx1 = gx1 - ci * N;
        const by0 = gy0 - cj * N;
        const by1 = gy1 - cj * N;
        growBox(ch.boxes, VIS, bx0, by0, bx1, by1);
        if (plane >= 0) growBox(ch.boxes, plane, bx0, by0, bx1, by1);
        const lx = x0 - ci * N;
        const ly = y0 - cj * N;
        for (let c = 0; c < nC; c++) splatRay(ch.visibility, ch.evidence, ownPlane * cells, N, lx + c * svx, ly + c * svy, sx, sy, nA, w, wp, q);
        if (a1 > a0) for (let c = 0; c < nC; c++) splatRay(ch.visibility, ch.evidence, plane * cells, N, lx + c * svx + a0 * sx, ly + c * svy + a0 * sy, sx, sy, a1 - a0, 0, wpA, q);
        continue;
      }
      // Across a chunk edge (or a pole foot, rare): split into runs per chunk.
      for (let c = 0; c < nC; c++) chunkKey = this.splatRaySlow(x0 + c * svx, y0 + c * svy, sx, sy, nA, w, q, ownPlane, wp, w * ps, w * pl, frameNo, pose.sigmaM, tUnixMs);
      if (a1 > a0) for (let c = 0; c < nC; c++) chunkKey = this.splatRaySlow(x0 + c * svx + a0 * sx, y0 + c * svy + a0 * sy, sx, sy, a1 - a0, 0, q, plane, wpA, 0, 0, frameNo, pose.sigmaM, tUnixMs);
      chunk = this.chunks.get(chunkKey);
    }
    return samples;
  }

  /**
   * Feet of what stands on the road, in one bottom-up scan of each column of `seg` (rows run top
   * -> bottom): `above` marks the boundary pixels above the lowest boundaryFootPx of their run
   * (0 = off; a run's first barrier pixels above kerb or border pixels start a foot of their own);
   * footSign / footLight are 0 except at the lowest poleFootPx pixels of each run of pole pixels,
   * where they hold the run's mean sign_base and light_base probability (arg-max
   * indicators when the decoder gave none). All three arrays are reused. Only the splatted pixels
   * (`fp`) are read from them: a column's scan stops above its top splatted row once no pole run
   * is open (what lies higher reaches no splatted pixel; it stays 0).
   */
  private markFeet(seg: SegOutput, fp: Footprints): Feet {
    const W = seg.widthPx;
    const H = seg.heightPx;
    if (this.aboveFoot.length < W * H) {
      this.aboveFoot = new Uint8Array(W * H);
      this.footSign = new Float32Array(W * H);
      this.footLight = new Float32Array(W * H);
    }
    const above = this.aboveFoot;
    const footSign = this.footSign;
    const footLight = this.footLight;
    above.fill(0, 0, W * H);
    footSign.fill(0, 0, W * H);
    footLight.fill(0, 0, W * H);
    const cls = seg.classId;
    const sp = seg.signBaseProb;
    const lp = seg.lightBaseProb;
    const thr = this.options.pointProbThreshold;
    const boundaryFoot = this.options.boundaryFootPx;
    const poleFoot = this.options.poleFootPx;
    const topRow = fp.topRow;
    for (let c = 0; c < W; c++) {
      const top = topRow[c]!;
      let boundaryRun = 0;
      let barrierInRun = false;
      // The current pole run starts at row `bottom` (-1: none); r = -1 closes a run at the top.
      let bottom = -1;
      let sumSign = 0;
      let sumLight = 0;
      for (let r = H - 1; r >= -1; r--) {
        if (r < top && bottom < 0) break;
        let pole = false;
        let s = 0;
        let l = 0;
        if (r >= 0) {
          const i = r * W + c;
          const k = cls[i]!;
          if (k === CURB || k === BORDER || k === BARRIER) {
            // The run's first barrier pixel above kerb or border pixels: a barrier standing
            // behind the road's edge, with a foot of its own (once per run: a face whose labels
            // flicker between the classes gets no more feet).
            if (k === BARRIER && !barrierInRun) {
              boundaryRun = 0;
              barrierInRun = true;
            }
            if (boundaryFoot > 0 && ++boundaryRun > boundaryFoot) above[i] = 1;
          } else {
            boundaryRun = 0;
            barrierInRun = false;
          }
          s = sp !== undefined ? sp[i]! : k === SIGN ? 1 : 0;
          l = lp !== undefined ? lp[i]! : k === LIGHT ? 1 : 0;
          pole = k === SIGN || k === LIGHT || s + l >= thr;
        }
        if (pole) {
          if (bottom < 0) bottom = r;
          sumSign += s;
          sumLight += l;
          continue;
        }
        if (bottom >= 0) {
          const len = bottom - r;
          for (let q = bottom; q > bottom - poleFoot && q > r; q--) {
            footSign[q * W + c] = sumSign / len;
            footLight[q * W + c] = sumLight / len;
          }
        }
        bottom = -1;
        sumSign = 0;
        sumLight = 0;
      }
    }
    return { above, footSign, footLight };
  }

  /**
   * Line centres (see lineCentreHalfPx), in one top-down scan of each column from its top
   * splatted row: per vertical run of one line group (LINE_GROUP) shallow enough
   * (SHALLOW_RUN_RATIO), the run's middle row coordinate vc (rows [rt, rb] cover [rt, rb + 1)),
   * and per pixel of the run the part of its footprint between rows vc - h and vc + h, with the
   * gain kv / min(kv, 2h) that keeps the run's evidence in total. A pixel's rows [r, r +
   * 1) map to its footprint fraction t (near edge r + 1 at 0, far edge r at 1) by the projective
   * map of a ray on the ground plane, fixed by the pixel centre's own fraction tc:
   * t(d) = (1 + b) d / (1 + b d), d = r + 1 - v, b = (2 tc - 1) / (1 - tc).
   */
  private markLineCentres(seg: SegOutput, fp: Footprints): LineCentres {
    const W = seg.widthPx;
    const H = seg.heightPx;
    if (this.centres.gains.length < W * H) this.centres = { gains: new Float32Array(W * H), t0s: new Float32Array(W * H), t1s: new Float32Array(W * H) };
    const centres = this.centres;
    const { gains, t0s, t1s } = centres;
    gains.fill(0, 0, W * H);
    const half = this.options.lineCentreHalfPx;
    const lut = fp.lut;
    if (!(half > 0) || lut === undefined) return centres;
    const { valid, nearXM, nearYM, farXM, farYM, xM, yM } = lut;
    const cls = seg.classId;
    const topRow = fp.topRow;
    for (let c = 0; c < W; c++) {
      let r = topRow[c]!;
      while (r < H) {
        const g = LINE_GROUP[cls[r * W + c]!]!;
        if (g === 0) {
          r++;
          continue;
        }
        const rt = r;
        while (r < H && LINE_GROUP[cls[r * W + c]!] === g) r++;
        const rb = r - 1;
        const kv = r - rt;
        const row = ((rt + rb) >> 1) * W;
        let kh = 1;
        for (let cc = c - 1; cc >= 0 && LINE_GROUP[cls[row + cc]!] === g; cc--) kh++;
        for (let cc = c + 1; cc < W && LINE_GROUP[cls[row + cc]!] === g; cc++) kh++;
        if (kh < SHALLOW_RUN_RATIO * kv) continue; // steeper: the line runs along the column's rows
        const vc = (rt + rb + 1) / 2;
        for (let rr = rt; rr <= rb; rr++) {
          const i = rr * W + c;
          if (!valid[i]) continue;
          gains[i] = kv / Math.min(kv, 2 * half);
          const lo = Math.max(vc - half, rr);
          const hi = Math.min(vc + half, rr + 1);
          if (!(hi > lo)) {
            t0s[i] = 0;
            t1s[i] = 0;
            continue;
          }
          const ax = farXM[i]! - nearXM[i]!;
          const ay = farYM[i]! - nearYM[i]!;
          const len = Math.sqrt(ax * ax + ay * ay);
          const tc = len > 0 ? Math.min(0.99, Math.max(0.01, ((xM[i]! - nearXM[i]!) * ax + (yM[i]! - nearYM[i]!) * ay) / (len * len))) : 0.5;
          const b = (2 * tc - 1) / (1 - tc);
          const dLo = rr + 1 - hi;
          const dHi = rr + 1 - lo;
          t0s[i] = ((1 + b) * dLo) / (1 + b * dLo);
          t1s[i] = ((1 + b) * dHi) / (1 + b * dHi);
        }
      }
    }
    return centres;
  }

  /**
   * Per valid pixel of `lut` its footprint sample lattice in the body frame: nA samples along
   * (near -> far) by nC across at ~0.7 cell spacing (each at most maxSamplesPerAxis), the first
   * sample and the steps; the first sample's weight w and the ratio q of each next one along
   * (farDensity^(1 / nA)), so that each row of nA samples weighs 1 / nC and the pixel 1.
   * Recomputed only when the table is.
   */
  private footprintsOf(lut: GroundLut): Footprints {
    const fp = this.fp;
    if (fp && fp.lut === lut && fp.builds === lut.builds) return fp;
    const n = lut.size;
    const W = lut.options.outWidthPx;
    const H = lut.options.outHeightPx;
    const f: Footprints =
      fp && fp.pix.length >= n && fp.topRow.length >= W
        ? fp
        : { lut, builds: -1, count: 0, pix: new Int32Array(n), nAs: new Int32Array(n), nCs: new Int32Array(n), ws: new Float64Array(n), qs: new Float64Array(n), geo: new Float64Array(6 * n), topRow: new Int32Array(W) };
    f.lut = lut;
    f.builds = lut.builds;
    const invSpacing = 1 / (0.7 * this.options.cellM);
    const maxS = this.options.maxSamplesPerAxis;
    const { valid, nearXM, nearYM, farXM, farYM, acrossXM, acrossYM, alongM, acrossM, farDensity } = lut;
    const { pix, nAs, nCs, ws, qs, geo, topRow } = f;
    topRow.fill(H, 0, W);
    let count = 0;
    for (let i = 0, r = 0, col = 0; i < n; i++, col++) {
      if (col === W) {
        col = 0;
        r++;
      }
      if (!valid[i]) continue;
      if (topRow[col] === H) topRow[col] = r;
      const nA = Math.min(maxS, Math.max(1, Math.ceil(alongM[i]! * invSpacing)));
      const nC = Math.min(maxS, Math.max(1, Math.ceil(acrossM[i]! * invSpacing)));
      const invA = 1 / nA;
      const invC = 1 / nC;
      const nx = nearXM[i]!;
      const ny = nearYM[i]!;
      const ax = farXM[i]! - nx;
      const ay = farYM[i]! - ny;
      const cx = acrossXM[i]!;
      const cy = acrossYM[i]!;
      // Sample (a, c) at near + ta * along + tc * across, ta = (a + 0.5) / nA, tc = (c + 0.5) / nC - 0.5.
      const ta0 = 0.5 * invA;
      const tc0 = 0.5 * invC - 0.5;
      const g = 6 * count;
      pix[count] = i;
      nAs[count] = nA;
      nCs[count] = nC;
      // Weights w, w q, ..., w q^(nA - 1) with q^nA = farDensity, summing to 1 / nC.
      const fd = farDensity[i]!;
      const q = Math.pow(fd, invA);
      qs[count] = q;
      ws[count] = q < 1 - 1e-12 ? (invC * (1 - q)) / (1 - fd) : invA * invC;
      geo[g] = nx + ta0 * ax + tc0 * cx;
      geo[g + 1] = ny + ta0 * ay + tc0 * cy;
      geo[g + 2] = ax * invA;
      geo[g + 3] = ay * invA;
      geo[g + 4] = cx * invC;
      geo[g + 5] = cy * invC;
      count++;
    }
    f.count = count;
    this.fp = f;
    return f;
  }

  /**
   * Splat one ray of samples (grid units: start, step, count) that may cross chunk edges: split
   * into runs that stay in one chunk (clear of its edges by EDGE_EPS, the run's first sample
   * placed exactly); the first sample's weight `w` into the visibility, evidence `wp` into `plane`
   * (none when < 0) and the pole-foot weights into their planes, each next sample's `q` times
   * the one before. Returns the key of the last chunk touched.
   */
  private splatRaySlow(x: number, y: number, sx: number, sy: number, n: number, w: number, q: number, plane: number, wp: number, wps: number, wpl: number, frameNo: number, sigmaM: number, tUnixMs: number): number {
    const N = this.options.chunkCells;
    const cells = this.cellsPerChunk;
    let chunk: Chunk | undefined;
    let chunkKey = Number.NaN;
    let a = 0;
    while (a < n) {
      const gx = Math.floor(x);
      const gy = Math.floor(y);
      const ci = Math.floor(gx / N);
      const cj = Math.floor(gy / N);
      const key = chunkKeyOf(ci, cj);
      if (key !== chunkKey) {
        chunk = this.chunkFor(ci, cj, key, frameNo, sigmaM, tUnixMs);
        chunkKey = key;
      }
      const ch = chunk!;
      // Samples a .. a + m - 1 stay in this chunk.
      let m = n - a;
      if (sx > 0) m = Math.min(m, Math.floor(((ci + 1) * N - EDGE_EPS - x) / sx) + 1);
      else if (sx < 0) m = Math.min(m, Math.floor((x - ci * N - EDGE_EPS) / -sx) + 1);
      if (sy > 0) m = Math.min(m, Math.floor(((cj + 1) * N - EDGE_EPS - y) / sy) + 1);
      else if (sy < 0) m = Math.min(m, Math.floor((y - cj * N - EDGE_EPS) / -sy) + 1);
      // A first sample within EDGE_EPS of an edge (the step along that axis may be 0) goes alone.
      const fx = x - ci * N;
      const fy = y - cj * N;
      if (!(m >= 1) || fx < EDGE_EPS || fx > N - EDGE_EPS || fy < EDGE_EPS || fy > N - EDGE_EPS) m = 1;
      const lc0 = gx - ci * N;
      const lr0 = gy - cj * N;
      const lc1 = Math.min(N - 1, Math.max(0, Math.floor(fx + (m - 1) * sx)));
      const lr1 = Math.min(N - 1, Math.max(0, Math.floor(fy + (m - 1) * sy)));
      // The run's box (one cell wider: its inner samples are stepped, not placed exactly).
      const c0 = Math.max(0, Math.min(lc0, lc1) - 1);
      const c1 = Math.min(N - 1, Math.max(lc0, lc1) + 1);
      const r0 = Math.max(0, Math.min(lr0, lr1) - 1);
      const r1 = Math.min(N - 1, Math.max(lr0, lr1) + 1);
      growBox(ch.boxes, VIS, c0, r0, c1, r1);
      if (plane >= 0) growBox(ch.boxes, plane, c0, r0, c1, r1);
      // The first sample exactly (its cell decided the chunk), then the run.
      let idx = lr0 * N + lc0;
      ch.visibility[idx]! += w;
      if (plane >= 0) ch.evidence[plane * cells + idx]! += wp;
      if (wps > 0) ch.evidence[(SIGN - 1) * cells + idx]! += wps;
      if (wpl > 0) ch.evidence[(LIGHT - 1) * cells + idx]! += wpl;
      if (m > 1) {
        const lx = fx + sx;
        const ly = fy + sy;
        splatRay(ch.visibility, ch.evidence, plane * cells, N, lx, ly, sx, sy, m - 1, w * q, wp * q, q);
        if (wps > 0 || wpl > 0) {
          let px = lx;
          let py = ly;
          let ks = wps;
          let kl = wpl;
          for (let k = 1; k < m; k++, px += sx, py += sy) {
            ks *= q;
            kl *= q;
            idx = Math.floor(py) * N + Math.floor(px);
            if (wps > 0) ch.evidence[(SIGN - 1) * cells + idx]! += ks;
            if (wpl > 0) ch.evidence[(LIGHT - 1) * cells + idx]! += kl;
          }
        }
      }
      if (wps > 0) growBox(ch.boxes, SIGN - 1, c0, r0, c1, r1);
      if (wpl > 0) growBox(ch.boxes, LIGHT - 1, c0, r0, c1, r1);
      a += m;
      x += m * sx;
      y += m * sy;
      const qm = q === 1 ? 1 : Math.pow(q, m);
      w *= qm;
      wp *= qm;
      wps *= qm;
      wpl *= qm;
    }
    return chunkKey;
  }

  /**
   * Vectorise (once) the chunks the vehicle at (eastM, northM, headingRad) can no longer see and
   * free the emitted chunks no neighbour needs any more.
   */
  finish(vehicleEastM: number, vehicleNorthM: number, headingRad: number): FinishResult {
    const o = this.options;
    const cos = Math.cos(headingRad);
    const sin = Math.sin(headingRad);
    const out: LocalPrimitive[] = [];
    let emitted = 0;
    for (const ch of this.sortedChunks()) {
      if (ch.emitted) continue;
      const x0 = ch.ci * this.chunkM - vehicleEastM;
      const y0 = ch.cj * this.chunkM - vehicleNorthM;
      const x1 = x0 + this.chunkM;
      const y1 = y0 + this.chunkM;
      // The farthest ahead of the chunk's four corners.
      const maxAhead = Math.max(cos * x0 + sin * y0, cos * x1 + sin * y0, cos * x0 + sin * y1, cos * x1 + sin * y1);
      if (maxAhead < -o.behindM || this.distanceToChunkM(ch, vehicleEastM, vehicleNorthM) > o.farM) {
        this.emit(ch, out);
        emitted++;
      }
    }
    for (const ch of [...this.chunks.values()]) {
      if (!ch.emitted) continue;
      if (this.distanceToChunkM(ch, vehicleEastM, vehicleNorthM) > o.retainM || this.neighboursDone(ch)) this.free(ch);
    }
    return { primitives: out, chunksEmitted: emitted, chunksHeld: this.chunks.size };
  }

  /** Drive end: emit every chunk not yet emitted, then free all. */
  flush(): FinishResult {
    const out: LocalPrimitive[] = [];
    let emitted = 0;
    for (const ch of this.sortedChunks()) {
      if (ch.emitted) continue;
      this.emit(ch, out);
      emitted++;
    }
    for (const ch of [...this.chunks.values()]) this.free(ch);
    return { primitives: out, chunksEmitted: emitted, chunksHeld: 0 };
  }

  private chunkFor(ci: number, cj: number, key: number, frameNo: number, sigmaM: number, tUnixMs: number): Chunk {
    let ch = this.chunks.get(key);
    if (ch && ch.emitted) {
      // A revisit (e.g. after a U-turn): start the chunk afresh; it will be emitted again.
      this.clearChunk(ch);
      ch.emitted = false;
      ch.maxSigmaM = 0;
      ch.axisC = 0;
      ch.axisS = 0;
      ch.axisN = 0;
      this.counters.chunksRevisited++;
    }
    if (!ch) {
      const arrays = this.pool.pop();
      ch = arrays
        ? new Chunk(ci, cj, arrays.visibility, arrays.evidence, arrays.boxes, tUnixMs)
        : new Chunk(ci, cj, new Float32Array(this.cellsPerChunk), new Float32Array(this.cellsPerChunk * PLANES), emptyBoxes(PLANES + 1), tUnixMs);
      this.chunks.set(key, ch);
      this.counters.chunksCreated++;
    }
    if (ch.touchedFrame !== frameNo) {
      ch.touchedFrame = frameNo;
      ch.axisC += Math.cos(2 * this.frameHeadingRad);
      ch.axisS += Math.sin(2 * this.frameHeadingRad);
      ch.axisN++;
      ch.maxSigmaM = Math.max(ch.maxSigmaM, sigmaM);
      ch.lastTUnixMs = tUnixMs;
    }
    return ch;
  }

  private emit(ch: Chunk, out: LocalPrimitive[]): void {
    const before = out.length;
    const o = this.options;
    const N = o.chunkCells;
    const m = Math.round(o.marginM / o.cellM);
    const W = N + 2 * m;
    const gridCells = W * W;
    if (!this.grid) {
      this.grid = allocBevGrid(W, W, o.cellM, 0, 0);
      this.grid.evidenceBoxes = new Int32Array(4 * PLANES);
      this.gridWritten = emptyBoxes(PLANES + 1);
    }
    const grid = this.grid;
    const written = this.gridWritten!;
    const hint = grid.evidenceBoxes!;
    grid.originXM = ch.ci * this.chunkM - m * o.cellM;
    grid.originYM = ch.cj * this.chunkM - m * o.cellM;
    // Zero what the previous chunk left, then copy the neighbourhood's boxes.
    for (let q = 0; q <= PLANES; q++) {
      const dst = q === VIS ? grid.visibility : grid.evidence;
      const off = q === VIS ? 0 : q * gridCells;
      const c0 = written[4 * q]!;
      const c1 = written[4 * q + 2]!;
      if (c1 >= c0) for (let y = written[4 * q + 1]!; y <= written[4 * q + 3]!; y++) dst.fill(0, off + y * W + c0, off + y * W + c1 + 1);
    }
    written.set(emptyBoxes(PLANES + 1));
    for (let dj = -1; dj <= 1; dj++) {
      for (let di = -1; di <= 1; di++) {
        const nb = this.chunks.get(chunkKeyOf(ch.ci + di, ch.cj + dj));
        if (!nb) continue;
        // Neighbour cell (x, y) lands at grid (x + dx, y + dy).
        const dx = m + di * N;
        const dy = m + dj * N;
        for (let q = 0; q <= PLANES; q++) {
          const b = nb.boxes;
          const x0 = Math.max(b[4 * q]!, -dx);
          const x1 = Math.min(b[4 * q + 2]!, W - 1 - dx);
          const y0 = Math.max(b[4 * q + 1]!, -dy);
          const y1 = Math.min(b[4 * q + 3]!, W - 1 - dy);
          if (x0 > x1 || y0 > y1) continue;
          const src = q === VIS ? nb.visibility : nb.evidence;
          const srcOff = q === VIS ? 0 : q * this.cellsPerChunk;
          const dst = q === VIS ? grid.visibility : grid.evidence;
          const dstOff = q === VIS ? 0 : q * gridCells;
          copyRows(src, srcOff + y0 * N + x0, N, dst, dstOff + (y0 + dy) * W + dx + x0, W, x1 - x0 + 1, y1 - y0 + 1);
          growBox(written, q, x0 + dx, y0 + dy, x1 + dx, y1 + dy);
        }
      }
    }
    hint.set(written.subarray(0, 4 * PLANES));
    const clip = { minXM: ch.ci * this.chunkM, minYM: ch.cj * this.chunkM, maxXM: (ch.ci + 1) * this.chunkM, maxYM: (ch.cj + 1) * this.chunkM };
    // The car's travel axis through the chunk, when it kept one (not turning at a junction).
    const travelAxisRad = ch.axisN > 0 && Math.hypot(ch.axisC, ch.axisS) >= 0.7 * ch.axisN ? 0.5 * Math.atan2(ch.axisS, ch.axisC) : undefined;
    for (const p of vectorizeGrid(grid, o.vectorize, clip, this.poleSource?.(clip), travelAxisRad)) {
      const lp: LocalPrimitive = { cls: p.cls, score: p.score, pointsLocal: p.points, poseSigmaM: ch.maxSigmaM, tUnixMs: ch.lastTUnixMs };
      if (p.style !== undefined) lp.style = p.style;
      if (p.kind !== undefined) lp.kind = p.kind;
      if (p.signCode !== undefined) lp.signCode = p.signCode;
      out.push(lp);
    }
    ch.emitted = true;
    this.counters.chunksEmitted++;
    this.counters.primitivesEmitted += out.length - before;
  }

  private free(ch: Chunk): void {
    this.chunks.delete(chunkKeyOf(ch.ci, ch.cj));
    this.counters.chunksFreed++;
    if (this.pool.length < POOL_CHUNKS) {
      this.clearChunk(ch);
      this.pool.push({ visibility: ch.visibility, evidence: ch.evidence, boxes: ch.boxes });
    }
  }

  /** Zero a chunk's evidence (only its boxes) and empty the boxes. */
  private clearChunk(ch: Chunk): void {
    const N = this.options.chunkCells;
    for (let q = 0; q <= PLANES; q++) {
      const c0 = ch.boxes[4 * q]!;
      const c1 = ch.boxes[4 * q + 2]!;
      if (c1 < c0) continue;
      const a = q === VIS ? ch.visibility : ch.evidence;
      const off = q === VIS ? 0 : q * this.cellsPerChunk;
      for (let y = ch.boxes[4 * q + 1]!; y <= ch.boxes[4 * q + 3]!; y++) a.fill(0, off + y * N + c0, off + y * N + c1 + 1);
    }
    ch.boxes.set(emptyBoxes(PLANES + 1));
  }

  private neighboursDone(ch: Chunk): boolean {
    for (let dj = -1; dj <= 1; dj++) {
      for (let di = -1; di <= 1; di++) {
        const nb = this.chunks.get(chunkKeyOf(ch.ci + di, ch.cj + dj));
        if (nb && !nb.emitted) return false;
      }
    }
    return true;
  }

  private distanceToChunkM(ch: Chunk, e: number, n: number): number {
    const x0 = ch.ci * this.chunkM;
    const y0 = ch.cj * this.chunkM;
    const dx = Math.max(x0 - e, 0, e - (x0 + this.chunkM));
    const dy = Math.max(y0 - n, 0, n - (y0 + this.chunkM));
    return Math.hypot(dx, dy);
  }

  /** Deterministic emission order (by chunk index). */
  private sortedChunks(): Chunk[] {
    return [...this.chunks.values()].sort((a, b) => a.cj - b.cj || a.ci - b.ci);
  }
}

/**
 * Splat one ray of `n` samples inside one chunk: local grid units from (x, y) in steps (sx, sy),
 * weight `w` into the visibility and `wp` into the evidence plane at `evBase` (none when < 0),
 * each next sample's `q` times the one before.
 * Inside the chunk the samples keep clear of its edges (EDGE_EPS), so their local coordinates
 * are > 0 and `| 0` (truncation, int32) is their floor: integer index arithmetic instead of
 * Math.floor's doubles (a third of the splatting time).
 */
function splatRay(vis: Float32Array, ev: Float32Array, evBase: number, N: number, x: number, y: number, sx: number, sy: number, n: number, w: number, wp: number, q: number): void {
  if (evBase >= 0) {
    for (let a = 0; a < n; a++, x += sx, y += sy, w *= q, wp *= q) {
      const idx = (y | 0) * N + (x | 0);
      vis[idx]! += w;
      ev[evBase + idx]! += wp;
    }
  } else {
    for (let a = 0; a < n; a++, x += sx, y += sy, w *= q) vis[(y | 0) * N + (x | 0)]! += w;
  }
}

/** Rows narrower than this are copied value by value (a subarray view per row costs more). */
const COPY_LOOP_MAX = 64;

/**
 * Copy `rows` rows of `width` values from `src` (first at `srcAt`, rows `srcStride` apart) to
 * `dst` (from `dstAt`, rows `dstStride` apart).
 */
function copyRows(src: Float32Array, srcAt: number, srcStride: number, dst: Float32Array, dstAt: number, dstStride: number, width: number, rows: number): void {
  if (width >= COPY_LOOP_MAX) {
    for (let y = 0; y < rows; y++, srcAt += srcStride, dstAt += dstStride) dst.set(src.subarray(srcAt, srcAt + width), dstAt);
    return;
  }
  for (let y = 0; y < rows; y++, srcAt += srcStride, dstAt += dstStride) {
    for (let x = 0; x < width; x++) dst[dstAt + x] = src[srcAt + x]!;
  }
}

/**
 * Line centres, per segmentation pixel (LocalMap.markLineCentres): `gains` > 0 marks a pixel of a
 * thinned run (its evidence times the gain goes to [t0s, t1s) of its footprint, near 0 -> far 1;
 * nowhere when t1s <= t0s); 0 elsewhere.
 */
interface LineCentres {
  gains: Float32Array;
  t0s: Float32Array;
  t1s: Float32Array;
}

/** Feet of what stands on the road, per segmentation pixel (LocalMap.markFeet). */
interface Feet {
  above: Uint8Array;
  footSign: Float32Array;
  footLight: Float32Array;
}

/** Footprint lattices of a ground table's valid pixels (LocalMap.footprintsOf). */
interface Footprints {
  lut: GroundLut | undefined;
  /** lut.builds when computed. */
  builds: number;
  count: number;
  /** Per entry: the pixel index, samples along / across, the first sample's weight, the ratio of each next one's along. */
  pix: Int32Array;
  nAs: Int32Array;
  nCs: Int32Array;
  ws: Float64Array;
  qs: Float64Array;
  /** Per entry 6 values, body frame metres: first sample (x, y), step along (x, y), step across (x, y). */
  geo: Float64Array;
  /** Per column of the table: its top (first) row with an entry, outHeightPx when none. */
  topRow: Int32Array;
}

/** `count` empty boxes [c0, r0, c1, r1] (c1 < c0). */
function emptyBoxes(count: number): Int32Array {
  const b = new Int32Array(4 * count);
  for (let q = 0; q < count; q++) {
    b[4 * q] = 0x3fffffff;
    b[4 * q + 1] = 0x3fffffff;
    b[4 * q + 2] = -1;
    b[4 * q + 3] = -1;
  }
  return b;
}

/** Grow box `q` of `boxes` to include [c0, c1] x [r0, r1]. */
function growBox(boxes: Int32Array, q: number, c0: number, r0: number, c1: number, r1: number): void {
  const o = 4 * q;
  if (c0 < boxes[o]!) boxes[o] = c0;
  if (r0 < boxes[o + 1]!) boxes[o + 1] = r0;
  if (c1 > boxes[o + 2]!) boxes[o + 2] = c1;
  if (r1 > boxes[o + 3]!) boxes[o + 3] = r1;
}

/** One number per chunk index pair (|ci|, |cj| < 2^20: +-37 000 km at 36 m chunks). */
function chunkKeyOf(ci: number, cj: number): number {
  return (ci + 0x100000) * 0x200000 + (cj + 0x100000);
}

/**
 * Vectorise one frame on its own (benchmarks, single-frame AP): the frame splatted in the body
 * frame (x forward, y left: pose at the origin, heading 0), every chunk emitted. `pointsLocal`
 * are then body-frame [xM, yM].
 *
 * Sign / light bases: one frame cannot show the persistence over frames (`minPointEvidence`) that
 * separates a pole foot from the model's stray pole-foot pixels, so a single frame keeps the
 * arg-max rule at the line presence threshold (no evidence from losing probabilities, no
 * evidence minimum) unless the options say otherwise.
 */
export function vectorizeFrame(seg: SegOutput, lut: GroundLut, options: Partial<LocalMapOptions> = {}): LocalPrimitive[] {
  const presence = options.vectorize?.presenceThreshold ?? DEFAULT_VECTORIZE_OPTIONS.presenceThreshold;
  // One frame sees a stop line only partly: a shorter piece counts (the fused map asks for a lane's width).
  const map = new LocalMap({ pointProbThreshold: 1, ...options, vectorize: { pointPresenceThreshold: presence, minPointEvidence: 0, minStopLineLengthM: 1, ...options.vectorize } });
  map.addFrame(seg, lut, { eastM: 0, northM: 0, headingRad: 0, sigmaM: 0 }, 0);
  return map.flush().primitives;
}
