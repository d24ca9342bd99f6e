/**
 * Connectors that let simulated vehicles go on where a Lanelet2 map's lanelets stop.
 *
 * Real maps are cut-outs: lanes end at the map edge, and junction interiors are often not
 * modelled, so many lanelets have no successor. A simulated car there does what a real one
 * would: it crosses the unmapped junction to a lane that starts ahead of it, or it turns
 * around onto a lane running the other way. A connector is a cubic Hermite curve from the end
 * of one directed lanelet to the start of another (metres, map frame); it is never part of the
 * ground truth, only of the route the car drives.
 *
 * Only dead ends get connectors. Junction crossings are preferred; U-turns are used only when no
 * crossing exists. A U-turn crosses to the oncoming lanes: on the left in right-hand traffic, on
 * the right in left-hand traffic (`uturnSide`; Lanelet2 maps do not say which side a country
 * drives on, lanelet-graph.ts reads it from the lanes).
 */
import type { XY } from '../shared/schema.ts';

export interface BridgeOptions {
  /** Largest gap a junction crossing may bridge, metres. */
  maxCrossingGapM: number;
  /** Largest heading change through a crossing, degrees. */
  maxCrossingTurnDeg: number;
  /** Search radius for a U-turn target lane, metres. */
  maxUturnGapM: number;
  /** Smallest sideways offset of a U-turn target, metres (less is a three-point turn; lanes are 2.5 m and wider). */
  minUturnOffsetM: number;
  /** Where the oncoming lanes are: 'left' (right-hand traffic), 'right', or 'either' (left first). */
  uturnSide: 'left' | 'right' | 'either';
  /** At most this many connectors from one dead end (nearest first). */
  maxPerDeadEnd: number;
  /** Vertex spacing of the connector curves, metres. */
  spacingM: number;
}

export const DEFAULT_BRIDGE_OPTIONS: BridgeOptions = {
  maxCrossingGapM: 25, // metres
  maxCrossingTurnDeg: 120, // degrees
  maxUturnGapM: 30, // metres
  minUturnOffsetM: 2.5, // metres
  uturnSide: 'either',
  maxPerDeadEnd: 3,
  spacingM: 1, // metres
};

/** The end (or start) of a directed lanelet: position and unit heading. */
export interface LaneEnd {
  xy: XY;
  dirX: number;
  dirY: number;
}

export interface Bridge {
  from: number;
  to: number;
  kind: 'crossing' | 'uturn';
  /** Connector vertices from the end of `from` to the start of `to`, both included. */
  points: XY[];
}

/**
 * Connectors from each dead end (`ends[i]` with `isDeadEnd[i]`) to lane starts (`starts[j]`).
 * `sameLanelet(i, j)` excludes driving back onto the lane itself.
 */
export function findBridges(
  ends: readonly LaneEnd[],
  starts: readonly LaneEnd[],
  isDeadEnd: (i: number) => boolean,
  sameLanelet: (i: number, j: number) => boolean,
  options: Partial<BridgeOptions> = {},
): Bridge[] {
  const opts = { ...DEFAULT_BRIDGE_OPTIONS, ...options };
  const cosTurn = Math.cos((opts.maxCrossingTurnDeg * Math.PI) / 180);
  const cosUturn = Math.cos((150 * Math.PI) / 180);
  const out: Bridge[] = [];
  for (let i = 0; i < ends.length; i++) {
    if (!isDeadEnd(i)) continue;
    const e = ends[i]!;
    const crossings: Array<{ j: number; d: number }> = [];
    const uturns: Array<{ j: number; d: number }> = [];
    const uturnsRight: Array<{ j: number; d: number }> = [];
    for (let j = 0; j < starts.length; j++) {
      if (sameLanelet(i, j)) continue;
      const s = starts[j]!;
      const dx = s.xy[0] - e.xy[0];
      const dy = s.xy[1] - e.xy[1];
      const d = Math.hypot(dx, dy);
      if (d > Math.max(opts.maxCrossingGapM, opts.maxUturnGapM)) continue;
      const cosHeading = e.dirX * s.dirX + e.dirY * s.dirY;
      const alongM = dx * e.dirX + dy * e.dirY;
      const leftM = e.dirX * dy - e.dirY * dx;
      const enteringM = dx * s.dirX + dy * s.dirY;
      if (d <= opts.maxCrossingGapM && d > 0.2 && cosHeading >= cosTurn && alongM > 0.3 * d && enteringM > 0.3 * d) {
        crossings.push({ j, d });
      } else if (d <= opts.maxUturnGapM && cosHeading <= cosUturn && Math.abs(alongM) <= 15 && Math.abs(leftM) >= opts.minUturnOffsetM) {
        (leftM > 0 ? uturns : uturnsRight).push({ j, d });
      }
    }
    const turns = opts.uturnSide === 'left' ? uturns : opts.uturnSide === 'right' ? uturnsRight : uturns.length > 0 ? uturns : uturnsRight;
    const chosen = crossings.length > 0 ? crossings : turns;
    const kind = crossings.length > 0 ? 'crossing' : 'uturn';
    chosen.sort((a, b) => a.d - b.d);
    for (const c of chosen.slice(0, opts.maxPerDeadEnd)) {
      out.push({ from: i, to: c.j, kind, points: hermite(e, starts[c.j]!, kind, opts.spacingM) });
    }
  }
  return out;
}

/** Cubic Hermite curve between two oriented points, sampled about every `spacingM`. */
function hermite(a: LaneEnd, b: LaneEnd, kind: 'crossing' | 'uturn', spacingM: number): XY[] {
  const d = Math.hypot(b.xy[0] - a.xy[0], b.xy[1] - a.xy[1]);
  // Tangent length: the chord for a crossing; for a U-turn long enough to swing round.
  const k = kind === 'crossing' ? d : Math.max(2 * d, 12);
  const count = Math.max(2, Math.ceil((kind === 'crossing' ? d : d + k) / spacingM) + 1);
  const pts: XY[] = [];
  for (let i = 0; i < count; i++) {
    const t = i / (count - 1);
    const t2 = t * t;
    const t3 = t2 * t;
    const h00 = 2 * t3 - 3 * t2 + 1;
    const h10 = t3 - 2 * t2 + t;
    const h01 = -2 * t3 + 3 * t2;
    const h11 = t3 - t2;
    pts.push([
      h00 * a.xy[0] + h10 * k * a.dirX + h01 * b.xy[0] + h11 * k * b.dirX,
      h00 * a.xy[1] + h10 * k * a.dirY + h01 * b.xy[1] + h11 * k * b.dirY,
    ]);
  }
  return pts;
}
