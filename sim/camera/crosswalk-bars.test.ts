import { describe, expect, it } from 'vitest';
import type { XY } from '../../shared/schema.ts';
import { stripeShape } from '../crosswalk-stripes.ts';
import { crossSpan } from './map-layer.ts';

/** The long axis the renderer paints a crosswalk's bars along (scene.ts, per crosswalk). */
function crosswalkLongAxis(xs: Float64Array, ys: Float64Array, n: number): readonly [number, number] {
  const pts: XY[] = [];
  for (let i = 0; i < n; i++) pts.push([xs[i]!, ys[i]!]);
  return stripeShape(pts, true).axis;
}

/** Even-odd point-in-polygon. */
function inside(xs: Float64Array, ys: Float64Array, x: number, y: number): boolean {
  let c = false;
  for (let i = 0, j = xs.length - 1; i < xs.length; j = i++) {
    if (ys[i]! > y !== ys[j]! > y && x < ((xs[j]! - xs[i]!) * (y - ys[i]!)) / (ys[j]! - ys[i]!) + xs[i]!) c = !c;
  }
  return c;
}

function outline(points: ReadonlyArray<readonly [number, number]>): { xs: Float64Array; ys: Float64Array } {
  return { xs: Float64Array.from(points.map((p) => p[0])), ys: Float64Array.from(points.map((p) => p[1])) };
}

describe('crosswalk bars (camera simulator)', () => {
  it('takes the long axis from the whole sides, not the longest single edge', () => {
    // 12 m across the road (along y), 4.5 m deep (along x); each long side drawn as three 4 m
    // edges (Karlsruhe draws crosswalk sides with intermediate nodes): the longest edge is a short side.
    const { xs, ys } = outline([[0, 0], [0, 4], [0, 8], [0, 12], [4.5, 12], [4.5, 8], [4.5, 4], [4.5, 0]]);
    const [ex, ey] = crosswalkLongAxis(xs, ys, xs.length);
    expect(Math.abs(ex)).toBeLessThan(1e-9);
    expect(Math.abs(ey)).toBeCloseTo(1, 9);
  });

  it('keeps every bar of a skewed crossing inside its outline, and covers it', () => {
    // A parallelogram: long sides 12 m along y, the short sides skewed 25 degrees (a crossing
    // over a road that meets the kerb at an angle); long sides split into several edges.
    const k = Math.tan((25 * Math.PI) / 180);
    const { xs, ys } = outline([[0, 0], [0, 5], [0, 12], [4.5, 12 + 4.5 * k], [4.5, 6 + 4.5 * k], [4.5, 4.5 * k]]);
    const n = xs.length;
    const [ex, ey] = crosswalkLongAxis(xs, ys, n);
    expect(Math.abs(ey)).toBeCloseTo(1, 9);
    let e0 = Infinity;
    let e1 = -Infinity;
    for (let i = 0; i < n; i++) {
      e0 = Math.min(e0, xs[i]! * ex + ys[i]! * ey);
      e1 = Math.max(e1, xs[i]! * ex + ys[i]! * ey);
    }
    let painted = 0;
    for (let a0 = e0; a0 + 0.5 <= e1; a0 += 1) {
      const span = crossSpan(xs, ys, n, ex, ey, a0, a0 + 0.5);
      if (span === undefined) continue;
      // The bar's four corners (world x, y), nudged inwards by a millimetre.
      for (const [a, q] of [[a0 + 1e-3, span[0] + 1e-3], [a0 + 0.5 - 1e-3, span[0] + 1e-3], [a0 + 1e-3, span[1] - 1e-3], [a0 + 0.5 - 1e-3, span[1] - 1e-3]] as const) {
        expect(inside(xs, ys, a * ex - q * ey, a * ey + q * ex)).toBe(true);
      }
      painted += (span[1] - span[0]) * 0.5;
    }
    // The bars fill about half of the outline (0.5 m bars at a 1 m pitch), less the skewed ends.
    const area = 12 * 4.5;
    expect(painted).toBeGreaterThan(0.3 * area);
    expect(painted).toBeLessThanOrEqual(0.55 * area);
  });

  it('paints nothing outside the outline', () => {
    const { xs, ys } = outline([[0, 0], [0, 12], [4.5, 12], [4.5, 0]]);
    expect(crossSpan(xs, ys, 4, 0, 1, 12.5, 13)).toBeUndefined();
    expect(crossSpan(xs, ys, 4, 0, 1, -1, -0.5)).toBeUndefined();
    expect(crossSpan(xs, ys, 4, 0, 1, 3, 3.5)).toEqual([expect.closeTo(-4.5, 9), expect.closeTo(0, 9)]);
  });
});
