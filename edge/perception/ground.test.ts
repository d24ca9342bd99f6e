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
    const p = new PitchEstimator({ timeConstantS: 1.5 });
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
