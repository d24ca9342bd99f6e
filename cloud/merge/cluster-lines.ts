/**
 * Clustering of line observations of one class into consensus lines ("seed and grow").
 *
 * Points are observations resampled every `spacingM` with tangents, aligned already. Items are
 * runs of one observation's points. Longest items seed first; a cluster's consensus line L
 * starts as its seed and grows:
 *  1. candidates: items with a point within the gate of L (grid query along L);
 *  2. an item joins when >= minInlierShare of its points that lie alongside L are within the
 *     gate with a consistent direction (tangents are undirected: drives go both ways);
 *  3. each end of L extends along the member that reaches furthest past it (its own shape, so
 *     curves are followed), shifted to join L without a step;
 *  4. L is refit: per vertex, the median over drives of each drive's mean lateral offset,
 *     smoothed along the line, then resampled.
 * When nothing changes, member points alongside L are consumed; runs of a member that left L
 * (a fork) go back to the pool as new items. Vertices that duplicate an earlier cluster are
 * marked covered so the same paint is not published twice.
 *
 * Closed lines (a kerb round an island or a block, a roundabout's centre): when an extension
 * brings L back onto itself, heading the same way after about a full turn round some area, L
 * is cut there and closed (`closeLoop`; `Polyline.closed`: last vertex = first). A closed L no
 * longer extends, has no ends (nothing lies past them, nothing merely continues it), and is
 * refit and summarised round the loop. Without this, the ends chased each other round the
 * loop: L wound round it many times, its drives' points spread over the turns, and the loop
 * came out as many short, overlapping pieces.
 */
import { DynamicGrid, PointGrid } from './grid.ts';
import { Polyline, hypot, newProjection, resampleFlat, vertexAt, vertexTangents, medianInPlace, type Projection } from './polyline.ts';

export interface LinePoints {
  n: number;
  /** Aligned positions, metres. */
  x: Float64Array;
  y: Float64Array;
  /** Unit tangents along each observation. */
  tx: Float64Array;
  ty: Float64Array;
  /** Drive index of each point. */
  drive: Int32Array;
  /** Style / kind index of each point's observation, -1 when none. */
  attr: Int8Array;
  /** Vote weight of each point (its observation's score). */
  weight: Float32Array;
  /** Initial items: point ranges [itemStart[k], itemEnd[k]) (one per observation). */
  itemStart: number[];
  itemEnd: number[];
}

export interface LineParams {
  gateM: number;
  spacingM: number;
  /** cos of the largest angle between an observation and L. */
  cosMax: number;
  minInlierShare: number;
  /** Half-window of the lateral-offset smoothing, in vertices. */
  smoothBins: number;
}

export interface LineCluster {
  /** Consensus vertices, ~spacingM apart, metres. */
  x: Float64Array;
  y: Float64Array;
  /** Distinct drives supporting each vertex (0 where the vertex duplicates an earlier cluster). */
  support: Int32Array;
  /** Robust lateral spread of the drives at each vertex (MAD * 1.48), metres. */
  spread: Float32Array;
  /** Per vertex, summed vote weight of each of 3 attribute values. */
  votes: Float32Array;
  /** Consumed points and the vertex each maps to. */
  pts: Int32Array;
  ptVertex: Int32Array;
  /** A closed line: its last vertex is its first (and carries the first's support, spread, votes). */
  closed: boolean;
}

const MAX_ITER = 1000;
const MIN_ITEM_POINTS = 3;

export function clusterLines(P: LinePoints, prm: LineParams): LineCluster[] {
  const itemStart = P.itemStart.slice();
  const itemEnd = P.itemEnd.slice();
  const assigned: boolean[] = itemStart.map(() => false);
  const pointItem = new Int32Array(P.n).fill(-1);
  itemStart.forEach((s, k) => pointItem.fill(k, s, itemEnd[k]));
  const memberOf: number[] = itemStart.map(() => -1);
  /** Cluster (seed index) in which an item was last tested. */
  const testedIn: number[] = itemStart.map(() => -1);
  const grid = new PointGrid(P.x, P.y, 2);
  /** Points of unassigned items (the others are dead for good), and that count when the grid was last compacted. */
  let live = P.n;
  let liveIndexed = P.n;
  const earlier = new DynamicGrid(2);
  const earlierT: number[] = [];
  const pr = newProjection();
  const clusters: LineCluster[] = [];
  const queue = itemStart.map((_, k) => k).sort((a, b) => itemEnd[b]! - itemStart[b]! - (itemEnd[a]! - itemStart[a]!));
  const near = { buf: new Int32Array(1024) };
  // Scratch of the consumption step, per member item.
  let inliersBuf = new Uint8Array(256);
  let vertBuf = new Int32Array(256);

  for (let qi = 0; qi < queue.length; qi++) {
    const seed = queue[qi]!;
    if (assigned[seed] || itemEnd[seed]! - itemStart[seed]! < MIN_ITEM_POINTS) continue;
    const cid = qi; // unique per seed
    const members = [seed];
    memberOf[seed] = cid;
    testedIn[seed] = cid;
    let L = new Polyline(P.x.slice(itemStart[seed], itemEnd[seed]), P.y.slice(itemStart[seed], itemEnd[seed]));
    // Grow without refitting (the line is made of real observation paths, a few cm apart from
    // the consensus): each item near a NEW vertex is tested once. When growth stalls, re-test
    // the rejected items; when that changes nothing, refit and re-test; stop when that changes
    // nothing either.
    let ranges: Array<[number, number]> = [[0, L.n]];
    const rejected: number[] = [];
    /** The line each rejected item was last tested against (`accepts` is a pure function of both). */
    const rejectedBy: Polyline[] = [];
    let refits = 0;
    for (let iter = 0; iter < MAX_ITER; iter++) {
      let changed = false;
      for (const [a, b] of ranges) {
        for (let v = a; v < b; v++) {
          const n = grid.collectWithin(L.x[v]!, L.y[v]!, prm.gateM, near);
          for (let k = 0; k < n; k++) {
            const it = pointItem[near.buf[k]!]!;
            if (it < 0 || assigned[it] || testedIn[it] === cid) continue;
            testedIn[it] = cid;
            if (accepts(L, P, itemStart[it]!, itemEnd[it]!, prm, pr)) {
              members.push(it);
              memberOf[it] = cid;
              changed = true;
            } else {
              rejected.push(it);
              rejectedBy.push(L);
            }
          }
        }
      }
      const ext = extendEnds(L, P, grid, pointItem, memberOf, cid, itemStart, itemEnd, prm);
      if (ext) {
        L = ext.line;
        // A line that just closed was cut back onto itself: look along all of it once more.
        ranges = L.closed
          ? [[0, L.n]]
          : [
              [0, ext.head],
              [L.n - ext.tail, L.n],
            ];
        refits = 0;
        continue;
      }
      ranges = [];
      if (changed) {
        refits = 0;
        continue;
      }
      // Stalled: re-test the rejected items (the line grew since), then refit and re-test.
      // (The items still rejected stay in order, compacted in place.)
      const retest = (): boolean => {
        let any = false;
        let w = 0;
        for (let j = 0; j < rejected.length; j++) {
          const it = rejected[j]!;
          if (assigned[it] || memberOf[it] === cid) continue;
          // Rejected by this very line already: the same answer again.
          if (rejectedBy[j] !== L && accepts(L, P, itemStart[it]!, itemEnd[it]!, prm, pr)) {
            members.push(it);
            memberOf[it] = cid;
            any = true;
          } else {
            rejected[w] = it;
            rejectedBy[w] = L;
            w++;
          }
        }
        rejected.length = w;
        rejectedBy.length = w;
        return any;
      };
      if (refits === 0 && retest()) continue;
      L = refit(L, P, memberPoints(members, itemStart, itemEnd), prm);
      refits++;
      if (retest()) refits = 0;
      else break;
    }
    // Consume the points alongside L; give runs that left it back to the pool.
    pr.maxDistM = prm.gateM;
    const used: number[] = [];
    const usedV: number[] = [];
    for (const m of members) {
      const s = itemStart[m]!;
      const e = itemEnd[m]!;
      let nIn = 0;
      if (inliersBuf.length < e - s) {
        inliersBuf = new Uint8Array(2 * (e - s));
        vertBuf = new Int32Array(2 * (e - s));
      }
      const inliers = inliersBuf;
      const vert = vertBuf;
      inliers.fill(0, 0, e - s);
      let hint = -1;
      for (let i = s; i < e; i++) {
        if (L.projectAt(P.x, P.y, i, pr, hint) && pr.beyond === 0 && Math.abs(P.tx[i]! * pr.tx + P.ty[i]! * pr.ty) >= prm.cosMax) {
          inliers[i - s] = 1;
          vert[i - s] = vertexAt(L, pr.pos);
          nIn++;
          hint = Math.floor(pr.pos) | 0;
        }
      }
      if (nIn === 0 && m !== seed) {
        memberOf[m] = -1; // never fitted this line after all: free for another cluster
        continue;
      }
      assigned[m] = true;
      live -= e - s;
      if (nIn === 0) continue;
      let runStart = -1;
      for (let i = s; i <= e; i++) {
        if (i < e && !inliers[i - s]) {
          if (runStart < 0) runStart = i;
          continue;
        }
        if (runStart >= 0 && i - runStart >= MIN_ITEM_POINTS) {
          const k = itemStart.length;
          itemStart.push(runStart);
          itemEnd.push(i);
          assigned.push(false);
          memberOf.push(-1);
          testedIn.push(-1);
          pointItem.fill(k, runStart, i);
          live += i - runStart;
          queue.push(k);
        }
        runStart = -1;
        if (i < e) {
          used.push(i);
          usedV.push(vert[i - s]!);
          pointItem[i] = -1;
        }
      }
    }
    // Points of assigned items never join again: drop them from the grid once a quarter died.
    if (live < 0.75 * liveIndexed) {
      grid.retain((i) => pointItem[i]! >= 0 && !assigned[pointItem[i]!]);
      liveIndexed = live;
    }
    const cl = summarise(L, P, used, usedV, prm);
    // Vertices that repeat an earlier cluster of this class carry no support of their own.
    for (let v = 0; v < L.n; v++) {
      const a = Math.max(0, v - 1);
      const b = Math.min(L.n - 1, v + 1);
      let tx = L.x[b]! - L.x[a]!;
      let ty = L.y[b]! - L.y[a]!;
      const len = hypot(tx, ty) || 1;
      tx /= len;
      ty /= len;
      let dup = false;
      earlier.forEachWithin(L.x[v]!, L.y[v]!, prm.gateM, (k) => {
        if (Math.abs(tx * earlierT[2 * k]! + ty * earlierT[2 * k + 1]!) >= prm.cosMax) dup = true;
      });
      if (dup) cl.support[v] = 0;
    }
    if (L.closed) cl.support[L.n - 1] = cl.support[0]!;
    for (let v = 0; v < L.n; v++) {
      if (cl.support[v]! === 0) continue;
      const a = Math.max(0, v - 1);
      const b = Math.min(L.n - 1, v + 1);
      const tx = L.x[b]! - L.x[a]!;
      const ty = L.y[b]! - L.y[a]!;
      const len = hypot(tx, ty) || 1;
      earlier.insert(L.x[v]!, L.y[v]!, earlierT.length / 2);
      earlierT.push(tx / len, ty / len);
    }
    clusters.push(cl);
  }
  return clusters;
}

function memberPoints(members: readonly number[], itemStart: readonly number[], itemEnd: readonly number[]): Int32Array {
  let n = 0;
  for (const m of members) n += itemEnd[m]! - itemStart[m]!;
  const out = new Int32Array(n);
  let k = 0;
  for (const m of members) for (let i = itemStart[m]!; i < itemEnd[m]!; i++) out[k++] = i;
  return out;
}

/** Does the item [s, e) run along L? Points past L's ends are neutral. */
function accepts(L: Polyline, P: LinePoints, s: number, e: number, prm: LineParams, pr: Projection): boolean {
  let good = 0;
  let bad = 0;
  const n = L.n;
  const sx = L.x[0]!;
  const sy = L.y[0]!;
  const ex = L.x[n - 1]!;
  const ey = L.y[n - 1]!;
  const stx = sx - L.x[1]!;
  const sty = sy - L.y[1]!;
  const etx = ex - L.x[n - 2]!;
  const ety = ey - L.y[n - 2]!;
  let hint = -1;
  pr.maxDistM = 2 * prm.gateM;
  for (let i = s; i < e; i++) {
    const x = P.x[i]!;
    const y = P.y[i]!;
    if (L.projectAt(P.x, P.y, i, pr, hint)) {
      hint = Math.floor(pr.pos) | 0;
      if (pr.beyond !== 0) continue;
      if (Math.abs(pr.lat) <= prm.gateM && Math.abs(P.tx[i]! * pr.tx + P.ty[i]! * pr.ty) >= prm.cosMax) {
        good++;
        continue;
      }
    } else if (!L.closed && ((x - sx) * stx + (y - sy) * sty > 0 || (x - ex) * etx + (y - ey) * ety > 0)) continue;
    bad++;
    // Rejected whatever the rest says: even all good would not reach the share, and the
    // item is no longer short enough to merely continue L.
    const best = good + (e - i - 1);
    if (good + bad > 2 && !(best >= 2 && best >= prm.minInlierShare * (best + bad))) return false;
  }
  if (good >= 2 && good >= prm.minInlierShare * (good + bad)) return true;
  return good + bad <= 2 && !L.closed && continues(L, P, s, e, prm);
}

/** Scratch of `endOf`: [ex, ey, ox, oy] (no object per call: `accepts` runs millions of times). */
const endBuf = new Float64Array(4);

/** An end of L (the last vertex when `atEnd`, else the first) and the unit tangent pointing out of L there, into endBuf. */
function endOf(L: Polyline, atEnd: boolean): void {
  const n = L.n;
  const ex = atEnd ? L.x[n - 1]! : L.x[0]!;
  const ey = atEnd ? L.y[n - 1]! : L.y[0]!;
  const ox = atEnd ? ex - L.x[n - 2]! : ex - L.x[1]!;
  const oy = atEnd ? ey - L.y[n - 2]! : ey - L.y[1]!;
  const ol = hypot(ox, oy) || 1;
  endBuf[0] = ex;
  endBuf[1] = ey;
  endBuf[2] = ox / ol;
  endBuf[3] = oy / ol;
}

/**
 * Does the item continue L past one of its ends? The edge sends consecutive crops of the road
 * that abut end to start (each place once per drive), so a piece that merely continues a line
 * overlaps it by a point or none: it joins when one of its ends lies within the gate of an end
 * of L, it heads outward along L's end tangent, and its far end lies beyond.
 */
function continues(L: Polyline, P: LinePoints, s: number, e: number, prm: LineParams): boolean {
  if (e - s < 2) return false;
  for (let end = 0; end < 2; end++) {
    endOf(L, end === 1);
    const ex = endBuf[0]!;
    const ey = endBuf[1]!;
    const ox = endBuf[2]!;
    const oy = endBuf[3]!;
    // The item's start, then its end, as the end near L's.
    for (let side = 0; side < 2; side++) {
      const near = side === 0 ? s : e - 1;
      const next = side === 0 ? s + 1 : e - 2;
      const far = side === 0 ? e - 1 : s;
      const dx = P.x[near]! - ex;
      const dy = P.y[near]! - ey;
      if (dx * dx + dy * dy > prm.gateM * prm.gateM * 2.25) continue;
      // Lateral offset from L's end tangent within the gate, direction outward and aligned.
      if (Math.abs(ox * dy - oy * dx) > prm.gateM) continue;
      let tx = P.x[next]! - P.x[near]!;
      let ty = P.y[next]! - P.y[near]!;
      const tl = hypot(tx, ty) || 1;
      tx /= tl;
      ty /= tl;
      if (tx * ox + ty * oy < prm.cosMax) continue;
      if ((P.x[far]! - ex) * ox + (P.y[far]! - ey) * oy <= 0) continue;
      return true;
    }
  }
  return false;
}

/**
 * Extends each end of L along the member that reaches furthest past it (members found by a
 * grid query at the end). Returns the new line and how many vertices were added at each end,
 * or undefined when no member reaches past either end.
 */
function extendEnds(
  L: Polyline,
  P: LinePoints,
  grid: PointGrid,
  pointItem: Int32Array,
  memberOf: readonly number[],
  cid: number,
  itemStart: readonly number[],
  itemEnd: readonly number[],
  prm: LineParams,
): { line: Polyline; head: number; tail: number } | undefined {
  if (L.closed) return undefined;
  const runs: Array<{ xs: number[]; ys: number[] } | undefined> = [];
  for (const atEnd of [false, true]) {
    endOf(L, atEnd);
    const ex = endBuf[0]!;
    const ey = endBuf[1]!;
    const ox = endBuf[2]!;
    const oy = endBuf[3]!;
    // Nearest point to the end of each member item near it.
    const nearest = new Map<number, [number, number]>();
    grid.forEachWithin(ex, ey, prm.gateM, (i, d2) => {
      const it = pointItem[i]!;
      if (it < 0 || memberOf[it] !== cid) return;
      const cur = nearest.get(it);
      if (!cur || d2 < cur[1]) nearest.set(it, [i, d2]);
    });
    let best: { xs: number[]; ys: number[] } | undefined;
    for (const [m, [j]] of nearest) {
      const s = itemStart[m]!;
      const e = itemEnd[m]!;
      let dir = 0;
      if (j + 1 < e && (P.x[j + 1]! - P.x[j]!) * ox + (P.y[j + 1]! - P.y[j]!) * oy > 0) dir = 1;
      else if (j - 1 >= s && (P.x[j - 1]! - P.x[j]!) * ox + (P.y[j - 1]! - P.y[j]!) * oy > 0) dir = -1;
      if (!dir) continue;
      const count = dir > 0 ? e - 1 - j : j - s;
      if (best && count <= best.xs.length) continue;
      const dx = ex - P.x[j]!;
      const dy = ey - P.y[j]!;
      const xs: number[] = [];
      const ys: number[] = [];
      for (let i = j + dir; i >= s && i < e; i += dir) {
        xs.push(P.x[i]! + dx);
        ys.push(P.y[i]! + dy);
      }
      best = { xs, ys };
    }
    runs.push(best);
  }
  const [head, tail] = runs;
  if (!head && !tail) return undefined;
  const nh = head?.xs.length ?? 0;
  const nt = tail?.xs.length ?? 0;
  const x = new Float64Array(nh + L.n + nt);
  const y = new Float64Array(nh + L.n + nt);
  for (let k = 0; k < nh; k++) {
    x[nh - 1 - k] = head!.xs[k]!;
    y[nh - 1 - k] = head!.ys[k]!;
  }
  x.set(L.x, nh);
  y.set(L.y, nh);
  for (let k = 0; k < nt; k++) {
    x[nh + L.n + k] = tail!.xs[k]!;
    y[nh + L.n + k] = tail!.ys[k]!;
  }
  const loop = closeLoop(x, y, L, nh, nt, prm);
  if (loop) return { line: loop, head: 0, tail: 0 };
  return { line: new Polyline(x, y), head: nh, tail: nt };
}

/**
 * Do vertices 0..k-1 (closed back onto vertex 0) enclose a loop rather than trace one line out
 * and back? Their mean radius 2 * |area| / perimeter (a circle's radius; for a line doubled
 * back on itself, the distance between the two passes) must exceed two gates: passes closer
 * than that are the same paint seen by drives a gate apart, which extensions along noisy
 * members can turn round onto; a kerb round an island of even a few metres clears it.
 */
function enclosesLoop(x: Float64Array, y: Float64Array, k: number, gateM: number): boolean {
  let area2 = 0;
  let perimeter = 0;
  for (let i = 0; i < k; i++) {
    const j = i + 1 < k ? i + 1 : 0;
    area2 += x[i]! * y[j]! - x[j]! * y[i]!;
    perimeter += hypot(x[j]! - x[i]!, y[j]! - y[i]!);
  }
  // 2 * |area| / perimeter = |area2| / perimeter.
  return Math.abs(area2) > 2 * gateM * perimeter;
}

/**
 * The closed line that the extended line (x, y) forms, if an extension ran back onto the line
 * itself: a new tail vertex k that lies within 1.5 gates (the tolerance `continues` gives an
 * end: the two sides were extended along different drives' shapes) of an earlier vertex j,
 * heading the way the line runs at j, after the line turned by more than half a turn between
 * them (a loop turns by a full one; a line merely passing near itself again, or its own
 * neighbouring vertices, has not turned); or, the same from the other side, a new head vertex
 * onto a later one. The loop is vertices j..k-1 closed on j: what lay past k went round a
 * second time, and what lay before j is a spur that reached the loop from outside (an exit's
 * kerb, a stray member) and goes back to the pool as a line of its own. `old` is the line
 * before this extension (nh head and nt tail vertices were added round it); it had no loop, so
 * one involves a new vertex, and `old`'s vertex grid finds its partner.
 * When vertices j..k-1 enclose no loop (`enclosesLoop`) the line stays open (and grows on as
 * before: such out-and-back lines come from noisy members, and cutting them lost more good
 * paint elsewhere than it saved).
 */
function closeLoop(x: Float64Array, y: Float64Array, old: Polyline, nh: number, nt: number, prm: LineParams): Polyline | undefined {
  const m = x.length;
  if (m < 4) return undefined;
  // turnTo[i]: turning angle summed from segment 0 to segment i (segment i runs from i to i + 1).
  const turnTo = new Float64Array(m - 1);
  let px = NaN;
  let py = NaN;
  for (let i = 0; i < m - 1; i++) {
    const vx = x[i + 1]! - x[i]!;
    const vy = y[i + 1]! - y[i]!;
    const vl = hypot(vx, vy);
    let a = 0;
    if (vl > 0) {
      const ux = vx / vl;
      const uy = vy / vl;
      if (!Number.isNaN(px)) a = Math.atan2(px * uy - py * ux, px * ux + py * uy);
      px = ux;
      py = uy;
    }
    turnTo[i] = (i > 0 ? turnTo[i - 1]! : 0) + a;
  }
  const tol = 1.5 * prm.gateM;
  const pr = projection;
  pr.maxDistM = tol;
  /**
   * Is j..k-1, closed on j, a loop (1): near, heading alike, a full turn, area inside? 0 when
   * not; -1 when all but the area holds: the line turned back onto itself, and any later
   * candidate would only be the same out-and-back path once more round (so stop looking).
   */
  const loopAt = (j: number, k: number): number => {
    if (k - j < 3 || k > m - 1 || j + 1 >= m) return 0;
    if (hypot(x[k]! - x[j]!, y[k]! - y[j]!) > tol) return 0;
    const ax = x[j + 1]! - x[j]!;
    const ay = y[j + 1]! - y[j]!;
    const bx = x[k]! - x[k - 1]!;
    const by = y[k]! - y[k - 1]!;
    const al = hypot(ax, ay);
    const bl = hypot(bx, by);
    if (!(al > 0 && bl > 0) || (ax * bx + ay * by) / (al * bl) < prm.cosMax) return 0;
    if (Math.abs(turnTo[k - 1]! - turnTo[j]!) <= Math.PI) return 0;
    return enclosesLoop(x.subarray(j, k), y.subarray(j, k), k - j, prm.gateM) ? 1 : -1;
  };
  const closed = (j: number, k: number): Polyline => {
    const cx = new Float64Array(k - j + 1);
    const cy = new Float64Array(k - j + 1);
    cx.set(x.subarray(j, k));
    cy.set(y.subarray(j, k));
    cx[k - j] = x[j]!;
    cy[k - j] = y[j]!;
    return new Polyline(cx, cy);
  };
  // New tail vertices, in order: onto a new head vertex, else onto the old line.
  for (let k = m - nt; k < m; k++) {
    for (let j = 0; j < nh; j++) {
      const at = loopAt(j, k);
      if (at !== 0) return at > 0 ? closed(j, k) : undefined;
    }
    if (old.projectAt(x, y, k, pr)) {
      const j = nh + vertexAt(old, pr.pos);
      const at = loopAt(j, k);
      if (at !== 0) return at > 0 ? closed(j, k) : undefined;
    }
  }
  // New head vertices, nearest the old line first: onto the old line.
  for (let i = nh - 1; i >= 0; i--) {
    if (!old.projectAt(x, y, i, pr)) continue;
    const j = nh + vertexAt(old, pr.pos);
    const at = loopAt(i, j);
    if (at !== 0) return at > 0 ? closed(i, j) : undefined;
  }
  return undefined;
}

/**
 * Scratch of `perVertex` (synchronous and never re-entered: its callers' visits do not call it),
 * grown as needed, so a refit allocates nothing per point. dSum / dCnt are all zero between calls.
 */
const pv = {
  entV: new Int32Array(1024),
  entP: new Int32Array(1024),
  entLat: new Float64Array(1024),
  order: new Int32Array(1024),
  count: new Int32Array(256),
  fill: new Int32Array(256),
  dSum: new Float64Array(256),
  dCnt: new Int32Array(256),
  touched: new Int32Array(64),
  lats: new Float64Array(64),
  pts2: new Int32Array(64),
  /** Largest drive index among the entries. */
  maxDrive: 0,
};

/**
 * Per-vertex robust lateral offsets of the given points: each drive's mean offset at the
 * vertex, then `visit(v, offsets of the drives, count, points)`. `vertexOf(k)` fixes the vertex
 * of pts[k] (else the nearest vertex of its projection).
 */
function perVertex(
  L: Polyline,
  P: LinePoints,
  pts: ArrayLike<number>,
  vertexOf: ArrayLike<number> | null,
  prm: LineParams,
  visit: (v: number, driveLats: Float64Array, nDrives: number, points: Int32Array, nPoints: number) => void,
): void {
  // Two functions, so V8 optimises (and on-stack-replaces) each long loop with the other's type
  // feedback complete, instead of throwing optimised code away at the first vertex.
  const m = projectEntries(L, P, pts, vertexOf, prm);
  visitEntries(L, P, m, visit);
}

/** perVertex, step 1: the points alongside L into pv.entV / entP / entLat (and pv.maxDrive); returns their count. */
function projectEntries(L: Polyline, P: LinePoints, pts: ArrayLike<number>, vertexOf: ArrayLike<number> | null, prm: LineParams): number {
  const pr = projection;
  pr.maxDistM = prm.gateM;
  const m0 = pts.length;
  if (pv.entV.length < m0) {
    const size = Math.max(m0, 2 * pv.entV.length);
    pv.entV = new Int32Array(size);
    pv.entP = new Int32Array(size);
    pv.entLat = new Float64Array(size);
    pv.order = new Int32Array(size);
  }
  const entV = pv.entV;
  const entP = pv.entP;
  const entLat = pv.entLat;
  let m = 0;
  let maxDrive = 0;
  let hint = -1;
  let prevI = -2;
  for (let k = 0; k < m0; k++) {
    const i = pts[k]!;
    if (i !== prevI + 1) hint = -1;
    prevI = i;
    if (!L.projectAt(P.x, P.y, i, pr, hint)) {
      hint = -1;
      continue;
    }
    hint = Math.floor(pr.pos) | 0;
    if (pr.beyond !== 0 || Math.abs(P.tx[i]! * pr.tx + P.ty[i]! * pr.ty) < prm.cosMax) continue;
    entV[m] = vertexOf ? vertexOf[k]! : vertexAt(L, pr.pos);
    entP[m] = i;
    entLat[m] = pr.lat;
    m++;
    const d = P.drive[i]!;
    if (d > maxDrive) maxDrive = d;
  }
  pv.maxDrive = maxDrive;
  return m;
}

/** perVertex, step 2: the m entries bucketed by vertex, per-drive means, `visit` each vertex. */
function visitEntries(L: Polyline, P: LinePoints, m: number, visit: (v: number, driveLats: Float64Array, nDrives: number, points: Int32Array, nPoints: number) => void): void {
  const entV = pv.entV;
  const entP = pv.entP;
  const entLat = pv.entLat;
  const maxDrive = pv.maxDrive;
  // Bucket by vertex (counting sort).
  if (pv.count.length < L.n + 1) {
    pv.count = new Int32Array(2 * (L.n + 1));
    pv.fill = new Int32Array(2 * (L.n + 1));
  }
  const count = pv.count;
  count.fill(0, 0, L.n + 1);
  for (let k = 0; k < m; k++) count[entV[k]! + 1] = count[entV[k]! + 1]! + 1;
  for (let v = 0; v < L.n; v++) count[v + 1] = count[v + 1]! + count[v]!;
  const order = pv.order;
  const fill = pv.fill;
  fill.set(count.subarray(0, L.n));
  for (let k = 0; k < m; k++) {
    const v = entV[k]!;
    order[fill[v]!] = k;
    fill[v] = fill[v]! + 1;
  }
  // Per-drive sums at one vertex, reset through the list of drives touched.
  if (pv.dSum.length < maxDrive + 1) {
    pv.dSum = new Float64Array(2 * (maxDrive + 1));
    pv.dCnt = new Int32Array(2 * (maxDrive + 1));
  }
  const dSum = pv.dSum;
  const dCnt = pv.dCnt;
  for (let v = 0; v < L.n; v++) {
    const a = count[v]!;
    const b = count[v + 1]!;
    const c = b - a;
    if (!c) continue;
    if (pv.pts2.length < c) {
      pv.touched = new Int32Array(2 * c);
      pv.lats = new Float64Array(2 * c);
      pv.pts2 = new Int32Array(2 * c);
    }
    const touched = pv.touched;
    const lats = pv.lats;
    const pts2 = pv.pts2;
    let nd = 0;
    for (let k = 0; k < c; k++) {
      const e = order[a + k]!;
      const d = P.drive[entP[e]!]!;
      if (dCnt[d] === 0) touched[nd++] = d;
      dSum[d] = dSum[d]! + entLat[e]!;
      dCnt[d] = dCnt[d]! + 1;
      pts2[k] = entP[e]!;
    }
    for (let j = 0; j < nd; j++) {
      const d = touched[j]!;
      lats[j] = dSum[d]! / dCnt[d]!;
      dSum[d] = 0;
      dCnt[d] = 0;
    }
    visit(v, lats, nd, pts2, c);
  }
}
const projection = newProjection();

/** One refit of L to the points: median lateral offset per vertex, smoothed, resampled. */
export function refit(L: Polyline, P: LinePoints, pts: ArrayLike<number>, prm: LineParams): Polyline {
  if (L.closed) return refitClosed(L, P, pts, prm);
  const off = new Float64Array(L.n).fill(NaN);
  perVertex(L, P, pts, null, prm, (v, lats, nd) => {
    off[v] = medianInPlace(lats, nd);
  });
  if (!fillGaps(off)) return L;
  const sm = smooth(off, prm.smoothBins);
  const tx = new Float64Array(L.n);
  const ty = new Float64Array(L.n);
  vertexTangents(L.x, L.y, 0, L.n, tx, ty, 0);
  const x = new Float64Array(L.n);
  const y = new Float64Array(L.n);
  for (let v = 0; v < L.n; v++) {
    x[v] = L.x[v]! - ty[v]! * sm[v]!;
    y[v] = L.y[v]! + tx[v]! * sm[v]!;
  }
  const r = resampleFlat(x, y, 0, L.n, prm.spacingM);
  return r.x.length >= 2 ? new Polyline(r.x, r.y) : L;
}

/**
 * `refit` of a closed line: the same per-vertex medians, gaps filled and smoothing done round
 * the loop (its m = n - 1 distinct vertices), tangents across the seam, resampled and closed.
 */
function refitClosed(L: Polyline, P: LinePoints, pts: ArrayLike<number>, prm: LineParams): Polyline {
  const m = L.n - 1;
  const off = new Float64Array(m).fill(NaN);
  // Points are bucketed by `vertexAt`, so the closing vertex (index m) never gets any.
  perVertex(L, P, pts, null, prm, (v, lats, nd) => {
    if (v < m) off[v] = medianInPlace(lats, nd);
  });
  if (!fillGapsCyclic(off)) return L;
  const sm = smoothCyclic(off, prm.smoothBins);
  const tx = new Float64Array(m);
  const ty = new Float64Array(m);
  vertexTangents(L.x, L.y, 0, m, tx, ty, 0, true);
  const x = new Float64Array(m + 1);
  const y = new Float64Array(m + 1);
  for (let v = 0; v < m; v++) {
    x[v] = L.x[v]! - ty[v]! * sm[v]!;
    y[v] = L.y[v]! + tx[v]! * sm[v]!;
  }
  x[m] = x[0]!;
  y[m] = y[0]!;
  const r = resampleFlat(x, y, 0, m + 1, prm.spacingM);
  const k = r.x.length - 1;
  if (k < 3) return L;
  // Resampling ends on the closing vertex up to rounding: make it the first, bit for bit.
  r.x[k] = r.x[0]!;
  r.y[k] = r.y[0]!;
  return new Polyline(r.x, r.y);
}

/** `fillGaps` round a loop: NaN runs interpolated between their neighbours across the seam. */
function fillGapsCyclic(a: Float64Array): boolean {
  const m = a.length;
  let first = -1;
  for (let i = 0; i < m; i++) {
    if (!Number.isNaN(a[i]!)) {
      first = i;
      break;
    }
  }
  if (first < 0) return false;
  let prev = first;
  for (let step = 1; step <= m; step++) {
    const i = (first + step) % m;
    if (Number.isNaN(a[i]!)) continue;
    const gap = step - ((prev - first + m) % m);
    for (let k = 1; k < gap; k++) a[(prev + k) % m] = a[prev]! + ((a[i]! - a[prev]!) * k) / gap;
    prev = i;
  }
  return true;
}

/** Moving average with half-window h round a loop (the window wraps; at most the whole loop). */
function smoothCyclic(a: Float64Array, h: number): Float64Array {
  const m = a.length;
  if (h <= 0) return a;
  const w = Math.min(h, (m - 1) >> 1);
  const out = new Float64Array(m);
  for (let i = 0; i < m; i++) {
    let s = 0;
    for (let k = -w; k <= w; k++) s += a[(i + k + m) % m]!;
    out[i] = s / (2 * w + 1);
  }
  return out;
}

/** Support, spread and attribute votes per vertex from the consumed points. */
function summarise(L: Polyline, P: LinePoints, used: number[], usedV: number[], prm: LineParams): LineCluster {
  const support = new Int32Array(L.n);
  const spread = new Float32Array(L.n);
  const votes = new Float32Array(L.n * 3);
  const tmp = new Float64Array(256);
  perVertex(L, P, used, usedV, { ...prm, gateM: prm.gateM * 1.5 }, (v, lats, nd, entries, ne) => {
    support[v] = nd;
    if (nd >= 2) {
      const med = medianInPlace(lats, nd);
      const dev = nd <= tmp.length ? tmp : new Float64Array(nd);
      for (let k = 0; k < nd; k++) dev[k] = Math.abs(lats[k]! - med);
      spread[v] = 1.4826 * medianInPlace(dev, nd);
    }
    for (let k = 0; k < ne; k++) {
      const i = entries[k]!;
      const a = P.attr[i]!;
      if (a >= 0 && a < 3) votes[v * 3 + a] = votes[v * 3 + a]! + P.weight[i]!;
    }
  });
  if (L.closed) {
    // The closing vertex is the first one (its points were bucketed there by `vertexAt`).
    const last = L.n - 1;
    support[last] = support[0]!;
    spread[last] = spread[0]!;
    for (let a = 0; a < 3; a++) votes[last * 3 + a] = votes[a]!;
  }
  return { x: L.x, y: L.y, support, spread, votes, pts: Int32Array.from(used), ptVertex: Int32Array.from(usedV), closed: L.closed };
}

/** Linear interpolation over NaN gaps, constant past the ends. False when all are NaN. */
function fillGaps(a: Float64Array): boolean {
  let prev = -1;
  for (let i = 0; i < a.length; i++) {
    if (Number.isNaN(a[i]!)) continue;
    if (prev < 0) a.fill(a[i]!, 0, i);
    else for (let k = prev + 1; k < i; k++) a[k] = a[prev]! + ((a[i]! - a[prev]!) * (k - prev)) / (i - prev);
    prev = i;
  }
  if (prev < 0) return false;
  a.fill(a[prev]!, prev + 1);
  return true;
}

/** Moving average with half-window h (shrinking at the ends). */
function smooth(a: Float64Array, h: number): Float64Array {
  if (h <= 0) return a;
  const out = new Float64Array(a.length);
  const cum = new Float64Array(a.length + 1);
  for (let i = 0; i < a.length; i++) cum[i + 1] = cum[i]! + a[i]!;
  for (let i = 0; i < a.length; i++) {
    const lo = Math.max(0, i - h);
    const hi = Math.min(a.length, i + h + 1);
    out[i] = (cum[hi]! - cum[lo]!) / (hi - lo);
  }
  return out;
}
