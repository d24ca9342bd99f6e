/**
 * Vehicle pitch from the longitudinal acceleration: braking dips the nose (positive), a first-
 * order lag stands for the suspension. About 1 degree at 0.5 g.
 */

export interface PitchModelOptions {
  /** Steady-state pitch per m/s^2 of deceleration, radians. */
  radPerMps2: number;
  /** Time constant of the suspension, seconds. */
  lagS: number;
  /** Integration step, seconds. */
  stepS: number;
}

export const DEFAULT_PITCH_MODEL: PitchModelOptions = {
  radPerMps2: (1 * Math.PI) / 180 / (0.5 * 9.81), // rad per m/s^2 (1 deg at 0.5 g)
  lagS: 0.3, // s
  stepS: 0.01, // s
};

/** Pitch (rad, nose down positive) and pitch rate (rad/s) over a drive, sampled on a grid. */
export class PitchTrack {
  private readonly pitch: Float64Array;
  private readonly stepS: number;

  /** `accelAt(tS)` is the longitudinal acceleration, m/s^2 (negative = braking). */
  constructor(durationS: number, accelAt: (tS: number) => number, options: Partial<PitchModelOptions> = {}) {
    const o = { ...DEFAULT_PITCH_MODEL, ...options };
    if (!(o.stepS > 0)) throw new RangeError(`stepS must be > 0 s, got ${o.stepS}`);
    if (!(o.lagS > 0)) throw new RangeError(`lagS must be > 0 s, got ${o.lagS}`);
    if (!(durationS >= 0)) throw new RangeError(`durationS must be >= 0 s, got ${durationS}`);
    this.stepS = o.stepS;
    const n = Math.ceil(durationS / o.stepS) + 2;
    this.pitch = new Float64Array(n);
    const f = 1 - Math.exp(-o.stepS / o.lagS);
    for (let i = 1; i < n; i++) {
      const target = -o.radPerMps2 * accelAt((i - 0.5) * o.stepS);
      this.pitch[i] = this.pitch[i - 1]! + (target - this.pitch[i - 1]!) * f;
    }
  }

  pitchRadAt(tS: number): number {
    const x = Math.min(Math.max(tS / this.stepS, 0), this.pitch.length - 1.000001);
    const i = Math.floor(x);
    return this.pitch[i]! + (this.pitch[i + 1]! - this.pitch[i]!) * (x - i);
  }

  pitchRateRpsAt(tS: number): number {
    const x = Math.min(Math.max(tS / this.stepS, 0), this.pitch.length - 1.000001);
    const i = Math.floor(x);
    return (this.pitch[i + 1]! - this.pitch[i]!) / this.stepS;
  }
}
