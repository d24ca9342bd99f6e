/**
 * The ground's height over a map: rolling terrain that belongs to the place, so every drive over
 * a crest sees the same crest (the camera's per-drive `slopeCurvaturePerM` draws a curvature per
 * drive instead, and the fleet's errors from it cancel in the consensus; a hill's do not).
 *
 * Height z(x, y) = sum over a few plane waves a_i * sin(K_i * (x cos t_i + y sin t_i) + p_i), map
 * frame (x east, y north, metres), each wave with a seeded direction t_i, wavelength and phase.
 * Every wave contributes the same curvature amplitude a_i * K_i^2, scaled so that the road's
 * vertical curvature along a random heading at a random place has the root mean square
 * `curvatureRmsPerM`: E[(sum c cos^2(t) sin(p))^2] = N c^2 * 3/8 * 1/2.
 *
 * The camera renders a constant-curvature surface (sim/camera/raster.ts, z = 0.5 k x^2 in the
 * body frame); `cameraCurvaturePerM` gives the k that fits the terrain's profile ahead of a pose
 * best (least squares over `FIT_AHEAD_M`, after removing the height and grade at the car).
 */
import { Rng } from './rng.ts';

export interface TerrainSpec {
  /** Seed of the waves: the same seed, the same hills. */
  seed: number;
  /** Root mean square of the road's vertical curvature along a random heading, 1/m (0: flat). */
  curvatureRmsPerM: number;
  /** Number of plane waves. */
  waves: number;
  /** Shortest and longest wavelength, metres. */
  minWavelengthM: number;
  maxWavelengthM: number;
}

/**
 * Defaults: the root mean square curvature of the camera's per-drive draw (40 % of drives,
 * uniform in +-0.002 /m: sqrt(0.4 * 0.002^2 / 3) = 0.00073 /m), in waves 150-400 m long
 * (crest radii of about 1,400 m on average, grades of a few per cent).
 */
export const DEFAULT_TERRAIN: Omit<TerrainSpec, 'seed'> = {
  curvatureRmsPerM: 0.0007, // 1/m
  waves: 6,
  minWavelengthM: 150, // m
  maxWavelengthM: 400, // m
};

/** Distances ahead of the car over which the camera's constant curvature is fitted, metres. */
export const FIT_AHEAD_M: readonly number[] = [4, 6, 8, 10, 12, 15, 18, 21, 25];

export class Terrain {
  private readonly kx: Float64Array;
  private readonly ky: Float64Array;
  private readonly phase: Float64Array;
  private readonly amplitudeM: Float64Array;

  constructor(spec: Partial<TerrainSpec> & { seed: number }) {
    const s = validateTerrain({ ...DEFAULT_TERRAIN, ...spec });
    const rng = new Rng(`terrain:${s.seed}`);
    this.kx = new Float64Array(s.waves);
    this.ky = new Float64Array(s.waves);
    this.phase = new Float64Array(s.waves);
    this.amplitudeM = new Float64Array(s.waves);
    const perWave = s.curvatureRmsPerM / Math.sqrt((s.waves * 3) / 16); // a_i K_i^2, 1/m
    for (let i = 0; i < s.waves; i++) {
      const dirRad = rng.uniform(0, Math.PI);
      const wavelengthM = Math.exp(rng.uniform(Math.log(s.minWavelengthM), Math.log(s.maxWavelengthM)));
      const k = (2 * Math.PI) / wavelengthM; // rad/m
      this.kx[i] = k * Math.cos(dirRad);
      this.ky[i] = k * Math.sin(dirRad);
      this.phase[i] = rng.uniform(0, 2 * Math.PI);
      this.amplitudeM[i] = perWave / (k * k);
    }
  }

  /** Ground height at (xM, yM), metres, map frame. */
  heightM(xM: number, yM: number): number {
    let z = 0;
    for (let i = 0; i < this.kx.length; i++) z += this.amplitudeM[i]! * Math.sin(this.kx[i]! * xM + this.ky[i]! * yM + this.phase[i]!);
    return z;
  }

  /** Grade along the heading yawRad (rad from east, counter-clockwise), dz/ds (unitless). */
  gradeAlong(xM: number, yM: number, yawRad: number): number {
    const ux = Math.cos(yawRad);
    const uy = Math.sin(yawRad);
    let g = 0;
    for (let i = 0; i < this.kx.length; i++) g += this.amplitudeM[i]! * (this.kx[i]! * ux + this.ky[i]! * uy) * Math.cos(this.kx[i]! * xM + this.ky[i]! * yM + this.phase[i]!);
    return g;
  }

  /** Vertical curvature along the heading at the point itself, d2z/ds2, 1/m. */
  curvatureAlongPerM(xM: number, yM: number, yawRad: number): number {
    const ux = Math.cos(yawRad);
    const uy = Math.sin(yawRad);
    let c = 0;
    for (let i = 0; i < this.kx.length; i++) {
      const d = this.kx[i]! * ux + this.ky[i]! * uy;
      c -= this.amplitudeM[i]! * d * d * Math.sin(this.kx[i]! * xM + this.ky[i]! * yM + this.phase[i]!);
    }
    return c;
  }

  /**
   * The constant curvature k (1/m) whose surface z = 0.5 k s^2 fits best, in least squares over
   * FIT_AHEAD_M, the terrain's height ahead of the car relative to the plane it stands on.
   */
  cameraCurvaturePerM(xM: number, yM: number, yawRad: number): number {
    const ux = Math.cos(yawRad);
    const uy = Math.sin(yawRad);
    const z0 = this.heightM(xM, yM);
    const g0 = this.gradeAlong(xM, yM, yawRad);
    let num = 0;
    let den = 0;
    for (const s of FIT_AHEAD_M) {
      const h = this.heightM(xM + s * ux, yM + s * uy) - z0 - s * g0;
      num += h * s * s;
      den += s ** 4;
    }
    return (2 * num) / den;
  }
}

/** Check a spec (e.g. from a flag); throws a RangeError naming every bad field. */
export function validateTerrain(s: TerrainSpec): TerrainSpec {
  const bad: string[] = [];
  if (!Number.isFinite(s.seed)) bad.push(`seed must be a finite number, got ${JSON.stringify(s.seed)}`);
  if (!(Number.isFinite(s.curvatureRmsPerM) && s.curvatureRmsPerM >= 0 && s.curvatureRmsPerM <= 0.01)) bad.push(`curvatureRmsPerM must be in [0, 0.01] 1/m, got ${JSON.stringify(s.curvatureRmsPerM)}`);
  if (!(Number.isInteger(s.waves) && s.waves >= 1 && s.waves <= 64)) bad.push(`waves must be an integer in [1, 64], got ${JSON.stringify(s.waves)}`);
  if (!(Number.isFinite(s.minWavelengthM) && s.minWavelengthM >= 20)) bad.push(`minWavelengthM must be >= 20 m, got ${JSON.stringify(s.minWavelengthM)}`);
  if (!(Number.isFinite(s.maxWavelengthM) && s.maxWavelengthM >= s.minWavelengthM)) bad.push(`maxWavelengthM must be >= minWavelengthM, got ${JSON.stringify(s.maxWavelengthM)}`);
  if (bad.length > 0) throw new RangeError(`terrain: ${bad.join('; ')}`);
  return s;
}
