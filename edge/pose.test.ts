import { describe, expect, it } from 'vitest';
import { LocalFrame, type GnssFix } from '../shared/index.ts';
import { PoseEstimator } from './pose.ts';

const ORIGIN = { lng: 8.4037, lat: 49.0069 }; // Karlsruhe
const world = new LocalFrame(ORIGIN);
const NS = 1e9;

interface Truth {
  tS: number;
  e: number;
  n: number;
  h: number;
}

/**
 * Drive a scripted trajectory: 15 m/s, turning gently (yaw rate given), vehicle signals at 50 Hz,
 * GNSS at 10 Hz. `gnssAt` may distort or drop fixes. Returns the truth and the estimator.
 */
function drive(opts: { seconds: number; yawRateRps?: number; speedScale?: number; gnssAt?: (tS: number, truth: Truth) => Partial<GnssFix> | null; onStep?: (t: Truth, est: PoseEstimator) => void }) {
  const est = new PoseEstimator();
  const speed = 15;
  const yaw = opts.yawRateRps ?? 0;
  let t: Truth = { tS: 0, e: 0, n: 0, h: 0.3 };
  const dt = 0.02;
  for (let i = 0; i <= opts.seconds / dt; i++) {
    const tS = i * dt;
    if (i > 0) {
      const mid = t.h + (yaw * dt) / 2;
      t = { tS, e: t.e + speed * dt * Math.cos(mid), n: t.n + speed * dt * Math.sin(mid), h: t.h + yaw * dt };
    }
    est.onVehicle({ tMonoNs: tS * NS, speedMps: speed * (opts.speedScale ?? 1), yawRateRps: yaw });
    if (i % 5 === 0) {
      const p = world.toLngLat([t.e, t.n]);
      const base: GnssFix = { tMonoNs: tS * NS, tUnixMs: 1.7e12 + tS * 1000, fixType: '3d', lat: p.lat, lng: p.lng, horizontalAccuracyM: 0.5, courseRad: t.h };
      const mod = opts.gnssAt ? opts.gnssAt(tS, t) : {};
      if (mod !== null) est.onGnss({ ...base, ...mod });
    }
    opts.onStep?.(t, est);
  }
  return { est, truth: t };
}

function errorM(est: PoseEstimator, t: Truth): number {
  const at = est.poseAt(t.tS * NS);
  if (!at.ok) throw new Error(`no pose: ${at.reason}`);
  const ll = at.frame.toLngLat([at.pose.eastM, at.pose.northM]);
  const [e, n] = world.toLocal(ll);
  return Math.hypot(e - t.e, n - t.n);
}

describe('PoseEstimator', () => {
  it('tracks a clean drive to centimetres', () => {
    const { est, truth } = drive({ seconds: 20, yawRateRps: 0.05 });
    expect(errorM(est, truth)).toBeLessThan(0.1);
    expect(est.counters.fixesRejected).toBe(0);
  });

  it('rejects a 6 m multipath jump that lasts 3 s', () => {
    let worst = 0;
    const { est } = drive({
      seconds: 20,
      yawRateRps: 0.02,
      gnssAt: (tS, t) => {
        if (tS < 8 || tS >= 11) return {};
        const p = world.toLngLat([t.e, t.n + 6]); // 6 m north of the truth, receiver unaware
        return { lat: p.lat, lng: p.lng };
      },
      onStep: (t, e) => {
        if (t.tS >= 8 && t.tS < 12) worst = Math.max(worst, errorM(e, t));
      },
    });
    expect(est.counters.fixesRejected).toBeGreaterThanOrEqual(29);
    expect(est.counters.reacquisitions).toBe(0);
    expect(worst).toBeLessThan(0.5);
  });

  it('accepts GNSS again when the offset persists (its own dead reckoning was wrong)', () => {
    const { est, truth } = drive({
      seconds: 25,
      gnssAt: (tS, t) => {
        if (tS < 8) return {};
        const p = world.toLngLat([t.e, t.n + 6]);
        return { lat: p.lat, lng: p.lng };
      },
    });
    // after at most reacquireAfterS (or sooner, once dead reckoning's sigma widens the gate)
    // the estimate follows the shifted GNSS again
    expect(est.counters.fixesRejected).toBeGreaterThan(10);
    const at = est.poseAt(truth.tS * NS);
    if (!at.ok) throw new Error('no pose');
    const [, n] = world.toLocal(at.frame.toLngLat([at.pose.eastM, at.pose.northM]));
    expect(Math.abs(n - truth.n - 6)).toBeLessThan(0.2);
  });

  it('re-acquires after reacquireAfterS of a consistent offset (standing still, so the gate stays narrow)', () => {
    const est = new PoseEstimator();
    const outcomes: string[] = [];
    for (let i = 0; i <= 100; i++) {
      const tS = i * 0.1;
      est.onVehicle({ tMonoNs: tS * NS, speedMps: 0, yawRateRps: 0 });
      const p = world.toLngLat([0, tS >= 2 ? 6 : 0]);
      outcomes.push(est.onGnss({ tMonoNs: tS * NS, tUnixMs: 0, fixType: '3d', lat: p.lat, lng: p.lng, horizontalAccuracyM: 0.5, courseRad: Number.NaN }));
    }
    expect(outcomes.indexOf('reacquired')).toBe(70); // 2 s + 5 s
    expect(outcomes.slice(20, 70).every((o) => o === 'rejected')).toBe(true);
    expect(est.current()!.northM).toBeCloseTo(6, 1);
  });

  it('bridges a 5 s outage by dead reckoning with small error and growing sigma', () => {
    let sigmaBefore = 0;
    let sigmaEnd = 0;
    let errEnd = 0;
    drive({
      seconds: 15,
      yawRateRps: 0.05,
      speedScale: 1.005, // 0.5 % wheel-speed scale error
      gnssAt: (tS) => (tS >= 5 && tS < 10 ? { fixType: 'none', lat: Number.NaN, lng: Number.NaN } : {}),
      onStep: (t, e) => {
        if (Math.abs(t.tS - 4.98) < 1e-6) sigmaBefore = e.current()!.sigmaM;
        if (Math.abs(t.tS - 9.98) < 1e-6) {
          sigmaEnd = e.current()!.sigmaM;
          errEnd = errorM(e, t);
        }
      },
    });
    expect(errEnd).toBeLessThan(1); // 75 m driven blind
    expect(sigmaEnd).toBeGreaterThan(sigmaBefore + 0.5);
    expect(sigmaEnd).toBeGreaterThan(errEnd); // the uncertainty covers the actual error
  });

  it('corrects a drifting gyro heading from the GNSS course while moving', () => {
    const run = (useCourse: boolean): number => {
      const est = new PoseEstimator();
      for (let i = 0; i <= 1000; i++) {
        const tS = i * 0.02;
        est.onVehicle({ tMonoNs: tS * NS, speedMps: 15, yawRateRps: 0.02 }); // truth: straight east, gyro biased
        if (i % 5 === 0) {
          const p = world.toLngLat([15 * tS, 0]);
          est.onGnss({ tMonoNs: tS * NS, tUnixMs: 0, fixType: '3d', lat: p.lat, lng: p.lng, horizontalAccuracyM: 0.5, courseRad: useCourse ? 0 : Number.NaN });
        }
      }
      return Math.abs(est.current()!.headingRad);
    };
    expect(run(false)).toBeGreaterThan(0.35); // 20 s x 0.02 rad/s of drift, uncorrected
    expect(run(true)).toBeLessThan(0.02);
  });

  it('takes its initial heading from the GNSS course while moving', () => {
    const est = new PoseEstimator();
    const fix = (tS: number, e: number): GnssFix => {
      const p = world.toLngLat([e, 0]);
      return { tMonoNs: tS * NS, tUnixMs: 0, fixType: '3d', lat: p.lat, lng: p.lng, horizontalAccuracyM: 0.5, courseRad: 0 };
    };
    est.onVehicle({ tMonoNs: 0, speedMps: 10, yawRateRps: 0 });
    est.onGnss(fix(0, 0));
    expect(est.current()!.headingRad).toBeCloseTo(0, 6);
    est.onVehicle({ tMonoNs: 0.1 * NS, speedMps: 10, yawRateRps: 0 });
    expect(est.poseAt(0.1 * NS).ok).toBe(true);
  });

  it('answers poseAt with reasons outside its history', () => {
    const est = new PoseEstimator();
    expect(est.poseAt(0)).toEqual({ ok: false, reason: 'no_pose' });
    const { est: e2 } = drive({ seconds: 5 });
    expect(e2.poseAt(0).ok).toBe(false);
    expect(e2.poseAt(5 * NS + 2 * NS)).toEqual({ ok: false, reason: 'too_new' });
    expect(e2.poseAt(1 * NS)).toEqual({ ok: false, reason: 'too_old' });
  });

  it('has no pose while the heading is unknown (a drive starting at a standstill), then the course gives it', () => {
    const est = new PoseEstimator();
    const fix = (tS: number, e: number, courseRad: number): GnssFix => {
      const p = world.toLngLat([e, 0]);
      return { tMonoNs: tS * NS, tUnixMs: 0, fixType: '3d', lat: p.lat, lng: p.lng, horizontalAccuracyM: 0.5, courseRad };
    };
    est.onVehicle({ tMonoNs: 0, speedMps: 0, yawRateRps: 0 });
    est.onGnss(fix(0, 0, 2)); // standing: its course says nothing
    est.onVehicle({ tMonoNs: 0.5 * NS, speedMps: 0, yawRateRps: 0 });
    expect(est.poseAt(0.2 * NS)).toEqual({ ok: false, reason: 'no_heading' });
    est.onVehicle({ tMonoNs: 1 * NS, speedMps: 4, yawRateRps: 0 });
    est.onGnss(fix(1, 0, 2));
    est.onVehicle({ tMonoNs: 1.1 * NS, speedMps: 4, yawRateRps: 0 });
    const at = est.poseAt(1.05 * NS);
    expect(at.ok).toBe(true);
    if (at.ok) {
      expect(at.pose.headingRad).toBeCloseTo(2, 6);
      expect(at.pose.headingSigmaRad).toBeLessThan(0.05);
    }
    // Before the course the frames stay unplaced, even looked up now.
    expect(est.poseAt(0.6 * NS)).toEqual({ ok: false, reason: 'no_heading' });
  });

  it('answers poseAt(t) the same however many later messages came in (a replay is reproducible)', () => {
    // A frame at 2.01 s looked up right away, and again after a GNSS update 30 cm off and 1 s more
    // of signals: the later state must not leak into the earlier pose.
    const est = new PoseEstimator();
    const fix = (tS: number, e: number): GnssFix => {
      const p = world.toLngLat([e, 0]);
      return { tMonoNs: tS * NS, tUnixMs: 1.7e12 + tS * 1000, fixType: '3d', lat: p.lat, lng: p.lng, horizontalAccuracyM: 0.5, courseRad: 0 };
    };
    for (let k = 0; k <= 100; k++) {
      est.onVehicle({ tMonoNs: k * 0.02 * NS, speedMps: 10, yawRateRps: 0.05 });
      if (k % 5 === 0) est.onGnss(fix(k * 0.02, k * 0.2));
    }
    const tFrame = 2.01 * NS;
    const before = est.poseAt(tFrame);
    const unixBefore = est.unixMsAt(tFrame);
    est.onGnss({ ...fix(2.02, 20.5), tUnixMs: 1.7e12 + 2020.4 }); // 0.3 m ahead of the truth: an accepted update; its UTC 0.4 ms off (rounding)
    for (let k = 101; k <= 150; k++) est.onVehicle({ tMonoNs: k * 0.02 * NS, speedMps: 12, yawRateRps: -0.1 });
    const after = est.poseAt(tFrame);
    expect(before.ok && after.ok).toBe(true);
    expect(after).toEqual(before);
    expect(est.unixMsAt(tFrame)).toBe(unixBefore);
    // ... while a frame after the update sees it.
    const later = est.poseAt(2.03 * NS);
    expect(later.ok && before.ok && later.pose.eastM - before.pose.eastM).toBeGreaterThan(0.2 + 0.05);
    expect(est.unixMsAt(2.03 * NS)! - (1.7e12 + 2030)).toBeCloseTo(0.4, 2);
  });

  it('holds its heading while the car stands, learns the gyro bias there and takes it off after', () => {
    // Driving east with a course, then 30 s at a stop line (no usable course below 2 m/s), then
    // 5 s of driving straight on without GNSS: the gyro reads 0.002 rad/s throughout (its bias).
    const BIAS = 0.002;
    const run = (opts: { stillSpeedMps?: number }): { headingAtStop: number; headingAfter: number; bias: number } => {
      const est = new PoseEstimator(opts);
      let e = 0;
      let t = 0;
      const step = (speed: number, gnss: boolean): void => {
        est.onVehicle({ tMonoNs: t * NS, speedMps: speed, yawRateRps: BIAS });
        if (gnss && Math.round(t / 0.02) % 5 === 0) {
          const p = world.toLngLat([e, 0]);
          est.onGnss({ tMonoNs: t * NS, tUnixMs: 1.7e12 + t * 1000, fixType: '3d', lat: p.lat, lng: p.lng, horizontalAccuracyM: 0.5, courseRad: speed >= 2 ? 0 : Number.NaN });
        }
        e += speed * 0.02;
        t += 0.02;
      };
      for (let i = 0; i < 500; i++) step(10, true);
      for (let i = 0; i < 1500; i++) step(0, true);
      const headingAtStop = est.current()!.headingRad;
      for (let i = 0; i < 250; i++) step(10, false);
      return { headingAtStop, headingAfter: est.current()!.headingRad, bias: est.gyroBias };
    };
    const held = run({});
    expect(held.bias).toBeCloseTo(BIAS, 6);
    expect(Math.abs(held.headingAtStop)).toBeLessThan(0.002); // 1 mrad or so left from the course's pull against the bias
    expect(Math.abs(held.headingAfter - held.headingAtStop)).toBeLessThan(1e-6); // the bias taken off: no drift
    // The same car with standing not recognised (a threshold below its 0 m/s): the bias turns it.
    const drifting = run({ stillSpeedMps: 0 });
    expect(drifting.headingAtStop).toBeGreaterThan(0.05); // 30 s x 0.002 rad/s
    expect(drifting.headingAfter - drifting.headingAtStop).toBeGreaterThan(0.009); // 5 s more
  });

  it('validates its options naming the field', () => {
    expect(() => new PoseEstimator({ gateSigma: -1 })).toThrow(/PoseOptions.gateSigma must be .* got -1/);
  });
});
