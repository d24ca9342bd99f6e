/**
 * Evidence for and against each consensus primitive, over time.
 *
 * For: the distinct drives and observations that support it, and when they saw it.
 * Against: drives that passed the place (their aligned observations of anything cover the
 * primitive's footprint) without seeing it. A primitive that the last `staleAfterMissedDrives`
 * drives passing it all missed is gone from the road (removed paint, a moved sign): it is
 * dropped, which the change summary then reports as removed. A weak primitive in the shadow
 * of a much better supported one of its class is a ghost of it: dropped too.
 */
import type { XY } from '../../shared/schema.ts';
import { CELL_OFFSET, CELL_SPAN, DynamicGrid, cellKey } from './grid.ts';
import type { MergeOptions } from './options.ts';
import type { Prepared, Resampled } from './prepare.ts';
import type { Consensus } from './consensus.ts';
import { hypot, medianInPlace, newProjection, Polyline, vertexAt } from './polyline.ts';

export interface Evidence {
  supportDrives: number;
  supportObservations: number;
  firstSeenUnixMs: number;
  lastSeenUnixMs: number;
  /** Drives that passed without seeing it. */
  missedDrives: number;
  /** Of those, drives that passed after it was last seen. */
  missedSinceLastSeen: number;
  /**
   * Drives that passed it no later than `newAfterUnixMs` without seeing it (Infinity: every
   * missing drive). 0 for a primitive first seen after that time: nobody had looked there
   * before, so it is new coverage, not a change on the ground.
   */
  missedBeforeNew: number;
  /**
   * Of the drives that passed its place, the share that saw it, in [0, 1] (for a primitive first
   * seen after `newAfterUnixMs`, only the drives since its first sighting count).
   */
  seenShare: number;
  /** Confidence in [0, 1]. */
  score: number;
}

/** Where each drive segment saw anything (cells of footprintCellM, dilated by one cell). */
export class Footprint {
  private readonly cellM: number;
  private readonly p: Prepared;
  /** Dense cells over the points' extent (plus the dilation): segments of cell c are segs[start[c] .. start[c + 1]). */
  private readonly cx0: number;
  private readonly cy0: number;
  private readonly w: number;
  private readonly h: number;
  private readonly start: Int32Array;
  private readonly segs: Int32Array;

  constructor(p: Prepared, r: Resampled, pos: { x: Float64Array; y: Float64Array }, cellM: number) {
    this.cellM = cellM;
    this.p = p;
    let minX = Infinity;
    let minY = Infinity;
    let maxX = -Infinity;
    let maxY = -Infinity;
    const pcx = new Int32Array(r.n);
    const pcy = new Int32Array(r.n);
    for (let i = 0; i < r.n; i++) {
      const cx = Math.floor(pos.x[i]! / cellM);
      const cy = Math.floor(pos.y[i]! / cellM);
      pcx[i] = cx;
      pcy[i] = cy;
      if (cx < minX) minX = cx;
      if (cx > maxX) maxX = cx;
      if (cy < minY) minY = cy;
      if (cy > maxY) maxY = cy;
    }
    if (!r.n) minX = minY = maxX = maxY = 0;
    this.cx0 = minX - 1;
    this.cy0 = minY - 1;
    this.w = maxX - minX + 3;
    this.h = maxY - minY + 3;
    const nCells = this.w * this.h;
    // Points by segment (counting sort: stable, so each segment's points keep their order).
    const segOf = new Int32Array(r.n);
    const segStart = new Int32Array(p.nSeg + 1);
    for (let i = 0; i < r.n; i++) {
      const s = p.seg[r.obs[i]!]!;
      segOf[i] = s;
      segStart[s + 1] = segStart[s + 1]! + 1;
    }
    for (let s = 0; s < p.nSeg; s++) segStart[s + 1] = segStart[s + 1]! + segStart[s]!;
    const fill = segStart.slice(0, p.nSeg);
    const order = new Int32Array(r.n);
    for (let i = 0; i < r.n; i++) order[fill[segOf[i]!]!++] = i;
    // Two passes over (segment, cell) pairs, each segment once per cell: count, then place.
    const stamp = new Int32Array(nCells).fill(-1);
    const count = new Int32Array(nCells + 1);
    const pairs = (visit: (c: number, s: number) => void): void => {
      stamp.fill(-1);
      for (let k = 0; k < r.n; k++) {
        const i = order[k]!;
        const s = segOf[i]!;
        const cx = pcx[i]! - this.cx0;
        const cy = pcy[i]! - this.cy0;
        for (let dx = -1; dx <= 1; dx++) {
          for (let dy = -1; dy <= 1; dy++) {
            const c = (cy + dy) * this.w + cx + dx;
            if (stamp[c] === s) continue;
            stamp[c] = s;
            visit(c, s);
          }
        }
      }
    };
    pairs((c) => {
      count[c + 1] = count[c + 1]! + 1;
    });
    for (let c = 0; c < nCells; c++) count[c + 1] = count[c + 1]! + count[c]!;
    this.start = count;
    this.segs = new Int32Array(count[nCells]!);
    const at = count.slice(0, nCells);
    pairs((c, s) => {
      this.segs[at[c]!++] = s;
    });
  }

  /** Drives whose footprint covers >= 70% of the primitive's cells, with the time they last passed. */
  passing(points: ReadonlyArray<readonly [number, number]>, closed: boolean): Map<number, number> {
    const keys = new Set<number>();
    const step = this.cellM / 2;
    const add = (x: number, y: number): void => {
      keys.add(cellKey(Math.floor(x / this.cellM), Math.floor(y / this.cellM)));
    };
    const n = points.length;
    const segs = closed ? n : n - 1;
    if (n === 1) add(points[0]![0], points[0]![1]);
    for (let i = 0; i < segs; i++) {
      const a = points[i]!;
      const b = points[(i + 1) % n]!;
      const len = hypot(b[0] - a[0], b[1] - a[1]);
      const k = Math.max(1, Math.ceil(len / step));
      for (let j = 0; j <= k; j++) add(a[0] + ((b[0] - a[0]) * j) / k, a[1] + ((b[1] - a[1]) * j) / k);
    }
    const covered = new Map<number, number>();
    const lastT = new Map<number, number>();
    const drivesHere = new Set<number>();
    for (const key of keys) {
      const c = this.cellIndex(key);
      if (c < 0 || this.start[c] === this.start[c + 1]) continue;
      drivesHere.clear();
      for (let k = this.start[c]!; k < this.start[c + 1]!; k++) {
        const s = this.segs[k]!;
        const d = this.p.segDrive[s]!;
        drivesHere.add(d);
        lastT.set(d, Math.max(lastT.get(d) ?? -Infinity, this.p.segT1[s]!));
      }
      for (const d of drivesHere) covered.set(d, (covered.get(d) ?? 0) + 1);
    }
    const out = new Map<number, number>();
    for (const [d, c] of covered) if (c >= 0.7 * keys.size) out.set(d, lastT.get(d)!);
    return out;
  }

  /** `passing` of one point, memoised per cell (a line's vertices a metre apart share theirs). */
  passingAt(x: number, y: number): ReadonlyMap<number, number> {
    const key = cellKey(Math.floor(x / this.cellM), Math.floor(y / this.cellM));
    let m = this.pointCache.get(key);
    if (!m) this.pointCache.set(key, (m = this.passing([[x, y]], false)));
    return m;
  }

  private readonly pointCache = new Map<number, Map<number, number>>();

  /** Dense index of the cell with key `key` (cellKey), -1 outside the grid. */
  private cellIndex(key: number): number {
    const cx = Math.floor(key / CELL_SPAN) - CELL_OFFSET - this.cx0;
    const cy = (key % CELL_SPAN) - CELL_OFFSET - this.cy0;
    return cx >= 0 && cx < this.w && cy >= 0 && cy < this.h ? cy * this.w + cx : -1;
  }
}

/**
 * `newAfterUnixMs`: the previous version's newest sighting. A primitive first seen after it is
 * new (fresh paint, a moved sign): the drives that passed before it existed are no misses, and its
 * seen-rate counts only those that passed since its first sighting. Any other primitive's counts
 * every passing drive.
 */
export function evidenceOf(c: Consensus, p: Prepared, fp: Footprint, newAfterUnixMs = Infinity): Evidence {
  const drives = new Set<number>();
  let first = Infinity;
  let last = -Infinity;
  let scoreSum = 0;
  for (const i of c.obs) {
    drives.add(p.drive[i]!);
    first = Math.min(first, p.tUnixMs[i]!);
    last = Math.max(last, p.tUnixMs[i]!);
    scoreSum += p.score[i]!;
  }
  let missed = 0;
  let missedSince = 0;
  let missedSinceFirst = 0;
  let missedBeforeNew = 0;
  for (const [d, t] of fp.passing(c.points, c.cls === 'crosswalk')) {
    if (drives.has(d)) continue;
    missed++;
    if (t <= newAfterUnixMs) missedBeforeNew++;
    if (t > last) missedSince++;
    if (t > first) missedSinceFirst++;
  }
  const n = drives.size;
  const ratio = n / (n + (first > newAfterUnixMs ? missedSinceFirst : missed));
  const meanScore = c.obs.length ? scoreSum / c.obs.length : 0;
  const score = (1 - Math.exp(-n / 3)) * seenTerm(ratio) * (0.6 + 0.4 * meanScore) / spreadDivisor(c.spreadM);
  return {
    supportDrives: n,
    supportObservations: c.obs.length,
    firstSeenUnixMs: first,
    lastSeenUnixMs: last,
    missedDrives: missed,
    missedSinceLastSeen: missedSince,
    missedBeforeNew,
    seenShare: Math.round(ratio * 1000) / 1000,
    score: Math.round(Math.min(1, Math.max(0, score)) * 1000) / 1000,
  };
}

/** The score's seen-rate term: 0.4 for a feature no drive that passed saw, 1 for one all saw. */
function seenTerm(seenShare: number): number {
  return 0.4 + 0.6 * seenShare;
}

/** Lateral spread of a line's drives at which its score halves, metres (see `spreadDivisor`). */
export const SPREAD_HALF_SCORE_M = 0.3;

/**
 * The score's placement term, a divisor: 1 for drives that agree to the centimetre, 2 at
 * SPREAD_HALF_SCORE_M of spread. It ranks a class's features by how well the drives place them.
 */
export function spreadDivisor(spreadM: number): number {
  return 1 + (spreadM / SPREAD_HALF_SCORE_M) ** 2;
}

/**
 * Share of the passing drives that must have seen a feature for `existenceScore` to forgive its
 * placement term: a majority.
 */
export const EXISTENCE_MIN_SEEN_SHARE = 0.5;

/**
 * How sure the merge is that a published feature is on the road, in [0, 1], from its published
 * properties. Change detection asks this of a new feature. Its score ranks features by how well
 * the drives place them too (`spreadDivisor`): a new stop line that every drive since saw, placed
 * 0.2 m apart along the road (the camera's range scatter per drive at a stop line), scores below
 * lines placed tighter, though it is there. So a feature that most of the passing drives saw
 * (EXISTENCE_MIN_SEEN_SHARE of `seenShare`) is judged by its score without the placement term;
 * any other, such as a stop line drawn from old observations that a third of the passing drives
 * saw, by its score. Without `seenShare` (tiles of older versions) it is the score.
 */
export function existenceScore(props: { score: number; spreadM?: number; seenShare?: number }): number {
  if (props.seenShare === undefined || props.seenShare < EXISTENCE_MIN_SEEN_SHARE) return props.score;
  return Math.min(1, props.score * spreadDivisor(props.spreadM ?? 0));
}

/**
 * Gone from the road: at least `staleAfterMissedDrives` drives passed since it was last seen and
 * missed it, and such a streak is unlikely (<= staleMaxMissChance) at the rate the drives that
 * passed before the streak saw it: (1 - h)^streak, h = supporting drives / drives that passed
 * before the streak. A primitive that only some passing drives see (at the edge of the field of
 * view, often occluded) is not dropped for a few misses.
 */
export function isStale(e: Evidence, o: MergeOptions): boolean {
  const streak = e.missedSinceLastSeen;
  if (o.staleAfterMissedDrives <= 0 || streak < o.staleAfterMissedDrives) return false;
  const passedBefore = e.supportDrives + e.missedDrives - streak;
  const seenRate = passedBefore > 0 ? e.supportDrives / passedBefore : 1;
  return (1 - seenRate) ** streak <= o.staleMaxMissChance;
}

/**
 * Which primitives are shadows of a much better supported one of the same class (see
 * MergeOptions.shadowSupportRatio). Lines are sampled every metre; a primitive is a shadow when
 * at least half its samples have such a neighbour. Returns a flag per primitive. A primitive
 * that `isNewPaint(k)` says is new paint (seen nearly only, and by several drives, since the
 * previous version) is never a shadow: paint repainted a metre aside is weaker than the old
 * line, whose many earlier observations still stand, but it is no ghost of it.
 */
export function shadows(list: ReadonlyArray<{ c: Consensus; e: Evidence }>, o: MergeOptions, isNewPaint: (k: number) => boolean = () => false): boolean[] {
  const grid = new DynamicGrid(4);
  const samples = list.map(({ c }) => samplesOf(c.points, c.cls === 'crosswalk'));
  samples.forEach((pts, k) => {
    for (const [x, y] of pts) grid.insert(x, y, k);
  });
  return list.map(({ c, e }, k) => {
    if (isNewPaint(k)) return false;
    const radius = c.points.length === 1 || c.cls === 'crosswalk' ? o.shadowPointM : o.shadowLineM;
    const pts = samples[k]!;
    let shadowed = 0;
    for (const [x, y] of pts) {
      let hit = false;
      grid.forEachWithin(x, y, radius, (j) => {
        if (j === k || hit) return;
        const other = list[j]!;
        if (other.c.cls === c.cls && other.e.supportDrives >= o.shadowSupportRatio * e.supportDrives) hit = true;
      });
      if (hit) shadowed++;
    }
    return shadowed * 2 >= pts.length;
  });
}

function samplesOf(points: ReadonlyArray<readonly [number, number]>, closed: boolean): Array<[number, number]> {
  if (points.length === 1) return [[points[0]![0], points[0]![1]]];
  const out: Array<[number, number]> = [];
  const n = points.length;
  for (let i = 0; i < (closed ? n : n - 1); i++) {
    const a = points[i]!;
    const b = points[(i + 1) % n]!;
    const k = Math.max(1, Math.ceil(hypot(b[0] - a[0], b[1] - a[1])));
    for (let j = 0; j < k; j++) out.push([a[0] + ((b[0] - a[0]) * j) / k, a[1] + ((b[1] - a[1]) * j) / k]);
  }
  if (!closed) out.push([points[n - 1]![0], points[n - 1]![1]]);
  return out;
}

/** Supporting drives with an observation after `afterUnixMs` (the previous version's newest sighting). */
export function recentDriveCount(c: Consensus, p: Prepared, afterUnixMs: number): number {
  const recent = new Set<number>();
  for (const i of c.obs) if (p.tUnixMs[i]! > afterUnixMs) recent.add(p.drive[i]!);
  return recent.size;
}

/** Observations after this time are "recent" (recentShiftM), before it "earlier": Unix ms. */
export interface RecentSplit {
  afterUnixMs: number;
  /** Distinct drives each side needs before a shift is stated. */
  minDrives: number;
}

/** Points of each observation: observation i's are x/y[start[i] .. start[i] + count[i]) (start -1: none). */
export interface ObservationPoints {
  start: Int32Array;
  count: Int32Array;
  x: Float64Array;
  y: Float64Array;
}

/**
 * Whether the drives since `split.afterUnixMs` show that a primitive of the previous version is
 * gone: at least `split.minDrives` of them passed its place (their footprints cover it) and none
 * of those saw its class along half of it or more (its 1 m samples within `gateM` of the drive's
 * points of that class; a sign or light: its one point). A previous feature that this merge
 * merely did not reproduce (re-cut, re-placed a metre or two by more drives) lacks that
 * evidence, and is not a removal; the neighbours of a removed stretch of line, which touch its
 * ends, do not hide it. With `alongM` (a short bar: a stop line), a sample counts as seen only
 * where a point lies within alongM of it along the line and gateM across: the neighbouring lane's
 * bar, which abuts a removed one end to end, is seen up to its own end, and a radial gate of
 * gateM would let it cover the removed bar's first metre and a half, half of a lane's bar.
 */
export function absentSince(points: ReadonlyArray<readonly [number, number]>, closed: boolean, cls: number, p: Prepared, obsPts: ObservationPoints, fp: Footprint, split: RecentSplit, gateM: number, alongM?: number): boolean {
  const passed = new Set<number>();
  for (const [d, t] of fp.passing(points, closed)) if (t > split.afterUnixMs) passed.add(d);
  if (passed.size < split.minDrives) return false;
  const ring = closed && points.length > 1 ? [...points, points[0]!] : points;
  const samples: Array<[number, number]> = [];
  const along = alongM !== undefined && ring.length > 1;
  /** With `alongM`, per sample the unit direction of the segment it lies on. */
  const dirs: Array<[number, number]> = [];
  if (ring.length === 1) samples.push([ring[0]![0], ring[0]![1]]);
  for (let s = 1; s < ring.length; s++) {
    const [ax, ay] = ring[s - 1]!;
    const [bx, by] = ring[s]!;
    const len = hypot(bx - ax, by - ay);
    const k = Math.max(1, Math.ceil(len));
    for (let j = s === 1 ? 0 : 1; j <= k; j++) {
      samples.push([ax + ((bx - ax) * j) / k, ay + ((by - ay) * j) / k]);
      if (along) dirs.push(len > 0 ? [(bx - ax) / len, (by - ay) / len] : [1, 0]);
    }
  }
  let minX = Infinity;
  let minY = Infinity;
  let maxX = -Infinity;
  let maxY = -Infinity;
  for (const [x, y] of samples) {
    minX = Math.min(minX, x - gateM);
    maxX = Math.max(maxX, x + gateM);
    minY = Math.min(minY, y - gateM);
    maxY = Math.max(maxY, y + gateM);
  }
  // Each passing drive's points of the class near the feature.
  const near = new Map<number, number[]>();
  for (let i = 0; i < p.nObs; i++) {
    const d = p.drive[i]!;
    if (p.cls[i] !== cls || !(p.tUnixMs[i]! > split.afterUnixMs) || !passed.has(d) || obsPts.start[i]! < 0) continue;
    for (let k = obsPts.start[i]!; k < obsPts.start[i]! + obsPts.count[i]!; k++) {
      const x = obsPts.x[k]!;
      const y = obsPts.y[k]!;
      if (x < minX || x > maxX || y < minY || y > maxY) continue;
      let list = near.get(d);
      if (!list) near.set(d, (list = []));
      list.push(x, y);
    }
  }
  const g2 = gateM * gateM;
  for (const list of near.values()) {
    let seen = 0;
    for (let j = 0; j < samples.length; j++) {
      const [x, y] = samples[j]!;
      const u = along ? dirs[j]! : undefined;
      for (let k = 0; k < list.length; k += 2) {
        const dx = list[k]! - x;
        const dy = list[k + 1]! - y;
        if (u ? Math.abs(dx * u[0] + dy * u[1]) <= alongM! && Math.abs(dx * u[1] - dy * u[0]) <= gateM : dx * dx + dy * dy <= g2) {
          seen++;
          break;
        }
      }
    }
    if (2 * seen >= samples.length) return false;
  }
  return true;
}

/**
 * A line primitive without the stretches that went stale: where the drives that passed a
 * stretch since it was last seen there all missed it, a streak unlikely at the rate the drives
 * before saw it (isStale's test, per vertex: `staleAfterMissedDrives`, `staleMaxMissChance`). Paint
 * removed or repainted inside a longer line goes, though the old observations still cover it:
 * the whole-feature test cannot see that. A vertex's support is the drives whose points project
 * within `gateM` of it or of its neighbours up to `windowM` along the line (gaps between one
 * drive's resampled points, dash gaps). Stale runs shorter than `minCutM` stay (a sliver);
 * the rest of the line comes back in pieces of >= 2 vertices, each with the members whose
 * points fall on it, and the stretches cut (`cut`, for the change list). Only vertices last seen
 * no later than `seenUntilUnixMs` (the previous version's newest sighting) can go: what no drive
 * since saw. Closed lines and lines without a stale run come back unchanged.
 */
export function withoutStaleStretches(c: Consensus, p: Prepared, pts: ObservationPoints, fp: Footprint, o: MergeOptions, gateM: number, windowM: number, minCutM: number, seenUntilUnixMs = Infinity): { pieces: Consensus[]; cut: XY[][] } {
  const n = c.points.length;
  const unchanged = { pieces: [c], cut: [] };
  if (o.staleAfterMissedDrives <= 0 || n < 2) return unchanged;
  const xs = Float64Array.from(c.points, (q) => q[0]);
  const ys = Float64Array.from(c.points, (q) => q[1]);
  const L = new Polyline(xs, ys);
  if (L.closed) return unchanged;
  // Per vertex: the drives whose points fall on it, and its latest sighting.
  const drivesAt: Array<Set<number>> = Array.from({ length: n }, () => new Set<number>());
  const lastAt = new Float64Array(n).fill(-Infinity);
  const vertexOfPoint = new Map<number, Int32Array>();
  const pr = newProjection();
  for (const i of c.obs) {
    const start = pts.start[i]!;
    if (start < 0) continue;
    const count = pts.count[i]!;
    const at = new Int32Array(count).fill(-1);
    let hint = -1;
    for (let k = 0; k < count; k++) {
      if (!L.project(pts.x[start + k]!, pts.y[start + k]!, gateM, pr, hint) || pr.beyond !== 0) continue;
      hint = Math.floor(pr.pos);
      const v = vertexAt(L, pr.pos);
      at[k] = v;
      drivesAt[v]!.add(p.drive[i]!);
      if (p.tUnixMs[i]! > lastAt[v]!) lastAt[v] = p.tUnixMs[i]!;
    }
    vertexOfPoint.set(i, at);
  }
  // Arc length at each vertex, for the window and the run lengths.
  const s = new Float64Array(n);
  for (let v = 1; v < n; v++) s[v] = s[v - 1]! + hypot(xs[v]! - xs[v - 1]!, ys[v]! - ys[v - 1]!);
  const stale = new Uint8Array(n);
  let any = false;
  let lo = 0;
  let hi = 0;
  const seen = new Set<number>();
  for (let v = 0; v < n; v++) {
    while (s[v]! - s[lo]! > windowM) lo++;
    while (hi + 1 < n && s[hi + 1]! - s[v]! <= windowM) hi++;
    seen.clear();
    let last = -Infinity;
    for (let u = lo; u <= hi; u++) {
      for (const d of drivesAt[u]!) seen.add(d);
      if (lastAt[u]! > last) last = lastAt[u]!;
    }
    if (seen.size === 0 || last > seenUntilUnixMs) continue;
    let streak = 0;
    let missedBefore = 0;
    for (const [d, t] of fp.passingAt(xs[v]!, ys[v]!)) {
      if (seen.has(d)) continue;
      if (t > last) streak++;
      else missedBefore++;
    }
    if (streak < o.staleAfterMissedDrives) continue;
    const h = seen.size / (seen.size + missedBefore);
    if ((1 - h) ** streak <= o.staleMaxMissChance) {
      stale[v] = 1;
      any = true;
    }
  }
  if (!any) return unchanged;
  // Stale runs shorter than minCutM are kept.
  const cut: XY[][] = [];
  for (let v = 0; v < n; ) {
    if (!stale[v]) {
      v++;
      continue;
    }
    let e = v;
    while (e < n && stale[e]) e++;
    if (s[e - 1]! - s[v]! < minCutM) stale.fill(0, v, e);
    else cut.push(c.points.slice(v, e).map((q) => [q[0], q[1]] as XY));
    v = e;
  }
  if (!cut.length) return unchanged;
  const out: Consensus[] = [];
  for (let v = 0; v < n; ) {
    if (stale[v]) {
      v++;
      continue;
    }
    let e = v;
    while (e < n && !stale[e]) e++;
    if (e - v >= 2) {
      const obs: number[] = [];
      for (const i of c.obs) {
        const at = vertexOfPoint.get(i);
        if (at && at.some((u) => u >= v && u < e)) obs.push(i);
      }
      if (obs.length) out.push({ ...c, points: c.points.slice(v, e), obs });
    }
    v = e;
  }
  return { pieces: out, cut };
}
