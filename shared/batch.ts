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
 *   t: [ { k: "z/x/y", o: [ [cls, attr, sign, score255, driveIdx, dtMs, poseSigmaCm, x0, y0, dx1, dy1, ...], ... ] }, ... ] }
 * ```
 * attr: style index (lane_divider) or kind index (road_boundary), -1 otherwise; sign: sign code or "".
 * dtMs: observation time minus createdUnixMs (usually negative).
 */
import { Packr } from 'msgpackr';
import {
  BOUNDARY_KINDS,
  CLASS_GEOMETRY,
  DIVIDER_STYLES,
  PRIMITIVE_CLASSES,
  type BoundaryKind,
  type DividerStyle,
  type PrimitiveClass,
} from './schema.ts';
import { CodecError, KIND_ACK, KIND_BATCH, encodeEnvelope, openEnvelope } from './envelope.ts';
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
}

export type AckStatus = 'stored' | 'duplicate' | 'rejected';

export interface Ack {
  /** The batch this answers; null when the batch was too broken to read its seq. */
  seq: number | null;
  status: AckStatus;
  /** Why a batch was rejected (exact, for logs and operators). */
  reason?: string;
}

/** Largest |coordinate| accepted, cm: a tile is ~400 m wide, observations may overhang it. */
export const MAX_ABS_COORD_CM = 200_000;
export const MAX_OBSERVATIONS_PER_BATCH = 20_000;
export const MAX_VERTICES_PER_OBSERVATION = 1_000;

const packr = new Packr({ useRecords: false, mapsAsObjects: true, int64AsType: 'number' });

export function encodeBatch(batch: ObservationBatch, key: Uint8Array, opts: { compress?: boolean } = {}): Buffer {
  validateBatchFields(batch);
  const driveIndex = new Map<string, number>();
  const byTile = new Map<string, unknown[][]>();
  for (const o of batch.observations) {
    let di = driveIndex.get(o.driveId);
    if (di === undefined) {
      di = driveIndex.size;
      driveIndex.set(o.driveId, di);
    }
    const attr =
      o.cls === 'lane_divider' && o.style ? DIVIDER_STYLES.indexOf(o.style) : o.cls === 'road_boundary' && o.kind ? BOUNDARY_KINDS.indexOf(o.kind) : -1;
    const row: unknown[] = [
      PRIMITIVE_CLASSES.indexOf(o.cls),
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
  const body = {
    s: batch.seq,
    u: batch.createdUnixMs,
    q: batch.queueDepth,
    d: [...driveIndex.keys()],
    t: [...byTile].map(([k, o]) => ({ k, o })),
  };
  return encodeEnvelope({ kind: KIND_BATCH, senderId: batch.vehicleId, body: packr.pack(body), key, compress: opts.compress ?? true });
}

/**
 * Decode and validate a batch. Throws CodecError with a precise reason; never returns a batch
 * that violates the model (the ingest stores only what this returns).
 */
export function decodeBatch(buf: Uint8Array, keyFor: ((vehicleId: string) => Uint8Array | undefined) | 'trusted'): ObservationBatch {
  const { header, body } = openEnvelope(buf, keyFor);
  if (header.kind !== KIND_BATCH) throw new CodecError('bad_kind', `expected a batch (kind 1), got kind ${header.kind}`);
  const raw = unpack(body);
  const bad = (why: string): never => {
    throw new CodecError('bad_body', why);
  };
  if (!isPlainObject(raw)) bad('batch body must be a map');
  const m = raw as Record<string, unknown>;
  const seq = m.s;
  if (!isNonNegInt(seq) || seq === 0) bad(`batch.seq must be a positive integer, got ${show(seq)}`);
  if (!isFiniteNumber(m.u)) bad(`batch.createdUnixMs must be a number, got ${show(m.u)}`);
  if (!isNonNegInt(m.q)) bad(`batch.queueDepth must be a non-negative integer, got ${show(m.q)}`);
  if (!Array.isArray(m.d) || !m.d.every((d) => typeof d === 'string' && d.length > 0 && d.length <= 128)) {
    bad('batch.driveIds must be a list of non-empty strings (<= 128 chars)');
  }
  if (!Array.isArray(m.t)) bad('batch.tiles must be a list');
  const driveIds = m.d as string[];
  const createdUnixMs = m.u as number;
  const observations: WireObservation[] = [];
  (m.t as unknown[]).forEach((tileEntry, ti) => {
    if (!isPlainObject(tileEntry)) bad(`tiles[${ti}] must be a map`);
    const te = tileEntry as Record<string, unknown>;
    if (typeof te.k !== 'string') bad(`tiles[${ti}].key must be a string`);
    const tile = te.k as string;
    try {
      if (parseTileKey(tile).z !== MAP_TILE_ZOOM) bad(`tiles[${ti}] key ${tile} is not at zoom ${MAP_TILE_ZOOM}`);
    } catch (e) {
      if (e instanceof CodecError) throw e;
      bad(`tiles[${ti}]: ${(e as Error).message}`);
    }
    if (!Array.isArray(te.o)) bad(`tiles[${ti}].observations must be a list`);
    (te.o as unknown[]).forEach((row, oi) => {
      const where = `tile ${tile} observation ${oi}`;
      if (!Array.isArray(row) || row.length < 9 || row.length % 2 === 0) bad(`${where}: malformed row (length ${Array.isArray(row) ? row.length : show(row)})`);
      const r = row as unknown[];
      if (!r.every((v, i) => (i === 2 ? typeof v === 'string' : isFiniteNumber(v) && Number.isInteger(v)))) bad(`${where}: fields must be integers (and a sign code string)`);
      const [clsCode, attr, sign, score255, di, dtMs, poseSigmaCm] = r as [number, number, string, number, number, number, number];
      const cls = PRIMITIVE_CLASSES[clsCode];
      if (cls === undefined) bad(`${where}: unknown class code ${clsCode}`);
      const c = cls as PrimitiveClass;
      if (score255 < 0 || score255 > 255) bad(`${where}: score ${score255} outside 0..255`);
      if (di < 0 || di >= driveIds.length) bad(`${where}: drive index ${di} outside the ${driveIds.length} drive ids`);
      if (poseSigmaCm < 0) bad(`${where}: poseSigmaCm ${poseSigmaCm} is negative`);
      const o: WireObservation = {
        tile,
        driveId: driveIds[di]!,
        tUnixMs: createdUnixMs + dtMs,
        cls: c,
        score: score255 / 255,
        poseSigmaCm,
        pointsCm: [],
      };
      if (c === 'lane_divider') {
        const style = DIVIDER_STYLES[attr];
        if (style === undefined) bad(`${where}: lane_divider style code ${attr} is not one of ${DIVIDER_STYLES.join('/')}`);
        o.style = style;
      } else if (c === 'road_boundary') {
        const kind = BOUNDARY_KINDS[attr];
        if (kind === undefined) bad(`${where}: road_boundary kind code ${attr} is not one of ${BOUNDARY_KINDS.join('/')}`);
        o.kind = kind;
      } else if (attr !== -1) bad(`${where}: ${c} carries no style/kind, got code ${attr}`);
      if (c === 'traffic_sign') o.signCode = sign;
      else if (sign !== '') bad(`${where}: only traffic_sign carries a sign code`);
      let x = 0;
      let y = 0;
      for (let i = 7; i < r.length; i += 2) {
        x += r[i] as number;
        y += r[i + 1] as number;
        if (Math.abs(x) > MAX_ABS_COORD_CM || Math.abs(y) > MAX_ABS_COORD_CM) bad(`${where}: vertex (${x}, ${y}) cm is more than ${MAX_ABS_COORD_CM} cm from the tile centre`);
        o.pointsCm.push([x, y]);
      }
      checkVertexCount(c, o.pointsCm.length, bad, where);
      observations.push(o);
    });
  });
  if (observations.length > MAX_OBSERVATIONS_PER_BATCH) bad(`batch has ${observations.length} observations, the limit is ${MAX_OBSERVATIONS_PER_BATCH}`);
  return { vehicleId: header.senderId, seq: seq as number, createdUnixMs, queueDepth: m.q as number, observations };
}

export function encodeAck(ack: Ack): Buffer {
  const body: Record<string, unknown> = { s: ack.seq, st: ack.status };
  if (ack.reason !== undefined) body.r = ack.reason;
  return encodeEnvelope({ kind: KIND_ACK, senderId: '', body: packr.pack(body), compress: false });
}

export function decodeAck(buf: Uint8Array): Ack {
  const { header, body } = openEnvelope(buf, () => undefined);
  if (header.kind !== KIND_ACK) throw new CodecError('bad_kind', `expected an ack (kind 2), got kind ${header.kind}`);
  const m = unpack(body);
  if (!isPlainObject(m)) throw new CodecError('bad_body', 'ack body must be a map');
  const r = m as Record<string, unknown>;
  if (r.s !== null && !isNonNegInt(r.s)) throw new CodecError('bad_body', `ack.seq must be an integer or null, got ${show(r.s)}`);
  if (r.st !== 'stored' && r.st !== 'duplicate' && r.st !== 'rejected') throw new CodecError('bad_body', `ack.status must be stored/duplicate/rejected, got ${show(r.st)}`);
  const ack: Ack = { seq: r.s as number | null, status: r.st };
  if (typeof r.r === 'string') ack.reason = r.r;
  return ack;
}

function validateBatchFields(b: ObservationBatch): void {
  if (!b.vehicleId || Buffer.byteLength(b.vehicleId) > 255) throw new RangeError(`vehicleId must be 1..255 utf8 bytes, got ${JSON.stringify(b.vehicleId)}`);
  if (!Number.isInteger(b.seq) || b.seq < 1) throw new RangeError(`seq must be a positive integer, got ${b.seq}`);
  if (!Number.isInteger(b.queueDepth) || b.queueDepth < 0) throw new RangeError(`queueDepth must be a non-negative integer, got ${b.queueDepth}`);
  if (b.observations.length > MAX_OBSERVATIONS_PER_BATCH) throw new RangeError(`a batch holds at most ${MAX_OBSERVATIONS_PER_BATCH} observations, got ${b.observations.length}`);
  b.observations.forEach((o, i) => checkVertexCount(o.cls, o.pointsCm.length, (why) => {
    throw new RangeError(why);
  }, `observation ${i}`));
}

function checkVertexCount(cls: PrimitiveClass, n: number, bad: (why: string) => never, where: string): void {
  const shape = CLASS_GEOMETRY[cls];
  if (n > MAX_VERTICES_PER_OBSERVATION) bad(`${where}: ${n} vertices, the limit is ${MAX_VERTICES_PER_OBSERVATION}`);
  if (shape === 'point' && n !== 1) bad(`${where}: ${cls} needs exactly 1 point, got ${n}`);
  if (shape === 'polyline' && n < 2) bad(`${where}: ${cls} needs at least 2 vertices, got ${n}`);
  if (shape === 'polygon' && n < 3) bad(`${where}: ${cls} needs at least 3 vertices, got ${n}`);
}

function unpack(body: Buffer): unknown {
  try {
    return packr.unpack(body);
  } catch (e) {
    throw new CodecError('bad_body', `body is not valid msgpack: ${(e as Error).message}`);
  }
}

const clamp01 = (v: number): number => (v < 0 ? 0 : v > 1 ? 1 : v);
const isFiniteNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isNonNegInt = (v: unknown): v is number => isFiniteNumber(v) && Number.isInteger(v) && v >= 0;
const isPlainObject = (v: unknown): boolean => typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);
function show(v: unknown): string {
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}
