/**
 * Imaging conditions of a rendered frame: every effect is a number, 0 = off, so that a preset
 * is plain data and "effect off" renders exactly like `clear`.
 */
import type { Rng } from '../rng.ts';

export interface CameraConditions {
  /** Seed of world-anchored effects (paint wear, ghost lines, shadows): same seed, same road. */
  worldSeed: number;
  /** Gain on the scene brightness, 1 = normal exposure. */
  exposure: number;
  /** Mean number of other vehicles placed on lanes in view (Poisson), vehicles per frame. */
  vehicles: number;
  /** Paint wear, 0 (fresh) .. 1 (barely visible, many gaps). */
  wear: number;
  /** Probability that a divider shows the ghost of an old line beside it (partial repaint). */
  ghostLines: number;
  /** Cast shadows: fraction of 8 m ground cells holding a shadow, 0..1. */
  shadows: number;
  /** Low sun in front: glare strength 0..1 (veiling glare, flare, higher exposure). */
  lowSun: number;
  /** Sun azimuth relative to the camera axis, radians (positive = left). */
  sunAzimuthRad: number;
  /** Night 0..1: low ambient light, headlight falloff, glowing lights, more noise. */
  night: number;
  /** Wet road 0..1: darker asphalt, sky reflection, specular streaks under lights. */
  wet: number;
  /** Blur, standard deviation in output pixels (0 = sharp). */
  blurPx: number;
  /** Sensor noise, standard deviation in 8-bit grey levels. */
  noiseSigma: number;
  /** Vertical curvature of the road ahead, 1/m: ground height z = 0.5 * k * x^2 (body frame). */
  slopeCurvaturePerM: number;
}

export const CLEAR_CONDITIONS: Readonly<CameraConditions> = {
  worldSeed: 1,
  exposure: 1, // gain
  vehicles: 0, // per frame
  wear: 0, // 0..1
  ghostLines: 0, // probability per divider
  shadows: 0, // 0..1
  lowSun: 0, // 0..1
  sunAzimuthRad: 0, // rad
  night: 0, // 0..1
  wet: 0, // 0..1
  blurPx: 0, // px
  noiseSigma: 2, // grey levels
  slopeCurvaturePerM: 0, // 1/m
};

export const CONDITION_PRESETS = {
  clear: { ...CLEAR_CONDITIONS },
  lowSun: { ...CLEAR_CONDITIONS, lowSun: 0.8, sunAzimuthRad: 0.15, exposure: 1.25, vehicles: 1 },
  night: { ...CLEAR_CONDITIONS, night: 1, noiseSigma: 6, blurPx: 0.5, vehicles: 1 },
  wet: { ...CLEAR_CONDITIONS, wet: 0.9, exposure: 0.85, vehicles: 1.5, blurPx: 0.4 },
  worn: { ...CLEAR_CONDITIONS, wear: 0.7, ghostLines: 0.5, shadows: 0.3, vehicles: 1 },
} satisfies Record<string, CameraConditions>;
export type ConditionPresetName = keyof typeof CONDITION_PRESETS;
export const CONDITION_PRESET_NAMES = Object.keys(CONDITION_PRESETS) as ConditionPresetName[];

export function isConditionPreset(name: string): name is ConditionPresetName {
  return Object.prototype.hasOwnProperty.call(CONDITION_PRESETS, name);
}

/** A random mix of effects for training (each effect on with some probability). */
export function randomConditions(rng: Rng): CameraConditions {
  const c: CameraConditions = { ...CLEAR_CONDITIONS, worldSeed: rng.int(1 << 30) };
  c.exposure = rng.uniform(0.75, 1.3);
  c.vehicles = rng.chance(0.7) ? rng.uniform(0.5, 4) : 0;
  if (rng.chance(0.4)) c.wear = rng.uniform(0.2, 0.9);
  if (rng.chance(0.25)) c.ghostLines = rng.uniform(0.2, 0.8);
  if (rng.chance(0.35)) c.shadows = rng.uniform(0.1, 0.5);
  const light = rng.next();
  if (light < 0.15) {
    c.night = rng.uniform(0.6, 1);
    c.exposure = rng.uniform(0.8, 1.4);
  } else if (light < 0.3) {
    c.lowSun = rng.uniform(0.3, 1);
    c.sunAzimuthRad = rng.uniform(-0.5, 0.5);
  }
  if (rng.chance(0.25)) c.wet = rng.uniform(0.3, 1);
  c.blurPx = rng.chance(0.4) ? rng.uniform(0.3, 1.2) : 0;
  c.noiseSigma = rng.uniform(1, 5) + 5 * c.night;
  if (rng.chance(0.4)) c.slopeCurvaturePerM = rng.uniform(-0.002, 0.002);
  return c;
}

/** Validate (e.g. parsed JSON); throws a RangeError naming every bad field. */
export function validateConditions(c: CameraConditions): CameraConditions {
  const bad: string[] = [];
  const check = (k: keyof CameraConditions, lo: number, hi: number): void => {
    const v = c[k];
    if (!(typeof v === 'number' && Number.isFinite(v) && v >= lo && v <= hi)) bad.push(`${k} must be in [${lo}, ${hi}], got ${JSON.stringify(v)}`);
  };
  check('worldSeed', -(2 ** 31), 2 ** 32);
  check('exposure', 0.05, 10);
  check('vehicles', 0, 20);
  check('wear', 0, 1);
  check('ghostLines', 0, 1);
  check('shadows', 0, 1);
  check('lowSun', 0, 1);
  check('sunAzimuthRad', -Math.PI, Math.PI);
  check('night', 0, 1);
  check('wet', 0, 1);
  check('blurPx', 0, 5);
  check('noiseSigma', 0, 50);
  check('slopeCurvaturePerM', -0.05, 0.05);
  if (bad.length > 0) throw new RangeError(`camera conditions: ${bad.join('; ')}`);
  return c;
}
