/**
 * Ground projection of the segmentation output grid: for every output pixel, where its centre
 * (and its footprint) lies on the ground in the body frame (x forward, y left, metres), for the
 * current vehicle pitch. A lookup table, recomputed only when the pitch moves by more than
 * `pitchToleranceRad` (the default 0.5 mrad moves a ground point at 10 m by ~4 cm and at 30 m by
 * ~0.3 m: about 4 % of an output pixel's footprint at either range).
 *
 * Output pixel (c, r) at stride s covers model-input pixels [s*c, s*c+s) x [s*r, s*r+s); its
 * centre is the image point (s*c + s/2, s*r + s/2) = (2c+1, 2r+1) for s = 2. The calibration must
 * be the one of the model input (see `scaleCalibration`).
 *
 * Footprint: a far pixel covers metres of road along its ray (at 30 m one output pixel spans
 * ~9 m), so the table also holds the ground points of the pixel's near (bottom) and far (top)
 * edge and the lateral vector across it; the local map splats along those so far rows leave no
 * holes. The pixel gathers light evenly over its image rows, not over its footprint's metres: a
 * metre of road near the camera takes more image rows than one farther along the same ray (rows
 * per metre fall as 1 / (X^2 + h^2), X the distance ahead of the camera, h its height), so the
 * table holds `farDensity`, the image rows per metre at the far edge over those at the near edge,
 * and the local map weights its footprint samples by it: what a pixel saw lies, on average, at
 * the ground point of its image centre, not at the middle of its footprint, which lies farther
 * out. A pixel is invalid when its centre ray misses the ground (at or above the horizon), lies
 * beyond `maxRangeM` ahead (body x) or nearer than `minRangeM`, or beyond +-`maxLateralM`.
 */
import { cameraPose, raySurfaceScale, type CameraCalibration } from '../../shared/camera.ts';

export interface GroundOptions {
  /** Output grid width, pixels. */
  outWidthPx: number;
  /** Output grid height, pixels. */
  outHeightPx: number;
  /** Model-input pixels per output pixel. */
  stride: number;
  /** Farthest valid ground point ahead (body x), metres. */
  maxRangeM: number;
  /** Nearest valid ground point ahead (body x), metres. */
  minRangeM: number;
  /** Widest valid ground point to either side (|body y|), metres. */
  maxLateralM: number;
  /** Recompute the table when the vehicle pitch moved by more than this, radians. */
  pitchToleranceRad: number;
  /** Recompute the table when the road's vertical curvature moved by more than this, 1/m. */
  curvatureTolerancePerM: number;
}

export const DEFAULT_GROUND_OPTIONS: GroundOptions = {
  outWidthPx: 128, // px
  outHeightPx: 64, // px
  stride: 2, // input px per output px
  maxRangeM: 30, // m
  minRangeM: 0, // m
  maxLateralM: 15, // m
  pitchToleranceRad: 0.0005, // rad
  curvatureTolerancePerM: 0.00005, // 1/m: 0.6 cm of height at 15 m, ~6 cm along the ray there
};

export class GroundLut {
  readonly options: GroundOptions;
  readonly calibration: CameraCalibration;
  /** Output pixel count (outWidthPx * outHeightPx); arrays below are indexed r * outWidthPx + c. */
  readonly size: number;
  /** 1 when the pixel's ground point is valid. */
  readonly valid: Uint8Array;
  /** Ground point of the pixel centre, body frame metres. */
  readonly xM: Float32Array;
  readonly yM: Float32Array;
  /** Ground points of the pixel's near (bottom edge) and far (top edge) along its column. */
  readonly nearXM: Float32Array;
  readonly nearYM: Float32Array;
  readonly farXM: Float32Array;
  readonly farYM: Float32Array;
  /** Ground vector across the pixel (left edge -> right edge at the centre row), metres. */
  readonly acrossXM: Float32Array;
  readonly acrossYM: Float32Array;
  /** Footprint lengths: near -> far along the ray, and across, metres. */
  readonly alongM: Float32Array;
  readonly acrossM: Float32Array;
  /** Image rows per metre of ground at the far edge over those at the near edge, in (0, 1]. */
  readonly farDensity: Float32Array;
  /** Number of valid pixels in the current table. */
  validCount = 0;
  /** The vehicle pitch the table was computed for, radians (NaN before the first update). */
  pitchRad = Number.NaN;
  /** The road's vertical curvature the table was computed for, 1/m (ground z = 0.5 k x^2). */
  roadCurvaturePerM = 0;
  /** How often the table was computed. */
  builds = 0;
  /** Build scratch: ground points (x, y) of centre, near, far, left, right. */
  private readonly pt = new Float64Array(10);
  private colScratch = new Float64Array(0);
  private rowScratch = new Float64Array(0);

  constructor(calibration: CameraCalibration, options: Partial<GroundOptions> = {}) {
    this.options = { ...DEFAULT_GROUND_OPTIONS, ...options };
    const o = this.options;
    for (const k of ['outWidthPx', 'outHeightPx', 'stride'] as const) {
      if (!(Number.isInteger(o[k]) && o[k] >= 1)) throw new RangeError(`ground.${k} must be a positive integer, got ${o[k]}`);
    }
    if (!(o.maxRangeM > o.minRangeM && o.minRangeM >= 0)) throw new RangeError(`ground.maxRangeM (${o.maxRangeM}) must be > minRangeM (${o.minRangeM}) >= 0 m`);
    if (!(o.maxLateralM > 0)) throw new RangeError(`ground.maxLateralM must be > 0 m, got ${o.maxLateralM}`);
    if (!(o.pitchToleranceRad >= 0)) throw new RangeError(`ground.pitchToleranceRad must be >= 0 rad, got ${o.pitchToleranceRad}`);
    if (!(o.curvatureTolerancePerM >= 0)) throw new RangeError(`ground.curvatureTolerancePerM must be >= 0 1/m, got ${o.curvatureTolerancePerM}`);
    if (calibration.widthPx !== o.outWidthPx * o.stride || calibration.heightPx !== o.outHeightPx * o.stride) {
      throw new RangeError(
        `ground: calibration is for ${calibration.widthPx}x${calibration.heightPx} px, expected the model input ${o.outWidthPx * o.stride}x${o.outHeightPx * o.stride} (use scaleCalibration)`,
      );
    }
    this.calibration = calibration;
    const n = (this.size = o.outWidthPx * o.outHeightPx);
    this.valid = new Uint8Array(n);
    this.xM = new Float32Array(n);
    this.yM = new Float32Array(n);
    this.nearXM = new Float32Array(n);
    this.nearYM = new Float32Array(n);
    this.farXM = new Float32Array(n);
    this.farYM = new Float32Array(n);
    this.acrossXM = new Float32Array(n);
    this.acrossYM = new Float32Array(n);
    this.alongM = new Float32Array(n);
    this.acrossM = new Float32Array(n);
    this.farDensity = new Float32Array(n);
  }

  /**
   * Make the table current for `vehiclePitchRad` and the road surface z = 0.5 *
   * `roadCurvaturePerM` * x^2 ahead (body frame; 0: the flat ground plane); returns true when it
   * was recomputed.
   */
  update(vehiclePitchRad: number, roadCurvaturePerM = 0): boolean {
    if (!Number.isFinite(vehiclePitchRad)) throw new RangeError(`ground.update: vehiclePitchRad must be finite, got ${vehiclePitchRad}`);
    if (!Number.isFinite(roadCurvaturePerM)) throw new RangeError(`ground.update: roadCurvaturePerM must be finite, got ${roadCurvaturePerM}`);
    const o = this.options;
    if (Math.abs(vehiclePitchRad - this.pitchRad) <= o.pitchToleranceRad && Math.abs(roadCurvaturePerM - this.roadCurvaturePerM) <= o.curvatureTolerancePerM) return false;
    this.validCount = this.build(vehiclePitchRad, roadCurvaturePerM);
    this.pitchRad = vehiclePitchRad;
    this.roadCurvaturePerM = roadCurvaturePerM;
    this.builds++;
    return true;
  }

  private colTerms(w: number): Float64Array {
    if (this.colScratch.length < 9 * w) this.colScratch = new Float64Array(9 * w);
    return this.colScratch;
  }

  private rowTerms(h: number): Float64Array {
    if (this.rowScratch.length < 9 * h) this.rowScratch = new Float64Array(9 * h);
    return this.rowScratch;
  }

  /**
   * Compute the table for `pitchRad`; returns the valid pixel count. It returns right after its
   * loops (the caller records the rest): optimised while in a loop (on-stack replacement), it has
   * nothing left to run that the interpreter has not seen yet.
   */
  private build(pitchRad: number, k: number): number {
    const o = this.options;
    const cal = this.calibration;
    const pose = cameraPose(cal, pitchRad);
    const s = o.stride;
    const h = s / 2;
    const W = o.outWidthPx;
    const H = o.outHeightPx;
    // pixelToGround inline: the ray direction is R * [xc, yc, 1]; its x/y/z parts split into a
    // per-column term (R[k][0] * xc), a per-row term (R[k][1] * yc) and R[k][2], summed in the
    // same order, so every ground point equals pixelToGround's.
    const R = pose.r;
    const t0 = pose.t[0]!;
    const t1 = pose.t[1]!;
    const t2 = pose.t[2]!;
    const cols = this.colTerms(W);
    const rows = this.rowTerms(H);
    for (let c = 0; c < W; c++) {
      const u = s * c + h;
      for (let q = 0; q < 3; q++) {
        const xc = ((q === 0 ? u : q === 1 ? u - h : u + h) - cal.cxPx) / cal.fxPx;
        cols[9 * c + 3 * q] = R[0]! * xc;
        cols[9 * c + 3 * q + 1] = R[3]! * xc;
        cols[9 * c + 3 * q + 2] = R[6]! * xc;
      }
    }
    for (let r = 0; r < H; r++) {
      const v = s * r + h;
      for (let q = 0; q < 3; q++) {
        const yc = ((q === 0 ? v : q === 1 ? v + h : v - h) - cal.cyPx) / cal.fyPx;
        rows[9 * r + 3 * q] = R[1]! * yc;
        rows[9 * r + 3 * q + 1] = R[4]! * yc;
        rows[9 * r + 3 * q + 2] = R[7]! * yc;
      }
    }
    const r2 = R[2]!;
    const r5 = R[5]!;
    const r8 = R[8]!;
    const g = this.pt;
    const { valid, xM, yM, nearXM, nearYM, farXM, farYM, acrossXM, acrossYM, alongM, acrossM, farDensity } = this;
    const { maxRangeM, minRangeM, maxLateralM } = o;
    // Distance ahead of the camera (along its yaw) and its height, for the rows per metre.
    const aheadX = Math.cos(cal.yawRad);
    const aheadY = Math.sin(cal.yawRad);
    const h2 = t2 * t2;
    let count = 0;
    for (let r = 0; r < H; r++) {
      for (let c = 0; c < W; c++) {
        const i = r * W + c;
        valid[i] = 0;
        // Centre (column term 0, row term 0), near (0, 1), far (0, 2), left (1, 0), right (2, 0).
        if (!groundPoint(cols, 9 * c, rows, 9 * r, r2, r5, r8, t0, t1, t2, k, g, 0)) continue;
        const gx = g[0]!;
        const gy = g[1]!;
        if (gx > maxRangeM || gx < minRangeM || Math.abs(gy) > maxLateralM) continue;
        const hasNear = groundPoint(cols, 9 * c, rows, 9 * r + 3, r2, r5, r8, t0, t1, t2, k, g, 2);
        const hasFar = groundPoint(cols, 9 * c, rows, 9 * r + 6, r2, r5, r8, t0, t1, t2, k, g, 4);
        const hasLeft = groundPoint(cols, 9 * c + 3, rows, 9 * r, r2, r5, r8, t0, t1, t2, k, g, 6);
        const hasRight = groundPoint(cols, 9 * c + 6, rows, 9 * r, r2, r5, r8, t0, t1, t2, k, g, 8);
        if (!hasNear || !hasLeft || !hasRight) continue;
        const nx = g[2]!;
        const ny = g[3]!;
        const nearLen = Math.sqrt((gx - nx) ** 2 + (gy - ny) ** 2);
        // The far edge runs off towards the horizon for the top valid rows: mirror the near half.
        let fx: number;
        let fy: number;
        if (hasFar && Math.sqrt((g[4]! - gx) ** 2 + (g[5]! - gy) ** 2) <= 3 * nearLen) {
          fx = g[4]!;
          fy = g[5]!;
        } else {
          fx = 2 * gx - nx;
          fy = 2 * gy - ny;
        }
        const lx = g[6]!;
        const ly = g[7]!;
        const rx = g[8]!;
        const ry = g[9]!;
        xM[i] = gx;
        yM[i] = gy;
        nearXM[i] = nx;
        nearYM[i] = ny;
        farXM[i] = fx;
        farYM[i] = fy;
        acrossXM[i] = rx - lx;
        acrossYM[i] = ry - ly;
        alongM[i] = Math.sqrt((fx - nx) ** 2 + (fy - ny) ** 2);
        acrossM[i] = Math.sqrt((rx - lx) ** 2 + (ry - ly) ** 2);
        const nearAhead = (nx - t0) * aheadX + (ny - t1) * aheadY;
        const farAhead = (fx - t0) * aheadX + (fy - t1) * aheadY;
        farDensity[i] = Math.min(1, (nearAhead * nearAhead + h2) / (farAhead * farAhead + h2));
        valid[i] = 1;
        count++;
      }
    }
    return count;
  }
}

/**
 * pixelToGround with the ray's column and row terms precomputed (cols[ci..ci+2] = R[0|3|6] * xc,
 * rows[ri..ri+2] = R[1|4|7] * yc): the ground point into out[k], out[k + 1]; false when the ray
 * misses the road surface z = 0.5 * curvaturePerM * x^2 (at or above the horizon when flat).
 */
function groundPoint(cols: Float64Array, ci: number, rows: Float64Array, ri: number, r2: number, r5: number, r8: number, t0: number, t1: number, t2: number, curvaturePerM: number, out: Float64Array, k: number): boolean {
  const dz = cols[ci + 2]! + rows[ri + 2]! + r8;
  const dx = cols[ci]! + rows[ri]! + r2;
  const sc = raySurfaceScale(t0, t2, dx, dz, curvaturePerM);
  if (!(sc > 0)) return false;
  const dy = cols[ci + 1]! + rows[ri + 1]! + r5;
  out[k] = t0 + sc * dx;
  out[k + 1] = t1 + sc * dy;
  return true;
}
