/**
 * Evaluation of a merged map against ground truth: what sim/eval exports.
 */
export {
  evaluateMap,
  thresholdKey,
  validatePrimitives,
  DEFAULT_EVAL_SETTINGS,
  type EvaluateOptions,
  type EvalSettings,
  type EvaluationReport,
  type ClassReport,
  type FigureSet,
  type ByThreshold,
  type LateralErrorCm,
  type AlignmentSummary,
} from './evaluate.ts';
export { formatReportTable } from './table.ts';
export { consensusFloor, type FloorInput, type ConsensusFloor } from './floor.ts';
export { alignPerPatch, DEFAULT_ALIGN_OPTIONS, type AlignOptions, type PatchOffset } from './align.ts';
export { averagePrecision, greedyMatch, instanceChamferM, type Candidate, type MatchResult } from './chamfer_ap.ts';
export { cutPolylineOnGrid, buildLineInstances, buildPointInstances, type Instance, type GridPiece } from './instances.ts';
