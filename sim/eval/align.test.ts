import { describe, expect, it } from 'vitest';
import type { Primitive, ScoredPrimitive } from '../../shared/schema.ts';
import { alignPerPatch } from './align.ts';
import { asPredictions, prng, shifted, syntheticMap } from './test_fixtures.ts';

describe('alignPerPatch', () => {
  it('recovers a uniform offset in every patch to a millimetre', () => {
    const gt = syntheticMap();
    const { offsets, shifted: back } = alignPerPatch(gt, shifted(asPredictions(gt), 0.6, -1.1));
    expect(offsets).toHaveLength(2);
    for (const o of offsets) {
      expect(o.aligned).toBe(true);
      expect(o.dxM).toBeCloseTo(-0.6, 3);
      expect(o.dyM).toBeCloseTo(1.1, 3);
    }
    const sign = back.find((p) => p.cls === 'traffic_sign')!;
    expect(sign.points[0]![0]).toBeCloseTo(20, 3);
    expect(sign.points[0]![1]).toBeCloseTo(20, 3);
  });

  it('leaves the along-road component at 0 where only parallel lines constrain it', () => {
    const gt: Primitive[] = [
      { cls: 'lane_divider', points: [[5, 10], [95, 10]] },
      { cls: 'road_boundary', points: [[5, 20], [95, 20]] },
    ];
    const { offsets } = alignPerPatch(gt, shifted(asPredictions(gt), 0.5, 0.2));
    expect(offsets).toHaveLength(1);
    expect(offsets[0]!.dxM).toBeCloseTo(0, 6);
    expect(offsets[0]!.dyM).toBeCloseTo(-0.2, 3);
  });

  it('is robust to false lines near the ground truth and to noise', () => {
    const gt = syntheticMap();
    const rnd = prng(7);
    const noisy: ScoredPrimitive[] = shifted(asPredictions(gt), 0.4, 0.3).map((p) => ({
      ...p,
      points: p.points.map((q): [number, number] => [q[0] + (rnd() - 0.5) * 0.04, q[1] + (rnd() - 0.5) * 0.04]),
    }));
    // A false divider 1.2 m beside a true one over the whole map (~25% of the line samples).
    noisy.push({ cls: 'lane_divider', points: [[5, 11.5], [145, 11.5]], score: 0.5 });
    const { offsets } = alignPerPatch(gt, noisy);
    for (const o of offsets) {
      expect(Math.abs(o.dxM + 0.4)).toBeLessThan(0.02);
      expect(Math.abs(o.dyM + 0.3)).toBeLessThan(0.02);
    }
  });

  it('is not held halfway by a false line just inside the gate', () => {
    // Three parallel lines and a false copy of one 1.7 m beside it (25% of the samples).
    const gt: Primitive[] = [
      { cls: 'road_boundary', points: [[5, 10], [95, 10]] },
      { cls: 'lane_divider', points: [[5, 13.5], [95, 13.5]] },
      { cls: 'road_boundary', points: [[5, 17], [95, 17]] },
      { cls: 'stop_line', points: [[50, 10], [50, 13.5]] },
    ];
    const pred = shifted(asPredictions(gt), 0.1, 0.3);
    pred.push({ cls: 'road_boundary', points: [[5, 11.7 + 0.3], [95, 11.7 + 0.3]], score: 0.5 });
    const { offsets } = alignPerPatch(gt, pred);
    expect(offsets[0]!.dyM).toBeCloseTo(-0.3, 2);
    expect(offsets[0]!.dxM).toBeCloseTo(-0.1, 2);
  });

  it('moves each piece of a long line with its own patch', () => {
    const gt: Primitive[] = [
      { cls: 'road_boundary', points: [[2, 10], [198, 10]] },
      { cls: 'road_boundary', points: [[2, 30], [198, 30]] },
      { cls: 'stop_line', points: [[40, 10], [40, 30]] },
      { cls: 'stop_line', points: [[160, 10], [160, 30]] },
    ];
    // Left half of the prediction 0.3 m north, right half 0.3 m south (a jump at x = 100).
    const pred: ScoredPrimitive[] = [
      { cls: 'road_boundary', points: [[2, 10.3], [100, 10.3], [100, 9.7], [198, 9.7]], score: 1 },
      { cls: 'road_boundary', points: [[2, 30.3], [100, 30.3], [100, 29.7], [198, 29.7]], score: 1 },
      { cls: 'stop_line', points: [[40, 10.3], [40, 30.3]], score: 1 },
      { cls: 'stop_line', points: [[160, 9.7], [160, 29.7]], score: 1 },
    ];
    const { offsets, shifted: back } = alignPerPatch(gt, pred);
    const byIx = new Map(offsets.map((o) => [o.ix, o]));
    expect(byIx.get(0)!.dyM).toBeCloseTo(-0.3, 3);
    expect(byIx.get(1)!.dyM).toBeCloseTo(0.3, 3);
    // (The 0.6 m jump itself lies on the border and moves with the right-hand patch.)
    for (const p of back.filter((q) => q.cls === 'road_boundary')) {
      for (const q of p.points.filter((v) => v[0] !== 100)) expect(Math.min(Math.abs(q[1] - 10), Math.abs(q[1] - 30))).toBeLessThan(1e-3);
    }
  });

  it('does not move a patch with too little to align on', () => {
    const gt: Primitive[] = [{ cls: 'traffic_sign', points: [[10, 10]] }];
    const { offsets } = alignPerPatch(gt, shifted(asPredictions(gt), 0.5, 0.5));
    expect(offsets[0]!.aligned).toBe(false);
    expect(offsets[0]!.dxM).toBe(0);
  });
});
