import { describe, expect, it } from 'vitest';
import { deriveSeed, Rng } from './rng.ts';

describe('Rng', () => {
  it('is deterministic per seed and differs between seeds', () => {
    const a = new Rng(7);
    const b = new Rng(7);
    const c = new Rng(8);
    const sa = Array.from({ length: 5 }, () => a.next());
    expect(Array.from({ length: 5 }, () => b.next())).toEqual(sa);
    expect(Array.from({ length: 5 }, () => c.next())).not.toEqual(sa);
    expect(new Rng('veh-001').nextUint32()).toBe(new Rng('veh-001').nextUint32());
    expect(deriveSeed(1, 'a')).toBe(deriveSeed(1, 'a'));
    expect(deriveSeed(1, 'a')).not.toBe(deriveSeed(1, 'b'));
  });

  it('draws uniform and normal deviates with the right moments', () => {
    const r = new Rng(123);
    const n = 20000;
    let su = 0;
    let sn = 0;
    let sn2 = 0;
    let lo = 1;
    let hi = 0;
    for (let i = 0; i < n; i++) {
      const u = r.next();
      lo = Math.min(lo, u);
      hi = Math.max(hi, u);
      su += u;
      const z = r.normal(2, 3);
      sn += z;
      sn2 += z * z;
    }
    expect(lo).toBeGreaterThanOrEqual(0);
    expect(hi).toBeLessThan(1);
    expect(su / n).toBeCloseTo(0.5, 1);
    const mean = sn / n;
    expect(mean).toBeCloseTo(2, 1);
    expect(Math.sqrt(sn2 / n - mean * mean)).toBeCloseTo(3, 1);
  });

  it('chooses, weights and forks', () => {
    const r = new Rng(5);
    const counts = [0, 0, 0];
    for (let i = 0; i < 3000; i++) counts[r.weightedIndex([1, 0, 2])]!++;
    expect(counts[1]).toBe(0);
    expect(counts[2]! / counts[0]!).toBeGreaterThan(1.6);
    expect(['x', 'y']).toContain(r.choice(['x', 'y']));
    expect(() => r.choice([])).toThrow(/must not be empty/);
    expect(() => r.int(0)).toThrow(/positive integer/);
    const f1 = new Rng(9).fork('gnss').next();
    const f2 = new Rng(9).fork('gnss').next();
    expect(f1).toBe(f2);
    expect(new Rng(9).fork('other').next()).not.toBe(f1);
    expect(() => new Rng(Number.NaN)).toThrow(/finite/);
  });
});
