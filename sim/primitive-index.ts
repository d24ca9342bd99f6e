/**
 * A uniform-grid spatial index over map primitives, for "what lies near this pose" queries
 * thousands of times per second.
 *
 * Vertices of all primitives live in two flat Float64Arrays (metres, map frame). Each polyline
 * is cut into chunks of at most `chunkM` of arc length (vertex ranges); a chunk is listed in
 * every grid cell its bounding box touches. A query returns, per primitive touched, the
 * smallest vertex range covering all its chunks in the box.
 */
import type { Primitive } from '../shared/schema.ts';

export interface PrimitiveIndexOptions {
  /** Grid cell size, metres. */
  cellM: number;
  /** Longest chunk of a polyline, metres of arc length. */
  chunkM: number;
}

export const DEFAULT_PRIMITIVE_INDEX_OPTIONS: PrimitiveIndexOptions = {
  cellM: 20, // m
  chunkM: 10, // m
};

export interface RangeHit {
  /** Index into the primitives given to the constructor. */
  primitive: number;
  /** First and last vertex (inclusive) in the flat arrays `xs`/`ys`. */
  from: number;
  to: number;
}

export class PrimitiveIndex {
  readonly xs: Float64Array;
  readonly ys: Float64Array;
  /** Per primitive: first vertex in xs/ys and vertex count. */
  readonly start: Int32Array;
  readonly count: Int32Array;
  private readonly cellM: number;
  private readonly cells = new Map<number, number[]>();
  private readonly chunkPrim: Int32Array;
  private readonly chunkFrom: Int32Array;
  private readonly chunkTo: Int32Array;
  private readonly stamp: Uint32Array;
  private stampNow = 0;
  private readonly hitFrom: Int32Array;
  private readonly hitTo: Int32Array;
  private readonly hitStamp: Uint32Array;

  constructor(primitives: readonly Primitive[], options: Partial<PrimitiveIndexOptions> = {}) {
    const o = { ...DEFAULT_PRIMITIVE_INDEX_OPTIONS, ...options };
    if (!(o.cellM > 0)) throw new RangeError(`cellM must be > 0 metres, got ${o.cellM}`);
    if (!(o.chunkM > 0)) throw new RangeError(`chunkM must be > 0 metres, got ${o.chunkM}`);
    this.cellM = o.cellM;
    let total = 0;
    for (const p of primitives) total += p.points.length;
    this.xs = new Float64Array(total);
    this.ys = new Float64Array(total);
    this.start = new Int32Array(primitives.length);
    this.count = new Int32Array(primitives.length);
    const chunkPrim: number[] = [];
    const chunkFrom: number[] = [];
    const chunkTo: number[] = [];
    let v = 0;
    primitives.forEach((p, pi) => {
      this.start[pi] = v;
      this.count[pi] = p.points.length;
      for (const q of p.points) {
        this.xs[v] = q[0];
        this.ys[v] = q[1];
        v++;
      }
      const first = this.start[pi]!;
      const last = v - 1;
      if (p.cls === 'crosswalk' || first === last) {
        // Polygons and points: one chunk with all vertices.
        chunkPrim.push(pi);
        chunkFrom.push(first);
        chunkTo.push(last);
        return;
      }
      let a = first;
      let len = 0;
      for (let i = first + 1; i <= last; i++) {
        len += Math.hypot(this.xs[i]! - this.xs[i - 1]!, this.ys[i]! - this.ys[i - 1]!);
        if (len >= o.chunkM || i === last) {
          chunkPrim.push(pi);
          chunkFrom.push(a);
          chunkTo.push(i);
          a = i;
          len = 0;
        }
      }
    });
    this.chunkPrim = Int32Array.from(chunkPrim);
    this.chunkFrom = Int32Array.from(chunkFrom);
    this.chunkTo = Int32Array.from(chunkTo);
    this.stamp = new Uint32Array(chunkPrim.length);
    this.hitFrom = new Int32Array(primitives.length);
    this.hitTo = new Int32Array(primitives.length);
    this.hitStamp = new Uint32Array(primitives.length);
    for (let c = 0; c < chunkPrim.length; c++) {
      let minX = Infinity;
      let minY = Infinity;
      let maxX = -Infinity;
      let maxY = -Infinity;
      for (let i = this.chunkFrom[c]!; i <= this.chunkTo[c]!; i++) {
        minX = Math.min(minX, this.xs[i]!);
        maxX = Math.max(maxX, this.xs[i]!);
        minY = Math.min(minY, this.ys[i]!);
        maxY = Math.max(maxY, this.ys[i]!);
      }
      this.forCells(minX, minY, maxX, maxY, (key) => {
        const list = this.cells.get(key);
        if (list) list.push(c);
        else this.cells.set(key, [c]);
      });
    }
  }

  /** Primitives with a chunk whose bounding box may intersect the box (metres, map frame). */
  query(minX: number, minY: number, maxX: number, maxY: number): RangeHit[] {
    this.stampNow = (this.stampNow + 1) >>> 0 || 1;
    const now = this.stampNow;
    const prims: number[] = [];
    this.forCells(minX, minY, maxX, maxY, (key) => {
      const list = this.cells.get(key);
      if (!list) return;
      for (const c of list) {
        if (this.stamp[c] === now) continue;
        this.stamp[c] = now;
        const p = this.chunkPrim[c]!;
        if (this.hitStamp[p] !== now) {
          this.hitStamp[p] = now;
          this.hitFrom[p] = this.chunkFrom[c]!;
          this.hitTo[p] = this.chunkTo[c]!;
          prims.push(p);
        } else {
          if (this.chunkFrom[c]! < this.hitFrom[p]!) this.hitFrom[p] = this.chunkFrom[c]!;
          if (this.chunkTo[c]! > this.hitTo[p]!) this.hitTo[p] = this.chunkTo[c]!;
        }
      }
    });
    prims.sort((a, b) => a - b);
    return prims.map((p) => ({ primitive: p, from: this.hitFrom[p]!, to: this.hitTo[p]! }));
  }

  private forCells(minX: number, minY: number, maxX: number, maxY: number, fn: (key: number) => void): void {
    const cx0 = Math.floor(minX / this.cellM);
    const cx1 = Math.floor(maxX / this.cellM);
    const cy0 = Math.floor(minY / this.cellM);
    const cy1 = Math.floor(maxY / this.cellM);
    for (let cx = cx0; cx <= cx1; cx++) for (let cy = cy0; cy <= cy1; cy++) fn(cellKey(cx, cy));
  }
}

/** Cells are addressed by integer (cx, cy) in +-2^20 (over 20,000 km at 20 m cells). */
function cellKey(cx: number, cy: number): number {
  return (cx + 1048576) * 2097152 + (cy + 1048576);
}
