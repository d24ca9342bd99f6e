/**
 * The merge's working set for one tile job, as flat typed arrays: observations, the drive
 * segments they belong to (one translation each), and observations resampled at a fixed
 * spacing with tangents. All coordinates are metres in the job tile's local frame.
 */
import { BOUNDARY_KINDS, DIVIDER_STYLES, PRIMITIVE_CLASSES, type BoundaryKind, type DividerStyle, type PrimitiveClass, type XY } from '../../shared/schema.ts';
import type { MergeOptions } from './options.ts';
import { polylineLength, resampleInto, resampleSteps, vertexTangents } from './polyline.ts';

/** One observation handed to `mergeTile`, already in the job tile's local frame. */
export interface TileObservation {
  driveId: string;
  /** When it was observed, Unix milliseconds. */
  tUnixMs: number;
  cls: PrimitiveClass;
  style?: DividerStyle;
  kind?: BoundaryKind;
  signCode?: string;
  /** Perception confidence in [0, 1]. */
  score: number;
  /** The vehicle's 1-sigma pose uncertainty, centimetres. */
  poseSigmaCm: number;
  /** Vertices [eastM, northM] in the job tile's frame. */
  points: XY[];
}

export const CLS_DIVIDER = PRIMITIVE_CLASSES.indexOf('lane_divider');
export const CLS_BOUNDARY = PRIMITIVE_CLASSES.indexOf('road_boundary');
export const CLS_STOP = PRIMITIVE_CLASSES.indexOf('stop_line');
export const CLS_CROSSWALK = PRIMITIVE_CLASSES.indexOf('crosswalk');
export const CLS_SIGN = PRIMITIVE_CLASSES.indexOf('traffic_sign');
export const CLS_LIGHT = PRIMITIVE_CLASSES.indexOf('traffic_light');

export interface Prepared {
  nObs: number;
  cls: Uint8Array;
  /** Style index (lane_divider) or kind index (road_boundary), -1 otherwise. */
  attr: Int8Array;
  drive: Int32Array;
  seg: Int32Array;
  tUnixMs: Float64Array;
  score: Float32Array;
  /** The edge's declared 1-sigma pose uncertainty when it observed it, metres. */
  poseSigmaM: Float32Array;
  signCode: string[];
  /** Raw vertices of observation i: vx/vy[vStart[i] .. vStart[i] + vCount[i]). */
  vStart: Int32Array;
  vCount: Int32Array;
  vx: Float64Array;
  vy: Float64Array;
  driveIds: string[];
  nSeg: number;
  segDrive: Int32Array;
  segT0: Float64Array;
  segT1: Float64Array;
  /** Segment ids of each drive, in time order. */
  driveSegs: number[][];
  /**
   * Pivot of each segment's rotation: the mean of its raw vertices, metres. A segment's
   * correction moves a raw point q by its translation plus theta x perp(q - pivot)
   * (`correctPoints`).
   */
  segPivotX: Float64Array;
  segPivotY: Float64Array;
}

export function prepare(obs: readonly TileObservation[], o: MergeOptions): Prepared {
  const kept = obs.filter((ob) => ob.poseSigmaCm <= o.maxPoseSigmaCm && ob.points.length > 0);
  const n = kept.length;
  const driveIndex = new Map<string, number>();
  let nv = 0;
  for (const ob of kept) {
    if (!driveIndex.has(ob.driveId)) driveIndex.set(ob.driveId, driveIndex.size);
    nv += ob.points.length;
  }
  const p: Prepared = {
    nObs: n,
    cls: new Uint8Array(n),
    attr: new Int8Array(n),
    drive: new Int32Array(n),
    seg: new Int32Array(n),
    tUnixMs: new Float64Array(n),
    score: new Float32Array(n),
    poseSigmaM: new Float32Array(n),
    signCode: new Array<string>(n),
    vStart: new Int32Array(n),
    vCount: new Int32Array(n),
    vx: new Float64Array(nv),
    vy: new Float64Array(nv),
    driveIds: [...driveIndex.keys()],
    nSeg: 0,
    segDrive: new Int32Array(0),
    segT0: new Float64Array(0),
    segT1: new Float64Array(0),
    driveSegs: [],
    segPivotX: new Float64Array(0),
    segPivotY: new Float64Array(0),
  };
  let v = 0;
  kept.forEach((ob, i) => {
    p.cls[i] = PRIMITIVE_CLASSES.indexOf(ob.cls);
    p.attr[i] = ob.cls === 'lane_divider' && ob.style ? DIVIDER_STYLES.indexOf(ob.style) : ob.cls === 'road_boundary' && ob.kind ? BOUNDARY_KINDS.indexOf(ob.kind) : -1;
    p.drive[i] = driveIndex.get(ob.driveId)!;
    p.tUnixMs[i] = ob.tUnixMs;
    p.score[i] = ob.score;
    p.poseSigmaM[i] = ob.poseSigmaCm / 100;
    p.signCode[i] = ob.signCode ?? '';
    p.vStart[i] = v;
    p.vCount[i] = ob.points.length;
    for (const [x, y] of ob.points) {
      p.vx[v] = x;
      p.vy[v] = y;
      v++;
    }
  });
  buildSegments(p, o);
  return p;
}

/**
 * Splits each drive's observations, in time order, at gaps > segmentGapS and at multiples of
 * segmentMaxS of absolute time: neighbouring tile jobs, which see different parts of a drive,
 * then cut it in the same places and estimate the same segments.
 */
function buildSegments(p: Prepared, o: MergeOptions): void {
  const byDrive: number[][] = p.driveIds.map(() => []);
  for (let i = 0; i < p.nObs; i++) byDrive[p.drive[i]!]!.push(i);
  const segDrive: number[] = [];
  const segT0: number[] = [];
  const segT1: number[] = [];
  const gapMs = o.segmentGapS * 1000;
  const maxMs = o.segmentMaxS * 1000;
  byDrive.forEach((list, d) => {
    list.sort((a, b) => p.tUnixMs[a]! - p.tUnixMs[b]!);
    const segs: number[] = [];
    let cur = -1;
    for (const i of list) {
      const t = p.tUnixMs[i]!;
      if (cur < 0 || t - segT1[cur]! > gapMs || Math.floor(t / maxMs) !== Math.floor(segT0[cur]! / maxMs)) {
        cur = segDrive.length;
        segDrive.push(d);
        segT0.push(t);
        segT1.push(t);
        segs.push(cur);
      }
      segT1[cur] = t;
      p.seg[i] = cur;
    }
    p.driveSegs.push(segs);
  });
  p.nSeg = segDrive.length;
  p.segDrive = Int32Array.from(segDrive);
  p.segT0 = Float64Array.from(segT0);
  p.segT1 = Float64Array.from(segT1);
  p.segPivotX = new Float64Array(p.nSeg);
  p.segPivotY = new Float64Array(p.nSeg);
  const nv = new Float64Array(p.nSeg);
  for (let i = 0; i < p.nObs; i++) {
    const sg = p.seg[i]!;
    for (let k = p.vStart[i]!; k < p.vStart[i]! + p.vCount[i]!; k++) {
      p.segPivotX[sg] = p.segPivotX[sg]! + p.vx[k]!;
      p.segPivotY[sg] = p.segPivotY[sg]! + p.vy[k]!;
      nv[sg] = nv[sg]! + 1;
    }
  }
  for (let sg = 0; sg < p.nSeg; sg++) {
    p.segPivotX[sg] = p.segPivotX[sg]! / nv[sg]!;
    p.segPivotY[sg] = p.segPivotY[sg]! / nv[sg]!;
  }
}

/** Observations resampled at a fixed spacing, each observation's points contiguous. */
export interface Resampled {
  n: number;
  /** Raw (uncorrected) positions, metres. */
  rx: Float64Array;
  ry: Float64Array;
  /** Unit tangents along the observation's own direction. */
  tx: Float64Array;
  ty: Float64Array;
  obs: Int32Array;
  /** First point of each observation, -1 when it has none here. */
  obsStart: Int32Array;
  obsCount: Int32Array;
}

/**
 * Resample the observations whose class passes `spacingFor` (a spacing in metres, or 0 to skip).
 * Crosswalk rings are closed before resampling, so their edges all contribute.
 */
export function resample(p: Prepared, spacingFor: (cls: number) => number): Resampled {
  const obsStart = new Int32Array(p.nObs).fill(-1);
  const obsCount = new Int32Array(p.nObs);
  const total = new Float64Array(p.nObs);
  const rings = new Map<number, { x: Float64Array; y: Float64Array }>();
  // Pass 1: which observations, how many points each (the counts resampleFlat would return).
  let n = 0;
  for (let i = 0; i < p.nObs; i++) {
    const sp = spacingFor(p.cls[i]!);
    if (!(sp > 0)) continue;
    const s = p.vStart[i]!;
    const c = p.vCount[i]!;
    let count: number;
    if (c === 1) count = 1;
    else if (p.cls[i] === CLS_CROSSWALK) {
      const rx = Float64Array.from({ length: c + 1 }, (_, k) => p.vx[s + (k % c)]!);
      const ry = Float64Array.from({ length: c + 1 }, (_, k) => p.vy[s + (k % c)]!);
      rings.set(i, { x: rx, y: ry });
      total[i] = polylineLength(rx, ry, 0, c + 1);
      count = resampleSteps(total[i]!, sp) + 1;
    } else {
      total[i] = polylineLength(p.vx, p.vy, s, s + c);
      if (total[i]! < 1e-6) continue;
      count = resampleSteps(total[i]!, sp) + 1;
    }
    obsStart[i] = n;
    obsCount[i] = count;
    n += count;
  }
  const out: Resampled = {
    n,
    rx: new Float64Array(n),
    ry: new Float64Array(n),
    tx: new Float64Array(n),
    ty: new Float64Array(n),
    obs: new Int32Array(n),
    obsStart,
    obsCount,
  };
  // Pass 2: the points, straight into the output.
  for (let i = 0; i < p.nObs; i++) {
    const at = obsStart[i]!;
    if (at < 0) continue;
    const s = p.vStart[i]!;
    const c = p.vCount[i]!;
    const m = obsCount[i]!;
    if (c === 1) {
      out.rx[at] = p.vx[s]!;
      out.ry[at] = p.vy[s]!;
    } else {
      const ring = rings.get(i);
      if (ring) resampleInto(ring.x, ring.y, 0, c + 1, total[i]!, m - 1, out.rx, out.ry, at);
      else resampleInto(p.vx, p.vy, s, s + c, total[i]!, m - 1, out.rx, out.ry, at);
    }
    out.obs.fill(i, at, at + m);
    if (m > 1) vertexTangents(out.rx, out.ry, at, at + m, out.tx, out.ty);
    else {
      out.tx[at] = 1;
      out.ty[at] = 0;
    }
  }
  return out;
}

/** A smooth correction field g(x, y) subtracted after the per-segment translations (the gauge). */
export type GaugeField = (x: number, y: number, out: Float64Array) => void;

/**
 * Corrected positions of resampled points: raw + segment correction - gauge(raw). `corr` holds
 * [dx, dy] per segment, `theta` (null: none) a small rotation per segment about its pivot,
 * radians counter-clockwise: the correction at q is [dx - theta (qy - pivotY), dy + theta (qx - pivotX)]
 * (linearised: theta stays at milliradians).
 */
export function correctPoints(r: Resampled, p: Prepared, corr: Float64Array, gauge: GaugeField | null, theta: Float64Array | null = null): { x: Float64Array; y: Float64Array } {
  const x = new Float64Array(r.n);
  const y = new Float64Array(r.n);
  const c = new Float64Array(2);
  const g = new Float64Array(2);
  for (let i = 0; i < r.n; i++) correctInto(p, corr, gauge, theta, p.seg[r.obs[i]!]!, r.rx[i]!, r.ry[i]!, c, g, x, y, i);
  return { x, y };
}

/** Corrected raw vertices of every observation (`correctPoints`'s rule). */
export function correctVertices(p: Prepared, corr: Float64Array, gauge: GaugeField | null, theta: Float64Array | null = null): { x: Float64Array; y: Float64Array } {
  const x = new Float64Array(p.vx.length);
  const y = new Float64Array(p.vy.length);
  const c = new Float64Array(2);
  const g = new Float64Array(2);
  for (let i = 0; i < p.nObs; i++) {
    const s = p.seg[i]!;
    for (let k = p.vStart[i]!; k < p.vStart[i]! + p.vCount[i]!; k++) correctInto(p, corr, gauge, theta, s, p.vx[k]!, p.vy[k]!, c, g, x, y, k);
  }
  return { x, y };
}

/** The correction of segment s at raw point (qx, qy), without the gauge, into out[0..1]. */
export function segmentCorrectionAt(p: Prepared, corr: Float64Array, theta: Float64Array | null, s: number, qx: number, qy: number, out: Float64Array): void {
  if (!theta) {
    out[0] = corr[2 * s]!;
    out[1] = corr[2 * s + 1]!;
    return;
  }
  const th = theta[s]!;
  out[0] = corr[2 * s]! - th * (qy - p.segPivotY[s]!);
  out[1] = corr[2 * s + 1]! + th * (qx - p.segPivotX[s]!);
}

/** x[k], y[k] = raw (qx, qy) + segment s's correction there - gauge(raw); c and g: scratch (2 each). */
function correctInto(p: Prepared, corr: Float64Array, gauge: GaugeField | null, theta: Float64Array | null, s: number, qx: number, qy: number, c: Float64Array, g: Float64Array, x: Float64Array, y: Float64Array, k: number): void {
  segmentCorrectionAt(p, corr, theta, s, qx, qy, c);
  let gx = 0;
  let gy = 0;
  if (gauge) {
    gauge(qx, qy, g);
    gx = g[0]!;
    gy = g[1]!;
  }
  x[k] = qx + c[0]! - gx;
  y[k] = qy + c[1]! - gy;
}
