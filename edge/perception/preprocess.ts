/**
 * Camera frame -> the model's input tensor: Float32 NCHW [1, 3, H, W], RGB scaled to [0, 1],
 * bilinear resize from any frame size to the model size (pixel centres aligned: source
 * coordinate = (dst + 0.5) * srcSize / dstSize - 0.5, clamped to the image).
 *
 * The resize tables (source indices and weights per output column and row) are computed once per
 * frame size and reused; the output tensor is allocated once. A gray8 frame is replicated into
 * the three channels. No allocation per frame (except when the frame size changes).
 */
import type { CameraFrame } from '../../shared/camera-frame.ts';
import type { CameraCalibration } from '../../shared/camera.ts';

export interface PreprocessOptions {
  /** Model input width, pixels. */
  widthPx: number;
  /** Model input height, pixels. */
  heightPx: number;
}

export const DEFAULT_PREPROCESS_OPTIONS: PreprocessOptions = {
  widthPx: 256, // px
  heightPx: 128, // px
};

export class Preprocessor {
  readonly options: PreprocessOptions;
  /** The model input, NCHW [1, 3, heightPx, widthPx]; overwritten by every `run`. */
  readonly tensor: Float32Array;
  private srcW = -1;
  private srcH = -1;
  // Per output column: left/right source column (in pixels, not bytes) and the right weight.
  private x0 = new Int32Array(0);
  private x1 = new Int32Array(0);
  private wx = new Float32Array(0);
  // Per output row: top/bottom source row and the bottom weight.
  private y0 = new Int32Array(0);
  private y1 = new Int32Array(0);
  private wy = new Float32Array(0);
  /** How often the resize tables were (re)built: once per frame size change. */
  tableBuilds = 0;

  constructor(options: Partial<PreprocessOptions> = {}) {
    this.options = { ...DEFAULT_PREPROCESS_OPTIONS, ...options };
    for (const k of ['widthPx', 'heightPx'] as const) {
      const v = this.options[k];
      if (!(Number.isInteger(v) && v >= 1 && v <= 4096)) throw new RangeError(`preprocess.${k} must be an integer in [1, 4096] px, got ${v}`);
    }
    this.tensor = new Float32Array(3 * this.options.widthPx * this.options.heightPx);
    this.x0 = new Int32Array(this.options.widthPx);
    this.x1 = new Int32Array(this.options.widthPx);
    this.wx = new Float32Array(this.options.widthPx);
    this.y0 = new Int32Array(this.options.heightPx);
    this.y1 = new Int32Array(this.options.heightPx);
    this.wy = new Float32Array(this.options.heightPx);
  }

  /** Resize and normalise `frame` into `this.tensor` (returned). */
  run(frame: CameraFrame): Float32Array {
    const bpp = frame.encoding === 'rgb8' ? 3 : 1;
    if (frame.pixels.length !== frame.widthPx * frame.heightPx * bpp) {
      throw new RangeError(`preprocess: frame ${frame.widthPx}x${frame.heightPx} ${frame.encoding} needs ${frame.widthPx * frame.heightPx * bpp} pixel bytes, got ${frame.pixels.length}`);
    }
    if (frame.widthPx !== this.srcW || frame.heightPx !== this.srcH) this.buildTables(frame.widthPx, frame.heightPx);
    const { widthPx: W, heightPx: H } = this.options;
    const plane = W * H;
    const out = this.tensor;
    const px = frame.pixels;
    const stride = frame.widthPx * bpp;
    const { x0, x1, wx, y0, y1, wy } = this;
    const k = 1 / 255;
    if (frame.widthPx === W && frame.heightPx === H) {
      // Same size: every weight but w00 (= k) is 0, so each value is k * pixel exactly.
      if (bpp === 3) {
        for (let o = 0, i = 0; o < plane; o++, i += 3) {
          out[o] = k * px[i]!;
          out[o + plane] = k * px[i + 1]!;
          out[o + 2 * plane] = k * px[i + 2]!;
        }
      } else {
        for (let o = 0; o < plane; o++) {
          const g = k * px[o]!;
          out[o] = g;
          out[o + plane] = g;
          out[o + 2 * plane] = g;
        }
      }
      return out;
    }
    for (let r = 0; r < H; r++) {
      const rowA = y0[r]! * stride;
      const rowB = y1[r]! * stride;
      const b = wy[r]!;
      const a = 1 - b;
      let o = r * W;
      for (let c = 0; c < W; c++, o++) {
        const ia = x0[c]! * bpp;
        const ib = x1[c]! * bpp;
        const q = wx[c]!;
        const p = 1 - q;
        const w00 = a * p * k;
        const w01 = a * q * k;
        const w10 = b * p * k;
        const w11 = b * q * k;
        if (bpp === 3) {
          out[o] = w00 * px[rowA + ia]! + w01 * px[rowA + ib]! + w10 * px[rowB + ia]! + w11 * px[rowB + ib]!;
          out[o + plane] = w00 * px[rowA + ia + 1]! + w01 * px[rowA + ib + 1]! + w10 * px[rowB + ia + 1]! + w11 * px[rowB + ib + 1]!;
          out[o + 2 * plane] = w00 * px[rowA + ia + 2]! + w01 * px[rowA + ib + 2]! + w10 * px[rowB + ia + 2]! + w11 * px[rowB + ib + 2]!;
        } else {
          const g = w00 * px[rowA + ia]! + w01 * px[rowA + ib]! + w10 * px[rowB + ia]! + w11 * px[rowB + ib]!;
          out[o] = g;
          out[o + plane] = g;
          out[o + 2 * plane] = g;
        }
      }
    }
    return out;
  }

  private buildTables(srcW: number, srcH: number): void {
    fillAxis(srcW, this.options.widthPx, this.x0, this.x1, this.wx);
    fillAxis(srcH, this.options.heightPx, this.y0, this.y1, this.wy);
    this.srcW = srcW;
    this.srcH = srcH;
    this.tableBuilds++;
  }
}

/**
 * The calibration of the camera as seen at `widthPx` x `heightPx` (the model input): focal
 * lengths and principal point scale with the image (pixel edges at integer coordinates, so a
 * continuous image point u maps to u * width'/width). Mounting is unchanged.
 */
export function scaleCalibration(cal: CameraCalibration, widthPx: number, heightPx: number): CameraCalibration {
  if (!(widthPx > 0 && heightPx > 0)) throw new RangeError(`scaleCalibration: target size must be > 0 px, got ${widthPx}x${heightPx}`);
  const sx = widthPx / cal.widthPx;
  const sy = heightPx / cal.heightPx;
  return { ...cal, widthPx, heightPx, fxPx: cal.fxPx * sx, cxPx: cal.cxPx * sx, fyPx: cal.fyPx * sy, cyPx: cal.cyPx * sy };
}

function fillAxis(src: number, dst: number, i0: Int32Array, i1: Int32Array, w1: Float32Array): void {
  const scale = src / dst;
  for (let d = 0; d < dst; d++) {
    let s = (d + 0.5) * scale - 0.5;
    if (s < 0) s = 0;
    if (s > src - 1) s = src - 1;
    const lo = Math.floor(s);
    const hi = Math.min(lo + 1, src - 1);
    i0[d] = lo;
    i1[d] = hi;
    w1[d] = s - lo;
  }
}
