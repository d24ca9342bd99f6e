/**
 * Hardware profiles: one JSON file per vehicle-computer class in hw-profiles/, validated at
 * start-up and chosen once (by `--hw-profile NAME|FILE` or by detection), in the manner of
 * openpilot's system/hardware. Everything machine-dependent the daemon tunes lives here.
 *
 * Schema v1 (units in the key names or beside them):
 * ```
 * { schemaVersion: 1, name, description,
 *   detect:    { arch: ["x64"|"arm64"...],          // Node's process.arch values
 *                deviceTreeModelIncludes?: "Orin" }  // optional, for boards sharing an arch (Jetson)
 *   inference: { executionProviders: ["tensorrt","cuda","cpu"], // onnxruntime EPs, tried in order
 *                intraOpThreads, interOpThreads },
 *   intake:    { idleFlushS },                       // flush the outbox after this much intake silence
 *   outbox:    { maxDiskMb, batchMaxObservations, batchMaxBytes, batchMaxAgeS },
 *   uplink:    { maxKbps (0 = unlimited), ackTimeoutMs, backoffBaseMs, backoffCapMs, backoffJitter } }
 * ```
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { MAX_ENVELOPE_BYTES, MAX_OBSERVATIONS_PER_BATCH } from '../shared/index.ts';

export const HW_PROFILE_SCHEMA_VERSION = 1;
/** onnxruntime execution providers a profile may list. */
export const EXECUTION_PROVIDERS = ['tensorrt', 'cuda', 'cpu', 'coreml', 'xnnpack'] as const;
export type ExecutionProvider = (typeof EXECUTION_PROVIDERS)[number];

export const HW_PROFILES_DIR = fileURLToPath(new URL('../hw-profiles/', import.meta.url));

export interface HwProfile {
  schemaVersion: 1;
  name: string;
  description: string;
  detect: { arch: string[]; deviceTreeModelIncludes?: string };
  inference: { executionProviders: ExecutionProvider[]; intraOpThreads: number; interOpThreads: number };
  intake: { idleFlushS: number };
  outbox: { maxDiskMb: number; batchMaxObservations: number; batchMaxBytes: number; batchMaxAgeS: number };
  uplink: { maxKbps: number; ackTimeoutMs: number; backoffBaseMs: number; backoffCapMs: number; backoffJitter: number };
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

/** Validate parsed JSON; throws HwProfileError naming every bad field and value. */
export function validateHwProfile(raw: unknown, source = '<inline>'): HwProfile {
  const problems: string[] = [];
  const bad = (field: string, want: string, got: unknown): void => {
    problems.push(`${field} must be ${want}, got ${show(got)}`);
  };
  if (!isObject(raw)) throw new HwProfileError(source, [`the profile must be a JSON object, got ${show(raw)}`]);
  const r = raw;
  if (r.schemaVersion !== HW_PROFILE_SCHEMA_VERSION) bad('schemaVersion', `${HW_PROFILE_SCHEMA_VERSION}`, r.schemaVersion);
  if (typeof r.name !== 'string' || !/^[A-Za-z0-9._-]{1,64}$/.test(r.name)) bad('name', 'a name of 1..64 [A-Za-z0-9._-]', r.name);
  if (typeof r.description !== 'string') bad('description', 'a string', r.description);

  const section = (name: string): Record<string, unknown> => {
    const s = r[name];
    if (!isObject(s)) {
      bad(name, 'an object', s);
      return {};
    }
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
  const eps = inf.executionProviders;
  if (!Array.isArray(eps) || eps.length === 0) bad('inference.executionProviders', `a non-empty list of ${EXECUTION_PROVIDERS.join('/')}`, eps);
  else {
    eps.forEach((ep, i) => {
      if (!(EXECUTION_PROVIDERS as readonly unknown[]).includes(ep)) bad(`inference.executionProviders[${i}]`, `one of ${EXECUTION_PROVIDERS.join('/')}`, ep);
    });
    if (new Set(eps).size !== eps.length) bad('inference.executionProviders', 'a list without repeats', eps);
  }
  num(inf, 'inference', 'intraOpThreads', 1, 256, true);
  num(inf, 'inference', 'interOpThreads', 1, 256, true);

  const intake = section('intake');
  num(intake, 'intake', 'idleFlushS', 0.05, 3600, false);

  const ob = section('outbox');
  num(ob, 'outbox', 'maxDiskMb', 1, 1_000_000, false);
  num(ob, 'outbox', 'batchMaxObservations', 1, MAX_OBSERVATIONS_PER_BATCH, true);
  // Half the envelope limit: the budget counts uncompressed observation bytes, plus header room.
  num(ob, 'outbox', 'batchMaxBytes', 1024, MAX_ENVELOPE_BYTES / 2, true);
  num(ob, 'outbox', 'batchMaxAgeS', 0.1, 86_400, false);

  const up = section('uplink');
  num(up, 'uplink', 'maxKbps', 0, 10_000_000, false);
  num(up, 'uplink', 'ackTimeoutMs', 10, 600_000, true);
  num(up, 'uplink', 'backoffBaseMs', 1, 600_000, true);
  num(up, 'uplink', 'backoffCapMs', 1, 3_600_000, true);
  num(up, 'uplink', 'backoffJitter', 0, 1, false);
  if (typeof up.backoffBaseMs === 'number' && typeof up.backoffCapMs === 'number' && up.backoffCapMs < up.backoffBaseMs) {
    bad('uplink.backoffCapMs', `>= uplink.backoffBaseMs (${up.backoffBaseMs})`, up.backoffCapMs);
  }

  if (problems.length > 0) throw new HwProfileError(source, problems);
  return raw as unknown as HwProfile;
}

/** Read and validate a profile by name (from `dir`) or by file path (anything with '/' or '.json'). */
export function loadHwProfile(nameOrPath: string, dir: string = HW_PROFILES_DIR): HwProfile {
  const isPath = nameOrPath.includes('/') || nameOrPath.includes(path.sep) || nameOrPath.endsWith('.json');
  const file = isPath ? path.resolve(nameOrPath) : path.join(dir, `${nameOrPath}.json`);
  if (!isPath && !/^[A-Za-z0-9._-]{1,64}$/.test(nameOrPath)) {
    throw new HwProfileError(nameOrPath, [`--hw-profile must be a profile name or a .json file, got ${show(nameOrPath)}`]);
  }
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
  if (!isPath && p.name !== nameOrPath) throw new HwProfileError(file, [`name must equal the file name ${show(nameOrPath)}, got ${show(p.name)}`]);
  return p;
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
 * matches only boards whose model contains it, and wins over arch-only profiles.
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
