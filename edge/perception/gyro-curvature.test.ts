import { describe, expect, it } from 'vitest';
import { GyroCurvature } from './gyro-curvature.ts';

/** Feeds `seconds` of 20 Hz samples at speedMps over a road of curvature kPerM (rate -v k). */
function drive(g: GyroCurvature, t0Ns: number, seconds: number, speedMps: number, kPerM: number): number {
  let t = t0Ns;
  for (let i = 0; i < seconds * 20; i++) {
    t += 50_000_000;
    g.update(t, speedMps, -speedMps * kPerM);
  }
  return t;
}

describe('GyroCurvature', () => {
  it("reads a crest's curvature from the road's pitch rate as the car enters it, then forgets its lasting part", () => {
    const g = new GyroCurvature();
    let t = drive(g, 0, 20, 10, 0); // 200 m level
    expect(g.deviationPerM).toBeCloseTo(0, 9);
    t = drive(g, t, 3, 10, -0.001); // 30 m into a crest
    expect(g.deviationPerM).toBeLessThan(-0.0005);
    drive(g, t, 60, 10, -0.001); // 600 m of it: its lasting part is the bias's to learn, not ours
    expect(Math.abs(g.deviationPerM)).toBeLessThan(0.00005);
  });

  it('learns nothing standing or creeping, and forgets on reset', () => {
    const g = new GyroCurvature();
    drive(g, 0, 10, 0, 0.002);
    drive(g, 10e9, 10, 1, 0.002);
    expect(g.deviationPerM).toBe(0);
    drive(g, 20e9, 2, 10, 0.002);
    expect(g.deviationPerM).toBeGreaterThan(0.001);
    g.reset();
    expect(g.deviationPerM).toBe(0);
    // A clock that runs back is a new start, not a negative step.
    g.update(5e9, 10, 0.5);
    g.update(4e9, 10, 0.5);
    expect(g.deviationPerM).toBe(0);
  });

  it('clamps what it gives and refuses bad options by name', () => {
    const g = new GyroCurvature({ maxAbsPerM: 0.001 });
    drive(g, 0, 2, 10, 0.01);
    expect(g.deviationPerM).toBe(0.001);
    expect(() => new GyroCurvature({ smoothM: 0 })).toThrow(/gyroCurvature.smoothM/);
    expect(() => new GyroCurvature({ memoryM: Number.NaN })).toThrow(/gyroCurvature.memoryM/);
  });
});
