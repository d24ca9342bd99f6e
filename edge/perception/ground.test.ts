import { describe, expect, it } from 'vitest';
import { bodyToPixel, cameraPose, horizonRowPx } from '../../shared/camera.ts';
import { GroundLut } from './ground.ts';
import { PitchEstimator } from './pitch.ts';
import { Preprocessor, scaleCalibration } from './preprocess.ts';
import { TEST_CALIBRATION } from './test-scene.ts';

// Principal point on the centre of output column 64 (image u = 129): that column looks straight ahead.
const CAL = { ...TEST_CALIBRATION, cxPx: 129 };

describe('GroundLut', () => {
  it('puts a pixel of the centre column at mountZM / tan(angle below the horizon) ahead', () => {
    const vehiclePitchRad = 0.01;
    const lut = new GroundLut(CAL);
    lut.update(vehiclePitchRad);
    for (const r of [30, 40, 50, 63]) {
      const v = 2 * r + 1;
      const angle = CAL.pitchRad + vehiclePitchRad + Math.atan((v - CAL.cyPx) / CAL.fyPx);
      const xM = CAL.mountXM + CAL.mountZM / Math.tan(angle);
      const i = r * 128 + 64;
      if (xM > 30) {
        expect(lut.valid[i]).toBe(0);
        continue;
      }
      expect(lut.valid[i]).toBe(1);
      expect(lut.xM[i]).toBeCloseTo(xM, 3);
      expect(lut.yM[i]).toBeCloseTo(0, 5);
    }
  });

  it('round-trips ground points back to their pixel centres and marks the horizon, range and width invalid', () => {
    const cal = { ...TEST_CALIBRATION, yawRad: 0.015, rollRad: -0.008, mountYM: 0.1 };
    const lut = new GroundLut(cal);
    lut.update(-0.02);
    const pose = cameraPose(cal, -0.02);
    const horizon = horizonRowPx(cal, -0.02);
    let checked = 0;
    for (let r = 0; r < 64; r++) {
      for (let c = 0; c < 128; c += 7) {
        const i = r * 128 + c;
        if (2 * r + 1 < horizon - 3) expect(lut.valid[i]).toBe(0);
        if (!lut.valid[i]) continue;
        expect(lut.xM[i]).toBeLessThanOrEqual(30);
        expect(Math.abs(lut.yM[i]!)).toBeLessThanOrEqual(15);
        const px = bodyToPixel(pose, cal, lut.xM[i]!, lut.yM[i]!, 0)!;
        expect(px[0]).toBeCloseTo(2 * c + 1, 2);
        expect(px[1]).toBeCloseTo(2 * r + 1, 2);
        // The footprint runs from the near edge (closer) to the far edge (farther).
        expect(lut.nearXM[i]!).toBeLessThan(lut.xM[i]!);
        expect(lut.farXM[i]!).toBeGreaterThan(lut.xM[i]!);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(100);
  });

  it('recomputes only when the pitch moves by more than the tolerance', () => {
    const lut = new GroundLut(CAL);
    expect(lut.update(0)).toBe(true);
    expect(lut.update(0.0004)).toBe(false);
    expect(lut.update(0.0006)).toBe(true);
    expect(lut.builds).toBe(2);
  });

  it('refuses a calibration that is not at the model input size', () => {
    expect(() => new GroundLut({ ...CAL, widthPx: 640, heightPx: 320 })).toThrow(/640x320 px, expected the model input 256x128/);
    const scaled = scaleCalibration({ ...CAL, widthPx: 1024, heightPx: 512, fxPx: 600, fyPx: 600, cxPx: 516, cyPx: 256 }, 256, 128);
    expect(scaled).toMatchObject({ widthPx: 256, heightPx: 128, fxPx: 150, fyPx: 150, cxPx: 129, cyPx: 64 });
    expect(() => new GroundLut(scaled)).not.toThrow();
  });
});

describe('PitchEstimator', () => {
  it('integrates the pitch rate and leaks back to zero', () => {
    // The road's rate is not taken out here (a time constant beyond the test): the leak alone.
    const p = new PitchEstimator({ timeConstantS: 1.5, roadRateTimeConstantS: 1e9 });
    p.update(0, 0.05);
    for (let k = 1; k <= 10; k++) p.update(k * 10_000_000, 0.05); // 0.1 s at 0.05 rad/s
    expect(p.pitchRad()).toBeGreaterThan(0.0045);
    expect(p.pitchRad()).toBeLessThan(0.005);
    const peak = p.pitchRad();
    for (let k = 11; k <= 160; k++) p.update(k * 10_000_000, 0); // 1.5 s level
    expect(p.pitchRad()).toBeCloseTo(peak * Math.exp(-1), 4);
    p.update(160 * 10_000_000 + 2e9, 0.1); // a 2 s gap: stale, reset
    expect(p.pitchRad()).toBe(0);
  });

  it("takes the road's turning out: a crest's sustained rate is no pitch, a suspension's short one is", () => {
    // A car at 12 m/s over a crest of vertical curvature -0.001 /m for 20 s: the gyro reads a
    // steady 0.012 rad/s nose down that the body, level on its springs, does not have.
    const crest = new PitchEstimator();
    const gyroOnly = new PitchEstimator({ roadRateTimeConstantS: 1e9 });
    for (let k = 0; k <= 400; k++) {
      crest.update(k * 50_000_000, 0.012, 12);
      gyroOnly.update(k * 50_000_000, 0.012, 12);
    }
    expect(Math.abs(crest.pitchRad())).toBeLessThan(0.002);
    expect(gyroOnly.pitchRad()).toBeGreaterThan(0.015); // rate x leak time constant
    expect(crest.roadPitchRateRps).toBeCloseTo(0.012, 4);
    // A 0.15 s jolt of 0.1 rad/s on a level road: most of its 15 mrad comes through.
    const jolt = new PitchEstimator();
    for (let k = 0; k <= 40; k++) jolt.update(k * 50_000_000, 0, 12);
    for (let k = 41; k <= 43; k++) jolt.update(k * 50_000_000, 0.1, 12);
    expect(jolt.pitchRad()).toBeGreaterThan(0.011);
  });

  it('holds a sustained braking\'s pitch, with the suspension gain and the gyro bias learned from the drive', () => {
    // A car in stop-and-go traffic: 5 s cruising at 12 m/s, 4.8 s braking at 2.5 m/s^2, 3 s
    // standing, 8 s accelerating at 1.5 m/s^2, and again. Its body pitches 3 mrad per m/s^2
    // of deceleration behind a 0.3 s suspension lag; the gyro reads the pitch rate plus a bias of
    // 0.002 rad/s; signals at 20 Hz.
    const kRadPerMps2 = 0.003;
    const gyroBiasRps = 0.002;
    const accelAt = (tS: number): number => {
      const c = tS % 20.8;
      return c < 5 ? 0 : c < 9.8 ? -2.5 : c < 12.8 ? 0 : 1.5;
    };
    const withSpeed = new PitchEstimator();
    const levelOnly = new PitchEstimator();
    const dtS = 0.05;
    let speed = 12;
    let pitch = 0;
    let worstWith = 0;
    let worstLevel = 0;
    for (let k = 0; k * dtS < 200; k++) {
      const tS = k * dtS;
      const a = accelAt(tS);
      speed = Math.max(0, speed + a * dtS);
      const before = pitch;
      pitch += (kRadPerMps2 * -a - pitch) * (1 - Math.exp(-dtS / 0.3));
      const rate = (pitch - before) / dtS + gyroBiasRps;
      const ns = Math.round(tS * 1e9);
      withSpeed.update(ns, rate, speed);
      levelOnly.update(ns, rate);
      // The last 60 s, at the end of each braking (its pitch has settled at 7.5 mrad).
      if (tS > 140 && Math.abs((tS % 20.8) - 9.7) < dtS / 2) {
        worstWith = Math.max(worstWith, Math.abs(withSpeed.pitchRad(ns) - pitch));
        worstLevel = Math.max(worstLevel, Math.abs(levelOnly.pitchRad(ns) - pitch));
      }
    }
    expect(withSpeed.gainRadPerMps2).toBeGreaterThan(0.9 * kRadPerMps2);
    expect(withSpeed.gainRadPerMps2).toBeLessThan(1.1 * kRadPerMps2);
    expect(withSpeed.rateBiasRps).toBeCloseTo(gyroBiasRps, 3);
    expect(worstWith).toBeLessThan(0.0005);
    // Leaking back to level loses most of the braking's 7.5 mrad (and the bias adds 3 mrad).
    expect(worstLevel).toBeGreaterThan(0.004);
  });

  it('gives a frame the pitch of its own time, whatever signals came in after it', () => {
    const p = new PitchEstimator({ timeConstantS: 1.5 });
    for (let k = 0; k <= 20; k++) p.update(k * 10_000_000, 0.05); // braking: pitching down
    const tFrame = 205 * 1_000_000; // 5 ms after the last sample
    const before = p.pitchRad(tFrame);
    for (let k = 21; k <= 60; k++) p.update(k * 10_000_000, -0.2); // then rocking back
    expect(p.pitchRad(tFrame)).toBe(before);
    expect(p.pitchRad(200 * 1_000_000)).toBeCloseTo(p.pitchRad(200 * 1_000_000 + 1), 9); // at a sample: its value, barely decayed
    expect(p.pitchRad(600 * 1_000_000)).toBeLessThan(before); // the newest
    // A restarted clock forgets the old samples.
    p.update(0, 0);
    expect(p.pitchRad(0)).toBe(p.pitchRad());
  });
});

describe('Preprocessor', () => {
  it('copies a frame at the model size exactly and rebuilds its tables only on a size change', () => {
    const pre = new Preprocessor({ widthPx: 4, heightPx: 2 });
    const pixels = Uint8Array.from({ length: 4 * 2 * 3 }, (_, i) => i * 10);
    const t = pre.run({ tMonoNs: 0, frameId: 0, encoding: 'rgb8', widthPx: 4, heightPx: 2, exposureUs: 0, pixels });
    // Pixel (col 1, row 1) = byte offset (1 * 4 + 1) * 3: R G B planes.
    expect(t[1 * 4 + 1]).toBeCloseTo(150 / 255, 6);
    expect(t[8 + 1 * 4 + 1]).toBeCloseTo(160 / 255, 6);
    expect(t[16 + 1 * 4 + 1]).toBeCloseTo(170 / 255, 6);
    pre.run({ tMonoNs: 0, frameId: 1, encoding: 'rgb8', widthPx: 4, heightPx: 2, exposureUs: 0, pixels });
    expect(pre.tableBuilds).toBe(1);
    // 2x downscale of a gray frame averages 2 x 2 blocks, into all three channels.
    const gray = Uint8Array.from([0, 100, 200, 40, 100, 0, 40, 200, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    const g = pre.run({ tMonoNs: 0, frameId: 2, encoding: 'gray8', widthPx: 8, heightPx: 4, exposureUs: 0, pixels: gray });
    expect(pre.tableBuilds).toBe(2);
    expect(g[0]).toBeCloseTo((0 + 100 + 0 + 0) / 4 / 255, 6);
    expect(g[8]).toBe(g[0]);
    expect(g[16]).toBe(g[0]);
  });
});
