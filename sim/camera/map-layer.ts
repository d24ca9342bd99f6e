/**
 * The map on the ground: boundary surroundings (sidewalk, grass, gravel), paint (dividers with
 * their dash pattern, stop lines, zebra crosswalks), wear and ghost lines, cast shadows, and the
 * labels of all of them; boundaries' vertical faces (kerb faces, barriers) go to the vertical
 * list. Everything comes from one spatial query around the pose.
 */
import { SEG_CLASS_IDS as IMPORTED_SEG_CLASS_IDS, SEG_IGNORE as IMPORTED_SEG_IGNORE } from '../../shared/camera.ts';
import { bodyX as importedBodyX, bodyY as importedBodyY, nearView as importedNearView, type FrameContext } from './context.ts';
import { hash2 as importedHash2 } from './noise.ts';

// Imported functions and constants used per segment are copied to module constants: under the
// tsx loader (CommonJS output) every read of an imported binding is a getter call.
const bodyX = importedBodyX;
const bodyY = importedBodyY;
const nearView = importedNearView;
const hash2 = importedHash2;
const SEG_CLASS_IDS = IMPORTED_SEG_CLASS_IDS;
const SEG_IGNORE = IMPORTED_SEG_IGNORE;

const PIECE_M = 1; // paint pieces, metres (slope and wear granularity)
const DASH_M = 3; // dash length, metres
const DASH_PERIOD_M = 9; // dash + gap, metres
const WEAR_CELL_M = 0.7; // wear granularity along a line, metres
const LABEL_MIN_HALF_PX = 1; // lines are at least 2 label pixels wide

/** Draw the ground layer of the map around the pose. */
export function drawMapLayer(ctx: FrameContext): void {
  const { scene, fr } = ctx;
  const reach = Math.max(ctx.paintRangeM, ctx.objectRangeM);
  // world box of the wedge ahead
  let minX = Infinity;
  let minY = Infinity;
  let maxX = -Infinity;
  let maxY = -Infinity;
  const corners = [
    [-5, -8],
    [-5, 8],
    [reach, -reach - 8],
    [reach, reach + 8],
  ] as const;
  for (const [bx, by] of corners) {
    const wx = ctx.pose.xM + ctx.cos * bx - ctx.sin * by;
    const wy = ctx.pose.yM + ctx.sin * bx + ctx.cos * by;
    minX = Math.min(minX, wx);
    maxX = Math.max(maxX, wx);
    minY = Math.min(minY, wy);
    maxY = Math.max(maxY, wy);
  }
  const hits = scene.index.query(minX, minY, maxX, maxY);
  const prims = scene.primitives;
  for (const h of hits) if (prims[h.primitive]!.cls === 'road_boundary') drawBoundary(ctx, h.primitive, h.from, h.to);
  for (const h of hits) if (prims[h.primitive]!.cls === 'lane_divider') drawDivider(ctx, h.primitive, h.from, h.to);
  for (const h of hits) if (prims[h.primitive]!.cls === 'crosswalk') drawCrosswalk(ctx, h.primitive);
  for (const h of hits) if (prims[h.primitive]!.cls === 'stop_line') drawStopLine(ctx, h.primitive, h.from, h.to);
  if (ctx.cond.shadows > 0) drawShadows(ctx, minX, minY, maxX, maxY);
  void fr;
}

/** Ground segments of a polyline in the body frame, culled to the view; fn(ax, ay, bx, by, arcAtA). */
function forEachSegment(ctx: FrameContext, pi: number, from: number, to: number, fn: (ax: number, ay: number, bx: number, by: number, arcA: number) => void): void {
  const { xs, ys } = ctx.scene.index;
  const arc = ctx.scene.arcM;
  for (let i = from; i < to; i++) {
    const ax = bodyX(ctx, xs[i]!, ys[i]!);
    const ay = bodyY(ctx, xs[i]!, ys[i]!);
    const bx = bodyX(ctx, xs[i + 1]!, ys[i + 1]!);
    const by = bodyY(ctx, xs[i + 1]!, ys[i + 1]!);
    if (!segmentNearView(ctx, ax, ay, bx, by)) continue;
    fn(ax, ay, bx, by, arc[i]!);
  }
  void pi;
}

function segmentNearView(ctx: FrameContext, ax: number, ay: number, bx: number, by: number): boolean {
  if (Math.max(ax, bx) < -1 || Math.min(ax, bx) > ctx.paintRangeM) return false;
  // both ends outside the same side of the wedge
  if (ay > wedgeHalfWidth(ax) && by > wedgeHalfWidth(bx)) return false;
  if (ay < -wedgeHalfWidth(ax) && by < -wedgeHalfWidth(bx)) return false;
  return true;
}

/** Half-width of the view wedge at body x, metres (generous). */
function wedgeHalfWidth(x: number): number {
  return 0.95 * Math.max(0, x) + 6;
}

/** Fill a ground strip from a to b (body metres), centre offset `offsetM` to the left, half-width `halfM`. */
function paintStrip(ctx: FrameContext, ax: number, ay: number, bx: number, by: number, offsetM: number, halfM: number, r: number, g: number, b: number, alpha: number): void {
  const fr = ctx.fr;
  const len = Math.hypot(bx - ax, by - ay);
  if (len < 1e-6) return;
  const nx = -(by - ay) / len;
  const ny = (bx - ax) / len;
  const mx = (ax + bx) / 2 + nx * offsetM;
  const my = (ay + by) / 2 + ny * offsetM;
  const depth = fr.depthM(mx, my, fr.groundZ(mx));
  if (depth <= 0.3) {
    // partly behind the near plane: the clipper handles it; no widening
  }
  let h = halfM;
  let a = alpha;
  if (depth > 0.3) {
    const widthSs = (fr.fx * fr.ss * 2 * halfM) / depth;
    if (widthSs < 1) {
      h = (0.5 * depth) / (fr.fx * fr.ss);
      a = alpha * widthSs;
    }
  }
  const ox = nx * offsetM;
  const oy = ny * offsetM;
  setQuadGround(ctx, ax + ox - nx * h, ay + oy - ny * h, bx + ox - nx * h, by + oy - ny * h, bx + ox + nx * h, by + oy + ny * h, ax + ox + nx * h, ay + oy + ny * h, 0.003);
  fr.fillColour(4, r, g, b, a);
}

function setQuadGround(ctx: FrameContext, x0: number, y0: number, x1: number, y1: number, x2: number, y2: number, x3: number, y3: number, liftM: number): void {
  const fr = ctx.fr;
  fr.setVertex(0, x0, y0, fr.groundZ(x0) + liftM);
  fr.setVertex(1, x1, y1, fr.groundZ(x1) + liftM);
  fr.setVertex(2, x2, y2, fr.groundZ(x2) + liftM);
  fr.setVertex(3, x3, y3, fr.groundZ(x3) + liftM);
}

function labelLine(ctx: FrameContext, ax: number, ay: number, bx: number, by: number, halfM: number, cls: number): void {
  const fr = ctx.fr;
  const mx = (ax + bx) / 2;
  const my = (ay + by) / 2;
  const far = fr.depthM(mx, my, fr.groundZ(mx)) > ctx.labelMaxRangeM;
  fr.labelGroundLine(ax, ay, bx, by, halfM, LABEL_MIN_HALF_PX, far ? SEG_IGNORE : cls);
}

/** Paint intensity of a piece of line under wear: 0 = gone. World-anchored by arc length. */
function wearAlpha(ctx: FrameContext, hashI: number, sM: number): number {
  const w = ctx.cond.wear;
  if (w <= 0) return 1;
  const cell = Math.floor(sM / WEAR_CELL_M);
  const seed = ctx.cond.worldSeed;
  if (hash2(hashI, cell, seed) < w * 0.45) return 0;
  return 1 - w * (0.35 + 0.45 * hash2(hashI, cell, seed + 17));
}

function drawDivider(ctx: FrameContext, pi: number, from: number, to: number): void {
  const p = ctx.scene.primitives[pi]!;
  const st = ctx.scene.style[pi]!;
  const hashI = Math.floor(st.hash * 2147483647);
  const sub = p.sourceSubtype;
  const cls = p.style === 'dashed' ? SEG_CLASS_IDS.divider_dashed : SEG_CLASS_IDS.divider_solid;
  const w = st.widthM;
  // lines: offset to the left (m) and dashed?
  const lines: Array<[number, boolean]> = !st.double
    ? [[0, p.style === 'dashed']]
    : [
        [w / 2 + 0.06, sub === 'dashed_dashed' || sub === 'dashed_solid'],
        [-(w / 2 + 0.06), sub === 'dashed_dashed' || sub === 'solid_dashed'],
      ];
  const labelHalf = st.double ? w + 0.06 : w / 2;
  const ghost = ctx.cond.ghostLines > 0 && hash2(hashI, 1, ctx.cond.worldSeed) < ctx.cond.ghostLines;
  const ghostOffset = ghost ? (hash2(hashI, 2, ctx.cond.worldSeed) < 0.5 ? -1 : 1) * (0.3 + 0.8 * hash2(hashI, 3, ctx.cond.worldSeed)) : 0;
  const ghostAlpha = 0.12 + 0.2 * hash2(hashI, 4, ctx.cond.worldSeed);
  const ghostDashed = hash2(hashI, 5, ctx.cond.worldSeed) < 0.5;
  forEachSegment(ctx, pi, from, to, (ax, ay, bx, by, arcA) => {
    const len = Math.hypot(bx - ax, by - ay);
    const n = Math.max(1, Math.ceil(len / PIECE_M));
    for (let k = 0; k < n; k++) {
      const t0 = k / n;
      const t1 = (k + 1) / n;
      const s0 = arcA + len * t0;
      const s1 = arcA + len * t1;
      const px0 = ax + (bx - ax) * t0;
      const py0 = ay + (by - ay) * t0;
      const px1 = ax + (bx - ax) * t1;
      const py1 = ay + (by - ay) * t1;
      if (!nearView(ctx, (px0 + px1) / 2, (py0 + py1) / 2, ctx.paintRangeM, 3)) continue;
      for (let li = 0; li < lines.length; li++) {
        const off = lines[li]![0];
        for (let q = 0, m = paintedIntervals(s0, s1, lines[li]![1], st.phaseM); q < m; q++) {
          const u0 = intervals[2 * q]!;
          const u1 = intervals[2 * q + 1]!;
          const f0 = (u0 - s0) / (s1 - s0);
          const f1 = (u1 - s0) / (s1 - s0);
          const qx0 = px0 + (px1 - px0) * f0;
          const qy0 = py0 + (py1 - py0) * f0;
          const qx1 = px0 + (px1 - px0) * f1;
          const qy1 = py0 + (py1 - py0) * f1;
          const a = wearAlpha(ctx, hashI + (off > 0 ? 1 : 0), (u0 + u1) / 2);
          if (a > 0) paintStrip(ctx, qx0, qy0, qx1, qy1, off, w / 2, st.r, st.g, st.b, a);
        }
      }
      if (ghost) {
        for (let q = 0, m = paintedIntervals(s0, s1, ghostDashed, st.phaseM + 4); q < m; q++) {
          const f0 = (intervals[2 * q]! - s0) / (s1 - s0);
          const f1 = (intervals[2 * q + 1]! - s0) / (s1 - s0);
          paintStrip(ctx, px0 + (px1 - px0) * f0, py0 + (py1 - py0) * f0, px0 + (px1 - px0) * f1, py0 + (py1 - py0) * f1, ghostOffset, 0.07, st.r, st.g, st.b, ghostAlpha);
        }
      }
      // labels: where the paint is (dashes only for dashed dividers; the first line decides)
      const labelDashed = p.style === 'dashed';
      for (let q = 0, m = paintedIntervals(s0, s1, labelDashed, st.phaseM); q < m; q++) {
        const f0 = (intervals[2 * q]! - s0) / (s1 - s0);
        const f1 = (intervals[2 * q + 1]! - s0) / (s1 - s0);
        labelLine(ctx, px0 + (px1 - px0) * f0, py0 + (py1 - py0) * f0, px0 + (px1 - px0) * f1, py0 + (py1 - py0) * f1, labelHalf, cls);
      }
    }
  });
}

/** (u0, u1) pairs of paintedIntervals (no closure per piece of line). */
let intervals = new Float64Array(8);

/**
 * The painted sub-intervals of [s0, s1] (arc metres): all of it, or the dashes; written to
 * `intervals` as (u0, u1) pairs, returns their count.
 */
function paintedIntervals(s0: number, s1: number, dashed: boolean, phaseM: number): number {
  if (!dashed) {
    intervals[0] = s0;
    intervals[1] = s1;
    return 1;
  }
  const j0 = Math.floor((s0 - phaseM) / DASH_PERIOD_M);
  const j1 = Math.floor((s1 - phaseM) / DASH_PERIOD_M);
  if (intervals.length < 2 * (j1 - j0 + 1)) intervals = new Float64Array(2 * (j1 - j0 + 1));
  let m = 0;
  for (let j = j0; j <= j1; j++) {
    const d0 = phaseM + j * DASH_PERIOD_M;
    const u0 = Math.max(s0, d0);
    const u1 = Math.min(s1, d0 + DASH_M);
    if (u1 > u0 + 1e-6) {
      intervals[2 * m] = u0;
      intervals[2 * m + 1] = u1;
      m++;
    }
  }
  return m;
}

function drawStopLine(ctx: FrameContext, pi: number, from: number, to: number): void {
  const st = ctx.scene.style[pi]!;
  const hashI = Math.floor(st.hash * 2147483647);
  forEachSegment(ctx, pi, from, to, (ax, ay, bx, by, arcA) => {
    const len = Math.hypot(bx - ax, by - ay);
    const n = Math.max(1, Math.ceil(len / PIECE_M));
    for (let k = 0; k < n; k++) {
      const t0 = k / n;
      const t1 = (k + 1) / n;
      const x0 = ax + (bx - ax) * t0;
      const y0 = ay + (by - ay) * t0;
      const x1 = ax + (bx - ax) * t1;
      const y1 = ay + (by - ay) * t1;
      const a = wearAlpha(ctx, hashI, arcA + len * (t0 + t1) * 0.5);
      if (a > 0) paintStrip(ctx, x0, y0, x1, y1, 0, st.widthM / 2, st.r, st.g, st.b, a);
      labelLine(ctx, x0, y0, x1, y1, st.widthM / 2, SEG_CLASS_IDS.stop_line);
    }
  });
}

function drawCrosswalk(ctx: FrameContext, pi: number): void {
  const fr = ctx.fr;
  const p = ctx.scene.primitives[pi]!;
  const st = ctx.scene.style[pi]!;
  const hashI = Math.floor(st.hash * 2147483647);
  const n = Math.min(p.points.length, 30);
  const xs = new Float64Array(n);
  const ys = new Float64Array(n);
  let any = false;
  for (let i = 0; i < n; i++) {
    xs[i] = bodyX(ctx, p.points[i]![0], p.points[i]![1]);
    ys[i] = bodyY(ctx, p.points[i]![0], p.points[i]![1]);
    if (nearView(ctx, xs[i]!, ys[i]!, ctx.paintRangeM, 8)) any = true;
  }
  if (!any) return;
  // Long axis (across the road), from the scene, turned into the body frame.
  const ex = ctx.cos * st.axisX + ctx.sin * st.axisY;
  const ey = -ctx.sin * st.axisX + ctx.cos * st.axisY;
  const nx = -ey;
  const ny = ex;
  let e0 = Infinity;
  let e1 = -Infinity;
  for (let i = 0; i < n; i++) {
    const e = xs[i]! * ex + ys[i]! * ey;
    e0 = Math.min(e0, e);
    e1 = Math.max(e1, e);
  }
  // bars 0.5 m wide along the long axis, 0.5 m gaps, centred; each spans what the outline holds
  // across it over the bar's width (a skewed crossing's bars are staggered, never outside it)
  const total = e1 - e0;
  const bars = Math.max(1, Math.floor((total + 0.5) / 1.0));
  const start = e0 + (total - (bars * 1.0 - 0.5)) / 2;
  const inset = 0.1;
  for (let k = 0; k < bars; k++) {
    const a0 = start + k;
    const a1 = a0 + 0.5;
    const span = crossSpan(xs, ys, n, ex, ey, a0, a1);
    if (span === undefined) continue;
    const [n0, n1] = span;
    if (n1 - n0 <= 2 * inset) continue;
    // split each bar along its length in pieces of <= 1.5 m (slope, wear)
    const pieces = Math.max(1, Math.ceil((n1 - n0 - 2 * inset) / 1.5));
    for (let q = 0; q < pieces; q++) {
      const b0 = n0 + inset + ((n1 - n0 - 2 * inset) * q) / pieces;
      const b1 = n0 + inset + ((n1 - n0 - 2 * inset) * (q + 1)) / pieces;
      const alpha = wearAlpha(ctx, hashI + k * 7919, q * 1.3);
      if (alpha <= 0) continue;
      setQuadGround(ctx, ex * a0 + nx * b0, ey * a0 + ny * b0, ex * a1 + nx * b0, ey * a1 + ny * b0, ex * a1 + nx * b1, ey * a1 + ny * b1, ex * a0 + nx * b1, ey * a0 + ny * b1, 0.003);
      fr.fillColour(4, st.r, st.g, st.b, alpha);
    }
  }
  // label: the whole crosswalk area
  const far = fr.depthM(xs[0]!, ys[0]!, 0) > ctx.labelMaxRangeM;
  for (let i = 0; i < n; i++) {
    fr.bx[i] = xs[i]!;
    fr.by[i] = ys[i]!;
    fr.bz[i] = fr.groundZ(xs[i]!);
  }
  fr.fillLabel(n, far ? SEG_IGNORE : SEG_CLASS_IDS.crosswalk);
}

/**
 * What an outline holds across the long axis (ex, ey) between long-axis positions a0 and a1: the
 * across-range [lo, hi] it holds at both ends (for a convex outline the bar's rectangle lies
 * inside it), or undefined where it holds nothing there.
 */
export function crossSpan(xs: Float64Array, ys: Float64Array, n: number, ex: number, ey: number, a0: number, a1: number): [number, number] | undefined {
  // Per end, the across-range of the outline's crossings of the line at that position.
  let lo0 = Infinity;
  let hi0 = -Infinity;
  let lo1 = Infinity;
  let hi1 = -Infinity;
  for (let i = 0; i < n; i++) {
    const j = (i + 1) % n;
    const ei = xs[i]! * ex + ys[i]! * ey;
    const ej = xs[j]! * ex + ys[j]! * ey;
    const qi = -xs[i]! * ey + ys[i]! * ex;
    const qj = -xs[j]! * ey + ys[j]! * ex;
    const lo = Math.min(ei, ej);
    const hi = Math.max(ei, ej);
    for (let end = 0; end < 2; end++) {
      const a = end === 0 ? a0 : a1;
      if (a < lo || a > hi) continue;
      // An edge across the long axis (ei = ej = a) holds both its ends.
      const q = ej === ei ? qi : qi + ((a - ei) / (ej - ei)) * (qj - qi);
      const q2 = ej === ei ? qj : q;
      if (end === 0) {
        lo0 = Math.min(lo0, q, q2);
        hi0 = Math.max(hi0, q, q2);
      } else {
        lo1 = Math.min(lo1, q, q2);
        hi1 = Math.max(hi1, q, q2);
      }
    }
  }
  const lo = Math.max(lo0, lo1);
  const hi = Math.min(hi0, hi1);
  return lo < hi ? [lo, hi] : undefined;
}

const BAND_PIECE_M = 3;

function drawBoundary(ctx: FrameContext, pi: number, from: number, to: number): void {
  const fr = ctx.fr;
  const p = ctx.scene.primitives[pi]!;
  const st = ctx.scene.style[pi]!;
  const kind = p.kind ?? 'road_border';
  const cls = kind === 'curb' ? SEG_CLASS_IDS.boundary_curb : kind === 'barrier' ? SEG_CLASS_IDS.boundary_barrier : SEG_CLASS_IDS.boundary_border;
  const gravel = st.hash < 0.4;
  const wall = p.sourceType === 'wall';
  const fence = p.sourceType === 'fence';
  forEachSegment(ctx, pi, from, to, (ax, ay, bx, by) => {
    const len = Math.hypot(bx - ax, by - ay);
    if (len < 1e-6) return;
    // the road is on the vehicle's side of the segment
    const originLeft = (bx - ax) * -ay - (by - ay) * -ax > 0;
    const dx = (bx - ax) / len;
    const dy = (by - ay) / len;
    const ox = originLeft ? dy : -dy;
    const oy = originLeft ? -dx : dx;
    const n = Math.max(1, Math.ceil(len / BAND_PIECE_M));
    for (let k = 0; k < n; k++) {
      const x0 = ax + (bx - ax) * (k / n);
      const y0 = ay + (by - ay) * (k / n);
      const x1 = ax + (bx - ax) * ((k + 1) / n);
      const y1 = ay + (by - ay) * ((k + 1) / n);
      if (kind === 'curb') {
        band(ctx, x0, y0, x1, y1, ox, oy, 0, 2.5, 0.12, 0.56, 0.55, 0.53);
        band(ctx, x0, y0, x1, y1, ox, oy, 2.5, 6, 0.12, 0.26, 0.36, 0.17);
        const depth = fr.depthM((x0 + x1) / 2, (y0 + y1) / 2, 0);
        ctx.verticals.push({ depthM: depth, draw: kerbFace(ctx, x0, y0, x1, y1) });
      } else if (kind === 'road_border') {
        if (gravel) band(ctx, x0, y0, x1, y1, ox, oy, 0, 1.2, 0.01, 0.5, 0.47, 0.42);
        band(ctx, x0, y0, x1, y1, ox, oy, gravel ? 1.2 : 0, 5, 0.01, 0.27, 0.38, 0.17);
      } else {
        band(ctx, x0, y0, x1, y1, ox, oy, 0, 4, 0.01, 0.3, 0.37, 0.2);
        const depth = fr.depthM((x0 + x1) / 2, (y0 + y1) / 2, 0.4);
        ctx.verticals.push({ depthM: depth, draw: barrierFace(ctx, x0, y0, x1, y1, dx, dy, wall, fence) });
      }
      labelLine(ctx, x0, y0, x1, y1, 0.08, cls);
    }
  });
}

// The vertical faces are drawn later, far to near. Their closures come from these factories
// rather than inline `draw: () => ...` properties: an inferred function name costs a
// `__name` call per closure under the tsx loader (esbuild keepNames).

/** Draws a kerb face on the ground segment. */
function kerbFace(ctx: FrameContext, x0: number, y0: number, x1: number, y1: number): () => void {
  return () => {
    vertical(ctx, x0, y0, x1, y1, 0, 0.12);
    ctx.fr.fillColour(4, 0.74, 0.73, 0.7, 1);
  };
}

/** Draws a wall, fence or guard rail on the ground segment (direction (dx, dy)). */
function barrierFace(ctx: FrameContext, x0: number, y0: number, x1: number, y1: number, dx: number, dy: number, wall: boolean, fence: boolean): () => void {
  return () => {
    const fr = ctx.fr;
    if (wall || fence) {
      vertical(ctx, x0, y0, x1, y1, 0, wall ? 0.9 : 1.2);
      fr.fillColour(4, wall ? 0.6 : 0.32, wall ? 0.58 : 0.34, wall ? 0.55 : 0.3, 1);
    } else {
      // guard rail: a metal band on posts
      vertical(ctx, x0, y0, x1, y1, 0.45, 0.8);
      fr.fillColour(4, 0.7, 0.72, 0.74, 1);
      vertical(ctx, x0, y0, x1, y1, 0.6, 0.66);
      fr.fillColour(4, 0.5, 0.52, 0.55, 1);
      vertical(ctx, x0, y0, x0 + dx * 0.12, y0 + dy * 0.12, 0, 0.5);
      fr.fillColour(4, 0.42, 0.43, 0.45, 1);
    }
  };
}

/** A ground band beside a segment, from `d0` to `d1` metres along the outward normal (ox, oy), raised `zM`. */
function band(ctx: FrameContext, x0: number, y0: number, x1: number, y1: number, ox: number, oy: number, d0: number, d1: number, zM: number, r: number, g: number, b: number): void {
  setQuadGround(ctx, x0 + ox * d0, y0 + oy * d0, x1 + ox * d0, y1 + oy * d0, x1 + ox * d1, y1 + oy * d1, x0 + ox * d1, y0 + oy * d1, zM);
  ctx.fr.fillColour(4, r, g, b, 1);
}

/** A vertical quad standing on the ground segment, from z0 to z1 above the ground. */
function vertical(ctx: FrameContext, x0: number, y0: number, x1: number, y1: number, z0: number, z1: number): void {
  const fr = ctx.fr;
  const g0 = fr.groundZ(x0);
  const g1 = fr.groundZ(x1);
  fr.bx[0] = x0;
  fr.by[0] = y0;
  fr.bz[0] = g0 + z0;
  fr.bx[1] = x1;
  fr.by[1] = y1;
  fr.bz[1] = g1 + z0;
  fr.bx[2] = x1;
  fr.by[2] = y1;
  fr.bz[2] = g1 + z1;
  fr.bx[3] = x0;
  fr.by[3] = y0;
  fr.bz[3] = g0 + z1;
}

/** World-anchored cast shadows (trees, buildings): quads in 8 m cells, multiplied onto the ground. */
function drawShadows(ctx: FrameContext, minX: number, minY: number, maxX: number, maxY: number): void {
  const CELL = 8;
  const seed = ctx.cond.worldSeed + 99;
  const fr = ctx.fr;
  for (let cx = Math.floor(minX / CELL); cx <= Math.floor(maxX / CELL); cx++) {
    for (let cy = Math.floor(minY / CELL); cy <= Math.floor(maxY / CELL); cy++) {
      if (hash2(cx, cy, seed) >= ctx.cond.shadows) continue;
      const wx = (cx + hash2(cx, cy, seed + 1)) * CELL;
      const wy = (cy + hash2(cx, cy, seed + 2)) * CELL;
      const x = bodyX(ctx, wx, wy);
      const y = bodyY(ctx, wx, wy);
      if (!nearView(ctx, x, y, ctx.paintRangeM, 8)) continue;
      const ang = hash2(cx, cy, seed + 3) * Math.PI;
      const hl = 1.5 + 4 * hash2(cx, cy, seed + 4);
      const hw = 0.8 + 2 * hash2(cx, cy, seed + 5);
      const ca = Math.cos(ang);
      const sa = Math.sin(ang);
      // an irregular octagon
      const m = 8;
      for (let i = 0; i < m; i++) {
        const t = (2 * Math.PI * i) / m;
        const rr = 0.75 + 0.25 * hash2(cx * 31 + i, cy, seed + 6);
        const lx = Math.cos(t) * hl * rr;
        const ly = Math.sin(t) * hw * rr;
        const bx = x + ca * lx - sa * ly;
        const by = y + sa * lx + ca * ly;
        fr.bx[i] = bx;
        fr.by[i] = by;
        fr.bz[i] = fr.groundZ(bx) + 0.002;
      }
      const dark = 0.4 + 0.2 * hash2(cx, cy, seed + 7);
      fr.fillMultiply(m, dark, dark * 1.02, dark * 1.12);
    }
  }
}
