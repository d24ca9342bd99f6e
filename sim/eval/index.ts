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
  type AllSeenLateralCm,
  type FloorReport,
} from './evaluate.ts';
export { evaluateOnCoverage, coverageEvaluateOptions, uploadedBatchBytes } from './on-coverage.ts';
export { formatReportTable } from './table.ts';
export { consensusFloor, realisedFloor, type FloorInput, type ConsensusFloor, type RealisedFloorInput, type RealisedFloor, type RealisedFloorPlace } from './floor.ts';
export { alignPerPatch, DEFAULT_ALIGN_OPTIONS, type AlignOptions, type PatchOffset } from './align.ts';
export { averagePrecision, greedyMatch, instanceChamferM, type Candidate, type MatchResult } from './chamfer_ap.ts';
export { cutPolylineOnGrid, buildLineInstances, buildPointInstances, type Instance, type GridPiece } from './instances.ts';
