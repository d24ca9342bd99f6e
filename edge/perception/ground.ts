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
 * holes. A pixel is invalid when its centre ray misses the ground (at or above the horizon), lies
 * beyond `maxRangeM` ahead (body x) or nearer than `minRangeM`, or beyond +-`maxLateralM`.
 */
import { cameraPose, pixelToGround, type CameraCalibration } from '../../shared/camera.ts';

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
}

export const DEFAULT_GROUND_OPTIONS: GroundOptions = {
  outWidthPx: 128, // px
  outHeightPx: 64, // px
  stride: 2, // input px per output px
  maxRangeM: 30, // m
  minRangeM: 0, // m
  maxLateralM: 15, // m
  pitchToleranceRad: 0.0005, // rad
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
  /** Number of valid pixels in the current table. */
  validCount = 0;
  /** The vehicle pitch the table was computed for, radians (NaN before the first update). */
  pitchRad = Number.NaN;
  /** How often the table was computed. */
  builds = 0;

  constructor(calibration: CameraCalibration, options: Partial<GroundOptions> = {}) {
    this.options = { ...DEFAULT_GROUND_OPTIONS, ...options };
    const o = this.options;
    for (const k of ['outWidthPx', 'outHeightPx', 'stride'] as const) {
      if (!(Number.isInteger(o[k]) && o[k] >= 1)) throw new RangeError(`ground.${k} must be a positive integer, got ${o[k]}`);
    }
    if (!(o.maxRangeM > o.minRangeM && o.minRangeM >= 0)) throw new RangeError(`ground.maxRangeM (${o.maxRangeM}) must be > minRangeM (${o.minRangeM}) >= 0 m`);
    if (!(o.maxLateralM > 0)) throw new RangeError(`ground.maxLateralM must be > 0 m, got ${o.maxLateralM}`);
    if (!(o.pitchToleranceRad >= 0)) throw new RangeError(`ground.pitchToleranceRad must be >= 0 rad, got ${o.pitchToleranceRad}`);
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
  }

  /** Make the table current for `vehiclePitchRad`; returns true when it was recomputed. */
  update(vehiclePitchRad: number): boolean {
    if (!Number.isFinite(vehiclePitchRad)) throw new RangeError(`ground.update: vehiclePitchRad must be finite, got ${vehiclePitchRad}`);
    if (Math.abs(vehiclePitchRad - this.pitchRad) <= this.options.pitchToleranceRad) return false;
    this.build(vehiclePitchRad);
    return true;
  }

  private build(pitchRad: number): void {
    const o = this.options;
    const cal = this.calibration;
    const pose = cameraPose(cal, pitchRad);
    const s = o.stride;
    const h = s / 2;
    const c0: [number, number] = [0, 0];
    const pn: [number, number] = [0, 0];
    const pf: [number, number] = [0, 0];
    const pl: [number, number] = [0, 0];
    const pr: [number, number] = [0, 0];
    let count = 0;
    for (let r = 0; r < o.outHeightPx; r++) {
      const v = s * r + h;
      for (let c = 0; c < o.outWidthPx; c++) {
        const i = r * o.outWidthPx + c;
        const u = s * c + h;
        this.valid[i] = 0;
        const g = pixelToGround(pose, cal, u, v, c0);
        if (!g || g[0] > o.maxRangeM || g[0] < o.minRangeM || Math.abs(g[1]) > o.maxLateralM) continue;
        const near = pixelToGround(pose, cal, u, v + h, pn);
        const far = pixelToGround(pose, cal, u, v - h, pf);
        const left = pixelToGround(pose, cal, u - h, v, pl);
        const right = pixelToGround(pose, cal, u + h, v, pr);
        if (!near || !left || !right) continue;
        const nearLen = Math.hypot(g[0] - near[0], g[1] - near[1]);
        // The far edge runs off towards the horizon for the top valid rows: mirror the near half.
        let fx: number;
        let fy: number;
        if (far && Math.hypot(far[0] - g[0], far[1] - g[1]) <= 3 * nearLen) {
          fx = far[0];
          fy = far[1];
        } else {
          fx = 2 * g[0] - near[0];
          fy = 2 * g[1] - near[1];
        }
        this.xM[i] = g[0];
        this.yM[i] = g[1];
        this.nearXM[i] = near[0];
        this.nearYM[i] = near[1];
        this.farXM[i] = fx;
        this.farYM[i] = fy;
        this.acrossXM[i] = right[0] - left[0];
        this.acrossYM[i] = right[1] - left[1];
        this.alongM[i] = Math.hypot(fx - near[0], fy - near[1]);
        this.acrossM[i] = Math.hypot(right[0] - left[0], right[1] - left[1]);
        this.valid[i] = 1;
        count++;
      }
    }
    this.validCount = count;
    this.pitchRad = pitchRad;
    this.builds++;
  }
}
