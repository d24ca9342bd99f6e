/**
 * GNSS position error for one drive, as a consumer-grade receiver in a city shows it:
 *
 * - bias: constant for the whole drive, N(0, biasSigmaM) per axis (east, north). It is what
 *   averaging many passes of ONE drive cannot remove, so `biasEastM`/`biasNorthM` are exposed
 *   for the evaluation's statistical floor;
 * - drift: first-order Gauss-Markov per axis (steady-state sigma driftSigmaM, correlation time
 *   driftTauS): tens of centimetres wandering over minutes;
 * - white noise per fix, noiseSigmaM per axis;
 * - multipath: events at multipathPerMin (Poisson), each a jump of multipathJumpM in a random
 *   direction lasting multipathDurationS; the receiver's reported accuracy only partly reflects it;
 * - outages: events at outagesPerMin lasting outageDurationS: `fixType: 'none'`;
 * - course over ground: true yaw plus N(0, courseSigmaRad); unknown (NaN) below 1 m/s.
 *
 * Events are drawn once for the drive's duration (deterministic from the Rng). `sample(tS)`
 * must be called with non-decreasing times (the drift is a running process).
 */
import type { Rng } from './rng.ts';

export interface GnssErrorOptions {
  /** Per-drive constant bias, 1-sigma per axis, metres. */
  biasSigmaM: number;
  /** Gauss-Markov drift, steady-state 1-sigma per axis, metres. */
  driftSigmaM: number;
  /** Gauss-Markov drift correlation time, seconds. */
  driftTauS: number;
  /** White noise per fix, 1-sigma per axis, metres. */
  noiseSigmaM: number;
  /** Multipath events per minute (Poisson rate). */
  multipathPerMin: number;
  /** Multipath jump size, metres (uniform in range). */
  multipathJumpM: [number, number];
  /** Multipath duration, seconds (uniform in range). */
  multipathDurationS: [number, number];
  /** Outages per minute (Poisson rate). */
  outagesPerMin: number;
  /** Outage duration, seconds (uniform in range). */
  outageDurationS: [number, number];
  /** Course-over-ground noise, 1-sigma, radians. */
  courseSigmaRad: number;
  /** Horizontal accuracy the receiver reports in normal conditions, metres (1-sigma). */
  reportedAccuracyM: number;
}

export const DEFAULT_GNSS_ERROR_OPTIONS: GnssErrorOptions = {
  biasSigmaM: 1.0, // m per axis
  driftSigmaM: 0.3, // m per axis
  driftTauS: 180, // s
  noiseSigmaM: 0.15, // m per axis
  multipathPerMin: 0.5, // events per minute
  multipathJumpM: [3, 8], // m
  multipathDurationS: [2, 8], // s
  outagesPerMin: 0.25, // events per minute
  outageDurationS: [2, 6], // s
  courseSigmaRad: 0.02, // rad
  reportedAccuracyM: 1.5, // m
};

/**
 * A survey-grade receiver (RTK fixed solution): centimetres of error, no multipath jumps, no
 * outages; it reports 3 cm, which an edge started with `--gnss-min-sigma-m` below that declares
 * as its pose sigma, so the merge takes its drives as anchors (cloud/merge options
 * `anchorMaxSigmaM`). The demo's `--rtk-vehicles` drives with it.
 */
export const RTK_GNSS_ERROR_OPTIONS: GnssErrorOptions = {
  biasSigmaM: 0.02, // m per axis
  driftSigmaM: 0.01, // m per axis
  driftTauS: 60, // s
  noiseSigmaM: 0.01, // m per axis
  multipathPerMin: 0, // events per minute
  multipathJumpM: [0, 0], // m
  multipathDurationS: [0, 0], // s
  outagesPerMin: 0, // events per minute
  outageDurationS: [0, 0], // s
  courseSigmaRad: 0.005, // rad
  reportedAccuracyM: 0.03, // m
};

/**
 * What a vehicle with that receiver gives its daemon as `--gnss-min-sigma-m`, metres: below the
 * 3 cm it reports, so the daemon's pose sigma follows the receiver (the default floor, 0.3 m, is
 * for consumer receivers that report too little).
 */
export const RTK_EDGE_MIN_GNSS_SIGMA_M = 0.02;

export interface GnssEvent {
  kind: 'multipath' | 'outage';
  startS: number;
  endS: number;
  /** Multipath only: jump in metres, east and north. */
  eastM: number;
  northM: number;
}

export interface GnssErrorSample {
  /** Position error to ADD to the truth, metres east / north. Zero during an outage. */
  eastErrM: number;
  northErrM: number;
  fixType: 'none' | '3d';
  /** What the receiver reports as its 1-sigma horizontal accuracy, metres (NaN without fix). */
  horizontalAccuracyM: number;
  /** Course error to add to the true yaw, radians. */
  courseErrRad: number;
  /** True while a multipath jump is active (for evaluation; a receiver does not know it). */
  multipath: boolean;
}

export class GnssErrorModel {
  readonly options: GnssErrorOptions;
  /** The constant per-drive bias, metres. */
  readonly biasEastM: number;
  readonly biasNorthM: number;
  readonly events: readonly GnssEvent[];
  private readonly rng: Rng;
  private driftE: number;
  private driftN: number;
  private lastS = Number.NaN;

  constructor(rng: Rng, durationS: number, options: Partial<GnssErrorOptions> = {}) {
    const o = { ...DEFAULT_GNSS_ERROR_OPTIONS, ...options };
    validate(o);
    if (!(durationS >= 0)) throw new RangeError(`durationS must be >= 0 seconds, got ${durationS}`);
    this.options = o;
    this.rng = rng.fork('gnss-noise');
    const setup = rng.fork('gnss-setup');
    this.biasEastM = setup.normal(0, o.biasSigmaM);
    this.biasNorthM = setup.normal(0, o.biasSigmaM);
    this.driftE = setup.normal(0, o.driftSigmaM);
    this.driftN = setup.normal(0, o.driftSigmaM);
    const events: GnssEvent[] = [];
    for (let t = setup.exponential(o.multipathPerMin / 60); t < durationS; t += setup.exponential(o.multipathPerMin / 60)) {
      const len = setup.uniform(o.multipathDurationS[0], o.multipathDurationS[1]);
      const jump = setup.uniform(o.multipathJumpM[0], o.multipathJumpM[1]);
      const dir = setup.uniform(0, 2 * Math.PI);
      events.push({ kind: 'multipath', startS: t, endS: t + len, eastM: jump * Math.cos(dir), northM: jump * Math.sin(dir) });
      t += len;
    }
    for (let t = setup.exponential(o.outagesPerMin / 60); t < durationS; t += setup.exponential(o.outagesPerMin / 60)) {
      const len = setup.uniform(o.outageDurationS[0], o.outageDurationS[1]);
      events.push({ kind: 'outage', startS: t, endS: t + len, eastM: 0, northM: 0 });
      t += len;
    }
    events.sort((a, b) => a.startS - b.startS);
    this.events = events;
  }

  /** The error at `tS` seconds into the drive (non-decreasing across calls). */
  sample(tS: number, speedMps: number): GnssErrorSample {
    if (tS < this.lastS) throw new RangeError(`GnssErrorModel.sample: time went backwards (${tS} s after ${this.lastS} s)`);
    const o = this.options;
    if (!Number.isNaN(this.lastS) && tS > this.lastS) {
      const phi = Math.exp(-(tS - this.lastS) / o.driftTauS);
      const q = o.driftSigmaM * Math.sqrt(1 - phi * phi);
      this.driftE = phi * this.driftE + this.rng.normal(0, q);
      this.driftN = phi * this.driftN + this.rng.normal(0, q);
    }
    this.lastS = tS;
    const noiseE = this.rng.normal(0, o.noiseSigmaM);
    const noiseN = this.rng.normal(0, o.noiseSigmaM);
    const courseErrRad = speedMps >= 1 ? this.rng.normal(0, o.courseSigmaRad) : Number.NaN;
    let outage = false;
    let mpE = 0;
    let mpN = 0;
    for (const ev of this.events) {
      if (ev.startS > tS) break;
      if (tS >= ev.endS) continue;
      if (ev.kind === 'outage') outage = true;
      else {
        mpE += ev.eastM;
        mpN += ev.northM;
      }
    }
    if (outage) {
      return { eastErrM: 0, northErrM: 0, fixType: 'none', horizontalAccuracyM: Number.NaN, courseErrRad: Number.NaN, multipath: false };
    }
    const multipath = mpE !== 0 || mpN !== 0;
    return {
      eastErrM: this.biasEastM + this.driftE + noiseE + mpE,
      northErrM: this.biasNorthM + this.driftN + noiseN + mpN,
      fixType: '3d',
      // The receiver notices multipath only partly: it inflates its estimate by a third of the jump.
      horizontalAccuracyM: o.reportedAccuracyM + (multipath ? Math.hypot(mpE, mpN) / 3 : 0),
      courseErrRad,
      multipath,
    };
  }
}

function validate(o: GnssErrorOptions): void {
  for (const key of ['biasSigmaM', 'driftSigmaM', 'noiseSigmaM', 'multipathPerMin', 'outagesPerMin', 'courseSigmaRad'] as const) {
    if (!(o[key] >= 0)) throw new RangeError(`${key} must be >= 0, got ${o[key]}`);
  }
  if (!(o.driftTauS > 0)) throw new RangeError(`driftTauS must be > 0 seconds, got ${o.driftTauS}`);
  if (!(o.reportedAccuracyM > 0)) throw new RangeError(`reportedAccuracyM must be > 0 metres, got ${o.reportedAccuracyM}`);
  for (const key of ['multipathJumpM', 'multipathDurationS', 'outageDurationS'] as const) {
    const [lo, hi] = o[key];
    if (!(lo >= 0 && hi >= lo)) throw new RangeError(`${key} must be [lo, hi] with 0 <= lo <= hi, got [${lo}, ${hi}]`);
  }
}
