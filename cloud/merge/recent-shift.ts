/**
 * Where the drives since the previous version place a primitive against where the drives before
 * placed it: a primitive moved whole (`recentShiftM`), and stretches of a line moved while the
 * rest of it stays (`movedStretches`: a divider repainted aside for a few tens of metres inside
 * a longer line, which the whole line's shift dilutes).
 *
 * Both compare the two groups of drives in this merge's alignment, each drive counted once
 * (its median first), and state a shift only as a lower bound: the difference of the groups'
 * medians less 1.645 standard errors (one-sided 95 %), the errors from the spread across drives.
 * So a few recent drives whose GNSS residuals happen to fall on one side make no move, while
 * paint repainted 0.8 m aside, every recent drive agreeing, does.
 */
import type { XY } from '../../shared/schema.ts';
import { describeRing } from './cluster-shapes.ts';
import type { Consensus } from './consensus.ts';
import type { ObservationPoints, RecentSplit } from './evidence.ts';
import type { Prepared } from './prepare.ts';
import { hypot, medianInPlace, newProjection, Polyline } from './polyline.ts';

/** One drive's values, flat: `dim` numbers per value (1: lateral offsets; 2: positions x, y). */
type PerDrive = Map<number, number[]>;

/** The two groups' medians and the one-sided lower bound of the distance between them. */
interface GroupShift {
  /** Lower bound, metres, never below 0. */
  boundM: number;
  earlierAt: number[];
  recentAt: number[];
}

/**
 * The shift from the earlier drives to the recent ones: per group the median over drives of each
 * drive's median, and the lower bound of their distance. Undefined when either group has fewer
 * than `minDrives` drives with values.
 */
function groupShift(earlier: PerDrive, recent: PerDrive, dim: number, minDrives: number): GroupShift | undefined {
  // Component j of the values, every dim-th from j.
  const column = (v: readonly number[], j: number): number[] => v.filter((_, k) => k % dim === j);
  const distance = (u: readonly number[], w: readonly number[]): number => (dim === 1 ? Math.abs(u[0]! - w[0]!) : hypot(u[0]! - w[0]!, u[1]! - w[1]!));
  // Per group: the median over drives of each drive's median, and each drive's distance from it.
  const summary = (g: PerDrive): { at: number[]; dev: number[] } | undefined => {
    const perDrive: number[][] = [];
    for (const d of [...g.keys()].sort((x, y) => x - y)) {
      const vals = g.get(d)!;
      if (!vals.length) continue;
      perDrive.push(Array.from({ length: dim }, (_, j) => { const col = column(vals, j); return medianInPlace(col, col.length); }));
    }
    const n = perDrive.length;
    if (n < minDrives) return undefined;
    const at = Array.from({ length: dim }, (_, j) => medianInPlace(perDrive.map((r) => r[j]!), n));
    return { at, dev: perDrive.map((r) => distance(r, at)) };
  };
  const a = summary(earlier);
  const b = summary(recent);
  if (!a || !b) return undefined;
  // Each group's spread across drives (1.4826 x MAD), but never below the spread of both groups
  // pooled: two or three recent drives that happen to agree say little about it (a crosswalk's
  // partial views looked like a move), while recent drives that disagree keep their own, larger
  // one. Standard error of a median: sigma^2 x pi/2 / n per group.
  const mad = (dev: number[]): number => 1.4826 * medianInPlace(dev, dev.length); // sorts a copy
  const pooled = mad([...a.dev, ...b.dev]);
  const sa = Math.max(pooled, mad(a.dev));
  const sb = Math.max(pooled, mad(b.dev));
  const se = Math.sqrt((Math.PI / 2) * ((sa * sa) / a.dev.length + (sb * sb) / b.dev.length));
  return { boundM: Math.max(0, distance(b.at, a.at) - 1.645 * se), earlierAt: a.at, recentAt: b.at };
}

const isLineClass = (c: Consensus): boolean => c.cls !== 'traffic_sign' && c.cls !== 'traffic_light' && c.cls !== 'crosswalk';

/**
 * How far the drives since the previous version place a primitive from where the drives before
 * placed it, metres, a lower bound (groupShift): lines by the lateral offsets of their members'
 * vertices from the consensus line, points and polygons by the mean of each view's vertices, an
 * elongated crosswalk by that mean's position across its long axis only (a wide road's
 * crosswalk is seen in part, as far as each drive's camera reaches: its views' centres along
 * the axis move with the viewpoint, and the drives after a version need not have passed where
 * the drives before it did). A primitive the merge merely re-places as drives are added shifts
 * by ~0. Undefined when either side has fewer than `minDrives` drives.
 */
export function recentShiftM(c: Consensus, p: Prepared, vx: Float64Array, vy: Float64Array, split: RecentSplit): number | undefined {
  const isLine = isLineClass(c);
  const recent: PerDrive = new Map();
  const earlier: PerDrive = new Map();
  let line: Polyline | undefined;
  if (isLine) {
    if (c.points.length < 2) return undefined;
    line = new Polyline(Float64Array.from(c.points, (q) => q[0]), Float64Array.from(c.points, (q) => q[1]));
  }
  // A crosswalk long across the road: only its position along the road (across its long axis)
  // counts. Drives see a wide road's crosswalk only as far as their camera reaches, so their
  // views' centres along its axis move with where each drive passed.
  const across = !isLine && c.cls === 'crosswalk' ? acrossAxis(c.points) : undefined;
  const pr = newProjection();
  for (const i of c.obs) {
    const group = p.tUnixMs[i]! > split.afterUnixMs ? recent : earlier;
    const d = p.drive[i]!;
    let vals = group.get(d);
    if (!vals) group.set(d, (vals = []));
    const k0 = p.vStart[i]!;
    const n = p.vCount[i]!;
    if (line) {
      for (let k = k0; k < k0 + n; k++) if (line.project(vx[k]!, vy[k]!, Infinity, pr) && pr.beyond === 0) vals.push(pr.lat);
    } else if (n > 0) {
      let sx = 0;
      let sy = 0;
      for (let k = k0; k < k0 + n; k++) {
        sx += vx[k]!;
        sy += vy[k]!;
      }
      if (across) vals.push((sx / n) * across[0] + (sy / n) * across[1]);
      else vals.push(sx / n, sy / n);
    }
  }
  return groupShift(earlier, recent, isLine || across ? 1 : 2, split.minDrives)?.boundM;
}

/**
 * The unit normal of a ring's long axis (describeRing's principal axis), or undefined when the
 * ring is not elongated.
 */
function acrossAxis(ring: ReadonlyArray<readonly [number, number]>): [number, number] | undefined {
  if (ring.length < 3) return undefined;
  const { axis } = describeRing(ring);
  return Number.isNaN(axis) ? undefined : [-Math.sin(axis), Math.cos(axis)];
}

/** A stretch of a consensus line that the recent drives place aside from the earlier drives. */
export interface MovedStretch {
  /** Vertices from .. to (inclusive) of the consensus line. */
  from: number;
  to: number;
  /** Where the recent drives place it: their lateral offset from the consensus line, metres, positive to the left of its direction. */
  offsetM: number;
  /** Lower bound of the distance between the recent and the earlier drives' placements there, metres. */
  shiftM: number;
}

export interface MovedStretchOptions {
  /** Length of the bins along the line in which the two groups are first compared, metres. */
  binM: number;
  /** Shortest stretch reported, metres. */
  minLengthM: number;
  /** A stretch moved when the lower bound of its shift exceeds this, metres. */
  thresholdM: number;
  /** Recent drives a stretch needs (over the whole run), as many as a removal needs misses. */
  minRecentDrives: number;
}

/**
 * The stretches of line `c` that moved since the previous version: the members' resampled
 * points (`pts`) projected on the consensus line, binned by arc length (`binM`); bins where the
 * recent drives' median lies more than thresholdM from the earlier drives', on one side, runs of
 * at least minLengthM, are candidates, and a candidate is a move when at least minRecentDrives
 * recent drives saw it and its lower bound over the whole run (each drive's median over the run)
 * exceeds thresholdM. The consensus of a line
 * repainted over part of its length follows the many earlier drives there; this finds the
 * part. Runs covering the whole line are left to recentShiftM (the line moved whole). Closed
 * lines: none.
 */
export function movedStretches(c: Consensus, p: Prepared, pts: ObservationPoints, split: RecentSplit, o: MovedStretchOptions): MovedStretch[] {
  const n = c.points.length;
  if (!isLineClass(c) || n < 2) return [];
  const xs = Float64Array.from(c.points, (q) => q[0]);
  const ys = Float64Array.from(c.points, (q) => q[1]);
  const L = new Polyline(xs, ys);
  if (L.closed) return [];
  const s = new Float64Array(n);
  for (let v = 1; v < n; v++) s[v] = s[v - 1]! + hypot(xs[v]! - xs[v - 1]!, ys[v]! - ys[v - 1]!);
  const nBins = Math.max(1, Math.ceil(s[n - 1]! / o.binM));
  // Per bin and group: each drive's lateral offsets there.
  const bins: Array<{ earlier: PerDrive; recent: PerDrive }> = Array.from({ length: nBins }, () => ({ earlier: new Map(), recent: new Map() }));
  const pr = newProjection();
  for (const i of c.obs) {
    const start = pts.start[i]!;
    if (start < 0) continue;
    const isRecent = p.tUnixMs[i]! > split.afterUnixMs;
    const d = p.drive[i]!;
    let hint = -1;
    for (let k = start; k < start + pts.count[i]!; k++) {
      if (!L.project(pts.x[k]!, pts.y[k]!, Infinity, pr, hint) || pr.beyond !== 0) continue;
      hint = Math.floor(pr.pos);
      const seg = Math.min(n - 2, Math.floor(pr.pos));
      const arc = s[seg]! + (pr.pos - seg) * (s[seg + 1]! - s[seg]!);
      const bin = bins[Math.min(nBins - 1, Math.floor(arc / o.binM))]!;
      const g = isRecent ? bin.recent : bin.earlier;
      let vals = g.get(d);
      if (!vals) g.set(d, (vals = []));
      vals.push(pr.lat);
    }
  }
  // Candidate bins: the recent median beyond thresholdM from the earlier one, signed.
  const side = new Int8Array(nBins);
  for (let b = 0; b < nBins; b++) {
    const sh = groupShift(bins[b]!.earlier, bins[b]!.recent, 1, split.minDrives);
    if (!sh) continue;
    const delta = sh.recentAt[0]! - sh.earlierAt[0]!;
    if (Math.abs(delta) > o.thresholdM) side[b] = delta > 0 ? 1 : -1;
  }
  const out: MovedStretch[] = [];
  for (let b = 0; b < nBins; ) {
    if (side[b] === 0) {
      b++;
      continue;
    }
    let e = b;
    while (e + 1 < nBins && side[e + 1] === side[b]) e++;
    const lengthM = Math.min(s[n - 1]!, (e + 1) * o.binM) - b * o.binM;
    const whole = b === 0 && e === nBins - 1;
    if (lengthM >= o.minLengthM && !whole) {
      // The run as a whole: each drive's offsets over all its bins.
      const earlier: PerDrive = new Map();
      const recent: PerDrive = new Map();
      for (let k = b; k <= e; k++) {
        for (const [from, to] of [[bins[k]!.earlier, earlier], [bins[k]!.recent, recent]] as const) {
          for (const [d, vals] of from) {
            const list = to.get(d);
            if (list) list.push(...vals);
            else to.set(d, vals.slice());
          }
        }
      }
      const sh = recent.size >= o.minRecentDrives ? groupShift(earlier, recent, 1, split.minDrives) : undefined;
      if (sh && sh.boundM > o.thresholdM) {
        const s0 = b * o.binM;
        const s1 = (e + 1) * o.binM;
        let from = 0;
        while (from < n - 1 && s[from]! < s0) from++;
        let to = n - 1;
        while (to > from && s[to]! > s1) to--;
        if (to > from) out.push({ from, to, offsetM: sh.recentAt[0]!, shiftM: sh.boundM });
      }
    }
    b = e + 1;
  }
  return out;
}

/**
 * Line `c` with each stretch re-placed where the recent drives put it (its vertices moved by
 * `offsetM` along the line's left normal there), and the re-placed stretches' points, in the
 * line's frame. The vertices either side of a stretch stay: the line steps across to the new
 * paint.
 */
export function replaceStretches(c: Consensus, stretches: readonly MovedStretch[]): { c: Consensus; moved: XY[][] } {
  const pts = c.points.map((q) => [q[0], q[1]] as XY);
  const n = pts.length;
  const moved: XY[][] = [];
  for (const m of stretches) {
    const run: XY[] = [];
    for (let v = m.from; v <= m.to; v++) {
      const a = c.points[Math.max(0, v - 1)]!;
      const b = c.points[Math.min(n - 1, v + 1)]!;
      const len = hypot(b[0] - a[0], b[1] - a[1]);
      if (len === 0) continue;
      // Left normal of the tangent (tx, ty): (-ty, tx), as Projection.lat counts.
      const q: XY = [c.points[v]![0] - ((b[1] - a[1]) / len) * m.offsetM, c.points[v]![1] + ((b[0] - a[0]) / len) * m.offsetM];
      pts[v] = q;
      run.push(q);
    }
    if (run.length >= 2) moved.push(run);
  }
  return { c: { ...c, points: pts }, moved };
}
