/**
 * Image-space effects on the output-resolution float image (0..1 RGB, rows top to bottom):
 * lighting (night with headlight falloff, low sun glare, wet road reflections and specular
 * streaks under lights), exposure with a soft shoulder, gaussian blur and sensor noise, then
 * quantisation to 8 bits. All effects are 0 = off.
 */
import type { CameraConditions } from './conditions.ts';
import type { LightSource } from './context.ts';
import { FastNoise, NORMAL_TABLE } from './noise.ts';

// Module-level aliases of imported tables: the optimising compiler embeds a module constant
// (no per-access type check), an imported binding it does not.
const NOISE: Float32Array = NORMAL_TABLE;

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
    const [hr, hg, hb] = e.horizon;
    // headlight falloff across the image, per column
    const across = columnScratch.length >= W ? columnScratch : (columnScratch = new Float64Array(W));
    for (let u = 0; u < W; u++) {
      const lat = (u + 0.5 - e.cxPx) / (0.5 * W);
      across[u] = night * 1.15 * Math.exp(-lat * lat * 1.2);
    }
    const wetF = 1 - 0.35 * wet;
    const wetAdd = wet * 0.45 * (1 - 0.9 * night);
    const skyF = night > 0 ? 1 - 0.95 * night : ambient;
    for (let v = 0, p = 0; v < H; v++) {
      for (let u = 0; u < W; u++, p++) {
        const d = distM[p]!;
        let f = skyF;
        let add = 0;
        if (d !== Infinity) {
          f = ambient;
          // the clamps decide near and far pixels without the divisions (the same values)
          if (night > 0) {
            let beam = 1;
            if (!(d <= 6)) {
              const q = Math.max(0, (d - 6) / 14);
              beam = 1 / (1 + q * q);
            }
            f += across[u]! * beam;
          }
          if (wet > 0) {
            f *= wetF;
            add = d >= 74 ? wetAdd : d <= 4 ? 0 : wetAdd * Math.min(1, Math.max(0, (d - 4) / 70));
          }
        }
        const i = p * 3;
        img[i] = img[i]! * f + add * hr;
        img[i + 1] = img[i + 1]! * f + add * hg;
        img[i + 2] = img[i + 2]! * f + add * hb;
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
    const keep = 1 - 0.15 * s;
    for (let v = 0; v < H; v++) {
      const dv = v + 0.5 - sv;
      const rowTerm = 0.12 + 0.12 * Math.exp(-Math.abs(dv) / 1.5);
      for (let u = 0; u < W; u++) {
        const du = u + 0.5 - su;
        const r = Math.sqrt(du * du + dv * dv);
        // exp(-r / 9) = exp(-r / 45)^5
        const e45 = Math.exp(-r / 45);
        const e45sq = e45 * e45;
        const g = s * (rowTerm + 0.35 * e45 + 0.9 * (e45sq * e45sq * e45));
        const i = (v * W + u) * 3;
        img[i] = img[i]! * keep + g * 1.0;
        img[i + 1] = img[i + 1]! * keep + g * 0.9;
        img[i + 2] = img[i + 2]! * keep + g * 0.72;
      }
    }
    streak(img, W, H, su, Math.max(sv + 4, 0), H, 0.35 * s * (0.4 + wet), 30, 1, 0.9, 0.7);
  }
}

let columnScratch = new Float64Array(0);

/**
 * Exposure gain with a soft shoulder, blur, noise, quantisation into `out` (RGB bytes).
 * `scratch` (W * H * 3 floats) takes the horizontal blur pass; `img` is modified when blurring.
 */
export function finishImage(img: Float32Array, W: number, H: number, c: CameraConditions, noiseSeed: number, out: Uint8Array, scratch: Float32Array): void {
  const gain = c.exposure;
  const sigma = c.noiseSigma;
  // table lookups at a random offset and an odd stride per frame
  const rnd = new FastNoise(noiseSeed);
  let k = 0;
  let stride = 0;
  if (sigma > 0) {
    k = Math.floor(rnd.next() * 65536);
    stride = (Math.floor(rnd.next() * 16384) << 1) | 1;
  }
  const sc = sigma / 255;
  const c0 = sc * 0.8;
  const c1 = sc * 0.5;
  const noisy = sigma > 0;
  // a clamped view rounds and clips on store
  const oc = new Uint8ClampedArray(out.buffer, out.byteOffset, out.length);
  const n = W * 3;
  if (!(c.blurPx > 0)) {
    if (noisy) exposeNoisy(img, n * H, gain, oc, k, stride, c0, c1);
    else exposeClean(img, n * H, gain, oc);
    return;
  }
  const taps = gaussianTaps(c.blurPx);
  const blurred = taps.length <= 4 ? blurSliding(img, W, H, gain, taps, scratch) : blurAnyRadius(img, W, H, gain, taps, scratch);
  if (noisy) quantiseNoisy(blurred, oc, 0, n * H, k, stride, c0, c1);
  else for (let i = 0, end = n * H; i < end; i++) oc[i] = blurred[i]! * 255;
}

/**
 * Exposure and gaussian blur (radius 1..3) of img into a buffer: exposure in place (float32, as
 * ever), the horizontal pass into `bh`, the vertical pass into `blurV`, each as a sliding
 * window along one channel of a row or one column (one load per sample instead of 2R + 1).
 */
function blurSliding(img: Float32Array, W: number, H: number, gain: number, taps: Float32Array, bh: Float32Array): Float32Array {
  const n = W * 3;
  const size = n * H;
  for (let i = 0; i < size; i++) img[i] = shoulder(img[i]! * gain);
  const bv = blurV.length >= size ? blurV : (blurV = new Float32Array(size));
  for (let row = 0; row < size; row += n) for (let ch = 0; ch < 3; ch++) slideGaussian(img, row + ch, 3, W, bh, taps);
  for (let x = 0; x < n; x++) slideGaussian(bh, x, n, H, bv, taps);
  return bv;
}

let blurV = new Float32Array(0);

/**
 * One line of `count` samples at src[s + k * step] blurred into dst at the same positions, edges
 * clamped: dst = x[k] * w0 + (x[k - 1] + x[k + 1]) * w1 + ... (the taps in order, in double).
 */
function slideGaussian(src: Float32Array, s: number, step: number, count: number, dst: Float32Array, taps: Float32Array): void {
  const R = taps.length - 1;
  if (R === 1) slide1(src, s, step, count, dst, taps[0]!, taps[1]!);
  else if (R === 2) slide2(src, s, step, count, dst, taps[0]!, taps[1]!, taps[2]!);
  else slide3(src, s, step, count, dst, taps[0]!, taps[1]!, taps[2]!, taps[3]!);
}

// Sliding windows: aK = x[k - K], c = x[k], bK = x[k + K]; the next sample is read clamped to the last.
function slide1(src: Float32Array, s: number, step: number, count: number, dst: Float32Array, w0: number, w1: number): void {
  const last = s + (count - 1) * step;
  let a1 = src[s]!;
  let c = a1;
  let b1 = src[1 < count ? s + step : last]!;
  for (let k = 0, o = s, i = s + 2 * step; k < count; k++, o += step, i += step) {
    dst[o] = c * w0 + (a1 + b1) * w1;
    a1 = c;
    c = b1;
    b1 = src[k + 2 < count ? i : last]!;
  }
}

function slide2(src: Float32Array, s: number, step: number, count: number, dst: Float32Array, w0: number, w1: number, w2: number): void {
  const last = s + (count - 1) * step;
  let a2 = src[s]!;
  let a1 = a2;
  let c = a2;
  let b1 = src[1 < count ? s + step : last]!;
  let b2 = src[2 < count ? s + 2 * step : last]!;
  for (let k = 0, o = s, i = s + 3 * step; k < count; k++, o += step, i += step) {
    dst[o] = c * w0 + (a1 + b1) * w1 + (a2 + b2) * w2;
    a2 = a1;
    a1 = c;
    c = b1;
    b1 = b2;
    b2 = src[k + 3 < count ? i : last]!;
  }
}

function slide3(src: Float32Array, s: number, step: number, count: number, dst: Float32Array, w0: number, w1: number, w2: number, w3: number): void {
  const last = s + (count - 1) * step;
  let a3 = src[s]!;
  let a2 = a3;
  let a1 = a3;
  let c = a3;
  let b1 = src[1 < count ? s + step : last]!;
  let b2 = src[2 < count ? s + 2 * step : last]!;
  let b3 = src[3 < count ? s + 3 * step : last]!;
  for (let k = 0, o = s, i = s + 4 * step; k < count; k++, o += step, i += step) {
    dst[o] = c * w0 + (a1 + b1) * w1 + (a2 + b2) * w2 + (a3 + b3) * w3;
    a3 = a2;
    a2 = a1;
    a1 = c;
    c = b1;
    b1 = b2;
    b2 = b3;
    b3 = src[k + 4 < count ? i : last]!;
  }
}

/**
 * Exposure and gaussian blur of any radius: exposure in place, the horizontal pass into `tmp`
 * (blurRows), the vertical pass into `blurV` with the taps' row offsets clamped at the edges.
 */
function blurAnyRadius(img: Float32Array, W: number, H: number, gain: number, taps: Float32Array, tmp: Float32Array): Float32Array {
  const R = taps.length - 1;
  const w0 = taps[0]!;
  const n = W * 3;
  const size = n * H;
  for (let i = 0; i < size; i++) img[i] = shoulder(img[i]! * gain);
  const bv = blurV.length >= size ? blurV : (blurV = new Float32Array(size));
  blurRows(img, W, H, taps, tmp);
  const rowA = rowOffsetsA.length > R ? rowOffsetsA : (rowOffsetsA = new Int32Array(R + 1));
  const rowC = rowOffsetsC.length > R ? rowOffsetsC : (rowOffsetsC = new Int32Array(R + 1));
  for (let v = 0; v < H; v++) {
    for (let t = 1; t <= R; t++) {
      rowA[t] = (v - t < 0 ? 0 : v - t) * n;
      rowC[t] = (v + t >= H ? H - 1 : v + t) * n;
    }
    for (let x = 0, i = v * n; x < n; x += 3, i += 3) {
      let r = tmp[i]! * w0;
      let g = tmp[i + 1]! * w0;
      let b = tmp[i + 2]! * w0;
      for (let t = 1; t <= R; t++) {
        const w = taps[t]!;
        const ia = rowA[t]! + x;
        const ic = rowC[t]! + x;
        r += (tmp[ia]! + tmp[ic]!) * w;
        g += (tmp[ia + 1]! + tmp[ic + 1]!) * w;
        b += (tmp[ia + 2]! + tmp[ic + 2]!) * w;
      }
      bv[i] = r;
      bv[i + 1] = g;
      bv[i + 2] = b;
    }
  }
  return bv;
}

let rowOffsetsA = new Int32Array(8);
let rowOffsetsC = new Int32Array(8);

/** The common case in one loop: exposure, noise, quantisation per pixel. */
function exposeNoisy(img: Float32Array, end: number, gain: number, oc: Uint8ClampedArray, k: number, stride: number, c0: number, c1: number): void {
  const T = NOISE;
  for (let i = 0; i < end; i += 3) {
    const r = Math.fround(shoulder(img[i]! * gain));
    const g = Math.fround(shoulder(img[i + 1]! * gain));
    const b = Math.fround(shoulder(img[i + 2]! * gain));
    const common = T[k & 0xffff]! * c0;
    oc[i] = (r + common + T[(k + 1) & 0xffff]! * c1) * 255;
    oc[i + 1] = (g + common + T[(k + 2) & 0xffff]! * c1) * 255;
    oc[i + 2] = (b + common + T[(k + 3) & 0xffff]! * c1) * 255;
    k = (k + stride) & 0xffff;
  }
}

/** Exposure and quantisation without noise. */
function exposeClean(img: Float32Array, end: number, gain: number, oc: Uint8ClampedArray): void {
  for (let i = 0; i < end; i++) oc[i] = Math.fround(shoulder(img[i]! * gain)) * 255;
}

/** Noise and quantisation of `count` floats of `src` (RGB pixels) into oc[off...]; returns the table position after them. */
function quantiseNoisy(src: Float32Array, oc: Uint8ClampedArray, off: number, count: number, k: number, stride: number, c0: number, c1: number): number {
  const T = NOISE;
  for (let x = 0, i = off; x < count; x += 3, i += 3) {
    const common = T[k & 0xffff]! * c0;
    oc[i] = (src[x]! + common + T[(k + 1) & 0xffff]! * c1) * 255;
    oc[i + 1] = (src[x + 1]! + common + T[(k + 2) & 0xffff]! * c1) * 255;
    oc[i + 2] = (src[x + 2]! + common + T[(k + 3) & 0xffff]! * c1) * 255;
    k = (k + stride) & 0xffff;
  }
  return k;
}

const SHOULDER_STEPS_PER_UNIT = 4096;
const SHOULDER_MAX = 4;
/** 0.2 * (1 - exp(-d / 0.2)) at d = i / SHOULDER_STEPS_PER_UNIT, for the exposure shoulder. */
const SHOULDER_TABLE: Float64Array = (() => {
  const n = SHOULDER_MAX * SHOULDER_STEPS_PER_UNIT;
  const t = new Float64Array(n + 2);
  for (let i = 0; i < t.length; i++) t[i] = 0.2 * (1 - Math.exp(-i / SHOULDER_STEPS_PER_UNIT / 0.2));
  return t;
})();

/** Exposure shoulder: linear to 0.8, then 0.8 + 0.2 * (1 - exp(-(x - 0.8) / 0.2)) (interpolated table, error < 1e-7). */
function shoulder(x: number): number {
  if (x < 0.8) return x;
  const d = (x - 0.8) * SHOULDER_STEPS_PER_UNIT;
  if (d >= SHOULDER_MAX * SHOULDER_STEPS_PER_UNIT) return 0.8 + 0.2 * (1 - Math.exp(-(x - 0.8) / 0.2));
  const j = d | 0;
  const f = d - j;
  const a = SHOULDER_TABLE[j]!;
  return 0.8 + a + (SHOULDER_TABLE[j + 1]! - a) * f;
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

/** Normalised gaussian weights of a blur of `sigma` px for offsets 0..R (float32, as the kernel always was). */
function gaussianTaps(sigma: number): Float32Array {
  const R = Math.max(1, Math.ceil(sigma * 2.5));
  const k = new Float32Array(2 * R + 1);
  let sum = 0;
  for (let i = -R; i <= R; i++) sum += k[i + R] = Math.exp(-(i * i) / (2 * sigma * sigma));
  for (let i = 0; i < k.length; i++) k[i] = k[i]! / sum;
  return k.slice(R);
}

/** Horizontal gaussian pass (symmetric taps w[t] * (x[-t] + x[+t]), edges clamped) from img into tmp. */
function blurRows(img: Float32Array, W: number, H: number, taps: Float32Array, tmp: Float32Array): void {
  const R = taps.length - 1;
  const w0 = taps[0]!;
  const n = W * 3;
  for (let v = 0; v < H; v++) {
    const row = v * n;
    for (let u = 0; u < W; u++) {
      const o = row + u * 3;
      let r = img[o]! * w0;
      let g = img[o + 1]! * w0;
      let b = img[o + 2]! * w0;
      const inside = u >= R && u < W - R;
      for (let t = 1; t <= R; t++) {
        const w = taps[t]!;
        const a = inside ? o - 3 * t : row + (u - t < 0 ? 0 : u - t) * 3;
        const c = inside ? o + 3 * t : row + (u + t >= W ? W - 1 : u + t) * 3;
        r += (img[a]! + img[c]!) * w;
        g += (img[a + 1]! + img[c + 1]!) * w;
        b += (img[a + 2]! + img[c + 2]!) * w;
      }
      tmp[o] = r;
      tmp[o + 1] = g;
      tmp[o + 2] = b;
    }
  }
}
