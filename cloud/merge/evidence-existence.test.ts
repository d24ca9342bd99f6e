import { describe, expect, it } from 'vitest';
import { EXISTENCE_MIN_SEEN_SHARE, existenceScore, SPREAD_HALF_SCORE_M, spreadDivisor } from './evidence.ts';

describe('existenceScore', () => {
  it('takes the placement term out of the score of a feature most passing drives saw', () => {
    expect(spreadDivisor(0)).toBe(1);
    expect(spreadDivisor(SPREAD_HALF_SCORE_M)).toBe(2);
    // Its drives 0.3 m apart: twice its score.
    expect(existenceScore({ score: 0.25, spreadM: 0.3, seenShare: 1 })).toBeCloseTo(0.5, 12);
    expect(existenceScore({ score: 0.25, spreadM: 0.3, seenShare: EXISTENCE_MIN_SEEN_SHARE })).toBeCloseTo(0.5, 12);
    expect(existenceScore({ score: 0.9, spreadM: 0.6, seenShare: 1 })).toBe(1);
    // Points and rings publish no spread.
    expect(existenceScore({ score: 0.42, seenShare: 1 })).toBe(0.42);
  });

  it('is the score for a feature that few passing drives saw, or a tile of an older version', () => {
    expect(existenceScore({ score: 0.3, spreadM: 0.3, seenShare: 0.35 })).toBe(0.3);
    expect(existenceScore({ score: 0.42, spreadM: 0.3 })).toBe(0.42);
  });
});
