/**
 * Mapbox Vector Tile 2.1 (https://github.com/mapbox/vector-tile-spec/tree/master/2.1): a small
 * protobuf encoder for the shapes the map publishes, and a decoder (used by the tests and by
 * anyone checking an export). No dependency: the schema is five messages.
 *
 *   Tile    { repeated Layer layers = 3 }
 *   Layer   { uint32 version = 15 (=2); string name = 1; repeated Feature features = 2;
 *             repeated string keys = 3; repeated Value values = 4; uint32 extent = 5 }
 *   Feature { uint64 id = 1; packed uint32 tags = 2; GeomType type = 3; packed uint32 geometry = 4 }
 *   Value   { string = 1 | double = 3 | uint64 = 5 | sint64 = 6 | bool = 7 } (float, int64 decoded only)
 *
 * Coordinates are integer tile coordinates: x east, y DOWN (screen order), 0..extent across the
 * tile; a shape may overhang the tile (values outside [0, extent)). Geometry commands: MoveTo (1),
 * LineTo (2), ClosePath (7), command integer `id | count << 3`, parameters zigzag-encoded deltas
 * from the previous cursor position. Exterior polygon rings are written clockwise in screen
 * coordinates (positive shoelace area with y down), without the closing vertex; consecutive
 * repeated points are dropped (the spec forbids zero-length LineTo). A line that rounds to a single
 * point is written one unit long along its main axis, so no published line disappears; a ring
 * that rounds to less than a triangle is dropped.
 */

export const MVT_VERSION = 2;
export const DEFAULT_EXTENT = 4096; // tile units across a tile

export type MvtValue = string | number | boolean;
export type MvtPoint = [number, number];

export type MvtGeometry = { type: 'Point'; points: MvtPoint[] } | { type: 'LineString'; lines: MvtPoint[][] } | { type: 'Polygon'; rings: MvtPoint[][] };

export interface MvtFeature {
  /** Optional numeric id (uint64; must be a safe integer >= 0). */
  id?: number;
  geometry: MvtGeometry;
  properties: Record<string, MvtValue | undefined>;
}

export interface MvtLayer {
  name: string;
  /** Tile units across a tile (default 4096). */
  extent?: number;
  features: MvtFeature[];
}

export interface DecodedFeature {
  id?: number;
  type: 'Point' | 'LineString' | 'Polygon' | 'Unknown';
  /** Point: one part per point; LineString: one part per line; Polygon: one part per ring (closed: first vertex repeated). */
  parts: MvtPoint[][];
  properties: Record<string, MvtValue>;
}

export interface DecodedLayer {
  name: string;
  version: number;
  extent: number;
  features: DecodedFeature[];
}

const GEOM_TYPE = { Unknown: 0, Point: 1, LineString: 2, Polygon: 3 } as const;
const MOVE_TO = 1;
const LINE_TO = 2;
const CLOSE_PATH = 7;

/** Encode layers into one (uncompressed) vector tile. Empty layers are left out. */
export function encodeTile(layers: readonly MvtLayer[]): Uint8Array {
  const w = new Writer();
  for (const layer of layers) {
    if (layer.features.length === 0) continue;
    w.message(3, (lw) => encodeLayer(lw, layer));
  }
  return w.finish();
}

function encodeLayer(w: Writer, layer: MvtLayer): void {
  const extent = layer.extent ?? DEFAULT_EXTENT;
  if (!Number.isInteger(extent) || extent <= 0) throw new RangeError(`layer ${layer.name}: extent must be a positive integer, got ${extent}`);
  const keys = new Map<string, number>();
  const values = new Map<string, number>();
  const valueList: MvtValue[] = [];
  w.uint(15, MVT_VERSION);
  w.string(1, layer.name);
  for (const f of layer.features) {
    const tags: number[] = [];
    for (const [k, v] of Object.entries(f.properties)) {
      if (v === undefined) continue;
      if (typeof v === 'number' && !Number.isFinite(v)) throw new RangeError(`layer ${layer.name}: property ${k} is not finite (${v})`);
      let ki = keys.get(k);
      if (ki === undefined) keys.set(k, (ki = keys.size));
      const vk = `${typeof v}:${String(v)}`;
      let vi = values.get(vk);
      if (vi === undefined) {
        values.set(vk, (vi = valueList.length));
        valueList.push(v);
      }
      tags.push(ki, vi);
    }
    const geometry = encodeGeometry(f.geometry);
    if (geometry.length === 0) continue; // degenerate after quantisation
    w.message(2, (fw) => {
      if (f.id !== undefined) {
        if (!Number.isSafeInteger(f.id) || f.id < 0) throw new RangeError(`layer ${layer.name}: feature id must be a safe integer >= 0, got ${f.id}`);
        fw.uint(1, f.id);
      }
      fw.packed(2, tags);
      fw.uint(3, GEOM_TYPE[f.geometry.type]);
      fw.packed(4, geometry);
    });
  }
  for (const k of keys.keys()) w.string(3, k);
  for (const v of valueList) w.message(4, (vw) => encodeValue(vw, v));
  w.uint(5, extent);
}

function encodeValue(w: Writer, v: MvtValue): void {
  if (typeof v === 'string') w.string(1, v);
  else if (typeof v === 'boolean') w.uint(7, v ? 1 : 0);
  else if (Number.isSafeInteger(v) && v >= 0) w.uint(5, v);
  else if (Number.isSafeInteger(v)) w.sint(6, v);
  else w.double(3, v);
}

/** Geometry command stream; empty when nothing valid is left after rounding. */
export function encodeGeometry(g: MvtGeometry): number[] {
  const out: number[] = [];
  let cx = 0;
  let cy = 0;
  const param = (x: number, y: number): void => {
    out.push(zigzag(x - cx), zigzag(y - cy));
    cx = x;
    cy = y;
  };
  if (g.type === 'Point') {
    const pts = g.points.map(roundPoint);
    if (pts.length === 0) return out;
    out.push(command(MOVE_TO, pts.length));
    for (const [x, y] of pts) param(x, y);
    return out;
  }
  if (g.type === 'LineString') {
    for (const line of g.lines) {
      const pts = dedupe(line.map(roundPoint));
      if (pts.length === 1 && line.length >= 2) {
        // Shorter than a tile unit: kept, one unit long along its main axis (not dropped).
        const dx = line[line.length - 1]![0] - line[0]![0];
        const dy = line[line.length - 1]![1] - line[0]![1];
        if (dx === 0 && dy === 0) continue;
        const [x0, y0] = pts[0]!;
        pts.push(Math.abs(dx) >= Math.abs(dy) ? [x0 + Math.sign(dx), y0] : [x0, y0 + Math.sign(dy)]);
      }
      if (pts.length < 2) continue;
      out.push(command(MOVE_TO, 1));
      param(pts[0]![0], pts[0]![1]);
      out.push(command(LINE_TO, pts.length - 1));
      for (let i = 1; i < pts.length; i++) param(pts[i]![0], pts[i]![1]);
    }
    return out;
  }
  g.rings.forEach((ring, ri) => {
    let pts = dedupe(ring.map(roundPoint));
    if (pts.length > 1 && samePoint(pts[0]!, pts[pts.length - 1]!)) pts = pts.slice(0, -1);
    if (pts.length < 3) return;
    const area = signedArea(pts);
    if (area === 0) return;
    // Exterior (first) ring clockwise on screen = positive area; interior rings the other way.
    if ((ri === 0) !== area > 0) pts.reverse();
    out.push(command(MOVE_TO, 1));
    param(pts[0]![0], pts[0]![1]);
    out.push(command(LINE_TO, pts.length - 1));
    for (let i = 1; i < pts.length; i++) param(pts[i]![0], pts[i]![1]);
    out.push(command(CLOSE_PATH, 1));
  });
  return out;
}

/** Decode one (uncompressed) vector tile. Refuses layers of a version other than 1 or 2. */
export function decodeTile(buf: Uint8Array): DecodedLayer[] {
  const layers: DecodedLayer[] = [];
  const r = new Reader(buf);
  while (!r.done()) {
    const [field, wire] = r.tag();
    if (field === 3 && wire === 2) layers.push(decodeLayer(r.sub()));
    else r.skip(wire);
  }
  return layers;
}

function decodeLayer(r: Reader): DecodedLayer {
  let name = '';
  let version = 1;
  let extent = DEFAULT_EXTENT;
  const keys: string[] = [];
  const values: MvtValue[] = [];
  const raw: Array<{ id?: number; tags: number[]; type: number; geometry: number[] }> = [];
  while (!r.done()) {
    const [field, wire] = r.tag();
    if (field === 15 && wire === 0) version = r.varint();
    else if (field === 1 && wire === 2) name = r.string();
    else if (field === 3 && wire === 2) keys.push(r.string());
    else if (field === 5 && wire === 0) extent = r.varint();
    else if (field === 4 && wire === 2) values.push(decodeValue(r.sub()));
    else if (field === 2 && wire === 2) {
      const fr = r.sub();
      const f: { id?: number; tags: number[]; type: number; geometry: number[] } = { tags: [], type: 0, geometry: [] };
      while (!fr.done()) {
        const [ff, fwire] = fr.tag();
        if (ff === 1 && fwire === 0) f.id = fr.varint();
        else if (ff === 2 && fwire === 2) f.tags = fr.packed();
        else if (ff === 3 && fwire === 0) f.type = fr.varint();
        else if (ff === 4 && fwire === 2) f.geometry = fr.packed();
        else fr.skip(fwire);
      }
      raw.push(f);
    } else r.skip(wire);
  }
  if (version !== 1 && version !== 2) throw new Error(`layer ${name}: got MVT v${version} data, expected v2`);
  const features = raw.map((f): DecodedFeature => {
    const properties: Record<string, MvtValue> = {};
    for (let i = 0; i + 1 < f.tags.length; i += 2) {
      const k = keys[f.tags[i]!];
      const v = values[f.tags[i + 1]!];
      if (k === undefined || v === undefined) throw new Error(`layer ${name}: feature tag index out of range`);
      properties[k] = v;
    }
    const type = (['Unknown', 'Point', 'LineString', 'Polygon'] as const)[f.type] ?? 'Unknown';
    return { ...(f.id !== undefined ? { id: f.id } : {}), type, parts: decodeGeometry(f.geometry, type), properties };
  });
  return { name, version, extent, features };
}

function decodeValue(r: Reader): MvtValue {
  let v: MvtValue = '';
  while (!r.done()) {
    const [field, wire] = r.tag();
    if (field === 1) v = r.string();
    else if (field === 2) v = r.float();
    else if (field === 3) v = r.double();
    else if (field === 4) v = r.varint(); // int64: non-negative values only here
    else if (field === 5) v = r.varint();
    else if (field === 6) v = unzigzag(r.varint());
    else if (field === 7) v = r.varint() !== 0;
    else r.skip(wire);
  }
  return v;
}

function decodeGeometry(cmds: readonly number[], type: DecodedFeature['type']): MvtPoint[][] {
  const parts: MvtPoint[][] = [];
  let cur: MvtPoint[] | undefined;
  let x = 0;
  let y = 0;
  for (let i = 0; i < cmds.length; ) {
    const c = cmds[i++]!;
    const id = c & 7;
    const count = c >>> 3;
    if (id === CLOSE_PATH) {
      if (cur && cur.length > 0) cur.push([cur[0]![0], cur[0]![1]]);
      continue;
    }
    if (id !== MOVE_TO && id !== LINE_TO) throw new Error(`unknown geometry command ${id}`);
    for (let k = 0; k < count; k++) {
      x += unzigzag(cmds[i++]!);
      y += unzigzag(cmds[i++]!);
      if (id === MOVE_TO) parts.push((cur = [[x, y]]));
      else if (cur) cur.push([x, y]);
      else throw new Error(`${type}: LineTo before MoveTo`);
    }
  }
  return parts;
}

/** Signed shoelace area in tile coordinates (y down): > 0 for a clockwise ring on screen. */
export function signedArea(ring: readonly MvtPoint[]): number {
  let a = 0;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) a += ring[j]![0] * ring[i]![1] - ring[i]![0] * ring[j]![1];
  return a / 2;
}

// --- helpers ---

function command(id: number, count: number): number {
  return (id & 7) | (count << 3);
}

function zigzag(n: number): number {
  return n >= 0 ? n * 2 : -n * 2 - 1;
}

function unzigzag(n: number): number {
  return n % 2 === 0 ? n / 2 : -(n + 1) / 2;
}

function roundPoint(p: MvtPoint): MvtPoint {
  return [Math.round(p[0]), Math.round(p[1])];
}

function samePoint(a: MvtPoint, b: MvtPoint): boolean {
  return a[0] === b[0] && a[1] === b[1];
}

function dedupe(pts: MvtPoint[]): MvtPoint[] {
  return pts.filter((p, i) => i === 0 || !samePoint(p, pts[i - 1]!));
}

/** Protobuf writer: varints without 32-bit bitwise ops, so values up to 2^53 survive. */
class Writer {
  private bytes: number[] = [];

  finish(): Uint8Array {
    return Uint8Array.from(this.bytes);
  }

  private rawVarint(n: number): void {
    while (n >= 0x80) {
      this.bytes.push((n % 0x80) | 0x80);
      n = Math.floor(n / 0x80);
    }
    this.bytes.push(n);
  }

  private key(field: number, wire: number): void {
    this.rawVarint(field * 8 + wire);
  }

  uint(field: number, n: number): void {
    this.key(field, 0);
    this.rawVarint(n);
  }

  sint(field: number, n: number): void {
    this.uint(field, zigzag(n));
  }

  double(field: number, v: number): void {
    this.key(field, 1);
    const b = Buffer.alloc(8);
    b.writeDoubleLE(v);
    this.bytes.push(...b);
  }

  string(field: number, s: string): void {
    this.bytesField(field, Buffer.from(s, 'utf8'));
  }

  packed(field: number, ns: readonly number[]): void {
    if (ns.length === 0) return;
    const w = new Writer();
    for (const n of ns) w.rawVarint(n);
    this.bytesField(field, w.finish());
  }

  message(field: number, fill: (w: Writer) => void): void {
    const w = new Writer();
    fill(w);
    this.bytesField(field, w.finish());
  }

  private bytesField(field: number, b: Uint8Array): void {
    this.key(field, 2);
    this.rawVarint(b.length);
    for (const x of b) this.bytes.push(x);
  }
}

class Reader {
  private pos = 0;
  constructor(private readonly buf: Uint8Array) {}

  done(): boolean {
    return this.pos >= this.buf.length;
  }

  varint(): number {
    let n = 0;
    let mul = 1;
    for (;;) {
      if (this.pos >= this.buf.length) throw new Error('truncated varint');
      const b = this.buf[this.pos++]!;
      n += (b & 0x7f) * mul;
      if (b < 0x80) return n;
      mul *= 0x80;
    }
  }

  tag(): [number, number] {
    const t = this.varint();
    return [Math.floor(t / 8), t % 8];
  }

  sub(): Reader {
    const len = this.varint();
    if (this.pos + len > this.buf.length) throw new Error('truncated message');
    const r = new Reader(this.buf.subarray(this.pos, this.pos + len));
    this.pos += len;
    return r;
  }

  string(): string {
    const len = this.varint();
    const s = Buffer.from(this.buf.subarray(this.pos, this.pos + len)).toString('utf8');
    this.pos += len;
    return s;
  }

  packed(): number[] {
    const r = this.sub();
    const out: number[] = [];
    while (!r.done()) out.push(r.varint());
    return out;
  }

  double(): number {
    const v = Buffer.from(this.buf.subarray(this.pos, this.pos + 8)).readDoubleLE(0);
    this.pos += 8;
    return v;
  }

  float(): number {
    const v = Buffer.from(this.buf.subarray(this.pos, this.pos + 4)).readFloatLE(0);
    this.pos += 4;
    return v;
  }

  skip(wire: number): void {
    if (wire === 0) this.varint();
    else if (wire === 1) this.pos += 8;
    else if (wire === 2) this.pos += this.varint();
    else if (wire === 5) this.pos += 4;
    else throw new Error(`unsupported protobuf wire type ${wire}`);
  }
}
