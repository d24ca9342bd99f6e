/**
 * Polyline helpers for vectorisation, metres in any planar frame: linking pieces end to end
 * across gaps (dashes, occlusions) when their directions agree, and clipping to a rectangle.
 */
import { principalAxis } from '../../shared/geometry.ts';

export type Pt = [number, number];

export interface LinkOptions {
  /** Longest gap bridged between two pieces, metres. */
  maxGapM: number;
  /** Largest angle between the pieces' directions (and the gap), radians. */
  maxAngleRad: number;
  /** Largest sideways offset of one piece's end from the other's extension, metres. */
  maxLateralM: number;
  /** End directions are measured over this much of each piece, metres. */
  tangentM: number;
  /** Pieces shorter than this have no reliable direction (only the other's is checked), metres. */
  minDirectionalM: number;
  /**
   * Collinear test for pieces whose own end directions are too short to extend across the gap
   * (a dash of 1-3 m has a direction good to a few degrees, which a 6 m gap turns into half a
   * metre sideways): two ends that fail the extension test are still joined when one straight
   * line fits the last `fitSpanM` of both pieces with every vertex within this of it, the pieces
   * lie on either side of the gap along that line, and each piece is within maxAngleRad of it.
   * Two dashes of one divider pass (their points lie on one line to within the paint's width);
   * a crossing line or the next lane's line beside it do not. 0 = off, metres.
   */
  fitMaxResidualM: number;
  /** Length of each piece's end used by the collinear test, metres. */
  fitSpanM: number;
}

export const DEFAULT_LINK_OPTIONS: LinkOptions = {
  maxGapM: 8, // m
  maxAngleRad: 0.2, // rad
  maxLateralM: 0.35, // m
  tangentM: 1.5, // m
  minDirectionalM: 0.6, // m
  fitMaxResidualM: 0, // m (off)
  fitSpanM: 4, // m
};

interface End {
  piece: number;
  /** 0 = start, 1 = end of the piece. */
  side: 0 | 1;
  x: number;
  y: number;
  /** Outward unit direction. */
  dx: number;
  dy: number;
  directional: boolean;
}

/** Join pieces into chains (greedy by gap cost, no cycles); returns the joined polylines. */
export function linkPolylines(pieces: readonly Pt[][], options: Partial<LinkOptions> = {}): Pt[][] {
  const o = { ...DEFAULT_LINK_OPTIONS, ...options };
  const ends: End[] = [];
  pieces.forEach((p, i) => {
    const len = lengthM(p);
    ends.push(endOf(p, i, 0, o.tangentM, len >= o.minDirectionalM));
    ends.push(endOf(p, i, 1, o.tangentM, len >= o.minDirectionalM));
  });
  const cosMax = Math.cos(o.maxAngleRad);
  const cands: Array<{ a: number; b: number; cost: number }> = [];
  // Pairs of ends closer than maxGapM: sweep the ends in x order.
  const order = ends.map((_, i) => i).sort((p, q) => ends[p]!.x - ends[q]!.x || p - q);
  for (let ii = 0; ii < order.length; ii++) {
    const i0 = order[ii]!;
    const xi = ends[i0]!.x;
    for (let jj = ii + 1; jj < order.length; jj++) {
      const j0 = order[jj]!;
      if (ends[j0]!.x - xi > o.maxGapM) break;
      const a = i0 < j0 ? i0 : j0;
      const b = i0 < j0 ? j0 : i0;
      const ea = ends[a]!;
      const eb = ends[b]!;
      if (ea.piece === eb.piece) continue;
      const gx = eb.x - ea.x;
      const gy = eb.y - ea.y;
      const d = Math.sqrt(gx * gx + gy * gy);
      if (d > o.maxGapM) continue;
      if (!ea.directional && !eb.directional && d > 0.5) continue;
      let lateral = 0;
      // The two pieces run the same way (the collinear test below measures each against the line
      // through both instead).
      let ok = !(ea.directional && eb.directional && -(ea.dx * eb.dx + ea.dy * eb.dy) < cosMax);
      // The gap must continue each directional piece outward, with a small sideways offset.
      if (ea.directional) {
        if (d > 0.5 && (ea.dx * gx + ea.dy * gy) / d < cosMax) ok = false;
        const lat = Math.abs(ea.dx * gy - ea.dy * gx);
        if (lat > o.maxLateralM + 0.03 * d) ok = false;
        lateral = Math.max(lateral, lat);
      }
      if (eb.directional) {
        if (d > 0.5 && (eb.dx * -gx + eb.dy * -gy) / d < cosMax) ok = false;
        const lat = Math.abs(eb.dx * -gy - eb.dy * -gx);
        if (lat > o.maxLateralM + 0.03 * d) ok = false;
        lateral = Math.max(lateral, lat);
      }
      if (!ok && o.fitMaxResidualM > 0 && ea.directional && eb.directional) {
        const res = collinearResidualM(pieces[ea.piece]!, ea.side, pieces[eb.piece]!, eb.side, o.fitSpanM, cosMax);
        if (res <= o.fitMaxResidualM) {
          ok = true;
          lateral = res;
        }
      }
      if (ok) cands.push({ a, b, cost: d + 5 * lateral });
    }
  }
  // Ties in the order of (a, b): the order an all-pairs loop would have produced them in.
  cands.sort((p, q) => p.cost - q.cost || p.a - q.a || p.b - q.b);
  const parent = pieces.map((_, i) => i);
  const find = (i: number): number => {
    while (parent[i] !== i) i = parent[i] = parent[parent[i]!]!;
    return i;
  };
  // link[endIndex] = the end it is joined to, or -1.
  const link = new Int32Array(ends.length).fill(-1);
  for (const c of cands) {
    if (link[c.a] !== -1 || link[c.b] !== -1) continue;
    const ra = find(ends[c.a]!.piece);
    const rb = find(ends[c.b]!.piece);
    if (ra === rb) continue;
    parent[ra] = rb;
    link[c.a] = c.b;
    link[c.b] = c.a;
  }
  // Assemble chains from pieces with a free end.
  const used = new Uint8Array(pieces.length);
  const chains: Pt[][] = [];
  for (let i = 0; i < pieces.length; i++) {
    if (used[i]) continue;
    let startSide: 0 | 1;
    if (link[2 * i] === -1) startSide = 0;
    else if (link[2 * i + 1] === -1) startSide = 1;
    else continue; // interior piece of a chain: reached from its chain's end
    const chain: Pt[] = [];
    let piece = i;
    let enter: 0 | 1 = startSide;
    for (;;) {
      used[piece] = 1;
      const pts = pieces[piece]!;
      if (enter === 0) for (const p of pts) chain.push(p);
      else for (let k = pts.length - 1; k >= 0; k--) chain.push(pts[k]!);
      const exitEnd = 2 * piece + (enter === 0 ? 1 : 0);
      const to = link[exitEnd]!;
      if (to === -1) break;
      piece = ends[to]!.piece;
      enter = ends[to]!.side;
      if (used[piece]) break;
    }
    chains.push(chain);
  }
  return chains;
}

/**
 * Clip a polyline to the rectangle [minX, maxX] x [minY, maxY]; returns the pieces inside (each
 * with at least two vertices). Pieces cut at an edge end exactly on it, so neighbouring
 * rectangles' pieces meet.
 */
export function clipPolyline(pts: readonly Pt[], minX: number, minY: number, maxX: number, maxY: number): Pt[][] {
  const out: Pt[][] = [];
  let cur: Pt[] = [];
  const flush = (): void => {
    if (cur.length >= 2) out.push(cur);
    cur = [];
  };
  for (let i = 0; i + 1 < pts.length; i++) {
    const a = pts[i]!;
    const b = pts[i + 1]!;
    const dx = b[0] - a[0];
    const dy = b[1] - a[1];
    let t0 = 0;
    let t1 = 1;
    let inside = true;
    for (const [p, q] of [[-dx, a[0] - minX], [dx, maxX - a[0]], [-dy, a[1] - minY], [dy, maxY - a[1]]] as const) {
      if (p === 0) {
        if (q < 0) inside = false;
        continue;
      }
      const t = q / p;
      if (p < 0) {
        if (t > t1) inside = false;
        else if (t > t0) t0 = t;
      } else {
        if (t < t0) inside = false;
        else if (t < t1) t1 = t;
      }
    }
    if (!inside) {
      flush();
      continue;
    }
    const s: Pt = [a[0] + t0 * dx, a[1] + t0 * dy];
    const e: Pt = [a[0] + t1 * dx, a[1] + t1 * dy];
    if (cur.length === 0) cur.push(s);
    else if (t0 > 0) {
      flush();
      cur.push(s);
    }
    cur.push(e);
    if (t1 < 1) flush();
  }
  flush();
  return out;
}

export function lengthM(pts: readonly Pt[]): number {
  let s = 0;
  for (let i = 1; i < pts.length; i++) {
    const dx = pts[i]![0] - pts[i - 1]![0];
    const dy = pts[i]![1] - pts[i - 1]![1];
    s += Math.sqrt(dx * dx + dy * dy);
  }
  return s;
}

/**
 * The collinear test of linkPolylines: a total-least-squares line through the last `spanM` of
 * piece a (from its end `sideA`) and of piece b; the largest distance of those vertices from it,
 * or Infinity when the pieces do not lie on either side of the gap along it (a's end facing b's)
 * or either piece's direction (first to last vertex of its end) is farther than acos(cosMax) from it.
 */
function collinearResidualM(a: readonly Pt[], sideA: 0 | 1, b: readonly Pt[], sideB: 0 | 1, spanM: number, cosMax: number): number {
  const span = (p: readonly Pt[], side: 0 | 1): Pt[] => {
    const out: Pt[] = [];
    const n = p.length;
    let run = 0;
    for (let k = 0; k < n; k++) {
      const q = p[side === 0 ? k : n - 1 - k]!;
      if (k > 0) {
        const prev = out[out.length - 1]!;
        run += Math.hypot(q[0] - prev[0], q[1] - prev[1]);
        if (run > spanM) break;
      }
      out.push(q);
    }
    return out;
  };
  const pa = span(a, sideA);
  const pb = span(b, sideB);
  if (pa.length < 2 || pb.length < 2) return Infinity;
  const both = [pa, pb];
  const na = pa.length;
  const { cx: mx, cy: my, ux, uy } = principalAxis(na + pb.length, (i) => (i < na ? pa[i]! : pb[i - na]!)[0], (i) => (i < na ? pa[i]! : pb[i - na]!)[1]);
  // Each piece along the line, and its direction against it.
  const along = (q: Pt): number => (q[0] - mx) * ux + (q[1] - my) * uy;
  for (const p of both) {
    const dx = p[p.length - 1]![0] - p[0]![0];
    const dy = p[p.length - 1]![1] - p[0]![1];
    const len = Math.hypot(dx, dy);
    if (len === 0 || Math.abs(dx * ux + dy * uy) / len < cosMax) return Infinity;
  }
  // pa[0] and pb[0] are the facing ends: a lies wholly on one side of its end, b on the other.
  const ea = along(pa[0]!);
  const eb = along(pb[0]!);
  const dir = Math.sign(eb - ea);
  if (dir === 0) return Infinity;
  for (const q of pa) if ((along(q) - ea) * dir > 1e-9) return Infinity;
  for (const q of pb) if ((along(q) - eb) * dir < -1e-9) return Infinity;
  let worst = 0;
  for (const p of both) for (const q of p) worst = Math.max(worst, Math.abs(-(q[0] - mx) * uy + (q[1] - my) * ux));
  return worst;
}

function endOf(p: readonly Pt[], piece: number, side: 0 | 1, tangentM: number, directional: boolean): End {
  const n = p.length;
  const end = side === 0 ? p[0]! : p[n - 1]!;
  // Walk inward until tangentM is covered.
  let k = side === 0 ? 0 : n - 1;
  const step = side === 0 ? 1 : -1;
  let inner = end;
  while (k + step >= 0 && k + step < n) {
    k += step;
    inner = p[k]!;
    if (Math.sqrt((inner[0] - end[0]) ** 2 + (inner[1] - end[1]) ** 2) >= tangentM) break;
  }
  const dx = end[0] - inner[0];
  const dy = end[1] - inner[1];
  const d = Math.sqrt(dx * dx + dy * dy);
  return { piece, side, x: end[0], y: end[1], dx: d > 0 ? dx / d : 0, dy: d > 0 ? dy / d : 0, directional: directional && d > 0 };
}
