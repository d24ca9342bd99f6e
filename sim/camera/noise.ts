/**
 * Hash-based noise for world-anchored textures and effects: the same world position and seed
 * always give the same value, so textures, wear and shadows stay put from frame to frame.
 */

/** Hash of two integers and a seed to [0, 1). */
export function hash2(ix: number, iy: number, seed: number): number {
  let h = Math.imul(ix | 0, 0x27d4eb2d) ^ Math.imul(iy | 0, 0x165667b1) ^ Math.imul(seed | 0, 0x9e3779b1);
  h = Math.imul(h ^ (h >>> 15), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return ((h ^ (h >>> 16)) >>> 0) / 4294967296;
}

/** Smooth value noise in [0, 1) with unit lattice spacing. */
export function valueNoise(x: number, y: number, seed: number): number {
  const ix = Math.floor(x);
  const iy = Math.floor(y);
  const fx = x - ix;
  const fy = y - iy;
  const sx = fx * fx * (3 - 2 * fx);
  const sy = fy * fy * (3 - 2 * fy);
  const a = hash2(ix, iy, seed);
  const b = hash2(ix + 1, iy, seed);
  const c = hash2(ix, iy + 1, seed);
  const d = hash2(ix + 1, iy + 1, seed);
  return a + (b - a) * sx + (c - a) * sy + (a - b - c + d) * sx * sy;
}

/** A small fast generator for per-pixel noise (xorshift32), seeded once per frame. */
export class FastNoise {
  private s: number;
  constructor(seed: number) {
    this.s = (seed >>> 0) || 0x9e3779b9;
  }
  /** Uniform in [0, 1). */
  next(): number {
    let x = this.s;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.s = x >>> 0;
    return this.s / 4294967296;
  }
  /** Approximately normal (sum of 4 uniforms), mean 0, standard deviation 1. */
  normal(): number {
    return (this.next() + this.next() + this.next() + this.next() - 2) * 1.7320508;
  }
}

/** 65536 normal deviates (fixed seed), for per-pixel sensor noise by table lookup. */
export const NORMAL_TABLE: Float32Array = (() => {
  const t = new Float32Array(1 << 16);
  const g = new FastNoise(0x1234567);
  for (let i = 0; i < t.length; i++) {
    let u = g.next();
    while (u === 0) u = g.next();
    t[i] = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * g.next());
  }
  return t;
})();

export const TEXTURE_SIDE = 256;
/** Texels per noise cell of TEXTURE: sample at world * cellsPerM * TEXTURE_CELL_TEXELS. */
export const TEXTURE_CELL_TEXELS = 8;

/** Corner hash of TEXTURE's lattice, periodic over `cells` (a function, not a closure per texel: cheaper to load under tsx). */
function tileHash(a: number, b: number, cells: number): number {
  return hash2(a % cells, b % cells, 4242);
}

/** A periodic smooth value-noise tile in [0, 1), TEXTURE_SIDE^2 texels, for cheap world textures. */
export const TEXTURE: Float32Array = (() => {
  const n = TEXTURE_SIDE;
  const cells = n / TEXTURE_CELL_TEXELS;
  const t = new Float32Array(n * n);
  for (let y = 0; y < n; y++) {
    for (let x = 0; x < n; x++) {
      const fx = x / TEXTURE_CELL_TEXELS;
      const fy = y / TEXTURE_CELL_TEXELS;
      const ix = Math.floor(fx);
      const iy = Math.floor(fy);
      const sx = (fx - ix) * (fx - ix) * (3 - 2 * (fx - ix));
      const sy = (fy - iy) * (fy - iy) * (3 - 2 * (fy - iy));
      const a = tileHash(ix, iy, cells);
      const b = tileHash(ix + 1, iy, cells);
      const c = tileHash(ix, iy + 1, cells);
      const d = tileHash(ix + 1, iy + 1, cells);
      t[y * n + x] = a + (b - a) * sx + (c - a) * sy + (a - b - c + d) * sx * sy;
    }
  }
  return t;
})();

/** Nearest texel of TEXTURE at texel coordinates (periodic). */
export function texel(x: number, y: number): number {
  return TEXTURE[((Math.floor(y) & (TEXTURE_SIDE - 1)) << 8) | (Math.floor(x) & (TEXTURE_SIDE - 1))]!;
}
