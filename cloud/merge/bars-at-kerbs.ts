/**
 * Stop lines that run on past the kerb: a stop line is a bar across the road that ends where the
 * road does, so a consensus stop line crossing a road boundary near one of its ends has its
 * overhang outside the road. The camera's bar evidence smears along the viewing ray, and a
 * bar seen from the side spills over the kerb: on the on-vehicle model's Karlsruhe demo fleet (a
 * tuning map) the true stop lines came out 0.6-2.0 m too long at one or both ends, across a
 * published boundary. The overhang is cut at the boundary.
 *
 * Only an end within `maxTrimM` and `maxShare` of the bar's length is cut, so a boundary that
 * crosses the middle of a bar (a false one, or a traffic island the bar spans) leaves it whole;
 * where several boundaries cross one end's stretch, the cut is at the one nearest the bar's middle.
 * The boundary must have at least `minSupportShare` of the bar's support (drives).
 */
import { cumulativeLengthsM, pointAtM } from '../../shared/geometry.ts';
import type { XY } from '../../shared/schema.ts';
import type { Consensus } from './consensus.ts';
import type { Evidence } from './evidence.ts';

export interface BarsAtKerbsOptions {
  /** The longest overhang cut, metres (0: off). */
  maxTrimM: number;
  /** ... and at most this share of the bar's length, per end. */
  maxShare: number;
  /** The boundary needs at least this share of the bar's supporting drives. */
  minSupportShare: number;
}

/**
 * Per primitive of `list`: the stop line's points with its overhang past a boundary cut off, or
 * undefined where nothing is cut (not a stop line, or no boundary crosses near an end).
 */
export function barsAtKerbs(list: ReadonlyArray<{ c: Consensus; e: Evidence }>, o: BarsAtKerbsOptions): Array<XY[] | undefined> {
  const out: Array<XY[] | undefined> = list.map(() => undefined);
  if (!(o.maxTrimM > 0) || !(o.maxShare > 0)) return out;
  const boundaries = list.filter(({ c }) => c.cls === 'road_boundary' && c.points.length >= 2);
  if (boundaries.length === 0) return out;
  list.forEach(({ c, e }, k) => {
    if (c.cls !== 'stop_line' || c.points.length < 2) return;
    const bar = c.points;
    const cum = cumulativeLengthsM(bar);
    const lengthM = cum[cum.length - 1]!;
    if (!(lengthM > 0)) return;
    const limitM = Math.min(o.maxTrimM, o.maxShare * lengthM);
    let startM = 0;
    let endM = lengthM;
    for (const b of boundaries) {
      if (b.e.supportDrives < o.minSupportShare * e.supportDrives) continue;
      forEachCrossing(bar, cum, b.c.points, (atM) => {
        if (atM <= limitM) startM = Math.max(startM, atM);
        else if (atM >= lengthM - limitM) endM = Math.min(endM, atM);
      });
    }
    if (startM > 0 || endM < lengthM) out[k] = slicePolyline(bar, cum, startM, endM);
  });
  return out;
}

/** Arc length along `bar` of every proper crossing of one of its segments with one of `line`'s. */
function forEachCrossing(bar: readonly XY[], cum: Float64Array, line: readonly XY[], visit: (atM: number) => void): void {
  for (let i = 1; i < bar.length; i++) {
    const ax = bar[i - 1]![0];
    const ay = bar[i - 1]![1];
    const rx = bar[i]![0] - ax;
    const ry = bar[i]![1] - ay;
    for (let j = 1; j < line.length; j++) {
      const cx = line[j - 1]![0];
      const cy = line[j - 1]![1];
      const sx = line[j]![0] - cx;
      const sy = line[j]![1] - cy;
      const den = rx * sy - ry * sx;
      if (den === 0) continue; // parallel
      const t = ((cx - ax) * sy - (cy - ay) * sx) / den;
      const u = ((cx - ax) * ry - (cy - ay) * rx) / den;
      if (t >= 0 && t <= 1 && u >= 0 && u <= 1) visit(cum[i - 1]! + t * (cum[i]! - cum[i - 1]!));
    }
  }
}

/** The part of `pts` between arc lengths fromM < toM. */
function slicePolyline(pts: readonly XY[], cum: Float64Array, fromM: number, toM: number): XY[] {
  const out: XY[] = [pointAtM(pts, cum, fromM)];
  for (let i = 1; i < pts.length - 1; i++) if (cum[i]! > fromM && cum[i]! < toM) out.push([pts[i]![0], pts[i]![1]]);
  out.push(pointAtM(pts, cum, toM));
  return out;
}
