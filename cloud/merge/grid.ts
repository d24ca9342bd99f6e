/**
 * Uniform grid indexes over points in one local metric frame (metres): the only spatial
 * index of the merge, so nothing is all-pairs.
 *
 * `PointGrid` is static (built once over typed arrays, cells as ranges of one sorted order:
 * dense prefix sums over the bounding box, or per row the points' columns where the points are
 * few for the area they span, as signs over a city are); `DynamicGrid` takes insertions
 * (consensus vertices as clusters are found). Also the stable radix order both the sparse
 * layout and the point clustering sort by (`stableOrderByKey`).
 */

export const CELL_OFFSET = 1 << 20;
export const CELL_SPAN = 1 << 21;

/** Key of integer cell (cx, cy); cells within +-2^20 of the origin. */
export function cellKey(cx: number, cy: number): number {
  return (cx + CELL_OFFSET) * CELL_SPAN + (cy + CELL_OFFSET);
}

/**
 * Dense cells while the points' bounding box has at most this many cells per point (plus
 * DENSE_SLACK_CELLS): a row's cells are then ranges of one prefix-sum array. Sparser points
 * (a few signs spread over kilometres) keep per row only the points' columns, searched by
 * bisection, so memory follows the points, not the area they span.
 */
const DENSE_CELLS_PER_POINT = 8;
const DENSE_SLACK_CELLS = 1 << 12;
/** At most this many rows (cells along y) in either layout. */
const MAX_ROWS = 1 << 24;

export class PointGrid {
  readonly cellM: number;
  private readonly x: Float64Array;
  private readonly y: Float64Array;
  /** Point indices sorted by row, then column, then insertion (a stable sort). */
  private readonly order: Int32Array;
  /**
   * Dense: cells over the points' bounding box, points of cell c are order[start[c] .. start[c + 1]).
   * Sparse: rows, points of row r are order[start[r] .. start[r + 1]), their columns in `col`.
   */
  private readonly start: Int32Array;
  /** Sparse layout only: the column (from cx0) of order[k]; null for dense cells. */
  private readonly col: Int32Array | null;
  private readonly cx0: number;
  private readonly cy0: number;
  private readonly w: number;
  private readonly h: number;
  private readonly box = new Int32Array(4);
  /** Scratch of `collectCandidates`. */
  private readonly query = new Float64Array(3);
  /** Scratch of `rowSpan`: [first, end) in `order` of one row's cells x0..x1. */
  private readonly span = new Int32Array(2);

  /** Index `ids` (default 0..n-1) of points (x[i], y[i]). */
  constructor(x: Float64Array, y: Float64Array, cellM: number, ids?: Int32Array) {
    if (!(cellM > 0)) throw new RangeError(`grid cellM must be > 0, got ${cellM}`);
    this.cellM = cellM;
    this.x = x;
    this.y = y;
    const n = ids ? ids.length : x.length;
    const at = (k: number): number => (ids ? ids[k]! : k);
    let minX = Infinity;
    let minY = Infinity;
    let maxX = -Infinity;
    let maxY = -Infinity;
    for (let k = 0; k < n; k++) {
      const i = at(k);
      const cx = Math.floor(x[i]! / cellM);
      const cy = Math.floor(y[i]! / cellM);
      if (cx < minX) minX = cx;
      if (cx > maxX) maxX = cx;
      if (cy < minY) minY = cy;
      if (cy > maxY) maxY = cy;
    }
    if (!n) minX = minY = maxX = maxY = 0;
    this.cx0 = minX;
    this.cy0 = minY;
    this.w = maxX - minX + 1;
    this.h = maxY - minY + 1;
    if (!(this.h <= MAX_ROWS) || !(this.w <= MAX_ROWS)) throw new RangeError(`grid of ${this.w} x ${this.h} cells of ${cellM} m is too large: points span too far`);
    const dense = this.w * this.h <= DENSE_CELLS_PER_POINT * n + DENSE_SLACK_CELLS;
    // A stable counting sort by cell (dense) or by row (sparse), the sparse one visiting the
    // points in column order (a stable radix sort), so each row's points lie by column.
    const buckets = dense ? this.w * this.h : this.h;
    const keyOf = new Int32Array(n);
    const colOf = dense ? null : new Uint32Array(n);
    const start = new Int32Array(buckets + 1);
    for (let k = 0; k < n; k++) {
      const i = at(k);
      const row = Math.floor(y[i]! / cellM) - minY;
      const column = Math.floor(x[i]! / cellM) - minX;
      const c = dense ? row * this.w + column : row;
      if (colOf) colOf[k] = column;
      keyOf[k] = c;
      start[c + 1] = start[c + 1]! + 1;
    }
    for (let c = 0; c < buckets; c++) start[c + 1] = start[c + 1]! + start[c]!;
    const fill = start.slice(0, buckets);
    const visit = colOf ? stableOrderByKey(colOf, identityOrder(n)) : null;
    this.order = new Int32Array(n);
    this.col = colOf ? new Int32Array(n) : null;
    for (let j = 0; j < n; j++) {
      const k = visit ? visit[j]! : j;
      const c = keyOf[k]!;
      const f = fill[c]!;
      this.order[f] = at(k);
      if (this.col) this.col[f] = colOf![k]!;
      fill[c] = f + 1;
    }
    this.start = start;
  }

  /** Cell columns x0..x1 and rows y0..y1 (clamped) overlapping the disc (px, py, r), in a reused array. */
  private cellBox(px: number, py: number, r: number): Int32Array {
    const c = this.cellM;
    const b = this.box;
    b[0] = Math.max(0, Math.floor((px - r) / c) - this.cx0);
    b[1] = Math.min(this.w - 1, Math.floor((px + r) / c) - this.cx0);
    b[2] = Math.max(0, Math.floor((py - r) / c) - this.cy0);
    b[3] = Math.min(this.h - 1, Math.floor((py + r) / c) - this.cy0);
    return b;
  }

  /**
   * [first, end) in `order` of row cy's cells x0..x1, in `span` (empty when x1 < x0: a disc off
   * the grid's side).
   */
  private rowSpan(cy: number, x0: number, x1: number): Int32Array {
    const sp = this.span;
    const col = this.col;
    if (x1 < x0) {
      sp[0] = sp[1] = 0;
      return sp;
    }
    if (col === null) {
      sp[0] = this.start[cy * this.w + x0]!;
      sp[1] = this.start[cy * this.w + x1 + 1]!;
      return sp;
    }
    sp[0] = lowerBound(col, this.start[cy]!, this.start[cy + 1]!, x0);
    sp[1] = lowerBound(col, sp[0], this.start[cy + 1]!, x1 + 1);
    return sp;
  }

  /** Calls fn(i) for every indexed point in the cells overlapping the disc (px, py, r); callers test distance. */
  forEachCandidate(px: number, py: number, r: number, fn: (i: number) => void): void {
    const box = this.cellBox(px, py, r);
    const x0 = box[0]!;
    const x1 = box[1]!;
    const y0 = box[2]!;
    const y1 = box[3]!;
    const order = this.order;
    for (let cy = y0; cy <= y1; cy++) {
      // Cells of one row are contiguous in `order`.
      const sp = this.rowSpan(cy, x0, x1);
      const b = sp[1]!;
      for (let k = sp[0]!; k < b; k++) fn(order[k]!);
    }
  }

  /**
   * Indices of every indexed point in the cells overlapping the disc (px, py, r), in the order
   * `forEachCandidate` visits them, written to out.buf from index 0; returns the count (grows
   * out.buf as needed). Callers test distance; no callback, no allocation in the common case.
   */
  collectCandidates(px: number, py: number, r: number, out: { buf: Int32Array }): number {
    const q = this.query;
    q[0] = px;
    q[1] = py;
    q[2] = r;
    return this.collectCandidatesOf(q, out);
  }

  /**
   * `collectCandidates` of the disc [px, py, r] = query[0..2]: numbers read from a typed array,
   * not passed as arguments (V8 boxes each one passed to a call it does not inline).
   */
  collectCandidatesOf(query: Float64Array, out: { buf: Int32Array }): number {
    const px = query[0]!;
    const py = query[1]!;
    const r = query[2]!;
    const c = this.cellM;
    const x0 = Math.max(0, Math.floor((px - r) / c) - this.cx0);
    const x1 = Math.min(this.w - 1, Math.floor((px + r) / c) - this.cx0);
    const y0 = Math.max(0, Math.floor((py - r) / c) - this.cy0);
    const y1 = Math.min(this.h - 1, Math.floor((py + r) / c) - this.cy0);
    const order = this.order;
    let n = 0;
    for (let cy = y0; cy <= y1; cy++) {
      const sp = this.rowSpan(cy, x0, x1);
      const a = sp[0]!;
      const b = sp[1]!;
      if (n + b - a > out.buf.length) {
        const g = new Int32Array(Math.max(2 * out.buf.length, n + b - a));
        g.set(out.buf.subarray(0, n));
        out.buf = g;
      }
      const buf = out.buf;
      for (let k = a; k < b; k++) buf[n++] = order[k]!;
    }
    return n;
  }

  /**
   * Indices of the points within r of (px, py), written to out.buf from index `from`; returns
   * the new count (grows out.buf as needed). No callback, no allocation in the common case.
   */
  collectWithin(px: number, py: number, r: number, out: { buf: Int32Array }, from = 0): number {
    const c = this.cellM;
    const r2 = r * r;
    const x0 = Math.max(0, Math.floor((px - r) / c) - this.cx0);
    const x1 = Math.min(this.w - 1, Math.floor((px + r) / c) - this.cx0);
    const y0 = Math.max(0, Math.floor((py - r) / c) - this.cy0);
    const y1 = Math.min(this.h - 1, Math.floor((py + r) / c) - this.cy0);
    let n = from;
    for (let cy = y0; cy <= y1; cy++) {
      const sp = this.rowSpan(cy, x0, x1);
      const b = sp[1]!;
      for (let k = sp[0]!; k < b; k++) {
        const i = this.order[k]!;
        const dx = this.x[i]! - px;
        const dy = this.y[i]! - py;
        if (dx * dx + dy * dy > r2) continue;
        if (n === out.buf.length) {
          const g = new Int32Array(out.buf.length * 2);
          g.set(out.buf);
          out.buf = g;
        }
        out.buf[n++] = i;
      }
    }
    return n;
  }

  /**
   * Drops the indexed points for which keep(i) is false (for good: no query sees them again);
   * the others keep their order, so every query visits them as before.
   */
  retain(keep: (i: number) => boolean): void {
    const st = this.start;
    const order = this.order;
    const col = this.col;
    const buckets = st.length - 1;
    let n = 0;
    let a = st[0]!;
    for (let c = 0; c < buckets; c++) {
      const b = st[c + 1]!;
      st[c] = n;
      for (let k = a; k < b; k++) {
        const i = order[k]!;
        if (!keep(i)) continue;
        if (col !== null) col[n] = col[k]!;
        order[n++] = i;
      }
      a = b;
    }
    st[buckets] = n;
  }

  /** Calls fn(i, d2) for indexed points within r of (px, py). */
  forEachWithin(px: number, py: number, r: number, fn: (i: number, d2: number) => void): void {
    const r2 = r * r;
    const x = this.x;
    const y = this.y;
    this.forEachCandidate(px, py, r, (i) => {
      const dx = x[i]! - px;
      const dy = y[i]! - py;
      const d2 = dx * dx + dy * dy;
      if (d2 <= r2) fn(i, d2);
    });
  }
}

/** First k in [a, b) with v[k] >= want (v ascending there); b if none. */
function lowerBound(v: Int32Array, a: number, b: number, want: number): number {
  let lo = a;
  let hi = b;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (v[mid]! < want) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** A grid that takes insertions of (x, y, payload). */
export class DynamicGrid {
  readonly cellM: number;
  private readonly cells = new Map<number, number[]>();

  constructor(cellM: number) {
    if (!(cellM > 0)) throw new RangeError(`grid cellM must be > 0, got ${cellM}`);
    this.cellM = cellM;
  }

  /** Stores [x, y, payload] triples flat in the cell's array. */
  insert(x: number, y: number, payload: number): void {
    const key = cellKey(Math.floor(x / this.cellM), Math.floor(y / this.cellM));
    let a = this.cells.get(key);
    if (!a) this.cells.set(key, (a = []));
    a.push(x, y, payload);
  }

  forEachWithin(px: number, py: number, r: number, fn: (payload: number, d2: number) => void): void {
    const c = this.cellM;
    const r2 = r * r;
    for (let cx = Math.floor((px - r) / c); cx <= Math.floor((px + r) / c); cx++) {
      for (let cy = Math.floor((py - r) / c); cy <= Math.floor((py + r) / c); cy++) {
        const a = this.cells.get(cellKey(cx, cy));
        if (!a) continue;
        for (let k = 0; k < a.length; k += 3) {
          const dx = a[k]! - px;
          const dy = a[k + 1]! - py;
          const d2 = dx * dx + dy * dy;
          if (d2 <= r2) fn(a[k + 2]!, d2);
        }
      }
    }
  }
}

/** 0, 1, ..., n - 1. */
export function identityOrder(n: number): Int32Array {
  const out = new Int32Array(n);
  for (let k = 0; k < n; k++) out[k] = k;
  return out;
}

const RADIX_BITS = 11;
const RADIX_MASK = (1 << RADIX_BITS) - 1;
const RADIX_COUNT = new Int32Array((1 << RADIX_BITS) + 1);

/**
 * The indices of `order` (into `key`) stably re-ordered by key, ascending (or descending): equal
 * keys keep their order in `order`. A least-significant-digit radix sort, three passes of 11
 * bits; reuses `order`'s buffer or returns a new one.
 */
export function stableOrderByKey(key: Uint32Array, order: Int32Array, descending = false): Int32Array {
  let src: Int32Array = order;
  let dst: Int32Array = new Int32Array(order.length);
  const count = RADIX_COUNT;
  const flip = descending ? -1 : 0;
  for (let shift = 0; shift < 32; shift += RADIX_BITS) {
    count.fill(0);
    for (let j = 0; j < src.length; j++) {
      const d = ((key[src[j]!]! ^ flip) >>> shift) & RADIX_MASK;
      count[d + 1] = count[d + 1]! + 1;
    }
    for (let d = 0; d < RADIX_MASK + 1; d++) count[d + 1] = count[d + 1]! + count[d]!;
    for (let j = 0; j < src.length; j++) {
      const i = src[j]!;
      const d = ((key[i]! ^ flip) >>> shift) & RADIX_MASK;
      dst[count[d]!] = i;
      count[d] = count[d]! + 1;
    }
    const t = src;
    src = dst;
    dst = t;
  }
  return src;
}
