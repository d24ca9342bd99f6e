import { describe, expect, it } from 'vitest';
import { ringAreaM2 } from '../shared/geometry.ts';
import { clipPolygon, clipPolyline } from './clip.ts';

const box = { minX: 0, minY: -1, maxX: 10, maxY: 1 };

describe('clipPolyline', () => {
  it('keeps the inside and splits where the line leaves and re-enters', () => {
    // A zig-zag: in, out above, back in.
    const xs = [-5, 2, 4, 6, 8, 15];
    const ys = [0, 0, 3, 3, 0, 0];
    const pieces = clipPolyline(xs, ys, 0, xs.length - 1, box);
    expect(pieces).toHaveLength(2);
    expect(pieces[0]![0]).toEqual([0, 0]);
    expect(pieces[0]![1]).toEqual([2, 0]);
    expect(pieces[0]![2]![1]).toBeCloseTo(1, 9);
    expect(pieces[1]![pieces[1]!.length - 1]).toEqual([10, 0]);
  });

  it('returns nothing for a line outside', () => {
    expect(clipPolyline([20, 30], [0, 0], 0, 1, box)).toEqual([]);
  });
});

describe('clipPolygon', () => {
  it('clips a square to the box', () => {
    const ring: Array<[number, number]> = [[-2, -2], [4, -2], [4, 2], [-2, 2]];
    const out = clipPolygon(ring, box);
    expect(ringAreaM2(out)).toBeCloseTo(8, 9);
    expect(clipPolygon([[20, 0], [21, 0], [21, 1]], box)).toEqual([]);
  });
});
