import { describe, expect, it } from 'vitest';
import type { Primitive, ScoredPrimitive } from '../../shared/schema.ts';
import { evaluateMap } from './evaluate.ts';
import { consensusFloor, erf, floorInputs, pooledHalfNormalQuantileM, realisedFloor } from './floor.ts';

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

describe('realisedFloor', () => {
  // Known injected biases, metres [east, north].
  const biases: Array<[number, number]> = [
    [0.3, 0.1],
    [-0.1, 0.3],
    [0.4, -0.2],
    [0.0, 0.6],
  ];

  it('is the mean bias of the drives that passed each place, across the line there', () => {
    const f = realisedFloor({
      driveBiasesM: biases,
      places: [
        { drives: [0, 1], across: [0, 1] }, // line along east: mean (0.1, 0.2) -> 0.2 north
        { drives: [0, 2], across: [1, 0] }, // line along north: mean (0.35, -0.05) -> 0.35 east
        { drives: [1, 3], across: null }, // a point: mean (-0.05, 0.45) -> |.| = 0.4528
        { drives: [], across: [0, 1] }, // nobody passed: left out
      ],
    })!;
    expect(f.places).toBe(3);
    expect(f.placesWithoutDrives).toBe(1);
    const lat = [20, 35, 100 * Math.hypot(0.05, 0.45)].sort((a, b) => a - b);
    expect(f.lateralP50Cm).toBeCloseTo(lat[1]!, 9);
    expect(f.lateralP95Cm).toBeCloseTo(lat[1]! + 0.9 * (lat[2]! - lat[1]!), 9);
    const mag = [100 * Math.hypot(0.1, 0.2), 100 * Math.hypot(0.35, 0.05), 100 * Math.hypot(0.05, 0.45)].sort((a, b) => a - b);
    expect(f.magnitudeP50Cm).toBeCloseTo(mag[1]!, 9);
  });

  it('can be far below the expected floor when the drives happen to cancel (the hold-out map that "beat" it)', () => {
    // Two drives with opposite biases: a perfect consensus of them is exact.
    const f = realisedFloor({ driveBiasesM: [[0.8, -0.5], [-0.8, 0.5]], places: [{ drives: [0, 1], across: [0, 1] }] })!;
    expect(f.lateralP50Cm).toBeCloseTo(0, 9);
    expect(consensusFloor({ driveBiasSigmaM: 1, drivesPerPlace: [2] })!.consensusLateralP50Cm).toBeCloseTo(100 * 0.67449 / Math.SQRT2, 2);
  });

  it('is what a perfect consensus scores: GT shifted by the mean bias gives that lateral error', () => {
    // Lines along east at y = 10 and 30; drives 0,1 passed the first, drives 1,2,3 the second.
    const gt: Primitive[] = [
      { cls: 'lane_divider', points: [[5, 10], [45, 10]], style: 'solid' },
      { cls: 'lane_divider', points: [[5, 30], [45, 30]], style: 'solid' },
    ];
    const mean = (ds: number[]): [number, number] => [ds.reduce((s, d) => s + biases[d]![0], 0) / ds.length, ds.reduce((s, d) => s + biases[d]![1], 0) / ds.length];
    const m1 = mean([0, 1]);
    const m2 = mean([1, 2, 3]);
    const pred: ScoredPrimitive[] = [
      { ...gt[0]!, points: gt[0]!.points.map((q): [number, number] => [q[0] + m1[0], q[1] + m1[1]]), score: 1 },
      { ...gt[1]!, points: gt[1]!.points.map((q): [number, number] => [q[0] + m2[0], q[1] + m2[1]]), score: 1 },
    ];
    const places = [...Array.from({ length: 21 }, () => ({ drives: [0, 1], across: [0, 1] as [number, number] })), ...Array.from({ length: 21 }, () => ({ drives: [1, 2, 3], across: [0, 1] as [number, number] }))];
    const r = evaluateMap(gt, pred, { relative: false, realisedFloor: { driveBiasesM: biases, places }, floor: { driveBiasSigmaM: 1, drivesPerPlace: places.map((p) => p.drives.length) } });
    expect(r.absoluteFloorSource).toBe('realised');
    // 21 + 21 places: the p50 lies halfway between the two places' |mean bias across|
    expect(r.absoluteFloorCm).toBeCloseTo((100 * Math.abs(m1[1]) + 100 * Math.abs(m2[1])) / 2, 6);
    expect(r.floorCm.realised!.lateralP50Cm).toBe(r.absoluteFloorCm);
    expect(r.lateralErrorCm.p50).toBeCloseTo((100 * Math.abs(m1[1]) + 100 * Math.abs(m2[1])) / 2, 1);
    // the expected floor stays beside it, named
    expect(r.floorCm.expected!.consensusLateralP50Cm).toBeGreaterThan(30);
    expect(r.floorCm.expected!.driveBiasSigmaM).toBe(1);
  });

  it('weighs anchor drives by 1 / sigma^2: a place an RTK drive passed has about its few centimetres', () => {
    // Drive 0: RTK (sigma 2 cm, bias 1 cm north); drives 1, 2: consumer receivers (sigma 1 m).
    const mixed: Array<[number, number]> = [[0, 0.01], [0, 0.8], [0, -0.4]];
    const places = [
      { drives: [0, 1], across: [0, 1] as [number, number] },
      { drives: [1, 2], across: [0, 1] as [number, number] },
    ];
    const f = realisedFloor({ driveBiasesM: mixed, driveBiasSigmasM: [0.02, 1, 1], places })!;
    const wRtk = 1 / 0.02 ** 2;
    const withRtk = (100 * (wRtk * 0.01 + 1 * 0.8)) / (wRtk + 1); // 1.03 cm, not the plain mean's 40.5
    const without = (100 * Math.abs(0.8 - 0.4)) / 2; // equal sigmas: the plain mean, 20 cm
    expect(withRtk).toBeLessThan(1.1);
    expect(f.lateralP50Cm).toBeCloseTo(withRtk + 0.5 * (without - withRtk), 9);
    // Equal sigmas give the plain mean, as without them.
    const plain = realisedFloor({ driveBiasesM: mixed, places })!;
    const equal = realisedFloor({ driveBiasesM: mixed, driveBiasSigmasM: [1, 1, 1], places })!;
    expect(equal.lateralP50Cm).toBeCloseTo(plain.lateralP50Cm, 9);
    expect(() => realisedFloor({ driveBiasesM: mixed, driveBiasSigmasM: [1, 1], places })).toThrow(/one entry per drive \(3\)/);
    expect(() => realisedFloor({ driveBiasesM: mixed, driveBiasSigmasM: [1, 0, 1], places })).toThrow(/driveBiasSigmasM\[1\]/);
  });

  it('floorInputs: the expected floor only for one sigma, and the realised floor weighted by each drive\'s', () => {
    const places = [{ drives: [0, 1], across: [0, 1] as [number, number] }];
    const same = floorInputs(1, [{ biasM: [0, 0.2] }, { biasM: [0, 0.6], biasSigmaM: 1 }], [2], places);
    expect(same.floor).toEqual({ driveBiasSigmaM: 1, drivesPerPlace: [2] });
    expect(realisedFloor(same.realisedFloor)!.lateralP50Cm).toBe(realisedFloor({ driveBiasesM: [[0, 0.2], [0, 0.6]], places })!.lateralP50Cm);
    const mixed = floorInputs(1, [{ biasM: [0, 0.01], biasSigmaM: 0.02 }, { biasM: [0, 0.6] }], [2], places);
    expect(mixed.floor).toBeUndefined();
    expect(mixed.realisedFloor.driveBiasSigmasM).toEqual([0.02, 1]);
    expect(realisedFloor(mixed.realisedFloor)!.lateralP50Cm).toBeLessThan(1.1);
  });

  it('rejects biases and drive indices it cannot use', () => {
    expect(realisedFloor({ driveBiasesM: [[0, 0]], places: [{ drives: [], across: null }] })).toBeNull();
    expect(() => realisedFloor({ driveBiasesM: [[0, NaN]], places: [] })).toThrow(/driveBiasesM\[0\]/);
    expect(() => realisedFloor({ driveBiasesM: [[0, 0]], places: [{ drives: [1], across: null }] })).toThrow(/places\[0\]\.drives names drive 1/);
    expect(() => realisedFloor({ driveBiasesM: [[0, 0]], places: [{ drives: [0], across: [2, 0] }] })).toThrow(/unit vector/);
  });
});
