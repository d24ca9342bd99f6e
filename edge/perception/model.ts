/**
 * The segmentation model as an artefact with an identity, and its inference session.
 *
 * `loadModel` reads `fleetmap-seg.onnx` and the metadata JSON beside it and refuses a model whose
 * sha256 differs from its metadata or whose spec (input/output names, shapes, dtypes, classes)
 * differs from what this runtime decodes (docs/PERCEPTION.md section 4).
 *
 * `createSession` tries the hardware profile's execution providers in order, each ALONE (so a
 * provider that cannot run is noticed instead of silently mixed with the CPU), falling back to the
 * next with a warning, and reports the provider it really got. Observed with the npm
 * onnxruntime-node for linux x64 (CPU build, v1.30): asking for 'tensorrt' or 'cuda' THROWS
 * ("OrtSessionOptionsAppendExecutionProvider_Cuda: Failed to load shared library"); 'coreml' /
 * 'xnnpack' throw "no available backend found". A build could instead accept the name and run on
 * the CPU; to catch that, a session created for a GPU provider is only believed when the
 * provider's shared library (libonnxruntime_providers_<ep>.so) sits beside the binding, otherwise
 * it counts as a silent fallback and the next provider is tried.
 *
 * `Segmenter` = preprocess + inference + decode with preallocated tensors; one run at a time.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import type { CameraFrame } from '../../shared/camera-frame.ts';
import { SEG_CLASS_COUNT, SEG_CLASS_NAMES } from '../../shared/camera.ts';
import type { ExecutionProvider } from '../hw-profile.ts';
import { classPriorFactors, SegDecoder, type SegOutput } from './decode.ts';
import { ort } from './ort.ts';
import { Preprocessor } from './preprocess.ts';

/** What this runtime decodes: the model's metadata must say exactly this. */
export const MODEL_SPEC = {
  input: { name: 'image', shape: [1, 3, 128, 256], dtype: 'float32' },
  output: { name: 'probs', shape: [1, SEG_CLASS_COUNT, 64, 128], dtype: 'float32' },
  classes: SEG_CLASS_NAMES,
} as const;

export interface ModelMetadata {
  name: string;
  version: string;
  sha256: string;
  opset?: number;
  input: { name: string; shape: number[]; dtype: string; layout?: string };
  output: { name: string; shape: number[]; dtype: string; meaning?: string };
  classes: string[];
  training?: unknown;
}

/** A model refused at load (bad metadata, wrong hash or spec) or one no provider could run. */
export class ModelError extends Error {
  constructor(
    readonly source: string,
    readonly problems: string[],
  ) {
    super(`model ${source}: ${problems.join('; ')}`);
    this.name = 'ModelError';
  }
}

export interface LoadedModel {
  onnxPath: string;
  bytes: Uint8Array;
  metadata: ModelMetadata;
}

/** The metadata file beside a model: `X.onnx` -> `X.json`. */
export function modelMetadataPath(onnxPath: string): string {
  return onnxPath.replace(/\.onnx$/, '') + '.json';
}

/** Read and check the model and its metadata (default: the .json beside the .onnx). */
export function loadModel(onnxPath: string, metadataPath = modelMetadataPath(onnxPath)): LoadedModel {
  if (!existsSync(onnxPath)) throw new ModelError(onnxPath, [`model file not found`]);
  if (!existsSync(metadataPath)) throw new ModelError(onnxPath, [`metadata file ${metadataPath} not found`]);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(metadataPath, 'utf8'));
  } catch (e) {
    throw new ModelError(onnxPath, [`metadata ${metadataPath} is not JSON: ${(e as Error).message}`]);
  }
  const meta = validateModelMetadata(raw, metadataPath);
  const bytes = new Uint8Array(readFileSync(onnxPath));
  const sha = createHash('sha256').update(bytes).digest('hex');
  if (sha !== meta.sha256.toLowerCase()) throw new ModelError(onnxPath, [`sha256 is ${sha}, metadata says ${meta.sha256}`]);
  return { onnxPath, bytes, metadata: meta };
}

/** Check parsed metadata against MODEL_SPEC; throws ModelError naming every differing field. */
export function validateModelMetadata(raw: unknown, source = '<inline>'): ModelMetadata {
  const problems: string[] = [];
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new ModelError(source, [`metadata must be a JSON object, got ${JSON.stringify(raw)}`]);
  const m = raw as Record<string, unknown>;
  for (const k of ['name', 'version'] as const) if (typeof m[k] !== 'string' || !m[k]) problems.push(`${k} must be a non-empty string, got ${JSON.stringify(m[k])}`);
  if (typeof m.sha256 !== 'string' || !/^[0-9a-fA-F]{64}$/.test(m.sha256)) problems.push(`sha256 must be 64 hex digits, got ${JSON.stringify(m.sha256)}`);
  for (const side of ['input', 'output'] as const) {
    const want = MODEL_SPEC[side];
    const got = m[side] as Record<string, unknown> | undefined;
    if (typeof got !== 'object' || got === null) {
      problems.push(`${side} must be an object, got ${JSON.stringify(got)}`);
      continue;
    }
    if (got.name !== want.name) problems.push(`${side}.name must be ${JSON.stringify(want.name)}, got ${JSON.stringify(got.name)}`);
    if (JSON.stringify(got.shape) !== JSON.stringify(want.shape)) problems.push(`${side}.shape must be ${JSON.stringify(want.shape)}, got ${JSON.stringify(got.shape)}`);
    if (got.dtype !== want.dtype) problems.push(`${side}.dtype must be ${JSON.stringify(want.dtype)}, got ${JSON.stringify(got.dtype)}`);
  }
  if (JSON.stringify(m.classes) !== JSON.stringify(MODEL_SPEC.classes)) problems.push(`classes must be ${JSON.stringify(MODEL_SPEC.classes)}, got ${JSON.stringify(m.classes)}`);
  if (problems.length > 0) throw new ModelError(source, problems);
  return raw as ModelMetadata;
}

/** Warning callback: a stable event name and its fields (the daemon logs them). */
export type WarnFn = (event: string, fields: Record<string, string | number | boolean | null>) => void;

export interface SessionOptions {
  /** Providers to try, in order (the hardware profile's `inference.executionProviders`). */
  executionProviders: readonly ExecutionProvider[];
  /** Threads inside one operator (profile `inference.intraOpThreads`). */
  intraOpThreads: number;
  /** Threads across operators (profile `inference.interOpThreads`). */
  interOpThreads: number;
  /** Called once per provider that could not be used: `inference_provider_fallback`. */
  onWarn: WarnFn;
  /**
   * onnxruntime's own (native, stderr) log level, process-wide, set before the first session:
   * 'fatal' keeps its text out of the daemon's JSON log (failures reach `onWarn` anyway).
   */
  ortLogLevel: 'verbose' | 'info' | 'warning' | 'error' | 'fatal';
  /** Whether a session created for `ep` really runs on it (default: its library is present). */
  providerPresent: (ep: ExecutionProvider) => boolean;
  /** Per-provider options as onnxruntime-node takes them (hw-profile `onnxruntimeSessionOptions`). */
  providerOptions: Partial<Record<ExecutionProvider, Record<string, string | number | boolean>>>;
  /** Session factory (tests replace it). */
  create: (model: Uint8Array, options: ort.InferenceSession.SessionOptions) => Promise<ort.InferenceSession>;
}

export const DEFAULT_SESSION_OPTIONS: SessionOptions = {
  executionProviders: ['cpu'], // tried in order
  intraOpThreads: 1, // threads
  interOpThreads: 1, // threads
  onWarn: () => {},
  ortLogLevel: 'fatal',
  providerOptions: {},
  providerPresent: defaultProviderPresent,
  create: (model, options) => ort.InferenceSession.create(model, options),
};

export interface ProviderFallback {
  provider: ExecutionProvider;
  reason: string;
}

export interface SessionResult {
  session: ort.InferenceSession;
  /** The provider the session really runs on. */
  provider: ExecutionProvider;
  /** Providers tried before it, with why each was not used. */
  fallbacks: ProviderFallback[];
}

/** onnxruntime's names of the profile's providers. */
const ORT_PROVIDER_NAMES: Record<ExecutionProvider, string> = { tensorrt: 'tensorrt', cuda: 'cuda', cpu: 'cpu', coreml: 'coreml', xnnpack: 'xnnpack' };

export async function createSession(model: LoadedModel, options: Partial<SessionOptions> = {}): Promise<SessionResult> {
  const o = { ...DEFAULT_SESSION_OPTIONS, ...options };
  if (o.executionProviders.length === 0) throw new RangeError(`session.executionProviders must be a non-empty list, got []`);
  for (const k of ['intraOpThreads', 'interOpThreads'] as const) {
    if (!(Number.isInteger(o[k]) && o[k] >= 1 && o[k] <= 256)) throw new RangeError(`session.${k} must be an integer in [1, 256], got ${o[k]}`);
  }
  ort.env.logLevel = o.ortLogLevel;
  const fallbacks: ProviderFallback[] = [];
  const eps = o.executionProviders;
  for (let i = 0; i < eps.length; i++) {
    const ep = eps[i]!;
    const next = eps[i + 1] ?? null;
    let session: ort.InferenceSession | undefined;
    let reason: string | undefined;
    try {
      session = await o.create(model.bytes, {
        executionProviders: [{ ...o.providerOptions[ep], name: ORT_PROVIDER_NAMES[ep] }],
        intraOpNumThreads: o.intraOpThreads,
        interOpNumThreads: o.interOpThreads,
        graphOptimizationLevel: 'all',
        // Worker threads sleep between runs instead of spinning: the daemon runs one small frame
        // at a time beside other processes, and spinning only burns the cores they need.
        extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } },
      });
      if (!o.providerPresent(ep)) reason = `session created but the ${ep} provider is not installed: it would silently run on the CPU`;
    } catch (e) {
      reason = firstLine((e as Error).message ?? String(e));
    }
    if (session && reason === undefined) {
      checkSessionIo(session, model);
      return { session, provider: ep, fallbacks };
    }
    if (session) await session.release().catch(() => {});
    fallbacks.push({ provider: ep, reason: reason! });
    o.onWarn('inference_provider_fallback', { provider: ep, reason: reason ?? null, next });
  }
  throw new ModelError(model.onnxPath, [`no execution provider could run it: ${fallbacks.map((f) => `${f.provider}: ${f.reason}`).join(' | ')}`]);
}

/** The session's own input/output names and shapes must match the metadata. */
function checkSessionIo(session: ort.InferenceSession, model: LoadedModel): void {
  const problems: string[] = [];
  const m = model.metadata;
  if (session.inputNames.length !== 1 || session.inputNames[0] !== m.input.name) problems.push(`graph inputs are ${JSON.stringify(session.inputNames)}, metadata says [${JSON.stringify(m.input.name)}]`);
  if (!session.outputNames.includes(m.output.name)) problems.push(`graph outputs are ${JSON.stringify(session.outputNames)}, metadata says ${JSON.stringify(m.output.name)}`);
  const shapeOf = (list: readonly ort.InferenceSession.ValueMetadata[] | undefined, name: string): unknown => {
    const v = list?.find((x) => x.name === name);
    return v && v.isTensor ? v.shape : undefined;
  };
  for (const [side, list] of [['input', session.inputMetadata], ['output', session.outputMetadata]] as const) {
    const want = m[side];
    const got = shapeOf(list, want.name);
    if (got !== undefined && JSON.stringify(got) !== JSON.stringify(want.shape)) problems.push(`graph ${side} ${want.name} has shape ${JSON.stringify(got)}, metadata says ${JSON.stringify(want.shape)}`);
  }
  if (problems.length > 0) {
    void session.release().catch(() => {});
    throw new ModelError(model.onnxPath, problems);
  }
}

/** CPU is always there; GPU providers need their shared library beside the native binding. */
export function defaultProviderPresent(ep: ExecutionProvider): boolean {
  if (ep === 'cpu') return true;
  if (ep === 'coreml' || ep === 'xnnpack') return true; // compiled in where offered at all
  try {
    const entry = createRequire(import.meta.url).resolve('onnxruntime-node');
    const bin = path.join(path.dirname(entry), '..', 'bin');
    const lib = `libonnxruntime_providers_${ep}.${process.platform === 'win32' ? 'dll' : 'so'}`;
    return readdirSync(bin).some((napi) => existsSync(path.join(bin, napi, process.platform, process.arch, lib)));
  } catch {
    return false;
  }
}

export interface SegmenterOptions extends Partial<SessionOptions> {
  /** The .onnx file (its metadata .json beside it unless `metadataPath`). */
  modelPath: string;
  metadataPath?: string;
  /**
   * How much of the training's class weighting the decoder takes back out (decode.ts
   * classPriorFactors), in [0, 1]; default DEFAULT_CLASS_PRIOR_ALPHA.
   */
  classPriorAlpha?: number;
}

/**
 * Default class prior correction. Tuned on the simulator's Karlsruhe map with a fleet (seed 2,
 * 10 vehicles x 2 drives) other than the demo's, per-class factors at first: relative mAP@0.5
 * 0.258 / 0.302 / 0.322 / 0.289 and false positives 24.8 / 15.5 / 10.9 / 7.4 m per km driven at
 * alpha 0 / 0.5 / 0.75 / 1; with the shared factor (decode.ts classPriorFactors) at 0.75: 0.308,
 * 11.1 m per km.
 */
export const DEFAULT_CLASS_PRIOR_ALPHA = 0.75;

/** Per-stage time of the last `run`, milliseconds. */
export interface SegmenterTimings {
  preprocessMs: number;
  inferenceMs: number;
  decodeMs: number;
}

/**
 * Camera frame -> SegOutput. The returned SegOutput is the segmenter's own buffer, overwritten by
 * the next run: consume it before starting another (FrameGate keeps one frame in flight).
 */
export class Segmenter {
  readonly timings: SegmenterTimings = { preprocessMs: 0, inferenceMs: 0, decodeMs: 0 };
  private readonly input: ort.Tensor;
  private readonly output: ort.Tensor;
  private running = false;

  private constructor(
    readonly model: LoadedModel,
    readonly session: ort.InferenceSession,
    /** The provider the session runs on. */
    readonly provider: ExecutionProvider,
    readonly fallbacks: ProviderFallback[],
    readonly preprocessor: Preprocessor,
    readonly decoder: SegDecoder,
    /** The class prior correction's alpha in use (0: none, the model has no class weights or was asked for none). */
    readonly classPriorAlpha: number,
  ) {
    this.input = new ort.Tensor('float32', preprocessor.tensor, model.metadata.input.shape);
    this.output = new ort.Tensor('float32', new Float32Array(model.metadata.output.shape.reduce((a, b) => a * b, 1)), model.metadata.output.shape);
  }

  static async create(options: SegmenterOptions): Promise<Segmenter> {
    const model = loadModel(options.modelPath, options.metadataPath);
    const { session, provider, fallbacks } = await createSession(model, options);
    const [, , inH, inW] = model.metadata.input.shape as [number, number, number, number];
    const [, classes, outH, outW] = model.metadata.output.shape as [number, number, number, number];
    const training = model.metadata.training as { classWeights?: unknown } | undefined;
    const alpha = options.classPriorAlpha ?? DEFAULT_CLASS_PRIOR_ALPHA;
    const factors = classPriorFactors(training?.classWeights, model.metadata.classes, alpha);
    return new Segmenter(model, session, provider, fallbacks, new Preprocessor({ widthPx: inW, heightPx: inH }), new SegDecoder({ classes, widthPx: outW, heightPx: outH }, factors), factors ? alpha : 0);
  }

  async run(frame: CameraFrame): Promise<SegOutput> {
    if (this.running) throw new Error('Segmenter.run: a run is already in progress (one frame at a time)');
    this.running = true;
    try {
      const t0 = performance.now();
      this.preprocessor.run(frame);
      const t1 = performance.now();
      const res = await this.session.run({ [this.model.metadata.input.name]: this.input }, { [this.model.metadata.output.name]: this.output });
      const t2 = performance.now();
      const probs = res[this.model.metadata.output.name];
      if (!probs || !(probs.data instanceof Float32Array)) throw new ModelError(this.model.onnxPath, [`run returned no float32 ${this.model.metadata.output.name}`]);
      const out = this.decoder.decode(probs.data);
      const t3 = performance.now();
      this.timings.preprocessMs = t1 - t0;
      this.timings.inferenceMs = t2 - t1;
      this.timings.decodeMs = t3 - t2;
      return out;
    } finally {
      this.running = false;
    }
  }

  /** Model input size, pixels. */
  get inputWidthPx(): number {
    return this.preprocessor.options.widthPx;
  }

  get inputHeightPx(): number {
    return this.preprocessor.options.heightPx;
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}

function firstLine(s: string): string {
  const line = s.split('\n')[0] ?? s;
  return line.length > 300 ? `${line.slice(0, 300)}...` : line;
}
