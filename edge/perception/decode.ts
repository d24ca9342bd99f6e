/**
 * THE one parser of the segmentation model's output tensor (`probs`, float32 [1, C, H, W],
 * softmax over the C classes of `SEG_CLASS_IDS`, stride 2 relative to the model input). Nothing
 * else indexes the raw tensor: the rest of perception reads a `SegOutput`.
 *
 * Per output pixel (row-major, index r * widthPx + c): the arg-max class id and its probability.
 * The decoder owns one preallocated `SegOutput`, overwritten by every `decode` call.
 */
import { SEG_CLASS_COUNT } from '../../shared/camera.ts';

export interface SegOutput {
  /** Output grid size, pixels (the model input / stride). */
  widthPx: number;
  heightPx: number;
  /** Arg-max class id per output pixel (SEG_CLASS_IDS). */
  classId: Uint8Array;
  /** Probability of that class, in [0, 1]. */
  prob: Float32Array;
}

export interface SegOutputDims {
  /** Classes (channels), widthPx, heightPx of the output tensor. */
  classes: number;
  widthPx: number;
  heightPx: number;
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

  constructor(dims: Partial<SegOutputDims> = {}) {
    this.dims = { ...DEFAULT_SEG_OUTPUT_DIMS, ...dims };
    const d = this.dims;
    if (!(Number.isInteger(d.classes) && d.classes >= 1 && d.classes <= 255)) throw new RangeError(`decode.classes must be an integer in [1, 255], got ${d.classes}`);
    for (const k of ['widthPx', 'heightPx'] as const) {
      if (!(Number.isInteger(d[k]) && d[k] >= 1)) throw new RangeError(`decode.${k} must be a positive integer, got ${d[k]}`);
    }
    this.out = allocSegOutput(d.widthPx, d.heightPx);
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
    // Class-major pass: contiguous reads of each channel plane.
    for (let i = 0; i < n; i++) {
      cls[i] = 0;
      best[i] = probs[i]!;
    }
    for (let k = 1; k < classes; k++) {
      const base = k * n;
      for (let i = 0; i < n; i++) {
        const p = probs[base + i]!;
        if (p > best[i]!) {
          best[i] = p;
          cls[i] = k;
        }
      }
    }
    return this.out;
  }
}
