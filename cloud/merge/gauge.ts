/**
 * The gauge: alignment fixes drives relative to each other, never the error they share, so
 * the corrections are pinned to have zero mean over the drives seen at each place. Pinned per
 * tile job, the mean would change from one tile to the next (different drives), and lines
 * would step at tile borders; pinned LOCALLY (a smooth field: the mean correction of the
 * segments seen within ~gaugeSigmaM), two jobs that share the data near their border compute
 * the same field there, and the consensus stays where the drives' raw average was.
 *
 * Anchor drives (survey-grade positioning, which the edge declares as a pose sigma of at most
 * anchorMaxSigmaM) weigh anchorGaugeWeight times an ordinary segment in that mean: where one
 * passed, the map sits where the anchor saw it. Without anchors every weight is 1 (the plain
 * mean, bit for bit).
 */
import type { MergeOptions } from './options.ts';
import { segmentCorrectionAt, type GaugeField, type Prepared, type Resampled } from './prepare.ts';

/** `theta`: the segments' rotations (null: none); a segment's correction is taken where it saw each cell. */
export function localGauge(p: Prepared, r: Resampled, corr: Float64Array, o: MergeOptions, theta: Float64Array | null = null): GaugeField {
  const cell = o.gaugeCellM;
  if (r.n === 0) return (_x, _y, out) => out.fill(0);
  let minX = Infinity;
  let minY = Infinity;
  let maxX = -Infinity;
  let maxY = -Infinity;
  for (let i = 0; i < r.n; i++) {
    minX = Math.min(minX, r.rx[i]!);
    minY = Math.min(minY, r.ry[i]!);
    maxX = Math.max(maxX, r.rx[i]!);
    maxY = Math.max(maxY, r.ry[i]!);
  }
  const x0 = Math.floor(minX / cell) - 1;
  const y0 = Math.floor(minY / cell) - 1;
  const w = Math.floor(maxX / cell) - x0 + 2;
  const h = Math.floor(maxY / cell) - y0 + 2;
  const sx = new Float64Array(w * h);
  const sy = new Float64Array(w * h);
  const sn = new Float64Array(w * h);
  // Each segment counts once per cell it saw anything in.
  const last = new Int32Array(w * h).fill(-1);
  let gx = 0;
  let gy = 0;
  let gn = 0;
  // Points by segment, in index order within one (a stable counting sort).
  const segStart = new Int32Array(p.nSeg + 1);
  for (let i = 0; i < r.n; i++) {
    const s = p.seg[r.obs[i]!]! + 1;
    segStart[s] = segStart[s]! + 1;
  }
  for (let s = 0; s < p.nSeg; s++) segStart[s + 1] = segStart[s + 1]! + segStart[s]!;
  const order = new Int32Array(r.n);
  for (let i = 0; i < r.n; i++) order[segStart[p.seg[r.obs[i]!]!]!++] = i;
  const weight = segmentWeights(p, o);
  const at = new Float64Array(2);
  for (let k = 0; k < r.n; k++) {
    const i = order[k]!;
    const s = p.seg[r.obs[i]!]!;
    const c = (Math.floor(r.ry[i]! / cell) - y0) * w + Math.floor(r.rx[i]! / cell) - x0;
    if (last[c] === s) continue;
    last[c] = s;
    const ws = weight[s]!;
    segmentCorrectionAt(p, corr, theta, s, r.rx[i]!, r.ry[i]!, at);
    sx[c] = sx[c]! + ws * at[0]!;
    sy[c] = sy[c]! + ws * at[1]!;
    sn[c] = sn[c]! + ws;
    gx += ws * at[0]!;
    gy += ws * at[1]!;
    gn += ws;
  }
  const sigmaCells = o.gaugeSigmaM / cell;
  const bx = gaussBlur(sx, w, h, sigmaCells);
  const by = gaussBlur(sy, w, h, sigmaCells);
  const bn = gaussBlur(sn, w, h, sigmaCells);
  const fx = new Float64Array(w * h);
  const fy = new Float64Array(w * h);
  const mx = gn ? gx / gn : 0;
  const my = gn ? gy / gn : 0;
  for (let c = 0; c < w * h; c++) {
    // Blend towards the job-wide mean where there is hardly any data.
    const n = bn[c]!;
    const k = n / (n + 0.05);
    fx[c] = n > 0 ? k * (bx[c]! / n) + (1 - k) * mx : mx;
    fy[c] = n > 0 ? k * (by[c]! / n) + (1 - k) * my : my;
  }
  return (x, y, out) => {
    // Bilinear between cell centres.
    const u = Math.min(w - 1.001, Math.max(0, x / cell - x0 - 0.5));
    const v = Math.min(h - 1.001, Math.max(0, y / cell - y0 - 0.5));
    const i = Math.floor(u);
    const j = Math.floor(v);
    const a = u - i;
    const b = v - j;
    const c00 = j * w + i;
    const c10 = c00 + 1;
    const c01 = c00 + w;
    const c11 = c01 + 1;
    out[0] = (1 - b) * ((1 - a) * fx[c00]! + a * fx[c10]!) + b * ((1 - a) * fx[c01]! + a * fx[c11]!);
    out[1] = (1 - b) * ((1 - a) * fy[c00]! + a * fy[c10]!) + b * ((1 - a) * fy[c01]! + a * fy[c11]!);
  };
}

/** Per segment: anchorGaugeWeight when its observations' mean declared pose sigma is at most anchorMaxSigmaM, else 1. */
export function segmentWeights(p: Prepared, o: MergeOptions): Float64Array {
  const sum = new Float64Array(p.nSeg);
  const cnt = new Float64Array(p.nSeg);
  for (let i = 0; i < p.nObs; i++) {
    const s = p.seg[i]!;
    sum[s] = sum[s]! + p.poseSigmaM[i]!;
    cnt[s] = cnt[s]! + 1;
  }
  const out = new Float64Array(p.nSeg);
  for (let s = 0; s < p.nSeg; s++) out[s] = cnt[s]! > 0 && sum[s]! / cnt[s]! <= o.anchorMaxSigmaM ? o.anchorGaugeWeight : 1;
  return out;
}

/** Separable Gaussian blur (zero outside), radius 3 sigma. */
function gaussBlur(src: Float64Array, w: number, h: number, sigma: number): Float64Array {
  const rad = Math.max(1, Math.ceil(3 * sigma));
  const k = new Float64Array(2 * rad + 1);
  for (let i = -rad; i <= rad; i++) k[i + rad] = Math.exp(-(i * i) / (2 * sigma * sigma));
  const tmp = new Float64Array(w * h);
  const out = new Float64Array(w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let s = 0;
      for (let d = -rad; d <= rad; d++) {
        const xx = x + d;
        if (xx >= 0 && xx < w) s += k[d + rad]! * src[y * w + xx]!;
      }
      tmp[y * w + x] = s;
    }
  }
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let s = 0;
      for (let d = -rad; d <= rad; d++) {
        const yy = y + d;
        if (yy >= 0 && yy < h) s += k[d + rad]! * tmp[yy * w + x]!;
      }
      out[y * w + x] = s;
    }
  }
  return out;
}
