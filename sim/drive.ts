/**
 * A vehicle driving a route: the TRUE motion over time.
 *
 * The route centreline is resampled (1 m), smoothed (a car does not follow the kinks where
 * lanelets meet) and given a speed profile:
 * - a cruise speed per drive (8-14 m/s by default) that varies slowly along the way;
 * - curve speed limited so that lateral acceleration v^2 * curvature <= maxLateralAccelMps2;
 * - acceleration / deceleration limits (forward and backward passes over v^2);
 * - the car starts and ends at rest, and makes a few stops (traffic, lights) on the way.
 * Between path vertices acceleration is constant, so `poseAt` is exact and continuous.
 *
 * Poses are in the map frame: `xM` east, `yM` north (rear axle centre), `yawRad`
 * counter-clockwise from east, time `tS` in seconds from the start of the drive.
 */
import { polylineLengthM, resampleSpacing, wrapAngleRad } from '../shared/geometry.ts';
import type { XY } from '../shared/schema.ts';
import type { Rng } from './rng.ts';

export interface DriveOptions {
  /** Cruise speed is drawn uniformly from this range per drive, metres per second. */
  cruiseSpeedMps: [number, number];
  /** Slow variation of the cruise speed along the way (amplitude), metres per second. */
  speedVariationMps: number;
  /** Largest lateral acceleration in curves, m/s^2. */
  maxLateralAccelMps2: number;
  /** Largest acceleration, m/s^2. */
  maxAccelMps2: number;
  /** Largest (comfortable) deceleration, m/s^2. */
  maxDecelMps2: number;
  /** Stops on the way (traffic, lights), per kilometre. */
  stopsPerKm: number;
  /** How long a stop lasts, seconds (uniform in range). */
  stopDurationS: [number, number];
  /** Path vertex spacing, metres. */
  pathSpacingM: number;
  /** Half-width of the path smoothing window, metres. */
  smoothingM: number;
  /** Lowest speed any curve forces, metres per second (keeps time finite on cusps). */
  minCurveSpeedMps: number;
}

export const DEFAULT_DRIVE_OPTIONS: DriveOptions = {
  cruiseSpeedMps: [8, 14], // m/s (29-50 km/h)
  speedVariationMps: 1.0, // m/s
  maxLateralAccelMps2: 2.0, // m/s^2
  maxAccelMps2: 1.5, // m/s^2
  maxDecelMps2: 2.5, // m/s^2
  stopsPerKm: 0.6, // per km
  stopDurationS: [4, 25], // s
  pathSpacingM: 1, // m
  smoothingM: 3, // m
  minCurveSpeedMps: 1.0, // m/s
};

export interface TruePose {
  /** Seconds since the start of the drive. */
  tS: number;
  xM: number;
  yM: number;
  yawRad: number;
  speedMps: number;
  yawRateRps: number;
  accelMps2: number;
  /** Distance driven so far, metres. */
  sM: number;
}

/** The planned motion along one route. */
export class DriveProfile {
  readonly cruiseSpeedMps: number;
  readonly lengthM: number;
  readonly durationS: number;
  /** Number of stops made on the way (not counting the start and the end). */
  readonly stopCount: number;
  private readonly x: Float64Array;
  private readonly y: Float64Array;
  private readonly yaw: Float64Array;
  private readonly s: Float64Array;
  private readonly v: Float64Array;
  private readonly arrS: Float64Array;
  private readonly depS: Float64Array;

  constructor(route: readonly XY[], rng: Rng, options: Partial<DriveOptions> = {}) {
    const o = { ...DEFAULT_DRIVE_OPTIONS, ...options };
    validate(o);
    if (route.length < 2) throw new RangeError(`route must have >= 2 vertices, got ${route.length}`);
    const pts = resampleSpacing(smooth(resampleSpacing(route, o.pathSpacingM), Math.round(o.smoothingM / o.pathSpacingM)), o.pathSpacingM);
    const n = pts.length;
    if (n < 3) throw new RangeError(`route is too short to drive: ${polylineLengthM(route).toFixed(2)} m (needs >= ${2 * o.pathSpacingM} m)`);
    this.x = new Float64Array(n);
    this.y = new Float64Array(n);
    this.s = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      this.x[i] = pts[i]![0];
      this.y[i] = pts[i]![1];
      if (i > 0) this.s[i] = this.s[i - 1]! + Math.hypot(this.x[i]! - this.x[i - 1]!, this.y[i]! - this.y[i - 1]!);
    }
    this.lengthM = this.s[n - 1]!;
    this.yaw = headings(this.x, this.y);

    // Speed caps: cruise (slowly varying), curves, stops.
    this.cruiseSpeedMps = rng.uniform(o.cruiseSpeedMps[0], o.cruiseSpeedMps[1]);
    const waves = [0, 1].map(() => ({ wavelengthM: rng.uniform(300, 900), phase: rng.uniform(0, 2 * Math.PI) }));
    const cap = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      let vary = 0;
      for (const w of waves) vary += Math.sin((2 * Math.PI * this.s[i]!) / w.wavelengthM + w.phase) / waves.length;
      cap[i] = Math.max(o.minCurveSpeedMps, this.cruiseSpeedMps + o.speedVariationMps * vary);
    }
    for (let i = 0; i + 1 < n; i++) {
      const ds = this.s[i + 1]! - this.s[i]!;
      const k = ds > 0 ? Math.abs(this.yaw[i + 1]! - this.yaw[i]!) / ds : 0;
      if (k > 0) {
        const vMax = Math.max(o.minCurveSpeedMps, Math.sqrt(o.maxLateralAccelMps2 / k));
        if (vMax < cap[i]!) cap[i] = vMax;
        if (vMax < cap[i + 1]!) cap[i + 1] = vMax;
      }
    }
    const dwell = new Float64Array(n);
    let stops = 0;
    // Stops at least 30 m from the ends and from each other (a stop is a single vertex at rest).
    const gapM = 30;
    for (let sStop = gapM + rng.exponential(o.stopsPerKm / 1000); sStop < this.lengthM - gapM; sStop += gapM + rng.exponential(o.stopsPerKm / 1000)) {
      const i = Math.min(n - 2, Math.max(1, Math.round(sStop / o.pathSpacingM)));
      cap[i] = 0;
      dwell[i] = rng.uniform(o.stopDurationS[0], o.stopDurationS[1]);
      stops++;
    }
    this.stopCount = stops;
    cap[0] = 0;
    cap[n - 1] = 0;

    // Forward (acceleration) and backward (braking) passes on v^2.
    const v = new Float64Array(n);
    for (let i = 1; i < n; i++) v[i] = Math.min(cap[i]!, Math.sqrt(v[i - 1]! ** 2 + 2 * o.maxAccelMps2 * (this.s[i]! - this.s[i - 1]!)));
    for (let i = n - 2; i >= 0; i--) v[i] = Math.min(v[i]!, Math.sqrt(v[i + 1]! ** 2 + 2 * o.maxDecelMps2 * (this.s[i + 1]! - this.s[i]!)));
    this.v = v;

    this.arrS = new Float64Array(n);
    this.depS = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      if (i > 0) {
        const ds = this.s[i]! - this.s[i - 1]!;
        const vSum = v[i]! + v[i - 1]!;
        // Constant acceleration over the segment; vSum > 0 as no two neighbouring vertices are at rest.
        this.arrS[i] = this.depS[i - 1]! + (ds > 0 ? (2 * ds) / Math.max(vSum, 1e-6) : 0);
      }
      this.depS[i] = this.arrS[i]! + dwell[i]!;
    }
    this.durationS = this.depS[n - 1]!;
  }

  /** The true pose at `tS` seconds after the start (clamped to the drive). */
  poseAt(tS: number): TruePose {
    const n = this.s.length;
    const t = Math.min(Math.max(tS, 0), this.durationS);
    // Last vertex i with arrival <= t.
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.arrS[mid]! <= t) lo = mid;
      else hi = mid - 1;
    }
    const i = lo;
    if (t < this.depS[i]! || i === n - 1) {
      // Dwelling at a stop (arrival <= t < departure), or at the end.
      return { tS, xM: this.x[i]!, yM: this.y[i]!, yawRad: wrapAngleRad(this.yaw[i]!), speedMps: 0, yawRateRps: 0, accelMps2: 0, sM: this.s[i]! };
    }
    const ds = this.s[i + 1]! - this.s[i]!;
    const v0 = this.v[i]!;
    const v1 = this.v[i + 1]!;
    const a = ds > 0 ? (v1 * v1 - v0 * v0) / (2 * ds) : 0;
    const tau = t - this.depS[i]!;
    const speed = Math.max(0, v0 + a * tau);
    const along = Math.min(ds, Math.max(0, v0 * tau + 0.5 * a * tau * tau));
    const f = ds > 0 ? along / ds : 0;
    const dyaw = this.yaw[i + 1]! - this.yaw[i]!;
    return {
      tS,
      xM: this.x[i]! + (this.x[i + 1]! - this.x[i]!) * f,
      yM: this.y[i]! + (this.y[i + 1]! - this.y[i]!) * f,
      yawRad: wrapAngleRad(this.yaw[i]! + dyaw * f),
      speedMps: speed,
      yawRateRps: ds > 0 ? (dyaw / ds) * speed : 0,
      accelMps2: a,
      sM: this.s[i]! + along,
    };
  }
}

/** The true trajectory sampled at a fixed rate, in typed arrays (for evaluation and plots). */
export interface TrueTrajectory {
  /** Seconds since the start of the drive. */
  tS: Float64Array;
  xM: Float64Array;
  yM: Float64Array;
  yawRad: Float64Array;
  speedMps: Float64Array;
  yawRateRps: Float64Array;
  sM: Float64Array;
}

export function sampleTrajectory(profile: DriveProfile, rateHz: number): TrueTrajectory {
  if (!(rateHz > 0)) throw new RangeError(`rateHz must be > 0, got ${rateHz}`);
  const count = Math.floor(profile.durationS * rateHz) + 1;
  const out: TrueTrajectory = {
    tS: new Float64Array(count),
    xM: new Float64Array(count),
    yM: new Float64Array(count),
    yawRad: new Float64Array(count),
    speedMps: new Float64Array(count),
    yawRateRps: new Float64Array(count),
    sM: new Float64Array(count),
  };
  for (let k = 0; k < count; k++) {
    const p = profile.poseAt(k / rateHz);
    out.tS[k] = p.tS;
    out.xM[k] = p.xM;
    out.yM[k] = p.yM;
    out.yawRad[k] = p.yawRad;
    out.speedMps[k] = p.speedMps;
    out.yawRateRps[k] = p.yawRateRps;
    out.sM[k] = p.sM;
  }
  return out;
}

function validate(o: DriveOptions): void {
  const [vLo, vHi] = o.cruiseSpeedMps;
  if (!(vLo > 0 && vHi >= vLo)) throw new RangeError(`cruiseSpeedMps must be [lo, hi] with 0 < lo <= hi m/s, got [${vLo}, ${vHi}]`);
  for (const key of ['maxLateralAccelMps2', 'maxAccelMps2', 'maxDecelMps2', 'pathSpacingM', 'minCurveSpeedMps'] as const) {
    if (!(o[key] > 0)) throw new RangeError(`${key} must be > 0, got ${o[key]}`);
  }
  if (!(o.stopsPerKm >= 0)) throw new RangeError(`stopsPerKm must be >= 0, got ${o.stopsPerKm}`);
  if (!(o.smoothingM >= 0)) throw new RangeError(`smoothingM must be >= 0 metres, got ${o.smoothingM}`);
  if (!(o.speedVariationMps >= 0)) throw new RangeError(`speedVariationMps must be >= 0 m/s, got ${o.speedVariationMps}`);
  const [dLo, dHi] = o.stopDurationS;
  if (!(dLo >= 0 && dHi >= dLo)) throw new RangeError(`stopDurationS must be [lo, hi] with 0 <= lo <= hi s, got [${dLo}, ${dHi}]`);
}

/** Two passes of a centred moving average (half-width `h` vertices); the ends stay fixed. */
function smooth(pts: ReadonlyArray<readonly [number, number]>, h: number): XY[] {
  let cur: XY[] = pts.map((p) => [p[0], p[1]]);
  if (h < 1) return cur;
  for (let pass = 0; pass < 2; pass++) {
    const next: XY[] = [];
    for (let i = 0; i < cur.length; i++) {
      const w = Math.min(h, i, cur.length - 1 - i);
      let sx = 0;
      let sy = 0;
      for (let j = i - w; j <= i + w; j++) {
        sx += cur[j]![0];
        sy += cur[j]![1];
      }
      next.push([sx / (2 * w + 1), sy / (2 * w + 1)]);
    }
    cur = next;
  }
  return cur;
}

/** Unwrapped heading at each vertex (central differences). */
function headings(x: Float64Array, y: Float64Array): Float64Array {
  const n = x.length;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const a = Math.max(0, i - 1);
    const b = Math.min(n - 1, i + 1);
    out[i] = Math.atan2(y[b]! - y[a]!, x[b]! - x[a]!);
    if (i > 0) {
      let d = out[i]! - out[i - 1]!;
      while (d > Math.PI) d -= 2 * Math.PI;
      while (d < -Math.PI) d += 2 * Math.PI;
      out[i] = out[i - 1]! + d;
    }
  }
  return out;
}
