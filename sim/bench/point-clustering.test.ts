import { describe, expect, it } from 'vitest';
import { pairedComparison } from './point-clustering.ts';
import { Rng } from '../rng.ts';

describe('pairedComparison (the merge benchmark: ours against DBSCAN per truth point)', () => {
  const rng = new Rng(5);
  const b = Array.from({ length: 300 }, () => Math.abs(rng.normal(0, 0.3)));

  it('A 5 cm nearer at every point: all A, a difference of -5 cm, an interval that excludes 0', () => {
    const a = b.map((v) => Math.max(0, v - 0.05));
    const p = pairedComparison(a, b, 1);
    expect(p.aNearer).toBeGreaterThan(280);
    expect(p.bNearer).toBe(0);
    expect(p.medianDifferenceCm).toBeCloseTo(-5, 0);
    expect(p.ci95Cm[0]).toBeLessThanOrEqual(p.medianDifferenceCm);
    expect(p.ci95Cm[1]).toBeGreaterThanOrEqual(p.medianDifferenceCm);
    expect(p.ci95Cm[1]).toBeLessThan(0);
  });

  it('two independent draws of the same error: counts near even, an interval that holds 0', () => {
    const a = Array.from({ length: 300 }, () => Math.abs(rng.normal(0, 0.3)));
    const p = pairedComparison(a, b, 1);
    expect(p.aNearer + p.bNearer + p.ties).toBe(300);
    expect(Math.abs(p.aNearer - p.bNearer)).toBeLessThan(60);
    expect(p.ci95Cm[0]).toBeLessThan(0);
    expect(p.ci95Cm[1]).toBeGreaterThan(0);
  });

  it('the same samples: all ties and a zero interval; the same seed, the same interval', () => {
    expect(pairedComparison(b, b, 3)).toEqual({ aNearer: 0, bNearer: 0, ties: 300, medianDifferenceCm: 0, ci95Cm: [0, 0] });
    const a = b.map((v, i) => v + (i % 3 === 0 ? 0.1 : -0.02));
    expect(pairedComparison(a, b, 9)).toEqual(pairedComparison(a, b, 9));
  });

  it('an unplaced truth point (no centre: Infinity) counts against who missed it', () => {
    const a = [0.1, 0.2, Infinity];
    const p = pairedComparison(a, [0.2, 0.3, 0.4], 1, 50);
    expect([p.aNearer, p.bNearer, p.ties]).toEqual([2, 1, 0]);
  });

  it('refuses samples of different lengths or none', () => {
    expect(() => pairedComparison([1], [1, 2], 1)).toThrow(/equal non-empty samples, got 1 and 2/);
    expect(() => pairedComparison([], [], 1)).toThrow(RangeError);
  });
});
