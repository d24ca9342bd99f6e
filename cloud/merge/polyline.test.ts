/**
 * The merge's geometry kernels: the fast forms must give what the plain ones give, bit for bit
 * (the merge's output is compared byte for byte before and after speed work).
 */
import { describe, expect, it } from 'vitest';
import { Rng } from '../../sim/rng.ts';
import { hypot, medianInPlace, polylineLength, resampleFlat, resampleInto, resampleSteps } from './polyline.ts';

const rng = new Rng(7);
/** Coordinates of the kinds the merge sees: metres, centimetre-rounded, tiny, zero, large. */
function coordinate(): number {
  const r = rng.uniform(0, 1);
  if (r < 0.3) return rng.uniform(-5, 5);
  if (r < 0.5) return Math.round(rng.uniform(-1000, 1000)) / 100;
  if (r < 0.7) return rng.uniform(-1e-3, 1e-3);
  if (r < 0.8) return 0;
  return rng.uniform(-5e4, 5e4);
}

describe('hypot', () => {
  it('equals Math.hypot bit for bit', () => {
    const differ: Array<[number, number]> = [];
    for (let i = 0; i < 200_000; i++) {
      const x = coordinate();
      const y = coordinate();
      if (!Object.is(hypot(x, y), Math.hypot(x, y))) differ.push([x, y]);
    }
    expect(differ).toEqual([]);
    for (const [x, y] of [[0, 0], [-0, 0], [3, -4], [1e-310, 3e-310], [1e300, 1e300], [Infinity, 1], [1, -Infinity]] as const) expect(hypot(x, y)).toBe(Math.hypot(x, y));
    expect(hypot(Number.NaN, 1)).toBeNaN();
  });
});

describe('medianInPlace', () => {
  it('gives the sorted middle (mean of the two middles for even counts) of the first n entries', () => {
    for (let trial = 0; trial < 2000; trial++) {
      const n = 1 + Math.floor(rng.uniform(0, 60));
      // Few distinct values too (ties are where selection goes wrong); + 0 turns -0 into 0.
      const a = Float64Array.from({ length: n + 3 }, () => (trial % 2 ? Math.round(rng.uniform(-3, 3)) + 0 : rng.uniform(-10, 10)));
      const sorted = Array.from(a.subarray(0, n)).sort((p, q) => p - q);
      const want = n % 2 ? sorted[n >> 1]! : (sorted[(n >> 1) - 1]! + sorted[n >> 1]!) / 2;
      const tail = Array.from(a.subarray(n));
      expect(medianInPlace(a, n)).toBe(want);
      expect(Array.from(a.subarray(0, n)).sort((p, q) => p - q)).toEqual(sorted); // a permutation
      expect(Array.from(a.subarray(n))).toEqual(tail); // entries past n untouched
    }
    expect(medianInPlace(new Float64Array(4), 0)).toBeNaN();
    expect(medianInPlace([5, 1, 3, 2], 4)).toBe(2.5);
  });
});

describe('resampleInto', () => {
  it('writes what resampleFlat returns, at an offset', () => {
    for (let trial = 0; trial < 300; trial++) {
      const n = 1 + Math.floor(rng.uniform(0, 12));
      const x = Float64Array.from({ length: n }, () => rng.uniform(-50, 50));
      const y = Float64Array.from({ length: n }, () => rng.uniform(-50, 50));
      const spacing = rng.uniform(0.3, 3);
      const want = resampleFlat(x, y, 0, n, spacing);
      const total = polylineLength(x, y, 0, n);
      const steps = resampleSteps(total, spacing);
      expect(steps + 1).toBe(want.x.length);
      const ox = new Float64Array(steps + 6).fill(-1);
      const oy = new Float64Array(steps + 6).fill(-1);
      resampleInto(x, y, 0, n, total, steps, ox, oy, 3);
      expect(Array.from(ox.subarray(3, 4 + steps))).toEqual(Array.from(want.x));
      expect(Array.from(oy.subarray(3, 4 + steps))).toEqual(Array.from(want.y));
      expect([ox[2], ox[steps + 4]]).toEqual([-1, -1]);
    }
  });
});
