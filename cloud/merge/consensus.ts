/**
 * From aligned observations to consensus primitives in the job tile's frame: runs the three
 * clusterings, cuts consensus lines into published pieces (support >= minDrives, one style /
 * kind per piece) and collects each primitive's supporting observations.
 */
import { principalAxis } from '../../shared/geometry.ts';
import { BOUNDARY_KINDS, DIVIDER_STYLES, PRIMITIVE_CLASSES, type BoundaryKind, type DividerStyle, type PrimitiveClass, type XY } from '../../shared/schema.ts';
import { clusterAreas, clusterPoints } from './cluster-shapes.ts';
import { clusterLines, type LineCluster, type LineParams, type LinePoints } from './cluster-lines.ts';
import type { MergeOptions } from './options.ts';
import { simplifyIndices } from './polyline.ts';
import { CLS_BOUNDARY, CLS_CROSSWALK, CLS_DIVIDER, CLS_LIGHT, CLS_SIGN, CLS_STOP, type GaugeField, type Prepared, type Resampled } from './prepare.ts';

export const LINE_CLASSES = [CLS_DIVIDER, CLS_BOUNDARY, CLS_STOP] as const;

/** The points of one line class, as clustering input, with a map back to the resampled set. */
export interface ClassLines {
  cls: number;
  P: LinePoints;
  /** Index into the Resampled set of each point. */
  src: Int32Array;
  params: LineParams;
}

export function classLines(p: Prepared, r: Resampled, pos: { x: Float64Array; y: Float64Array }, cls: number, o: MergeOptions, gateM: number, keep?: Uint8Array, spacingScale = 1): ClassLines {
  const use = (i: number): boolean => p.cls[i] === cls && r.obsStart[i]! >= 0 && (!keep || keep[i] === 1);
  let n = 0;
  for (let i = 0; i < p.nObs; i++) if (use(i)) n += r.obsCount[i]!;
  const src = new Int32Array(n);
  const itemStart: number[] = [];
  const itemEnd: number[] = [];
  const P: LinePoints = {
    n,
    x: new Float64Array(n),
    y: new Float64Array(n),
    tx: new Float64Array(n),
    ty: new Float64Array(n),
    drive: new Int32Array(n),
    attr: new Int8Array(n),
    weight: new Float32Array(n),
    itemStart,
    itemEnd,
  };
  let j = 0;
  for (let i = 0; i < p.nObs; i++) {
    if (!use(i)) continue;
    itemStart.push(j);
    const d = p.drive[i]!;
    const a = p.attr[i]!;
    const w = Math.max(0.05, p.score[i]!);
    for (let k = r.obsStart[i]!; k < r.obsStart[i]! + r.obsCount[i]!; k++, j++) {
      src[j] = k;
      P.x[j] = pos.x[k]!;
      P.y[j] = pos.y[k]!;
      P.tx[j] = r.tx[k]!;
      P.ty[j] = r.ty[k]!;
      P.drive[j] = d;
      P.attr[j] = a;
      P.weight[j] = w;
    }
    itemEnd.push(j);
  }
  const spacingM = (cls === CLS_STOP ? o.stopLineResampleM : o.resampleM) * spacingScale;
  const params: LineParams = {
    gateM,
    spacingM,
    cosMax: Math.cos((o.maxAngleDeg * Math.PI) / 180),
    minInlierShare: o.minInlierShare,
    smoothBins: Math.max(0, Math.round(o.smoothHalfWindowM / spacingM)),
  };
  return { cls, P, src, params };
}

/** A consensus primitive in the job tile's frame, before clipping. */
export interface Consensus {
  cls: PrimitiveClass;
  style?: DividerStyle;
  kind?: BoundaryKind;
  signCode?: string;
  points: XY[];
  /** Observations that support it. */
  obs: number[];
  /** Robust spread of the drives around it, metres. */
  spreadM: number;
}

export interface Clustering {
  lines: Array<{ cl: ClassLines; clusters: LineCluster[] }>;
  points: Array<{ cls: number; x: number; y: number; members: number[]; signCode: string }>;
  areas: Array<{ ring: Array<[number, number]>; members: number[] }>;
}

/**
 * All three clusterings. `pos` are the corrected resampled points (lines), `vx/vy` the
 * corrected raw vertices (points and polygons); `keep` (per observation, 1 = use) limits the
 * line observations clustered; `spacingScale` says how much coarser than resampleM `r` is.
 */
export function clusterAll(p: Prepared, r: Resampled, vx: Float64Array, vy: Float64Array, pos: { x: Float64Array; y: Float64Array }, o: MergeOptions, gateM: number, keep?: Uint8Array, spacingScale = 1): Clustering {
  const lines = LINE_CLASSES.map((cls) => {
    const cl = classLines(p, r, pos, cls, o, gateM, keep, spacingScale);
    return { cl, clusters: cl.P.n ? clusterLines(cl.P, cl.params) : [] };
  });
  const points: Clustering['points'] = [];
  for (const cls of [CLS_SIGN, CLS_LIGHT]) {
    const obs: number[] = [];
    for (let i = 0; i < p.nObs; i++) if (p.cls[i] === cls) obs.push(i);
    const px = new Float64Array(p.nObs);
    const py = new Float64Array(p.nObs);
    for (const i of obs) {
      px[i] = vx[p.vStart[i]!]!;
      py[i] = vy[p.vStart[i]!]!;
    }
    for (const c of clusterPoints(obs, px, py, p.score, p.drive, p.signCode, o.pointRadiusM, p.seg)) points.push({ cls, ...c });
  }
  const areaObs: number[] = [];
  const rings: Array<Array<[number, number]>> = [];
  for (let i = 0; i < p.nObs; i++) {
    if (p.cls[i] !== CLS_CROSSWALK) continue;
    areaObs.push(i);
    const ring: Array<[number, number]> = [];
    for (let k = p.vStart[i]!; k < p.vStart[i]! + p.vCount[i]!; k++) ring.push([vx[k]!, vy[k]!]);
    rings.push(ring);
  }
  const areas = clusterAreas(areaObs, rings, p.score, o.areaRadiusM, { quantile: o.crosswalkEndQuantile, bandM: o.crosswalkEndBandM });
  return { lines, points, areas };
}

/** Cuts clusters into publishable primitives (support, attribute runs) in the tile frame. */
export function toConsensus(p: Prepared, r: Resampled, c: Clustering, o: MergeOptions): Consensus[] {
  const out: Consensus[] = [];
  for (const { cl, clusters } of c.lines) {
    for (const k of clusters) out.push(...linePieces(p, r, cl, k, o));
  }
  for (const pt of c.points) {
    if (new Set(pt.members.map((i) => p.drive[i]!)).size < o.minDrives) continue;
    const cons: Consensus = { cls: PRIMITIVE_CLASSES[pt.cls]!, points: [[pt.x, pt.y]], obs: pt.members, spreadM: 0 };
    if (pt.cls === CLS_SIGN) cons.signCode = pt.signCode;
    out.push(cons);
  }
  for (const a of c.areas) {
    if (new Set(a.members.map((i) => p.drive[i]!)).size < o.minDrives) continue;
    out.push({ cls: 'crosswalk', points: a.ring, obs: a.members, spreadM: 0 });
  }
  return out;
}

function linePieces(p: Prepared, r: Resampled, cl: ClassLines, k0: LineCluster, o: MergeOptions): Consensus[] {
  const hasAttr = cl.cls === CLS_DIVIDER || cl.cls === CLS_BOUNDARY;
  const k = k0.closed ? unrollClosed(k0, o, hasAttr) : k0;
  const n = k.x.length;
  const ok = new Uint8Array(n);
  for (let v = 0; v < n; v++) ok[v] = k.support[v]! >= o.minDrives ? 1 : 0;
  // Bridge dips of <= 2 vertices between supported runs.
  for (let v = 1; v < n; v++) {
    if (ok[v] || !ok[v - 1]) continue;
    let e = v;
    while (e < n && !ok[e]) e++;
    if (e < n && e - v <= 2) ok.fill(1, v, e);
    v = e;
  }
  const label = new Int8Array(n).fill(-1);
  if (hasAttr) for (let v = 0; v < n; v++) label[v] = voteOf(k, v);
  const minRun = Math.max(1, Math.round(o.styleMinRunM / cl.params.spacingM));
  const pieces: Consensus[] = [];
  let v = 0;
  while (v < n) {
    if (!ok[v]) {
      v++;
      continue;
    }
    let e = v;
    while (e < n && ok[e]) e++;
    if (e - v >= 2 && cl.cls === CLS_STOP && o.stopLineMaxBendM > 0) {
      pieces.push(...straightBars(p, r, cl, k, v, e, o));
    } else if (e - v >= 2) {
      const lab = hasAttr ? smoothLabels(label.subarray(v, e), minRun) : new Int8Array(e - v).fill(-1);
      let a = 0;
      while (a < lab.length) {
        let b = a;
        while (b < lab.length && lab[b] === lab[a]) b++;
        // Pieces share their boundary vertex so a style change leaves no gap.
        const from = v + a;
        const to = Math.min(v + b + 1, e);
        if (to - from >= 2) pieces.push(piece(p, r, cl, k, from, to, lab[a]!, o));
        a = b;
      }
    }
    v = e;
  }
  return pieces;
}

/** The attribute (style / kind) index with the most vote weight at vertex v, -1 when none. */
function voteOf(k: LineCluster, v: number): number {
  let best = -1;
  let bw = 0;
  for (let a = 0; a < 3; a++) {
    const w = k.votes[v * 3 + a]!;
    if (w > bw) {
      bw = w;
      best = a;
    }
  }
  return best;
}

/**
 * A closed cluster as an open one that starts and ends on the same vertex s0, chosen so that no
 * published piece is cut at the seam for nothing: the start of a supported run after an
 * unsupported stretch the bridging keeps (dips of <= 2 vertices are bridged round the loop, as
 * along a line), else the start of the longest style / kind run, else vertex 0. A loop that is
 * supported all round with one style then comes out as one piece whose last vertex is its first.
 */
function unrollClosed(k: LineCluster, o: MergeOptions, hasAttr: boolean): LineCluster {
  const m = k.x.length - 1;
  const ok = new Uint8Array(m);
  for (let v = 0; v < m; v++) ok[v] = k.support[v]! >= o.minDrives ? 1 : 0;
  let s0 = -1;
  for (let v = 0; v < m && s0 < 0; v++) {
    if (!ok[v] || ok[(v + m - 1) % m]) continue;
    // v starts a run; the dip before it, measured backwards round the loop.
    let dip = 0;
    while (dip < m && !ok[(v + m - 1 - dip) % m]) dip++;
    if (dip > 2) s0 = v;
  }
  if (s0 < 0) {
    // Supported all round once dips are bridged (or nowhere: then no piece either way): the
    // seam at the start of the longest attribute run.
    s0 = 0;
    if (hasAttr) {
      const lab = new Int8Array(m);
      for (let v = 0; v < m; v++) lab[v] = voteOf(k, v);
      let bestLen = 0;
      for (let v = 0; v < m; v++) {
        if (lab[v] === lab[(v + m - 1) % m]) continue;
        let e = 1;
        while (e < m && lab[(v + e) % m] === lab[v]) e++;
        if (e > bestLen) {
          bestLen = e;
          s0 = v;
        }
      }
    }
  }
  if (s0 <= 0) return k;
  const n = m + 1;
  const x = new Float64Array(n);
  const y = new Float64Array(n);
  const support = new Int32Array(n);
  const spread = new Float32Array(n);
  const votes = new Float32Array(n * 3);
  for (let j = 0; j < n; j++) {
    const v = (s0 + j) % m;
    x[j] = k.x[v]!;
    y[j] = k.y[v]!;
    support[j] = k.support[v]!;
    spread[j] = k.spread[v]!;
    for (let a = 0; a < 3; a++) votes[j * 3 + a] = k.votes[v * 3 + a]!;
  }
  const ptVertex = new Int32Array(k.ptVertex.length);
  for (let j = 0; j < ptVertex.length; j++) ptVertex[j] = (k.ptVertex[j]! - s0 + m) % m;
  return { x, y, support, spread, votes, pts: k.pts, ptVertex, closed: true };
}

function piece(p: Prepared, r: Resampled, cl: ClassLines, k: LineCluster, from: number, to: number, label: number, o: MergeOptions): Consensus {
  const keep = simplifyIndices(k.x, k.y, from, to, o.simplifyM);
  const points: XY[] = keep.map((i) => [k.x[i]!, k.y[i]!]);
  const obs = new Set<number>();
  for (let j = 0; j < k.pts.length; j++) {
    const v = k.ptVertex[j]!;
    if (v >= from && v < to) obs.add(r.obs[cl.src[k.pts[j]!]!]!);
  }
  let spread = 0;
  let ns = 0;
  for (let v = from; v < to; v++) {
    if (k.support[v]! >= 2) {
      spread += k.spread[v]!;
      ns++;
    }
  }
  const cons: Consensus = { cls: PRIMITIVE_CLASSES[cl.cls]!, points, obs: [...obs], spreadM: ns ? spread / ns : 0 };
  if (cl.cls === CLS_DIVIDER) cons.style = DIVIDER_STYLES[label] ?? 'solid';
  if (cl.cls === CLS_BOUNDARY) cons.kind = BOUNDARY_KINDS[label] ?? 'road_border';
  return cons;
}

/**
 * Stop lines over vertices [from, to) of a consensus line: split where the line strays more than
 * stopLineMaxBendM from straight (Douglas-Peucker breakpoints), each part published as its total
 * least squares line between the projections of its end vertices.
 */
function straightBars(p: Prepared, r: Resampled, cl: ClassLines, k: LineCluster, from: number, to: number, o: MergeOptions): Consensus[] {
  const breaks = simplifyIndices(k.x, k.y, from, to, o.stopLineMaxBendM);
  const out: Consensus[] = [];
  for (let b = 0; b + 1 < breaks.length; b++) {
    const a = breaks[b]!;
    const z = breaks[b + 1]!;
    const bar = piece(p, r, cl, k, a, z + 1, -1, o);
    bar.points = fitBar(k.x, k.y, a, z);
    out.push(bar);
  }
  return out;
}

/** The straight line through vertices a..z (total least squares), from vertex a's projection to vertex z's. */
export function fitBar(x: ArrayLike<number>, y: ArrayLike<number>, a: number, z: number): XY[] {
  const { cx: mx, cy: my, ux: u0, uy: u1 } = principalAxis(z - a + 1, (i) => x[a + i]!, (i) => y[a + i]!);
  // Principal axis; its sign follows the line's own direction (vertex a to vertex z).
  const flip = (x[z]! - x[a]!) * u0 + (y[z]! - y[a]!) * u1 < 0 ? -1 : 1;
  const ux = flip * u0;
  const uy = flip * u1;
  const at = (i: number): XY => {
    const t = (x[i]! - mx) * ux + (y[i]! - my) * uy;
    return [mx + t * ux, my + t * uy];
  };
  return [at(a), at(z)];
}

/** Runs shorter than minRun take the label of the longer neighbouring run. */
function smoothLabels(lab: Int8Array, minRun: number): Int8Array {
  const out = Int8Array.from(lab);
  for (let pass = 0; pass < 3; pass++) {
    const runs: Array<[number, number]> = [];
    let a = 0;
    while (a < out.length) {
      let b = a;
      while (b < out.length && out[b] === out[a]) b++;
      runs.push([a, b]);
      a = b;
    }
    if (runs.length <= 1) break;
    let changed = false;
    runs.forEach(([s, e], i) => {
      if (e - s >= minRun) return;
      const prev = runs[i - 1];
      const next = runs[i + 1];
      const pick = !prev ? next : !next ? prev : prev[1] - prev[0] >= next[1] - next[0] ? prev : next;
      if (pick) {
        out.fill(out[pick[0]]!, s, e);
        changed = true;
      }
    });
    if (!changed) break;
  }
  return out;
}
