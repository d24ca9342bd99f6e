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
 */
import { DynamicGrid, PointGrid } from './grid.ts';
import { Polyline, hypot, newProjection, resampleFlat, vertexTangents, medianInPlace, type Projection } from './polyline.ts';

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
        ranges = [
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
          vert[i - s] = Math.min(L.n - 1, Math.round(pr.pos));
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
    } else if ((x - sx) * stx + (y - sy) * sty > 0 || (x - ex) * etx + (y - ey) * ety > 0) continue;
    bad++;
    // Rejected whatever the rest says: even all good would not reach the share, and the
    // item is no longer short enough to merely continue L.
    const best = good + (e - i - 1);
    if (good + bad > 2 && !(best >= 2 && best >= prm.minInlierShare * (best + bad))) return false;
  }
  if (good >= 2 && good >= prm.minInlierShare * (good + bad)) return true;
  return good + bad <= 2 && continues(L, P, s, e, prm);
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
  return { line: new Polyline(x, y), head: nh, tail: nt };
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
    entV[m] = vertexOf ? vertexOf[k]! : Math.min(L.n - 1, Math.round(pr.pos));
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
  return { x: L.x, y: L.y, support, spread, votes, pts: Int32Array.from(used), ptVertex: Int32Array.from(usedV) };
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
