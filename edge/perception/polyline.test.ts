import { describe, expect, it } from 'vitest';
import { linkPolylines, type Pt } from './polyline.ts';

/** A straight piece from `a` to `b` with a vertex every 0.15 m (as traced from a grid). */
function piece(a: Pt, b: Pt): Pt[] {
  const n = Math.max(1, Math.round(Math.hypot(b[0] - a[0], b[1] - a[1]) / 0.15));
  return Array.from({ length: n + 1 }, (_, k): Pt => [a[0] + ((b[0] - a[0]) * k) / n, a[1] + ((b[1] - a[1]) * k) / n]);
}

/**
 * Dashes of one divider along y = 0 (1.5 m seen of each, 7.5 m apart: 6 m gaps), each tilted by
 * `tiltM` at alternating ends: a short dash's own direction is a few degrees off, which its
 * extension across the gap turns into more than the sideways tolerance.
 */
function tiltedDashes(count: number, tiltM: number): Pt[][] {
  return Array.from({ length: count }, (_, k) => {
    const x = 7.5 * k;
    const s = k % 2 === 0 ? 1 : -1;
    return piece([x, (-s * tiltM) / 2], [x + 1.5, (s * tiltM) / 2]);
  });
}

const LINK = { maxGapM: 8, maxAngleRad: 0.2, maxLateralM: 0.35 };

describe('linkPolylines: the collinear test', () => {
  it('joins short dashes of one line that their own directions cannot carry across the gap', () => {
    const dashes = tiltedDashes(4, 0.15); // 5.7 degrees each way
    expect(linkPolylines(dashes, LINK)).toHaveLength(4); // the extension test alone: 0.6 m aside at 6 m
    const chains = linkPolylines(dashes, { ...LINK, fitMaxResidualM: 0.3 });
    expect(chains).toHaveLength(1);
    expect(chains[0]![0]![0]).toBeCloseTo(0, 6);
    expect(chains[0]![chains[0]!.length - 1]![0]).toBeCloseTo(7.5 * 3 + 1.5, 6);
  });

  it('keeps apart a dash of the next line over, a crossing piece, and pieces side by side', () => {
    const o = { ...LINK, fitMaxResidualM: 0.3 };
    // The next dash lies 2.5 m aside (the neighbouring lane's line, its dashes staggered).
    expect(linkPolylines([piece([0, 0], [1.5, 0.05]), piece([7.5, 2.5], [9, 2.45])], o)).toHaveLength(2);
    // A dash bent at its end (a crossing line's paint traced into it): no one line fits both.
    expect(linkPolylines([piece([0, 0], [1.5, 0]), [...piece([7.5, 0], [8.5, 0]), ...piece([8.5, 0], [9.1, 0.5]).slice(1)]], o)).toHaveLength(2);
    // A piece 6 m on, at 25 degrees (a line crossing in a junction).
    expect(linkPolylines([piece([0, 0], [1.5, 0]), piece([7.5, 0], [7.5 + 1.5 * Math.cos(0.44), 1.5 * Math.sin(0.44)])], o)).toHaveLength(2);
    // Two pieces overlapping along the line (one beside the other's end, not facing it).
    expect(linkPolylines([piece([0, 0], [3, 0]), piece([2, 0.1], [5, 0.1])], { ...o, maxLateralM: 0 })).toHaveLength(2);
  });

  it('leaves the other tests as they were when off', () => {
    const dashes = tiltedDashes(3, 0.02);
    expect(linkPolylines(dashes, { ...LINK, fitMaxResidualM: 0 })).toEqual(linkPolylines(dashes, LINK));
    expect(linkPolylines(dashes, LINK)).toHaveLength(1); // straight enough for the extension test
  });
});
