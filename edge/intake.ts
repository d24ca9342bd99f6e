/**
 * Intake decoding: a two-part ZeroMQ message [topic (utf8), payload (msgpack)] from the sensor
 * bus (shared/topics.ts) into a typed, validated payload. Pure: the socket loop lives in
 * parts.ts. Anything that does not validate is refused with a stable `code` (counted) and an
 * exact `message` (logged); nothing malformed reaches the georeferencer or the outbox, where it
 * could poison a batch.
 *
 * Integers: standard msgpack encoders (Python's msgpack, C's msgpack-c) write any integer above
 * 2^32 - 1 as uint64/int64 (every GNSS tUnixMs). Those decode to plain numbers when they are
 * exactly representable (|n| <= 2^53); larger ones are refused (`bad_payload`, naming the field),
 * never rounded.
 */
import { Unpackr } from 'msgpackr';
import {
  BOUNDARY_KINDS,
  CLASS_GEOMETRY,
  DIVIDER_STYLES,
  MAX_VERTICES_PER_OBSERVATION,
  MAX_RADAR_DETECTIONS,
  MAX_RADAR_MOUNT_M,
  RADAR_RANGE_RATE_LIMIT_MPS,
  RADAR_RCS_LIMITS_DBSM,
  isPrimitiveClass,
  isTopicName,
  decodeCameraFrame,
  type TopicName,
  type TopicPayloads,
} from '../shared/index.ts';

/** Largest |coordinate| of a body-frame vertex, metres (no sensor sees further). */
export const MAX_BODY_RANGE_M = 250;
/** Most observations one perception frame may carry. */
export const MAX_OBSERVATIONS_PER_FRAME = 2000;
export const MAX_SIGN_CODE_CHARS = 64;
export const MAX_DRIVE_ID_CHARS = 128;

export type IntakeErrorCode = 'bad_frames' | 'unknown_topic' | 'bad_msgpack' | 'bad_payload';

export type SensorMessage = { [T in TopicName]: { topic: T; payload: TopicPayloads[T] } }[TopicName];
export type DecodeResult = ({ ok: true } & SensorMessage) | { ok: false; code: IntakeErrorCode; message: string };

/** Plain msgpack: maps as objects, no records; 64-bit integers as BigInt, made numbers below when exact. */
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true, int64AsType: 'bigint' });

export function decodeSensorMessage(frames: readonly Uint8Array[]): DecodeResult {
  if (frames.length !== 2) return fail('bad_frames', `expected 2 frames [topic, payload], got ${frames.length}`);
  const topic = bufferView(frames[0]!).toString('utf8');
  if (!isTopicName(topic)) return fail('unknown_topic', `unknown topic ${JSON.stringify(topic.slice(0, 64))}`);
  if (topic === 'camera') {
    // Raw pixels behind a fixed header: never through msgpack (shared/camera-frame.ts).
    const f = decodeCameraFrame(frames[1]!);
    if (typeof f === 'string') return fail('bad_payload', f);
    return { ok: true, topic, payload: f };
  }
  let raw: unknown;
  try {
    raw = unpackr.unpack(bufferView(frames[1]!));
  } catch (e) {
    return fail('bad_msgpack', `${topic}: payload is not msgpack: ${(e as Error).message}`);
  }
  let big: { path: string; value: bigint } | undefined;
  if (typeof raw === 'bigint') {
    if (isExactInt(raw)) raw = Number(raw);
    else big = { path: '', value: raw };
  } else big = bigIntsToNumbers(raw);
  if (big !== undefined) return fail('bad_payload', `${topic}: ${big.path || 'payload'} is the integer ${big.value}, beyond ±(2^53 - 1): not exactly representable as a number`);
  const why = VALIDATORS[topic](raw);
  if (why !== undefined) return fail('bad_payload', `${topic}: ${why}`);
  return { ok: true, topic, payload: raw } as DecodeResult;
}

function fail(code: IntakeErrorCode, message: string): DecodeResult {
  return { ok: false, code, message };
}

type Validator = (v: unknown) => string | undefined;

const VALIDATORS: Record<TopicName, Validator> = {
  gnss: (v) => {
    if (!isObject(v)) return 'payload must be a map';
    return (
      monoTime(v.tMonoNs) ??
      finite(v, 'tUnixMs') ??
      (v.fixType === 'none' || v.fixType === '2d' || v.fixType === '3d' ? undefined : `fixType must be none/2d/3d, got ${show(v.fixType)}`) ??
      (v.fixType === 'none' ? undefined : range(v, 'lat', -85.05, 85.05) ?? range(v, 'lng', -180, 180) ?? range(v, 'horizontalAccuracyM', 0, 1e6)) ??
      (typeof v.courseRad === 'number' ? undefined : `courseRad must be a number (NaN when unknown), got ${show(v.courseRad)}`)
    );
  },
  vehicle: (v) => {
    if (!isObject(v)) return 'payload must be a map';
    return monoTime(v.tMonoNs) ?? range(v, 'speedMps', -100, 100) ?? range(v, 'yawRateRps', -10, 10) ?? (v.pitchRateRps === undefined ? undefined : range(v, 'pitchRateRps', -10, 10));
  },
  drive: (v) => {
    if (!isObject(v)) return 'payload must be a map';
    if (v.event !== 'start' && v.event !== 'end') return `event must be start/end, got ${show(v.event)}`;
    if (typeof v.driveId !== 'string' || v.driveId.length === 0 || v.driveId.length > MAX_DRIVE_ID_CHARS) {
      return `driveId must be a string of 1..${MAX_DRIVE_ID_CHARS} chars, got ${show(v.driveId)}`;
    }
    return monoTime(v.tMonoNs);
  },
  camera: () => 'camera frames are decoded without msgpack', // handled above, never reached
  radar: (v) => {
    if (!isObject(v)) return 'payload must be a map';
    const t = monoTime(v.tMonoNs);
    if (t) return t;
    if (!(Number.isInteger(v.scanId) && (v.scanId as number) >= 0)) return `scanId must be an integer >= 0, got ${show(v.scanId)}`;
    const mount = range(v, 'sensorXM', -MAX_RADAR_MOUNT_M, MAX_RADAR_MOUNT_M) ?? range(v, 'sensorYM', -MAX_RADAR_MOUNT_M, MAX_RADAR_MOUNT_M);
    if (mount) return mount;
    if (!Array.isArray(v.detections)) return `detections must be a list, got ${show(v.detections)}`;
    if (v.detections.length > MAX_RADAR_DETECTIONS) return `${v.detections.length} detections, the limit is ${MAX_RADAR_DETECTIONS}`;
    for (let i = 0; i < v.detections.length; i++) {
      const d: unknown = v.detections[i];
      const why = !isObject(d)
        ? 'must be a map'
        : range(d, 'xM', -MAX_BODY_RANGE_M, MAX_BODY_RANGE_M) ??
          range(d, 'yM', -MAX_BODY_RANGE_M, MAX_BODY_RANGE_M) ??
          range(d, 'rangeRateMps', -RADAR_RANGE_RATE_LIMIT_MPS, RADAR_RANGE_RATE_LIMIT_MPS) ??
          range(d, 'rcsDbsm', RADAR_RCS_LIMITS_DBSM[0], RADAR_RCS_LIMITS_DBSM[1]);
      if (why) return `detections[${i}]: ${why}`;
    }
    return undefined;
  },
  perception: (v) => {
    if (!isObject(v)) return 'payload must be a map';
    const t = monoTime(v.tMonoNs);
    if (t) return t;
    if (!Number.isInteger(v.frameId)) return `frameId must be an integer, got ${show(v.frameId)}`;
    if (!Array.isArray(v.observations)) return `observations must be a list, got ${show(v.observations)}`;
    if (v.observations.length > MAX_OBSERVATIONS_PER_FRAME) return `${v.observations.length} observations, the limit is ${MAX_OBSERVATIONS_PER_FRAME}`;
    for (let i = 0; i < v.observations.length; i++) {
      const why = validateObservation(v.observations[i]);
      if (why) return `observations[${i}]: ${why}`;
    }
    return undefined;
  },
};

export function validateObservation(o: unknown): string | undefined {
  if (!isObject(o)) return 'must be a map';
  if (!isPrimitiveClass(o.cls)) return `cls must be a primitive class, got ${show(o.cls)}`;
  const cls = o.cls;
  if (typeof o.score !== 'number' || !(o.score >= 0 && o.score <= 1)) return `score must be in [0, 1], got ${show(o.score)}`;
  if (o.style !== undefined && !(DIVIDER_STYLES as readonly unknown[]).includes(o.style)) return `style must be one of ${DIVIDER_STYLES.join('/')}, got ${show(o.style)}`;
  if (o.kind !== undefined && !(BOUNDARY_KINDS as readonly unknown[]).includes(o.kind)) return `kind must be one of ${BOUNDARY_KINDS.join('/')}, got ${show(o.kind)}`;
  if (o.signCode !== undefined && (typeof o.signCode !== 'string' || o.signCode.length > MAX_SIGN_CODE_CHARS)) {
    return `signCode must be a string of at most ${MAX_SIGN_CODE_CHARS} chars, got ${show(o.signCode)}`;
  }
  const pts = o.pointsBody;
  if (!Array.isArray(pts)) return `pointsBody must be a list of [xM, yM], got ${show(pts)}`;
  const shape = CLASS_GEOMETRY[cls];
  const [min, max] = shape === 'point' ? [1, 1] : shape === 'polyline' ? [2, MAX_VERTICES_PER_OBSERVATION] : [3, MAX_VERTICES_PER_OBSERVATION];
  if (pts.length < min || pts.length > max) return `${cls} needs ${min === max ? min : `${min}..${max}`} vertices, got ${pts.length}`;
  for (let i = 0; i < pts.length; i++) {
    const p: unknown = pts[i];
    if (!Array.isArray(p) || p.length !== 2 || !p.every((c) => typeof c === 'number' && Number.isFinite(c) && Math.abs(c) <= MAX_BODY_RANGE_M)) {
      return `pointsBody[${i}] must be [xM, yM] within ${MAX_BODY_RANGE_M} m, got ${show(p)}`;
    }
  }
  return undefined;
}

function monoTime(v: unknown): string | undefined {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0 ? undefined : `tMonoNs must be a non-negative number, got ${show(v)}`;
}
function finite(o: Record<string, unknown>, k: string): string | undefined {
  return typeof o[k] === 'number' && Number.isFinite(o[k]) ? undefined : `${k} must be a finite number, got ${show(o[k])}`;
}
function range(o: Record<string, unknown>, k: string, lo: number, hi: number): string | undefined {
  const v = o[k];
  return typeof v === 'number' && v >= lo && v <= hi ? undefined : `${k} must be a number in [${lo}, ${hi}], got ${show(v)}`;
}
function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);
}
function show(v: unknown): string {
  try {
    const s = JSON.stringify(v) ?? String(v);
    return s.length > 80 ? `${s.slice(0, 77)}...` : s;
  } catch {
    return String(v);
  }
}

/** The bytes of `u` as a Buffer without copying them (a Buffer as it is). */
export function bufferView(u: Uint8Array): Buffer {
  return Buffer.isBuffer(u) ? u : Buffer.from(u.buffer, u.byteOffset, u.byteLength);
}

/**
 * Replace, in place, every BigInt (a msgpack int64/uint64) inside a decoded payload's maps and
 * lists with the same number when it is exact (|n| <= 2^53); the first one that is not comes
 * back with its path (e.g. `detections[3].xM`), and the walk stops there.
 */
function bigIntsToNumbers(v: unknown): { path: string; value: bigint } | undefined {
  const trail: Array<string | number> = [];
  const value = replaceBigInts(v, trail);
  return value === undefined ? undefined : { path: pathOf(trail), value };
}

/** bigIntsToNumbers' walk: the unsafe BigInt, if any, with `trail` left at its keys / indices. */
function replaceBigInts(v: unknown, trail: Array<string | number>): bigint | undefined {
  if (typeof v !== 'object' || v === null || ArrayBuffer.isView(v)) return undefined;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const e: unknown = v[i];
      if (typeof e === 'number') continue; // the common case: coordinates
      trail.push(i);
      if (typeof e === 'bigint') {
        if (!isExactInt(e)) return e;
        v[i] = Number(e);
      } else {
        const unsafe = replaceBigInts(e, trail);
        if (unsafe !== undefined) return unsafe;
      }
      trail.pop();
    }
    return undefined;
  }
  const o = v as Record<string, unknown>;
  for (const k of Object.keys(o)) {
    const e = o[k];
    trail.push(k);
    if (typeof e === 'bigint') {
      if (!isExactInt(e)) return e;
      o[k] = Number(e);
    } else {
      const unsafe = replaceBigInts(e, trail);
      if (unsafe !== undefined) return unsafe;
    }
    trail.pop();
  }
  return undefined;
}

function isExactInt(v: bigint): boolean {
  return v >= -MAX_EXACT_INT && v <= MAX_EXACT_INT;
}

/** A payload path as the refusal names it: `a.b[2].c` (the top-level map's keys bare). */
function pathOf(trail: ReadonlyArray<string | number>): string {
  let at = '';
  for (const k of trail) at = typeof k === 'number' ? `${at}[${k}]` : at ? `${at}.${k}` : k;
  return at;
}

/** 2^53: every integer up to it is exactly a number. */
const MAX_EXACT_INT = 2n ** 53n;
