/**
 * Chamfer-distance average precision in the MapTR style.
 *
 * Distance between two instances: the symmetric Chamfer distance of their resampled points,
 *   d(A, B) = ( mean_{p in S(A)} dist(p, B) + mean_{q in S(B)} dist(q, A) ) / 2,
 * where S(.) are the `resampleCount` points evenly spaced by arc length and dist(p, X) is the
 * distance from p to the *polyline* X (its full-resolution piece), not to X's nearest sample.
 * MapTR measures point to point; with 20 samples on a 50 m piece the samples are 2.6 m apart and
 * two identical lines sampled at different phases would already be ~0.6 m "apart", more than
 * our tightest threshold (0.2 m). Point-to-polyline keeps the resampling (a fixed number of
 * measurement points per instance) without that discretisation floor. For point classes both
 * reduce to the Euclidean distance.
 *
 * Matching (per class, per threshold): predictions in descending confidence order; each takes
 * the still-unmatched ground-truth instance (same class, same or adjacent patch, see
 * `lineCandidates`) with the smallest Chamfer
 * distance; it is a true positive when that distance is <= the threshold, else a false positive.
 * (MapTR's evaluation takes the overall nearest ground truth and counts a false positive if that
 * one is already taken; taking the nearest *unmatched* one, as asked here, differs only where
 * two ground-truth instances lie within the threshold of one prediction.)
 *
 * AP: area under the precision-recall curve, all-points interpolated (PASCAL VOC 2010+ / mmdet
 * `mode='area'`): precision is replaced by its running maximum from the right, then integrated
 * over every recall step. All patches of a class are pooled before sorting by confidence.
 */
import { pointPolylineDistM } from '../../shared/geometry.ts';
import { SegmentGrid, cellKey, cellOfKey } from './grid_index.ts';
import type { Instance } from './instances.ts';
import { bboxGapM } from './metrics.ts';

/** A ground-truth instance a prediction may match, with its Chamfer distance (metres). */
export interface Candidate {
  gt: number;
  distM: number;
}

/** Symmetric Chamfer distance between two instances, metres (see the module comment). */
export function instanceChamferM(a: Instance, b: Instance): number {
  return (directedMeanM(a.samples, b.line) + directedMeanM(b.samples, a.line)) / 2;
}

/**
 * For each prediction, the ground-truth instances within `maxDistM` (Chamfer), nearest first.
 * Candidates come from the prediction's patch and its 8 neighbours: a piece of one patch and a
 * piece of the next are different stretches of a line and lie far apart in Chamfer terms, except
 * for a short line lying on a patch border, which noise may put on either side (a stop line at
 * x = 400.0 predicted at x = 399.9 must still match). A pair whose bounding boxes are farther
 * apart than `maxDistM` is skipped without computing its distance: every sample of one lies at
 * least that far from the other.
 */
export function lineCandidates(gt: readonly Instance[], pred: readonly Instance[], maxDistM: number): Candidate[][] {
  const byCell = new Map<number, number[]>();
  gt.forEach((g, i) => {
    const list = byCell.get(g.cell);
    if (list === undefined) byCell.set(g.cell, [i]);
    else list.push(i);
  });
  return pred.map((p) => {
    const out: Candidate[] = [];
    const { ix, iy } = cellOfKey(p.cell);
    for (let dx = -1; dx <= 1; dx++) {
      for (let dy = -1; dy <= 1; dy++) {
        for (const gi of byCell.get(cellKey(ix + dx, iy + dy)) ?? []) {
          const g = gt[gi]!;
          if (bboxGapM(p.bbox, g.bbox) > maxDistM) continue;
          const d = instanceChamferM(p, g);
          if (d <= maxDistM) out.push({ gt: gi, distM: d });
        }
      }
    }
    return out.sort((u, v) => u.distM - v.distM || u.gt - v.gt);
  });
}

/**
 * Candidates for point instances (signs, lights), by Euclidean distance. Points are matched
 * across the whole map, not per patch: a point has no extent to cut, and patches would only add
 * a border artefact (a sign 0.1 m from a patch edge, predicted 0.2 m off, would change patch).
 */
export function pointCandidates(gt: readonly Instance[], pred: readonly Instance[], maxDistM: number): Candidate[][] {
  const grid = new SegmentGrid(gt.map((g) => ({ points: g.line, closed: false })), Math.max(2 * maxDistM, 1));
  return pred.map((p) => {
    const [x, y] = p.line[0]!;
    const out: Candidate[] = [];
    for (const gi of grid.linesNear(x - maxDistM, y - maxDistM, x + maxDistM, y + maxDistM)) {
      const q = gt[gi]!.line[0]!;
      const d = Math.hypot(q[0] - x, q[1] - y);
      if (d <= maxDistM) out.push({ gt: gi, distM: d });
    }
    return out.sort((u, v) => u.distM - v.distM || u.gt - v.gt);
  });
}

export interface MatchResult {
  /** Prediction indices in descending confidence (ties: input order). */
  order: Int32Array;
  /** tp[k] = 1 when prediction order[k] is a true positive. */
  tp: Uint8Array;
  /** For each prediction (input index): the matched ground-truth index, or -1. */
  gtOfPred: Int32Array;
}

/** Greedy matching at one threshold (see the module comment). */
export function greedyMatch(scores: readonly number[], candidates: readonly Candidate[][], nGt: number, thresholdM: number): MatchResult {
  const n = scores.length;
  const order = Int32Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[b]! - scores[a]! || a - b);
  const tp = new Uint8Array(n);
  const gtOfPred = new Int32Array(n).fill(-1);
  const taken = new Uint8Array(nGt);
  for (let k = 0; k < n; k++) {
    const pi = order[k]!;
    for (const c of candidates[pi] ?? []) {
      if (c.distM > thresholdM) break; // nearest-first: no unmatched one is closer
      if (taken[c.gt]) continue;
      taken[c.gt] = 1;
      tp[k] = 1;
      gtOfPred[pi] = c.gt;
      break;
    }
  }
  return { order, tp, gtOfPred };
}

/**
 * All-points interpolated average precision from true-positive flags in descending confidence
 * order. Null when there is no ground truth (AP undefined); 0 when nothing was predicted.
 */
export function averagePrecision(tpInOrder: ArrayLike<number>, nGt: number): number | null {
  if (nGt <= 0) return null;
  const n = tpInOrder.length;
  if (n === 0) return 0;
  const recall = new Float64Array(n + 2);
  const precision = new Float64Array(n + 2);
  let cum = 0;
  for (let k = 0; k < n; k++) {
    cum += tpInOrder[k] ? 1 : 0;
    recall[k + 1] = cum / nGt;
    precision[k + 1] = cum / (k + 1);
  }
  recall[n + 1] = 1;
  precision[n + 1] = 0;
  for (let k = n; k >= 0; k--) precision[k] = Math.max(precision[k]!, precision[k + 1]!);
  let ap = 0;
  for (let k = 1; k <= n + 1; k++) ap += (recall[k]! - recall[k - 1]!) * precision[k]!;
  return ap;
}

function directedMeanM(from: readonly (readonly [number, number])[], to: readonly (readonly [number, number])[]): number {
  let sum = 0;
  for (const p of from) sum += pointPolylineDistM(p, to);
  return from.length ? sum / from.length : Infinity;
}
