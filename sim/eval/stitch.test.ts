import { describe, expect, it } from 'vitest';
import { stitchPolylines } from './stitch.ts';
import { evaluateMap } from './evaluate.ts';
import type { Primitive, ScoredPrimitive } from '../../shared/schema.ts';

describe('stitchPolylines', () => {
  it('joins pieces that continue each other, in either direction', () => {
    const out = stitchPolylines([
      { points: [[0, 0], [10, 0]], score: 1 },
      { points: [[20, 0], [10.05, 0]], score: 0.5 }, // reversed, 5 cm gap
      { points: [[20, 0], [30, 0]], score: 1 },
    ], 0.3);
    expect(out).toHaveLength(1);
    expect(out[0]!.points[0]).toEqual([0, 0]);
    expect(out[0]!.points[out[0]!.points.length - 1]).toEqual([30, 0]);
    expect(out[0]!.score).toBeCloseTo((10 + 0.5 * 9.95 + 10) / 29.95, 6);
  });
  it('does not join at a junction of three ends, nor pieces farther apart than the tolerance', () => {
    const t = stitchPolylines([
      { points: [[0, 0], [10, 0]] },
      { points: [[10, 0], [20, 0]] },
      { points: [[10, 0], [10, 10]] },
      { points: [[21, 0], [30, 0]] },
    ], 0.3);
    expect(t).toHaveLength(4);
  });
  it('closes loops once', () => {
    const sq = stitchPolylines([
      { points: [[0, 0], [10, 0]] },
      { points: [[10, 0], [10, 10]] },
      { points: [[10, 10], [0, 10]] },
      { points: [[0, 10], [0, 0]] },
    ], 0.1);
    expect(sq).toHaveLength(1);
    expect(sq[0]!.parts.sort()).toEqual([0, 1, 2, 3]);
  });
});

describe('evaluation with stitching', () => {
  it('a ground-truth line split into ways matches one long prediction, and not without stitching', () => {
    const gt: Primitive[] = [];
    for (let x = 0; x < 100; x += 7) gt.push({ cls: 'road_boundary', kind: 'curb', points: [[x, 5], [Math.min(x + 7, 100), 5]] });
    const pred: ScoredPrimitive[] = [{ cls: 'road_boundary', kind: 'curb', points: [[0, 5.05], [100, 5.05]], score: 0.9 }];
    const stitched = evaluateMap(gt, pred, { relative: false });
    const raw = evaluateMap(gt, pred, { relative: false, stitchToleranceM: 0 });
    expect(stitched.classes.road_boundary.ap['0.2']).toBeCloseTo(1, 6);
    expect(raw.classes.road_boundary.ap['0.2']!).toBeLessThan(0.5);
  });
});
