import { describe, expect, it } from 'vitest';
import { validateCameraCalibration } from '../../shared/camera.ts';
import { DEFAULT_CAMERA, vehicleCalibration } from './calibration.ts';
import { PitchTrack } from './pitch.ts';

describe('PitchTrack', () => {
  it('dips the nose about 1 degree at 0.5 g braking, with a lag, and returns at rest', () => {
    const track = new PitchTrack(10, (t) => (t >= 2 && t < 6 ? -0.5 * 9.81 : 0));
    expect(track.pitchRadAt(1)).toBe(0);
    expect(track.pitchRateRpsAt(2.05)).toBeGreaterThan(0);
    expect(track.pitchRadAt(2.1)).toBeLessThan((0.9 * Math.PI) / 180);
    expect(track.pitchRadAt(5.5)).toBeCloseTo(Math.PI / 180, 4);
    expect(track.pitchRateRpsAt(6.05)).toBeLessThan(0);
    expect(Math.abs(track.pitchRadAt(9.9))).toBeLessThan(1e-4);
  });
});

describe('vehicleCalibration', () => {
  it('varies the mounting per vehicle within the documented ranges, seeded', () => {
    const a = vehicleCalibration('veh-001', 1);
    expect(vehicleCalibration('veh-001', 1)).toEqual(a);
    expect(vehicleCalibration('veh-002', 1)).not.toEqual(a);
    for (let i = 1; i <= 50; i++) {
      const c = validateCameraCalibration(vehicleCalibration(`veh-${i}`, 3));
      expect(Math.abs(c.mountZM - DEFAULT_CAMERA.mountZM)).toBeLessThanOrEqual(0.08);
      expect(Math.abs(c.pitchRad - DEFAULT_CAMERA.pitchRad)).toBeLessThanOrEqual(0.03);
      expect(Math.abs(c.yawRad)).toBeLessThanOrEqual(0.02);
      expect(Math.abs(c.rollRad)).toBeLessThanOrEqual(0.01);
      expect(c.widthPx).toBe(256);
    }
  });
});
