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

  it('both layouts visit cells row by row, column by column, points in insertion order', () => {
    // Dense: the grid above. Sparse: a few hundred points in clumps over 40 km at 0.5 m cells
    // (6.4e9 cells; the dense layout's prefix sums would need 25 GB).
    const m = 600;
    const sx = new Float64Array(m);
    const sy = new Float64Array(m);
    for (let i = 0; i < m; i++) {
      const clump = i % 12;
      sx[i] = -20_000 + clump * 3_500 + rng.uniform(-3, 3);
      sy[i] = -20_000 + ((clump * 7) % 12) * 3_500 + rng.uniform(-3, 3);
    }
    const sparse = new PointGrid(sx, sy, 0.5);
    const out = { buf: new Int32Array(4) };
    for (const [g, gx, gy, cellM, centres] of [
      [grid, x, y, 2, [[0, 0]]],
      [sparse, sx, sy, 0.5, Array.from({ length: 12 }, (_, c) => [-20_000 + c * 3_500, -20_000 + ((c * 7) % 12) * 3_500])],
    ] as const) {
      for (let q = 0; q < 300; q++) {
        const [ox, oy] = centres[q % centres.length]!;
        const px = ox! + rng.uniform(-50, 50);
        const py = oy! + rng.uniform(-50, 50);
        const r = rng.uniform(0, 6);
        const cell = (v: number): number => Math.floor(v / cellM);
        const want: number[] = [];
        for (let i = 0; i < gx.length; i++) {
          const cx = cell(gx[i]!);
          const cy = cell(gy[i]!);
          if (cx >= cell(px - r) && cx <= cell(px + r) && cy >= cell(py - r) && cy <= cell(py + r)) want.push(i);
        }
        want.sort((a, b) => cell(gy[a]!) - cell(gy[b]!) || cell(gx[a]!) - cell(gx[b]!) || a - b);
        const nc = g.collectCandidates(px, py, r, out);
        expect(Array.from(out.buf.subarray(0, nc))).toEqual(want);
        const visited: number[] = [];
        g.forEachCandidate(px, py, r, (i) => visited.push(i));
        expect(visited).toEqual(want);
        const nw = g.collectWithin(px, py, r, out);
        expect(Array.from(out.buf.subarray(0, nw))).toEqual(want.filter((i) => (gx[i]! - px) ** 2 + (gy[i]! - py) ** 2 <= r * r));
      }
    }
    // retain on the sparse layout: the kept points, in the same order.
    const before = sparse.collectCandidates(-20_000, -20_000, 5, out);
    const all = Array.from(out.buf.subarray(0, before));
    sparse.retain((i) => i % 2 === 0);
    const after = sparse.collectCandidates(-20_000, -20_000, 5, out);
    expect(Array.from(out.buf.subarray(0, after))).toEqual(all.filter((i) => i % 2 === 0));
    expect(all.length).toBeGreaterThan(10);
  });

  it('the sparse layout with long rows: two lines of points far apart, columns out of order', () => {
    const m = 400;
    const lx = Float64Array.from({ length: m }, (_, i) => ((i * 7919) % m) * 0.37);
    const ly = Float64Array.from({ length: m }, (_, i) => (i % 2) * 30_000 + (i % 5 === 0 ? 0.1 : 0));
    const g = new PointGrid(lx, ly, 0.5);
    const out = { buf: new Int32Array(4) };
    for (const [px, py] of [[40, 0], [100, 30_000], [0, 15_000]] as const) {
      const nc = g.collectWithin(px, py, 20, out);
      const want: number[] = [];
      for (let i = 0; i < m; i++) if ((lx[i]! - px) ** 2 + (ly[i]! - py) ** 2 <= 400) want.push(i);
      want.sort((a, b) => Math.floor(ly[a]! / 0.5) - Math.floor(ly[b]! / 0.5) || Math.floor(lx[a]! / 0.5) - Math.floor(lx[b]! / 0.5) || a - b);
      expect(Array.from(out.buf.subarray(0, nc))).toEqual(want);
    }
  });

  it('refuses only a span of more than 2^24 rows or columns', () => {
    expect(() => new PointGrid(Float64Array.of(0, 1e7), Float64Array.of(0, 0), 0.5)).toThrow(/too large: points span too far/);
    expect(() => new PointGrid(Float64Array.of(0, 4_250), Float64Array.of(0, 4_250), 0.5)).not.toThrow();
  });
});
