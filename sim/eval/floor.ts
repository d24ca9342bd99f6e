/**
 * The statistical floor of the *absolute* lateral error.
 *
 * Model: each drive carries its own position bias, independent between drives, whose component
 * across any given line is N(0, sigma^2) (`driveBiasSigmaM` is that per-axis standard deviation).
 * A perfect consensus of n independent drives averages them: its lateral error at that place is
 * N(0, sigma^2 / n), so its absolute value is half-normal with median 0.6745 * sigma / sqrt(n).
 *
 * What we report: the p50 (and p95) of the absolute lateral error *pooled over places* that a
 * perfect consensus would show, i.e. the x with mean_i P(|N(0, sigma^2 / n_i)| <= x) = q, in cm.
 * This is the same statistic as the report's `lateralErrorCm.p50` (the median of absolute lateral
 * distances over the map), so the two can be compared directly: a merge cannot do better than
 * `absoluteFloorCm` in absolute terms, however good its local geometry. Each entry of
 * `drivesPerPlace` is one place weighted equally (per patch, per ground-truth primitive, ...: the
 * caller chooses); places with 0 drives have no consensus at all and are left out (and counted).
 *
 * This is the EXPECTED floor (over all draws of the biases). A given fleet's drives drew given
 * biases: `realisedFloor` below is the floor of that fleet, and the one to compare a map with.
 */
import { quantile } from './metrics.ts';

export interface FloorInput {
  /** Per-drive bias, standard deviation of one horizontal axis, metres. */
  driveBiasSigmaM: number;
  /** Number of independent drives covering each place (one entry per place). */
  drivesPerPlace: readonly number[];
}

export interface ConsensusFloor {
  /** p50 of the absolute lateral error of a perfect consensus, pooled over places, cm. */
  consensusLateralP50Cm: number;
  /** p95 of the same, cm. */
  consensusLateralP95Cm: number;
  /** Places used (with >= 1 drive). */
  places: number;
  /** Places left out because no drive covered them. */
  placesWithoutDrives: number;
}

/** The floor; null when no place has a drive. Throws on a bad sigma or drive count. */
export function consensusFloor(input: FloorInput): ConsensusFloor | null {
  const sigma = input.driveBiasSigmaM;
  if (!Number.isFinite(sigma) || sigma < 0) throw new RangeError(`floor.driveBiasSigmaM must be a finite number >= 0 (metres), got ${sigma}`);
  const ns: number[] = [];
  let without = 0;
  input.drivesPerPlace.forEach((n, i) => {
    if (!Number.isFinite(n) || n < 0) throw new RangeError(`floor.drivesPerPlace[${i}] must be a finite count >= 0, got ${n}`);
    if (n === 0) without++;
    else ns.push(n);
  });
  if (ns.length === 0) return null;
  return {
    consensusLateralP50Cm: 100 * pooledHalfNormalQuantileM(sigma, ns, 0.5),
    consensusLateralP95Cm: 100 * pooledHalfNormalQuantileM(sigma, ns, 0.95),
    places: ns.length,
    placesWithoutDrives: without,
  };
}

/** x such that mean_i P(|N(0, sigma^2 / n_i)| <= x) = q, by bisection (metres). */
export function pooledHalfNormalQuantileM(sigmaM: number, drives: readonly number[], q: number): number {
  if (sigmaM === 0 || drives.length === 0) return 0;
  const cdf = (x: number): number => {
    let s = 0;
    for (const n of drives) s += erf((x * Math.sqrt(n)) / (sigmaM * Math.SQRT2));
    return s / drives.length;
  };
  let lo = 0;
  let minN = Infinity;
  for (const n of drives) if (n < minN) minN = n;
  let hi = sigmaM / Math.sqrt(minN);
  while (cdf(hi) < q) hi *= 2;
  for (let i = 0; i < 60; i++) {
    const mid = (lo + hi) / 2;
    if (cdf(mid) < q) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

/** Error function, Abramowitz & Stegun 7.1.26 (absolute error < 1.5e-7). */
export function erf(x: number): number {
  const sign = x < 0 ? -1 : 1;
  const a = Math.abs(x);
  const t = 1 / (1 + 0.3275911 * a);
  const y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-a * a);
  return sign * y;
}

/**
 * The REALISED floor: what a perfect consensus of the drives that actually passed each place
 * would be off by, given each drive's actual constant GNSS bias (the simulator knows it:
 * `GnssErrorModel.biasEastM/NorthM`). A consensus averages its drives, so at a place passed by
 * drives D it is off by mean_{d in D}(bias_d). Its expected value over all bias draws is the
 * `consensusFloor` above; the realised one is what this fleet could have reached (with 6 cm of
 * mean bias in one place, a map 6 cm off there is perfect).
 *
 * Drives of unequal positioning (`driveBiasSigmasM`: anchor drives with RTK among consumer
 * receivers) are averaged with inverse-variance weights 1 / sigma^2, the best a consensus can do
 * with them: a place an RTK drive passed has a floor of about that drive's few centimetres.
 *
 * What is measured at a place: `lateral` is the component of the mean bias across the ground
 * truth at that place (`acrossE/acrossN`, a unit vector: what the lateral error of a line
 * measures); a place without a direction (a polygon or a point, `across` null) takes the full
 * horizontal magnitude (what a point's error measures, and an upper bound for a ring). The
 * magnitude is reported beside it.
 */
export interface RealisedFloorPlace {
  /** Indices into `driveBiasesM` of the drives that passed the place (>= 1 to count). */
  drives: readonly number[];
  /** Unit vector across the ground truth at the place, `[eastM, northM]`; null: no direction. */
  across: readonly [number, number] | null;
}

export interface RealisedFloorInput {
  /** Each drive's realised constant bias, `[eastM, northM]`, metres. */
  driveBiasesM: ReadonlyArray<readonly [number, number]>;
  /**
   * Each drive's per-axis bias sigma, metres: the mean is weighted by 1 / sigma^2 (scaled so the
   * best drive weighs 1: equal sigmas give the plain mean bit for bit). Absent: all weigh the same.
   */
  driveBiasSigmasM?: readonly number[];
  places: readonly RealisedFloorPlace[];
}

export interface RealisedFloor {
  /** p50 / p95 over places of |mean bias . across| (no direction: |mean bias|), cm. */
  lateralP50Cm: number;
  lateralP95Cm: number;
  /** p50 / p95 over places of |mean bias| (2-D), cm. */
  magnitudeP50Cm: number;
  magnitudeP95Cm: number;
  /** Places used (with >= 1 drive). */
  places: number;
  /** Places left out because no drive passed them. */
  placesWithoutDrives: number;
}

/** The realised floor; null when no place has a drive. Throws on bad biases or drive indices. */
export function realisedFloor(input: RealisedFloorInput): RealisedFloor | null {
  const biases = input.driveBiasesM;
  biases.forEach((b, i) => {
    if (!Array.isArray(b) || b.length !== 2 || !Number.isFinite(b[0]) || !Number.isFinite(b[1])) {
      throw new RangeError(`realisedFloor.driveBiasesM[${i}] must be a finite [eastM, northM] pair, got ${JSON.stringify(b)}`);
    }
  });
  const sigmas = input.driveBiasSigmasM;
  if (sigmas !== undefined) {
    if (sigmas.length !== biases.length) throw new RangeError(`realisedFloor.driveBiasSigmasM must have one entry per drive (${biases.length}), got ${sigmas.length}`);
    sigmas.forEach((s, i) => {
      if (!(Number.isFinite(s) && s > 0)) throw new RangeError(`realisedFloor.driveBiasSigmasM[${i}] must be a finite number > 0 metres, got ${s}`);
    });
  }
  const best = sigmas ? Math.min(...sigmas) : 1;
  const weights = sigmas ? sigmas.map((s) => (best / s) ** 2) : biases.map(() => 1);
  const lateral: number[] = [];
  const magnitude: number[] = [];
  let without = 0;
  input.places.forEach((p, i) => {
    if (p.drives.length === 0) {
      without++;
      return;
    }
    let e = 0;
    let n = 0;
    let w = 0;
    for (const d of p.drives) {
      const b = biases[d];
      if (b === undefined) throw new RangeError(`realisedFloor.places[${i}].drives names drive ${d}, but only ${biases.length} biases are given`);
      const wd = weights[d]!;
      e += wd * b[0];
      n += wd * b[1];
      w += wd;
    }
    e /= w;
    n /= w;
    const mag = Math.hypot(e, n);
    magnitude.push(mag);
    if (p.across === null) lateral.push(mag);
    else {
      const [ax, ay] = p.across;
      const len = Math.hypot(ax, ay);
      if (!(Math.abs(len - 1) < 1e-6)) throw new RangeError(`realisedFloor.places[${i}].across must be a unit vector, got ${JSON.stringify(p.across)}`);
      lateral.push(Math.abs(e * ax + n * ay));
    }
  });
  if (magnitude.length === 0) return null;
  return {
    lateralP50Cm: 100 * quantile(lateral, 0.5)!,
    lateralP95Cm: 100 * quantile(lateral, 0.95)!,
    magnitudeP50Cm: 100 * quantile(magnitude, 0.5)!,
    magnitudeP95Cm: 100 * quantile(magnitude, 0.95)!,
    places: magnitude.length,
    placesWithoutDrives: without,
  };
}

/** A drive as both floors see it: its realised bias and, when its receiver differs from the fleet's, its bias sigma. */
export interface FloorDrive {
  biasM: readonly [number, number];
  /** Per-axis bias sigma, metres (absent: the fleet's). */
  biasSigmaM?: number;
}

/**
 * Both floors' inputs for a fleet whose drives have the per-axis bias sigma `fleetSigmaM` unless
 * they say otherwise (anchor drives): the realised floor weighs drives by 1 / sigma^2; the
 * expected floor, which assumes one sigma for every drive, is left out when they differ.
 */
export function floorInputs(fleetSigmaM: number, drives: readonly FloorDrive[], drivesPerPlace: readonly number[], places: readonly RealisedFloorPlace[]): { floor?: FloorInput; realisedFloor: RealisedFloorInput } {
  const sigmas = drives.map((d) => d.biasSigmaM ?? fleetSigmaM);
  return {
    ...(sigmas.every((s) => s === fleetSigmaM) ? { floor: { driveBiasSigmaM: fleetSigmaM, drivesPerPlace } } : {}),
    realisedFloor: { driveBiasesM: drives.map((d) => d.biasM), driveBiasSigmasM: sigmas, places },
  };
}
