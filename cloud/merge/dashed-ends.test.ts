import { describe, expect, it } from 'vitest';
import type { XY } from '../../shared/schema.ts';
import { extendDashedEnds, type DashedEndsOptions } from './dashed-ends.ts';

const O: DashedEndsOptions = { extendM: 1.5, clearM: 1.0, tangentM: 2.0 };
const dashed = (points: XY[]) => ({ cls: 'lane_divider' as const, style: 'dashed' as const, points });

describe('extendDashedEnds', () => {
  it('extends both free ends of a dashed divider along its direction', () => {
    const [out] = extendDashedEnds([dashed([[0, 0], [10, 0], [20, 0]])], O);
    expect(out).toEqual([[-1.5, 0], [0, 0], [10, 0], [20, 0], [21.5, 0]]);
  });

  it('takes the direction over the last tangentM of a curved line', () => {
    // the last 2 m bend up at 45 degrees: the extension follows the bend, not the chord
    const [out] = extendDashedEnds([dashed([[0, 0], [10, 0], [11, 1], [12, 2]])], O);
    const end = out![out!.length - 1]!;
    expect(end[0]).toBeCloseTo(12 + 1.5 / Math.SQRT2, 6);
    expect(end[1]).toBeCloseTo(2 + 1.5 / Math.SQRT2, 6);
  });

  it('leaves solid dividers, other classes, closed lines and the option at 0 alone', () => {
    const line: XY[] = [[0, 0], [10, 0]];
    const out = extendDashedEnds(
      [
        { cls: 'lane_divider', style: 'solid', points: line },
        { cls: 'road_boundary', points: line.map(([x, y]) => [x, y + 20] as XY) },
        dashed([[0, 40], [10, 40], [10, 50], [0, 40]]),
      ],
      O,
    );
    expect(out).toEqual([undefined, undefined, undefined]);
    expect(extendDashedEnds([dashed(line)], { ...O, extendM: 0 })).toEqual([undefined]);
  });

  it('keeps an end where the line goes on as another divider (a style change) or meets one', () => {
    const out = extendDashedEnds(
      [
        dashed([[0, 0], [10, 0]]),
        { cls: 'lane_divider', style: 'solid', points: [[10, 0], [30, 0]] }, // the same line, solid from x = 10
        dashed([[0, 10], [10, 10]]),
        { cls: 'lane_divider', style: 'solid', points: [[-1.2, 0], [-1.2, 30]] }, // crosses ahead of both starts
      ],
      O,
    );
    expect(out[0]).toBeUndefined(); // blocked at both ends
    expect(out[2]).toEqual([[0, 10], [10, 10], [11.5, 10]]); // start blocked, end free
    expect(out[1]).toBeUndefined();
  });

  it('extends where the nearest other divider is the next lane, 3 m aside', () => {
    const out = extendDashedEnds([dashed([[0, 0], [10, 0]]), dashed([[0, 3], [10, 3]])], O);
    expect(out[0]).toEqual([[-1.5, 0], [0, 0], [10, 0], [11.5, 0]]);
    expect(out[1]).toEqual([[-1.5, 3], [0, 3], [10, 3], [11.5, 3]]);
  });
});
