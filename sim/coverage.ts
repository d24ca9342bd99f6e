/**
 * Which parts of the ground truth a fleet could have seen: the evaluation scores a merged map
 * only against ground truth that at least `minDrives` different drives had in their sensor
 * field (a map cannot contain what nobody saw), and the statistical floor needs how many drives
 * covered each place.
 *
 * Method: every ground-truth primitive is sampled every `stepM`; a sample is covered by a drive
 * when it lies, at some pose of the drive's true trajectory, inside the body-frame field
 * x in [-behindM, aheadM], |y| <= lateralM (what the edge uploads: the perception field cropped
 * by the compactor). Runs of samples covered by at least `minDrives` drives are kept as pieces
 * (polylines are cut there; polygons and points are kept whole when their centroid is covered).
 *
 * Each kept sample is one "place" of the statistical floor (sim/eval/floor.ts): `drivesPerPlace`
 * counts its drives (the expected floor), `places` names them by index into `drives` with the
 * direction across the line there (the realised floor, from each drive's actual GNSS bias).
 */
import { centroid, cumulativeLengthsM, inverseTransformPoint, pointAtM } from '../shared/geometry.ts';
import { CLASS_GEOMETRY, type Primitive, type XY } from '../shared/schema.ts';

export interface CoverageOptions {
  /** The sensor field in the body frame (x forward, y left), metres. */
  aheadM: number;
  behindM: number;
  lateralM: number;
  /** Ground truth counts when at least this many different drives saw it. */
  minDrives: number;
  /** Sampling step along ground-truth lines, metres. */
  stepM: number;
}

export const DEFAULT_COVERAGE_OPTIONS: CoverageOptions = {
  aheadM: 32, // m: the edge keeps the band up to 2 + 30 m ahead (edge/compact.ts)
  behindM: 0, // m
  lateralM: 15, // m: the oracle's lateral reach
  minDrives: 2, // drives: the merge needs two independent drives to publish a primitive
  stepM: 2, // m
};

/** A true vehicle pose: position in the ground truth's frame and heading (rad, CCW from east). */
export interface CoveragePose {
  xM: number;
  yM: number;
  yawRad: number;
}

/** One kept sample: which drives saw it and which way is across the ground truth there. */
export interface CoveragePlace {
  /** Indices into the `drives` given to `coverageOf`, ascending. */
  drives: number[];
  /** Unit vector across the line at the sample, `[eastM, northM]`; null for polygons and points. */
  across: [number, number] | null;
}

export interface Coverage {
  /** Ground truth restricted to covered places. */
  covered: Primitive[];
  /** Number of drives covering each kept sample (one entry per place, for the floor). */
  drivesPerPlace: number[];
  /** The same places (same order), with the drives named. */
  places: CoveragePlace[];
  coveredLengthM: number;
  totalLengthM: number;
}

/** `drives[i]` = drive i's true poses (a few per second is enough). */
export function coverageOf(gt: readonly Primitive[], drives: ReadonlyArray<ReadonlyArray<CoveragePose>>, options: Partial<CoverageOptions> = {}): Coverage {
  const o = { ...DEFAULT_COVERAGE_OPTIONS, ...options };
  const reach = Math.hypot(Math.max(o.aheadM, o.behindM), o.lateralM);
  const cell = reach;
  // poses by grid cell: [drive, pose index]
  const grid = new Map<string, Array<[number, number]>>();
  drives.forEach((poses, d) => {
    poses.forEach((p, i) => {
      const k = `${Math.floor(p.xM / cell)},${Math.floor(p.yM / cell)}`;
      let a = grid.get(k);
      if (!a) grid.set(k, (a = []));
      a.push([d, i]);
    });
  });
  const seen = new Set<number>();
  const drivesNear = (p: XY): number[] => {
    seen.clear();
    const cx = Math.floor(p[0] / cell);
    const cy = Math.floor(p[1] / cell);
    for (let dx = -1; dx <= 1; dx++) {
      for (let dy = -1; dy <= 1; dy++) {
        for (const [d, i] of grid.get(`${cx + dx},${cy + dy}`) ?? []) {
          if (seen.has(d)) continue;
          const pose = drives[d]![i]!;
          const [bx, by] = inverseTransformPoint(p, pose.xM, pose.yM, pose.yawRad);
          if (bx >= -o.behindM && bx <= o.aheadM && Math.abs(by) <= o.lateralM) seen.add(d);
        }
      }
    }
    return [...seen].sort((a, b) => a - b);
  };
  const covered: Primitive[] = [];
  const drivesPerPlace: number[] = [];
  const places: CoveragePlace[] = [];
  let coveredLengthM = 0;
  let totalLengthM = 0;
  for (const prim of gt) {
    if (CLASS_GEOMETRY[prim.cls] !== 'polyline') {
      const ds = drivesNear(centroid(prim.points));
      if (ds.length >= o.minDrives) {
        covered.push(prim);
        drivesPerPlace.push(ds.length);
        places.push({ drives: ds, across: null });
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
      const atM = (total * i) / steps;
      const p = pointAtM(prim.points, cum, atM);
      const ds = drivesNear(p);
      if (ds.length >= o.minDrives) {
        run.push(p);
        drivesPerPlace.push(ds.length);
        places.push({ drives: ds, across: acrossAt(prim.points, cum, atM, total) });
      } else flush();
    }
    flush();
  }
  return { covered, drivesPerPlace, places, coveredLengthM, totalLengthM };
}

/** Unit normal (left of the direction of travel) of a polyline at `atM` along it; null if degenerate. */
function acrossAt(points: readonly XY[], cum: Float64Array, atM: number, totalM: number): [number, number] | null {
  const a = pointAtM(points, cum, Math.max(0, atM - 0.5));
  const b = pointAtM(points, cum, Math.min(totalM, atM + 0.5));
  const dx = b[0] - a[0];
  const dy = b[1] - a[1];
  const len = Math.hypot(dx, dy);
  return len > 1e-9 ? [-dy / len + 0, dx / len + 0] : null; // + 0: no -0 (JSON writes it as 0)
}
