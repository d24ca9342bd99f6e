/**
 * A uniform grid over line segments for "nearest segment within r" queries, so that scoring a
 * city-scale map (tens of kilometres of lines) never compares all pairs.
 *
 * Coordinates are `[eastM, northM]` in one local metric frame. A point primitive is stored as a
 * zero-length segment. Each segment is registered in every cell its path crosses (walked in
 * chunks no longer than a cell, so a 100 m segment costs ~25 cells, not its whole bounding box),
 * and queries always measure against the original segment, so the foot parameter `t` is real:
 * `t` of 0 or 1 means the foot is a true vertex, never an artefact of the grid.
 */
import type { XY } from '../../shared/schema.ts';

/** A line to index: vertices in order; `closed` rings must already repeat their first vertex. */
export interface IndexedLine {
  points: readonly XY[];
  /** True for a closed ring: it has no open ends. */
  closed: boolean;
}

export interface NearestHit {
  /** Distance from the query point to the nearest segment, metres. */
  distM: number;
  /** Foot point on that segment, `[eastM, northM]`. */
  footX: number;
  footY: number;
  /** Segment parameter of the foot in [0, 1]. */
  t: number;
  /** Segment id (index in insertion order). */
  seg: number;
  /** Index of the line (in the array given to the constructor) the segment belongs to. */
  line: number;
  /** The foot lies beyond an open end of its line (t clamped at the first or last vertex). */
  beyondEnd: boolean;
  /** Unit direction of the segment (0, 0 for a point). */
  dirX: number;
  dirY: number;
}

const KEY_OFFSET = 2 ** 24; // cells; with 1 m cells that is +-16,000 km
const KEY_SPAN = 2 ** 25;

export class SegmentGrid {
  /** Cell edge, metres. */
  readonly cellM: number;
  readonly segmentCount: number;
  private readonly ax: Float64Array;
  private readonly ay: Float64Array;
  private readonly bx: Float64Array;
  private readonly by: Float64Array;
  private readonly owner: Int32Array;
  /** Bit 1: first segment of an open line; bit 2: last segment of an open line. */
  private readonly openEnds: Uint8Array;
  private readonly cells = new Map<number, number[]>();

  constructor(lines: readonly IndexedLine[], cellM: number) {
    if (!(cellM > 0) || !Number.isFinite(cellM)) throw new RangeError(`cellM must be a finite number > 0, got ${cellM}`);
    this.cellM = cellM;
    let n = 0;
    for (const l of lines) n += Math.max(1, l.points.length - 1);
    this.ax = new Float64Array(n);
    this.ay = new Float64Array(n);
    this.bx = new Float64Array(n);
    this.by = new Float64Array(n);
    this.owner = new Int32Array(n);
    this.openEnds = new Uint8Array(n);
    let s = 0;
    lines.forEach((l, li) => {
      const pts = l.points;
      if (pts.length === 0) return;
      if (pts.length === 1) {
        const p = pts[0]!;
        this.addSegment(s++, p, p, li, 0);
        return;
      }
      for (let i = 1; i < pts.length; i++) {
        let ends = 0;
        if (!l.closed && i === 1) ends |= 1;
        if (!l.closed && i === pts.length - 1) ends |= 2;
        this.addSegment(s++, pts[i - 1]!, pts[i]!, li, ends);
      }
    });
    this.segmentCount = s;
  }

  /** Parameter in [0, 1] of the foot point found by the last segDist2 call. */
  private footT = 0;

  /** Squared distance from (x, y) to segment s; leaves the foot's parameter in `footT`. */
  private segDist2(s: number, x: number, y: number): number {
    const ax = this.ax[s]!;
    const ay = this.ay[s]!;
    const vx = this.bx[s]! - ax;
    const vy = this.by[s]! - ay;
    const wx = x - ax;
    const wy = y - ay;
    const len2 = vx * vx + vy * vy;
    let t = len2 > 0 ? (wx * vx + wy * vy) / len2 : 0;
    t = t < 0 ? 0 : t > 1 ? 1 : t;
    this.footT = t;
    const dx = wx - vx * t;
    const dy = wy - vy * t;
    return dx * dx + dy * dy;
  }

  /** The nearest segment within `radiusM` of (x, y), or null. */
  nearest(x: number, y: number, radiusM: number): NearestHit | null {
    let best = radiusM * radiusM;
    let bestSeg = -1;
    let bestT = 0;
    const c = this.cellM;
    const ix0 = Math.floor((x - radiusM) / c);
    const ix1 = Math.floor((x + radiusM) / c);
    const iy0 = Math.floor((y - radiusM) / c);
    const iy1 = Math.floor((y + radiusM) / c);
    for (let ix = ix0; ix <= ix1; ix++) {
      for (let iy = iy0; iy <= iy1; iy++) {
        const list = this.cells.get(cellKey(ix, iy));
        if (list === undefined) continue;
        for (const s of list) {
          const d2 = this.segDist2(s, x, y);
          if (d2 <= best) {
            best = d2;
            bestSeg = s;
            bestT = this.footT;
          }
        }
      }
    }
    if (bestSeg < 0) return null;
    const ax = this.ax[bestSeg]!;
    const ay = this.ay[bestSeg]!;
    const vx = this.bx[bestSeg]! - ax;
    const vy = this.by[bestSeg]! - ay;
    const len = Math.hypot(vx, vy);
    const ends = this.openEnds[bestSeg]!;
    const distM = Math.sqrt(best);
    const beyondEnd = distM > 1e-9 && len > 0 && ((bestT === 0 && (ends & 1) !== 0) || (bestT === 1 && (ends & 2) !== 0));
    return {
      distM,
      footX: ax + vx * bestT,
      footY: ay + vy * bestT,
      t: bestT,
      seg: bestSeg,
      line: this.owner[bestSeg]!,
      beyondEnd,
      dirX: len > 0 ? vx / len : 0,
      dirY: len > 0 ? vy / len : 0,
    };
  }

  /** True when some segment lies within `radiusM` of (x, y) (stops at the first one found). */
  anyWithin(x: number, y: number, radiusM: number): boolean {
    const r2 = radiusM * radiusM;
    const c = this.cellM;
    const ix0 = Math.floor((x - radiusM) / c);
    const ix1 = Math.floor((x + radiusM) / c);
    const iy0 = Math.floor((y - radiusM) / c);
    const iy1 = Math.floor((y + radiusM) / c);
    for (let ix = ix0; ix <= ix1; ix++) {
      for (let iy = iy0; iy <= iy1; iy++) {
        const list = this.cells.get(cellKey(ix, iy));
        if (list === undefined) continue;
        for (const s of list) {
          if (this.segDist2(s, x, y) <= r2) return true;
        }
      }
    }
    return false;
  }

  /** Ids of the lines with a segment in a cell touching the box (a superset of those within it). */
  linesNear(minX: number, minY: number, maxX: number, maxY: number): Set<number> {
    const out = new Set<number>();
    const c = this.cellM;
    for (let ix = Math.floor(minX / c); ix <= Math.floor(maxX / c); ix++) {
      for (let iy = Math.floor(minY / c); iy <= Math.floor(maxY / c); iy++) {
        const list = this.cells.get(cellKey(ix, iy));
        if (list !== undefined) for (const s of list) out.add(this.owner[s]!);
      }
    }
    return out;
  }

  private addSegment(s: number, a: XY, b: XY, line: number, ends: number): void {
    this.ax[s] = a[0];
    this.ay[s] = a[1];
    this.bx[s] = b[0];
    this.by[s] = b[1];
    this.owner[s] = line;
    this.openEnds[s] = ends;
    const c = this.cellM;
    const len = Math.hypot(b[0] - a[0], b[1] - a[1]);
    const chunks = Math.max(1, Math.ceil(len / c));
    for (let k = 0; k < chunks; k++) {
      const t0 = k / chunks;
      const t1 = (k + 1) / chunks;
      const x0 = a[0] + (b[0] - a[0]) * t0;
      const y0 = a[1] + (b[1] - a[1]) * t0;
      const x1 = a[0] + (b[0] - a[0]) * t1;
      const y1 = a[1] + (b[1] - a[1]) * t1;
      for (let ix = Math.floor(Math.min(x0, x1) / c); ix <= Math.floor(Math.max(x0, x1) / c); ix++) {
        for (let iy = Math.floor(Math.min(y0, y1) / c); iy <= Math.floor(Math.max(y0, y1) / c); iy++) {
          const key = cellKey(ix, iy);
          const list = this.cells.get(key);
          if (list === undefined) this.cells.set(key, [s]);
          else if (list[list.length - 1] !== s) list.push(s);
        }
      }
    }
  }
}

/** A numeric key for cell (ix, iy); exact for |ix|, |iy| < 2^24. */
export function cellKey(ix: number, iy: number): number {
  return (ix + KEY_OFFSET) * KEY_SPAN + (iy + KEY_OFFSET);
}

/** Inverse of cellKey. */
export function cellOfKey(key: number): { ix: number; iy: number } {
  const ixo = Math.floor(key / KEY_SPAN);
  return { ix: ixo - KEY_OFFSET, iy: key - ixo * KEY_SPAN - KEY_OFFSET };
}
