import { describe, expect, it } from 'vitest';
import type { LocalPrimitive } from './localmap.ts';
import { LineStitcher } from './stitch.ts';

const line = (pts: Array<[number, number]>, over: Partial<LocalPrimitive> = {}): LocalPrimitive => ({
  cls: 'road_boundary',
  kind: 'curb',
  score: 0.8,
  pointsLocal: pts,
  poseSigmaM: 0.3,
  tUnixMs: 1000,
  ...over,
});

describe('LineStitcher', () => {
  it('joins the pieces a chunk border cut, in either order and direction, and holds them until no continuation comes', () => {
    const s = new LineStitcher({ holdRounds: 2 });
    expect(s.push([line([[0, 0], [36, 0.1]], { score: 0.6 })])).toEqual([]);
    // next chunk: the continuation, drawn the other way round, 3 cm off at the border
    expect(s.push([line([[72, 0.2], [36.02, 0.13]], { score: 0.9, kind: 'barrier', tUnixMs: 2000, poseSigmaM: 0.5 })])).toEqual([]);
    expect(s.push([])).toEqual([]);
    const out = s.push([]);
    expect(out).toHaveLength(1);
    const p = out[0]!;
    expect(p.pointsLocal[0]).toEqual([0, 0]);
    expect(p.pointsLocal.at(-1)).toEqual([72, 0.2]);
    expect(p.pointsLocal).toHaveLength(3);
    expect(p.score).toBeCloseTo(0.75, 2); // length-weighted
    expect(p.kind).toBe('curb'); // tie on length: the first
    expect(p.tUnixMs).toBe(2000);
    expect(p.poseSigmaM).toBe(0.5);
    expect(s.joins).toBe(1);
    expect(s.holding).toBe(false);
  });

  it('prepends a piece that ends where a held line starts', () => {
    const s = new LineStitcher();
    s.push([line([[10, 0], [20, 0]])]);
    s.push([line([[0, 0], [9.7, 0]])]);
    const [p] = s.flush();
    expect(p!.pointsLocal).toEqual([[0, 0], [9.7, 0], [10, 0], [20, 0]]);
  });

  it('does not join across a corner, a gap, or another class', () => {
    const s = new LineStitcher({ holdRounds: 10 });
    s.push([line([[0, 0], [10, 0]])]);
    s.push([line([[10, 0], [10, 10]])]); // 90 degrees
    s.push([line([[11.5, 0], [20, 0]])]); // 1.5 m gap
    s.push([line([[10, 0.05], [20, 0.05]], { cls: 'lane_divider', kind: undefined, style: 'solid' })]);
    expect(s.joins).toBe(0);
    expect(s.flush()).toHaveLength(4);
  });

  it('passes points and polygons straight through and releases long lines at maxLengthM', () => {
    const s = new LineStitcher({ maxLengthM: 50 });
    const sign: LocalPrimitive = { cls: 'traffic_sign', signCode: '', score: 0.5, pointsLocal: [[1, 2]], poseSigmaM: 0.2, tUnixMs: 5 };
    expect(s.push([sign])).toEqual([sign]);
    expect(s.push([line([[0, 0], [30, 0]])])).toEqual([]);
    const out = s.push([line([[30, 0], [60, 0]])]);
    expect(out).toHaveLength(1);
    expect(out[0]!.pointsLocal.at(-1)).toEqual([60, 0]);
  });

  it('takes the style with the most length', () => {
    const s = new LineStitcher();
    s.push([line([[0, 0], [5, 0]], { cls: 'lane_divider', kind: undefined, style: 'solid' })]);
    s.push([line([[5, 0], [30, 0]], { cls: 'lane_divider', kind: undefined, style: 'dashed' })]);
    expect(s.flush()[0]!.style).toBe('dashed');
  });
});
