/**
 * A small pose estimator: GNSS fixes fused with wheel speed and yaw rate.
 *
 * State, in a local east-north frame (metres) whose origin is the first fix of the drive:
 * position (eastM, northM), heading (rad, CCW from east), a 1-sigma horizontal position
 * uncertainty sigmaM and a 1-sigma heading uncertainty.
 *
 * - Predict (every VehicleSignals): dead-reckon with the previous speed/yaw rate held over the
 *   interval (mid-point heading). sigmaM grows linearly with distance driven:
 *   d * (odometryErrorFrac + headingSigmaRad), and the heading sigma grows with gyro drift: a
 *   deliberately conservative model (errors while dead reckoning are correlated, not white).
 * - Update (every GNSS fix with a position): scalar Kalman update with the receiver's accuracy
 *   (floored at minGnssSigmaM) after an innovation gate: a fix further from the prediction than
 *   gateSigma * sqrt(sigmaM^2 + R^2) is rejected as multipath. If rejected fixes persist for
 *   reacquireAfterS and agree with each other (a consistent offset, i.e. it is our dead
 *   reckoning that drifted), the estimator re-acquires: position := fix, sigmaM := R.
 * - Standing still (wheel speed under stillSpeedMps) a car does not turn: the yaw rate it reports
 *   then is the gyro's bias, which is averaged (time constant gyroBiasTimeConstantS of standing)
 *   and taken off every yaw rate after; while standing the heading holds (a zero angular rate
 *   update). Without it the heading drifted by the bias for as long as the car stood at a stop
 *   line, where the GNSS course (below courseMinSpeedMps) cannot correct it.
 * - Heading: integrated yaw rate, pulled towards the GNSS course over ground by courseGain per
 *   accepted fix while moving faster than courseMinSpeedMps. Until a first course (a drive starts
 *   standing: no compass), or after long dead reckoning, the heading sigma exceeds
 *   maxHeadingSigmaRad: the heading is unknown, and poseAt says so (`no_heading`) instead of
 *   georeferencing what the car sees as if it faced east.
 * - fixType 'none' is an outage: nothing is updated, dead reckoning continues, sigmaM grows.
 *
 * poseAt(tMonoNs) looks back into a short history of states (perception frames arrive late): it
 * dead-reckons from the newest state at or before tMonoNs with the speed and yaw rate held there,
 * a little past the newest state at most. It never uses a state after tMonoNs, so its answer does
 * not depend on how far the intake has run ahead of perception: a replayed drive gives the same
 * poses on a busy machine and an idle one. (It used to interpolate towards the next state, which
 * after a GNSS update blends part of a later correction in, only when that state had arrived.)
 */
import { LocalFrame } from '../shared/index.ts';
import type { GnssFix, VehicleSignals } from '../shared/index.ts';

export interface PoseOptions {
  gateSigma: number; // innovation gate, in sigmas of the expected innovation
  reacquireAfterS: number; // seconds of consistently rejected fixes before we trust GNSS again
  odometryErrorFrac: number; // position sigma growth per metre driven (wheel-speed scale error)
  headingSigmaGrowthRps: number; // heading sigma growth while dead reckoning, radians per second
  minGnssSigmaM: number; // floor on the receiver's own accuracy estimate, metres
  courseMinSpeedMps: number; // below this GNSS course is noise
  courseGain: number; // fraction of the course-vs-heading difference corrected per fix, [0, 1]
  courseSigmaRad: number; // heading sigma after a course correction
  maxHeadingSigmaRad: number; // a heading less certain than this is unknown: poseAt gives no pose
  historyS: number; // how far back poseAt can look, seconds
  maxExtrapolationS: number; // how far past the newest state poseAt extrapolates, seconds
  maxOutOfOrderS: number; // a GNSS fix at most this much older than the state is applied now
  stillSpeedMps: number; // below this wheel speed the car stands: it does not turn, its yaw rate is gyro bias
  gyroBiasTimeConstantS: number; // standing time over which the gyro bias estimate averages, seconds
}

export const DEFAULT_POSE_OPTIONS: Readonly<PoseOptions> = {
  gateSigma: 4,
  reacquireAfterS: 5,
  odometryErrorFrac: 0.005,
  headingSigmaGrowthRps: 0.002,
  minGnssSigmaM: 0.3,
  courseMinSpeedMps: 2,
  courseGain: 0.2,
  courseSigmaRad: 0.01,
  maxHeadingSigmaRad: 0.5, // rad (about 29 degrees; 4 minutes of gyro drift after a course)
  historyS: 3,
  maxExtrapolationS: 0.5,
  maxOutOfOrderS: 0.2,
  stillSpeedMps: 0.05, // m/s
  gyroBiasTimeConstantS: 20, // s
};

export interface Pose {
  tMonoNs: number;
  eastM: number; // in `frame`
  northM: number;
  headingRad: number; // CCW from east
  sigmaM: number; // 1-sigma horizontal position uncertainty
  headingSigmaRad: number; // 1-sigma heading uncertainty (pi: unknown)
}

/** A recorded state: the pose and the vehicle signals held from then on. */
interface State extends Pose {
  speedMps: number;
  yawRateRps: number;
  /** tUnixMs - tMonoNs / 1e6 of the GNSS clock as known then. */
  unixOffsetMs: number | undefined;
}

export type GnssOutcome = 'init' | 'accepted' | 'rejected' | 'reacquired' | 'outage' | 'stale';
export type PoseLookup = { ok: true; pose: Pose; frame: LocalFrame } | { ok: false; reason: 'no_pose' | 'too_old' | 'too_new' | 'no_heading' };

export interface PoseCounters {
  fixesAccepted: number;
  fixesRejected: number;
  reacquisitions: number;
  outageFixes: number;
  staleMessages: number;
}

const NS_PER_S = 1e9;
const NS_PER_MS = 1e6;

export class PoseEstimator {
  readonly opts: Readonly<PoseOptions>;
  readonly counters: PoseCounters = { fixesAccepted: 0, fixesRejected: 0, reacquisitions: 0, outageFixes: 0, staleMessages: 0 };
  private frame: LocalFrame | null = null;
  private eastM = 0;
  private northM = 0;
  private headingRad = 0;
  private sigmaM = 0;
  private headingSigmaRad = Math.PI;
  private tNs = Number.NaN; // time of the state
  private speedMps = 0;
  private yawRateRps = 0; // the gyro's, less its estimated bias; 0 while standing
  /** Gyro bias estimate, rad/s (averaged while standing), and the standing time it rests on, seconds. */
  private gyroBiasRps = 0;
  private gyroBiasWeightS = 0;
  private lastSignalNs = Number.NaN;
  private unixOffsetMs: number | undefined; // tUnixMs - tMonoNs / 1e6, from the last fix
  private rejectSince: { tNs: number; dE: number; dN: number } | null = null;
  private history: State[] = [];

  constructor(opts: Partial<PoseOptions> = {}) {
    const o = { ...DEFAULT_POSE_OPTIONS, ...opts };
    for (const [k, v] of Object.entries(o)) {
      if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new RangeError(`PoseOptions.${k} must be a finite non-negative number, got ${v}`);
    }
    if (o.courseGain > 1) throw new RangeError(`PoseOptions.courseGain must be in [0, 1], got ${o.courseGain}`);
    this.opts = o;
  }

  get initialized(): boolean {
    return this.frame !== null;
  }

  /** Forget everything (a new drive: the car may have been moved while off). */
  reset(): void {
    this.frame = null;
    this.history = [];
    this.rejectSince = null;
    this.tNs = Number.NaN;
    this.headingSigmaRad = Math.PI;
    // A new drive may be another gyro temperature: its bias is learnt again when the car stands.
    this.gyroBiasRps = 0;
    this.gyroBiasWeightS = 0;
    this.lastSignalNs = Number.NaN;
  }

  /**
   * Unix ms for a monotonic time, from the GNSS clock (the offset of the newest state at or before
   * it, like poseAt: a later fix's offset does not leak in); undefined before the first fix.
   */
  unixMsAt(tMonoNs: number): number | undefined {
    const h = this.history;
    const at = h.length > 0 && tMonoNs >= h[0]!.tMonoNs ? h[this.indexAtOrBefore(tMonoNs)]!.unixOffsetMs : undefined;
    const offset = at ?? this.unixOffsetMs;
    return offset === undefined ? undefined : tMonoNs / NS_PER_MS + offset;
  }

  onVehicle(v: VehicleSignals): void {
    if (!this.initialized) {
      this.setSignals(v);
      return;
    }
    if (v.tMonoNs < this.tNs) {
      this.counters.staleMessages++;
      return;
    }
    this.propagate(v.tMonoNs);
    this.setSignals(v);
    this.record();
  }

  onGnss(f: GnssFix): GnssOutcome {
    if (f.fixType === 'none' || !Number.isFinite(f.lat) || !Number.isFinite(f.lng)) {
      this.counters.outageFixes++;
      return 'outage';
    }
    const r = Math.max(this.opts.minGnssSigmaM, Number.isFinite(f.horizontalAccuracyM) ? f.horizontalAccuracyM : 0);
    if (!this.frame) {
      this.frame = new LocalFrame({ lng: f.lng, lat: f.lat });
      this.eastM = 0;
      this.northM = 0;
      this.sigmaM = r;
      this.tNs = f.tMonoNs;
      if (Number.isFinite(f.courseRad) && Math.abs(this.speedMps) >= this.opts.courseMinSpeedMps) {
        this.headingRad = wrapPi(f.courseRad);
        this.headingSigmaRad = this.opts.courseSigmaRad;
      }
      this.unixOffsetMs = f.tUnixMs - f.tMonoNs / NS_PER_MS;
      this.history = [];
      this.record();
      this.counters.fixesAccepted++;
      return 'init';
    }
    if (f.tMonoNs < this.tNs - this.opts.maxOutOfOrderS * NS_PER_S) {
      this.counters.staleMessages++;
      return 'stale';
    }
    if (f.tMonoNs > this.tNs) this.propagate(f.tMonoNs);
    this.unixOffsetMs = f.tUnixMs - f.tMonoNs / NS_PER_MS;
    const [zE, zN] = this.frame.toLocal({ lng: f.lng, lat: f.lat });
    const dE = zE - this.eastM;
    const dN = zN - this.northM;
    const innovM = Math.hypot(dE, dN);
    const expectedM = Math.hypot(this.sigmaM, r);
    if (innovM > this.opts.gateSigma * expectedM) {
      this.counters.fixesRejected++;
      const rs = this.rejectSince;
      // Rejected fixes "persist" when they keep the same offset from our prediction.
      if (!rs || Math.hypot(dE - rs.dE, dN - rs.dN) > this.opts.gateSigma * expectedM) {
        this.rejectSince = { tNs: f.tMonoNs, dE, dN };
        return 'rejected';
      }
      if (f.tMonoNs - rs.tNs < this.opts.reacquireAfterS * NS_PER_S) return 'rejected';
      this.eastM = zE;
      this.northM = zN;
      this.sigmaM = r;
      this.rejectSince = null;
      this.correctHeading(f);
      this.record();
      this.counters.reacquisitions++;
      return 'reacquired';
    }
    this.rejectSince = null;
    const p = this.sigmaM * this.sigmaM;
    const k = p / (p + r * r);
    this.eastM += k * dE;
    this.northM += k * dN;
    this.sigmaM = Math.sqrt((1 - k) * p);
    this.correctHeading(f);
    this.record();
    this.counters.fixesAccepted++;
    return 'accepted';
  }

  /** The current (newest) pose, or undefined before the first fix. */
  current(): Pose | undefined {
    const s = this.history[this.history.length - 1];
    return s && poseOf(s);
  }

  /**
   * The pose at `tMonoNs`: dead-reckoned from the newest state at or before it (at most
   * maxExtrapolationS past the newest state); none where the heading is not known (`no_heading`:
   * before the drive's first GNSS course).
   */
  poseAt(tMonoNs: number): PoseLookup {
    const at = this.lookup(tMonoNs);
    if (at.ok && at.pose.headingSigmaRad > this.opts.maxHeadingSigmaRad) return { ok: false, reason: 'no_heading' };
    return at;
  }

  private lookup(tMonoNs: number): PoseLookup {
    const frame = this.frame;
    const h = this.history;
    const last = h[h.length - 1];
    const first = h[0];
    if (!frame || !last || !first) return { ok: false, reason: 'no_pose' };
    if (tMonoNs < first.tMonoNs) return { ok: false, reason: 'too_old' };
    const lo = this.indexAtOrBefore(tMonoNs);
    const a = h[lo]!;
    const dtS = (tMonoNs - a.tMonoNs) / NS_PER_S;
    if (dtS <= this.opts.maxExtrapolationS) return { ok: true, frame, pose: this.extrapolate(a, dtS, a.speedMps, a.yawRateRps) };
    const b = h[lo + 1];
    if (!b) return { ok: false, reason: 'too_new' };
    // A gap in the signals longer than maxExtrapolationS with states after it (rare): interpolate across.
    const u = (tMonoNs - a.tMonoNs) / (b.tMonoNs - a.tMonoNs);
    return {
      ok: true,
      frame,
      pose: {
        tMonoNs,
        eastM: a.eastM + (b.eastM - a.eastM) * u,
        northM: a.northM + (b.northM - a.northM) * u,
        headingRad: wrapPi(a.headingRad + wrapPi(b.headingRad - a.headingRad) * u),
        sigmaM: Math.max(a.sigmaM, b.sigmaM),
        headingSigmaRad: Math.max(a.headingSigmaRad, b.headingSigmaRad),
      },
    };
  }

  /** Index of the newest state at or before tMonoNs (0 when all are later; the history is not empty). */
  private indexAtOrBefore(tMonoNs: number): number {
    const h = this.history;
    let lo = 0;
    let hi = h.length;
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if (h[mid]!.tMonoNs <= tMonoNs) lo = mid;
      else hi = mid;
    }
    return lo;
  }

  private setSignals(v: VehicleSignals): void {
    const dtS = Number.isFinite(this.lastSignalNs) ? Math.min(1, Math.max(0, (v.tMonoNs - this.lastSignalNs) / NS_PER_S)) : 0;
    this.lastSignalNs = v.tMonoNs;
    this.speedMps = v.speedMps;
    if (Math.abs(v.speedMps) < this.opts.stillSpeedMps) {
      // Standing: what the gyro reports is its bias (a running mean over gyroBiasTimeConstantS).
      const w = Math.max(dtS, 1e-3);
      this.gyroBiasWeightS = Math.min(this.opts.gyroBiasTimeConstantS, this.gyroBiasWeightS + w);
      this.gyroBiasRps += ((v.yawRateRps - this.gyroBiasRps) * w) / Math.max(w, this.gyroBiasWeightS);
      this.yawRateRps = 0;
      return;
    }
    this.yawRateRps = v.yawRateRps - this.gyroBiasRps;
  }

  /** The gyro bias estimated while standing, rad/s (0 before the car first stood). */
  get gyroBias(): number {
    return this.gyroBiasRps;
  }

  private propagate(toNs: number): void {
    const dtS = (toNs - this.tNs) / NS_PER_S;
    if (!(dtS > 0)) return;
    const s = this.extrapolate({ tMonoNs: this.tNs, eastM: this.eastM, northM: this.northM, headingRad: this.headingRad, sigmaM: this.sigmaM, headingSigmaRad: this.headingSigmaRad }, dtS, this.speedMps, this.yawRateRps);
    this.headingSigmaRad = Math.min(Math.PI, this.headingSigmaRad + this.opts.headingSigmaGrowthRps * dtS);
    this.eastM = s.eastM;
    this.northM = s.northM;
    this.headingRad = s.headingRad;
    this.sigmaM = s.sigmaM;
    this.tNs = toNs;
  }

  /** Dead reckoning from `from` for dtS seconds at the given speed and yaw rate (its heading sigma grows the position sigma). */
  private extrapolate(from: Pose, dtS: number, speedMps: number, yawRateRps: number): Pose {
    const dH = yawRateRps * dtS;
    const mid = from.headingRad + dH / 2;
    const distM = speedMps * dtS;
    return {
      tMonoNs: from.tMonoNs + dtS * NS_PER_S,
      eastM: from.eastM + distM * Math.cos(mid),
      northM: from.northM + distM * Math.sin(mid),
      headingRad: wrapPi(from.headingRad + dH),
      sigmaM: from.sigmaM + Math.abs(distM) * (this.opts.odometryErrorFrac + Math.min(1, from.headingSigmaRad)),
      headingSigmaRad: Math.min(Math.PI, from.headingSigmaRad + this.opts.headingSigmaGrowthRps * dtS),
    };
  }

  private correctHeading(f: GnssFix): void {
    if (!Number.isFinite(f.courseRad) || Math.abs(this.speedMps) < this.opts.courseMinSpeedMps) return;
    if (this.speedMps < 0) return; // reversing: course points backwards
    const gain = this.headingSigmaRad > this.opts.maxHeadingSigmaRad ? 1 : this.opts.courseGain; // unknown heading: take the course
    this.headingRad = wrapPi(this.headingRad + gain * wrapPi(f.courseRad - this.headingRad));
    this.headingSigmaRad = Math.min(this.headingSigmaRad, Math.max(this.opts.courseSigmaRad, this.headingSigmaRad * (1 - gain)));
  }

  private record(): void {
    this.history.push({ tMonoNs: this.tNs, eastM: this.eastM, northM: this.northM, headingRad: this.headingRad, sigmaM: this.sigmaM, headingSigmaRad: this.headingSigmaRad, speedMps: this.speedMps, yawRateRps: this.yawRateRps, unixOffsetMs: this.unixOffsetMs });
    const oldest = this.tNs - this.opts.historyS * NS_PER_S;
    let drop = 0;
    while (drop < this.history.length - 1 && this.history[drop]!.tMonoNs < oldest) drop++;
    if (drop > 0) this.history.splice(0, drop);
  }
}

export function wrapPi(a: number): number {
  const t = (a + Math.PI) % (2 * Math.PI);
  return (t < 0 ? t + 2 * Math.PI : t) - Math.PI;
}

function poseOf(s: State): Pose {
  return { tMonoNs: s.tMonoNs, eastM: s.eastM, northM: s.northM, headingRad: s.headingRad, sigmaM: s.sigmaM, headingSigmaRad: s.headingSigmaRad };
}
