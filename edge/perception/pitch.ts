/**
 * Vehicle pitch (radians, nose down positive, ISO 8855) from the IMU pitch rate: integrated, with
 * a leak back to zero (the suspension returns the body to level; the leak also bounds the drift
 * of an integrated rate with a bias). Pure: time comes from the samples' `tMonoNs`.
 *
 *   pitch(t + dt) = pitch(t) * exp(-dt / timeConstantS) + pitchRateRps * dt
 */
export interface PitchOptions {
  /** Leak time constant, seconds. */
  timeConstantS: number;
  /** A gap between samples longer than this resets the pitch to 0 (stale), seconds. */
  maxGapS: number;
  /** The estimate is clamped to +-maxAbsRad, radians. */
  maxAbsRad: number;
}

export const DEFAULT_PITCH_OPTIONS: PitchOptions = {
  timeConstantS: 1.5, // s
  maxGapS: 1, // s
  maxAbsRad: 0.15, // rad
};

export class PitchEstimator {
  readonly options: PitchOptions;
  private pitch = 0;
  private lastNs: number | undefined;

  constructor(options: Partial<PitchOptions> = {}) {
    this.options = { ...DEFAULT_PITCH_OPTIONS, ...options };
    const o = this.options;
    if (!(o.timeConstantS > 0)) throw new RangeError(`pitch.timeConstantS must be > 0 s, got ${o.timeConstantS}`);
    if (!(o.maxGapS > 0)) throw new RangeError(`pitch.maxGapS must be > 0 s, got ${o.maxGapS}`);
    if (!(o.maxAbsRad > 0)) throw new RangeError(`pitch.maxAbsRad must be > 0 rad, got ${o.maxAbsRad}`);
  }

  /** One vehicle-signals sample; a missing `pitchRateRps` (older gateways) counts as 0. */
  update(tMonoNs: number, pitchRateRps: number | undefined): void {
    const rate = pitchRateRps !== undefined && Number.isFinite(pitchRateRps) ? pitchRateRps : 0;
    if (this.lastNs === undefined || tMonoNs < this.lastNs) {
      this.lastNs = tMonoNs;
      return;
    }
    const dtS = (tMonoNs - this.lastNs) / 1e9;
    this.lastNs = tMonoNs;
    if (dtS > this.options.maxGapS) {
      this.pitch = 0;
      return;
    }
    const p = this.pitch * Math.exp(-dtS / this.options.timeConstantS) + rate * dtS;
    const m = this.options.maxAbsRad;
    this.pitch = p > m ? m : p < -m ? -m : p;
  }

  /** The estimate at `tMonoNs` (decayed from the last sample when later), radians. */
  pitchRad(tMonoNs?: number): number {
    if (tMonoNs === undefined || this.lastNs === undefined || tMonoNs <= this.lastNs) return this.pitch;
    const dtS = (tMonoNs - this.lastNs) / 1e9;
    if (dtS > this.options.maxGapS) return 0;
    return this.pitch * Math.exp(-dtS / this.options.timeConstantS);
  }

  reset(): void {
    this.pitch = 0;
    this.lastNs = undefined;
  }
}
