/**
 * On-vehicle perception: camera frame -> segmentation (ONNX) -> ground projection -> local
 * evidence map -> vectorised primitives, as pure classes (the daemon's perception part drives
 * them). See docs/PERCEPTION.md.
 */
export { Preprocessor, scaleCalibration, DEFAULT_PREPROCESS_OPTIONS, type PreprocessOptions } from './preprocess.ts';
export { SegDecoder, allocSegOutput, DEFAULT_SEG_OUTPUT_DIMS, type SegOutput, type SegOutputDims } from './decode.ts';
export {
  Segmenter,
  loadModel,
  modelMetadataPath,
  createSession,
  validateModelMetadata,
  defaultProviderPresent,
  ModelError,
  MODEL_SPEC,
  DEFAULT_SESSION_OPTIONS,
  type ModelMetadata,
  type LoadedModel,
  type SessionOptions,
  type SessionResult,
  type ProviderFallback,
  type SegmenterOptions,
  type SegmenterTimings,
  type WarnFn,
} from './model.ts';
export { GroundLut, DEFAULT_GROUND_OPTIONS, type GroundOptions } from './ground.ts';
export { PitchEstimator, DEFAULT_PITCH_OPTIONS, type PitchOptions } from './pitch.ts';
export {
  LocalMap,
  vectorizeFrame,
  DEFAULT_LOCAL_MAP_OPTIONS,
  type LocalMapOptions,
  type LocalPose,
  type LocalPrimitive,
  type LocalMapCounters,
  type FinishResult,
} from './localmap.ts';
export { vectorizeGrid, allocBevGrid, DEFAULT_VECTORIZE_OPTIONS, type BevGrid, type VectorPrimitive, type VectorizeOptions, type ClipRect } from './vectorize.ts';
export { FrameGate, DEFAULT_GATE_OPTIONS, type GateOptions, type GateCounters } from './gate.ts';
export { CameraPerception, type CameraPerceptionOptions, type CameraPerceptionCounters, type FramePose, type FrameSegmenter, type PerceptionOutput } from './camera-perception.ts';
