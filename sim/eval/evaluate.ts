/**
 * Scores a merged map against ground truth: `evaluateMap(gt, pred, opts) -> EvaluationReport`.
 *
 * Inputs are in one local metric frame, `[eastM, northM]`. Figures, per class (see schema.ts):
 *  1. Chamfer AP at 0.2 / 0.5 / 1.0 m on instances cut on a 50 m patch grid (chamfer_ap.ts,
 *     instances.ts), mAP over the classes present in the ground truth;
 *  2. lateral error (cm, p50/p95) of the pairs matched at the loosest threshold
 *     (`lateralErrorCm`), and the distance of ALL ground truth to its nearest prediction of the
 *     class (`lateralErrorAllSeenCm`: what a missed or badly placed line costs shows up here);
 *  3. recall: fraction of ground-truth length within 0.5 m of a prediction of the class (points:
 *     fraction of ground-truth points within 1.0 m);
 *  4. false-positive length per km driven and per km published: prediction length farther than
 *     1.0 m from any ground truth of the class (points: count farther than 1.0 m), divided by the
 *     km driven (`fpLengthPerKm`) or by the km of lines published (`fpLengthPerKmPublished`), and
 *     bytes uploaded per km driven;
 *  5. everything again after removing one translation per 100 m patch (`relative`, align.ts);
 *  6. the floor of the absolute lateral error (floor.ts): the REALISED floor from the drives'
 *     actual GNSS biases when given (`realisedFloor`), else the expected one (`floor`); both are
 *     in `floorCm`, and `absoluteFloorSource` says which one `absoluteFloorCm` is.
 *
 * The report's contract keys (version, drives, kmDriven, bytesUploaded, bytesPerKm, classes.*.
 * {ap, lateralErrorCm, recall}, mAP, relative.{mAP, lateralErrorCm}, absoluteFloorCm, elapsedS)
 * are read by tools: keep them. Every other key is additional. Unknown figures are null (never
 * NaN), so the report survives JSON.
 */
import { CLASS_GEOMETRY, PRIMITIVE_CLASSES, isPrimitiveClass, type Primitive, type PrimitiveClass, type ScoredPrimitive, type XY } from '../../shared/schema.ts';
import { alignPerPatch, DEFAULT_ALIGN_OPTIONS, medianOffsetCm, type AlignOptions } from './align.ts';
import { averagePrecision, greedyMatch, lineCandidates, pointCandidates, type Candidate } from './chamfer_ap.ts';
import { consensusFloor, realisedFloor, type ConsensusFloor, type FloorInput, type RealisedFloor, type RealisedFloorInput } from './floor.ts';
import { SegmentGrid } from './grid_index.ts';
import { buildLineInstances, buildPointInstances, lineOf, type Instance } from './instances.ts';
import { stitchPolylines } from './stitch.ts';
import { forEachStepMidpoint, lengthWithinM, perpendicularDistancesM, pointsWithin, quantile } from './metrics.ts';

export interface EvaluateOptions {
  /** Chamfer thresholds, metres. Report keys are these written with at least one decimal ("1.0"). */
  thresholdsM?: readonly number[];
  /** AP patch edge, metres (see DEFAULT_EVAL_SETTINGS for why 50 m). */
  patchM?: number;
  /** Origin of the patch grid (and of the alignment grid), `[eastM, northM]`. */
  patchOriginM?: XY;
  /** Points per resampled instance (MapTR: 20). */
  resampleCount?: number;
  /** Fragments of a cut primitive shorter than this are dropped, metres. */
  minPieceM?: number;
  /** A ground-truth line counts as recalled where a prediction is within this, metres. */
  recallRadiusM?: number;
  /** Radius for points (recall and false positives), metres. */
  pointRadiusM?: number;
  /** A prediction line counts as false positive where no ground truth is within this, metres. */
  fpRadiusM?: number;
  /** Step for the length figures (recall, false-positive length, lateralErrorAllSeenCm), metres. */
  coverageStepM?: number;
  /** Ground truth with no prediction of its class within this is a miss in lateralErrorAllSeenCm, metres. */
  allSeenSearchM?: number;
  /** Line pieces (same class) whose ends meet within this are joined before cutting, metres; 0 = off. */
  stitchToleranceM?: number;
  /** Alignment for the relative figures; `patchM` must be a multiple of the AP patch. */
  align?: Partial<Omit<AlignOptions, 'originM'>>;
  /** Compute the relative figures (default true). */
  relative?: boolean;
  /** Context passed through into the report. */
  drives?: number;
  kmDriven?: number;
  bytesUploaded?: number;
  elapsedS?: number;
  /** Inputs of the expected floor (sigma / sqrt(n)). */
  floor?: FloorInput;
  /** Inputs of the realised floor (each drive's actual bias); `absoluteFloorCm` prefers it. */
  realisedFloor?: RealisedFloorInput;
}

export interface EvalSettings {
  thresholdsM: number[];
  patchM: number;
  patchOriginM: [number, number];
  resampleCount: number;
  minPieceM: number;
  recallRadiusM: number;
  pointRadiusM: number;
  fpRadiusM: number;
  coverageStepM: number;
  /** Ground truth farther than this from any prediction of its class is a miss in `lateralErrorAllSeenCm`, metres. */
  allSeenSearchM: number;
  stitchToleranceM: number;
  align: AlignOptions;
}

/**
 * Defaults. The 50 m AP patch: MapTR's nuScenes patch is 60 m x 30 m, so its instances are up to
 * ~60 m long; a 50 m square keeps ours at that scale (up to ~70 m on a diagonal), local enough
 * that one bad stretch of a 500 m boundary fails one piece rather than the whole line, large
 * enough that few instances are border fragments; and it divides the 100 m alignment patch, so
 * cutting predictions for alignment adds no instance borders of its own.
 */
export const DEFAULT_EVAL_SETTINGS: EvalSettings = {
  thresholdsM: [0.2, 0.5, 1.0], // m
  patchM: 50, // m
  patchOriginM: [0, 0], // [eastM, northM]
  resampleCount: 20, // points per instance
  minPieceM: 1, // m
  recallRadiusM: 0.5, // m
  pointRadiusM: 1.0, // m
  fpRadiusM: 1.0, // m
  coverageStepM: 0.25, // m
  allSeenSearchM: 5, // m
  stitchToleranceM: 0.3, // m: tile-border pieces of a published line end a few cm apart
  align: DEFAULT_ALIGN_OPTIONS,
};

/** Per-threshold figures keyed "0.2", "0.5", "1.0". */
export type ByThreshold = Record<string, number | null>;

export interface LateralErrorCm {
  p50: number | null;
  p95: number | null;
  /** Number of distances behind the quantiles. */
  samples: number;
}

/**
 * Distance of every ground-truth sample (lines: every <= coverageStepM; points: each point) to the
 * nearest prediction of its class, cm. A sample with none within allSeenSearchM is a miss; it
 * counts as farther than any distance, so a quantile that falls among the misses is null.
 */
export interface AllSeenLateralCm {
  p50: number | null;
  p95: number | null;
  samples: number;
  /** Fraction of samples with no prediction of the class within allSeenSearchM. */
  missedFraction: number | null;
}

export interface ClassReport {
  ap: ByThreshold;
  /** Lateral error of matched pairs (points: Euclidean distance), cm. */
  lateralErrorCm: LateralErrorCm;
  /** Over ALL ground truth (seen), not only matched pairs. */
  lateralErrorAllSeenCm: AllSeenLateralCm;
  /** Fraction of ground-truth length (points: count) recalled; null without ground truth. */
  recall: number | null;
  geometry: 'polyline' | 'polygon' | 'point';
  gtCount: number;
  predCount: number;
  /** Instances after cutting on the patch grid (points: = counts). */
  gtInstances: number;
  predInstances: number;
  /** Line classes: total ground-truth and prediction length, metres; null for points. */
  gtLengthM: number | null;
  predLengthM: number | null;
  /** Line classes: prediction length farther than fpRadiusM from any ground truth, m and m/km. */
  fpLengthM: number | null;
  fpLengthPerKm: number | null;
  /** Line classes: false-positive length per km of this class's published (predicted) length, m/km. */
  fpLengthPerKmPublished: number | null;
  /** Point classes: predictions farther than pointRadiusM from any ground truth, count and /km driven. */
  fpCount: number | null;
  fpCountPerKm: number | null;
  /** Point classes: the count per km of published lines (all line classes), 1/km. */
  fpCountPerKmPublished: number | null;
}

export interface FigureSet {
  classes: Record<PrimitiveClass, ClassReport>;
  mAP: ByThreshold;
  /** Pooled over the line classes (polylines and crosswalk rings); points are per class only. */
  lateralErrorCm: LateralErrorCm;
  /** The same pooling, over all ground truth seen (AllSeenLateralCm). */
  lateralErrorAllSeenCm: AllSeenLateralCm;
  /** Ground-truth length recalled over all line classes. */
  recall: number | null;
  /** False-positive length over all line classes per km driven, m/km. */
  fpLengthPerKm: number | null;
  /** False-positive length over all line classes per km of published lines, m/km. */
  fpLengthPerKmPublished: number | null;
  /** Published (predicted) length over all line classes, metres. */
  publishedLengthM: number;
}

/** Both floors, cm (floor.ts); a floor whose inputs were not given is null. */
export interface FloorReport {
  /** From each drive's actual bias: mean bias of the drives at each place, across the line. */
  realised: RealisedFloor | null;
  /** Expected value over bias draws: |N(0, sigma^2 / n)| pooled over places. */
  expected: (ConsensusFloor & { driveBiasSigmaM: number }) | null;
}

export interface EvaluationReport {
  version: 1;
  drives: number | null;
  kmDriven: number | null;
  bytesUploaded: number | null;
  bytesPerKm: number | null;
  classes: Record<PrimitiveClass, ClassReport>;
  mAP: ByThreshold;
  relative: (FigureSet & { alignment: AlignmentSummary }) | null;
  /**
   * p50 of the absolute lateral error of a perfect consensus, cm (floor.ts): the realised floor's
   * `lateralP50Cm` when realised biases were given, else the expected floor's p50.
   */
  absoluteFloorCm: number | null;
  elapsedS: number | null;
  // ---- additional keys ----
  /** Which floor `absoluteFloorCm` / `absoluteFloorP95Cm` are; null without either. */
  absoluteFloorSource: 'realised' | 'expected' | null;
  lateralErrorCm: LateralErrorCm;
  lateralErrorAllSeenCm: AllSeenLateralCm;
  recall: number | null;
  fpLengthPerKm: number | null;
  fpLengthPerKmPublished: number | null;
  /** Published (predicted) length over all line classes, metres: the "km published". */
  publishedLengthM: number;
  absoluteFloorP95Cm: number | null;
  floorPlaces: number | null;
  floorCm: FloorReport;
  /** Seconds spent in evaluateMap. */
  evaluationS: number;
  settings: EvalSettings & { definitions: Record<string, string> };
}

export interface AlignmentSummary {
  patchM: number;
  patches: number;
  alignedPatches: number;
  medianOffsetCm: number | null;
}

/** Writes a threshold as a report key: at least one decimal ("0.2", "1.0", "0.25"). */
export function thresholdKey(t: number): string {
  return Number.isInteger(t) ? t.toFixed(1) : String(t);
}

/** Score `pred` against `gt` (see the module comment). Throws on malformed input or options. */
export function evaluateMap(gt: readonly Primitive[], pred: readonly ScoredPrimitive[], opts: EvaluateOptions = {}): EvaluationReport {
  const t0 = performance.now();
  validatePrimitives(gt, 'gt', false);
  validatePrimitives(pred, 'pred', true);
  const s = resolveSettings(opts);
  const km = optionalNonNegative(opts.kmDriven, 'kmDriven');
  const bytes = optionalNonNegative(opts.bytesUploaded, 'bytesUploaded');
  const absolute = scoreFigures(gt, pred, s, km);
  let relative: EvaluationReport['relative'] = null;
  if (opts.relative !== false) {
    const { shifted, offsets } = alignPerPatch(gt, pred, s.align);
    relative = {
      ...scoreFigures(gt, shifted, s, km),
      alignment: {
        patchM: s.align.patchM,
        patches: offsets.length,
        alignedPatches: offsets.filter((o) => o.aligned).length,
        medianOffsetCm: medianOffsetCm(offsets),
      },
    };
  }
  const expected = opts.floor === undefined ? null : consensusFloor(opts.floor);
  const realised = opts.realisedFloor === undefined ? null : realisedFloor(opts.realisedFloor);
  const source = realised !== null ? 'realised' : expected !== null ? 'expected' : null;
  return {
    version: 1,
    drives: optionalNonNegative(opts.drives, 'drives'),
    kmDriven: km,
    bytesUploaded: bytes,
    bytesPerKm: km !== null && km > 0 && bytes !== null ? bytes / km : null,
    classes: absolute.classes,
    mAP: absolute.mAP,
    relative,
    absoluteFloorCm: realised?.lateralP50Cm ?? expected?.consensusLateralP50Cm ?? null,
    elapsedS: opts.elapsedS ?? null,
    absoluteFloorSource: source,
    lateralErrorCm: absolute.lateralErrorCm,
    lateralErrorAllSeenCm: absolute.lateralErrorAllSeenCm,
    recall: absolute.recall,
    fpLengthPerKm: absolute.fpLengthPerKm,
    fpLengthPerKmPublished: absolute.fpLengthPerKmPublished,
    publishedLengthM: absolute.publishedLengthM,
    absoluteFloorP95Cm: realised?.lateralP95Cm ?? expected?.consensusLateralP95Cm ?? null,
    floorPlaces: realised?.places ?? expected?.places ?? null,
    floorCm: { realised, expected: expected === null ? null : { ...expected, driveBiasSigmaM: opts.floor!.driveBiasSigmaM } },
    evaluationS: (performance.now() - t0) / 1000,
    settings: { ...s, definitions: DEFINITIONS },
  };
}

const DEFINITIONS: Record<string, string> = {
  stitching: 'line pieces of a class whose ends meet (within stitchToleranceM, exactly two ends) are joined first, on both sides',
  instances: 'GT and predictions cut on a square patch grid; matching within a patch (points: map-wide)',
  chamfer: 'symmetric mean distance of each instance\'s resampled points to the other instance\'s polyline',
  matching: 'predictions by descending score take the nearest unmatched GT of the class; TP if Chamfer <= threshold',
  ap: 'all-points interpolated area under the precision-recall curve (VOC2010 / mmdet area), all patches pooled',
  mAP: 'mean AP over the classes present in the ground truth',
  lateralErrorCm: 'perpendicular distances of matched predictions\' resampled points to the GT piece, pairs matched at the loosest threshold (matched pairs only); overall pools line classes',
  lateralErrorAllSeenCm: 'distance of every GT sample (lines: every coverageStepM; points: each) to the nearest prediction of its class, over ALL ground truth given (the seen part); none within allSeenSearchM = a miss, farther than any distance (a quantile among misses is null)',
  recall: 'fraction of GT length within recallRadiusM of a prediction of the class (points: count within pointRadiusM)',
  fpLengthPerKm: 'prediction length farther than fpRadiusM from any GT of the class, metres per km driven',
  fpLengthPerKmPublished: 'the same length per km of published (predicted) line length of the class; overall: of all line classes; points (fpCountPerKmPublished): count per km of all published lines',
  relative: 'figures after removing one best-fit translation per alignment patch (align.ts)',
  absoluteFloorCm: 'the absolute lateral p50 of a perfect consensus: realised (absoluteFloorSource) = p50 over places of |mean bias of the drives that passed it . across the GT line| (points and polygons: |mean bias|); expected = p50 over places of |N(0, sigma^2/n)| (pooled); both in floorCm',
};

function scoreFigures(gt: readonly Primitive[], pred: readonly ScoredPrimitive[], s: EvalSettings, km: number | null): FigureSet {
  const gtBy = groupByClass(gt);
  const predBy = groupByClass(pred);
  const classes = {} as Record<PrimitiveClass, ClassReport>;
  const lateralAll: number[] = [];
  const allSeen: number[] = [];
  let gtLen = 0;
  let gtLenWithin = 0;
  let fpLen = 0;
  let predLen = 0;
  for (const cls of PRIMITIVE_CLASSES) {
    const r = scoreClass(cls, gtBy.get(cls) ?? [], (predBy.get(cls) ?? []) as ScoredPrimitive[], s, km);
    classes[cls] = r.report;
    if (r.report.geometry !== 'point') {
      for (const d of r.lateralCm) lateralAll.push(d);
      for (const d of r.allSeenCm) allSeen.push(d);
      gtLen += r.report.gtLengthM ?? 0;
      gtLenWithin += (r.report.recall ?? 0) * (r.report.gtLengthM ?? 0);
      fpLen += r.report.fpLengthM ?? 0;
      predLen += r.report.predLengthM ?? 0;
    }
  }
  // Points have no length of their own: their false positives per km of published lines.
  for (const cls of PRIMITIVE_CLASSES) {
    const c = classes[cls];
    if (c.geometry === 'point') c.fpCountPerKmPublished = c.fpCount !== null && predLen > 0 ? c.fpCount / (predLen / 1000) : null;
  }
  const mAP: ByThreshold = {};
  for (const t of s.thresholdsM) {
    const aps = PRIMITIVE_CLASSES.map((c) => classes[c].ap[thresholdKey(t)]).filter((v): v is number => typeof v === 'number');
    mAP[thresholdKey(t)] = aps.length ? aps.reduce((a, b) => a + b, 0) / aps.length : null;
  }
  return {
    classes,
    mAP,
    lateralErrorCm: lateralStats(lateralAll),
    lateralErrorAllSeenCm: allSeenStats(allSeen),
    recall: gtLen > 0 ? gtLenWithin / gtLen : null,
    fpLengthPerKm: km !== null && km > 0 ? fpLen / km : null,
    fpLengthPerKmPublished: predLen > 0 ? fpLen / (predLen / 1000) : null,
    publishedLengthM: predLen,
  };
}

function scoreClass(
  cls: PrimitiveClass,
  gt: readonly Primitive[],
  pred: readonly ScoredPrimitive[],
  s: EvalSettings,
  km: number | null,
): { report: ClassReport; lateralCm: number[]; allSeenCm: number[] } {
  const geometry = CLASS_GEOMETRY[cls];
  const isPoint = geometry === 'point';
  if (geometry === 'polyline' && s.stitchToleranceM > 0) {
    // How a line is split (Lanelet2 ways, tile borders) says nothing about the world (stitch.ts).
    gt = stitchPolylines(gt, s.stitchToleranceM).map((l) => ({ cls, points: l.points }));
    pred = stitchPolylines(pred, s.stitchToleranceM).map((l) => ({ cls, points: l.points, score: l.score }));
  }
  const scores = pred.map((p) => p.score);
  const maxThr = s.thresholdsM[s.thresholdsM.length - 1]!;
  const instOpts = { patchM: s.patchM, originM: s.patchOriginM, resampleCount: s.resampleCount, minPieceM: s.minPieceM };
  let gi: Instance[];
  let pi: Instance[];
  let cands: Candidate[][];
  if (isPoint) {
    gi = buildPointInstances(gt, instOpts);
    pi = buildPointInstances(pred, instOpts, scores);
    cands = pointCandidates(gi, pi, maxThr);
  } else {
    gi = buildLineInstances(gt, instOpts);
    pi = buildLineInstances(pred, instOpts, scores);
    cands = lineCandidates(gi, pi, maxThr);
  }
  const instScores = pi.map((p) => p.score);
  const ap: ByThreshold = {};
  const lateralCm: number[] = [];
  for (const t of s.thresholdsM) {
    const m = greedyMatch(instScores, cands, gi.length, t);
    ap[thresholdKey(t)] = averagePrecision(m.tp, gi.length);
    if (t !== maxThr) continue;
    m.gtOfPred.forEach((g, p) => {
      if (g < 0) return;
      const gInst = gi[g]!;
      for (const d of perpendicularDistancesM(pi[p]!.samples, gInst.line, gInst.closed)) lateralCm.push(100 * d);
    });
  }

  let recall: number | null = null;
  let gtLengthM: number | null = null;
  let predLengthM: number | null = null;
  let fpLengthM: number | null = null;
  let fpCount: number | null = null;
  let allSeenCm: number[];
  if (isPoint) {
    const gtPts = gt.map((g) => g.points[0]!);
    const predPts = pred.map((p) => p.points[0]!);
    const gtGrid = gtPts.length ? new SegmentGrid(gtPts.map((q) => ({ points: [q], closed: false })), 4) : null;
    const predGrid = predPts.length ? new SegmentGrid(predPts.map((q) => ({ points: [q], closed: false })), 4) : null;
    recall = gtPts.length ? pointsWithin(gtPts, predGrid, s.pointRadiusM) / gtPts.length : null;
    fpCount = predPts.length - pointsWithin(predPts, gtGrid, s.pointRadiusM);
    allSeenCm = nearestDistancesCm(gtPts, predGrid, s.allSeenSearchM);
  } else {
    const gtLines = gt.map(lineOf);
    const predLines = pred.map(lineOf);
    const gtGrid = gtLines.length ? new SegmentGrid(gtLines, 4) : null;
    const predGrid = predLines.length ? new SegmentGrid(predLines, 4) : null;
    const rec = lengthWithinM(gtLines, predGrid, s.recallRadiusM, s.coverageStepM);
    const fp = lengthWithinM(predLines, gtGrid, s.fpRadiusM, s.coverageStepM);
    gtLengthM = rec.totalM;
    predLengthM = fp.totalM;
    recall = gt.length && rec.totalM > 0 ? rec.withinM / rec.totalM : null;
    fpLengthM = Math.max(0, fp.totalM - fp.withinM);
    allSeenCm = nearestDistancesCm(samplesAlong(gtLines, s.coverageStepM), predGrid, s.allSeenSearchM);
  }
  const perKm = (v: number | null): number | null => (v !== null && km !== null && km > 0 ? v / km : null);
  return {
    report: {
      ap,
      lateralErrorCm: lateralStats(lateralCm),
      lateralErrorAllSeenCm: allSeenStats(allSeenCm),
      recall,
      geometry,
      gtCount: gt.length,
      predCount: pred.length,
      gtInstances: gi.length,
      predInstances: pi.length,
      gtLengthM,
      predLengthM,
      fpLengthM,
      fpLengthPerKm: perKm(fpLengthM),
      fpLengthPerKmPublished: fpLengthM !== null && predLengthM !== null && predLengthM > 0 ? fpLengthM / (predLengthM / 1000) : null,
      fpCount,
      fpCountPerKm: perKm(fpCount),
      fpCountPerKmPublished: null, // points: filled in by scoreFigures (needs all line classes)
    },
    lateralCm,
    allSeenCm,
  };
}

/** Distance of each point to the nearest thing in `grid`, cm; Infinity beyond `searchM` (a miss). */
function nearestDistancesCm(points: readonly XY[], grid: SegmentGrid | null, searchM: number): number[] {
  return points.map((p) => {
    const hit = grid === null ? null : grid.nearest(p[0], p[1], searchM);
    return hit === null ? Infinity : 100 * hit.distM;
  });
}

/** Midpoints of steps of at most `stepM` along every line (the samples of lengthWithinM). */
function samplesAlong(lines: ReadonlyArray<{ points: readonly XY[] }>, stepM: number): XY[] {
  const out: XY[] = [];
  forEachStepMidpoint(lines, stepM, (x, y) => out.push([x, y]));
  return out;
}

/** Quantiles of distances where Infinity marks a miss: a quantile touching a miss is null. */
function allSeenStats(cm: readonly number[]): AllSeenLateralCm {
  if (cm.length === 0) return { p50: null, p95: null, samples: 0, missedFraction: null };
  const sorted = Float64Array.from(cm).sort(); // misses (Infinity) last
  const missed = cm.reduce((n, d) => (d === Infinity ? n + 1 : n), 0);
  const q = (p: number): number | null => {
    const pos = (sorted.length - 1) * p;
    const lo = Math.floor(pos);
    const hi = Math.min(lo + 1, sorted.length - 1);
    const a = sorted[lo]!;
    if (pos === lo) return Number.isFinite(a) ? a : null;
    const b = sorted[hi]!;
    return Number.isFinite(b) ? a + (b - a) * (pos - lo) : null;
  };
  return { p50: q(0.5), p95: q(0.95), samples: cm.length, missedFraction: missed / cm.length };
}

function lateralStats(cm: readonly number[]): LateralErrorCm {
  return { p50: quantile(cm, 0.5), p95: quantile(cm, 0.95), samples: cm.length };
}

function groupByClass<T extends Primitive>(list: readonly T[]): Map<PrimitiveClass, T[]> {
  const out = new Map<PrimitiveClass, T[]>();
  for (const p of list) {
    const l = out.get(p.cls);
    if (l === undefined) out.set(p.cls, [p]);
    else l.push(p);
  }
  return out;
}

function resolveSettings(o: EvaluateOptions): EvalSettings {
  const d = DEFAULT_EVAL_SETTINGS;
  const thresholdsM = [...new Set(o.thresholdsM ?? d.thresholdsM)].sort((a, b) => a - b);
  if (thresholdsM.length === 0) throw new RangeError('thresholdsM must hold at least one threshold');
  for (const t of thresholdsM) positive(t, 'thresholdsM[]');
  const patchM = positive(o.patchM ?? d.patchM, 'patchM');
  const origin = o.patchOriginM ?? d.patchOriginM;
  if (!isFinitePair(origin)) throw new RangeError(`patchOriginM must be a finite [eastM, northM] pair, got ${JSON.stringify(origin)}`);
  const resample = o.resampleCount ?? d.resampleCount;
  if (!Number.isInteger(resample) || resample < 2) throw new RangeError(`resampleCount must be an integer >= 2, got ${resample}`);
  const align: AlignOptions = { ...d.align, ...o.align, originM: [origin[0], origin[1]] };
  positive(align.patchM, 'align.patchM');
  const ratio = align.patchM / patchM;
  if (Math.abs(ratio - Math.round(ratio)) > 1e-9 || Math.round(ratio) < 1) {
    throw new RangeError(`align.patchM (${align.patchM} m) must be a whole multiple of patchM (${patchM} m), so alignment cuts fall on patch borders`);
  }
  positive(align.gateM, 'align.gateM');
  positive(align.sampleStepM, 'align.sampleStepM');
  return {
    thresholdsM,
    patchM,
    patchOriginM: [origin[0], origin[1]],
    resampleCount: resample,
    minPieceM: nonNegative(o.minPieceM ?? d.minPieceM, 'minPieceM'),
    recallRadiusM: positive(o.recallRadiusM ?? d.recallRadiusM, 'recallRadiusM'),
    pointRadiusM: positive(o.pointRadiusM ?? d.pointRadiusM, 'pointRadiusM'),
    fpRadiusM: positive(o.fpRadiusM ?? d.fpRadiusM, 'fpRadiusM'),
    coverageStepM: positive(o.coverageStepM ?? d.coverageStepM, 'coverageStepM'),
    allSeenSearchM: positive(o.allSeenSearchM ?? d.allSeenSearchM, 'allSeenSearchM'),
    stitchToleranceM: nonNegative(o.stitchToleranceM ?? d.stitchToleranceM, 'stitchToleranceM'),
    align,
  };
}

/** Throws a RangeError naming the first bad field, e.g. `pred[3].points[1]`. */
export function validatePrimitives(list: readonly Primitive[], name: string, scored: boolean): void {
  if (!Array.isArray(list)) throw new TypeError(`${name} must be an array of primitives`);
  list.forEach((p, i) => {
    const at = `${name}[${i}]`;
    const cls: unknown = p.cls;
    const pts: unknown = p.points;
    if (!isPrimitiveClass(cls)) throw new RangeError(`${at}.cls must be one of ${PRIMITIVE_CLASSES.join(', ')}, got ${JSON.stringify(cls)}`);
    if (!Array.isArray(pts)) throw new RangeError(`${at}.points must be an array of [eastM, northM] pairs`);
    const shape = CLASS_GEOMETRY[cls];
    const n = pts.length;
    if (shape === 'point' && n !== 1) throw new RangeError(`${at}.points must hold exactly 1 point for ${cls}, got ${n}`);
    if (shape === 'polyline' && n < 2) throw new RangeError(`${at}.points must hold >= 2 vertices for ${cls}, got ${n}`);
    if (shape === 'polygon' && n < 3) throw new RangeError(`${at}.points must hold >= 3 vertices for ${cls}, got ${n}`);
    pts.forEach((q: unknown, k: number) => {
      if (!isFinitePair(q)) throw new RangeError(`${at}.points[${k}] must be a finite [eastM, northM] pair, got ${JSON.stringify(q)}`);
    });
    if (scored) {
      const sc = (p as ScoredPrimitive).score;
      if (typeof sc !== 'number' || !(sc >= 0 && sc <= 1)) throw new RangeError(`${at}.score must be a number in [0, 1], got ${JSON.stringify(sc)}`);
    }
  });
}

function isFinitePair(q: unknown): q is XY {
  return Array.isArray(q) && q.length === 2 && Number.isFinite(q[0]) && Number.isFinite(q[1]);
}

function positive(v: number, name: string): number {
  if (typeof v !== 'number' || !(v > 0) || !Number.isFinite(v)) throw new RangeError(`${name} must be a finite number > 0, got ${v}`);
  return v;
}

function nonNegative(v: number, name: string): number {
  if (typeof v !== 'number' || !(v >= 0) || !Number.isFinite(v)) throw new RangeError(`${name} must be a finite number >= 0, got ${v}`);
  return v;
}

function optionalNonNegative(v: number | undefined, name: string): number | null {
  return v === undefined ? null : nonNegative(v, name);
}
