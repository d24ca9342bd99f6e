/** Label visualisation: class colours over an image (for sample PNGs and debugging). */
import { SEG_IGNORE } from '../../shared/camera.ts';

/** Colour per class id (RGB bytes); 255 (ignore) is magenta. */
export const CLASS_COLOURS: ReadonlyArray<readonly [number, number, number]> = [
  [0, 0, 0], // background
  [255, 255, 0], // divider_solid
  [0, 255, 255], // divider_dashed
  [255, 0, 0], // boundary_curb
  [255, 128, 0], // boundary_border
  [160, 0, 255], // boundary_barrier
  [0, 255, 0], // stop_line
  [0, 128, 255], // crosswalk
  [255, 255, 255], // sign_base
  [255, 0, 128], // light_base
];

/** The image with its labels (stride 2) blended on top. */
export function labelOverlay(image: Uint8Array, labels: Uint8Array, widthPx: number, heightPx: number, alpha = 0.6): Uint8Array {
  const out = Uint8Array.from(image);
  const lw = widthPx / 2;
  for (let v = 0; v < heightPx; v++) {
    for (let u = 0; u < widthPx; u++) {
      const id = labels[(v >> 1) * lw + (u >> 1)]!;
      if (id === 0) continue;
      const c = id === SEG_IGNORE ? ([255, 0, 255] as const) : CLASS_COLOURS[id] ?? ([128, 128, 128] as const);
      const i = (v * widthPx + u) * 3;
      for (let k = 0; k < 3; k++) out[i + k] = Math.round(out[i + k]! * (1 - alpha) + c[k]! * alpha);
    }
  }
  return out;
}

/** Stack images vertically (same width). */
export function stackRows(images: readonly Uint8Array[], widthPx: number): Uint8Array {
  const out = new Uint8Array(images.reduce((s, im) => s + im.length, 0));
  let o = 0;
  for (const im of images) {
    out.set(im, o);
    o += im.length;
  }
  void widthPx;
  return out;
}

/** Scale an RGB image up by an integer factor (nearest). */
export function upscale(rgb: Uint8Array, widthPx: number, heightPx: number, f: number): Uint8Array {
  const out = new Uint8Array(widthPx * f * heightPx * f * 3);
  for (let y = 0; y < heightPx * f; y++) {
    for (let x = 0; x < widthPx * f; x++) {
      const i = (Math.floor(y / f) * widthPx + Math.floor(x / f)) * 3;
      const o = (y * widthPx * f + x) * 3;
      out[o] = rgb[i]!;
      out[o + 1] = rgb[i + 1]!;
      out[o + 2] = rgb[i + 2]!;
    }
  }
  return out;
}
