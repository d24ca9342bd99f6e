/**
 * Observation shards: the stored batches re-keyed by tile, so a tile job reads only its tile
 * and its 8 neighbours. One object per tile at `<prefix>/16/<x>/<y>.obs`.
 *
 * Shard format (msgpack map): `{ f: "fleetmap.merge.shard", v: 1, k: "16/x/y", d: [driveId...],
 * o: [[cls, attr, signCode, score255, driveIdx, tUnixMs, poseSigmaCm, x0Cm, y0Cm, x1Cm, ...]] }`,
 * vertices absolute, whole centimetres, in the tile's local frame (as on the wire).
 */
import { Packr } from 'msgpackr';
import type { WireObservation } from '../../shared/batch.ts';
import { BOUNDARY_KINDS, DIVIDER_STYLES, PRIMITIVE_CLASSES } from '../../shared/schema.ts';
import { parseTileKey, tileBounds, tileFrame, tileKey, tileOf, tileOffset, type TileId } from '../../shared/tiles.ts';
import type { TileObservation } from './prepare.ts';

export const SHARD_FORMAT = 'fleetmap.merge.shard';
export const SHARD_VERSION = 1;

const packr = new Packr({ useRecords: false, mapsAsObjects: true, int64AsType: 'number' });

export function shardKey(prefix: string, tile: string): string {
  const t = parseTileKey(tile);
  return `${prefix}/${t.z}/${t.x}/${t.y}.obs`;
}

export function encodeShard(tile: string, observations: readonly WireObservation[]): Buffer {
  const drives = new Map<string, number>();
  const rows: unknown[][] = [];
  for (const o of observations) {
    if (o.tile !== tile) throw new RangeError(`observation of tile ${o.tile} does not belong in shard ${tile}`);
    let di = drives.get(o.driveId);
    if (di === undefined) drives.set(o.driveId, (di = drives.size));
    const attr = o.cls === 'lane_divider' && o.style ? DIVIDER_STYLES.indexOf(o.style) : o.cls === 'road_boundary' && o.kind ? BOUNDARY_KINDS.indexOf(o.kind) : -1;
    const row: unknown[] = [PRIMITIVE_CLASSES.indexOf(o.cls), attr, o.signCode ?? '', Math.round(o.score * 255), di, o.tUnixMs, o.poseSigmaCm];
    for (const [x, y] of o.pointsCm) row.push(Math.round(x), Math.round(y));
    rows.push(row);
  }
  return packr.pack({ f: SHARD_FORMAT, v: SHARD_VERSION, k: tile, d: [...drives.keys()], o: rows });
}

export function decodeShard(buf: Uint8Array, where: string): { tile: string; observations: WireObservation[] } {
  const m = packr.unpack(buf) as Record<string, unknown>;
  if (!m || m.f !== SHARD_FORMAT) throw new Error(`${where} is not a merge shard`);
  if (m.v !== SHARD_VERSION) throw new Error(`${where}: got shard v${String(m.v)} data, expected v${SHARD_VERSION}`);
  const tile = m.k as string;
  const drives = m.d as string[];
  const observations: WireObservation[] = (m.o as number[][]).map((r) => {
    const [c, attr, sign, s255, di, t, sigma] = r as unknown as [number, number, string, number, number, number, number];
    const cls = PRIMITIVE_CLASSES[c]!;
    const o: WireObservation = { tile, driveId: drives[di]!, tUnixMs: t, cls, score: s255 / 255, poseSigmaCm: sigma, pointsCm: [] };
    if (cls === 'lane_divider') o.style = DIVIDER_STYLES[attr];
    if (cls === 'road_boundary') o.kind = BOUNDARY_KINDS[attr];
    if (cls === 'traffic_sign') o.signCode = sign;
    for (let i = 7; i + 1 < r.length; i += 2) o.pointsCm.push([r[i]!, r[i + 1]!]);
    return o;
  });
  return { tile, observations };
}

/**
 * Affine map from tile `from`'s local frame to tile `to`'s (metres): [x', y'] = [a x + b y + c,
 * d x + e y + f]. Fitted on three points converted exactly through lng/lat; between neighbouring
 * tangent planes the map is rigid to well under a millimetre over a tile.
 */
export function frameTransform(from: TileId, to: TileId): Float64Array {
  const f = tileFrame(from);
  const g = tileFrame(to);
  const map = (x: number, y: number): [number, number] => g.toLocal(f.toLngLat([x, y]));
  const [c, ff] = map(0, 0);
  const [ex, ey] = map(100, 0);
  const [nx, ny] = map(0, 100);
  return Float64Array.of((ex - c) / 100, (nx - c) / 100, c, (ey - ff) / 100, (ny - ff) / 100, ff);
}

/** Axis-aligned box of a tile's square in its own frame, metres: [minX, minY, maxX, maxY]. */
export function tileBoxM(t: TileId): [number, number, number, number] {
  const b = tileBounds(t);
  const f = tileFrame(t);
  const corners = [
    f.toLocal({ lng: b.west, lat: b.north }),
    f.toLocal({ lng: b.east, lat: b.north }),
    f.toLocal({ lng: b.west, lat: b.south }),
    f.toLocal({ lng: b.east, lat: b.south }),
  ];
  return [Math.min(...corners.map((c) => c[0])), Math.min(...corners.map((c) => c[1])), Math.max(...corners.map((c) => c[0])), Math.max(...corners.map((c) => c[1]))];
}

/**
 * The tile and its 8 neighbours (those that exist at its zoom: none beyond the top or bottom row;
 * columns wrap across the antimeridian, shared/tiles.ts `tileOffset`), each once.
 */
export function neighbourhood(t: TileId): TileId[] {
  const out: TileId[] = [];
  const seen = new Set<string>();
  for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) {
    const nb = tileOffset(t, dx, dy);
    if (!nb || seen.has(tileKey(nb))) continue;
    seen.add(tileKey(nb));
    out.push(nb);
  }
  return out;
}

/** Observations with a vertex further than this beyond the margin are dropped, metres. */
const FAR_M = 250;

/**
 * Observations of the shards (tile key -> observations of that tile) that reach within
 * `marginM` of tile `t`, converted into t's frame, metres (none reaching FAR_M beyond it).
 * `tilesReached` repeats this test for the incremental plan and must stay a superset of it.
 */
export function gatherForTile(t: TileId, shards: ReadonlyMap<string, readonly WireObservation[]>, marginM: number): TileObservation[] {
  const [x0, y0, x1, y1] = tileBoxM(t);
  const minX = x0 - marginM;
  const minY = y0 - marginM;
  const maxX = x1 + marginM;
  const maxY = y1 + marginM;
  const out: TileObservation[] = [];
  for (const nb of neighbourhood(t)) {
    const list = shards.get(tileKey(nb));
    if (!list?.length) continue;
    const m = frameTransform(nb, t);
    const [a, b, c, d, e, f] = m as unknown as [number, number, number, number, number, number];
    // The wanted box in the neighbour's frame (inverse map of its corners, 1 m slack), centimetres:
    // observations entirely outside it are skipped before any vertex is converted.
    const det = a * e - b * d;
    const inv = (x: number, y: number): [number, number] => [(e * (x - c) - b * (y - f)) / det, (a * (y - f) - d * (x - c)) / det];
    const corners = [inv(minX, minY), inv(maxX, minY), inv(minX, maxY), inv(maxX, maxY)];
    const lo = [Math.min(...corners.map((q) => q[0])) * 100 - 100, Math.min(...corners.map((q) => q[1])) * 100 - 100];
    const hi = [Math.max(...corners.map((q) => q[0])) * 100 + 100, Math.max(...corners.map((q) => q[1])) * 100 + 100];
    for (const o of list) {
      if (!o.pointsCm.some(([xc, yc]) => xc >= lo[0]! && xc <= hi[0]! && yc >= lo[1]! && yc <= hi[1]!)) continue;
      const points: Array<[number, number]> = o.pointsCm.map(([xc, yc]) => {
        const x = xc / 100;
        const y = yc / 100;
        return [a * x + b * y + c, d * x + e * y + f];
      });
      if (!points.some(([x, y]) => x >= minX && x <= maxX && y >= minY && y <= maxY)) continue;
      // Perception sees tens of metres; a vertex far outside is an error, and would blow up the
      // job's dense grids (sized by the data's extent).
      if (points.some(([x, y]) => x < minX - FAR_M || x > maxX + FAR_M || y < minY - FAR_M || y > maxY + FAR_M)) continue;
      const ob: TileObservation = { driveId: o.driveId, tUnixMs: o.tUnixMs, cls: o.cls, score: o.score, poseSigmaCm: o.poseSigmaCm, points };
      if (o.style) ob.style = o.style;
      if (o.kind) ob.kind = o.kind;
      if (o.signCode !== undefined) ob.signCode = o.signCode;
      out.push(ob);
    }
  }
  return out;
}

/**
 * Tiles an observation's vertices fall in, its own key tile included. Only vertices outside the
 * key tile's square are converted through lng/lat (`boxes` caches the squares).
 */
export function tilesTouched(o: WireObservation, boxes: Map<string, [number, number, number, number]>): string[] {
  let box = boxes.get(o.tile);
  const t = parseTileKey(o.tile);
  if (!box) boxes.set(o.tile, (box = tileBoxM(t)));
  const keys = new Set<string>([o.tile]);
  const f = tileFrame(t);
  for (const [xc, yc] of o.pointsCm) {
    const x = xc / 100;
    const y = yc / 100;
    if (x > box[0] + 0.01 && x < box[2] - 0.01 && y > box[1] + 0.01 && y < box[3] - 0.01) continue;
    keys.add(tileKey(tileOf(f.toLngLat([x, y]), t.z)));
  }
  return [...keys];
}

/** Per key tile: its neighbours' keys, the map into each one's frame and each one's square. */
export type ReachCache = Map<string, Array<{ key: string; m: Float64Array; box: [number, number, number, number] }>>;

/** Slack of tilesReached's test, metres: rounding may add a tile, never lose one. */
const REACH_SLACK_M = 1;

/**
 * The tiles whose job gathers observation `o` (gatherForTile: one of its vertices within
 * `marginM` of the tile's square), among the 3x3 neighbourhood of o's key tile, the only shards
 * a job reads. A superset by REACH_SLACK_M: an incremental merge recomputes these tiles, so none
 * whose input changed may be missing.
 */
export function tilesReached(o: WireObservation, marginM: number, cache: ReachCache): string[] {
  let nbs = cache.get(o.tile);
  if (!nbs) {
    const t = parseTileKey(o.tile);
    cache.set(o.tile, (nbs = neighbourhood(t).map((nb) => ({ key: tileKey(nb), m: frameTransform(t, nb), box: tileBoxM(nb) }))));
  }
  const r = marginM + REACH_SLACK_M;
  const out: string[] = [];
  for (const { key, m, box } of nbs) {
    const [a, b, c, d, e, f] = m as unknown as [number, number, number, number, number, number];
    for (const [xc, yc] of o.pointsCm) {
      const x = xc / 100;
      const y = yc / 100;
      const nx = a * x + b * y + c;
      const ny = d * x + e * y + f;
      if (nx >= box[0] - r && nx <= box[2] + r && ny >= box[1] - r && ny <= box[3] + r) {
        out.push(key);
        break;
      }
    }
  }
  return out;
}
