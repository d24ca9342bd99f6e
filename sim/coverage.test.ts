import { describe, expect, it } from 'vitest';
import type { Primitive } from '../shared/schema.ts';
import { coverageOf, type CoveragePose } from './coverage.ts';

/** A drive east along y = 0 from x = 0 to x = lengthM, a pose every metre. */
const eastbound = (lengthM: number): CoveragePose[] => Array.from({ length: lengthM + 1 }, (_, i) => ({ xM: i, yM: 0, yawRad: 0 }));

describe('coverageOf', () => {
  const divider: Primitive = { cls: 'lane_divider', style: 'dashed', points: [[0, 1.75], [400, 1.75]] };
  const farCurb: Primitive = { cls: 'road_boundary', kind: 'curb', points: [[0, 40], [400, 40]] };
  const sign: Primitive = { cls: 'traffic_sign', signCode: 'de205', points: [[150, -6]] };
  it('keeps what at least two drives had in their sensor field, cut where coverage ends', () => {
    const drives = [eastbound(200), eastbound(250), eastbound(300)];
    const c = coverageOf([divider, farCurb, sign], drives, { minDrives: 2, aheadM: 30, behindM: 0, lateralM: 15, stepM: 2 });
    const d = c.covered.filter((p) => p.cls === 'lane_divider');
    expect(d).toHaveLength(1);
    // two drives reach x = 250, and each sees 30 m ahead of its last pose
    expect(d[0]!.points[0]![0]).toBe(0);
    expect(d[0]!.points[d[0]!.points.length - 1]![0]).toBeGreaterThanOrEqual(278);
    expect(d[0]!.points[d[0]!.points.length - 1]![0]).toBeLessThanOrEqual(282);
    expect(c.covered.some((p) => p.cls === 'road_boundary')).toBe(false); // 40 m to the side
    expect(c.covered.some((p) => p.cls === 'traffic_sign')).toBe(true);
    expect(Math.max(...c.drivesPerPlace)).toBe(3);
    // each place names its drives (for the realised floor) and the direction across the line
    expect(c.places.map((p) => p.drives.length)).toEqual(c.drivesPerPlace);
    expect(c.places[0]).toEqual({ drives: [0, 1, 2], across: [0, 1] }); // divider along east: across is north
    const last = c.places[c.places.length - 1]!; // the sign: a point has no direction
    expect(last.across).toBeNull();
    expect(c.places.some((p) => p.drives.join() === '1,2')).toBe(true); // beyond x = 230 only drives 1 and 2
    expect(c.totalLengthM).toBeCloseTo(800, 6);
  });
  it('needs the field to face the place: a point behind every pose is not seen', () => {
    const c = coverageOf([{ cls: 'traffic_light', points: [[-20, 0]] }], [eastbound(100), eastbound(100)], { minDrives: 1, behindM: 0 });
    expect(c.covered).toHaveLength(0);
  });
});
