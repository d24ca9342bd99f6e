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
 */

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
