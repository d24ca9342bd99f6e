/**
 * Which parts of the ground truth a fleet could have seen: the evaluation scores a merged map
 * only against ground truth that at least `minDrives` different drives passed within sensor
 * range of (a map cannot contain what nobody drove past), and the statistical floor needs how
 * many drives covered each place.
 *
 * Method: every ground-truth primitive is sampled every `stepM`; a sample is covered by a drive
 * when the drive's true trajectory passes within `radiusM`. Runs of samples covered by at least
 * `minDrives` drives are kept as pieces (polylines are cut there; polygons and points are kept
 * whole when their centroid is covered).
 */
import { centroid, cumulativeLengthsM, pointAtM } from '../shared/geometry.ts';
import { CLASS_GEOMETRY, type Primitive, type XY } from '../shared/schema.ts';

export interface CoverageOptions {
  /** A place is seen by a drive whose trajectory passes within this, metres (sensor reach). */
  radiusM: number;
  /** Ground truth counts when at least this many different drives saw it. */
  minDrives: number;
  /** Sampling step along ground-truth lines, metres. */
  stepM: number;
}

export const DEFAULT_COVERAGE_OPTIONS: CoverageOptions = {
  radiusM: 15, // m: the oracle's lateral reach
  minDrives: 2, // drives: the merge needs two independent drives to publish a primitive
  stepM: 2, // m
};

export interface Coverage {
  /** Ground truth restricted to covered places. */
  covered: Primitive[];
  /** Number of drives covering each kept sample (one entry per place, for the floor). */
  drivesPerPlace: number[];
  coveredLengthM: number;
  totalLengthM: number;
}

/** `trajectories[i]` = drive i's true positions ([eastM, northM]) in the ground truth's frame. */
export function coverageOf(gt: readonly Primitive[], trajectories: ReadonlyArray<ReadonlyArray<XY>>, options: Partial<CoverageOptions> = {}): Coverage {
  const o = { ...DEFAULT_COVERAGE_OPTIONS, ...options };
  const cell = o.radiusM;
  const grid = new Map<string, Set<number>>();
  trajectories.forEach((traj, drive) => {
    for (const p of traj) {
      const k = `${Math.floor(p[0] / cell)},${Math.floor(p[1] / cell)}`;
      let s = grid.get(k);
      if (!s) grid.set(k, (s = new Set()));
      s.add(drive);
    }
  });
  // Coarse cells first, then the exact distance test against the drives found there.
  const pointsByDrive = trajectories;
  const r2 = o.radiusM * o.radiusM;
  const drivesNear = (p: XY): number => {
    const cx = Math.floor(p[0] / cell);
    const cy = Math.floor(p[1] / cell);
    const candidates = new Set<number>();
    for (let dx = -1; dx <= 1; dx++) for (let dy = -1; dy <= 1; dy++) for (const d of grid.get(`${cx + dx},${cy + dy}`) ?? []) candidates.add(d);
    let n = 0;
    for (const d of candidates) {
      if (nearAny(p, pointsByDrive[d]!, r2, cell)) n++;
    }
    return n;
  };
  const covered: Primitive[] = [];
  const drivesPerPlace: number[] = [];
  let coveredLengthM = 0;
  let totalLengthM = 0;
  for (const prim of gt) {
    if (CLASS_GEOMETRY[prim.cls] !== 'polyline') {
      const n = drivesNear(centroid(prim.points));
      if (n >= o.minDrives) {
        covered.push(prim);
        drivesPerPlace.push(n);
      }
      continue;
    }
    const cum = cumulativeLengthsM(prim.points);
    const total = cum[prim.points.length - 1]!;
    totalLengthM += total;
    const steps = Math.max(1, Math.ceil(total / o.stepM));
    let run: XY[] = [];
    const flush = (): void => {
      if (run.length >= 2) {
        covered.push({ ...prim, points: run });
        coveredLengthM += (run.length - 1) * (total / steps);
      }
      run = [];
    };
    for (let i = 0; i <= steps; i++) {
      const p = pointAtM(prim.points, cum, (total * i) / steps);
      const n = drivesNear(p);
      if (n >= o.minDrives) {
        run.push(p);
        drivesPerPlace.push(n);
      } else flush();
    }
    flush();
  }
  return { covered, drivesPerPlace, coveredLengthM, totalLengthM };
}

// Trajectories are dense (10 Hz); a per-call linear scan of one drive's cell neighbourhood would
// need a per-drive index, so cache one lazily.
const driveIndexCache = new WeakMap<ReadonlyArray<XY>, Map<string, XY[]>>();

function nearAny(p: XY, traj: ReadonlyArray<XY>, r2: number, cell: number): boolean {
  let idx = driveIndexCache.get(traj);
  if (!idx) {
    idx = new Map();
    for (const q of traj) {
      const k = `${Math.floor(q[0] / cell)},${Math.floor(q[1] / cell)}`;
      let a = idx.get(k);
      if (!a) idx.set(k, (a = []));
      a.push(q);
    }
    driveIndexCache.set(traj, idx);
  }
  const cx = Math.floor(p[0] / cell);
  const cy = Math.floor(p[1] / cell);
  for (let dx = -1; dx <= 1; dx++) {
    for (let dy = -1; dy <= 1; dy++) {
      for (const q of idx.get(`${cx + dx},${cy + dy}`) ?? []) {
        const ex = q[0] - p[0];
        const ey = q[1] - p[1];
        if (ex * ex + ey * ey <= r2) return true;
      }
    }
  }
  return false;
}
