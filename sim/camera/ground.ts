/**
 * The per-pixel base layer: sky with a distant skyline above the horizon, textured asphalt
 * (world-anchored value noise, fading with distance) below it. Records the ground distance of
 * every output pixel (Infinity for sky) for the lighting effects.
 */
import type { PoseXY } from '../oracle-perception.ts';
import { hash2 as importedHash2, NORMAL_TABLE, TEXTURE, TEXTURE_CELL_TEXELS, TEXTURE_SIDE } from './noise.ts';
import type { FrameRaster } from './raster.ts';

// Module-level aliases of imported tables and functions: the optimising compiler embeds a module
// constant (no per-access type check), an imported binding it does not; and under the tsx loader
// (CommonJS output) every read of an imported binding is a getter call.
const NOISE: Float32Array = NORMAL_TABLE;
const TEXTURE_TILE: Float32Array = TEXTURE;
const hash2 = importedHash2;

export interface GroundLook {
  /** Asphalt base grey (0..1) and tint. */
  asphalt: [number, number, number];
  /** Texture amplitude (0..1). */
  textureAmp: number;
  sky: [number, number, number];
  horizon: [number, number, number];
  seed: number;
}

/**
 * Fill the base layer (`fr.base`, output resolution; the supersampled buffer copies it lazily where
 * polygons are drawn); `distM` (output resolution) gets the ground distance.
 */
export function drawGroundAndSky(fr: FrameRaster, pose: PoseXY, look: GroundLook, distM: Float32Array): void {
  const W = fr.widthPx;
  const H = fr.heightPx;
  const r = fr.r;
  const r0 = r[0]!;
  const r1 = r[1]!;
  const r2 = r[2]!;
  const r3 = r[3]!;
  const r4 = r[4]!;
  const r5 = r[5]!;
  const r6 = r[6]!;
  const r7 = r[7]!;
  const r8 = r[8]!;
  const tx = fr.t[0]!;
  const ty = fr.t[1]!;
  const tz = fr.t[2]!;
  const k = fr.slopeK;
  const poseX = pose.xM;
  const poseY = pose.yM;
  const yaw = pose.yawRad;
  const c = Math.cos(yaw);
  const s = Math.sin(yaw);
  const [ar, ag, ab] = look.asphalt;
  const [hr, hg, hb] = look.horizon;
  const [skr, skg, skb] = look.sky;
  const amp = look.textureAmp;
  const seed = look.seed;
  const seedOff = (seed & 255) * 1.37;
  const NT = NOISE;
  const TX = TEXTURE_TILE;
  const TM = TEXTURE_SIDE - 1;
  const TC = TEXTURE_CELL_TEXELS;
  const out = fr.base;
  const footDiv = fr.fy * Math.max(0.3, tz);
  // beyond this squared range the footprint is surely >= 0.6 m (no fine texture): skips a division
  const fineLimit = 0.6 * footDiv * (1 + 1e-9);
  skylineCells.fill(NaN);
  treeCells.fill(NaN);
  let stepCell = NaN;
  let stepHigh = false;
  const xcs = xcScratch.length >= W ? xcScratch : (xcScratch = new Float64Array(W));
  for (let u = 0; u < W; u++) xcs[u] = (u + 0.5 - fr.cx) / fr.fx;
  const hitRow = hitScratch.length >= W ? hitScratch : (hitScratch = new Float64Array(W));
  const normRow = normScratch.length >= W ? normScratch : (normScratch = new Float64Array(W));
  const rangeRow = rangeScratch.length >= W ? rangeScratch : (rangeScratch = new Float64Array(W));
  for (let v = 0; v < H; v++) {
    const yc = (v + 0.5 - fr.cy) / fr.fy;
    const ex = r1 * yc + r2;
    const ey = r4 * yc + r5;
    const ez = r7 * yc + r8;
    // The row's ray-ground hits first, in a small loop of independent iterations: the CPU overlaps
    // the square roots and divisions of several pixels (a quadratic per pixel on curved roads).
    // Then the ground pixels and the sky pixels, each in a loop of its own. The same arithmetic
    // as one loop over the pixels.
    let groundCount = 0;
    for (let u = 0; u < W; u++) {
      const xc = xcs[u]!;
      const dx = r0 * xc + ex;
      const dy = r3 * xc + ey;
      const dz = r6 * xc + ez;
      const norm = Math.sqrt(dx * dx + dy * dy + dz * dz);
      normRow[u] = norm;
      // ray-ground intersection: z = 0.5 k x^2
      let sHit = -1;
      if (k === 0) {
        if (dz < -1e-9) sHit = -tz / dz;
      } else {
        const a = 0.5 * k * dx * dx;
        const b = k * tx * dx - dz;
        const cc = 0.5 * k * tx * tx - tz;
        if (Math.abs(a) < 1e-12) {
          if (b > 1e-12) sHit = -cc / b;
        } else {
          const disc = b * b - 4 * a * cc;
          if (disc >= 0) {
            const q = Math.sqrt(disc);
            const s1 = (-b - q) / (2 * a);
            const s2 = (-b + q) / (2 * a);
            sHit = s1 > 0 && (s2 <= 0 || s1 < s2) ? s1 : s2 > 0 ? s2 : -1;
          }
        }
      }
      hitRow[u] = sHit;
      const range = sHit > 0 ? sHit * norm : Infinity;
      rangeRow[u] = range;
      if (range < 2000) groundCount++;
    }
    const p0 = v * W;
    // ground pixels
    for (let u = 0; groundCount > 0 && u < W; u++) {
      const range = rangeRow[u]!;
      if (!(range < 2000)) continue;
      const xc = xcs[u]!;
      const sHit = hitRow[u]!;
      const bx = tx + sHit * (r0 * xc + ex);
      const by = ty + sHit * (r3 * xc + ey);
      const wx = poseX + c * bx - s * by;
      const wy = poseY + s * bx + c * by;
      // footprint of a pixel on the ground (m), for fading fine texture
      const fine = range * range < fineLimit ? fineOf((range * range) / footDiv) : 0;
      const n1 = fine > 0 ? NT[(Math.floor(wx * 12) * 7919 + Math.floor(wy * 12) * 104729 + seed) & 0xffff]! * 0.3 : 0;
      const n2 = TX[((Math.floor(wy * 0.7 * TC) & TM) << 8) | (Math.floor((wx * 0.7 + seedOff) * TC) & TM)]! - 0.5;
      const n3 = TX[((Math.floor(wy * 0.08 * TC + 31) & TM) << 8) | (Math.floor((wx * 0.08 + seedOff) * TC + 97) & TM)]! - 0.5;
      const g = 1 + amp * (0.5 * fine * n1 + 0.6 * n2 + 0.8 * n3);
      const haze = hazeOf(range);
      const gh = g * (1 - haze);
      const o = (p0 + u) * 3;
      out[o] = ar * gh + hr * haze;
      out[o + 1] = ag * gh + hg * haze;
      out[o + 2] = ab * gh + hb * haze;
      distM[p0 + u] = range;
    }
    // sky pixels
    for (let u = 0; groundCount < W && u < W; u++) {
      if (rangeRow[u]! < 2000) continue;
      const xc = xcs[u]!;
      const dz = r6 * xc + ez;
      const o = (p0 + u) * 3;
      distM[p0 + u] = Infinity;
      const elev = asinApprox(dz / normRow[u]!);
      // the skyline never reaches SKYLINE_MAX_RAD: above it only the gradient
      if (elev < SKYLINE_MAX_RAD) {
        const az = yaw + atan2Approx(r3 * xc + ey, r0 * xc + ex);
        const step = Math.floor(az * 60);
        if (step !== stepCell) {
          stepCell = step;
          stepHigh = hash2(step, 7, seed) < 0.3;
        }
        const skyline = 0.015 + 0.06 * valueNoiseRow(az * 25, 0.5, seed + 3, skylineCells) + (stepHigh ? 0.04 : 0);
        if (elev < skyline) {
          const tree = valueNoiseRow(az * 8, 1.5, seed + 4, treeCells) > 0.5;
          const t = 0.85 + 0.3 * hash2(Math.floor(az * 400), Math.floor(elev * 400), seed);
          out[o] = (tree ? 0.2 : 0.45) * t;
          out[o + 1] = (tree ? 0.27 : 0.44) * t;
          out[o + 2] = (tree ? 0.17 : 0.43) * t;
          continue;
        }
      }
      const f = Math.min(1, Math.max(0, elev / 0.4));
      out[o] = hr + (skr - hr) * f;
      out[o + 1] = hg + (skg - hg) * f;
      out[o + 2] = hb + (skb - hb) * f;
    }
  }
}

/** Weight of the fine texture at a pixel footprint of `foot` metres (0 from 0.6 m). */
function fineOf(foot: number): number {
  return foot < 0.6 ? 1 - foot / 0.6 : 0;
}

const HAZE_STEPS_PER_M = 4;
const HAZE_MAX_M = 2000;
/** 1 - exp(-range / 350) at range = i / HAZE_STEPS_PER_M metres. */
const HAZE_TABLE: Float64Array = (() => {
  const t = new Float64Array(HAZE_MAX_M * HAZE_STEPS_PER_M + 2);
  for (let i = 0; i < t.length; i++) t[i] = 1 - Math.exp(-i / HAZE_STEPS_PER_M / 350);
  return t;
})();

/** Haze of a ground point at `range` metres (< HAZE_MAX_M): 1 - exp(-range / 350), interpolated (error < 1e-8). */
function hazeOf(range: number): number {
  const d = range * HAZE_STEPS_PER_M;
  const j = d | 0;
  const a = HAZE_TABLE[j]!;
  return a + (HAZE_TABLE[j + 1]! - a) * (d - j);
}

const ASIN_STEPS = 4096;
const ASIN_MAX = 0.75;
/** asin(x) at x = i / ASIN_STEPS - ASIN_MAX. */
const ASIN_TABLE: Float64Array = (() => {
  const n = Math.round(2 * ASIN_MAX * ASIN_STEPS);
  const t = new Float64Array(n + 2);
  for (let i = 0; i < t.length; i++) t[i] = Math.asin(Math.min(1, i / ASIN_STEPS - ASIN_MAX));
  return t;
})();

/** asin(x), interpolated in [-ASIN_MAX, ASIN_MAX] (error < 1e-7), exact outside. */
function asinApprox(x: number): number {
  if (!(x > -ASIN_MAX && x < ASIN_MAX)) return Math.asin(Math.max(-1, Math.min(1, x)));
  const d = (x + ASIN_MAX) * ASIN_STEPS;
  const j = d | 0;
  const a = ASIN_TABLE[j]!;
  return a + (ASIN_TABLE[j + 1]! - a) * (d - j);
}

const ATAN_STEPS = 2048;
const ATAN_MAX = 4;
/** atan(x) at x = i / ATAN_STEPS - ATAN_MAX. */
const ATAN_TABLE: Float64Array = (() => {
  const t = new Float64Array(2 * ATAN_MAX * ATAN_STEPS + 2);
  for (let i = 0; i < t.length; i++) t[i] = Math.atan(i / ATAN_STEPS - ATAN_MAX);
  return t;
})();

/** atan2(y, x), interpolated for x > 0 and |y / x| < ATAN_MAX (error < 1e-8), exact elsewhere. */
function atan2Approx(y: number, x: number): number {
  const q = y / x;
  if (!(x > 0 && q > -ATAN_MAX && q < ATAN_MAX)) return Math.atan2(y, x);
  const d = (q + ATAN_MAX) * ATAN_STEPS;
  const j = d | 0;
  const a = ATAN_TABLE[j]!;
  return a + (ATAN_TABLE[j + 1]! - a) * (d - j);
}

/** Lattice-cell caches of valueNoiseRow: [ix, iy, seed, 4 corner hashes]. */
const skylineCells = new Float64Array(7);
const treeCells = new Float64Array(7);

/** valueNoise(x, y, seed), reusing the corner hashes of the last lattice cell (same values). */
function valueNoiseRow(x: number, y: number, seed: number, cell: Float64Array): number {
  const ix = Math.floor(x);
  const iy = Math.floor(y);
  if (cell[0] !== ix || cell[1] !== iy || cell[2] !== seed) {
    cell[0] = ix;
    cell[1] = iy;
    cell[2] = seed;
    cell[3] = hash2(ix, iy, seed);
    cell[4] = hash2(ix + 1, iy, seed);
    cell[5] = hash2(ix, iy + 1, seed);
    cell[6] = hash2(ix + 1, iy + 1, seed);
  }
  const fx = x - ix;
  const fy = y - iy;
  const sx = fx * fx * (3 - 2 * fx);
  const sy = fy * fy * (3 - 2 * fy);
  const a = cell[3]!;
  const b = cell[4]!;
  const c = cell[5]!;
  const d = cell[6]!;
  return a + (b - a) * sx + (c - a) * sy + (a - b - c + d) * sx * sy;
}

/** Above this elevation (rad) the skyline (at most 0.015 + 0.06 + 0.04) never reaches. */
const SKYLINE_MAX_RAD = 0.115;
let xcScratch = new Float64Array(0);
let hitScratch = new Float64Array(0);
let normScratch = new Float64Array(0);
let rangeScratch = new Float64Array(0);
