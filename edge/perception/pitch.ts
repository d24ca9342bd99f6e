/**
 * Vehicle pitch (radians, nose down positive, ISO 8855) from the IMU pitch rate and the wheel
 * speed. Pure: time comes from the samples' `tMonoNs`.
 *
 * The pitch rate, integrated, gives the pitch's changes; alone it drifts (gyro bias, sampling),
 * so the estimate leaks, with `timeConstantS`, towards a slow reference:
 *
 *   pitch(t + dt) = ref + (pitch(t) - ref) * exp(-dt / timeConstantS) + (pitchRateRps - bias - road) * dt
 *
 * The gyro turns with the road as well as with the body: over a crest of vertical curvature k
 * at speed v it reads -v k (nose down positive) for as long as the crest lasts, about 7 mrad/s
 * at 10 m/s and k = -0.0007 /m, which the leak alone would hold as a pitch of rate x
 * timeConstantS (10 mrad). `road` is that part: the rate beyond the bias and the reference's own
 * changes, low-passed with `roadRateTimeConstantS`, so what lasts longer than a suspension's
 * transient is not taken for the body's pitch. Tuned against the simulator's hills
 * (sim/terrain.ts, its gyro reading the road's turning; docs/MEASUREMENTS.md section
 * 1.000000000000000000): the edge's pitch error rms 6.6 -> 1.8 mrad there, 1.42 -> 1.20 on
 * flat roads.
 *
 * A car's body pitches in proportion to its longitudinal deceleration (the suspension: braking
 * dips the nose for as long as the car brakes, a few tenths of a degree), so the reference is
 * `gain * deceleration`, the deceleration from the wheel speed (low-passed with
 * `accelTimeConstantS`). The gain and the gyro's bias are the vehicle's own, learned while it
 * drives: over each span of `gainLagS` the integrated rate changes by gain * (change of
 * deceleration) + bias * span, fitted by least squares with a memory of `gainWindowS`. Until
 * the decelerations vary enough (`minDecelVarMps2Sq`), and without a wheel speed, the reference
 * is 0: the estimate leaks back to level, which holds for short pitch transients but loses most
 * of a sustained braking's pitch (its flat-ground range error puts a stop line metres ahead
 * tenths of a metre too near).
 */
export interface PitchOptions {
  /** Leak time constant towards the reference, seconds. */
  timeConstantS: number;
  /** A gap between samples longer than this resets the pitch to 0 (stale), seconds. */
  maxGapS: number;
  /** The estimate is clamped to +-maxAbsRad, radians. */
  maxAbsRad: number;
  /**
   * Low-pass time constant of the deceleration taken from the wheel speed, seconds: it smooths the
   * speed's derivative (wheel-speed noise); the fast part of the pitch comes from the gyro, so the
   * reference may lag. Measured against the simulator's pitch, its gyro with a bias and noise
   * (docs/MEASUREMENTS.md section 1.0000000000000000): 0.15 / 0.3 / 0.5 / 0.8 s give all-frame
   * rms errors of 1.36 / 1.28 / 1.29 / 1.43 mrad.
   */
  accelTimeConstantS: number;
  /** Span over which the pitch change is fitted against the deceleration change, seconds. */
  gainLagS: number;
  /** Memory (exponential forgetting) of that fit, seconds. */
  gainWindowS: number;
  /** The fitted gain is used once the deceleration changes vary by at least this, (m/s^2)^2. */
  minDecelVarMps2Sq: number;
  /** The fitted gain is clamped to [0, maxGainRadPerMps2], radians per m/s^2. */
  maxGainRadPerMps2: number;
  /**
   * Low-pass time constant of the road's own pitch rate, seconds: what the gyro reads beyond the
   * bias and the reference's changes, held for longer than a suspension's transient, is the road
   * turning under the car (a crest, a dip: -speed x vertical curvature), not the body on its
   * springs; it is taken out before the integration.
   */
  roadRateTimeConstantS: number;
}

export const DEFAULT_PITCH_OPTIONS: PitchOptions = {
  timeConstantS: 1.5, // s
  maxGapS: 1, // s
  maxAbsRad: 0.15, // rad
  accelTimeConstantS: 0.5, // s
  gainLagS: 2, // s
  gainWindowS: 120, // s
  minDecelVarMps2Sq: 0.05, // (m/s^2)^2
  maxGainRadPerMps2: 0.02, // rad per m/s^2 (about 1.1 degrees per m/s^2: far beyond any car)
  roadRateTimeConstantS: 0.5, // s
};

/** Samples kept so that a frame older than the newest signals gets the pitch of its own time. */
const PITCH_HISTORY = 128;
/** Samples of the gain fit per gainLagS (whatever the signal rate), and how many are kept. */
const LAG_STEPS = 16;
const LAG_HISTORY = 2 * LAG_STEPS;

export class PitchEstimator {
  readonly options: PitchOptions;
  private pitch = 0;
  private lastNs: number | undefined;
  /** Ring of the last PITCH_HISTORY (time, pitch, reference) samples, oldest overwritten. */
  private readonly histNs = new Float64Array(PITCH_HISTORY);
  private readonly histPitch = new Float64Array(PITCH_HISTORY);
  private readonly histRef = new Float64Array(PITCH_HISTORY);
  private histCount = 0;
  private histNext = 0;
  /** Deceleration (low-passed wheel-speed derivative), m/s^2, positive braking; NaN before two speeds. */
  private decel = Number.NaN;
  private lastSpeedMps = Number.NaN;
  /** The integrated pitch rate since the start (drifts; only its changes are used). */
  private integratedRad = 0;
  /** Ring of (time, integrated rate, deceleration) for the gain fit's lag. */
  private readonly lagNs = new Float64Array(LAG_HISTORY);
  private readonly lagInt = new Float64Array(LAG_HISTORY);
  private readonly lagDecel = new Float64Array(LAG_HISTORY);
  private lagCount = 0;
  private lagNext = 0;
  /** Forgetting sums of the fit dP = gain * dA + bias * dT (A deceleration, P integrated rate). */
  private sW = 0;
  private sAA = 0;
  private sAT = 0;
  private sTT = 0;
  private sAP = 0;
  private sTP = 0;
  private gain = 0;
  private bias = 0;
  /** The road's pitch rate under the car (low-passed residual), rad/s, nose down positive. */
  private roadRate = 0;
  private lastRef = Number.NaN;

  constructor(options: Partial<PitchOptions> = {}) {
    this.options = { ...DEFAULT_PITCH_OPTIONS, ...options };
    const o = this.options;
    for (const k of ['timeConstantS', 'maxGapS', 'maxAbsRad', 'accelTimeConstantS', 'gainLagS', 'gainWindowS', 'minDecelVarMps2Sq', 'maxGainRadPerMps2', 'roadRateTimeConstantS'] as const) {
      if (!(o[k] > 0) || !Number.isFinite(o[k])) throw new RangeError(`pitch.${k} must be a finite number > 0, got ${o[k]}`);
    }
  }

  /** The learned pitch per m/s^2 of deceleration, radians (0 until the fit is good enough). */
  get gainRadPerMps2(): number {
    return this.gain;
  }

  /** The road's own pitch rate under the car now, rad/s, nose down positive (-speed x vertical curvature). */
  get roadPitchRateRps(): number {
    return this.roadRate;
  }

  /** The learned pitch-rate bias, rad/s (0 until the fit is good enough). */
  get rateBiasRps(): number {
    return this.bias;
  }

  /**
   * One vehicle-signals sample; a missing `pitchRateRps` (older gateways) counts as 0, a missing
   * `speedMps` leaves the reference at level.
   */
  update(tMonoNs: number, pitchRateRps: number | undefined, speedMps?: number): void {
    const rate = pitchRateRps !== undefined && Number.isFinite(pitchRateRps) ? pitchRateRps : 0;
    const speed = speedMps !== undefined && Number.isFinite(speedMps) ? speedMps : Number.NaN;
    const o = this.options;
    if (this.lastNs === undefined || tMonoNs < this.lastNs) {
      // The first sample, or the clock restarted: the kept samples belong to another clock.
      this.restart();
    } else {
      const dtS = (tMonoNs - this.lastNs) / 1e9;
      if (dtS > o.maxGapS) {
        this.pitch = 0;
        this.forgetMotion();
      } else if (dtS > 0) {
        this.updateDecel(speed, dtS);
        this.integratedRad += rate * dtS;
        this.fitGain(tMonoNs);
        const ref = this.reference();
        const refRate = Number.isFinite(this.lastRef) ? (ref - this.lastRef) / dtS : 0;
        this.lastRef = ref;
        this.roadRate += (rate - this.bias - refRate - this.roadRate) * (1 - Math.exp(-dtS / o.roadRateTimeConstantS));
        const p = ref + (this.pitch - ref) * Math.exp(-dtS / o.timeConstantS) + (rate - this.bias - this.roadRate) * dtS;
        this.pitch = p > o.maxAbsRad ? o.maxAbsRad : p < -o.maxAbsRad ? -o.maxAbsRad : p;
      }
    }
    if (Number.isFinite(speed)) this.lastSpeedMps = speed;
    this.lastNs = tMonoNs;
    this.histNs[this.histNext] = tMonoNs;
    this.histPitch[this.histNext] = this.pitch;
    this.histRef[this.histNext] = this.reference();
    this.histNext = (this.histNext + 1) % PITCH_HISTORY;
    this.histCount = Math.min(PITCH_HISTORY, this.histCount + 1);
  }

  /**
   * The estimate at `tMonoNs`, radians: from the newest sample at or before it, leaking towards
   * that sample's reference (a frame processed after later signals came gets the pitch of its
   * own time, not theirs: the answer does not depend on how far the intake ran ahead); the
   * oldest kept sample's for a time before all of them.
   */
  pitchRad(tMonoNs?: number): number {
    if (tMonoNs === undefined || this.lastNs === undefined) return this.pitch;
    let sampleNs = this.lastNs;
    let pitch = this.pitch;
    let ref = this.reference();
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
      ref = this.histRef[j]!;
      if (tMonoNs <= sampleNs) return pitch;
    }
    const dtS = (tMonoNs - sampleNs) / 1e9;
    if (dtS > this.options.maxGapS) return 0;
    return ref + (pitch - ref) * Math.exp(-dtS / this.options.timeConstantS);
  }

  reset(): void {
    this.lastNs = undefined;
    this.restart();
  }

  private restart(): void {
    this.pitch = 0;
    this.histCount = 0;
    this.histNext = 0;
    this.forgetMotion();
    // The learned gain and bias are the vehicle's: they survive a restarted clock.
  }

  /** After a gap or a restarted clock: no deceleration until two speeds, no span for the fit. */
  private forgetMotion(): void {
    this.roadRate = 0;
    this.lastRef = Number.NaN;
    this.decel = Number.NaN;
    this.lastSpeedMps = Number.NaN;
    this.lagCount = 0;
    this.lagNext = 0;
  }

  /** The slow reference the estimate leaks towards: gain * deceleration, or level. */
  private reference(): number {
    return this.gain > 0 && Number.isFinite(this.decel) ? this.gain * this.decel : 0;
  }

  private updateDecel(speed: number, dtS: number): void {
    if (!Number.isFinite(speed) || !Number.isFinite(this.lastSpeedMps)) return;
    const raw = -(speed - this.lastSpeedMps) / dtS;
    this.decel = Number.isFinite(this.decel) ? this.decel + (raw - this.decel) * (1 - Math.exp(-dtS / this.options.accelTimeConstantS)) : raw;
  }

  /**
   * Every gainLagS / LAG_STEPS: adds the span ending now (to the newest kept sample at least
   * gainLagS back) to the gain fit and refits.
   */
  private fitGain(tMonoNs: number): void {
    if (!Number.isFinite(this.decel)) return;
    const o = this.options;
    const stepNs = (o.gainLagS * 1e9) / LAG_STEPS;
    const prevNs = this.lagCount > 0 ? this.lagNs[(this.lagNext - 1 + LAG_HISTORY) % LAG_HISTORY]! : Number.NEGATIVE_INFINITY;
    if (tMonoNs - prevNs < stepNs) return;
    this.lagNs[this.lagNext] = tMonoNs;
    this.lagInt[this.lagNext] = this.integratedRad;
    this.lagDecel[this.lagNext] = this.decel;
    this.lagNext = (this.lagNext + 1) % LAG_HISTORY;
    this.lagCount = Math.min(LAG_HISTORY, this.lagCount + 1);
    // The newest sample at least gainLagS old (samples come in time order).
    const lagNs = o.gainLagS * 1e9;
    let j = -1;
    for (let k = 1; k < this.lagCount; k++) {
      const i = (this.lagNext - 1 - k + LAG_HISTORY) % LAG_HISTORY;
      if (tMonoNs - this.lagNs[i]! >= lagNs) {
        j = i;
        break;
      }
    }
    if (j < 0) return;
    const dT = (tMonoNs - this.lagNs[j]!) / 1e9;
    const dA = this.decel - this.lagDecel[j]!;
    const dP = this.integratedRad - this.lagInt[j]!;
    const f = Math.exp(-(tMonoNs - prevNs) / 1e9 / o.gainWindowS);
    this.sW = this.sW * f + 1;
    this.sAA = this.sAA * f + dA * dA;
    this.sAT = this.sAT * f + dA * dT;
    this.sTT = this.sTT * f + dT * dT;
    this.sAP = this.sAP * f + dA * dP;
    this.sTP = this.sTP * f + dT * dP;
    // dP = gain * dA + bias * dT: the 2x2 normal equations. The deceleration changes must vary
    // apart from what the span explains (a car cruising teaches nothing about its suspension).
    const det = this.sAA * this.sTT - this.sAT * this.sAT;
    if (!(this.sTT > 0) || det / this.sTT < o.minDecelVarMps2Sq * this.sW) return;
    const gain = (this.sAP * this.sTT - this.sTP * this.sAT) / det;
    const bias = (this.sTP * this.sAA - this.sAP * this.sAT) / det;
    this.gain = gain > o.maxGainRadPerMps2 ? o.maxGainRadPerMps2 : gain > 0 ? gain : 0;
    this.bias = Number.isFinite(bias) ? bias : 0;
  }
}
