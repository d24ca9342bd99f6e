/**
 * barsAlongLines: a consensus stop line that runs beside a divider or boundary, parallel to it,
 * is that line read as a bar; a bar across its lane, whose ends touch the lines, is not.
 */
import { describe, expect, it } from 'vitest';
import type { PrimitiveClass, XY } from '../../shared/schema.ts';
import { barsAlongLines } from './bars-along-lines.ts';
import type { Consensus } from './consensus.ts';
import type { Evidence } from './evidence.ts';
import { DEFAULT_MERGE_OPTIONS } from './options.ts';

const O = { alongM: DEFAULT_MERGE_OPTIONS.stopLineAlongM, maxAngleDeg: DEFAULT_MERGE_OPTIONS.stopLineAlongMaxDeg, minShare: DEFAULT_MERGE_OPTIONS.stopLineAlongShare };

function prim(cls: PrimitiveClass, points: XY[], supportDrives: number): { c: Consensus; e: Evidence } {
  return {
    c: { cls, points, obs: [], spreadM: 0.1 },
    e: { supportDrives, supportObservations: supportDrives, firstSeenUnixMs: 0, lastSeenUnixMs: 0, missedDrives: 0, missedSinceLastSeen: 0, missedBeforeNew: 0, seenShare: 1, score: 0.5 },
  };
}

// A road along x: a dashed divider at y = 0 and a kerb at y = 3.5, seen by 20 drives.
const divider = prim('lane_divider', [[0, 0], [40, 0]], 20);
const kerb = prim('road_boundary', [[0, 3.5], [25, 3.5], [40, 6]], 20);

describe('barsAlongLines', () => {
  it('drops a bar lying along a divider (a dash read as a bar) and one along a kerb, even a little askew', () => {
    const dash = prim('stop_line', [[10, 0.3], [13, 0.25]], 6);
    const atKerb = prim('stop_line', [[5, 3.2], [9, 3.6]], 5);
    expect(barsAlongLines([divider, kerb, dash, atKerb], O)).toEqual([false, false, true, true]);
  });

  it('keeps a bar across the lane, from the divider to the kerb, and a skewed one (40 degrees)', () => {
    const across = prim('stop_line', [[20, 0], [20, 3.5]], 6);
    const skewed = prim('stop_line', [[30, 0.1], [30 + 3.5 / Math.tan((40 * Math.PI) / 180), 3.6]], 6);
    expect(barsAlongLines([divider, kerb, across, skewed], O)).toEqual([false, false, false, false]);
  });

  it('keeps a bar that only partly runs beside a line, or beside a line with less support than its own', () => {
    // 6 m long, 1.5 m of it beside the divider's end: most of it lies past the line.
    const partly = prim('stop_line', [[38.5, 0.2], [44.5, 0.2]], 6);
    const weakLine = prim('lane_divider', [[0, 10], [20, 10]], 3);
    const strongBar = prim('stop_line', [[5, 10.2], [9, 10.2]], 8);
    expect(barsAlongLines([divider, partly, weakLine, strongBar], O)).toEqual([false, false, false, false]);
  });

  it('is off with a zero distance or share', () => {
    const dash = prim('stop_line', [[10, 0.3], [13, 0.25]], 6);
    expect(barsAlongLines([divider, dash], { ...O, alongM: 0 })).toEqual([false, false]);
    expect(barsAlongLines([divider, dash], { ...O, minShare: 0 })).toEqual([false, false]);
  });
});
