/**
 * Edge daemon configuration: a JSON file (`--config FILE`) and/or flags; flags win. Paths in
 * the file are relative to the file. Validated once at start-up with messages naming the field
 * and the value (never the key itself).
 *
 * Config file keys (all optional when the flag is given):
 * ```
 * { "vehicleId": "veh-001",            // [A-Za-z0-9._-]{1,64}: also a store key segment in the cloud
 *   "keyFile": "veh-001.key",          // the vehicle's Ed25519 private key, PEM PKCS#8 (fleetmap keys generate)
 *   "ingestAckKeyFile": "ingest-ack.pub", // the ingest's ack public key (PEM, or 64 hex digits): pinned;
 *                                      // only acks it signed for exactly the batch sent delete anything
 *   "intake": "tcp://127.0.0.1:5601",  // PULL, bound here (tcp://HOST:* picks a free port; ipc://PATH)
 *   "ingest": "tcp://127.0.0.1:5700",  // DEALER, connects here
 *   "ingestCurvePublicKey": "<40 z85>", // the ingest's CURVE public key, pinned (uplink encrypted)
 *   "curveKeypairFile": "veh-001.curve", // the vehicle's CURVE keypair (fleetmap keys generate);
 *                                      // its public half is registered and admitted by the ingest's ZAP
 *   "insecureNoCurve": false,          // development only: no CURVE, refused unless `ingest` is loopback
 *   "outbox": "/var/lib/fleetmap/outbox.sqlite",
 *   "linkStateFile": "/run/fleetmap/link-state", // optional: "metered" | "unmetered", written by the
 *                                      // network manager (edge/link.ts); without it the link is unmetered
 *   "hwProfile": "x86-64",         // name in hw-profiles/ or a .json path; default: detection
 *   "batchMaxObservations": 500, "batchMaxBytes": 262144,   // override the profile's batch limits
 *   "idleFlushS": 2,                   // override the profile's intake idle flush
 *   "keyframeSpacingM": 12,           // compaction of `perception` frames: one keyframe per 12 m travelled (0 = every frame)
 *   "gnssMinSigmaM": 0.3,             // floor on the receiver's reported accuracy; an RTK receiver may
 *                                      // go to a few cm, so its batches declare survey-grade positioning
 *                                      // and the merge treats the vehicle as an anchor
 *   "cameraCalibration": "front.json", // the front camera's calibration (shared/camera.ts); camera frames need it
 *   "model": "fleetmap-seg.onnx",      // the perception model; default edge/model/<profile's modelVariant>.onnx
 *   "replay": false,                   // sensor data replayed faster than real time: perception applies
 *                                      // backpressure to the bus instead of skipping frames
 *   "exitWhenDrained": false,
 *   "metricsListen": "127.0.0.1:9464",  // optional: Prometheus metrics at http://ADDR/metrics
 *   "statsIntervalS": 10 }
 * ```
 */
import { parseListenAddress } from '../shared/metrics-server.ts';
import { DEFAULT_POSE_OPTIONS } from './pose.ts';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { KeyObject } from 'node:crypto';
import { MAX_ENVELOPE_BYTES, MAX_OBSERVATIONS_PER_BATCH, readPrivateKeyFile, readPublicKeyFile, validateCameraCalibration, vehicleIdProblem, type CameraCalibration } from '../shared/index.ts';
import { detectHwProfile, isHwProfilePath, loadHwProfile, type HwProfile } from './hw-profile.ts';
import { isZ85Key, readCurveKeypair, type CurveKeypair } from '../shared/curve.ts';
import { isLoopbackEndpoint } from '../shared/endpoint.ts';

/** Default compaction keyframe spacing, metres (edge/compact.ts explains the trade). */
export const DEFAULT_KEYFRAME_SPACING_M = 12;

export { VEHICLE_ID_RE } from '../shared/index.ts';

/** Where the shipped models live (edge/model/). */
export const MODEL_DIR = fileURLToPath(new URL('./model/', import.meta.url));

export interface EdgeConfig {
  vehicleId: string;
  /** The vehicle's Ed25519 private key; the ingest's registry holds its public half. */
  key: KeyObject;
  /** The ingest's pinned Ed25519 ack public key. */
  ingestAckKey: KeyObject;
  intakeEndpoint: string;
  ingestEndpoint: string;
  /** The ingest's CURVE public key (z85); undefined only with insecureNoCurve (plain TCP). */
  ingestCurvePublicKey: string | undefined;
  /** The vehicle's own CURVE keypair; undefined only with insecureNoCurve. */
  curveKeypair: CurveKeypair | undefined;
  /** No transport security (loopback development only; the ingest endpoint was checked). */
  insecureNoCurve: boolean;
  outboxPath: string;
  /** The file saying whether the link is metered (edge/link.ts); undefined = always unmetered. */
  linkStateFile: string | undefined;
  /** Where to serve Prometheus metrics (127.0.0.1 unless a host is given); undefined = off. */
  metricsListen: { host: string; port: number } | undefined;
  hwProfile: HwProfile;
  batchMaxObservations: number;
  batchMaxBytes: number;
  batchMaxAgeS: number;
  idleFlushS: number;
  /** Compaction keyframe spacing, metres; 0 uploads every perception frame whole. */
  keyframeSpacingM: number;
  /** Floor on the GNSS receiver's reported 1-sigma accuracy, metres (edge/pose.ts minGnssSigmaM). */
  gnssMinSigmaM: number;
  /** The front camera's calibration; undefined = camera frames are refused (counted). */
  cameraCalibration: CameraCalibration | undefined;
  /** The perception model (.onnx; its metadata .json beside it). */
  modelPath: string;
  /** Replayed sensor data: never skip camera frames, apply backpressure instead. */
  replay: boolean;
  exitWhenDrained: boolean;
  statsIntervalS: number;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`edge config: ${problems.join('; ')}`);
    this.name = 'ConfigError';
  }
}

/** Raw settings from the file and the flags, before validation (flags already merged over file). */
export interface EdgeSettings {
  vehicleId?: string;
  keyFile?: string;
  ingestAckKeyFile?: string;
  intake?: string;
  ingest?: string;
  ingestCurvePublicKey?: string;
  curveKeypairFile?: string;
  insecureNoCurve?: boolean;
  outbox?: string;
  linkStateFile?: string;
  metricsListen?: string;
  hwProfile?: string;
  batchMaxObservations?: number;
  batchMaxBytes?: number;
  idleFlushS?: number;
  keyframeSpacingM?: number;
  gnssMinSigmaM?: number;
  cameraCalibration?: string;
  model?: string;
  replay?: boolean;
  exitWhenDrained?: boolean;
  statsIntervalS?: number;
}

const SETTING_TYPES: Record<keyof EdgeSettings, 'string' | 'number' | 'boolean'> = {
  vehicleId: 'string',
  keyFile: 'string',
  ingestAckKeyFile: 'string',
  intake: 'string',
  ingest: 'string',
  ingestCurvePublicKey: 'string',
  curveKeypairFile: 'string',
  insecureNoCurve: 'boolean',
  outbox: 'string',
  linkStateFile: 'string',
  metricsListen: 'string',
  hwProfile: 'string',
  batchMaxObservations: 'number',
  batchMaxBytes: 'number',
  idleFlushS: 'number',
  keyframeSpacingM: 'number',
  gnssMinSigmaM: 'number',
  cameraCalibration: 'string',
  model: 'string',
  replay: 'boolean',
  exitWhenDrained: 'boolean',
  statsIntervalS: 'number',
};

/** Read a config file; relative paths inside it resolve against its directory. */
export function readConfigFile(file: string): EdgeSettings {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new ConfigError([`cannot read ${file}: ${(e as Error).message}`]);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new ConfigError([`${file} must hold a JSON object`]);
  const problems: string[] = [];
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(raw)) {
    const want = SETTING_TYPES[k as keyof EdgeSettings];
    if (!want) problems.push(`${file}: unknown field ${JSON.stringify(k)} (known: ${Object.keys(SETTING_TYPES).join(', ')})`);
    else if (typeof v !== want) problems.push(`${file}: ${k} must be a ${want}, got ${JSON.stringify(v)}`);
    else out[k] = v;
  }
  if (problems.length) throw new ConfigError(problems);
  const dir = path.dirname(path.resolve(file));
  for (const k of ['keyFile', 'ingestAckKeyFile', 'curveKeypairFile', 'outbox', 'linkStateFile', 'cameraCalibration', 'model'] as const) if (typeof out[k] === 'string') out[k] = path.resolve(dir, out[k] as string);
  if (typeof out.hwProfile === 'string' && isHwProfilePath(out.hwProfile)) out.hwProfile = path.resolve(dir, out.hwProfile);
  return out as EdgeSettings;
}

export function resolveEdgeConfig(s: EdgeSettings, opts: { profilesDir?: string } = {}): EdgeConfig {
  const problems: string[] = [];
  const need = (k: keyof EdgeSettings, hint: string): string => {
    const v = s[k];
    if (typeof v !== 'string' || v.length === 0) {
      problems.push(`${k} is required (${hint})`);
      return '';
    }
    return v;
  };
  const vehicleId = need('vehicleId', '--vehicle-id');
  const idProblem = vehicleId ? vehicleIdProblem(vehicleId) : undefined;
  if (idProblem) problems.push(`vehicleId: ${idProblem}`);
  const intakeEndpoint = need('intake', '--intake tcp://HOST:PORT or ipc://PATH');
  const ingestEndpoint = need('ingest', '--ingest tcp://HOST:PORT');
  const outboxPath = need('outbox', '--outbox FILE.sqlite');
  for (const [k, v] of [['intake', intakeEndpoint], ['ingest', ingestEndpoint]] as const) {
    if (v && !/^(tcp|ipc|inproc):\/\/.+/.test(v)) problems.push(`${k} must be a ZeroMQ endpoint (tcp://, ipc://), got ${JSON.stringify(v)}`);
  }

  const curveKey = s.ingestCurvePublicKey;
  if (curveKey !== undefined && !isZ85Key(curveKey)) {
    problems.push(`ingestCurvePublicKey must be 40 z85 characters, got ${JSON.stringify(curveKey)}`);
  }
  // Transport security: CURVE both ways (pinned ingest key, own registered keypair), or the
  // explicit insecure flag, on a loopback ingest only.
  const insecureNoCurve = s.insecureNoCurve ?? false;
  let curveKeypair: CurveKeypair | undefined;
  if (insecureNoCurve) {
    if (curveKey !== undefined || s.curveKeypairFile !== undefined) problems.push('insecureNoCurve (--insecure-no-curve) contradicts ingestCurvePublicKey / curveKeypairFile: give one or the other');
    if (ingestEndpoint && !isLoopbackEndpoint(ingestEndpoint)) problems.push(`insecureNoCurve (--insecure-no-curve) is only allowed with a loopback ingest (127.0.0.0/8, ::1, localhost, ipc://, inproc://), got ${JSON.stringify(ingestEndpoint)}`);
  } else {
    const lacking = [curveKey === undefined ? 'ingestCurvePublicKey (--ingest-curve-public-key Z85: the ingest\'s, logged as curvePublicKey)' : '', s.curveKeypairFile === undefined ? 'curveKeypairFile (--curve-keypair FILE: the vehicle\'s, from fleetmap keys generate)' : ''].filter(Boolean);
    if (lacking.length) problems.push(`transport security is required: missing ${lacking.join(' and ')}; or insecureNoCurve (--insecure-no-curve) with a loopback ingest, for development`);
    if (s.curveKeypairFile !== undefined) {
      try {
        curveKeypair = readCurveKeypair(s.curveKeypairFile);
      } catch (e) {
        problems.push(`curveKeypairFile: ${(e as Error).message}`);
      }
    }
  }

  let key: KeyObject | undefined;
  if (s.keyFile === undefined) problems.push('keyFile is required (--key-file FILE: the vehicle\'s Ed25519 private key, PEM, from fleetmap keys generate)');
  else {
    try {
      key = readPrivateKeyFile(s.keyFile);
    } catch (e) {
      problems.push(`keyFile: ${(e as Error).message}`);
    }
  }
  let ingestAckKey: KeyObject | undefined;
  if (s.ingestAckKeyFile === undefined) problems.push('ingestAckKeyFile is required (--ingest-ack-key FILE: the ingest\'s ack public key, from fleetmap keys generate-ingest)');
  else {
    try {
      ingestAckKey = readPublicKeyFile(s.ingestAckKeyFile);
    } catch (e) {
      problems.push(`ingestAckKeyFile: ${(e as Error).message}`);
    }
  }

  let hwProfile: HwProfile | undefined;
  try {
    hwProfile = s.hwProfile ? loadHwProfile(s.hwProfile, opts.profilesDir) : detectHwProfile(undefined, opts.profilesDir);
  } catch (e) {
    problems.push((e as Error).message);
  }

  const num = (k: keyof EdgeSettings, fallback: number, lo: number, hi: number, integer: boolean): number => {
    const v = s[k] ?? fallback;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < lo || v > hi || (integer && !Number.isInteger(v))) {
      problems.push(`${k} must be ${integer ? 'an integer' : 'a number'} in [${lo}, ${hi}], got ${JSON.stringify(v)}`);
    }
    return v as number;
  };
  const batchMaxObservations = num('batchMaxObservations', hwProfile?.outbox.batchMaxObservations ?? 500, 1, MAX_OBSERVATIONS_PER_BATCH, true);
  const batchMaxBytes = num('batchMaxBytes', hwProfile?.outbox.batchMaxBytes ?? 262_144, 1024, MAX_ENVELOPE_BYTES / 2, true);
  const idleFlushS = num('idleFlushS', hwProfile?.intake.idleFlushS ?? 2, 0.05, 3600, false);
  const statsIntervalS = num('statsIntervalS', 10, 0.1, 86_400, false);
  let metricsListen: EdgeConfig['metricsListen'];
  try {
    metricsListen = s.metricsListen === undefined ? undefined : parseListenAddress(s.metricsListen);
  } catch (e) {
    throw new ConfigError([`metricsListen: ${(e as Error).message}`]);
  }
  const keyframeSpacingM = num('keyframeSpacingM', DEFAULT_KEYFRAME_SPACING_M, 0, 1000, false);
  const gnssMinSigmaM = num('gnssMinSigmaM', DEFAULT_POSE_OPTIONS.minGnssSigmaM, 0.005, 100, false);

  let cameraCalibration: CameraCalibration | undefined;
  if (s.cameraCalibration !== undefined) {
    try {
      cameraCalibration = validateCameraCalibration(JSON.parse(readFileSync(s.cameraCalibration, 'utf8')), s.cameraCalibration);
    } catch (e) {
      problems.push(e instanceof RangeError ? e.message : `cannot read cameraCalibration ${s.cameraCalibration}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  }
  const modelPath = s.model ?? (hwProfile ? path.join(MODEL_DIR, `${hwProfile.inference.modelVariant}.onnx`) : '');

  if (problems.length || !hwProfile || !key || !ingestAckKey) throw new ConfigError(problems);
  return {
    vehicleId,
    key,
    ingestAckKey,
    intakeEndpoint,
    ingestEndpoint,
    ingestCurvePublicKey: curveKey,
    curveKeypair,
    insecureNoCurve,
    outboxPath,
    linkStateFile: s.linkStateFile,
    metricsListen,
    hwProfile,
    batchMaxObservations,
    batchMaxBytes,
    batchMaxAgeS: hwProfile.outbox.batchMaxAgeS,
    idleFlushS,
    keyframeSpacingM,
    gnssMinSigmaM,
    cameraCalibration,
    modelPath,
    replay: s.replay ?? false,
    exitWhenDrained: s.exitWhenDrained ?? false,
    statsIntervalS,
  };
}
