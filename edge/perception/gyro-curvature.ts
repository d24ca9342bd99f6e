/**
 * The road's vertical curvature at the car, from the pitch gyro: over a crest or through a dip
 * the car turns with the road, and the part of the gyro's rate that lasts beyond the body's
 * suspension transients (`PitchEstimator.roadPitchRateRps`, nose down positive) is -v k at
 * speed v. So k = -rate / v, smoothed over `smoothM` of travel (the gyro's noise).
 *
 * The slow part of it cannot be told from a gyro bias (the pitch estimate learns its bias over
 * minutes of driving and takes a region's lasting tilt of the rate with it), so what this gives
 * is the fast part only: the curvature's deviation from its mean over the last `memoryM` of
 * travel. The camera's parallax estimate (slope.ts) holds the slow part well and the fast part
 * poorly; the edge adds the two (CameraPerception with `slope` on).
 *
 * Pure: samples in, estimate out; time from the samples' `tMonoNs`.
 */

export interface GyroCurvatureOptions {
  /** Travel over which k = -rate / v is smoothed, metres. */
  smoothM: number;
  /** Travel over which its mean is taken (and removed), metres. */
  memoryM: number;
  /** Below this speed nothing is learned (standing, creeping: -rate / v is noise), m/s. */
  minSpeedMps: number;
  /** The deviation is clamped to +-this, 1/m. */
  maxAbsPerM: number;
}

/**
 * Tuned on the simulator's hills (sim/terrain.ts, the demo's fleet of seed 7; docs/
 * MEASUREMENTS.md section 1.000000000000000000): smoothing 5 / 10 / 20 m with a 50 m memory and
 * 10 m with 100 m gave per-frame errors of 0.46 / 0.44 / 0.43 / 0.46 e-3 /m rms beside the
 * parallax estimate (alone 0.66 e-3, the hills' own 0.80 e-3).
 */
export const DEFAULT_GYRO_CURVATURE_OPTIONS: GyroCurvatureOptions = {
  smoothM: 10, // m
  memoryM: 50, // m
  minSpeedMps: 2, // m/s
  maxAbsPerM: 0.004, // 1/m
};

export class GyroCurvature {
  readonly options: GyroCurvatureOptions;
  private lastNs: number | undefined;
  private curvaturePerM = 0;
  private meanPerM = 0;

  constructor(options: Partial<GyroCurvatureOptions> = {}) {
    this.options = { ...DEFAULT_GYRO_CURVATURE_OPTIONS, ...options };
    for (const k of ['smoothM', 'memoryM', 'minSpeedMps', 'maxAbsPerM'] as const) {
      const v = this.options[k];
      if (!(Number.isFinite(v) && v > 0)) throw new RangeError(`gyroCurvature.${k} must be a finite number > 0, got ${v}`);
    }
  }

  /** One vehicle-signals sample: the road's pitch rate (rad/s, nose down positive) and the speed. */
  update(tMonoNs: number, speedMps: number | undefined, roadPitchRateRps: number): void {
    const last = this.lastNs;
    this.lastNs = tMonoNs;
    if (last === undefined || !(tMonoNs > last)) return;
    const o = this.options;
    if (speedMps === undefined || !Number.isFinite(speedMps) || speedMps < o.minSpeedMps || !Number.isFinite(roadPitchRateRps)) return;
    const travelM = (speedMps * (tMonoNs - last)) / 1e9;
    const k = -roadPitchRateRps / speedMps;
    this.curvaturePerM += (k - this.curvaturePerM) * (1 - Math.exp(-travelM / o.smoothM));
    this.meanPerM += (this.curvaturePerM - this.meanPerM) * (1 - Math.exp(-travelM / o.memoryM));
  }

  /** The road's curvature at the car less its recent mean, 1/m (positive: a dip coming up). */
  get deviationPerM(): number {
    const d = this.curvaturePerM - this.meanPerM;
    const m = this.options.maxAbsPerM;
    return d > m ? m : d < -m ? -m : d;
  }

  /** Forget everything (a new drive). */
  reset(): void {
    this.lastNs = undefined;
    this.curvaturePerM = 0;
    this.meanPerM = 0;
  }
}
