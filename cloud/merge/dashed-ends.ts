/**
 * Dashed dividers run on past their outermost dashes. A map draws a dashed lane divider from the
 * lanelet's start to its end, and the paint's phase is arbitrary with respect to those ends: the
 * mapped line goes on beyond the last dash by anything from nothing (the end falls inside a dash)
 * to a whole gap. A camera sees only paint, so every drive's dashed line, and the consensus of
 * them, stops at a dash. For the common 3 m dash / 6 m gap pattern (German town roads, the
 * simulator's) the overrun is 0 with probability 1/3 and uniform over 0-6 m otherwise: its
 * median, the length that minimises the expected distance to the true end, is 1.5 m.
 *
 * Each free end of a published dashed divider is extended by `extendM` along its direction over
 * the last `tangentM`. An end is free when no other published divider lies within `clearM` of the
 * extension: a dashed run that goes on as a solid one (a style change), or meets another line,
 * keeps its end. Solid dividers, boundaries and closed lines are left as they are.
 */
import { bboxOf, pointPolylineDistM, type BBox } from '../../shared/geometry.ts';
import type { XY } from '../../shared/schema.ts';
import type { Consensus } from './consensus.ts';

export interface DashedEndsOptions {
  /** How far a free end is extended, metres (0: off). */
  extendM: number;
  /** No other divider may lie within this of the extension, metres. */
  clearM: number;
  /** The end's direction is taken over this much of the line, metres. */
  tangentM: number;
}

/** Probes along an extension, as fractions of it. */
const PROBES = [0.25, 0.5, 0.75, 1];

/**
 * Per primitive of `list`: the dashed divider's points with its free ends extended, or undefined
 * where nothing changes (another class, solid, closed, or no end free).
 */
export function extendDashedEnds(list: ReadonlyArray<Pick<Consensus, 'cls' | 'style' | 'points'>>, o: DashedEndsOptions): Array<XY[] | undefined> {
  const out: Array<XY[] | undefined> = list.map(() => undefined);
  if (!(o.extendM > 0)) return out;
  // Every divider with its box, once: an end's test skips the far ones without a distance.
  const dividers = list.filter((c) => c.cls === 'lane_divider' && c.points.length >= 2).map((c) => ({ c, box: bboxOf(c.points) }));
  list.forEach((c, k) => {
    if (c.cls !== 'lane_divider' || c.style !== 'dashed' || c.points.length < 2) return;
    const pts = c.points;
    const first = pts[0]!;
    const last = pts[pts.length - 1]!;
    if (first[0] === last[0] && first[1] === last[1]) return; // closed
    const head = freeEnd(pts, false, c, dividers, o);
    const tail = freeEnd(pts, true, c, dividers, o);
    if (!head && !tail) return;
    out[k] = [...(head ? [head] : []), ...pts, ...(tail ? [tail] : [])];
  });
  return out;
}

/** The extended end point of `pts` at its start (or end), or undefined when the end is not free. */
function freeEnd(pts: readonly XY[], atEnd: boolean, self: object, dividers: ReadonlyArray<{ c: Pick<Consensus, 'points'>; box: BBox }>, o: DashedEndsOptions): XY | undefined {
  const n = pts.length;
  const at = (i: number): XY => pts[atEnd ? n - 1 - i : i]!;
  const e = at(0);
  let i = 1;
  while (i < n - 1 && Math.hypot(at(i)[0] - e[0], at(i)[1] - e[1]) < o.tangentM) i++;
  const dx = e[0] - at(i)[0];
  const dy = e[1] - at(i)[1];
  const len = Math.hypot(dx, dy);
  if (!(len > 0)) return undefined;
  const ux = dx / len;
  const uy = dy / len;
  const tip: XY = [e[0] + o.extendM * ux, e[1] + o.extendM * uy];
  // The extension's box grown by clearM: a divider outside it cannot be within clearM of a probe.
  const minX = Math.min(e[0], tip[0]) - o.clearM;
  const maxX = Math.max(e[0], tip[0]) + o.clearM;
  const minY = Math.min(e[1], tip[1]) - o.clearM;
  const maxY = Math.max(e[1], tip[1]) + o.clearM;
  const probe: [number, number] = [0, 0];
  for (const { c: other, box } of dividers) {
    if (other === self || box.minX > maxX || box.maxX < minX || box.minY > maxY || box.maxY < minY) continue;
    for (const f of PROBES) {
      probe[0] = e[0] + f * o.extendM * ux;
      probe[1] = e[1] + f * o.extendM * uy;
      if (pointPolylineDistM(probe, other.points) < o.clearM) return undefined;
    }
  }
  return tip;
}
