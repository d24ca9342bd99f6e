/**
 * Cutting city-scale primitives into MapTR-sized instances.
 *
 * MapTR scores local patches (nuScenes: 60 m x 30 m around the ego car), so its instances are
 * tens of metres long. A merged city map has boundaries hundreds of metres long; scoring such a
 * line as one instance would let one bad stretch fail (or one good stretch pass) the whole line.
 * We therefore cut ground truth and predictions alike on one fixed square grid of patches and
 * match only within a patch. Both sides are cut by the same rule, so a perfect map stays perfect.
 *
 * Geometry: `[eastM, northM]` in the caller's local metric frame. Crosswalks are compared as
 * their closed boundary ring (first vertex repeated at the end).
 */
import { CLASS_GEOMETRY, type Primitive, type XY } from '../../shared/schema.ts';
import { bboxOf, resampleCount, type BBox } from '../../shared/geometry.ts';
import { cellKey } from './grid_index.ts';

/** One piece of a primitive inside one grid cell. */
export interface GridPiece {
  /** Cell indices: cell (ix, iy) spans [origin + ix * cellM, origin + (ix + 1) * cellM). */
  ix: number;
  iy: number;
  /** Vertices of the piece, `[eastM, northM]`; a whole closed ring repeats its first vertex. */
  points: Array<[number, number]>;
  lengthM: number;
  /** The piece is a whole closed ring (so it has no open ends). */
  closed: boolean;
  /** The primitive was cut into more than one piece (this piece is a fragment). */
  cut: boolean;
}

/** A primitive's geometry as a line: polylines as given, crosswalks as their closed ring. */
export function lineOf(p: Primitive): { points: Array<[number, number]>; closed: boolean } {
  const pts: Array<[number, number]> = p.points.map((q) => [q[0], q[1]]);
  if (CLASS_GEOMETRY[p.cls] === 'polygon' && pts.length >= 3) {
    const first = pts[0]!;
    const last = pts[pts.length - 1]!;
    if (first[0] !== last[0] || first[1] !== last[1]) pts.push([first[0], first[1]]);
    return { points: pts, closed: true };
  }
  return { points: pts, closed: false };
}

/**
 * Cut a polyline at the lines x = ox + k * cellM and y = oy + k * cellM. Consecutive stretches
 * in the same cell form one piece; a line that leaves a cell and comes back gives two pieces. For
 * a closed ring cut by the grid, the stretch before and after its first vertex is joined back.
 */
export function cutPolylineOnGrid(pts: readonly XY[], closed: boolean, cellM: number, origin: XY = [0, 0]): GridPiece[] {
  if (!(cellM > 0)) throw new RangeError(`cellM must be > 0, got ${cellM}`);
  if (pts.length === 0) return [];
  const [ox, oy] = origin;
  const cellOf = (x: number, y: number): [number, number] => [Math.floor((x - ox) / cellM), Math.floor((y - oy) / cellM)];
  const pieces: GridPiece[] = [];
  let cur: GridPiece | null = null;
  const push = (x0: number, y0: number, x1: number, y1: number): void => {
    const [ix, iy] = cellOf((x0 + x1) / 2, (y0 + y1) / 2);
    const len = Math.hypot(x1 - x0, y1 - y0);
    if (cur !== null && cur.ix === ix && cur.iy === iy) {
      cur.points.push([x1, y1]);
      cur.lengthM += len;
      return;
    }
    cur = { ix, iy, points: [[x0, y0], [x1, y1]], lengthM: len, closed: false, cut: false };
    pieces.push(cur);
  };
  const ts: number[] = [];
  for (let i = 1; i < pts.length; i++) {
    const a = pts[i - 1]!;
    const b = pts[i]!;
    if (a[0] === b[0] && a[1] === b[1]) continue;
    ts.length = 0;
    ts.push(0, 1);
    gridCrossings((a[0] - ox) / cellM, (b[0] - ox) / cellM, ts);
    gridCrossings((a[1] - oy) / cellM, (b[1] - oy) / cellM, ts);
    ts.sort((u, v) => u - v);
    for (let k = 1; k < ts.length; k++) {
      const t0 = ts[k - 1]!;
      const t1 = ts[k]!;
      if (t1 - t0 < 1e-12) continue;
      push(
        a[0] + (b[0] - a[0]) * t0,
        a[1] + (b[1] - a[1]) * t0,
        a[0] + (b[0] - a[0]) * t1,
        a[1] + (b[1] - a[1]) * t1,
      );
    }
  }
  if (pieces.length === 0) {
    // Zero-length line: one degenerate piece where it is.
    const p = pts[0]!;
    const [ix, iy] = cellOf(p[0], p[1]);
    return [{ ix, iy, points: [[p[0], p[1]], [p[0], p[1]]], lengthM: 0, closed, cut: false }];
  }
  if (closed && pieces.length > 1) {
    const first = pieces[0]!;
    const last = pieces[pieces.length - 1]!;
    if (first.ix === last.ix && first.iy === last.iy) {
      last.points.push(...first.points.slice(1));
      last.lengthM += first.lengthM;
      pieces.shift();
    }
  }
  if (pieces.length === 1) pieces[0]!.closed = closed;
  else for (const p of pieces) p.cut = true;
  return pieces;
}

/** Segment parameters t in (0, 1) where the coordinate u0 -> u1 (in cell units) crosses an integer. */
function gridCrossings(u0: number, u1: number, out: number[]): void {
  if (u0 === u1) return;
  const lo = Math.min(u0, u1);
  const hi = Math.max(u0, u1);
  for (let k = Math.floor(lo) + 1; k < hi; k++) out.push((k - u0) / (u1 - u0));
}

/** One instance scored by the Chamfer AP: a primitive's piece inside one patch. */
export interface Instance {
  /** Patch key (see grid_index `cellKey`). */
  cell: number;
  /** Full-resolution geometry of the piece (a point instance has one vertex). */
  line: Array<[number, number]>;
  /** True for a whole closed ring (no open ends). */
  closed: boolean;
  /** The piece resampled to a fixed count of points evenly spaced by arc length. */
  samples: Array<[number, number]>;
  bbox: BBox;
  lengthM: number;
  /** Confidence (1 for ground truth). */
  score: number;
  /** Index of the source primitive in the list given to `buildInstances`. */
  src: number;
}

export interface InstanceOptions {
  /** Patch edge, metres. */
  patchM: number;
  /** Grid origin, `[eastM, northM]`. */
  originM: XY;
  /** Points per resampled instance. */
  resampleCount: number;
  /** Fragments of a cut primitive shorter than this are dropped (both sides alike), metres. */
  minPieceM: number;
}

/**
 * Instances of line-like primitives (polylines and crosswalk rings): cut on the patch grid, each
 * piece resampled to `resampleCount` points. Fragments of a cut primitive shorter than
 * `minPieceM` are dropped, except its longest piece (so a short stop line split by a patch border
 * still counts once); a primitive lying in one patch is kept whatever its length. The same rule
 * applies to ground truth and predictions.
 */
export function buildLineInstances(prims: readonly Primitive[], opts: InstanceOptions, scores?: readonly number[]): Instance[] {
  const out: Instance[] = [];
  prims.forEach((p, src) => {
    const { points, closed } = lineOf(p);
    const pieces = cutPolylineOnGrid(points, closed, opts.patchM, opts.originM);
    let longest = 0;
    for (let k = 1; k < pieces.length; k++) if (pieces[k]!.lengthM > pieces[longest]!.lengthM) longest = k;
    for (const [k, piece] of pieces.entries()) {
      if (piece.cut && piece.lengthM < opts.minPieceM && k !== longest) continue;
      out.push({
        cell: cellKey(piece.ix, piece.iy),
        line: piece.points,
        closed: piece.closed,
        samples: resampleCount(piece.points, opts.resampleCount),
        bbox: bboxOf(piece.points),
        lengthM: piece.lengthM,
        score: scores?.[src] ?? 1,
        src,
      });
    }
  });
  return out;
}

/** Instances of point primitives (signs, lights): one per point, in the patch containing it. */
export function buildPointInstances(prims: readonly Primitive[], opts: Pick<InstanceOptions, 'patchM' | 'originM'>, scores?: readonly number[]): Instance[] {
  return prims.map((p, src) => {
    const q = p.points[0]!;
    const pt: [number, number] = [q[0], q[1]];
    const ix = Math.floor((q[0] - opts.originM[0]) / opts.patchM);
    const iy = Math.floor((q[1] - opts.originM[1]) / opts.patchM);
    return {
      cell: cellKey(ix, iy),
      line: [pt],
      closed: false,
      samples: [pt],
      bbox: { minX: q[0], minY: q[1], maxX: q[0], maxY: q[1] },
      lengthM: 0,
      score: scores?.[src] ?? 1,
      src,
    };
  });
}
