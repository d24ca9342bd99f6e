import { describe, expect, it } from 'vitest';
import type { Consensus } from './consensus.ts';
import { movedStretches, recentShiftM, replaceStretches } from './recent-shift.ts';
import type { Prepared } from './prepare.ts';

/** The fields of Prepared that recentShiftM reads: one observation per [drive, tUnixMs, vertices]. */
function prepared(obs: Array<{ drive: number; t: number; pts: Array<[number, number]> }>): { p: Prepared; vx: Float64Array; vy: Float64Array } {
  const vx: number[] = [];
  const vy: number[] = [];
  const vStart: number[] = [];
  const vCount: number[] = [];
  for (const o of obs) {
    vStart.push(vx.length);
    vCount.push(o.pts.length);
    for (const [x, y] of o.pts) {
      vx.push(x);
      vy.push(y);
    }
  }
  const p = { nObs: obs.length, drive: Int32Array.from(obs, (o) => o.drive), tUnixMs: Float64Array.from(obs, (o) => o.t), vStart: Int32Array.from(vStart), vCount: Int32Array.from(vCount) } as unknown as Prepared;
  return { p, vx: Float64Array.from(vx), vy: Float64Array.from(vy) };
}

const along = (y: number): Array<[number, number]> => [[0, y], [5, y], [10, y], [15, y], [20, y]];

describe('recentShiftM', () => {
  const split = { afterUnixMs: 1000, minDrives: 2 };
  it('measures how far the drives since the split place a line from the drives before it', () => {
    // Drives 1-3 before (y 0, 0.05, -0.05), drives 4-5 after, 0.8 m aside (a repainted line).
    const { p, vx, vy } = prepared([
      { drive: 1, t: 500, pts: along(0) },
      { drive: 2, t: 600, pts: along(0.05) },
      { drive: 3, t: 700, pts: along(-0.05) },
      { drive: 4, t: 1500, pts: along(0.8) },
      { drive: 5, t: 1600, pts: along(0.85) },
    ]);
    const c: Consensus = { cls: 'lane_divider', points: [[0, 0.2], [20, 0.2]], obs: [0, 1, 2, 3, 4], spreadM: 0.3 };
    // The medians differ by 0.825 m; the figure is that less twice its standard error.
    const m = recentShiftM(c, p, vx, vy, split)!;
    expect(m).toBeGreaterThan(0.6);
    expect(m).toBeLessThan(0.825);
    // Where the consensus lies does not matter, only the two groups.
    expect(recentShiftM({ ...c, points: [[0, -1], [20, -1]] }, p, vx, vy, split)).toBeCloseTo(m, 6);
    // One drive after the split is not enough to say.
    expect(recentShiftM({ ...c, obs: [0, 1, 2, 3] }, p, vx, vy, split)).toBeUndefined();
  });
  it('says little when the recent drives disagree with each other', () => {
    // Recent drives at 0.1 and 0.9 m: medians 0.5 m apart, but too uncertain to call a move.
    const { p, vx, vy } = prepared([
      { drive: 1, t: 500, pts: along(0) },
      { drive: 2, t: 600, pts: along(0.05) },
      { drive: 3, t: 700, pts: along(-0.05) },
      { drive: 4, t: 1500, pts: along(0.1) },
      { drive: 5, t: 1600, pts: along(0.9) },
    ]);
    const c: Consensus = { cls: 'lane_divider', points: [[0, 0], [20, 0]], obs: [0, 1, 2, 3, 4], spreadM: 0.3 };
    expect(recentShiftM(c, p, vx, vy, split)!).toBeLessThan(0.2);
  });
  it('is about zero when both groups agree, and measures points by their median position', () => {
    const { p, vx, vy } = prepared([
      { drive: 1, t: 500, pts: [[3, 4]] },
      { drive: 2, t: 600, pts: [[3.1, 4]] },
      { drive: 3, t: 1500, pts: [[3.05, 4.05]] },
      { drive: 4, t: 1600, pts: [[2.95, 3.95]] },
    ]);
    const c: Consensus = { cls: 'traffic_sign', signCode: '', points: [[3, 4]], obs: [0, 1, 2, 3], spreadM: 0 };
    expect(recentShiftM(c, p, vx, vy, split)!).toBeLessThan(0.06);
  });
  it('does not take three recent views that happen to agree for a move when the drives scatter that much anyway', () => {
    // A crosswalk's centroid as ten earlier drives saw it, scattered +-0.6 m (partial views);
    // three recent drives, two of them agreeing 0.9 m off: their own spread is ~0, the pooled one
    // is not. (With the recent drives' own spread this measured 0.58 m: a move past movedThresholdM.)
    const earlier = [-0.6, -0.4, -0.3, -0.1, 0, 0.05, 0.2, 0.3, 0.45, 0.6];
    const { p, vx, vy } = prepared([
      ...earlier.map((x, k) => ({ drive: k + 1, t: 500 + k, pts: [[x, 0], [x + 4, 0], [x + 4, 3], [x, 3]] as Array<[number, number]> })),
      { drive: 20, t: 1500, pts: [[0.9, 0], [4.9, 0], [4.9, 3], [0.9, 3]] },
      { drive: 21, t: 1600, pts: [[0.9, 0], [4.9, 0], [4.9, 3], [0.9, 3]] },
      { drive: 22, t: 1700, pts: [[0, 0], [4, 0], [4, 3], [0, 3]] },
    ]);
    const c: Consensus = { cls: 'crosswalk', points: [[0, 0], [4, 0], [4, 3], [0, 3]], obs: Array.from({ length: 13 }, (_, k) => k), spreadM: 0 };
    expect(recentShiftM(c, p, vx, vy, split)!).toBeLessThan(0.5); // movedThresholdM
    // The same three recent views 1.5 m off, every one of them: that is a move.
    const moved = prepared([
      ...earlier.map((x, k) => ({ drive: k + 1, t: 500 + k, pts: [[x, 0], [x + 4, 0], [x + 4, 3], [x, 3]] as Array<[number, number]> })),
      ...[20, 21, 22].map((d, k) => ({ drive: d, t: 1500 + k, pts: [[1.5, 0], [5.5, 0], [5.5, 3], [1.5, 3]] as Array<[number, number]> })),
    ]);
    expect(recentShiftM(c, moved.p, moved.vx, moved.vy, split)!).toBeGreaterThan(0.5);
  });
});

describe('recentShiftM of a crosswalk seen in part', () => {
  const split = { afterUnixMs: 1000, minDrives: 2 };
  // A 13 m x 4 m crosswalk across a wide road (x 0..13, y 0..4).
  const c: Consensus = { cls: 'crosswalk', points: [[0, 0], [13, 0], [13, 4], [0, 4]], obs: Array.from({ length: 8 }, (_, k) => k), spreadM: 0 };
  const view = (x0: number, x1: number, dy = 0): Array<[number, number]> => [[x0, dy], [x1, dy], [x1, 4 + dy], [x0, 4 + dy]];
  it('is not moved when the drives after the version saw it from the other side of the road', () => {
    // Four earlier drives saw x 0..10.5 (their camera's reach), four recent ones x 2.5..13: the
    // views' centres lie 2.5 m apart along the crosswalk, none across it.
    const { p, vx, vy } = prepared([
      ...[0, 1, 2, 3].map((k) => ({ drive: k + 1, t: 500 + k, pts: view(0.05 * k, 10.5 - 0.05 * k, 0.03 * k) })),
      ...[0, 1, 2, 3].map((k) => ({ drive: k + 11, t: 1500 + k, pts: view(2.5 + 0.05 * k, 13 - 0.05 * k, -0.03 * k) })),
    ]);
    expect(recentShiftM(c, p, vx, vy, split)!).toBeLessThan(0.1);
  });
  it('is moved when the recent drives place it 1.5 m along the road', () => {
    const { p, vx, vy } = prepared([
      ...[0, 1, 2, 3].map((k) => ({ drive: k + 1, t: 500 + k, pts: view(0.05 * k, 10.5 - 0.05 * k, 0.03 * k) })),
      ...[0, 1, 2, 3].map((k) => ({ drive: k + 11, t: 1500 + k, pts: view(2.5 + 0.05 * k, 13 - 0.05 * k, 1.5 - 0.03 * k) })),
    ]);
    expect(recentShiftM(c, p, vx, vy, split)!).toBeGreaterThan(1);
  });
});

describe('movedStretches', () => {
  const split = { afterUnixMs: 1000, minDrives: 2 };
  const o = { binM: 4, minLengthM: 8, thresholdM: 0.5, minRecentDrives: 3 };
  /** A drive's view of a 100 m line along x at y = `noise`, and `aside` m to the left over x in [from, to]. */
  const view = (noise: number, aside = 0, from = 40, to = 70): Array<[number, number]> => Array.from({ length: 101 }, (_, x) => [x, noise + (x >= from && x <= to ? aside : 0)] as [number, number]);
  /** Resampled points = the views' points (one observation per drive). */
  function setup(earlier: number, recent: number, aside: number) {
    const obs = [
      ...Array.from({ length: earlier }, (_, k) => ({ drive: k + 1, t: 500 + k, pts: view(((k % 5) - 2) * 0.06) })),
      ...Array.from({ length: recent }, (_, k) => ({ drive: 100 + k, t: 1500 + k, pts: view(((k % 3) - 1) * 0.06, aside) })),
    ];
    const { p, vx, vy } = prepared(obs);
    const pts = { start: p.vStart, count: p.vCount, x: vx, y: vy };
    // The consensus follows the many earlier drives: straight along y = 0, a vertex every metre.
    const c: Consensus = { cls: 'lane_divider', points: Array.from({ length: 101 }, (_, x) => [x, 0] as [number, number]), obs: obs.map((_, k) => k), spreadM: 0.1 };
    return { c, p, pts };
  }

  it('finds a stretch repainted 0.8 m aside that 4 recent drives saw against 24 earlier ones, and re-places it there', () => {
    const { c, p, pts } = setup(24, 4, 0.8);
    // The whole line's shift is diluted below the threshold ...
    expect(recentShiftM(c, p, pts.x, pts.y, split)!).toBeLessThan(0.5);
    // ... its stretch is not.
    const found = movedStretches(c, p, pts, split, o);
    expect(found).toHaveLength(1);
    const m = found[0]!;
    expect(m.offsetM).toBeCloseTo(0.8, 1);
    expect(m.shiftM).toBeGreaterThan(0.5);
    // Vertices 40..70 moved; a bin either side at most.
    expect(m.from).toBeGreaterThanOrEqual(36);
    expect(m.from).toBeLessThanOrEqual(40);
    expect(m.to).toBeGreaterThanOrEqual(70);
    expect(m.to).toBeLessThanOrEqual(74);
    const r = replaceStretches(c, found);
    expect(r.c.points[55]![1]).toBeCloseTo(0.8, 1);
    expect(r.c.points[20]![1]).toBe(0);
    expect(r.c.points[90]![1]).toBe(0);
    expect(r.moved).toHaveLength(1);
    expect(r.moved[0]!.every((q) => Math.abs(q[1] - m.offsetM) < 1e-9)).toBe(true);
  });
  it('finds nothing when the recent drives agree with the earlier ones, or disagree among themselves', () => {
    const same = setup(24, 4, 0);
    expect(movedStretches(same.c, same.p, same.pts, split, o)).toEqual([]);
    // Two recent drives at +0.8 and two at 0 over the stretch: no agreement, no move.
    const obs = [
      ...Array.from({ length: 24 }, (_, k) => ({ drive: k + 1, t: 500 + k, pts: view(((k % 5) - 2) * 0.06) })),
      ...[0, 0.8, 0, 0.8].map((aside, k) => ({ drive: 100 + k, t: 1500 + k, pts: view(0, aside) })),
    ];
    const { p, vx, vy } = prepared(obs);
    expect(movedStretches({ ...same.c, obs: obs.map((_, k) => k) }, p, { start: p.vStart, count: p.vCount, x: vx, y: vy }, split, o)).toEqual([]);
  });
  it('leaves a stretch shorter than minLengthM, and a line that moved whole, to others', () => {
    const short = setup(24, 4, 0.8);
    expect(movedStretches(short.c, short.p, short.pts, split, { ...o, minLengthM: 40 })).toEqual([]);
    // The whole line aside: recentShiftM's case, not a stretch.
    const obs = [
      ...Array.from({ length: 24 }, (_, k) => ({ drive: k + 1, t: 500 + k, pts: view(((k % 5) - 2) * 0.06) })),
      ...Array.from({ length: 4 }, (_, k) => ({ drive: 100 + k, t: 1500 + k, pts: view(0.8, 0) })),
    ];
    const { p, vx, vy } = prepared(obs);
    expect(movedStretches({ ...short.c, obs: obs.map((_, k) => k) }, p, { start: p.vStart, count: p.vCount, x: vx, y: vy }, split, o)).toEqual([]);
  });
});
