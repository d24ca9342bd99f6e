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

/** Samples kept so that a frame older than the newest signals gets the pitch of its own time. */
const PITCH_HISTORY = 128;

export class PitchEstimator {
  readonly options: PitchOptions;
  private pitch = 0;
  private lastNs: number | undefined;
  /** Ring of the last PITCH_HISTORY (time, pitch) samples, oldest overwritten. */
  private readonly histNs = new Float64Array(PITCH_HISTORY);
  private readonly histPitch = new Float64Array(PITCH_HISTORY);
  private histCount = 0;
  private histNext = 0;

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
      // The first sample, or the clock restarted: the kept samples belong to another clock.
      this.histCount = 0;
      this.histNext = 0;
    } else {
      const dtS = (tMonoNs - this.lastNs) / 1e9;
      if (dtS > this.options.maxGapS) {
        this.pitch = 0;
      } else {
        const p = this.pitch * Math.exp(-dtS / this.options.timeConstantS) + rate * dtS;
        const m = this.options.maxAbsRad;
        this.pitch = p > m ? m : p < -m ? -m : p;
      }
    }
    this.lastNs = tMonoNs;
    this.histNs[this.histNext] = tMonoNs;
    this.histPitch[this.histNext] = this.pitch;
    this.histNext = (this.histNext + 1) % PITCH_HISTORY;
    this.histCount = Math.min(PITCH_HISTORY, this.histCount + 1);
  }

  /**
   * The estimate at `tMonoNs`, radians: decayed from the newest sample at or before it (a frame
   * processed after later signals came gets the pitch of its own time, not theirs: the answer does
   * not depend on how far the intake ran ahead); the oldest kept sample's for a time before all of them.
   */
  pitchRad(tMonoNs?: number): number {
    if (tMonoNs === undefined || this.lastNs === undefined) return this.pitch;
    let sampleNs = this.lastNs;
    let pitch = this.pitch;
    if (tMonoNs < this.lastNs) {
      // Newest kept sample at or before tMonoNs (a few steps back: frames lag the signals briefly).
      let k = 1;
      for (; k < this.histCount; k++) {
        const j = (this.histNext - 1 - k + PITCH_HISTORY) % PITCH_HISTORY;
        if (this.histNs[j]! <= tMonoNs) break;
      }
      const j = (this.histNext - 1 - Math.min(k, this.histCount - 1) + PITCH_HISTORY) % PITCH_HISTORY;
      sampleNs = this.histNs[j]!;
      pitch = this.histPitch[j]!;
      if (tMonoNs <= sampleNs) return pitch;
    }
    const dtS = (tMonoNs - sampleNs) / 1e9;
    if (dtS > this.options.maxGapS) return 0;
    return pitch * Math.exp(-dtS / this.options.timeConstantS);
  }

  reset(): void {
    this.pitch = 0;
    this.lastNs = undefined;
    this.histCount = 0;
    this.histNext = 0;
  }
}
