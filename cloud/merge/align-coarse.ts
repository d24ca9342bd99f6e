/**
 * Coarse alignment: each drive (then each of its segments) is shifted onto the others by an
 * exhaustive search over translations, scored against a count grid of where the OTHER drives
 * saw things of the same class (leave-one-drive-out, so a drive never aligns to itself).
 *
 * The count grid holds, per class channel and cell, how many segments saw something there
 * (lines drawn continuously, every cell dilated by one). The score of shift d is S(d) = sum
 * over the drive's points of grid(point + d), per channel, each channel normalised by its own
 * peak. A Gaussian prior on d breaks the ridge a straight road leaves along its direction. Coarse to fine: a drive-level search (+-coarseSearchM at coarseCellM),
 * then a segment-level one (+-refineSearchM at refineCellM) for drift.
 */
import type { MergeOptions } from './options.ts';
import { CLS_BOUNDARY, CLS_CROSSWALK, CLS_DIVIDER, CLS_LIGHT, CLS_SIGN, CLS_STOP, type Prepared, type Resampled } from './prepare.ts';
import { hypot } from './polyline.ts';

const CHANNELS = 4;

/** Class code -> alignment channel and weight. Signs/lights pin both axes, so they weigh more. */
function channelOf(cls: number): number {
  if (cls === CLS_DIVIDER) return 0;
  if (cls === CLS_BOUNDARY) return 1;
  if (cls === CLS_STOP || cls === CLS_CROSSWALK) return 2;
  return 3;
}
const POINT_WEIGHT = 3;

export interface CoarseStats {
  /** Drives that found a usable peak in the drive-level search. */
  drivesAligned: number;
}

/** Returns [dx, dy] per segment (metres), mean over drives zero. */
export function coarseAlign(p: Prepared, r: Resampled, o: MergeOptions): { corr: Float64Array; stats: CoarseStats } {
  const corr = new Float64Array(2 * p.nSeg);
  if (p.nSeg === 0 || r.n === 0) return { corr, stats: { drivesAligned: 0 } };
  // Points of each segment.
  const segPts: number[][] = Array.from({ length: p.nSeg }, () => []);
  for (let i = 0; i < r.n; i++) segPts[p.seg[r.obs[i]!]!]!.push(i);
  const chan = new Uint8Array(r.n);
  const weight = new Float32Array(r.n);
  for (let i = 0; i < r.n; i++) {
    const c = p.cls[r.obs[i]!]!;
    chan[i] = channelOf(c);
    weight[i] = c === CLS_SIGN || c === CLS_LIGHT ? POINT_WEIGHT : 1;
  }
  let drivesAligned = 0;
  // Drive level.
  {
    const grid = new CountGrid(r, corr, p, segPts, chan, o.coarseCellM, o.coarseSearchM + 1);
    const k = Math.round(o.coarseSearchM / o.coarseCellM);
    const shifts = new Float64Array(2 * p.driveIds.length);
    const found = new Uint8Array(p.driveIds.length);
    p.driveSegs.forEach((segs, d) => {
      for (const s of segs) grid.addSegment(s, -1);
      const S = new Float64Array(CHANNELS * (2 * k + 1) ** 2);
      for (const s of segs) grid.score(segPts[s]!, weight, S, k);
      for (const s of segs) grid.addSegment(s, 1);
      const best = pickPeak(combineChannels(S, k), k, o.coarseCellM, o.coarsePriorSigmaM);
      if (best) {
        shifts[2 * d] = best[0];
        shifts[2 * d + 1] = best[1];
        found[d] = 1;
        drivesAligned++;
      }
    });
    p.driveSegs.forEach((segs, d) => {
      for (const s of segs) {
        corr[2 * s] = corr[2 * s]! + shifts[2 * d]!;
        corr[2 * s + 1] = corr[2 * s + 1]! + shifts[2 * d + 1]!;
      }
    });
    centreOnDrives(p, corr);
  }
  // Segment level, around the drive's offset.
  {
    const grid = new CountGrid(r, corr, p, segPts, chan, o.refineCellM, o.refineSearchM + 1);
    const k = Math.round(o.refineSearchM / o.refineCellM);
    const delta = new Float64Array(2 * p.nSeg);
    p.driveSegs.forEach((segs) => {
      for (const s of segs) grid.addSegment(s, -1);
      for (const s of segs) {
        const S = new Float64Array(CHANNELS * (2 * k + 1) ** 2);
        grid.score(segPts[s]!, weight, S, k);
        const best = pickPeak(combineChannels(S, k), k, o.refineCellM, o.refineSearchM / 1.5);
        if (best) {
          delta[2 * s] = best[0];
          delta[2 * s + 1] = best[1];
        }
      }
      for (const s of segs) grid.addSegment(s, 1);
    });
    for (let i = 0; i < corr.length; i++) corr[i] = corr[i]! + delta[i]!;
    centreOnDrives(p, corr);
  }
  return { corr, stats: { drivesAligned } };
}

/** Subtract the mean over drives of each drive's mean segment correction (the gauge). */
export function centreOnDrives(p: Prepared, corr: Float64Array): void {
  let mx = 0;
  let my = 0;
  let nd = 0;
  for (const segs of p.driveSegs) {
    if (!segs.length) continue;
    let sx = 0;
    let sy = 0;
    for (const s of segs) {
      sx += corr[2 * s]!;
      sy += corr[2 * s + 1]!;
    }
    mx += sx / segs.length;
    my += sy / segs.length;
    nd++;
  }
  if (!nd) return;
  mx /= nd;
  my /= nd;
  for (let s = 0; s < p.nSeg; s++) {
    corr[2 * s] = corr[2 * s]! - mx;
    corr[2 * s + 1] = corr[2 * s + 1]! - my;
  }
}

/** Per-channel count of segments with a point in each cell, at the current corrections. */
class CountGrid {
  private readonly cellM: number;
  private readonly x0: number;
  private readonly y0: number;
  private readonly w: number;
  private readonly h: number;
  private readonly counts: Uint16Array;
  /** Unique cell indices (channel included) of each segment. */
  private readonly segCells: Int32Array[];
  /** Cell coordinates of each point at the current corrections. */
  private readonly cx: Int32Array;
  private readonly cy: Int32Array;
  private readonly chan: Uint8Array;

  constructor(r: Resampled, corr: Float64Array, p: Prepared, segPts: number[][], chan: Uint8Array, cellM: number, padM: number) {
    this.cellM = cellM;
    this.chan = chan;
    let minX = Infinity;
    let minY = Infinity;
    let maxX = -Infinity;
    let maxY = -Infinity;
    const px = new Float64Array(r.n);
    const py = new Float64Array(r.n);
    for (let i = 0; i < r.n; i++) {
      const s = p.seg[r.obs[i]!]!;
      px[i] = r.rx[i]! + corr[2 * s]!;
      py[i] = r.ry[i]! + corr[2 * s + 1]!;
      minX = Math.min(minX, px[i]!);
      minY = Math.min(minY, py[i]!);
      maxX = Math.max(maxX, px[i]!);
      maxY = Math.max(maxY, py[i]!);
    }
    this.x0 = Math.floor((minX - padM) / cellM);
    this.y0 = Math.floor((minY - padM) / cellM);
    this.w = Math.floor((maxX + padM) / cellM) - this.x0 + 1;
    this.h = Math.floor((maxY + padM) / cellM) - this.y0 + 1;
    this.counts = new Uint16Array(CHANNELS * this.w * this.h);
    this.cx = new Int32Array(r.n);
    this.cy = new Int32Array(r.n);
    for (let i = 0; i < r.n; i++) {
      this.cx[i] = Math.floor(px[i]! / cellM) - this.x0;
      this.cy[i] = Math.floor(py[i]! / cellM) - this.y0;
    }
    const plane = this.w * this.h;
    // Cells a segment occupies: its lines drawn continuously (every half cell between
    // consecutive points of an observation), so sparse query points see no aliasing ripple;
    // each cell dilated by one, so point-like evidence (a sign, the end of a stop line) scores a
    // plateau, not a one-cell spike. `stamp` dedupes a segment's cells.
    const stamp = new Int32Array(CHANNELS * plane).fill(-1);
    const centre = new Int32Array(CHANNELS * plane).fill(-1);
    let buf = new Int32Array(4096);
    const step = cellM / 2;
    const w = this.w;
    const h = this.h;
    const x0 = this.x0;
    const y0 = this.y0;
    this.segCells = new Array<Int32Array>(segPts.length);
    for (let s = 0; s < segPts.length; s++) {
      const pts = segPts[s]!;
      let n = 0;
      for (let k = 0; k < pts.length; k++) {
        const i = pts[k]!;
        const base = chan[i]! * plane;
        // Marks at the point (q = 0), then every half cell towards the next point of its
        // observation (q = 1 .. m - 1).
        const j = pts[k + 1];
        const joined = j !== undefined && j === i + 1 && r.obs[j] === r.obs[i];
        const m = joined ? Math.ceil(hypot(px[j]! - px[i]!, py[j]! - py[i]!) / step) : 0;
        for (let q = 0; q === 0 || q < m; q++) {
          const x = q === 0 ? px[i]! : px[i]! + ((px[j!]! - px[i]!) * q) / m;
          const y = q === 0 ? py[i]! : py[i]! + ((py[j!]! - py[i]!) * q) / m;
          const cx = Math.floor(x / cellM) - x0;
          const cy = Math.floor(y / cellM) - y0;
          // A cell already marked as a centre for this segment has its 3x3 block stamped.
          if (cx >= 0 && cx < w && cy >= 0 && cy < h) {
            const cc = base + cy * w + cx;
            if (centre[cc] === s) continue;
            centre[cc] = s;
          }
          if (n + 9 > buf.length) {
            const b2 = new Int32Array(buf.length * 2);
            b2.set(buf);
            buf = b2;
          }
          for (let yy = cy - 1; yy <= cy + 1; yy++) {
            if (yy < 0 || yy >= h) continue;
            for (let xx = cx - 1; xx <= cx + 1; xx++) {
              if (xx < 0 || xx >= w) continue;
              const c = base + yy * w + xx;
              if (stamp[c] === s) continue;
              stamp[c] = s;
              buf[n++] = c;
            }
          }
        }
      }
      this.segCells[s] = buf.slice(0, n);
    }
    for (let s = 0; s < this.segCells.length; s++) this.addSegment(s, 1);
  }

  addSegment(s: number, sign: 1 | -1): void {
    const c = this.counts;
    const cells = this.segCells[s]!;
    for (let k = 0; k < cells.length; k++) c[cells[k]!] = c[cells[k]!]! + sign;
  }

  /** S[chan * side^2 + (sy + k) * side + sx + k] += weight * count at point + (sx, sy) cells. */
  score(pts: readonly number[], weight: Float32Array, S: Float64Array, k: number): void {
    const side = 2 * k + 1;
    const w = this.w;
    const h = this.h;
    const plane = w * h;
    const c = this.counts;
    const chan = this.chan;
    const cxs = this.cx;
    const cys = this.cy;
    for (let pi = 0; pi < pts.length; pi++) {
      const i = pts[pi]!;
      const wgt = weight[i]!;
      const base = chan[i]! * plane;
      const sbase = chan[i]! * side * side;
      const px = cxs[i]!;
      const py = cys[i]!;
      const xa = Math.max(-k, -px);
      const xb = Math.min(k, w - 1 - px);
      for (let sy = -k; sy <= k; sy++) {
        const yy = py + sy;
        if (yy < 0 || yy >= h) continue;
        const row = base + yy * w + px;
        const srow = sbase + (sy + k) * side + k;
        for (let sx = xa; sx <= xb; sx++) {
          const v = c[row + sx]!;
          if (v) S[srow + sx] = S[srow + sx]! + wgt * v;
        }
      }
    }
  }
}

/**
 * Sums the channels' score maps, each divided by its own peak (at least CHANNEL_FLOOR): a few
 * stop lines and signs, the only along-track evidence on a straight road, then weigh as much
 * as kilometres of parallel lines, which only say "somewhere along this ridge".
 */
function combineChannels(S: Float64Array, k: number): Float64Array {
  const n = (2 * k + 1) ** 2;
  const out = new Float64Array(n);
  for (let c = 0; c < CHANNELS; c++) {
    let max = 0;
    for (let i = 0; i < n; i++) max = Math.max(max, S[c * n + i]!);
    if (max < 3) continue;
    const w = 100 / Math.max(max, CHANNEL_FLOOR);
    for (let i = 0; i < n; i++) out[i] = out[i]! + S[c * n + i]! * w;
  }
  return out;
}
const CHANNEL_FLOOR = 30;

/**
 * Applies the Gaussian prior (sigma in metres) to the score map and returns the best shift in
 * metres with sub-cell (parabolic) refinement, or undefined when there is no evidence.
 */
function pickPeak(S: Float64Array, k: number, cellM: number, priorSigmaM: number): [number, number] | undefined {
  const side = 2 * k + 1;
  let raw = 0;
  for (const v of S) raw = Math.max(raw, v);
  if (raw < 3) return undefined;
  const B = S.slice();
  const inv = 1 / (2 * priorSigmaM * priorSigmaM);
  let best = -1;
  let bi = -1;
  for (let sy = -k; sy <= k; sy++) {
    for (let sx = -k; sx <= k; sx++) {
      const idx = (sy + k) * side + sx + k;
      const dx = sx * cellM;
      const dy = sy * cellM;
      const v = B[idx]! * Math.exp(-(dx * dx + dy * dy) * inv);
      B[idx] = v;
      if (v > best) {
        best = v;
        bi = idx;
      }
    }
  }
  if (bi < 0 || best <= 0) return undefined;
  const bx = (bi % side) - k;
  const by = Math.floor(bi / side) - k;
  const at = (sx: number, sy: number): number => (Math.abs(sx) <= k && Math.abs(sy) <= k ? B[(sy + k) * side + sx + k]! : 0);
  const sub = (m: number, c: number, q: number): number => {
    const den = m - 2 * c + q;
    return den < 0 ? Math.max(-0.5, Math.min(0.5, (0.5 * (m - q)) / den)) : 0;
  };
  const fx = bx + sub(at(bx - 1, by), best, at(bx + 1, by));
  const fy = by + sub(at(bx, by - 1), best, at(bx, by + 1));
  return [fx * cellM, fy * cellM];
}
