import { describe, expect, it } from 'vitest';
import { consensusFloor, erf, pooledHalfNormalQuantileM } from './floor.ts';

describe('consensusFloor', () => {
  it('is the half-normal median 0.6745 sigma / sqrt(n) for one drive count', () => {
    const f = consensusFloor({ driveBiasSigmaM: 1, drivesPerPlace: [4, 4, 4] })!;
    expect(f.consensusLateralP50Cm).toBeCloseTo(100 * 0.67449 * 0.5, 2);
    expect(f.consensusLateralP95Cm).toBeCloseTo(100 * 1.95996 * 0.5, 2);
    expect(f.places).toBe(3);
  });

  it('pools places: between the per-place medians, and ignores places without drives', () => {
    const f = consensusFloor({ driveBiasSigmaM: 0.8, drivesPerPlace: [1, 16, 0] })!;
    const lo = 100 * 0.67449 * 0.8 / 4;
    const hi = 100 * 0.67449 * 0.8;
    expect(f.consensusLateralP50Cm).toBeGreaterThan(lo);
    expect(f.consensusLateralP50Cm).toBeLessThan(hi);
    expect(f.placesWithoutDrives).toBe(1);
    // By definition half of the pooled mass lies below it.
    const x = f.consensusLateralP50Cm / 100;
    const cdf = (erf((x * 1) / (0.8 * Math.SQRT2)) + erf((x * 4) / (0.8 * Math.SQRT2))) / 2;
    expect(cdf).toBeCloseTo(0.5, 6);
  });

  it('is null without covered places, 0 without bias, and rejects bad input', () => {
    expect(consensusFloor({ driveBiasSigmaM: 1, drivesPerPlace: [0, 0] })).toBeNull();
    expect(consensusFloor({ driveBiasSigmaM: 0, drivesPerPlace: [3] })!.consensusLateralP50Cm).toBe(0);
    expect(() => consensusFloor({ driveBiasSigmaM: -1, drivesPerPlace: [3] })).toThrow(/driveBiasSigmaM/);
    expect(() => consensusFloor({ driveBiasSigmaM: 1, drivesPerPlace: [3, NaN] })).toThrow(/drivesPerPlace\[1\]/);
  });

  it('erf matches known values', () => {
    expect(erf(0)).toBeCloseTo(0, 6);
    expect(erf(1)).toBeCloseTo(0.8427008, 6);
    expect(erf(-2)).toBeCloseTo(-0.9953223, 6);
    expect(pooledHalfNormalQuantileM(2, [1], 0.5)).toBeCloseTo(2 * 0.6744898, 5);
  });
});
