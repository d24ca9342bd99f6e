import { describe, expect, it } from 'vitest';
import { bezier, dist, filletPolyline, insertCuts, offsetPolyline, slicePolyline, stations } from './geometry.ts';

describe('mapgen geometry', () => {
  it('rounds a right-angle corner with the requested radius', () => {
    const pts = filletPolyline([{ xy: [0, 0], radiusM: 0 }, { xy: [100, 0], radiusM: 30 }, { xy: [100, 100], radiusM: 0 }], 10, 10);
    const centre: [number, number] = [70, 30];
    const onArc = pts.filter((p) => p[0] > 70 && p[1] < 30);
    expect(onArc.length).toBeGreaterThan(5);
    for (const p of onArc) expect(dist(p, centre)).toBeCloseTo(30, 6);
    expect(stations(pts).at(-1)).toBeCloseTo(70 + (Math.PI / 2) * 30 + 70, 1);
  });

  it('caps the radius so the arc keeps clear of the reserved ends', () => {
    const pts = filletPolyline([{ xy: [0, 0], radiusM: 0 }, { xy: [40, 0], radiusM: 500 }, { xy: [40, 40], radiusM: 0 }], 30, 30);
    expect(pts.some((p) => p[1] === 0 && p[0] >= 29.999 && p[0] <= 30.001)).toBe(true);
  });

  it('offsets to the left and slices and cuts at exact stations', () => {
    const line: Array<[number, number]> = [[0, 0], [10, 0], [20, 0]];
    expect(offsetPolyline(line, 2)).toEqual([[0, 2], [10, 2], [20, 2]]);
    expect(slicePolyline(line, 2.5, 17.5)).toEqual([[2.5, 0], [10, 0], [17.5, 0]]);
    const { pts, cutIndex } = insertCuts(line, [0, 5, 10, 20]);
    expect(pts).toEqual([[0, 0], [5, 0], [10, 0], [20, 0]]);
    expect(cutIndex).toEqual([0, 1, 2, 3]);
  });

  it('joins two oriented points with a Bezier that starts and ends on them', () => {
    const b = bezier([0, 0], [1, 0], [10, 10], [0, 1]);
    expect(b[0]).toEqual([0, 0]);
    expect(b.at(-1)![0]).toBeCloseTo(10, 9);
    expect(b.at(-1)![1]).toBeCloseTo(10, 9);
  });
});
