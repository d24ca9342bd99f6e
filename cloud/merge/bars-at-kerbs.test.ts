/**
 * barsAtKerbs: a consensus stop line that runs on past a road boundary near its end is cut at the
 * boundary; one that a boundary crosses in its middle, or that crosses a weak boundary, is kept.
 */
import { describe, expect, it } from 'vitest';
import type { PrimitiveClass, XY } from '../../shared/schema.ts';
import { barsAtKerbs } from './bars-at-kerbs.ts';
import type { Consensus } from './consensus.ts';
import type { Evidence } from './evidence.ts';
import { DEFAULT_MERGE_OPTIONS } from './options.ts';

const O = { maxTrimM: DEFAULT_MERGE_OPTIONS.stopLineKerbTrimM, maxShare: DEFAULT_MERGE_OPTIONS.stopLineKerbTrimShare, minSupportShare: DEFAULT_MERGE_OPTIONS.stopLineKerbMinSupportShare };

function prim(cls: PrimitiveClass, points: XY[], supportDrives: number): { c: Consensus; e: Evidence } {
  return {
    c: { cls, points, obs: [], spreadM: 0.1 },
    e: { supportDrives, supportObservations: supportDrives, firstSeenUnixMs: 0, lastSeenUnixMs: 0, missedDrives: 0, missedSinceLastSeen: 0, missedBeforeNew: 0, seenShare: 1, score: 0.5 },
  };
}

const ends = (pts: readonly XY[] | undefined): number[] => (pts ? [pts[0]!, pts[pts.length - 1]!].flat().map((v) => Math.round(v * 1000) / 1000) : []);

// A road along x between kerbs at y = -3.5 and y = 3.5 (20 drives), a centre divider at y = 0.
const right = prim('road_boundary', [[0, -3.5], [40, -3.5]], 20);
const left = prim('road_boundary', [[0, 3.5], [40, 3.5]], 20);
const centre = prim('lane_divider', [[0, 0], [40, 0]], 20);

describe('barsAtKerbs', () => {
  it('cuts the overhang of a bar past the kerb, at the kerb, at either end', () => {
    // From 2 m left of the centre line to 0.8 m past the right kerb, drawn both ways.
    const out = barsAtKerbs([right, left, centre, prim('stop_line', [[20, 2], [20, -4.3]], 8), prim('stop_line', [[25, -4.3], [25, 2]], 8)], O);
    expect(out.slice(0, 3)).toEqual([undefined, undefined, undefined]);
    expect(ends(out[3])).toEqual([20, 2, 20, -3.5]);
    expect(ends(out[4])).toEqual([25, -3.5, 25, 2]);
  });

  it('cuts both ends of a bar across a one-way road, keeping its inner vertices', () => {
    const out = barsAtKerbs([right, left, prim('stop_line', [[10, -4.5], [10.1, 0], [10, 4.2]], 8)], O);
    const bar = out[2]!;
    expect(bar).toHaveLength(3);
    expect(bar[0]![1]).toBeCloseTo(-3.5, 9);
    expect(bar[1]).toEqual([10.1, 0]);
    expect(bar[2]![1]).toBeCloseTo(3.5, 9);
  });

  it('keeps a bar that a boundary crosses in its middle, one past the longest cut, and one inside the road', () => {
    const island = prim('road_boundary', [[30, -10], [30, 10]], 20); // runs across the bar below
    const middle = prim('stop_line', [[26, 1], [34, 1]], 8); // crossed 4 m from either end of 8 m
    const far = prim('stop_line', [[15, 0], [15, -16.5]], 8); // 13 m past the kerb: more than 2.5 m
    const inside = prim('stop_line', [[5, 0], [5, -3.4]], 8);
    expect(barsAtKerbs([right, left, island, middle, far, inside], O)).toEqual([undefined, undefined, undefined, undefined, undefined, undefined]);
  });

  it('ignores a boundary with less than half the bar\'s support, and is off with a zero length or share', () => {
    const weak = prim('road_boundary', [[0, -3.5], [40, -3.5]], 3);
    const bar = prim('stop_line', [[20, 2], [20, -4.3]], 8);
    const short = prim('stop_line', [[20, 0], [20, -4.8]], 8); // 1.3 m past: more than a fifth of the bar
    expect(barsAtKerbs([weak, bar], O)[1]).toBeUndefined();
    expect(barsAtKerbs([right, bar], { ...O, maxTrimM: 0 })[1]).toBeUndefined();
    expect(barsAtKerbs([right, bar], { ...O, maxShare: 0 })[1]).toBeUndefined();
    expect(ends(barsAtKerbs([right, bar], O)[1])).toEqual([20, 2, 20, -3.5]);
    expect(barsAtKerbs([right, short], O)[1]).toBeUndefined();
  });
});
