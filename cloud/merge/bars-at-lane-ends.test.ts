import { describe, expect, it } from 'vitest';
import type { XY } from '../../shared/schema.ts';
import { splitBarsAtLaneEnds, type BarsAtLaneEndsOptions } from './bars-at-lane-ends.ts';
import type { Consensus } from './consensus.ts';
import type { ObservationPoints } from './evidence.ts';

const O: BarsAtLaneEndsOptions = { reachM: 6, endM: 1, minPieceM: 1.5, tangentM: 3, minAngleDeg: 45 };

/** Observation points: observation i is the points of `obs[i]`, resampled every 0.5 m. */
function pointsOf(obs: XY[][]): ObservationPoints {
  const start: number[] = [];
  const count: number[] = [];
  const x: number[] = [];
  const y: number[] = [];
  for (const line of obs) {
    start.push(x.length);
    const [a, b] = [line[0]!, line[line.length - 1]!];
    const n = Math.max(1, Math.ceil(Math.hypot(b[0] - a[0], b[1] - a[1]) / 0.5));
    for (let k = 0; k <= n; k++) {
      x.push(a[0] + ((b[0] - a[0]) * k) / n);
      y.push(a[1] + ((b[1] - a[1]) * k) / n);
    }
    count.push(n + 1);
  }
  return { start: Int32Array.from(start), count: Int32Array.from(count), x: Float64Array.from(x), y: Float64Array.from(y) };
}

// Two lanes northbound, x 0..3.25 and 3.25..6.5; their stop lines abut at x 3.25, y 0.
const BAR: XY[] = [[0, 0], [6.5, 0]];
const bar = (obs: number[]): Consensus => ({ cls: 'stop_line', points: BAR, obs, spreadM: 0.1 });
const divider = (pts: XY[]): Consensus => ({ cls: 'lane_divider', style: 'dashed', points: pts, obs: [], spreadM: 0.1 });
// Observation 0 saw both lanes' bars as one, 1 the left lane's bar, 2 the right lane's.
const PTS = pointsOf([[[0.1, 0.05], [6.4, 0.05]], [[0.2, -0.1], [3.4, -0.1]], [[3.1, 0.1], [6.3, 0.1]]]);

describe('splitBarsAtLaneEnds', () => {
  it('splits a bar across two lanes where the divider between them ends on it; each piece keeps its own observations', () => {
    const out = splitBarsAtLaneEnds([divider([[3.3, -30], [3.25, -0.4]]), bar([0, 1, 2])], PTS, O);
    const bars = out.filter((c) => c.cls === 'stop_line');
    expect(bars).toHaveLength(2);
    expect(bars[0]!.points[0]).toEqual([0, 0]);
    expect(bars[0]!.points[1]![0]).toBeCloseTo(3.25, 1);
    expect(bars[1]!.points[1]).toEqual([6.5, 0]);
    expect(bars[0]!.obs).toEqual([0, 1]);
    expect(bars[1]!.obs).toEqual([0, 2]);
    expect(out.filter((c) => c.cls === 'lane_divider')).toHaveLength(1);
  });

  it('splits where a dashed divider\'s last dash stops short of the bar, within reachM', () => {
    const out = splitBarsAtLaneEnds([divider([[3.3, -30], [3.25, -4.5]]), bar([0, 1, 2])], PTS, O);
    expect(out.filter((c) => c.cls === 'stop_line')).toHaveLength(2);
  });

  it('splits at each divider that ends on it (three lanes), from either end of the divider', () => {
    const wide: Consensus = { cls: 'stop_line', points: [[0, 0], [9.75, 0]], obs: [0], spreadM: 0 };
    const out = splitBarsAtLaneEnds([divider([[3.25, -0.5], [3.25, -40]]), divider([[6.5, -25], [6.45, -0.3]]), wide], pointsOf([[[0, 0], [9.75, 0]]]), O);
    expect(out.filter((c) => c.cls === 'stop_line').map((c) => Math.round(c.points[1]![0] - c.points[0]![0]))).toEqual([3, 3, 3]);
  });

  it('leaves the bar whole where no divider ends on it across', () => {
    const one = (d: Consensus, o = O) => splitBarsAtLaneEnds([d, bar([0, 1, 2])], PTS, o).filter((c) => c.cls === 'stop_line');
    expect(one(divider([[3.25, -30], [3.25, -7]]))).toHaveLength(1); // ends 7 m before it, past reachM
    expect(one(divider([[-4, 0.3], [2.5, 0.3]]))).toHaveLength(1); // a dash lying along it
    expect(one(divider([[1, -30], [1, -0.2]]))).toHaveLength(1); // would leave a piece under minPieceM
    expect(one(divider([[3.25, -30], [3.25, -0.4]]), { ...O, reachM: 0 })).toHaveLength(1); // off
    expect(one(divider([[3.25, -30], [3.25, 3]]))).toHaveLength(1); // runs on 3 m past it (it crosses, and ends beyond endM)
    expect(one(divider([[3.25, -0.4], [3.25, -30], [20, -30], [20, -0.4], [3.25, -0.4]]))).toHaveLength(1); // closed: no ends
  });
});
