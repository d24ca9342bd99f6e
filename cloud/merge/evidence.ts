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
import { DynamicGrid, cellKey } from './grid.ts';
import type { MergeOptions } from './options.ts';
import type { Prepared, Resampled } from './prepare.ts';
import type { Consensus } from './consensus.ts';

export interface Evidence {
  supportDrives: number;
  supportObservations: number;
  firstSeenUnixMs: number;
  lastSeenUnixMs: number;
  /** Drives that passed without seeing it. */
  missedDrives: number;
  /** Of those, drives that passed after it was last seen. */
  missedSinceLastSeen: number;
  /** Confidence in [0, 1]. */
  score: number;
}

/** Where each drive segment saw anything (cells of footprintCellM, dilated by one cell). */
export class Footprint {
  private readonly cellM: number;
  private readonly cells = new Map<number, number[]>();
  private readonly p: Prepared;

  constructor(p: Prepared, r: Resampled, pos: { x: Float64Array; y: Float64Array }, cellM: number) {
    this.cellM = cellM;
    this.p = p;
    const order = Int32Array.from({ length: r.n }, (_, i) => i).sort((a, b) => p.seg[r.obs[a]!]! - p.seg[r.obs[b]!]!);
    const seen = new Set<number>();
    let cur = -1;
    for (const i of order) {
      const s = p.seg[r.obs[i]!]!;
      if (s !== cur) {
        seen.clear();
        cur = s;
      }
      const cx = Math.floor(pos.x[i]! / cellM);
      const cy = Math.floor(pos.y[i]! / cellM);
      for (let dx = -1; dx <= 1; dx++) {
        for (let dy = -1; dy <= 1; dy++) {
          const key = cellKey(cx + dx, cy + dy);
          if (seen.has(key)) continue;
          seen.add(key);
          const list = this.cells.get(key);
          if (list) list.push(s);
          else this.cells.set(key, [s]);
        }
      }
    }
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
      const len = Math.hypot(b[0] - a[0], b[1] - a[1]);
      const k = Math.max(1, Math.ceil(len / step));
      for (let j = 0; j <= k; j++) add(a[0] + ((b[0] - a[0]) * j) / k, a[1] + ((b[1] - a[1]) * j) / k);
    }
    const covered = new Map<number, number>();
    const lastT = new Map<number, number>();
    for (const key of keys) {
      const segList = this.cells.get(key);
      if (!segList) continue;
      const drivesHere = new Set<number>();
      for (const s of segList) {
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
}

export function evidenceOf(c: Consensus, p: Prepared, fp: Footprint): Evidence {
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
  for (const [d, t] of fp.passing(c.points, c.cls === 'crosswalk')) {
    if (drives.has(d)) continue;
    missed++;
    if (t > last) missedSince++;
  }
  const n = drives.size;
  const ratio = n / (n + missed);
  const meanScore = c.obs.length ? scoreSum / c.obs.length : 0;
  const score = (1 - Math.exp(-n / 3)) * (0.4 + 0.6 * ratio) * (0.6 + 0.4 * meanScore) / (1 + (c.spreadM / 0.3) ** 2);
  return {
    supportDrives: n,
    supportObservations: c.obs.length,
    firstSeenUnixMs: first,
    lastSeenUnixMs: last,
    missedDrives: missed,
    missedSinceLastSeen: missedSince,
    score: Math.round(Math.min(1, Math.max(0, score)) * 1000) / 1000,
  };
}

export function isStale(e: Evidence, o: MergeOptions): boolean {
  return o.staleAfterMissedDrives > 0 && e.missedSinceLastSeen >= o.staleAfterMissedDrives;
}

/**
 * Which primitives are shadows of a much better supported one of the same class (see
 * MergeOptions.shadowSupportRatio). Lines are sampled every metre; a primitive is a shadow when
 * at least half its samples have such a neighbour. Returns a flag per primitive.
 */
export function shadows(list: ReadonlyArray<{ c: Consensus; e: Evidence }>, o: MergeOptions): boolean[] {
  const grid = new DynamicGrid(4);
  const samples = list.map(({ c }) => samplesOf(c.points, c.cls === 'crosswalk'));
  samples.forEach((pts, k) => {
    for (const [x, y] of pts) grid.insert(x, y, k);
  });
  return list.map(({ c, e }, k) => {
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
    const k = Math.max(1, Math.ceil(Math.hypot(b[0] - a[0], b[1] - a[1])));
    for (let j = 0; j < k; j++) out.push([a[0] + ((b[0] - a[0]) * j) / k, a[1] + ((b[1] - a[1]) * j) / k]);
  }
  if (!closed) out.push([points[n - 1]![0], points[n - 1]![1]]);
  return out;
}
