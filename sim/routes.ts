/**
 * Deterministic routes along lanelets: a seeded random walk over successors.
 *
 * - The start is a random directed lanelet (weighted by length) from which `targetLengthM` can
 *   be driven without a dead end, if any such lanelet exists.
 * - At each end of lanelet the walk picks uniformly among the successors that still allow the
 *   remaining length; if none does, the one that reaches furthest.
 * - The route ends with the first lanelet that completes `targetLengthM` (so it is a little
 *   longer than the target), or at a dead end: then the route is simply shorter and
 *   `reachedTarget` is false (no teleporting to a new start within one drive).
 * - Where lanelets stop without successor the graph offers connectors (lanelet-bridges.ts):
 *   the car crosses an unmapped junction or turns around; `connectors` lists them.
 * - One-way rules are respected (two-way lanelets may be driven reversed). No lane changes:
 *   the vehicle stays in lane (lanelets expose their neighbours for a later lane-change model).
 */
import { polylineLengthM } from '../shared/geometry.ts';
import type { XY } from '../shared/schema.ts';
import type { LaneletGraph, Successor } from './lanelet-graph.ts';
import type { Rng } from './rng.ts';

export interface Route {
  /** Lanelet ids in driving order. */
  laneletIds: string[];
  /** Per lanelet: driven against its own direction (two-way lanelets only). */
  reversed: boolean[];
  /** Centreline of the lanes driven, `[eastM, northM]` in the map frame. */
  centreline: XY[];
  lengthM: number;
  /** Connectors driven between lanelets (unmapped junction crossings, U-turns), in order. */
  connectors: Array<'crossing' | 'uturn'>;
  /** False when a dead end cut the route short of the target length. */
  reachedTarget: boolean;
}

export interface RouteOptions {
  /** Length to drive, metres. Default 2000. */
  targetLengthM?: number;
  /** Start on this lanelet (forwards) instead of a random one. */
  startLaneletId?: string;
}

export function planRoute(graph: LaneletGraph, rng: Rng, options: RouteOptions = {}): Route {
  const targetLengthM = options.targetLengthM ?? 2000;
  if (!(targetLengthM > 0)) throw new RangeError(`targetLengthM must be > 0 metres, got ${targetLengthM}`);
  if (graph.nodes.length === 0) throw new RangeError('planRoute: the map has no vehicle lanelets to drive on');

  let current = options.startLaneletId !== undefined ? startById(graph, options.startLaneletId) : randomStart(graph, rng, targetLengthM);
  const laneletIds: string[] = [];
  const reversed: boolean[] = [];
  const centreline: XY[] = [];
  const connectors: Array<'crossing' | 'uturn'> = [];
  let lengthM = 0;
  for (;;) {
    const node = graph.nodes[current]!;
    laneletIds.push(node.lanelet.id);
    reversed.push(node.reversed);
    appendPolyline(centreline, node.centreline);
    lengthM += node.lengthM;
    if (lengthM >= targetLengthM) break;
    const remainingM = targetLengthM - lengthM;
    const succ = node.successors;
    if (succ.length === 0) break;
    const reach = (e: Successor): number => (e.connector?.lengthM ?? 0) + graph.reachM[e.to]!;
    const viable = succ.filter((e) => reach(e) >= remainingM);
    const next = viable.length > 0 ? rng.choice(viable) : succ.reduce((a, b) => (reach(b) > reach(a) ? b : a));
    if (next.connector) {
      appendPolyline(centreline, next.connector.points);
      lengthM += next.connector.lengthM;
      connectors.push(next.connector.kind);
    }
    current = next.to;
  }
  return { laneletIds, reversed, centreline, connectors, lengthM: polylineLengthM(centreline), reachedTarget: lengthM >= targetLengthM };
}

function startById(graph: LaneletGraph, id: string): number {
  const node = graph.nodes.find((n) => n.lanelet.id === id && !n.reversed);
  if (!node) throw new RangeError(`startLaneletId ${JSON.stringify(id)} is not a vehicle lanelet of this map`);
  return node.index;
}

function randomStart(graph: LaneletGraph, rng: Rng, targetLengthM: number): number {
  let pool = graph.nodes.filter((n) => graph.reachM[n.index]! >= targetLengthM);
  if (pool.length === 0) {
    // Nowhere to drive the full length: start where the longest drive is possible.
    let best = 0;
    for (const n of graph.nodes) best = Math.max(best, graph.reachM[n.index]!);
    pool = graph.nodes.filter((n) => graph.reachM[n.index]! >= best);
  }
  return pool[rng.weightedIndex(pool.map((n) => n.lengthM))]!.index;
}

/** Append, skipping a first vertex that repeats the last one (consecutive lanelets share it). */
function appendPolyline(out: XY[], pts: readonly XY[]): void {
  for (const p of pts) {
    const q = out[out.length - 1];
    if (q && Math.abs(q[0] - p[0]) < 1e-6 && Math.abs(q[1] - p[1]) < 1e-6) continue;
    out.push(p);
  }
}
