/**
 * Hardware profiles: one JSON file per vehicle-computer class in hw-profiles/, validated at
 * start-up and chosen once (by `--hw-profile NAME|FILE` or by detection), in the manner of
 * openpilot's system/hardware. Everything machine-dependent the daemon tunes lives here.
 *
 * Schema v2 (units in the key names or beside them; hw-profiles/README.md explains each key):
 * ```
 * { schemaVersion: 2, name, description,
 *   detect:     { arch: ["x64"|"arm64"...],                 // Node's process.arch values
 *                 deviceTreeModelIncludes?: "Orin NX" },     // for boards sharing an arch (Jetsons)
 *   inference:  { executionProviders: [                      // onnxruntime EPs, tried in order
 *                   { name: "tensorrt", options?: { deviceId, fp16, engineCacheDir, maxWorkspaceMb } },
 *                   { name: "cuda", options?: { deviceId } },
 *                   { name: "cpu", options?: { useArena } } ],
 *                 intraOpThreads, interOpThreads,
 *                 modelVariant: "fleetmap-seg",              // edge/model/<modelVariant>.onnx
 *                 inputWidthPx, inputHeightPx,               // the model's input size
 *                 thread?: "worker" | "main" },              // where inference runs (default main)
 *   perception: { maxHz, skipPolicy: "latest", maxQueuedFrames,
 *                 roadSlope? },                              // estimate the road's vertical curvature (default false)
 *   intake:     { idleFlushS },                              // flush the outbox after this much intake silence
 *   outbox:     { maxDiskMb,                                 // everything on disk: database + WAL + shm
 *                 batchMaxObservations, batchMaxBytes, batchMaxAgeS,
 *                 dropWhenFull: ["dead_letters", "pending", "batches"],  // what may go at the budget, in order
 *                 dropToPercent,                             // after a drop: this % of maxDiskMb
 *                 classPriority: { lane_divider: 0..9, ... },  // every class; higher = more valuable
 *                 syncEveryMs? },                            // queued observations may wait this long for an fsync (default 1000; edge/outbox-sync.ts)
 *   uplink:     { maxKbps (0 = unlimited), meteredMaxKbps (on a metered link; <= maxKbps),
 *                 meteredMinPriority (classes below it are held back while metered; 0 = none),
 *                 ackTimeoutMs, backoffBaseMs, backoffCapMs, backoffJitter } }
 * ```
 * v1 profiles (executionProviders as plain names, no model or perception section) are refused
 * with a message saying what v2 adds.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { MAX_ENVELOPE_BYTES, MAX_OBSERVATIONS_PER_BATCH, PRIMITIVE_CLASSES } from '../shared/index.ts';
import { MAX_SYNC_EVERY_MS } from './outbox-sync.ts';
import { DROP_KINDS, MAX_CLASS_PRIORITY, type ClassPriority, type DropKind } from './outbox-policy.ts';

export const HW_PROFILE_SCHEMA_VERSION = 2;
/** onnxruntime execution providers a profile may list. */
export const EXECUTION_PROVIDERS = ['tensorrt', 'cuda', 'cpu', 'coreml', 'xnnpack'] as const;
export type ExecutionProvider = (typeof EXECUTION_PROVIDERS)[number];
/** What the perception part does with frames that arrive while one is being processed. */
export const SKIP_POLICIES = ['latest'] as const; // latest: drop the waiting frame for the newest
export type SkipPolicy = (typeof SKIP_POLICIES)[number];
/**
 * Where inference runs: "worker" (a worker thread; the daemon's thread fuses the previous frame
 * meanwhile and never waits on onnxruntime, GPU waits included) or "main" (the daemon's thread,
 * the default: one thread and about 45 MB less).
 */
export const INFERENCE_THREADS = ['worker', 'main'] as const;
export type InferenceThread = (typeof INFERENCE_THREADS)[number];

export const HW_PROFILES_DIR = fileURLToPath(new URL('../hw-profiles/', import.meta.url));

/** Old profile names still accepted by `--hw-profile` and config files: old name -> file name. */
export const HW_PROFILE_ALIASES: Readonly<Record<string, string>> = { 'x86_64-dev': 'x86-64' };

export interface TensorRtOptions {
  deviceId?: number; // CUDA device index (0 on a Jetson: one integrated GPU)
  fp16?: boolean; // build FP16 engines (Xavier and Orin GPUs have FP16 tensor cores)
  engineCacheDir?: string; // absolute directory for built engines; without it every start rebuilds them
  maxWorkspaceMb?: number; // TensorRT builder workspace, MiB
}
export interface CudaOptions {
  deviceId?: number;
}
export interface CpuOptions {
  useArena?: boolean; // onnxruntime's CPU memory arena (default on)
}
export type ExecutionProviderSpec =
  | { name: 'tensorrt'; options?: TensorRtOptions }
  | { name: 'cuda'; options?: CudaOptions }
  | { name: 'cpu'; options?: CpuOptions }
  | { name: 'coreml' | 'xnnpack'; options?: Record<string, never> };

export interface HwProfile {
  schemaVersion: 2;
  name: string;
  description: string;
  detect: { arch: string[]; deviceTreeModelIncludes?: string };
  inference: {
    executionProviders: ExecutionProviderSpec[];
    intraOpThreads: number;
    interOpThreads: number;
    modelVariant: string;
    inputWidthPx: number;
    inputHeightPx: number;
    /** Where inference runs: a worker thread or the daemon's own thread (default). */
    thread?: InferenceThread;
  };
  perception: {
    maxHz: number;
    skipPolicy: SkipPolicy;
    maxQueuedFrames: number;
    /** Project onto the road's vertical curvature as estimated from the camera (edge/perception/slope.ts); default false: flat ground. */
    roadSlope?: boolean;
  };
  intake: { idleFlushS: number };
  outbox: {
    maxDiskMb: number;
    batchMaxObservations: number;
    batchMaxBytes: number;
    batchMaxAgeS: number;
    dropWhenFull: DropKind[];
    dropToPercent: number;
    classPriority: ClassPriority;
    /** Queued observations may wait this long for a durable commit, ms (edge/outbox-sync.ts); absent: DEFAULT_SYNC_EVERY_MS. */
    syncEveryMs?: number;
  };
  uplink: { maxKbps: number; meteredMaxKbps: number; meteredMinPriority: number; ackTimeoutMs: number; backoffBaseMs: number; backoffCapMs: number; backoffJitter: number };
}

/** A profile that does not validate; `problems` lists every bad field with its value. */
export class HwProfileError extends Error {
  constructor(
    readonly source: string,
    readonly problems: string[],
  ) {
    super(`hw-profile ${source}: ${problems.join('; ')}`);
    this.name = 'HwProfileError';
  }
}

type OptionRule = { want: string; ok: (v: unknown) => boolean };
const intIn = (lo: number, hi: number): OptionRule => ({ want: `an integer in [${lo}, ${hi}]`, ok: (v) => Number.isInteger(v) && (v as number) >= lo && (v as number) <= hi });
const BOOL: OptionRule = { want: 'true or false', ok: (v) => typeof v === 'boolean' };
const ABS_DIR: OptionRule = { want: 'an absolute directory path', ok: (v) => typeof v === 'string' && path.posix.isAbsolute(v) && !v.includes('\0') };
/** The options each execution provider takes (our names; the runtime maps them to onnxruntime's). */
const EP_OPTIONS: Record<ExecutionProvider, Record<string, OptionRule>> = {
  tensorrt: { deviceId: intIn(0, 15), fp16: BOOL, engineCacheDir: ABS_DIR, maxWorkspaceMb: intIn(16, 65_536) },
  cuda: { deviceId: intIn(0, 15) },
  cpu: { useArena: BOOL },
  coreml: {},
  xnnpack: {},
};

const SECTION_KEYS: Record<string, readonly string[]> = {
  detect: ['arch', 'deviceTreeModelIncludes'],
  inference: ['executionProviders', 'intraOpThreads', 'interOpThreads', 'modelVariant', 'inputWidthPx', 'inputHeightPx', 'thread'],
  perception: ['maxHz', 'skipPolicy', 'maxQueuedFrames', 'roadSlope'],
  intake: ['idleFlushS'],
  outbox: ['maxDiskMb', 'batchMaxObservations', 'batchMaxBytes', 'batchMaxAgeS', 'dropWhenFull', 'dropToPercent', 'classPriority', 'syncEveryMs'],
  uplink: ['maxKbps', 'meteredMaxKbps', 'meteredMinPriority', 'ackTimeoutMs', 'backoffBaseMs', 'backoffCapMs', 'backoffJitter'],
};
const TOP_KEYS = ['schemaVersion', 'name', 'description', ...Object.keys(SECTION_KEYS)];
const NAME_RE = /^[A-Za-z0-9._-]{1,64}$/;

/** Validate parsed JSON; throws HwProfileError naming every bad field and value. */
export function validateHwProfile(raw: unknown, source = '<inline>'): HwProfile {
  if (!isObject(raw)) throw new HwProfileError(source, [`the profile must be a JSON object, got ${show(raw)}`]);
  const r = raw;
  if (r.schemaVersion !== HW_PROFILE_SCHEMA_VERSION) {
    // Another version's fields mean other things: refuse it whole rather than list every difference.
    const hint = r.schemaVersion === 1 ? ' (v2 writes executionProviders as {name, options}, and adds inference.modelVariant/inputWidthPx/inputHeightPx and a perception section; see hw-profiles/README.md)' : '';
    throw new HwProfileError(source, [`schemaVersion must be ${HW_PROFILE_SCHEMA_VERSION}, got ${show(r.schemaVersion)}${hint}`]);
  }
  const problems: string[] = [];
  const bad = (field: string, want: string, got: unknown): void => {
    problems.push(`${field} must be ${want}, got ${show(got)}`);
  };
  const unknownKeys = (obj: Record<string, unknown>, where: string, known: readonly string[]): void => {
    for (const k of Object.keys(obj)) if (!known.includes(k)) problems.push(`${where}${k} is not a known key (known: ${known.join(', ')}), got ${show(obj[k])}`);
  };
  unknownKeys(r, '', TOP_KEYS);
  if (typeof r.name !== 'string' || !NAME_RE.test(r.name)) bad('name', 'a name of 1..64 [A-Za-z0-9._-]', r.name);
  if (typeof r.description !== 'string') bad('description', 'a string', r.description);

  const section = (name: string): Record<string, unknown> => {
    const s = r[name];
    if (!isObject(s)) {
      bad(name, 'an object', s);
      return {};
    }
    unknownKeys(s, `${name}.`, SECTION_KEYS[name]!);
    return s;
  };
  const num = (sec: Record<string, unknown>, secName: string, key: string, lo: number, hi: number, integer: boolean): void => {
    const v = sec[key];
    const ok = typeof v === 'number' && Number.isFinite(v) && v >= lo && v <= hi && (!integer || Number.isInteger(v));
    if (!ok) bad(`${secName}.${key}`, `${integer ? 'an integer' : 'a number'} in [${lo}, ${hi}]`, v);
  };

  const detect = section('detect');
  if (!Array.isArray(detect.arch) || detect.arch.length === 0 || !detect.arch.every((a) => typeof a === 'string' && a.length > 0)) {
    bad('detect.arch', 'a non-empty list of process.arch names (e.g. ["x64"])', detect.arch);
  }
  if (detect.deviceTreeModelIncludes !== undefined && (typeof detect.deviceTreeModelIncludes !== 'string' || !detect.deviceTreeModelIncludes)) {
    bad('detect.deviceTreeModelIncludes', 'a non-empty string when present', detect.deviceTreeModelIncludes);
  }

  const inf = section('inference');
  validateExecutionProviders(inf.executionProviders, bad, problems);
  num(inf, 'inference', 'intraOpThreads', 1, 256, true);
  num(inf, 'inference', 'interOpThreads', 1, 256, true);
  if (typeof inf.modelVariant !== 'string' || !NAME_RE.test(inf.modelVariant) || inf.modelVariant.endsWith('.onnx')) {
    bad('inference.modelVariant', 'a model file name without .onnx, 1..64 [A-Za-z0-9._-] (e.g. "fleetmap-seg")', inf.modelVariant);
  }
  num(inf, 'inference', 'inputWidthPx', 16, 4096, true);
  num(inf, 'inference', 'inputHeightPx', 16, 4096, true);
  if (inf.thread !== undefined && !(INFERENCE_THREADS as readonly unknown[]).includes(inf.thread)) bad('inference.thread', `one of ${INFERENCE_THREADS.map((s) => `"${s}"`).join(', ')} when present`, inf.thread);

  const perc = section('perception');
  num(perc, 'perception', 'maxHz', 0.1, 100, false);
  if (!(SKIP_POLICIES as readonly unknown[]).includes(perc.skipPolicy)) bad('perception.skipPolicy', `one of ${SKIP_POLICIES.map((s) => `"${s}"`).join(', ')}`, perc.skipPolicy);
  num(perc, 'perception', 'maxQueuedFrames', 1, 16, true);
  if (perc.roadSlope !== undefined && typeof perc.roadSlope !== 'boolean') bad('perception.roadSlope', 'true or false when present', perc.roadSlope);

  const intake = section('intake');
  num(intake, 'intake', 'idleFlushS', 0.05, 3600, false);

  const ob = section('outbox');
  num(ob, 'outbox', 'maxDiskMb', 1, 1_000_000, false);
  num(ob, 'outbox', 'batchMaxObservations', 1, MAX_OBSERVATIONS_PER_BATCH, true);
  // Half the envelope limit: the budget counts uncompressed observation bytes, plus header room.
  num(ob, 'outbox', 'batchMaxBytes', 1024, MAX_ENVELOPE_BYTES / 2, true);
  num(ob, 'outbox', 'batchMaxAgeS', 0.1, 86_400, false);
  const dropWant = `a list of ${DROP_KINDS.map((k) => `"${k}"`).join(', ')} without repeats, in the order they may be dropped ([] = refuse new data only)`;
  if (!Array.isArray(ob.dropWhenFull) || !ob.dropWhenFull.every((k) => (DROP_KINDS as readonly unknown[]).includes(k)) || new Set(ob.dropWhenFull).size !== ob.dropWhenFull.length) {
    bad('outbox.dropWhenFull', dropWant, ob.dropWhenFull);
  }
  num(ob, 'outbox', 'dropToPercent', 50, 99, true);
  if (ob.syncEveryMs !== undefined) num(ob, 'outbox', 'syncEveryMs', 0, MAX_SYNC_EVERY_MS, true);
  if (!isObject(ob.classPriority)) bad('outbox.classPriority', `an object giving every class (${PRIMITIVE_CLASSES.join(', ')}) a priority 0..${MAX_CLASS_PRIORITY}`, ob.classPriority);
  else {
    unknownKeys(ob.classPriority, 'outbox.classPriority.', PRIMITIVE_CLASSES);
    for (const c of PRIMITIVE_CLASSES) num(ob.classPriority, 'outbox.classPriority', c, 0, MAX_CLASS_PRIORITY, true);
  }

  const up = section('uplink');
  num(up, 'uplink', 'maxKbps', 0, 10_000_000, false);
  num(up, 'uplink', 'meteredMaxKbps', 0, 10_000_000, false);
  num(up, 'uplink', 'meteredMinPriority', 0, MAX_CLASS_PRIORITY + 1, true);
  if (typeof up.maxKbps === 'number' && up.maxKbps > 0 && typeof up.meteredMaxKbps === 'number' && (up.meteredMaxKbps === 0 || up.meteredMaxKbps > up.maxKbps)) {
    bad('uplink.meteredMaxKbps', `in (0, uplink.maxKbps (${up.maxKbps})]: a metered link is never allowed more than the general cap`, up.meteredMaxKbps);
  }
  num(up, 'uplink', 'ackTimeoutMs', 10, 600_000, true);
  num(up, 'uplink', 'backoffBaseMs', 1, 600_000, true);
  num(up, 'uplink', 'backoffCapMs', 1, 3_600_000, true);
  num(up, 'uplink', 'backoffJitter', 0, 1, false);
  if (typeof up.backoffBaseMs === 'number' && typeof up.backoffCapMs === 'number' && up.backoffCapMs < up.backoffBaseMs) {
    bad('uplink.backoffCapMs', `>= uplink.backoffBaseMs (${up.backoffBaseMs})`, up.backoffCapMs);
  }
  // A full batch must be able to go out at the capped rate before its ack is given up on.
  for (const cap of ['maxKbps', 'meteredMaxKbps'] as const) {
    const kbps = up[cap];
    if (typeof kbps === 'number' && kbps > 0 && typeof ob.batchMaxBytes === 'number' && typeof up.ackTimeoutMs === 'number') {
      const sendMs = Math.ceil((ob.batchMaxBytes * 8) / kbps);
      if (up.ackTimeoutMs <= sendMs) {
        bad('uplink.ackTimeoutMs', `> ${sendMs} ms, the time outbox.batchMaxBytes (${ob.batchMaxBytes}) takes at uplink.${cap} (${kbps})`, up.ackTimeoutMs);
        break;
      }
    }
  }

  if (problems.length > 0) throw new HwProfileError(source, problems);
  return raw as unknown as HwProfile;
}

function validateExecutionProviders(eps: unknown, bad: (field: string, want: string, got: unknown) => void, problems: string[]): void {
  const field = 'inference.executionProviders';
  if (!Array.isArray(eps) || eps.length === 0) {
    bad(field, `a non-empty list of {name, options?} with name one of ${EXECUTION_PROVIDERS.join('/')}`, eps);
    return;
  }
  const names: unknown[] = [];
  eps.forEach((ep, i) => {
    const f = `${field}[${i}]`;
    if (!isObject(ep)) {
      bad(f, `an object {name, options?} (e.g. {"name": "cpu"})`, ep);
      return;
    }
    names.push(ep.name);
    for (const k of Object.keys(ep)) if (k !== 'name' && k !== 'options') problems.push(`${f}.${k} is not a known key (known: name, options), got ${show(ep[k])}`);
    if (!(EXECUTION_PROVIDERS as readonly unknown[]).includes(ep.name)) {
      bad(`${f}.name`, `one of ${EXECUTION_PROVIDERS.join('/')}`, ep.name);
      return;
    }
    const rules = EP_OPTIONS[ep.name as ExecutionProvider];
    if (ep.options === undefined) return;
    if (!isObject(ep.options)) {
      bad(`${f}.options`, 'an object when present', ep.options);
      return;
    }
    for (const [k, v] of Object.entries(ep.options)) {
      const rule = rules[k];
      if (!rule) problems.push(`${f}.options.${k} is not a ${ep.name as string} option (known: ${Object.keys(rules).join(', ') || 'none'}), got ${show(v)}`);
      else if (!rule.ok(v)) bad(`${f}.options.${k}`, rule.want, v);
    }
  });
  if (new Set(names).size !== names.length) bad(`${field}[].name`, 'names without repeats', names);
  const cpuAt = names.indexOf('cpu');
  if (cpuAt >= 0 && cpuAt !== names.length - 1) bad(field, 'a list with "cpu" last (it runs every operator, so nothing after it is ever used)', names);
}

/** The provider names in order of preference, e.g. ["tensorrt", "cuda", "cpu"]. */
export function executionProviderNames(p: HwProfile): ExecutionProvider[] {
  return p.inference.executionProviders.map((ep) => ep.name);
}

/**
 * The profile's inference settings as onnxruntime-node session options (plain data, so this
 * module does not load onnxruntime). TensorRT options use the `trt*` keys of the Node binding;
 * the npm binding reads only deviceId (hw-profiles/README.md, "CUDA and TensorRT on a Jetson").
 */
export function onnxruntimeSessionOptions(p: HwProfile): {
  executionProviders: Array<{ name: ExecutionProvider } & Record<string, string | number | boolean>>;
  intraOpNumThreads: number;
  interOpNumThreads: number;
} {
  const executionProviders = p.inference.executionProviders.map((ep) => {
    const out: { name: ExecutionProvider } & Record<string, string | number | boolean> = { name: ep.name };
    if (ep.name === 'tensorrt' && ep.options) {
      const o = ep.options;
      if (o.deviceId !== undefined) out.deviceId = o.deviceId;
      if (o.fp16 !== undefined) out.trtFp16Enable = o.fp16;
      if (o.engineCacheDir !== undefined) {
        out.trtEngineCacheEnable = true;
        out.trtEngineCachePath = o.engineCacheDir;
      }
      if (o.maxWorkspaceMb !== undefined) out.trtMaxWorkspaceSize = o.maxWorkspaceMb * 1024 * 1024;
    } else if (ep.name === 'cuda' && ep.options?.deviceId !== undefined) {
      out.deviceId = ep.options.deviceId;
    } else if (ep.name === 'cpu' && ep.options?.useArena !== undefined) {
      out.useArena = ep.options.useArena;
    }
    return out;
  });
  return { executionProviders, intraOpNumThreads: p.inference.intraOpThreads, interOpNumThreads: p.inference.interOpThreads };
}

/** Whether `--hw-profile` / `hwProfile` names a file (anything with a path separator or '.json') rather than a profile. */
export function isHwProfilePath(nameOrPath: string): boolean {
  return nameOrPath.includes('/') || nameOrPath.includes(path.sep) || nameOrPath.endsWith('.json');
}

/**
 * Read and validate a profile by name (from `dir`; old names in HW_PROFILE_ALIASES still work)
 * or by file path (anything with '/' or '.json').
 */
export function loadHwProfile(nameOrPath: string, dir: string = HW_PROFILES_DIR): HwProfile {
  const isPath = isHwProfilePath(nameOrPath);
  if (!isPath && !NAME_RE.test(nameOrPath)) {
    throw new HwProfileError(nameOrPath, [`--hw-profile must be a profile name or a .json file, got ${show(nameOrPath)}`]);
  }
  const name = isPath ? undefined : resolveAlias(nameOrPath, dir);
  const file = name === undefined ? path.resolve(nameOrPath) : path.join(dir, `${name}.json`);
  if (!existsSync(file)) {
    const known = listHwProfiles(dir);
    throw new HwProfileError(nameOrPath, [`no such profile file ${file}${isPath ? '' : ` (known profiles: ${known.join(', ') || 'none'})`}`]);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new HwProfileError(file, [`not valid JSON: ${(e as Error).message}`]);
  }
  const p = validateHwProfile(raw, file);
  if (name !== undefined && p.name !== name) throw new HwProfileError(file, [`name must equal the file name ${show(name)}, got ${show(p.name)}`]);
  return p;
}

/** An alias resolves only when no profile file carries the old name itself. */
function resolveAlias(name: string, dir: string): string {
  const target = HW_PROFILE_ALIASES[name];
  return target !== undefined && !existsSync(path.join(dir, `${name}.json`)) ? target : name;
}

export function listHwProfiles(dir: string = HW_PROFILES_DIR): string[] {
  try {
    return readdirSync(dir)
      .filter((f) => f.endsWith('.json'))
      .map((f) => f.slice(0, -'.json'.length))
      .sort();
  } catch {
    return [];
  }
}

export interface MachineFacts {
  arch: string; // process.arch
  deviceTreeModel?: string; // /proc/device-tree/model, when the board has one
}

export function machineFacts(): MachineFacts {
  const facts: MachineFacts = { arch: process.arch };
  try {
    facts.deviceTreeModel = readFileSync('/proc/device-tree/model', 'utf8').replace(/\0/g, '').trim();
  } catch {
    // not a device-tree board (x86_64 PCs)
  }
  return facts;
}

/**
 * The one profile whose `detect` matches this machine. A profile with deviceTreeModelIncludes
 * matches only boards whose model contains it (case-sensitive substring), and wins over
 * arch-only profiles. Two matches are an error, never a guess.
 */
export function detectHwProfile(facts: MachineFacts = machineFacts(), dir: string = HW_PROFILES_DIR): HwProfile {
  const profiles = listHwProfiles(dir).map((n) => loadHwProfile(n, dir));
  const byArch = profiles.filter((p) => p.detect.arch.includes(facts.arch));
  const specific = byArch.filter((p) => p.detect.deviceTreeModelIncludes !== undefined && facts.deviceTreeModel?.includes(p.detect.deviceTreeModelIncludes));
  const generic = byArch.filter((p) => p.detect.deviceTreeModelIncludes === undefined);
  const pick = specific.length > 0 ? specific : generic;
  if (pick.length !== 1) {
    const what = `arch ${show(facts.arch)}${facts.deviceTreeModel ? `, device-tree model ${show(facts.deviceTreeModel)}` : ''}`;
    throw new HwProfileError('detection', [
      pick.length === 0
        ? `no profile in ${dir} matches ${what}; pass --hw-profile NAME (known: ${profiles.map((p) => p.name).join(', ') || 'none'})`
        : `${pick.length} profiles match ${what} (${pick.map((p) => p.name).join(', ')}); pass --hw-profile NAME`,
    ]);
  }
  return pick[0]!;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function show(v: unknown): string {
  if (v === undefined) return 'undefined (missing)';
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}
