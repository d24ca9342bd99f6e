import { describe, expect, it } from 'vitest';
import type { Primitive, XY } from '../../shared/schema.ts';
import { averagePrecision, greedyMatch, instanceChamferM, lineCandidates } from './chamfer_ap.ts';
import { buildLineInstances, cutPolylineOnGrid, type Instance } from './instances.ts';

const OPTS = { patchM: 50, originM: [0, 0] as XY, resampleCount: 20, minPieceM: 1 };

function line(points: XY[]): Primitive {
  return { cls: 'lane_divider', points };
}

function inst(points: XY[], score = 1): Instance {
  const out = buildLineInstances([line(points)], OPTS, [score]);
  expect(out).toHaveLength(1);
  return out[0]!;
}

describe('averagePrecision (all-points interpolated)', () => {
  it('is 1 for all true positives and 0 without predictions, null without ground truth', () => {
    expect(averagePrecision([1, 1, 1], 3)).toBe(1);
    expect(averagePrecision([], 3)).toBe(0);
    expect(averagePrecision([1], 0)).toBeNull();
  });

  it('integrates the precision envelope over recall steps', () => {
    // recall 1/3, 1/3, 2/3 ; precision 1, 1/2, 2/3 -> envelope 1, 2/3, 2/3
    expect(averagePrecision([1, 0, 1], 3)).toBeCloseTo(1 / 3 + (1 / 3) * (2 / 3), 12);
    // A false positive ranked first halves the precision at every recall.
    expect(averagePrecision([0, 1], 1)).toBeCloseTo(0.5, 12);
    // Low-ranked false positives after full recall cost nothing.
    expect(averagePrecision([1, 1, 0, 0], 2)).toBe(1);
  });
});

describe('instanceChamferM', () => {
  it('is 0 for the same line sampled with different vertices (point-to-polyline, no discretisation floor)', () => {
    const a = inst([[2, 10], [48, 10]]);
    const b = inst([[2, 10], [13, 10], [29.3, 10], [48, 10]]);
    expect(instanceChamferM(a, b)).toBeCloseTo(0, 9);
  });

  it('equals the offset for parallel lines of equal extent and is symmetric', () => {
    const a = inst([[2, 10], [48, 10]]);
    const b = inst([[2, 10.3], [48, 10.3]]);
    expect(instanceChamferM(a, b)).toBeCloseTo(0.3, 9);
    expect(instanceChamferM(b, a)).toBeCloseTo(0.3, 9);
  });

  it('penalises a prediction that covers only part of the ground truth', () => {
    const gt = inst([[2, 10], [48, 10]]);
    const half = inst([[2, 10], [25, 10]]);
    // pred -> gt: 0; gt -> pred: half the samples are 0..23 m beyond the end.
    expect(instanceChamferM(half, gt)).toBeGreaterThan(2);
  });
});

describe('greedy matching in descending confidence', () => {
  const gtA = inst([[2, 10], [48, 10]]);
  const gtB = inst([[2, 20], [48, 20]]);
  const near = inst([[2, 10.1], [48, 10.1]]); // 0.1 m from A
  const far = inst([[2, 10.4], [48, 10.4]]); // 0.4 m from A

  it('lets the more confident prediction take the ground truth, the other is a false positive', () => {
    const gt = [gtA, gtB];
    const pred = [far, near];
    const cands = lineCandidates(gt, pred, 1.0);
    // far is more confident: at 0.5 m it takes A; near then finds A taken and B too far.
    const m = greedyMatch([0.9, 0.8], cands, gt.length, 0.5);
    expect(Array.from(m.order)).toEqual([0, 1]);
    expect(Array.from(m.tp)).toEqual([1, 0]);
    expect(Array.from(m.gtOfPred)).toEqual([0, -1]);
    expect(averagePrecision(m.tp, gt.length)).toBeCloseTo(0.5, 12);
    // At 0.2 m the confident one is too far (FP), and the second one matches A.
    const m2 = greedyMatch([0.9, 0.8], cands, gt.length, 0.2);
    expect(Array.from(m2.tp)).toEqual([0, 1]);
    expect(averagePrecision(m2.tp, gt.length)).toBeCloseTo(0.25, 12);
    // Swapping the confidences: near takes A first; far is a duplicate.
    const m3 = greedyMatch([0.8, 0.9], cands, gt.length, 0.5);
    expect(Array.from(m3.order)).toEqual([1, 0]);
    expect(Array.from(m3.gtOfPred)).toEqual([-1, 0]);
    expect(averagePrecision(m3.tp, gt.length)).toBeCloseTo(0.5, 12);
  });

  it('falls back to the nearest still-unmatched ground truth within the threshold', () => {
    const g1 = inst([[2, 10], [48, 10]]);
    const g2 = inst([[2, 10.6], [48, 10.6]]);
    const p1 = inst([[2, 10.2], [48, 10.2]]); // 0.2 from g1, 0.4 from g2
    const p2 = inst([[2, 10.25], [48, 10.25]]); // 0.25 from g1, 0.35 from g2
    const cands = lineCandidates([g1, g2], [p1, p2], 1.0);
    const m = greedyMatch([0.9, 0.8], cands, 2, 0.5);
    expect(Array.from(m.gtOfPred)).toEqual([0, 1]);
    expect(averagePrecision(m.tp, 2)).toBe(1);
  });

  it('matches within a patch and its neighbours only', () => {
    const g = inst([[2, 10], [48, 10]]);
    // Two patches away: never a candidate, however large the threshold.
    const far = inst([[102, 10], [148, 10]]);
    expect(lineCandidates([g], [far], 1000)).toEqual([[]]);
    // A short line on a patch border, predicted 0.1 m across it, still matches.
    const onBorder = inst([[50, 20], [50, 23.5]]);
    const across = inst([[49.9, 20], [49.9, 23.5]]);
    expect(onBorder.cell).not.toBe(across.cell);
    const c = lineCandidates([onBorder], [across], 1.0);
    expect(c[0]).toHaveLength(1);
    expect(c[0]![0]!.distM).toBeCloseTo(0.1, 9);
  });
});

describe('cutPolylineOnGrid', () => {
  it('cuts at patch borders and keeps the pieces in order', () => {
    const pieces = cutPolylineOnGrid([[-10, 5], [110, 5]], false, 50);
    expect(pieces.map((p) => [p.ix, p.iy, Math.round(p.lengthM * 1e6) / 1e6])).toEqual([
      [-1, 0, 10],
      [0, 0, 50],
      [1, 0, 50],
      [2, 0, 10],
    ]);
    expect(pieces.every((p) => p.cut)).toBe(true);
  });

  it('keeps a line inside one patch whole, and rejoins a ring cut across its first vertex', () => {
    const whole = cutPolylineOnGrid([[1, 1], [5, 5], [9, 1]], false, 50);
    expect(whole).toHaveLength(1);
    expect(whole[0]!.cut).toBe(false);
    // Square ring from x 40..60 starting in the left patch: left part joined across vertex 0.
    const ring: XY[] = [[40, 10], [60, 10], [60, 20], [40, 20], [40, 10]];
    const pieces = cutPolylineOnGrid(ring, true, 50);
    expect(pieces).toHaveLength(2);
    const lengths = pieces.map((p) => p.lengthM).sort((a, b) => a - b);
    expect(lengths[0]).toBeCloseTo(30, 9);
    expect(lengths[1]).toBeCloseTo(30, 9);
    const single = cutPolylineOnGrid([[1, 1], [5, 1], [5, 5], [1, 1]], true, 50);
    expect(single).toHaveLength(1);
    expect(single[0]!.closed).toBe(true);
  });

  it('drops short fragments but keeps the longest piece of a primitive', () => {
    // 0.5 m past the border: the fragment is dropped.
    expect(buildLineInstances([line([[10, 5], [50.5, 5]])], OPTS)).toHaveLength(1);
    // A 1.2 m line split 0.6 / 0.6: the longest (first) piece stays.
    expect(buildLineInstances([line([[49.4, 5], [50.6, 5]])], OPTS)).toHaveLength(1);
  });
});
