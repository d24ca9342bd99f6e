/**
 * The road's vertical curvature ahead, from the camera alone: the road surface in the body frame
 * is modelled as z = 0.5 * k * x^2 (x forward, z up, metres; k in 1/m, positive in a dip, negative
 * over a crest). Projected onto a flat ground plane, a point of a road that rises ahead lands too
 * far and too wide (a crest: too near): at k = 0.002 / m and a camera 1.4 m high a stop line 10 m
 * ahead lands 0.77 m too far, and a line 3.5 m to the side 0.25 m too wide: the road ahead, not
 * the car's pitch, which the gyro measures (it sees the road's curvature only under the car,
 * gyro-curvature.ts, whose fast part the edge adds to this estimate).
 *
 * What tells k apart is motion: paint does not move, so where two frames saw the same painted
 * pixels, the right surface puts them on the same ground points. For every candidate k (a grid
 * of `stepPerM` within +-`maxCurvaturePerM`), each painted pixel of the new frame is placed on
 * that surface with the frame's pitch, carried into an earlier frame's body frame by the
 * odometry between the two, lifted onto that frame's surface and projected into its image, where
 * the earlier frame's probability of the same kind of paint (dividers, boundaries, stop lines,
 * crosswalks) is read, bilinearly. The candidates' scores (the mean agreement per
 * painted pixel) add up over frame pairs with an exponential memory of `halfLifeM` of travel;
 * the estimate is the best candidate of that sum, refined by a parabola through it and its
 * neighbours, and 0 until `minPairs` pairs have been compared. Each new frame is compared with
 * the newest of the last `maxFramesKept` frames that lies at least `minMoveM` back (and at most
 * `maxMoveM`): at 10 Hz successive frames are a metre apart, too little parallax, so the frame a
 * few metres back serves; at 2 Hz it is usually the one before.
 *
 * Pure: frames in, estimate out; no clock. The work is bounded: at most `maxPixels` painted
 * pixels per frame (evenly thinned), each tried against every candidate.
 */
import { cameraPose, raySurfaceScale, SEG_CLASS_IDS, type CameraCalibration, type CameraPose } from '../../shared/camera.ts';
import type { SegOutput } from './decode.ts';

export interface SlopeOptions {
  /** Candidates span +-this, 1/m. */
  maxCurvaturePerM: number;
  /** Candidate spacing, 1/m. */
  stepPerM: number;
  /** Travel after which half of the accumulated evidence is forgotten, metres. */
  halfLifeM: number;
  /** A frame is compared with a kept one at least / at most this far back, metres. */
  minMoveM: number;
  maxMoveM: number;
  /** Frames kept to compare with (the newest). */
  maxFramesKept: number;
  /** Painted pixels taken from the new frame: ground range ahead (body x, on flat ground), metres. */
  minRangeM: number;
  maxRangeM: number;
  /** Painted pixels count when their class probability is at least this. */
  minProb: number;
  /** At most this many painted pixels per frame (evenly thinned beyond). */
  maxPixels: number;
  /** The estimate stays 0 until this many pairs were compared. */
  minPairs: number;
}

export const DEFAULT_SLOPE_OPTIONS: SlopeOptions = {
  maxCurvaturePerM: 0.004, // 1/m
  stepPerM: 0.0005, // 1/m
  halfLifeM: 100, // m
  minMoveM: 3, // m
  maxMoveM: 12, // m
  maxFramesKept: 8,
  minRangeM: 4, // m
  maxRangeM: 20, // m
  minProb: 0.5,
  maxPixels: 600,
  minPairs: 4,
};

/** Kinds of paint compared between frames: the class id's group, 0 = not compared. */
const PAINT_GROUP = new Uint8Array(256);
PAINT_GROUP[SEG_CLASS_IDS.divider_solid] = 1;
PAINT_GROUP[SEG_CLASS_IDS.divider_dashed] = 1;
PAINT_GROUP[SEG_CLASS_IDS.boundary_curb] = 2;
PAINT_GROUP[SEG_CLASS_IDS.boundary_border] = 2;
PAINT_GROUP[SEG_CLASS_IDS.boundary_barrier] = 2;
PAINT_GROUP[SEG_CLASS_IDS.stop_line] = 3;
PAINT_GROUP[SEG_CLASS_IDS.crosswalk] = 4;

/** A frame's pose in the odometry frame (east, north, heading; metres, radians). */
export interface SlopePose {
  eastM: number;
  northM: number;
  headingRad: number;
}

export interface SlopeCounters {
  /** Frame pairs compared; frames with no kept frame 3-12 m back (or no paint) to compare with. */
  pairsCompared: number;
  pairsSkipped: number;
}

/** A kept frame: its paint group and probability per output pixel, pose and camera pose. */
interface KeptFrame {
  group: Uint8Array;
  prob: Float32Array;
  widthPx: number;
  heightPx: number;
  pose: SlopePose;
  camera: CameraPose;
}

export class SlopeEstimator {
  readonly options: SlopeOptions;
  readonly candidatesPerM: Float64Array;
  readonly counters: SlopeCounters = { pairsCompared: 0, pairsSkipped: 0 };
  private readonly score: Float64Array;
  private readonly pairScore: Float64Array;
  private pairs = 0;
  private estimate = 0;
  private readonly cal: CameraCalibration;
  private readonly stride: number;
  /** The newest frames, oldest first. */
  private kept: KeptFrame[] = [];
  private last: SlopePose | undefined;
  /** Scratch: the new frame's painted pixels in range, and their rays (dx, dy, dz) in the body frame. */
  private pick = new Int32Array(0);
  private rays = new Float64Array(0);

  /** `calibration`: the model input's (see scaleCalibration); `stride`: input pixels per output pixel. */
  constructor(calibration: CameraCalibration, stride: number, options: Partial<SlopeOptions> = {}) {
    const o = (this.options = { ...DEFAULT_SLOPE_OPTIONS, ...options });
    if (!(o.maxCurvaturePerM > 0 && o.stepPerM > 0 && o.stepPerM <= o.maxCurvaturePerM)) throw new RangeError(`slope: need 0 < stepPerM (${o.stepPerM}) <= maxCurvaturePerM (${o.maxCurvaturePerM}) 1/m`);
    if (!(o.halfLifeM > 0)) throw new RangeError(`slope.halfLifeM must be > 0 m, got ${o.halfLifeM}`);
    if (!(o.maxMoveM > o.minMoveM && o.minMoveM >= 0)) throw new RangeError(`slope: need maxMoveM (${o.maxMoveM}) > minMoveM (${o.minMoveM}) >= 0 m`);
    if (!(o.maxRangeM > o.minRangeM && o.minRangeM >= 0)) throw new RangeError(`slope: need maxRangeM (${o.maxRangeM}) > minRangeM (${o.minRangeM}) >= 0 m`);
    if (!(Number.isInteger(o.maxPixels) && o.maxPixels >= 1)) throw new RangeError(`slope.maxPixels must be a positive integer, got ${o.maxPixels}`);
    if (!(Number.isInteger(o.maxFramesKept) && o.maxFramesKept >= 1)) throw new RangeError(`slope.maxFramesKept must be a positive integer, got ${o.maxFramesKept}`);
    if (!(Number.isInteger(stride) && stride >= 1)) throw new RangeError(`slope: stride must be a positive integer, got ${stride}`);
    const n = Math.round(o.maxCurvaturePerM / o.stepPerM);
    this.candidatesPerM = new Float64Array(2 * n + 1);
    for (let j = 0; j <= 2 * n; j++) this.candidatesPerM[j] = (j - n) * o.stepPerM;
    this.score = new Float64Array(2 * n + 1);
    this.pairScore = new Float64Array(2 * n + 1);
    this.cal = calibration;
    this.stride = stride;
  }

  /** The current estimate of the road's vertical curvature ahead, 1/m (0 until enough evidence). */
  get curvaturePerM(): number {
    return this.estimate;
  }

  /** Forget everything (a new drive or pose frame). */
  reset(): void {
    this.score.fill(0);
    this.pairs = 0;
    this.estimate = 0;
    this.kept = [];
    this.last = undefined;
  }

  /** Take a segmented frame with its pose and vehicle pitch (radians, nose down positive); returns the estimate. */
  observe(seg: SegOutput, pose: SlopePose, vehiclePitchRad: number): number {
    const o = this.options;
    const camera = cameraPose(this.cal, vehiclePitchRad);
    const away = (f: KeptFrame): number => Math.hypot(pose.eastM - f.pose.eastM, pose.northM - f.pose.northM);
    // Frames too far back are of no more use.
    while (this.kept.length > 0 && away(this.kept[0]!) > o.maxMoveM) this.kept.shift();
    let prev: KeptFrame | undefined;
    for (let k = this.kept.length - 1; k >= 0; k--) {
      const f = this.kept[k]!;
      if (away(f) >= o.minMoveM) {
        if (f.widthPx === seg.widthPx && f.heightPx === seg.heightPx) prev = f;
        break;
      }
    }
    const travelM = this.last ? Math.hypot(pose.eastM - this.last.eastM, pose.northM - this.last.northM) : 0;
    this.last = { eastM: pose.eastM, northM: pose.northM, headingRad: pose.headingRad };
    if (prev && this.compare(seg, pose, camera, prev)) {
      const decay = Math.pow(0.5, travelM / o.halfLifeM);
      for (let j = 0; j < this.score.length; j++) this.score[j] = this.score[j]! * decay + this.pairScore[j]!;
      this.pairs++;
      this.counters.pairsCompared++;
      if (this.pairs >= o.minPairs) this.estimate = this.best();
    } else {
      this.counters.pairsSkipped++;
    }
    this.keep(seg, pose, camera);
    return this.estimate;
  }

  /** Score every candidate on this pair into pairScore; false when the new frame had no usable paint. */
  private compare(seg: SegOutput, pose: SlopePose, camera: CameraPose, kept: KeptFrame): boolean {
    const prev = kept.pose;
    const prevCamera = kept.camera;
    const o = this.options;
    const cal = this.cal;
    const W = seg.widthPx;
    const H = seg.heightPx;
    const s = this.stride;
    const r = camera.r;
    const t0 = camera.t[0]!;
    const t1 = camera.t[1]!;
    const t2 = camera.t[2]!;
    // Painted pixels of the new frame within range (on flat ground) with their rays, thinned evenly below.
    if (this.pick.length < W * H) {
      this.pick = new Int32Array(W * H);
      this.rays = new Float64Array(3 * W * H);
    }
    const rays = this.rays;
    let count = 0;
    for (let i = 0; i < W * H; i++) {
      if (PAINT_GROUP[seg.classId[i]!] === 0 || seg.prob[i]! < o.minProb) continue;
      const c = i % W;
      const row = (i - c) / W;
      const xc = (s * c + s / 2 - cal.cxPx) / cal.fxPx;
      const yc = (s * row + s / 2 - cal.cyPx) / cal.fyPx;
      const dx = r[0]! * xc + r[1]! * yc + r[2]!;
      const dz = r[6]! * xc + r[7]! * yc + r[8]!;
      const sc = raySurfaceScale(t0, t2, dx, dz, 0);
      if (!(sc > 0)) continue;
      const x = t0 + sc * dx;
      if (x < o.minRangeM || x > o.maxRangeM) continue;
      rays[3 * count] = dx;
      rays[3 * count + 1] = r[3]! * xc + r[4]! * yc + r[5]!;
      rays[3 * count + 2] = dz;
      this.pick[count++] = i;
    }
    if (count === 0) return false;
    const every = Math.max(1, Math.ceil(count / o.maxPixels));
    // The rigid motion from the new body frame into the previous one.
    const dh = pose.headingRad - prev.headingRad;
    const cosH = Math.cos(dh);
    const sinH = Math.sin(dh);
    const ce = Math.cos(prev.headingRad);
    const se = Math.sin(prev.headingRad);
    const de = pose.eastM - prev.eastM;
    const dn = pose.northM - prev.northM;
    const ox = ce * de + se * dn;
    const oy = -se * de + ce * dn;
    const cands = this.candidatesPerM;
    const pr = prevCamera.r;
    const p0 = pr[0]!;
    const p1 = pr[1]!;
    const p2 = pr[2]!;
    const p3 = pr[3]!;
    const p4 = pr[4]!;
    const p5 = pr[5]!;
    const p6 = pr[6]!;
    const p7 = pr[7]!;
    const p8 = pr[8]!;
    const q0 = prevCamera.t[0]!;
    const q1 = prevCamera.t[1]!;
    const q2 = prevCamera.t[2]!;
    this.pairScore.fill(0);
    let weight = 0;
    for (let q = 0; q < count; q += every) {
      const i = this.pick[q]!;
      const group = PAINT_GROUP[seg.classId[i]!]!;
      const p = seg.prob[i]!;
      weight += p;
      const dx = rays[3 * q]!;
      const dy = rays[3 * q + 1]!;
      const dz = rays[3 * q + 2]!;
      for (let j = 0; j < cands.length; j++) {
        const k = cands[j]!;
        const sc = raySurfaceScale(t0, t2, dx, dz, k);
        if (!(sc > 0)) continue;
        const gx = t0 + sc * dx;
        const gy = t1 + sc * dy;
        // Into the previous body frame, onto its surface, into its image (bodyToPixel inline).
        const x = ox + cosH * gx - sinH * gy;
        const y = oy + sinH * gx + cosH * gy;
        const px = x - q0;
        const py = y - q1;
        const pz = 0.5 * k * x * x - q2;
        const zc = p2 * px + p5 * py + p8 * pz;
        if (!(zc >= 0.5)) continue;
        const u = cal.cxPx + (cal.fxPx * (p0 * px + p3 * py + p6 * pz)) / zc;
        const v = cal.cyPx + (cal.fyPx * (p1 * px + p4 * py + p7 * pz)) / zc;
        this.pairScore[j]! += p * sampleKept(kept, u / s - 0.5, v / s - 0.5, group);
      }
    }
    if (!(weight > 0)) return false;
    for (let j = 0; j < cands.length; j++) this.pairScore[j] = this.pairScore[j]! / weight;
    return true;
  }

  /** Keep the frame (reusing the oldest kept frame's buffers when all places are taken). */
  private keep(seg: SegOutput, pose: SlopePose, camera: CameraPose): void {
    const n = seg.widthPx * seg.heightPx;
    const reuse = this.kept.length >= this.options.maxFramesKept ? this.kept.shift()! : undefined;
    const f: KeptFrame =
      reuse && reuse.group.length === n
        ? reuse
        : { group: new Uint8Array(n), prob: new Float32Array(n), widthPx: 0, heightPx: 0, pose, camera };
    for (let i = 0; i < n; i++) {
      const g = PAINT_GROUP[seg.classId[i]!]!;
      f.group[i] = g;
      f.prob[i] = g === 0 ? 0 : seg.prob[i]!;
    }
    f.widthPx = seg.widthPx;
    f.heightPx = seg.heightPx;
    f.pose = { eastM: pose.eastM, northM: pose.northM, headingRad: pose.headingRad };
    f.camera = camera;
    this.kept.push(f);
  }

  /**
   * The best candidate of the accumulated scores, refined by a parabola through its neighbours;
   * the estimate as it was when the scores do not single one out (all equal: nothing overlapped).
   */
  private best(): number {
    const sc = this.score;
    let j = 0;
    let low = sc[0]!;
    for (let m = 1; m < sc.length; m++) {
      if (sc[m]! > sc[j]!) j = m;
      if (sc[m]! < low) low = sc[m]!;
    }
    if (!(sc[j]! > low)) return this.estimate;
    let k = this.candidatesPerM[j]!;
    if (j > 0 && j < sc.length - 1) {
      const a = sc[j - 1]!;
      const b = sc[j]!;
      const c = sc[j + 1]!;
      const den = a - 2 * b + c;
      if (den < 0) k += (0.5 * (a - c) / den) * this.options.stepPerM;
    }
    return k;
  }
}

/** A kept frame's probability of paint of `group` at output pixel coordinates (fc, fr), bilinear; 0 outside. */
function sampleKept(f: KeptFrame, fc: number, fr: number, group: number): number {
  const W = f.widthPx;
  const H = f.heightPx;
  if (!(fc >= 0 && fr >= 0 && fc <= W - 1 && fr <= H - 1)) return 0;
  const c0 = Math.min(W - 2, Math.floor(fc));
  const r0 = Math.min(H - 2, Math.floor(fr));
  const a = fc - c0;
  const b = fr - r0;
  const i = r0 * W + c0;
  const g = f.group;
  const pr = f.prob;
  const v00 = g[i] === group ? pr[i]! : 0;
  const v01 = g[i + 1] === group ? pr[i + 1]! : 0;
  const v10 = g[i + W] === group ? pr[i + W]! : 0;
  const v11 = g[i + W + 1] === group ? pr[i + W + 1]! : 0;
  return (1 - b) * ((1 - a) * v00 + a * v01) + b * ((1 - a) * v10 + a * v11);
}
