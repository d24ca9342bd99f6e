/**
 * Uplink messages: observation batches (edge -> cloud) and acks (cloud -> edge), inside the
 * envelope of envelope.ts.
 *
 * Coordinates on the wire are quantised to whole centimetres in the local frame of the
 * observation's tile (tiles.ts `tileFrame`, east-north at the tile centre), first vertex
 * absolute and the rest as deltas, so most numbers fit msgpack's 1-2 byte integers.
 * Scores are quantised to 1/255.
 *
 * Batch body (msgpack map, short keys because every byte is uplink):
 * ```
 * { s: seq, u: createdUnixMs, q: queueDepth, d: [driveId, ...],
 *   t: [ { k: "z/x/y", o: [ [cls, attr, sign, score255, driveIdx, dtMs, poseSigmaCm, x0, y0, dx1, dy1, ...], ... ] }, ... ],
 *   h?: { a?: oldestUnsentAgeS, x?: { reason: dropped, ... }, m?: modelVersion, p?: hwProfile, w?: softwareVersion } }
 * ```
 * `h` (the vehicle's status, for fleet health) is optional and additive: absent in older clients.
 * cls: CLASS_CODES; attr: DIVIDER_STYLE_CODES (lane_divider) or BOUNDARY_KIND_CODES (road_boundary),
 * -1 otherwise; sign: sign code or "". dtMs: observation time minus createdUnixMs (usually negative).
 * docs/WIRE.md is the spec, with every limit and refusal below.
 *
 * Decoding checks counts and sizes before it builds anything, and every number against its range;
 * drive ids are the vehicle's own (the merge scopes them: ids.ts vehicleScopedDriveId).
 */
import { Packr } from 'msgpackr';
import {
  BOUNDARY_KIND_CODES,
  CLASS_CODES,
  CLASS_GEOMETRY,
  DIVIDER_STYLE_CODES,
  boundaryKindOfCode,
  classOfCode,
  dividerStyleOfCode,
  type BoundaryKind,
  type DividerStyle,
  type PrimitiveClass,
} from './schema.ts';
import { CodecError, KIND_BATCH, encodeEnvelope, openEnvelope, openEnvelopeAsync, type KeyLookup } from './envelope.ts';
import { MAX_DRIVE_ID_CHARS, MAX_SIGN_CODE_CHARS, isWireDriveId, isWireSignCode, vehicleIdProblem } from './ids.ts';
import { MsgpackRefusal, unpackPlain } from './msgpack-safe.ts';
import type { SigningKey } from './signing.ts';
import { MAP_TILE_ZOOM, parseTileKey } from './tiles.ts';

/** One georeferenced observation as it travels to the cloud. */
export interface WireObservation {
  /** Tile key "z/x/y" at MAP_TILE_ZOOM whose local frame `pointsCm` is in. */
  tile: string;
  driveId: string;
  /** When it was observed, Unix milliseconds (UTC). */
  tUnixMs: number;
  cls: PrimitiveClass;
  style?: DividerStyle;
  kind?: BoundaryKind;
  signCode?: string;
  /** Confidence in [0, 1], carried with 1/255 resolution. */
  score: number;
  /** The edge's 1-sigma horizontal pose uncertainty when it observed this, centimetres. */
  poseSigmaCm: number;
  /** Vertices `[xCm, yCm]` (east, north) in the tile's local frame, whole centimetres. */
  pointsCm: Array<[number, number]>;
}

export interface ObservationBatch {
  vehicleId: string;
  /** Per-vehicle batch sequence number, from 1, never reused: (vehicleId, seq) is the dedupe key. */
  seq: number;
  createdUnixMs: number;
  /** Observations still waiting in the vehicle's outbox after this batch. */
  queueDepth: number;
  observations: WireObservation[];
  /** What the vehicle reports about itself (wire key `h`, optional; older clients send none). */
  status?: VehicleStatus;
}

/** A vehicle's report on itself, carried in a batch (wire key `h`; every field optional). */
export interface VehicleStatus {
  /** Age of the oldest data not yet acknowledged when the batch was formed, whole seconds. */
  oldestUnsentAgeS?: number;
  /** Data dropped on the vehicle, by reason: cumulative counts (they restart from 0 with the daemon or a new outbox). */
  dropsByReason?: Record<string, number>;
  /** Version of the perception model the vehicle runs. */
  modelVersion?: string;
  /** Name of the vehicle's hardware profile (hw-profiles/). */
  hwProfile?: string;
  /** Version of the vehicle's fleetmap software. */
  softwareVersion?: string;
}

/** Drop reasons a status may carry. */
export const MAX_STATUS_DROP_REASONS = 32;
/** Longest string in a status (drop reason, model version, hw-profile, software version). */
export const MAX_STATUS_STRING_CHARS = 64;

/** Largest |coordinate| accepted, cm: a tile is ~400 m wide, observations may overhang it. */
export const MAX_ABS_COORD_CM = 200_000;
export const MAX_OBSERVATIONS_PER_BATCH = 20_000;
export const MAX_VERTICES_PER_OBSERVATION = 1_000;
/** All vertices of one batch together. */
export const MAX_VERTICES_PER_BATCH = 500_000;
/** Distinct tiles in one batch. */
export const MAX_TILES_PER_BATCH = 4_096;
/** Distinct drive ids in one batch (a batch normally holds 1, 2 when a drive ends inside it). */
export const MAX_DRIVE_IDS_PER_BATCH = 8;
/** Largest poseSigmaCm accepted (1 km: beyond that the position is meaningless). */
export const MAX_POSE_SIGMA_CM = 100_000;
/** Default time window around the ingest's clock: not older than 30 days, not more than 10 minutes ahead. */
export const DEFAULT_MAX_AGE_MS = 30 * 86_400_000;
export const DEFAULT_MAX_AHEAD_MS = 10 * 60_000;
/** msgpack values of the largest status `h`: its key and map, 5 keys and values, the drops map's entries. */
const STATUS_MSGPACK_ITEMS = 2 + 10 + 2 * MAX_STATUS_DROP_REASONS;
/** msgpack budget of a batch body: every value (scalars, arrays, maps, keys), and nesting. */
export const MAX_BATCH_MSGPACK_ITEMS = 2 * MAX_VERTICES_PER_BATCH + 10 * MAX_OBSERVATIONS_PER_BATCH + 4 * MAX_TILES_PER_BATCH + MAX_DRIVE_IDS_PER_BATCH + 16 + STATUS_MSGPACK_ITEMS;
const BATCH_MSGPACK_DEPTH = 5; // body map > tiles list > tile map > rows list > row

/** Fields of a row before its vertices. */
const ROW_HEADER = 7;

const packr = new Packr({ useRecords: false, structuredClone: false, moreTypes: false, bundleStrings: false, mapsAsObjects: true, int64AsType: 'number' });

export function encodeBatch(batch: ObservationBatch, key: SigningKey, opts: { compress?: boolean } = {}): Buffer {
  validateBatchFields(batch);
  const driveIndex = new Map<string, number>();
  const byTile = new Map<string, unknown[][]>();
  for (const o of batch.observations) {
    let di = driveIndex.get(o.driveId);
    if (di === undefined) {
      di = driveIndex.size;
      driveIndex.set(o.driveId, di);
    }
    const attr = o.cls === 'lane_divider' && o.style ? DIVIDER_STYLE_CODES[o.style] : o.cls === 'road_boundary' && o.kind ? BOUNDARY_KIND_CODES[o.kind] : -1;
    const row: unknown[] = [
      CLASS_CODES[o.cls],
      attr,
      o.signCode ?? '',
      Math.round(clamp01(o.score) * 255),
      di,
      Math.round(o.tUnixMs - batch.createdUnixMs),
      Math.round(o.poseSigmaCm),
    ];
    let px = 0;
    let py = 0;
    for (const [x, y] of o.pointsCm) {
      const xi = Math.round(x);
      const yi = Math.round(y);
      row.push(xi - px, yi - py);
      px = xi;
      py = yi;
    }
    let rows = byTile.get(o.tile);
    if (!rows) byTile.set(o.tile, (rows = []));
    rows.push(row);
  }
  if (driveIndex.size > MAX_DRIVE_IDS_PER_BATCH) throw new RangeError(`a batch holds at most ${MAX_DRIVE_IDS_PER_BATCH} drive ids, got ${driveIndex.size}`);
  if (byTile.size > MAX_TILES_PER_BATCH) throw new RangeError(`a batch holds at most ${MAX_TILES_PER_BATCH} tiles, got ${byTile.size}`);
  const body: Record<string, unknown> = {
    s: batch.seq,
    u: batch.createdUnixMs,
    q: batch.queueDepth,
    d: [...driveIndex.keys()],
    t: [...byTile].map(([k, o]) => ({ k, o })),
  };
  if (batch.status) body.h = statusToWire(batch.status);
  return encodeEnvelope({ kind: KIND_BATCH, senderId: batch.vehicleId, body: packr.pack(body), key, compress: opts.compress ?? true });
}

export interface BatchDecodeOptions {
  /**
   * The receiver's clock, Unix ms: createdUnixMs and every observation time must lie within
   * [now - maxAgeMs, now + maxAheadMs]. Undefined = no time window (reading our own store back).
   */
  nowUnixMs?: number;
  /** default DEFAULT_MAX_AGE_MS (30 days) */
  maxAgeMs?: number;
  /** default DEFAULT_MAX_AHEAD_MS (10 minutes) */
  maxAheadMs?: number;
}

/**
 * A refused batch: `authenticated` once the signature checked out (then `seq` is the batch's seq
 * when the body let us read it as a valid seq, else null).
 */
export class BatchRefusal extends CodecError {
  constructor(
    e: CodecError,
    readonly authenticated: boolean,
    readonly seq: number | null,
  ) {
    super(e.code, e.message);
    this.name = 'BatchRefusal';
  }
}

/**
 * Decode and validate a batch. Throws a BatchRefusal (a CodecError) with a precise reason; never
 * returns a batch that violates the model (the ingest stores only what this accepts).
 * Order: header, kind, signature, decompression, msgpack shape, counts, then values.
 */
export function decodeBatch(buf: Uint8Array, keyFor: ((vehicleId: string) => KeyLookup) | 'trusted', opts: BatchDecodeOptions = {}): ObservationBatch {
  let opened;
  try {
    opened = openEnvelope(buf, KIND_BATCH, keyFor);
  } catch (e) {
    throw unauthenticatedRefusal(e);
  }
  return decodeOpenedBatch(opened, opts);
}

/**
 * decodeBatch with the signature checked on libuv's thread pool (shared/envelope.ts
 * openEnvelopeAsync): the same order, answers and refusals; the ingest's, whose one JavaScript
 * thread is its limit. `buf` must not change until it settles.
 */
export async function decodeBatchAsync(buf: Uint8Array, keyFor: (vehicleId: string) => KeyLookup, opts: BatchDecodeOptions = {}): Promise<ObservationBatch> {
  let opened;
  try {
    opened = await openEnvelopeAsync(buf, KIND_BATCH, keyFor);
  } catch (e) {
    throw unauthenticatedRefusal(e);
  }
  return decodeOpenedBatch(opened, opts);
}

/** What opening the envelope threw: a CodecError becomes a refusal of an unauthenticated batch (no seq); anything else is rethrown as it is. */
function unauthenticatedRefusal(e: unknown): unknown {
  return e instanceof CodecError ? new BatchRefusal(e, false, null) : e;
}

/** The body of an authenticated envelope: msgpack shape, counts, then values. */
function decodeOpenedBatch({ header, body }: { header: { senderId: string }; body: Buffer }, opts: BatchDecodeOptions): ObservationBatch {
  let seq: number | null = null;
  try {
    let raw: unknown;
    try {
      raw = unpackPlain(body, { maxItems: MAX_BATCH_MSGPACK_ITEMS, maxDepth: BATCH_MSGPACK_DEPTH });
    } catch (e) {
      if (e instanceof MsgpackRefusal) throw new CodecError('bad_msgpack', `batch body: ${e.message}`);
      throw e;
    }
    if (isPlainObject(raw) && isPositiveSafeInt((raw as Record<string, unknown>).s)) seq = (raw as Record<string, unknown>).s as number;
    return validateBody(raw, header.senderId, opts);
  } catch (e) {
    if (e instanceof CodecError) throw new BatchRefusal(e, true, seq);
    throw e;
  }
}

function validateBody(raw: unknown, vehicleId: string, opts: BatchDecodeOptions): ObservationBatch {
  const fail = (code: 'bad_body' | 'over_limit' | 'bad_tile_key' | 'bad_time' | 'bad_range', why: string): never => {
    throw new CodecError(code, why);
  };
  if (!isPlainObject(raw)) fail('bad_body', 'batch body must be a map');
  const m = raw as Record<string, unknown>;
  checkKeys(m, ['s', 'u', 'q', 'd', 't'], 'batch body', fail, ['h']);
  if (!isSafeInt(m.s) || (m.s as number) < 1) fail('bad_range', `batch.seq must be a positive integer <= ${Number.MAX_SAFE_INTEGER}, got ${show(m.s)}`);
  if (!isSafeInt(m.u) || (m.u as number) < 0) fail('bad_range', `batch.createdUnixMs must be a non-negative integer, got ${show(m.u)}`);
  if (!isSafeInt(m.q) || (m.q as number) < 0) fail('bad_range', `batch.queueDepth must be a non-negative integer, got ${show(m.q)}`);
  const seq = m.s as number;
  const createdUnixMs = m.u as number;
  const window = timeWindow(opts);
  if (window && (createdUnixMs < window.from || createdUnixMs > window.to)) {
    fail('bad_time', `batch.createdUnixMs ${createdUnixMs} is outside the accepted window [${window.from}, ${window.to}] (${window.describe})`);
  }
  if (!Array.isArray(m.d)) fail('bad_body', 'batch.driveIds must be a list');
  const driveIds = m.d as unknown[];
  if (driveIds.length > MAX_DRIVE_IDS_PER_BATCH) fail('over_limit', `batch has ${driveIds.length} drive ids, the limit is ${MAX_DRIVE_IDS_PER_BATCH}`);
  driveIds.forEach((d, i) => {
    if (!isWireDriveId(d)) fail('bad_body', `batch.driveIds[${i}] must be 1..${MAX_DRIVE_ID_CHARS} printable ASCII characters, got ${show(d)}`);
  });
  if (new Set(driveIds).size !== driveIds.length) fail('bad_body', 'batch.driveIds holds the same id twice');
  if (!Array.isArray(m.t)) fail('bad_body', 'batch.tiles must be a list');
  const tiles = m.t as unknown[];
  if (tiles.length > MAX_TILES_PER_BATCH) fail('over_limit', `batch has ${tiles.length} tiles, the limit is ${MAX_TILES_PER_BATCH}`);
  // Counts first: nothing is built before the whole batch is known to be within its budgets.
  let nObs = 0;
  let nVertices = 0;
  const seenTiles = new Set<string>();
  tiles.forEach((te, ti) => {
    if (!isPlainObject(te)) fail('bad_body', `tiles[${ti}] must be a map`);
    const t = te as Record<string, unknown>;
    checkKeys(t, ['k', 'o'], `tiles[${ti}]`, fail);
    if (typeof t.k !== 'string') fail('bad_tile_key', `tiles[${ti}].key must be a string, got ${show(t.k)}`);
    const key = t.k as string;
    try {
      if (parseTileKey(key).z !== MAP_TILE_ZOOM) fail('bad_tile_key', `tiles[${ti}] key ${key} is not at zoom ${MAP_TILE_ZOOM}`);
    } catch (e) {
      if (e instanceof CodecError) throw e;
      fail('bad_tile_key', `tiles[${ti}]: ${(e as Error).message}`);
    }
    if (seenTiles.has(key)) fail('bad_body', `tile ${key} appears twice`);
    seenTiles.add(key);
    if (!Array.isArray(t.o)) fail('bad_body', `tiles[${ti}].observations must be a list`);
    const rows = t.o as unknown[];
    nObs += rows.length;
    if (nObs > MAX_OBSERVATIONS_PER_BATCH) fail('over_limit', `batch has more than ${MAX_OBSERVATIONS_PER_BATCH} observations`);
    rows.forEach((row, oi) => {
      if (!Array.isArray(row) || row.length < ROW_HEADER + 2 || (row.length - ROW_HEADER) % 2 !== 0) {
        fail('bad_body', `tile ${key} observation ${oi}: malformed row (length ${Array.isArray(row) ? row.length : show(row)})`);
      }
      const n = ((row as unknown[]).length - ROW_HEADER) / 2;
      if (n > MAX_VERTICES_PER_OBSERVATION) fail('over_limit', `tile ${key} observation ${oi}: ${n} vertices, the limit is ${MAX_VERTICES_PER_OBSERVATION}`);
      nVertices += n;
      if (nVertices > MAX_VERTICES_PER_BATCH) fail('over_limit', `batch has more than ${MAX_VERTICES_PER_BATCH} vertices`);
    });
  });

  const observations: WireObservation[] = [];
  for (const te of tiles as Array<{ k: string; o: unknown[][] }>) {
    const tile = te.k;
    te.o.forEach((r, oi) => {
      const where = `tile ${tile} observation ${oi}`;
      for (let i = 0; i < r.length; i++) {
        if (i === 2 ? typeof r[i] !== 'string' : !isSafeInt(r[i])) fail('bad_body', `${where}: field ${i} must be ${i === 2 ? 'a string (sign code)' : 'an integer'}, got ${show(r[i])}`);
      }
      const [clsCode, attr, sign, score255, di, dtMs, poseSigmaCm] = r as [number, number, string, number, number, number, number];
      const cls = classOfCode(clsCode);
      if (cls === undefined) fail('bad_body', `${where}: unknown class code ${clsCode}`);
      const c = cls as PrimitiveClass;
      if (score255 < 0 || score255 > 255) fail('bad_range', `${where}: score ${score255} outside 0..255`);
      if (di < 0 || di >= driveIds.length) fail('bad_range', `${where}: drive index ${di} outside the ${driveIds.length} drive ids`);
      if (poseSigmaCm < 0 || poseSigmaCm > MAX_POSE_SIGMA_CM) fail('bad_range', `${where}: poseSigmaCm ${poseSigmaCm} outside 0..${MAX_POSE_SIGMA_CM}`);
      const tUnixMs = createdUnixMs + dtMs;
      if (!Number.isSafeInteger(tUnixMs) || tUnixMs < 0) fail('bad_range', `${where}: time ${createdUnixMs} + ${dtMs} ms is not a valid Unix time`);
      if (window && (tUnixMs < window.from || tUnixMs > window.to)) fail('bad_time', `${where}: observed at ${tUnixMs}, outside the accepted window [${window.from}, ${window.to}] (${window.describe})`);
      const o: WireObservation = { tile, driveId: driveIds[di] as string, tUnixMs, cls: c, score: score255 / 255, poseSigmaCm, pointsCm: [] };
      if (c === 'lane_divider') {
        const style = dividerStyleOfCode(attr);
        if (style === undefined) fail('bad_body', `${where}: lane_divider style code ${attr} is not one of ${codeList(DIVIDER_STYLE_CODES)}`);
        o.style = style;
      } else if (c === 'road_boundary') {
        const kind = boundaryKindOfCode(attr);
        if (kind === undefined) fail('bad_body', `${where}: road_boundary kind code ${attr} is not one of ${codeList(BOUNDARY_KIND_CODES)}`);
        o.kind = kind;
      } else if (attr !== -1) fail('bad_body', `${where}: ${c} carries no style/kind, got code ${attr}`);
      if (c === 'traffic_sign') {
        if (!isWireSignCode(sign)) fail('bad_body', `${where}: sign code must be at most ${MAX_SIGN_CODE_CHARS} printable ASCII characters, got ${show(sign)}`);
        o.signCode = sign;
      } else if (sign !== '') fail('bad_body', `${where}: only traffic_sign carries a sign code`);
      const n = (r.length - ROW_HEADER) / 2;
      checkVertexCount(c, n, (why) => fail('bad_body', why), where);
      let x = 0;
      let y = 0;
      for (let i = ROW_HEADER; i < r.length; i += 2) {
        x += r[i] as number;
        y += r[i + 1] as number;
        if (Math.abs(x) > MAX_ABS_COORD_CM || Math.abs(y) > MAX_ABS_COORD_CM) fail('bad_range', `${where}: vertex (${x}, ${y}) cm is more than ${MAX_ABS_COORD_CM} cm from the tile centre`);
        o.pointsCm.push([x, y]);
      }
      observations.push(o);
    });
  }
  const batch: ObservationBatch = { vehicleId, seq, createdUnixMs, queueDepth: m.q as number, observations };
  if (Object.hasOwn(m, 'h')) batch.status = statusFromWire(m.h, fail);
  return batch;
}

function statusToWire(st: VehicleStatus): Record<string, unknown> {
  const problem = vehicleStatusProblem(st);
  if (problem) throw new RangeError(`status: ${problem}`);
  const h: Record<string, unknown> = {};
  if (st.oldestUnsentAgeS !== undefined) h.a = Math.round(st.oldestUnsentAgeS);
  if (st.dropsByReason !== undefined) h.x = { ...st.dropsByReason };
  if (st.modelVersion !== undefined) h.m = st.modelVersion;
  if (st.hwProfile !== undefined) h.p = st.hwProfile;
  if (st.softwareVersion !== undefined) h.w = st.softwareVersion;
  return h;
}

/** Why a status cannot go on the wire, or undefined (the edge checks before it encodes). */
export function vehicleStatusProblem(st: VehicleStatus): string | undefined {
  if (st.oldestUnsentAgeS !== undefined && !(Number.isFinite(st.oldestUnsentAgeS) && st.oldestUnsentAgeS >= 0 && Math.round(st.oldestUnsentAgeS) <= Number.MAX_SAFE_INTEGER)) return `oldestUnsentAgeS must be a non-negative number, got ${st.oldestUnsentAgeS}`;
  if (st.dropsByReason !== undefined) {
    const e = Object.entries(st.dropsByReason);
    if (e.length > MAX_STATUS_DROP_REASONS) return `dropsByReason holds at most ${MAX_STATUS_DROP_REASONS} reasons, got ${e.length}`;
    for (const [k, n] of e) {
      if (!isWireDriveId(k)) return `drop reason must be 1..${MAX_STATUS_STRING_CHARS} printable ASCII characters, got ${show(k)}`;
      if (!isSafeInt(n) || n < 0) return `dropsByReason.${k} must be a non-negative integer, got ${show(n)}`;
    }
  }
  for (const k of ['modelVersion', 'hwProfile', 'softwareVersion'] as const) {
    if (st[k] !== undefined && !isWireDriveId(st[k])) return `${k} must be 1..${MAX_STATUS_STRING_CHARS} printable ASCII characters without spaces, got ${show(st[k])}`;
  }
  return undefined;
}

function statusFromWire(raw: unknown, fail: (code: 'bad_body' | 'over_limit' | 'bad_range', why: string) => never): VehicleStatus {
  if (!isPlainObject(raw)) fail('bad_body', 'batch.status must be a map');
  const h = raw as Record<string, unknown>;
  checkKeys(h, [], 'batch.status', fail, ['a', 'x', 'm', 'p', 'w']);
  const st: VehicleStatus = {};
  if (Object.hasOwn(h, 'a')) {
    if (!isSafeInt(h.a) || h.a < 0) fail('bad_range', `batch.status.oldestUnsentAgeS must be a non-negative integer, got ${show(h.a)}`);
    st.oldestUnsentAgeS = h.a as number;
  }
  if (Object.hasOwn(h, 'x')) {
    if (!isPlainObject(h.x)) fail('bad_body', 'batch.status.dropsByReason must be a map');
    const e = Object.entries(h.x as Record<string, unknown>);
    if (e.length > MAX_STATUS_DROP_REASONS) fail('over_limit', `batch.status.dropsByReason has ${e.length} reasons, the limit is ${MAX_STATUS_DROP_REASONS}`);
    const drops: Record<string, number> = {};
    for (const [k, n] of e) {
      if (!isWireDriveId(k)) fail('bad_body', `batch.status.dropsByReason: a reason must be 1..${MAX_STATUS_STRING_CHARS} printable ASCII characters, got ${show(k)}`);
      if (!isSafeInt(n) || n < 0) fail('bad_range', `batch.status.dropsByReason.${k} must be a non-negative integer, got ${show(n)}`);
      Object.defineProperty(drops, k, { value: n, enumerable: true, writable: true, configurable: true });
    }
    st.dropsByReason = drops;
  }
  for (const [key, field] of [['m', 'modelVersion'], ['p', 'hwProfile'], ['w', 'softwareVersion']] as const) {
    if (!Object.hasOwn(h, key)) continue;
    if (!isWireDriveId(h[key])) fail('bad_body', `batch.status.${field} must be 1..${MAX_STATUS_STRING_CHARS} printable ASCII characters without spaces, got ${show(h[key])}`);
    st[field] = h[key] as string;
  }
  return st;
}

function timeWindow(opts: BatchDecodeOptions): { from: number; to: number; describe: string } | undefined {
  if (opts.nowUnixMs === undefined) return undefined;
  const age = opts.maxAgeMs ?? DEFAULT_MAX_AGE_MS;
  const ahead = opts.maxAheadMs ?? DEFAULT_MAX_AHEAD_MS;
  return { from: opts.nowUnixMs - age, to: opts.nowUnixMs + ahead, describe: `at most ${age / 1000} s old and ${ahead / 1000} s ahead of the ingest's clock` };
}

function validateBatchFields(b: ObservationBatch): void {
  const idProblem = vehicleIdProblem(b.vehicleId);
  if (idProblem) throw new RangeError(idProblem);
  if (!Number.isSafeInteger(b.seq) || b.seq < 1) throw new RangeError(`seq must be a positive safe integer, got ${b.seq}`);
  if (!Number.isSafeInteger(b.createdUnixMs) || b.createdUnixMs < 0) throw new RangeError(`createdUnixMs must be a non-negative integer, got ${b.createdUnixMs}`);
  if (!Number.isSafeInteger(b.queueDepth) || b.queueDepth < 0) throw new RangeError(`queueDepth must be a non-negative integer, got ${b.queueDepth}`);
  if (b.observations.length > MAX_OBSERVATIONS_PER_BATCH) throw new RangeError(`a batch holds at most ${MAX_OBSERVATIONS_PER_BATCH} observations, got ${b.observations.length}`);
  let vertices = 0;
  b.observations.forEach((o, i) => {
    const problem = wireObservationProblem(o);
    if (problem) throw new RangeError(`observation ${i}: ${problem}`);
    vertices += o.pointsCm.length;
  });
  if (vertices > MAX_VERTICES_PER_BATCH) throw new RangeError(`a batch holds at most ${MAX_VERTICES_PER_BATCH} vertices, got ${vertices}`);
}

/**
 * Why an observation cannot go on the wire (drive id, sign code, tile key, vertex count, pose
 * sigma), or undefined. The edge checks this before queueing, so a bad one is refused at once
 * instead of failing a whole batch later.
 */
export function wireObservationProblem(o: WireObservation): string | undefined {
  if (!isWireDriveId(o.driveId)) return `driveId must be 1..${MAX_DRIVE_ID_CHARS} printable ASCII characters, got ${show(o.driveId)}`;
  if (o.signCode !== undefined && !isWireSignCode(o.signCode)) return `signCode must be at most ${MAX_SIGN_CODE_CHARS} printable ASCII characters, got ${show(o.signCode)}`;
  try {
    if (parseTileKey(o.tile).z !== MAP_TILE_ZOOM) return `tile ${o.tile} is not at zoom ${MAP_TILE_ZOOM}`;
  } catch (e) {
    return (e as Error).message;
  }
  if (!(o.poseSigmaCm >= 0 && Math.round(o.poseSigmaCm) <= MAX_POSE_SIGMA_CM)) return `poseSigmaCm must be in 0..${MAX_POSE_SIGMA_CM}, got ${o.poseSigmaCm}`;
  try {
    checkVertexCount(o.cls, o.pointsCm.length, (why) => {
      throw new RangeError(why);
    }, o.cls);
  } catch (e) {
    return (e as Error).message;
  }
  return undefined;
}

function checkVertexCount(cls: PrimitiveClass, n: number, bad: (why: string) => never, where: string): void {
  const shape = CLASS_GEOMETRY[cls];
  if (n > MAX_VERTICES_PER_OBSERVATION) bad(`${where}: ${n} vertices, the limit is ${MAX_VERTICES_PER_OBSERVATION}`);
  if (shape === 'point' && n !== 1) bad(`${where}: ${cls} needs exactly 1 point, got ${n}`);
  if (shape === 'polyline' && n < 2) bad(`${where}: ${cls} needs at least 2 vertices, got ${n}`);
  if (shape === 'polygon' && n < 3) bad(`${where}: ${cls} needs at least 3 vertices, got ${n}`);
}

/** `required` must all be there; any other key than those and `optional` is refused. */
function checkKeys(m: Record<string, unknown>, required: readonly string[], where: string, fail: (code: 'bad_body', why: string) => never, optional: readonly string[] = []): void {
  const known = [...required, ...optional];
  for (const k of Object.keys(m)) if (!known.includes(k)) fail('bad_body', `${where} has unknown field ${show(k)} (known: ${known.join(', ')})`);
  for (const k of required) if (!Object.hasOwn(m, k)) fail('bad_body', `${where} lacks field ${show(k)}`);
}

const codeList = (t: Readonly<Record<string, number>>): string => Object.entries(t).map(([k, v]) => `${v} (${k})`).join(', ');
const clamp01 = (v: number): number => (v < 0 ? 0 : v > 1 ? 1 : v);
const isSafeInt = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v);
const isPositiveSafeInt = (v: unknown): v is number => isSafeInt(v) && v >= 1;
const isPlainObject = (v: unknown): boolean => typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);
function show(v: unknown): string {
  try {
    const s = JSON.stringify(v) ?? String(v);
    return s.length > 80 ? `${s.slice(0, 77)}...` : s;
  } catch {
    return String(v);
  }
}
