/**
 * The per-pixel base layer: sky with a distant skyline above the horizon, textured asphalt
 * (world-anchored value noise, fading with distance) below it. Records the ground distance of
 * every output pixel (Infinity for sky) for the lighting effects.
 */
import type { PoseXY } from '../oracle-perception.ts';
import { hash2, NORMAL_TABLE, TEXTURE, TEXTURE_CELL_TEXELS, TEXTURE_SIDE, valueNoise } from './noise.ts';
import type { FrameRaster } from './raster.ts';

export interface GroundLook {
  /** Asphalt base grey (0..1) and tint. */
  asphalt: [number, number, number];
  /** Texture amplitude (0..1). */
  textureAmp: number;
  sky: [number, number, number];
  horizon: [number, number, number];
  seed: number;
}

/** Fill the supersampled rgb buffer; `distM` (output resolution) gets the ground distance. */
export function drawGroundAndSky(fr: FrameRaster, pose: PoseXY, look: GroundLook, distM: Float32Array): void {
  const W = fr.widthPx;
  const H = fr.heightPx;
  const ss = fr.ss;
  const r = fr.r;
  const tx = fr.t[0]!;
  const ty = fr.t[1]!;
  const tz = fr.t[2]!;
  const k = fr.slopeK;
  const c = Math.cos(pose.yawRad);
  const s = Math.sin(pose.yawRad);
  const [ar, ag, ab] = look.asphalt;
  const seed = look.seed;
  const seedOff = (seed & 255) * 1.37;
  const NT = NORMAL_TABLE;
  const TX = TEXTURE;
  const TM = TEXTURE_SIDE - 1;
  const TC = TEXTURE_CELL_TEXELS;
  const rgb = fr.rgb;
  const sw = fr.ssWidth;
  for (let v = 0; v < H; v++) {
    const yc = (v + 0.5 - fr.cy) / fr.fy;
    for (let u = 0; u < W; u++) {
      const xc = (u + 0.5 - fr.cx) / fr.fx;
      const dx = r[0]! * xc + r[1]! * yc + r[2]!;
      const dy = r[3]! * xc + r[4]! * yc + r[5]!;
      const dz = r[6]! * xc + r[7]! * yc + r[8]!;
      const norm = Math.hypot(dx, dy, dz);
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
      let cr: number;
      let cg: number;
      let cb: number;
      const range = sHit > 0 ? sHit * norm : Infinity;
      if (range < 2000) {
        const bx = tx + sHit * dx;
        const by = ty + sHit * dy;
        const wx = pose.xM + c * bx - s * by;
        const wy = pose.yM + s * bx + c * by;
        // footprint of a pixel on the ground (m), for fading fine texture
        const foot = (range * range) / (fr.fy * Math.max(0.3, tz));
        const fine = foot < 0.6 ? 1 - foot / 0.6 : 0;
        const n1 = fine > 0 ? NT[(Math.floor(wx * 12) * 7919 + Math.floor(wy * 12) * 104729 + seed) & 0xffff]! * 0.3 : 0;
        const n2 = TX[((Math.floor(wy * 0.7 * TC) & TM) << 8) | (Math.floor((wx * 0.7 + seedOff) * TC) & TM)]! - 0.5;
        const n3 = TX[((Math.floor(wy * 0.08 * TC + 31) & TM) << 8) | (Math.floor((wx * 0.08 + seedOff) * TC + 97) & TM)]! - 0.5;
        const g = 1 + look.textureAmp * (0.5 * fine * n1 + 0.6 * n2 + 0.8 * n3);
        const haze = 1 - Math.exp(-range / 350);
        cr = ar * g * (1 - haze) + look.horizon[0] * haze;
        cg = ag * g * (1 - haze) + look.horizon[1] * haze;
        cb = ab * g * (1 - haze) + look.horizon[2] * haze;
        distM[v * W + u] = range;
      } else {
        const elev = Math.asin(Math.max(-1, Math.min(1, dz / norm)));
        const az = pose.yawRad + Math.atan2(dy, dx);
        const skyline = 0.015 + 0.06 * valueNoise(az * 25, 0.5, seed + 3) + (hash2(Math.floor(az * 60), 7, seed) < 0.3 ? 0.04 : 0);
        if (elev < skyline) {
          const tree = valueNoise(az * 8, 1.5, seed + 4) > 0.5;
          const t = 0.85 + 0.3 * hash2(Math.floor(az * 400), Math.floor(elev * 400), seed);
          cr = (tree ? 0.2 : 0.45) * t;
          cg = (tree ? 0.27 : 0.44) * t;
          cb = (tree ? 0.17 : 0.43) * t;
        } else {
          const f = Math.min(1, Math.max(0, elev / 0.4));
          cr = look.horizon[0] + (look.sky[0] - look.horizon[0]) * f;
          cg = look.horizon[1] + (look.sky[1] - look.horizon[1]) * f;
          cb = look.horizon[2] + (look.sky[2] - look.horizon[2]) * f;
        }
        distM[v * W + u] = Infinity;
      }
      for (let a = 0; a < ss; a++) {
        let i = ((v * ss + a) * sw + u * ss) * 3;
        for (let b = 0; b < ss; b++, i += 3) {
          rgb[i] = cr;
          rgb[i + 1] = cg;
          rgb[i + 2] = cb;
        }
      }
    }
  }
}
