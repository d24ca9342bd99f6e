/**
 * Per-lane stop lines that touch: a consensus stop line is split where a lane divider ends on it.
 * Where two lanes of one approach each have their own bar and the bars abut end to end, the drives
 * see no gap between them and the clustering chains them into one bar across both lanes; the
 * divider between the two lanes runs up to the bar and ends on it, and says where one lane's bar
 * ends and the next one's begins. (Tile frame, metres.)
 *
 * A divider end marks a split where the divider, carried on along its last `tangentM` from its
 * end, meets the bar within `reachM` ahead of the end (a dashed divider's last dash often stops a
 * gap short of the bar) or `endM` behind it (a line drawn a little past the bar), at least
 * `minPieceM` from either end of the bar, at `minAngleDeg` or more (a lane line meets its stop
 * line across; a dash lying along the bar does not split it). Each piece keeps the observations that lie on it for at least half of the
 * shorter of the two (an observation of both lanes' bars supports both pieces; one of a single
 * lane's bar supports that piece alone), so each lane's bar has its own evidence: a bar removed
 * beside its neighbour goes stale on its own.
 */
import { cumulativeLengthsM, pointAtM, projectOntoPolyline } from '../../shared/geometry.ts';
import type { XY } from '../../shared/schema.ts';
import type { Consensus } from './consensus.ts';
import type { ObservationPoints } from './evidence.ts';
import { hypot, isClosedXY } from './polyline.ts';

export interface BarsAtLaneEndsOptions {
  /** A divider that meets the bar up to this far ahead of its end marks a lane boundary, metres. 0: off. */
  reachM: number;
  /** ... or up to this far behind its end (it runs a little past the bar), metres. */
  endM: number;
  /** Shortest bar piece on either side of a split, metres. */
  minPieceM: number;
  /** The divider's end direction, taken over its last tangentM, metres. */
  tangentM: number;
  /** Smallest angle between the divider's end and the bar, degrees. */
  minAngleDeg: number;
}

/** `list` with every stop line split where dividers of `list` end on it (see above); other primitives as they are. */
export function splitBarsAtLaneEnds(list: readonly Consensus[], pts: ObservationPoints, o: BarsAtLaneEndsOptions): readonly Consensus[] {
  if (!(o.reachM > 0) || !list.some((c) => c.cls === 'stop_line')) return list;
  const ends: Array<{ x: number; y: number; ux: number; uy: number }> = [];
  for (const c of list) {
    // A closed divider (round an island) has no ends.
    if (c.cls !== 'lane_divider' || c.points.length < 2 || isClosedXY(c.points.map((q) => q[0]), c.points.map((q) => q[1]))) continue;
    ends.push(endOf(c.points, o.tangentM, false), endOf(c.points, o.tangentM, true));
  }
  const sinMin = Math.sin((o.minAngleDeg * Math.PI) / 180);
  const out: Consensus[] = [];
  for (const c of list) {
    if (c.cls !== 'stop_line' || c.points.length < 2) {
      out.push(c);
      continue;
    }
    const bar = arc(c.points);
    const cuts: number[] = [];
    for (const e of ends) {
      const q = bar.meet(e.x, e.y, e.ux, e.uy, -o.endM, o.reachM, sinMin);
      if (q !== undefined && q >= o.minPieceM && q <= bar.lengthM - o.minPieceM) cuts.push(q);
    }
    cuts.sort((a, b) => a - b);
    const at = [0];
    for (const s of cuts) if (s - at[at.length - 1]! >= o.minPieceM && bar.lengthM - s >= o.minPieceM) at.push(s);
    if (at.length === 1) {
      out.push(c);
      continue;
    }
    at.push(bar.lengthM);
    // Each observation's extent along the bar.
    const extent = c.obs.map((i) => {
      let lo = Infinity;
      let hi = -Infinity;
      for (let k = pts.start[i]!; pts.start[i]! >= 0 && k < pts.start[i]! + pts.count[i]!; k++) {
        const s = bar.project(pts.x[k]!, pts.y[k]!);
        lo = Math.min(lo, s);
        hi = Math.max(hi, s);
      }
      return [lo, hi] as const;
    });
    for (let k = 0; k + 1 < at.length; k++) {
      const a = at[k]!;
      const b = at[k + 1]!;
      const obs = c.obs.filter((_, j) => {
        const [lo, hi] = extent[j]!;
        if (!(hi >= lo)) return false;
        const overlap = Math.min(hi, b) - Math.max(lo, a);
        return lo === hi ? lo >= a && lo <= b : overlap >= 0.5 * Math.min(hi - lo, b - a);
      });
      if (obs.length) out.push({ ...c, points: bar.slice(a, b), obs });
    }
  }
  return out;
}

/** A line's last (or, `first`, its first) point and the unit direction of its last `tangentM` towards that end. */
function endOf(points: readonly XY[], tangentM: number, first: boolean): { x: number; y: number; ux: number; uy: number } {
  const n = points.length;
  const at = (k: number): XY => points[first ? n - 1 - k : k]!;
  const [x, y] = at(n - 1);
  let k = n - 2;
  while (k > 0 && hypot(x - at(k)[0], y - at(k)[1]) < tangentM) k--;
  const dx = x - at(k)[0];
  const dy = y - at(k)[1];
  const d = hypot(dx, dy) || 1;
  return { x, y, ux: dx / d, uy: dy / d };
}

/**
 * A polyline by arc length: projection (clamped to it, shared/geometry.ts), where a ray meets it,
 * and the stretch between two arc lengths.
 */
function arc(points: readonly XY[]): {
  lengthM: number;
  /** Arc length of the nearest point. */
  project(x: number, y: number): number;
  /** Arc length where the ray (x, y) + t (ux, uy), t in [t0, t1], crosses it at |sin| >= sinMin; undefined when it does not. */
  meet(x: number, y: number, ux: number, uy: number, t0: number, t1: number, sinMin: number): number | undefined;
  slice(a: number, b: number): XY[];
} {
  const s = cumulativeLengthsM(points);
  const lengthM = s[s.length - 1]!;
  return {
    lengthM,
    meet(x, y, ux, uy, t0, t1, sinMin) {
      for (let k = 1; k < points.length; k++) {
        const [ax, ay] = points[k - 1]!;
        const len = s[k]! - s[k - 1]!;
        if (len <= 0) continue;
        const vx = (points[k]![0] - ax) / len;
        const vy = (points[k]![1] - ay) / len;
        // (x, y) + t u = a + r v: cross products give t and r.
        const den = ux * vy - uy * vx;
        if (Math.abs(den) < sinMin) continue;
        const wx = ax - x;
        const wy = ay - y;
        const t = (wx * vy - wy * vx) / den;
        const r = (wx * uy - wy * ux) / den;
        if (t >= t0 && t <= t1 && r >= 0 && r <= len) return s[k - 1]! + r;
      }
      return undefined;
    },
    project(x, y) {
      return projectOntoPolyline([x, y], points).sM;
    },
    slice(a, b) {
      const mid = points.filter((_, k) => s[k]! > a && s[k]! < b);
      return [pointAtM(points, s, a), ...mid.map((q) => [q[0], q[1]] as XY), pointAtM(points, s, b)];
    },
  };
}
