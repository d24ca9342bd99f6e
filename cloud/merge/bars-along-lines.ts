/**
 * Stop lines that lie along a lane line: a stop line is a bar across its lane, so a consensus
 * stop line that runs beside a divider or boundary, parallel to it, for most of its length is
 * that line's paint (or kerb) read as a bar: a dash of a dashed divider, a stretch of a solid
 * one, a kerb at a junction corner. On the on-vehicle model's Karlsruhe demo fleet 18 of the 40
 * false stop lines were such pieces and 1 of 16 true ones (a short-lived bar of 4 drives that a
 * false line crossed lengthwise); the oracle's never are.
 *
 * The line it lies along must have at least the bar's support (drives): where the bar has more,
 * the "line" is the bar read as a line and the bar stays.
 */
import type { PrimitiveClass } from '../../shared/schema.ts';
import type { Consensus } from './consensus.ts';
import type { Evidence } from './evidence.ts';
import { DynamicGrid } from './grid.ts';
import { hypot } from './polyline.ts';

export interface BarsAlongLinesOptions {
  /** A sample of the bar lies along a line when that line passes within this, metres. */
  alongM: number;
  /** ... at most this far from parallel to the bar, degrees. */
  maxAngleDeg: number;
  /** The bar is dropped when at least this share of its samples lie along such a line. */
  minShare: number;
}

const LANE_LINES: ReadonlySet<PrimitiveClass> = new Set(['lane_divider', 'road_boundary']);
const SAMPLE_M = 0.5; // m between samples along the bar and the lines

/** Per primitive of `list`: a stop line lying along a divider or boundary (see above). */
export function barsAlongLines(list: ReadonlyArray<{ c: Consensus; e: Evidence }>, o: BarsAlongLinesOptions): boolean[] {
  const out = list.map(() => false);
  if (!(o.alongM > 0) || !(o.minShare > 0)) return out;
  if (!list.some(({ c }) => c.cls === 'stop_line')) return out;
  // Samples of every divider and boundary with their unit tangents and owner.
  const grid = new DynamicGrid(Math.max(1, 2 * o.alongM));
  const tx: number[] = [];
  const ty: number[] = [];
  const owner: number[] = [];
  list.forEach(({ c }, k) => {
    if (!LANE_LINES.has(c.cls)) return;
    forEachSample(c.points, (x, y, ux, uy) => {
      grid.insert(x, y, owner.length);
      tx.push(ux);
      ty.push(uy);
      owner.push(k);
    });
  });
  const sinMax = Math.sin((o.maxAngleDeg * Math.PI) / 180);
  list.forEach(({ c, e }, k) => {
    if (c.cls !== 'stop_line' || c.points.length < 2) return;
    let n = 0;
    let along = 0;
    forEachSample(c.points, (x, y, ux, uy) => {
      n++;
      let hit = false;
      grid.forEachWithin(x, y, o.alongM, (j) => {
        if (hit || list[owner[j]!]!.e.supportDrives < e.supportDrives) return;
        // |sin| of the angle between the bar and the line (tangents are undirected).
        if (Math.abs(ux * ty[j]! - uy * tx[j]!) <= sinMax) hit = true;
      });
      if (hit) along++;
    });
    out[k] = n > 0 && along >= o.minShare * n;
  });
  return out;
}

/** Points every SAMPLE_M or closer along a polyline (its ends included), with the unit tangent of their segment. */
function forEachSample(points: ReadonlyArray<readonly [number, number]>, fn: (x: number, y: number, ux: number, uy: number) => void): void {
  for (let i = 1; i < points.length; i++) {
    const a = points[i - 1]!;
    const b = points[i]!;
    const len = hypot(b[0] - a[0], b[1] - a[1]);
    if (len === 0) continue;
    const ux = (b[0] - a[0]) / len;
    const uy = (b[1] - a[1]) / len;
    const steps = Math.max(1, Math.ceil(len / SAMPLE_M));
    for (let j = 0; j < steps; j++) fn(a[0] + (ux * len * j) / steps, a[1] + (uy * len * j) / steps, ux, uy);
    if (i === points.length - 1) fn(b[0], b[1], ux, uy);
  }
}
