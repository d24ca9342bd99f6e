/**
 * THE one parser of the segmentation model's output tensor (`probs`, float32 [1, C, H, W],
 * softmax over the C classes of `SEG_CLASS_IDS`, stride 2 relative to the model input). Nothing
 * else indexes the raw tensor: the rest of perception reads a `SegOutput`.
 *
 * Per output pixel (row-major, index r * widthPx + c): the arg-max class id and its probability,
 * and the probability of the two pole classes (sign_base, light_base: signs and lights as a whole).
 * The decoder owns one preallocated `SegOutput`, overwritten by every `decode` call.
 *
 * Class prior correction (`classFactors`): a model trained with class-weighted cross-entropy
 * learns p(c | x) scaled by its class weight w_c (the minimiser of the weighted loss), so its
 * arg-max calls a pixel a thin rare class (paint, a kerb) far more often than the evidence says:
 * the model's false lines. With factors f_c the decoder takes the arg-max of f_c p_c and reports
 * f_k p_k / sum_c f_c p_c as its probability (logit adjustment; Menon et al., "Long-tail learning
 * via logit adjustment", ICLR 2021). `classPriorFactors` derives them from the training record:
 * one factor shared by all map classes (background against the rest), so the decoder scales only
 * the background plane by f_0 / f_map (the same arg-max and shares) and, the output being a
 * softmax, takes the corrected sum as that plus 1 - p_background: one multiply per pixel more.
 * The pole planes stay the model's own probabilities (their thresholds are set on those).
 */
import { SEG_CLASS_COUNT, SEG_CLASS_IDS } from '../../shared/camera.ts';

export interface SegOutput {
  /** Output grid size, pixels (the model input / stride). */
  widthPx: number;
  heightPx: number;
  /** Arg-max class id per output pixel (SEG_CLASS_IDS). */
  classId: Uint8Array;
  /** Probability of that class, in [0, 1]. */
  prob: Float32Array;
  /**
   * Probability of the pole classes sign_base / light_base per pixel, whatever wins the arg-max
   * (optional; SegDecoder fills them): a pole is a pixel or two wide and often loses the arg-max
   * to what stands behind it, so the local map also takes their probability from here.
   */
  signBaseProb?: Float32Array;
  lightBaseProb?: Float32Array;
}

export interface SegOutputDims {
  /** Classes (channels), widthPx, heightPx of the output tensor. */
  classes: number;
  widthPx: number;
  heightPx: number;
}

/**
 * Class prior factors from the class weights the model was trained with (`weights`, by class
 * name; the model metadata's training.classWeights): 1 for background, and for every map class
 * the same factor, the geometric mean over the map classes of (w_background / w_c)^alpha.
 * Undefined when a class has no finite positive weight there (a model without that record is
 * decoded as is). alpha in [0, 1]: 1 undoes the background / map-class weighting in full, 0
 * leaves the model's arg-max.
 *
 * One factor for all map classes moves only the decision between background and the best map
 * class, never the ranking among map classes: per-class factors also turned paint into kerbs
 * where the training maps' class frequencies do not hold (on two foreign Lanelet2 maps, a Dutch
 * and a Japanese one, mAP@0.5 fell from 0.191 to 0.112 and 750 m of false dividers appeared per
 * km published), while one shared factor kept 0.192 on the Dutch map (0.191 without) and most of
 * the gain on the simulator's Karlsruhe (relative mAP@0.5 0.308 against 0.322 per class, 0.258
 * without). The median map weight instead of the geometric mean: 0.214 on the Dutch map, 0.284 on
 * Karlsruhe, worse on the Japanese one (relative 0.044 against 0.196); not taken.
 */
export function classPriorFactors(weights: unknown, classNames: readonly string[], alpha: number): Float32Array | undefined {
  if (!(alpha >= 0 && alpha <= 1)) throw new RangeError(`classPriorAlpha must be in [0, 1], got ${alpha}`);
  if (alpha === 0 || typeof weights !== 'object' || weights === null || classNames.length < 2) return undefined;
  const w = weights as Record<string, unknown>;
  const ws = classNames.map((c) => w[c]);
  if (!ws.every((v): v is number => typeof v === 'number' && Number.isFinite(v) && v > 0)) return undefined;
  let logSum = 0;
  for (let c = 1; c < ws.length; c++) logSum += Math.log(ws[0]! / ws[c]!);
  const shared = Math.exp((alpha * logSum) / (ws.length - 1));
  return Float32Array.from(ws, (_, c) => (c === 0 ? 1 : shared));
}

export const DEFAULT_SEG_OUTPUT_DIMS: SegOutputDims = {
  classes: SEG_CLASS_COUNT, // channels
  widthPx: 128, // px
  heightPx: 64, // px
};

export function allocSegOutput(widthPx: number, heightPx: number): SegOutput {
  return { widthPx, heightPx, classId: new Uint8Array(widthPx * heightPx), prob: new Float32Array(widthPx * heightPx) };
}

export class SegDecoder {
  readonly dims: SegOutputDims;
  readonly out: SegOutput;

  /**
   * Class prior factors (see the module comment): background's, then one shared by every map
   * class (classPriorFactors); undefined: the plain arg-max.
   */
  readonly classFactors: Float32Array | undefined;
  /** f_background / f_map: what the background plane is scaled by (1 without factors). */
  private readonly backgroundScale: number;

  constructor(dims: Partial<SegOutputDims> = {}, classFactors?: Float32Array) {
    this.dims = { ...DEFAULT_SEG_OUTPUT_DIMS, ...dims };
    const d = this.dims;
    if (classFactors && (classFactors.length !== d.classes || !classFactors.every((f) => f > 0 && Number.isFinite(f)))) {
      throw new RangeError(`decode.classFactors must hold ${d.classes} finite positive numbers, got ${Array.from(classFactors).join(', ')}`);
    }
    if (classFactors && d.classes > 1 && !classFactors.every((f, c) => c === 0 || f === classFactors[1])) {
      throw new RangeError(`decode.classFactors must share one factor among the map classes (ids 1..${d.classes - 1}), got ${Array.from(classFactors).join(', ')}`);
    }
    this.classFactors = classFactors;
    this.backgroundScale = classFactors && d.classes > 1 ? classFactors[0]! / classFactors[1]! : 1;
    if (!(Number.isInteger(d.classes) && d.classes >= 1 && d.classes <= 255)) throw new RangeError(`decode.classes must be an integer in [1, 255], got ${d.classes}`);
    for (const k of ['widthPx', 'heightPx'] as const) {
      if (!(Number.isInteger(d[k]) && d[k] >= 1)) throw new RangeError(`decode.${k} must be a positive integer, got ${d[k]}`);
    }
    this.out = allocSegOutput(d.widthPx, d.heightPx);
    if (d.classes > SEG_CLASS_IDS.sign_base) this.out.signBaseProb = new Float32Array(d.widthPx * d.heightPx);
    if (d.classes > SEG_CLASS_IDS.light_base) this.out.lightBaseProb = new Float32Array(d.widthPx * d.heightPx);
  }

  /** Parse `probs` (NCHW, N = 1) into `this.out` (returned). */
  decode(probs: Float32Array): SegOutput {
    const { classes, widthPx, heightPx } = this.dims;
    const n = widthPx * heightPx;
    if (probs.length !== classes * n) {
      throw new RangeError(`decode: probs must hold ${classes}x${heightPx}x${widthPx} = ${classes * n} floats, got ${probs.length}`);
    }
    const cls = this.out.classId;
    const best = this.out.prob;
    // Per pixel over the planes (the lowest class id wins a tie), background scaled.
    const scale = this.backgroundScale;
    if (classes === 10) {
      argMax10(probs, n, cls, best, scale);
    } else for (let i = 0; i < n; i++) {
      const p0 = probs[i]!;
      let b = p0 * scale;
      let k = 0;
      for (let c = 1, j = i + n; c < classes; c++, j += n) {
        const p = probs[j]!;
        if (p > b) {
          b = p;
          k = c;
        }
      }
      cls[i] = k;
      best[i] = scale === 1 ? b : correctedShare(b, p0, scale);
    }
    if (this.out.signBaseProb) this.out.signBaseProb.set(probs.subarray(SEG_CLASS_IDS.sign_base * n, (SEG_CLASS_IDS.sign_base + 1) * n));
    if (this.out.lightBaseProb) this.out.lightBaseProb.set(probs.subarray(SEG_CLASS_IDS.light_base * n, (SEG_CLASS_IDS.light_base + 1) * n));
    return this.out;
  }
}

/** The winner's share of the corrected sum: background scaled, the map classes 1 - p0 of a softmax. */
function correctedShare(b: number, p0: number, scale: number): number {
  const sum = p0 * scale + 1 - p0;
  return sum > 0 ? b / sum : 0;
}

/** The per-pixel arg-max of `decode` for exactly 10 planes, unrolled (the same comparisons in the same order). */
function argMax10(probs: Float32Array, n: number, cls: Uint8Array, best: Float32Array, scale: number): void {
  for (let i = 0; i < n; i++) {
    const p0 = probs[i]!;
    let b = p0 * scale;
    let k = 0;
    let p = probs[i + n]!;
    if (p > b) { b = p; k = 1; }
    p = probs[i + 2 * n]!;
    if (p > b) { b = p; k = 2; }
    p = probs[i + 3 * n]!;
    if (p > b) { b = p; k = 3; }
    p = probs[i + 4 * n]!;
    if (p > b) { b = p; k = 4; }
    p = probs[i + 5 * n]!;
    if (p > b) { b = p; k = 5; }
    p = probs[i + 6 * n]!;
    if (p > b) { b = p; k = 6; }
    p = probs[i + 7 * n]!;
    if (p > b) { b = p; k = 7; }
    p = probs[i + 8 * n]!;
    if (p > b) { b = p; k = 8; }
    p = probs[i + 9 * n]!;
    if (p > b) { b = p; k = 9; }
    cls[i] = k;
    best[i] = scale === 1 ? b : correctedShare(b, p0, scale);
  }
}
