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

  it('retain drops points for good and keeps the order in which queries visit the others', () => {
    const g = new PointGrid(x, y, 2);
    const keep = (i: number): boolean => i % 3 !== 0;
    const queries = Array.from({ length: 200 }, () => [rng.uniform(-50, 50), rng.uniform(-50, 50), rng.uniform(0, 6)] as const);
    const out = { buf: new Int32Array(4) }; // grows: read it after each query
    const lists = (px: number, py: number, r: number): number[][] => {
      const nc = g.collectCandidates(px, py, r, out);
      const candidates = Array.from(out.buf.subarray(0, nc));
      const nw = g.collectWithin(px, py, r, out);
      return [candidates, Array.from(out.buf.subarray(0, nw))];
    };
    const before = queries.map(([px, py, r]) => lists(px, py, r));
    g.retain(keep);
    queries.forEach(([px, py, r], q) => {
      const [candidates, within] = lists(px, py, r);
      expect(candidates).toEqual(before[q]![0]!.filter(keep));
      expect(within).toEqual(before[q]![1]!.filter(keep));
    });
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
