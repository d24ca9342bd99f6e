/**
 * The directed routing graph over vehicle lanelets.
 *
 * A node is a lanelet driven in one direction: every vehicle lanelet forwards, and two-way
 * lanelets (`oneWay: false`) also reversed (then its right bound, reversed, is on the left).
 * B follows A when B's first left/right nodes are A's last left/right nodes (Lanelet2's rule:
 * consecutive lanelets share their end points). Lane changes are not edges here. Dead ends
 * get connectors across unmapped junctions or U-turns (see lanelet-bridges.ts) unless
 * `bridges: false`.
 *
 * `reachM[k]` is the longest distance one can still drive from the start of node k without a
 * dead end: Infinity when k can reach a cycle. Route planning uses it to steer away from dead ends.
 */
import { polylineLengthM } from '../shared/geometry.ts';
import type { XY } from '../shared/schema.ts';
import { findBridges, type BridgeOptions, type LaneEnd } from './lanelet-bridges.ts';
import type { Lanelet, Lanelet2Map } from './lanelet2.ts';

export interface Successor {
  /** Index of the next directed lanelet. */
  to: number;
  /** Null when the lanelets share their end points; else the curve driven between them. */
  connector: { kind: 'crossing' | 'uturn'; points: XY[]; lengthM: number } | null;
}

export interface DirectedLanelet {
  /** Index in `LaneletGraph.nodes`. */
  index: number;
  lanelet: Lanelet;
  reversed: boolean;
  /** Centreline in the direction of travel. */
  centreline: XY[];
  lengthM: number;
  successors: Successor[];
}

export interface LaneletGraph {
  nodes: DirectedLanelet[];
  /** Longest dead-end-free distance from each node's start, metres (Infinity on/before a cycle). */
  reachM: Float64Array;
}

export interface LaneletGraphOptions {
  /** Connectors at dead ends (default options), tuned options, or false for none. */
  bridges?: Partial<BridgeOptions> | false;
}

export function buildLaneletGraph(map: Pick<Lanelet2Map, 'lanelets'>, options: LaneletGraphOptions = {}): LaneletGraph {
  const nodes: DirectedLanelet[] = [];
  const startKeys: string[] = [];
  const endKeys: string[] = [];
  for (const l of map.lanelets) {
    if (!l.vehicle || l.lengthM <= 0) continue;
    nodes.push({ index: nodes.length, lanelet: l, reversed: false, centreline: l.centreline, lengthM: l.lengthM, successors: [] });
    startKeys.push(`${l.startNodeIds[0]}|${l.startNodeIds[1]}`);
    endKeys.push(`${l.endNodeIds[0]}|${l.endNodeIds[1]}`);
    if (!l.oneWay) {
      nodes.push({ index: nodes.length, lanelet: l, reversed: true, centreline: [...l.centreline].reverse(), lengthM: l.lengthM, successors: [] });
      // Reversed, the old right bound becomes the left one and both run backwards.
      startKeys.push(`${l.endNodeIds[1]}|${l.endNodeIds[0]}`);
      endKeys.push(`${l.startNodeIds[1]}|${l.startNodeIds[0]}`);
    }
  }
  const byStart = new Map<string, number[]>();
  startKeys.forEach((k, i) => {
    const list = byStart.get(k);
    if (list) list.push(i);
    else byStart.set(k, [i]);
  });
  for (const n of nodes) {
    // Not onto the same lanelet driven the other way (a U-turn on the spot); a ring lanelet
    // whose end is its own start does continue into itself.
    n.successors = (byStart.get(endKeys[n.index]!) ?? [])
      .filter((j) => j === n.index || nodes[j]!.lanelet !== n.lanelet)
      .map((to) => ({ to, connector: null }));
  }
  if (options.bridges !== false) {
    const ends = nodes.map((n) => laneEnd(n.centreline, true));
    const starts = nodes.map((n) => laneEnd(n.centreline, false));
    const bridges = findBridges(
      ends,
      starts,
      (i) => nodes[i]!.successors.length === 0,
      (i, j) => i !== j && nodes[i]!.lanelet === nodes[j]!.lanelet,
      { uturnSide: oncomingSide(map.lanelets), ...(options.bridges ?? {}) },
    );
    for (const b of bridges) {
      nodes[b.from]!.successors.push({ to: b.to, connector: { kind: b.kind, points: b.points, lengthM: polylineLengthM(b.points) } });
    }
  }
  return { nodes, reachM: computeReach(nodes) };
}

/**
 * Which side the oncoming lanes lie on, read from the map (Lanelet2 does not tag a country's
 * driving side). Two one-way vehicle lanelets that share a bound and run opposite ways share
 * their left bounds in right-hand traffic (the centre line is on each one's left) and their
 * right bounds in left-hand traffic. The side most such shared bounds say; 'either' on a tie.
 */
export function oncomingSide(lanelets: ReadonlyArray<Pick<Lanelet, 'vehicle' | 'oneWay' | 'leftBound' | 'rightBound'>>): 'left' | 'right' | 'either' {
  const count = (side: 'leftBound' | 'rightBound'): number => {
    const users = new Map<string, number>();
    for (const l of lanelets) if (l.vehicle && l.oneWay) users.set(l[side].wayId, (users.get(l[side].wayId) ?? 0) + 1);
    let shared = 0;
    for (const n of users.values()) if (n >= 2) shared++;
    return shared;
  };
  const left = count('leftBound');
  const right = count('rightBound');
  return left > right ? 'left' : right > left ? 'right' : 'either';
}

/** Longest path to a dead end (Infinity when a cycle is reachable), via Tarjan's SCCs. */
function computeReach(nodes: readonly DirectedLanelet[]): Float64Array {
  const n = nodes.length;
  const index = new Int32Array(n).fill(-1);
  const low = new Int32Array(n);
  const onStack = new Uint8Array(n);
  const comp = new Int32Array(n).fill(-1);
  const stack: number[] = [];
  const comps: number[][] = [];
  let counter = 0;
  // Iterative Tarjan: frames of [node, next successor position].
  for (let root = 0; root < n; root++) {
    if (index[root] !== -1) continue;
    const frames: Array<[number, number]> = [[root, 0]];
    index[root] = low[root] = counter++;
    stack.push(root);
    onStack[root] = 1;
    while (frames.length > 0) {
      const frame = frames[frames.length - 1]!;
      const v = frame[0];
      const succ = nodes[v]!.successors;
      if (frame[1] < succ.length) {
        const w = succ[frame[1]++]!.to;
        if (index[w] === -1) {
          index[w] = low[w] = counter++;
          stack.push(w);
          onStack[w] = 1;
          frames.push([w, 0]);
        } else if (onStack[w]) {
          low[v] = Math.min(low[v]!, index[w]!);
        }
        continue;
      }
      frames.pop();
      const parent = frames[frames.length - 1];
      if (parent) low[parent[0]] = Math.min(low[parent[0]]!, low[v]!);
      if (low[v] === index[v]) {
        const members: number[] = [];
        let w: number;
        do {
          w = stack.pop()!;
          onStack[w] = 0;
          comp[w] = comps.length;
          members.push(w);
        } while (w !== v);
        comps.push(members);
      }
    }
  }
  // Tarjan emits components in reverse topological order: successors' components come first.
  const reach = new Float64Array(n);
  for (const members of comps) {
    const cyclic = members.length > 1 || nodes[members[0]!]!.successors.some((e) => e.to === members[0]);
    for (const v of members) {
      if (cyclic) {
        reach[v] = Infinity;
        continue;
      }
      let best = 0;
      for (const e of nodes[v]!.successors) best = Math.max(best, (e.connector?.lengthM ?? 0) + reach[e.to]!);
      reach[v] = nodes[v]!.lengthM + best;
    }
  }
  return reach;
}

/** Position and unit direction at the start or end of a polyline. */
function laneEnd(pts: readonly XY[], atEnd: boolean): LaneEnd {
  const n = pts.length;
  const p = atEnd ? pts[n - 1]! : pts[0]!;
  // Direction over the last (first) couple of metres, robust to tiny final segments.
  let q = p;
  let k = atEnd ? n - 2 : 1;
  while (k >= 0 && k < n) {
    q = pts[k]!;
    if (Math.hypot(q[0] - p[0], q[1] - p[1]) >= 2) break;
    k += atEnd ? -1 : 1;
  }
  let dx = atEnd ? p[0] - q[0] : q[0] - p[0];
  let dy = atEnd ? p[1] - q[1] : q[1] - p[1];
  const len = Math.hypot(dx, dy) || 1;
  dx /= len;
  dy /= len;
  return { xy: p, dirX: dx, dirY: dy };
}
