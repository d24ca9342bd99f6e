import { describe, expect, it } from 'vitest';
import { Rng } from '../../sim/rng.ts';
import { PointGrid } from './grid.ts';

describe('PointGrid', () => {
  const rng = new Rng(3);
  const n = 2000;
  const x = Float64Array.from({ length: n }, () => rng.uniform(-40, 40));
  const y = Float64Array.from({ length: n }, () => rng.uniform(-40, 40));
  const grid = new PointGrid(x, y, 2);

  it('collectCandidates lists what forEachCandidate visits, in the same order (ties in projections depend on it)', () => {
    const out = { buf: new Int32Array(4) }; // grows
    for (let q = 0; q < 300; q++) {
      const px = rng.uniform(-50, 50);
      const py = rng.uniform(-50, 50);
      const r = rng.uniform(0, 6);
      const visited: number[] = [];
      grid.forEachCandidate(px, py, r, (i) => visited.push(i));
      const m = grid.collectCandidates(px, py, r, out);
      expect(Array.from(out.buf.subarray(0, m))).toEqual(visited);
    }
  });

  it('collectWithin finds exactly the points within r', () => {
    const out = { buf: new Int32Array(4) };
    for (let q = 0; q < 100; q++) {
      const px = rng.uniform(-50, 50);
      const py = rng.uniform(-50, 50);
      const r = rng.uniform(0, 6);
      const want: number[] = [];
      for (let i = 0; i < n; i++) if ((x[i]! - px) ** 2 + (y[i]! - py) ** 2 <= r * r) want.push(i);
      const m = grid.collectWithin(px, py, r, out);
      expect(Array.from(out.buf.subarray(0, m)).sort((a, b) => a - b)).toEqual(want);
    }
  });
});
