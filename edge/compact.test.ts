import { describe, expect, it } from 'vitest';
import type { BodyObservation } from '../shared/topics.ts';
import { ObservationCompactor, cropBand, simplify } from './compact.ts';

const line = (y: number, fromX: number, toX: number, stepM = 1): Array<[number, number]> => {
  const pts: Array<[number, number]> = [];
  for (let x = fromX; x <= toX + 1e-9; x += stepM) pts.push([x, y]);
  return pts;
};

describe('cropBand', () => {
  it('cuts a line exactly at the band edges', () => {
    const pieces = cropBand(line(1.5, -10, 35), 2, 14);
    expect(pieces).toHaveLength(1);
    expect(pieces[0]![0]).toEqual([2, 1.5]);
    expect(pieces[0]![pieces[0]!.length - 1]![0]).toBeCloseTo(14, 9);
  });
  it('handles a segment spanning the whole band and lines leaving and re-entering', () => {
    expect(cropBand([[-5, 0], [40, 0]], 2, 14)).toEqual([[[2, 0], [14, 0]]]);
    const zigzag: Array<[number, number]> = [[0, 0], [5, 1], [20, 2], [5, 3], [0, 4]];
    const pieces = cropBand(zigzag, 2, 14);
    expect(pieces).toHaveLength(2);
  });
});

describe('simplify', () => {
  it('collapses a straight noisy line and keeps a corner', () => {
    const noisy = line(0, 0, 30).map(([x, y], i) => [x, y + (i % 2 ? 0.02 : -0.02)] as [number, number]);
    expect(simplify(noisy, 0.05).length).toBe(2);
    const corner: Array<[number, number]> = [[0, 0], [10, 0], [10, 10]];
    expect(simplify(corner, 0.05)).toEqual(corner);
  });
});

describe('ObservationCompactor', () => {
  const obs = (): BodyObservation[] => [
    { cls: 'lane_divider', style: 'dashed', score: 0.9, pointsBody: line(1.75, -10, 35) },
    { cls: 'traffic_sign', signCode: 'de205', score: 0.8, pointsBody: [[20, -5]] },
    { cls: 'traffic_sign', signCode: 'de205', score: 0.8, pointsBody: [[5, -5]] },
  ];
  it('keeps one frame per spacing and tiles the road once per place', () => {
    const c = new ObservationCompactor({ keyframeSpacingM: 12, windowStartM: 2, maxWindowM: 30 });
    const kept: number[] = [];
    let coveredM = 0;
    for (let i = 0; i < 40; i++) {
      const x = i * 5; // 2 Hz at 10 m/s
      const out = c.frame(x, 0, obs());
      if (!out) continue;
      kept.push(x);
      const divider = out.find((o) => o.cls === 'lane_divider')!;
      coveredM += divider.pointsBody[divider.pointsBody.length - 1]![0] - divider.pointsBody[0]![0];
      expect(divider.pointsBody.length).toBe(2);
    }
    // keyframes every 15 m (first frame >= 12 m after the last at 5 m steps)
    expect(kept.slice(0, 3)).toEqual([0, 15, 30]);
    // after the first (full 30 m band), each keyframe adds exactly the distance travelled
    expect(coveredM).toBeCloseTo(30 + (kept.length - 1) * 15, 6);
    expect(c.counters.framesIn).toBe(40);
    expect(c.counters.keyframes).toBe(kept.length);
    expect(c.counters.verticesOut).toBeLessThan(c.counters.verticesIn / 20);
  });
  it('keeps points only when they fall in the band', () => {
    const c = new ObservationCompactor({ keyframeSpacingM: 12, windowStartM: 2 });
    c.frame(0, 0, []);
    const out = c.frame(12, 0, obs())!;
    const signs = out.filter((o) => o.cls === 'traffic_sign');
    expect(signs).toHaveLength(1);
    expect(signs[0]!.pointsBody[0]).toEqual([5, -5]);
  });
  it('validates its options naming the field', () => {
    expect(() => new ObservationCompactor({ keyframeSpacingM: 0 })).toThrow('compact.keyframeSpacingM must be > 0 m, got 0');
  });
});
