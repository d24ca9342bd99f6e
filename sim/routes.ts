/**
 * Deterministic routes along lanelets: a seeded random walk over successors.
 *
 * - The start is a random directed lanelet (weighted by length) from which `targetLengthM` can
 *   be driven without a dead end, if any such lanelet exists.
 * - At each end of lanelet the walk picks uniformly among the successors that still allow the
 *   remaining length within the pass limit (a successor into a small loop with no way out
 *   does not: the distinct lanelets it reaches, not counting dead ends shorter than the rest
 *   of the drive, must add up to the rest / maxPassesPerDrive); if none does, the one that
 *   reaches furthest.
 * - No drive enters one directed lanelet more than `maxPassesPerDrive` times (default
 *   MAX_PASSES_PER_DRIVE): where the pick would, the walk picks again among the successors
 *   still below that (one more draw, only then); where none is, the drive ends there (the car
 *   leaves the mapped area). A small map (a car park, a turnaround loop) is not circled dozens
 *   of times in one drive, which no driver does and which would hand the merge one drive's
 *   passes as if they were many.
 * - The route ends with the first lanelet that completes `targetLengthM` (so it is a little
 *   longer than the target), at a dead end, or where the pass limit leaves no way on: then the
 *   route is simply shorter and `reachedTarget` is false (no teleporting to a new start within
 *   one drive).
 * - Where lanelets stop without successor the graph offers connectors (lanelet-bridges.ts):
 *   the car crosses an unmapped junction or turns around; `connectors` lists them.
 * - One-way rules are respected (two-way lanelets may be driven reversed). No lane changes:
 *   the vehicle stays in lane (lanelets expose their neighbours for a later lane-change model).
 */
import { polylineLengthM } from '../shared/geometry.ts';
import type { XY } from '../shared/schema.ts';
import type { LaneletGraph, Successor } from './lanelet-graph.ts';
import type { Rng } from './rng.ts';

/** Default of RouteOptions.maxPassesPerDrive: most times one drive enters the same directed lanelet. */
export const MAX_PASSES_PER_DRIVE = 8;

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
  /** Most times the drive enters one directed lanelet (default MAX_PASSES_PER_DRIVE; Infinity: no limit). */
  maxPassesPerDrive?: number;
}

export function planRoute(graph: LaneletGraph, rng: Rng, options: RouteOptions = {}): Route {
  const targetLengthM = options.targetLengthM ?? 2000;
  if (!(targetLengthM > 0)) throw new RangeError(`targetLengthM must be > 0 metres, got ${targetLengthM}`);
  if (graph.nodes.length === 0) throw new RangeError('planRoute: the map has no vehicle lanelets to drive on');
  const maxPasses = options.maxPassesPerDrive ?? MAX_PASSES_PER_DRIVE;
  if (!(maxPasses >= 1)) throw new RangeError(`maxPassesPerDrive must be >= 1, got ${maxPasses}`);

  let current = options.startLaneletId !== undefined ? startById(graph, options.startLaneletId) : randomStart(graph, rng, targetLengthM);
  const laneletIds: string[] = [];
  const reversed: boolean[] = [];
  const centreline: XY[] = [];
  const connectors: Array<'crossing' | 'uturn'> = [];
  let lengthM = 0;
  const passes = new Map<number, number>();
  for (;;) {
    const node = graph.nodes[current]!;
    passes.set(current, (passes.get(current) ?? 0) + 1);
    laneletIds.push(node.lanelet.id);
    reversed.push(node.reversed);
    appendPolyline(centreline, node.centreline);
    lengthM += node.lengthM;
    if (lengthM >= targetLengthM) break;
    const remainingM = targetLengthM - lengthM;
    const succ = node.successors;
    if (succ.length === 0) break;
    const reach = (e: Successor): number => (e.connector?.lengthM ?? 0) + graph.reachM[e.to]!;
    const distinctM = remainingM / maxPasses;
    const viable = succ.filter((e) => reach(e) >= remainingM && distinctReachM(graph, e.to, distinctM, remainingM) >= distinctM);
    let next = viable.length > 0 ? rng.choice(viable) : succ.reduce((a, b) => (reach(b) > reach(a) ? b : a));
    const open = (e: Successor): boolean => (passes.get(e.to) ?? 0) < maxPasses;
    if (!open(next)) {
      const others = (viable.length > 0 ? viable : succ).filter(open);
      const rest = others.length > 0 ? others : succ.filter(open);
      if (rest.length === 0) break;
      next = rng.choice(rest);
    }
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

/**
 * Length of the distinct directed lanelets reachable from `start` (itself included) through
 * lanelets that still reach `minReachM` (reachM: so not into a dead end shorter than that),
 * metres; stops counting once `capM` is reached (a small closed loop of the map, whatever dead
 * ends leave it, is all counted; a whole city network is not).
 */
function distinctReachM(graph: LaneletGraph, start: number, capM: number, minReachM: number): number {
  const seen = new Set<number>([start]);
  const queue = [start];
  let totalM = 0;
  for (let q = 0; q < queue.length && totalM < capM; q++) {
    const n = graph.nodes[queue[q]!]!;
    totalM += n.lengthM;
    for (const s of n.successors) {
      if (!seen.has(s.to) && graph.reachM[s.to]! >= minReachM) {
        seen.add(s.to);
        queue.push(s.to);
      }
    }
  }
  return totalM;
}

/** Append, skipping a first vertex that repeats the last one (consecutive lanelets share it). */
function appendPolyline(out: XY[], pts: readonly XY[]): void {
  for (const p of pts) {
    const q = out[out.length - 1];
    if (q && Math.abs(q[0] - p[0]) < 1e-6 && Math.abs(q[1] - p[1]) < 1e-6) continue;
    out.push(p);
  }
}
