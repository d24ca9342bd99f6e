/**
 * Image-space effects on the output-resolution float image (0..1 RGB, rows top to bottom):
 * lighting (night with headlight falloff, low sun glare, wet road reflections and specular
 * streaks under lights), exposure with a soft shoulder, gaussian blur and sensor noise, then
 * quantisation to 8 bits. All effects are 0 = off.
 */
import type { CameraConditions } from './conditions.ts';
import type { LightSource } from './context.ts';
import { FastNoise, NORMAL_TABLE } from './noise.ts';

export interface EffectInputs {
  widthPx: number;
  heightPx: number;
  /** Float RGB, modified in place. */
  img: Float32Array;
  /** Ground distance per pixel of the base layer, metres (Infinity above the horizon). */
  distM: Float32Array;
  lights: readonly LightSource[];
  /** Image position of the sun (may lie outside the image), or undefined when behind. */
  sunUV: [number, number] | undefined;
  /** Horizon colour (sky reflection on wet roads). */
  horizon: [number, number, number];
  cxPx: number;
}

export function applyLighting(e: EffectInputs, c: CameraConditions): void {
  const { widthPx: W, heightPx: H, img, distM } = e;
  const night = c.night;
  const wet = c.wet;
  if (night > 0 || wet > 0) {
    const ambient = 1 - 0.93 * night;
    for (let v = 0; v < H; v++) {
      for (let u = 0; u < W; u++) {
        const p = v * W + u;
        const d = distM[p]!;
        let f = ambient;
        let add = 0;
        if (Number.isFinite(d)) {
          if (night > 0) {
            const lat = (u + 0.5 - e.cxPx) / (0.5 * W);
            const beam = 1 / (1 + Math.max(0, (d - 6) / 14) ** 2);
            f += night * 1.15 * beam * Math.exp(-lat * lat * 1.2);
          }
          if (wet > 0) {
            f *= 1 - 0.35 * wet;
            add = wet * 0.45 * Math.min(1, Math.max(0, (d - 4) / 70)) * (1 - 0.9 * night);
          }
        } else if (night > 0) {
          f = 1 - 0.95 * night;
        }
        const i = p * 3;
        img[i] = img[i]! * f + add * e.horizon[0];
        img[i + 1] = img[i + 1]! * f + add * e.horizon[1];
        img[i + 2] = img[i + 2]! * f + add * e.horizon[2];
      }
    }
  }
  // lamps: glow at night, streaks on wet roads
  const glowAmp = 1.2 * night;
  if (glowAmp > 0 || wet > 0) {
    for (const l of e.lights) {
      const rad = Math.min(10, (1.5 + 25 / Math.max(3, l.depthM)) * l.strength);
      if (glowAmp > 0) splat(img, W, H, l.u, l.v, rad, l.r * glowAmp * l.strength, l.g * glowAmp * l.strength, l.b * glowAmp * l.strength);
      if (wet > 0) streak(img, W, H, l.u, l.v + 2, H, 0.45 * wet * (0.4 + night) * l.strength, 8 + 20 * wet, l.r, l.g, l.b);
    }
  }
  // low sun: glare around the sun, veiling glare, a flare line, a streak on the road
  if (c.lowSun > 0 && e.sunUV) {
    const [su, sv] = e.sunUV;
    const s = c.lowSun;
    for (let v = 0; v < H; v++) {
      for (let u = 0; u < W; u++) {
        const r = Math.hypot(u + 0.5 - su, v + 0.5 - sv);
        const g = s * (0.12 + 0.35 * Math.exp(-r / 45) + 0.9 * Math.exp(-r / 9) + 0.12 * Math.exp(-Math.abs(v + 0.5 - sv) / 1.5));
        const i = (v * W + u) * 3;
        img[i] = img[i]! * (1 - 0.15 * s) + g * 1.0;
        img[i + 1] = img[i + 1]! * (1 - 0.15 * s) + g * 0.9;
        img[i + 2] = img[i + 2]! * (1 - 0.15 * s) + g * 0.72;
      }
    }
    streak(img, W, H, su, Math.max(sv + 4, 0), H, 0.35 * s * (0.4 + wet), 30, 1, 0.9, 0.7);
  }
}

/** Exposure gain with a soft shoulder, blur, noise, quantisation into `out` (RGB bytes). */
export function finishImage(img: Float32Array, W: number, H: number, c: CameraConditions, noiseSeed: number, out: Uint8Array, scratch: Float32Array): void {
  const gain = c.exposure;
  for (let i = 0; i < img.length; i++) {
    const x = img[i]! * gain;
    img[i] = x < 0.8 ? x : 0.8 + 0.2 * (1 - Math.exp(-(x - 0.8) / 0.2));
  }
  if (c.blurPx > 0) gaussianBlur(img, W, H, c.blurPx, scratch);
  const sigma = c.noiseSigma;
  // a clamped view rounds and clips on store
  const oc = new Uint8ClampedArray(out.buffer, out.byteOffset, out.length);
  if (sigma > 0) {
    // table lookups at a random offset and an odd stride per frame
    const rnd = new FastNoise(noiseSeed);
    const off = Math.floor(rnd.next() * 65536);
    const stride = (Math.floor(rnd.next() * 16384) << 1) | 1;
    const T = NORMAL_TABLE;
    const sc = sigma / 255;
    const c0 = sc * 0.8;
    const c1 = sc * 0.5;
    let k = off;
    for (let p = 0; p < W * H; p++) {
      const i = p * 3;
      const common = T[k & 0xffff]! * c0;
      oc[i] = (img[i]! + common + T[(k + 1) & 0xffff]! * c1) * 255;
      oc[i + 1] = (img[i + 1]! + common + T[(k + 2) & 0xffff]! * c1) * 255;
      oc[i + 2] = (img[i + 2]! + common + T[(k + 3) & 0xffff]! * c1) * 255;
      k = (k + stride) & 0xffff;
    }
  } else {
    for (let i = 0; i < img.length; i++) oc[i] = img[i]! * 255;
  }
}

function splat(img: Float32Array, W: number, H: number, cu: number, cv: number, rad: number, r: number, g: number, b: number): void {
  const R = Math.ceil(rad * 2.5);
  for (let v = Math.max(0, Math.floor(cv - R)); v < Math.min(H, Math.ceil(cv + R)); v++) {
    for (let u = Math.max(0, Math.floor(cu - R)); u < Math.min(W, Math.ceil(cu + R)); u++) {
      const d2 = ((u + 0.5 - cu) ** 2 + (v + 0.5 - cv) ** 2) / (rad * rad);
      const f = Math.exp(-d2 * 1.5);
      const i = (v * W + u) * 3;
      img[i] = img[i]! + r * f;
      img[i + 1] = img[i + 1]! + g * f;
      img[i + 2] = img[i + 2]! + b * f;
    }
  }
}

/** A vertical specular streak below (u, v0), decaying over `lenPx`. */
function streak(img: Float32Array, W: number, H: number, u: number, v0: number, vEnd: number, amp: number, lenPx: number, r: number, g: number, b: number): void {
  const uc = Math.floor(u);
  for (let v = Math.max(0, Math.floor(v0)); v < Math.min(H, vEnd); v++) {
    const f = amp * Math.exp(-(v - v0) / lenPx);
    if (f < 0.005) break;
    for (let du = -2; du <= 2; du++) {
      const x = uc + du;
      if (x < 0 || x >= W) continue;
      const w = f * Math.exp(-(du * du) / 2);
      const i = (v * W + x) * 3;
      img[i] = img[i]! + r * w;
      img[i + 1] = img[i + 1]! + g * w;
      img[i + 2] = img[i + 2]! + b * w;
    }
  }
}

function gaussianBlur(img: Float32Array, W: number, H: number, sigma: number, tmp: Float32Array): void {
  const R = Math.max(1, Math.ceil(sigma * 2.5));
  const k = new Float32Array(2 * R + 1);
  let sum = 0;
  for (let i = -R; i <= R; i++) sum += k[i + R] = Math.exp(-(i * i) / (2 * sigma * sigma));
  for (let i = 0; i < k.length; i++) k[i] = k[i]! / sum;
  // horizontal into tmp, vertical back into img (edges clamped)
  for (let v = 0; v < H; v++) {
    for (let u = 0; u < W; u++) {
      let r = 0;
      let g = 0;
      let b = 0;
      for (let t = -R; t <= R; t++) {
        const x = u + t < 0 ? 0 : u + t >= W ? W - 1 : u + t;
        const i = (v * W + x) * 3;
        const w = k[t + R]!;
        r += img[i]! * w;
        g += img[i + 1]! * w;
        b += img[i + 2]! * w;
      }
      const o = (v * W + u) * 3;
      tmp[o] = r;
      tmp[o + 1] = g;
      tmp[o + 2] = b;
    }
  }
  for (let v = 0; v < H; v++) {
    for (let u = 0; u < W; u++) {
      let r = 0;
      let g = 0;
      let b = 0;
      for (let t = -R; t <= R; t++) {
        const y = v + t < 0 ? 0 : v + t >= H ? H - 1 : v + t;
        const i = (y * W + u) * 3;
        const w = k[t + R]!;
        r += tmp[i]! * w;
        g += tmp[i + 1]! * w;
        b += tmp[i + 2]! * w;
      }
      const o = (v * W + u) * 3;
      img[o] = r;
      img[o + 1] = g;
      img[o + 2] = b;
    }
  }
}
