/**
 * The local map: ground-projected class evidence of every processed frame, accumulated in the
 * pose estimator's east-north frame (metres, edge/pose.ts) on a grid of square cells, organised
 * in square chunks allocated on demand. Per cell: a visibility weight (how much of the camera's
 * valid field landed there) and per class an evidence weight (the same samples, times the
 * class probability). evidence / visibility is the class probability of the cell.
 *
 * Splatting: each valid output pixel covers a footprint on the ground (GroundLut: near -> far
 * along its ray, and across), metres long for far rows. The footprint is sampled at ~0.7 cell
 * spacing and each sample carries weight 1 / samples, so every pixel adds the same total weight:
 * far pixels spread thinly over the cells they cover (no holes), near pixels concentrate
 * (precision). The class of a pixel is its arg-max (SegOutput).
 *
 * Emission: `finish(vehicle pose)` vectorises each chunk the vehicle can no longer see (wholly
 * behind it by more than `behindM`, or all of it farther than `farM`) ONCE, on a grid that adds
 * `marginM` of the neighbouring chunks so lines continue across chunk borders, keeping only what
 * lies inside the chunk (polylines cut at its edges) - each stretch of road once. An emitted
 * chunk stays (read-only) as margin for its neighbours until they are emitted too or the
 * vehicle is `retainM` away, then it is freed; a revisit (after a U-turn) starts it afresh.
 * `flush()` (drive end) emits everything left and frees all.
 */
import { SEG_CLASS_COUNT } from '../../shared/camera.ts';
import type { BoundaryKind, DividerStyle, PrimitiveClass } from '../../shared/schema.ts';
import type { SegOutput } from './decode.ts';
import type { GroundLut } from './ground.ts';
import { allocBevGrid, DEFAULT_VECTORIZE_OPTIONS, validateVectorizeOptions, vectorizeGrid, type VectorizeOptions } from './vectorize.ts';

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

interface Chunk {
  ci: number;
  cj: number;
  visibility: Float32Array;
  evidence: Float32Array;
  emitted: boolean;
  maxSigmaM: number;
  lastTUnixMs: number;
  /** Frame counter value when last touched (to update sigma/time once per frame). */
  touchedFrame: number;
}

const PLANES = SEG_CLASS_COUNT - 1;

export class LocalMap {
  readonly options: LocalMapOptions;
  readonly counters: LocalMapCounters = { framesAdded: 0, samplesSplatted: 0, chunksCreated: 0, chunksEmitted: 0, chunksFreed: 0, chunksRevisited: 0, primitivesEmitted: 0 };
  private readonly chunks = new Map<number, Chunk>();
  private readonly chunkM: number;
  private readonly cellsPerChunk: number;

  constructor(options: Partial<LocalMapOptions> = {}) {
    this.options = { ...DEFAULT_LOCAL_MAP_OPTIONS, ...options, vectorize: { ...options.vectorize } };
    const o = this.options;
    if (!(o.cellM >= 0.02 && o.cellM <= 2)) throw new RangeError(`localMap.cellM must be in [0.02, 2] m, got ${o.cellM}`);
    if (!(Number.isInteger(o.chunkCells) && o.chunkCells >= 16 && o.chunkCells <= 2048)) throw new RangeError(`localMap.chunkCells must be an integer in [16, 2048], got ${o.chunkCells}`);
    for (const k of ['marginM', 'behindM', 'farM', 'retainM'] as const) {
      if (!(o[k] >= 0 && Number.isFinite(o[k]))) throw new RangeError(`localMap.${k} must be a finite number >= 0 m, got ${o[k]}`);
    }
    if (o.marginM > o.cellM * o.chunkCells) throw new RangeError(`localMap.marginM (${o.marginM} m) must not exceed a chunk side (${o.cellM * o.chunkCells} m)`);
    if (!(Number.isInteger(o.maxSamplesPerAxis) && o.maxSamplesPerAxis >= 1)) throw new RangeError(`localMap.maxSamplesPerAxis must be a positive integer, got ${o.maxSamplesPerAxis}`);
    validateVectorizeOptions({ ...DEFAULT_VECTORIZE_OPTIONS, ...o.vectorize });
    this.chunkM = o.cellM * o.chunkCells;
    this.cellsPerChunk = o.chunkCells * o.chunkCells;
  }

  /** Chunks held (live and kept as margin). */
  get chunksHeld(): number {
    return this.chunks.size;
  }

  /** Bytes of evidence held (visibility + class planes of all chunks). */
  get bytesHeld(): number {
    return this.chunks.size * this.cellsPerChunk * (1 + PLANES) * 4;
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
    const o = this.options;
    const cell = o.cellM;
    const inv = 1 / cell;
    const spacing = 0.7 * cell;
    const N = o.chunkCells;
    const cells = this.cellsPerChunk;
    const cos = Math.cos(pose.headingRad);
    const sin = Math.sin(pose.headingRad);
    const e0 = pose.eastM;
    const n0 = pose.northM;
    const maxS = o.maxSamplesPerAxis;
    const { valid, nearXM, nearYM, farXM, farYM, acrossXM, acrossYM, alongM, acrossM } = lut;
    const classId = seg.classId;
    const prob = seg.prob;
    let chunk: Chunk | undefined;
    let chunkKey = Number.NaN;
    let samples = 0;
    for (let i = 0; i < lut.size; i++) {
      if (!valid[i]) continue;
      const k = classId[i]!;
      const p = prob[i]!;
      const nA = Math.min(maxS, Math.max(1, Math.ceil(alongM[i]! / spacing)));
      const nC = Math.min(maxS, Math.max(1, Math.ceil(acrossM[i]! / spacing)));
      const w = 1 / (nA * nC);
      const wp = w * p;
      const nx = nearXM[i]!;
      const ny = nearYM[i]!;
      const ax = farXM[i]! - nx;
      const ay = farYM[i]! - ny;
      const cx = acrossXM[i]!;
      const cy = acrossYM[i]!;
      for (let a = 0; a < nA; a++) {
        const ta = (a + 0.5) / nA;
        const bx0 = nx + ta * ax;
        const by0 = ny + ta * ay;
        for (let c = 0; c < nC; c++) {
          const tc = (c + 0.5) / nC - 0.5;
          const bx = bx0 + tc * cx;
          const by = by0 + tc * cy;
          const gx = Math.floor((e0 + cos * bx - sin * by) * inv);
          const gy = Math.floor((n0 + sin * bx + cos * by) * inv);
          const ci = Math.floor(gx / N);
          const cj = Math.floor(gy / N);
          const key = chunkKeyOf(ci, cj);
          if (key !== chunkKey) {
            chunk = this.chunkFor(ci, cj, key, frameNo, pose.sigmaM, tUnixMs);
            chunkKey = key;
          }
          const idx = (gy - cj * N) * N + (gx - ci * N);
          chunk!.visibility[idx]! += w;
          if (k !== 0 && k < SEG_CLASS_COUNT) chunk!.evidence[(k - 1) * cells + idx]! += wp;
          samples++;
        }
      }
    }
    this.counters.samplesSplatted += samples;
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
      let maxAhead = -Infinity;
      for (const [dx, dy] of [[x0, y0], [x0 + this.chunkM, y0], [x0, y0 + this.chunkM], [x0 + this.chunkM, y0 + this.chunkM]] as const) {
        maxAhead = Math.max(maxAhead, cos * dx + sin * dy);
      }
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
      ch.visibility.fill(0);
      ch.evidence.fill(0);
      ch.emitted = false;
      ch.maxSigmaM = 0;
      this.counters.chunksRevisited++;
    }
    if (!ch) {
      ch = {
        ci,
        cj,
        visibility: new Float32Array(this.cellsPerChunk),
        evidence: new Float32Array(this.cellsPerChunk * PLANES),
        emitted: false,
        maxSigmaM: 0,
        lastTUnixMs: tUnixMs,
        touchedFrame: 0,
      };
      this.chunks.set(key, ch);
      this.counters.chunksCreated++;
    }
    if (ch.touchedFrame !== frameNo) {
      ch.touchedFrame = frameNo;
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
    const grid = allocBevGrid(W, W, o.cellM, ch.ci * this.chunkM - m * o.cellM, ch.cj * this.chunkM - m * o.cellM);
    const gridCells = W * W;
    for (let dj = -1; dj <= 1; dj++) {
      for (let di = -1; di <= 1; di++) {
        const nb = this.chunks.get(chunkKeyOf(ch.ci + di, ch.cj + dj));
        if (!nb) continue;
        // Neighbour cell (x, y) lands at grid (x + m + di * N, y + m + dj * N).
        const x0 = Math.max(0, -(m + di * N));
        const x1 = Math.min(N, W - (m + di * N));
        const y0 = Math.max(0, -(m + dj * N));
        const y1 = Math.min(N, W - (m + dj * N));
        if (x0 >= x1 || y0 >= y1) continue;
        for (let y = y0; y < y1; y++) {
          const src = y * N;
          const dst = (y + m + dj * N) * W + m + di * N;
          grid.visibility.set(nb.visibility.subarray(src + x0, src + x1), dst + x0);
          for (let k = 0; k < PLANES; k++) {
            grid.evidence.set(nb.evidence.subarray(k * this.cellsPerChunk + src + x0, k * this.cellsPerChunk + src + x1), k * gridCells + dst + x0);
          }
        }
      }
    }
    const clip = { minXM: ch.ci * this.chunkM, minYM: ch.cj * this.chunkM, maxXM: (ch.ci + 1) * this.chunkM, maxYM: (ch.cj + 1) * this.chunkM };
    for (const p of vectorizeGrid(grid, o.vectorize, clip)) {
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

/** One number per chunk index pair (|ci|, |cj| < 2^20: +-37 000 km at 36 m chunks). */
function chunkKeyOf(ci: number, cj: number): number {
  return (ci + 0x100000) * 0x200000 + (cj + 0x100000);
}

/**
 * Vectorise one frame on its own (benchmarks, single-frame AP): the frame splatted in the body
 * frame (x forward, y left: pose at the origin, heading 0), every chunk emitted. `pointsLocal`
 * are then body-frame [xM, yM].
 */
export function vectorizeFrame(seg: SegOutput, lut: GroundLut, options: Partial<LocalMapOptions> = {}): LocalPrimitive[] {
  const map = new LocalMap(options);
  map.addFrame(seg, lut, { eastM: 0, northM: 0, headingRad: 0, sigmaM: 0 }, 0);
  return map.flush().primitives;
}
