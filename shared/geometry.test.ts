import { describe, expect, it } from 'vitest';
import {
  principalAxis,
  densify,
  chamferM,
  inverseTransformPoint,
  pointPolylineDistM,
  polylineLengthM,
  projectOntoPolyline,
  resampleCount,
  resampleSpacing,
  transformPoint,
  wrapAngleRad,
} from './geometry.ts';

describe('geometry', () => {
  const l: Array<[number, number]> = [
    [0, 0],
    [10, 0],
    [10, 10],
  ];
  it('measures and resamples by arc length', () => {
    expect(polylineLengthM(l)).toBe(20);
    const r = resampleCount(l, 5);
    expect(r).toEqual([
      [0, 0],
      [5, 0],
      [10, 0],
      [10, 5],
      [10, 10],
    ]);
    expect(resampleSpacing(l, 1).length).toBe(21);
  });
  it('projects with a signed lateral offset (left positive)', () => {
    const p = projectOntoPolyline([4, 2], l);
    expect(p.lateralM).toBeCloseTo(2);
    expect(p.sM).toBeCloseTo(4);
    expect(projectOntoPolyline([4, -3], l).lateralM).toBeCloseTo(-3);
    expect(pointPolylineDistM([12, 5], l)).toBeCloseTo(2);
  });
  it('chamfer of a line against itself shifted by d is d', () => {
    const a = resampleCount([[0, 0], [30, 0]], 20);
    const b = a.map(([x, y]) => [x, y + 0.3] as [number, number]);
    expect(chamferM(a, a)).toBe(0);
    expect(chamferM(a, b)).toBeCloseTo(0.3, 6);
  });
  it('body <-> world transforms invert each other', () => {
    const w = transformPoint([3, 1], 100, 50, Math.PI / 2);
    expect(w[0]).toBeCloseTo(99);
    expect(w[1]).toBeCloseTo(53);
    const b = inverseTransformPoint(w, 100, 50, Math.PI / 2);
    expect(b[0]).toBeCloseTo(3);
    expect(b[1]).toBeCloseTo(1);
    expect(wrapAngleRad(3 * Math.PI)).toBeCloseTo(Math.PI);
    expect(wrapAngleRad(-3 * Math.PI / 2)).toBeCloseTo(Math.PI / 2);
  });
});

describe('densify', () => {
  it('keeps every vertex and splits each segment evenly to at most the step', () => {
    const d = densify([[0, 0], [3, 0], [3, 1]], 1);
    expect(d).toEqual([[0, 0], [1, 0], [2, 0], [3, 0], [3, 1]]);
    expect(densify([[0, 0], [1, 1]], 10)).toEqual([[0, 0], [1, 1]]);
    expect(densify([], 1)).toEqual([]);
    expect(() => densify([[0, 0]], 0)).toThrow(/maxStepM/);
  });
});

describe('principalAxis', () => {
  it('finds the line through points scattered about it, and its centroid', () => {
    // Points along direction 30 degrees through (2, 1), alternately 0.1 m to either side.
    const u = [Math.cos(Math.PI / 6), Math.sin(Math.PI / 6)];
    const pts = Array.from({ length: 11 }, (_, k) => {
      const t = k - 5;
      const side = k % 2 === 0 ? 0.1 : -0.1;
      return [2 + t * u[0]! - side * u[1]!, 1 + t * u[1]! + side * u[0]!];
    });
    const a = principalAxis(pts.length, (i) => pts[i]![0]!, (i) => pts[i]![1]!);
    expect(Math.abs(a.ux * u[0]! + a.uy * u[1]!)).toBeCloseTo(1, 3);
    expect(Math.hypot(a.ux, a.uy)).toBeCloseTo(1, 12);
    expect(a.cx).toBeCloseTo(2 - 0.1 * (6 / 11 - 5 / 11) * u[1]!, 9);
    expect(a.cy).toBeCloseTo(1 + 0.1 * (6 / 11 - 5 / 11) * u[0]!, 9);
  });
});
