/**
 * Clip polylines and polygons to an axis-aligned rectangle (metres, any one frame).
 * Polylines use Liang-Barsky per segment and may come out in several pieces;
 * polygons use Sutherland-Hodgman and stay one ring (possibly with collinear edges).
 */

export interface Rect {
  minX: number;
  minY: number;
  maxX: number;
  maxY: number;
}

/**
 * Clip a polyline given as flat coordinate arrays (`xs[i]`, `ys[i]` for i in [from, to]) to
 * `r`. Returns the pieces inside, each as an array of [x, y].
 */
export function clipPolyline(xs: ArrayLike<number>, ys: ArrayLike<number>, from: number, to: number, r: Rect): Array<Array<[number, number]>> {
  const pieces: Array<Array<[number, number]>> = [];
  let current: Array<[number, number]> | null = null;
  for (let i = from; i < to; i++) {
    const x0 = xs[i]!;
    const y0 = ys[i]!;
    const x1 = xs[i + 1]!;
    const y1 = ys[i + 1]!;
    const dx = x1 - x0;
    const dy = y1 - y0;
    let t0 = 0;
    let t1 = 1;
    // Liang-Barsky: p*t <= q for the four edges.
    const ps = [-dx, dx, -dy, dy];
    const qs = [x0 - r.minX, r.maxX - x0, y0 - r.minY, r.maxY - y0];
    let inside = true;
    for (let k = 0; k < 4; k++) {
      const p = ps[k]!;
      const q = qs[k]!;
      if (p === 0) {
        if (q < 0) {
          inside = false;
          break;
        }
      } else {
        const t = q / p;
        if (p < 0) {
          if (t > t1) {
            inside = false;
            break;
          }
          if (t > t0) t0 = t;
        } else {
          if (t < t0) {
            inside = false;
            break;
          }
          if (t < t1) t1 = t;
        }
      }
    }
    if (!inside) {
      current = null;
      continue;
    }
    if (current === null || t0 > 0) {
      current = [[x0 + dx * t0, y0 + dy * t0]];
      pieces.push(current);
    }
    current.push([x0 + dx * t1, y0 + dy * t1]);
    if (t1 < 1) current = null;
  }
  return pieces;
}

/** Clip a closed ring (not repeated at the end) to `r`; returns the clipped ring (maybe empty). */
export function clipPolygon(ring: ReadonlyArray<readonly [number, number]>, r: Rect): Array<[number, number]> {
  let pts: Array<[number, number]> = ring.map((p) => [p[0], p[1]]);
  const edges: Array<(p: readonly [number, number]) => number> = [
    (p) => p[0] - r.minX,
    (p) => r.maxX - p[0],
    (p) => p[1] - r.minY,
    (p) => r.maxY - p[1],
  ];
  for (const inside of edges) {
    if (pts.length === 0) break;
    const out: Array<[number, number]> = [];
    for (let i = 0; i < pts.length; i++) {
      const a = pts[i]!;
      const b = pts[(i + 1) % pts.length]!;
      const da = inside(a);
      const db = inside(b);
      if (da >= 0) out.push(a);
      if ((da >= 0) !== (db >= 0)) {
        const t = da / (da - db);
        out.push([a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t]);
      }
    }
    pts = out;
  }
  return pts;
}
