/**
 * The merge's geometry kernels: the fast forms must give what the plain ones give, bit for bit
 * (the merge's output is compared byte for byte before and after speed work).
 */
import { describe, expect, it } from 'vitest';
import { Rng } from '../../sim/rng.ts';
import { Polyline, hypot, medianInPlace, newProjection, quantileOfSorted, polylineLength, resampleFlat, resampleInto, resampleSteps, type Projection } from './polyline.ts';

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

describe('quantileOfSorted', () => {
  it('interpolates between neighbouring entries of an ascending array; 0.5 is the median', () => {
    expect(quantileOfSorted([0, 2, 4, 6, 8], 0)).toBe(0);
    expect(quantileOfSorted([0, 2, 4, 6, 8], 1)).toBe(8);
    expect(quantileOfSorted([0, 2, 4, 6, 8], 0.3)).toBeCloseTo(2.4, 12);
    expect(quantileOfSorted([7], 0.9)).toBe(7);
    expect(quantileOfSorted([], 0.5)).toBeNaN();
    for (let trial = 0; trial < 200; trial++) {
      const n = 1 + Math.floor(rng.uniform(0, 30));
      const a = Array.from({ length: n }, () => rng.uniform(-10, 10));
      expect(quantileOfSorted([...a].sort((p, q) => p - q), 0.5)).toBeCloseTo(medianInPlace(a.slice(), n), 12);
    }
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

/** The plain hint walk and foot point (as the merge computed them before its speed work). */
function plainWalk(xs: Float64Array, ys: Float64Array, px: number, py: number, maxDistM: number, hint: number): Omit<Projection, 'maxDistM'> | false {
  const n = xs.length;
  const d2 = (s: number): number => {
    const vx = xs[s + 1]! - xs[s]!;
    const vy = ys[s + 1]! - ys[s]!;
    const wx = px - xs[s]!;
    const wy = py - ys[s]!;
    const len2 = vx * vx + vy * vy;
    let t = len2 > 0 ? (wx * vx + wy * vy) / len2 : 0;
    t = t < 0 ? 0 : t > 1 ? 1 : t;
    return (wx - vx * t) ** 2 + (wy - vy * t) ** 2;
  };
  let s = Math.min(hint, n - 2);
  let d = d2(s);
  for (;;) {
    const dl = s > 0 ? d2(s - 1) : Infinity;
    const dr = s < n - 2 ? d2(s + 1) : Infinity;
    if (dl < d && dl <= dr) [s, d] = [s - 1, dl];
    else if (dr < d) [s, d] = [s + 1, dr];
    else break;
  }
  if (!(d <= maxDistM * maxDistM)) return false;
  const ax = xs[s]!;
  const ay = ys[s]!;
  const len = hypot(xs[s + 1]! - ax, ys[s + 1]! - ay) || 1;
  const vx = (xs[s + 1]! - ax) / len;
  const vy = (ys[s + 1]! - ay) / len;
  const tRaw = ((px - ax) * vx + (py - ay) * vy) / len;
  const t = tRaw < 0 ? 0 : tRaw > 1 ? 1 : tRaw;
  const beyond = s === 0 && tRaw < 0 ? -1 : s === n - 2 && tRaw > 1 ? 1 : 0;
  return { lat: vx * (py - ay) - vy * (px - ax), dist: Math.sqrt(d), pos: s + t, beyond, tx: vx, ty: vy, fx: ax + vx * len * t, fy: ay + vy * len * t };
}

describe('Polyline.project', () => {
  it('walks from a hint and fills the projection as the plain computation does, bit for bit; projectAt is project', () => {
    for (let trial = 0; trial < 300; trial++) {
      const n = 2 + Math.floor(rng.uniform(0, 30));
      const xs = new Float64Array(n);
      const ys = new Float64Array(n);
      for (let i = 1; i < n; i++) {
        // A wandering line with ~1 m steps, some repeated vertices.
        const step = rng.uniform(0, 1) < 0.05 ? 0 : rng.uniform(0.2, 2);
        const a = rng.uniform(-1, 1);
        xs[i] = xs[i - 1]! + step * Math.cos(a);
        ys[i] = ys[i - 1]! + step * Math.sin(a);
      }
      const L = new Polyline(xs, ys);
      const qx = Float64Array.from({ length: 20 }, () => rng.uniform(-5, 40));
      const qy = Float64Array.from({ length: 20 }, () => rng.uniform(-15, 15));
      const maxDistM = rng.uniform(0.5, 20);
      const pr = newProjection();
      const at = newProjection(maxDistM);
      for (let i = 0; i < qx.length; i++) {
        const hint = Math.floor(rng.uniform(0, n));
        const want = plainWalk(xs, ys, qx[i]!, qy[i]!, maxDistM, hint);
        const got = L.project(qx[i]!, qy[i]!, maxDistM, pr, hint);
        expect(got).toBe(want !== false);
        if (want) expect({ lat: pr.lat, dist: pr.dist, pos: pr.pos, beyond: pr.beyond, tx: pr.tx, ty: pr.ty, fx: pr.fx, fy: pr.fy }).toEqual(want);
        for (const h of [hint, -1]) {
          const a = L.projectAt(qx, qy, i, at, h);
          expect(a).toBe(L.project(qx[i]!, qy[i]!, maxDistM, pr, h));
          if (a) expect({ ...at, maxDistM: 0 }).toEqual({ ...pr, maxDistM: 0 });
        }
      }
    }
  });
});
