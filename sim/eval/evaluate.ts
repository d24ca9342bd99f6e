/**
 * Scores a merged map against ground truth: `evaluateMap(gt, pred, opts) -> EvaluationReport`.
 *
 * Inputs are in one local metric frame, `[eastM, northM]`. Figures, per class (see schema.ts):
 *  1. Chamfer AP at 0.2 / 0.5 / 1.0 m on instances cut on a 50 m patch grid (chamfer_ap.ts,
 *     instances.ts), mAP over the classes present in the ground truth;
 *  2. lateral error (cm, p50/p95) of the pairs matched at the loosest threshold;
 *  3. recall: fraction of ground-truth length within 0.5 m of a prediction of the class (points:
 *     fraction of ground-truth points within 1.0 m);
 *  4. false-positive length per km driven: prediction length farther than 1.0 m from any ground
 *     truth of the class (points: count farther than 1.0 m), and bytes uploaded per km driven;
 *  5. everything again after removing one translation per 100 m patch (`relative`, align.ts);
 *  6. the statistical floor of the absolute lateral error (`absoluteFloorCm`, floor.ts).
 *
 * The report's contract keys (version, drives, kmDriven, bytesUploaded, bytesPerKm, classes.*.
 * {ap, lateralErrorCm, recall}, mAP, relative.{mAP, lateralErrorCm}, absoluteFloorCm, elapsedS)
 * are read by tools: keep them. Every other key is additional. Unknown figures are null (never
 * NaN), so the report survives JSON.
 */
import { CLASS_GEOMETRY, PRIMITIVE_CLASSES, isPrimitiveClass, type Primitive, type PrimitiveClass, type ScoredPrimitive, type XY } from '../../shared/schema.ts';
import { alignPerPatch, DEFAULT_ALIGN_OPTIONS, medianOffsetCm, type AlignOptions } from './align.ts';
import { averagePrecision, greedyMatch, lineCandidates, pointCandidates, type Candidate } from './chamfer_ap.ts';
import { consensusFloor, type FloorInput } from './floor.ts';
import { SegmentGrid } from './grid_index.ts';
import { buildLineInstances, buildPointInstances, lineOf, type Instance } from './instances.ts';
import { stitchPolylines } from './stitch.ts';
import { lengthWithinM, perpendicularDistancesM, pointsWithin, quantile } from './metrics.ts';

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
  /** Step for the length figures (recall, false-positive length), metres. */
  coverageStepM?: number;
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
  /** Inputs of the statistical floor; without it `absoluteFloorCm` is null. */
  floor?: FloorInput;
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

export interface ClassReport {
  ap: ByThreshold;
  /** Lateral error of matched pairs (points: Euclidean distance), cm. */
  lateralErrorCm: LateralErrorCm;
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
  /** Point classes: predictions farther than pointRadiusM from any ground truth, count and /km. */
  fpCount: number | null;
  fpCountPerKm: number | null;
}

export interface FigureSet {
  classes: Record<PrimitiveClass, ClassReport>;
  mAP: ByThreshold;
  /** Pooled over the line classes (polylines and crosswalk rings); points are per class only. */
  lateralErrorCm: LateralErrorCm;
  /** Ground-truth length recalled over all line classes. */
  recall: number | null;
  /** False-positive length over all line classes per km driven, m/km. */
  fpLengthPerKm: number | null;
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
  /** p50 of the absolute lateral error of a perfect consensus, cm (floor.ts). */
  absoluteFloorCm: number | null;
  elapsedS: number | null;
  // ---- additional keys ----
  lateralErrorCm: LateralErrorCm;
  recall: number | null;
  fpLengthPerKm: number | null;
  absoluteFloorP95Cm: number | null;
  floorPlaces: number | null;
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
  const floor = opts.floor === undefined ? null : consensusFloor(opts.floor);
  return {
    version: 1,
    drives: optionalNonNegative(opts.drives, 'drives'),
    kmDriven: km,
    bytesUploaded: bytes,
    bytesPerKm: km !== null && km > 0 && bytes !== null ? bytes / km : null,
    classes: absolute.classes,
    mAP: absolute.mAP,
    relative,
    absoluteFloorCm: floor?.consensusLateralP50Cm ?? null,
    elapsedS: opts.elapsedS ?? null,
    lateralErrorCm: absolute.lateralErrorCm,
    recall: absolute.recall,
    fpLengthPerKm: absolute.fpLengthPerKm,
    absoluteFloorP95Cm: floor?.consensusLateralP95Cm ?? null,
    floorPlaces: floor?.places ?? null,
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
  lateralErrorCm: 'perpendicular distances of matched predictions\' resampled points to the GT piece, pairs matched at the loosest threshold; overall pools line classes',
  recall: 'fraction of GT length within recallRadiusM of a prediction of the class (points: count within pointRadiusM)',
  fpLengthPerKm: 'prediction length farther than fpRadiusM from any GT of the class, metres per km driven',
  relative: 'figures after removing one best-fit translation per alignment patch (align.ts)',
  absoluteFloorCm: 'p50 over places of |N(0, sigma^2/n)| (pooled): the absolute lateral p50 of a perfect consensus',
};

function scoreFigures(gt: readonly Primitive[], pred: readonly ScoredPrimitive[], s: EvalSettings, km: number | null): FigureSet {
  const gtBy = groupByClass(gt);
  const predBy = groupByClass(pred);
  const classes = {} as Record<PrimitiveClass, ClassReport>;
  const lateralAll: number[] = [];
  let gtLen = 0;
  let gtLenWithin = 0;
  let fpLen = 0;
  for (const cls of PRIMITIVE_CLASSES) {
    const r = scoreClass(cls, gtBy.get(cls) ?? [], (predBy.get(cls) ?? []) as ScoredPrimitive[], s, km);
    classes[cls] = r.report;
    if (r.report.geometry !== 'point') {
      for (const d of r.lateralCm) lateralAll.push(d);
      gtLen += r.report.gtLengthM ?? 0;
      gtLenWithin += (r.report.recall ?? 0) * (r.report.gtLengthM ?? 0);
      fpLen += r.report.fpLengthM ?? 0;
    }
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
    recall: gtLen > 0 ? gtLenWithin / gtLen : null,
    fpLengthPerKm: km !== null && km > 0 ? fpLen / km : null,
  };
}

function scoreClass(
  cls: PrimitiveClass,
  gt: readonly Primitive[],
  pred: readonly ScoredPrimitive[],
  s: EvalSettings,
  km: number | null,
): { report: ClassReport; lateralCm: number[] } {
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
  if (isPoint) {
    const gtPts = gt.map((g) => g.points[0]!);
    const predPts = pred.map((p) => p.points[0]!);
    const gtGrid = gtPts.length ? new SegmentGrid(gtPts.map((q) => ({ points: [q], closed: false })), 4) : null;
    const predGrid = predPts.length ? new SegmentGrid(predPts.map((q) => ({ points: [q], closed: false })), 4) : null;
    recall = gtPts.length ? pointsWithin(gtPts, predGrid, s.pointRadiusM) / gtPts.length : null;
    fpCount = predPts.length - pointsWithin(predPts, gtGrid, s.pointRadiusM);
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
  }
  const perKm = (v: number | null): number | null => (v !== null && km !== null && km > 0 ? v / km : null);
  return {
    report: {
      ap,
      lateralErrorCm: lateralStats(lateralCm),
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
      fpCount,
      fpCountPerKm: perKm(fpCount),
    },
    lateralCm,
  };
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
