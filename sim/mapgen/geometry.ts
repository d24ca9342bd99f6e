/**
 * Plane geometry for the map generator, all in metres in a local east-north frame:
 * vectors, rounded (filleted) polylines, trimming, offsets and Bezier connectors.
 */
import type { XY } from '../../shared/schema.ts';

export type P = [number, number];

export const add = (a: XY, b: XY): P => [a[0] + b[0], a[1] + b[1]];
export const sub = (a: XY, b: XY): P => [a[0] - b[0], a[1] - b[1]];
export const scale = (a: XY, k: number): P => [a[0] * k, a[1] * k];
export const dot = (a: XY, b: XY): number => a[0] * b[0] + a[1] * b[1];
export const cross = (a: XY, b: XY): number => a[0] * b[1] - a[1] * b[0];
export const norm = (a: XY): number => Math.hypot(a[0], a[1]);
export const dist = (a: XY, b: XY): number => Math.hypot(a[0] - b[0], a[1] - b[1]);
/** Left normal of a direction (rotated +90 degrees). */
export const leftOf = (d: XY): P => [-d[1], d[0]];
export const unit = (a: XY): P => {
  const n = norm(a);
  return n > 0 ? [a[0] / n, a[1] / n] : [0, 0];
};
export const polar = (radiusM: number, angleRad: number): P => [radiusM * Math.cos(angleRad), radiusM * Math.sin(angleRad)];

/** Signed angle from direction a to direction b, radians in (-pi, pi]; positive turns left. */
export function turnAngleRad(a: XY, b: XY): number {
  return Math.atan2(cross(a, b), dot(a, b));
}

/** A polyline vertex with the radius of the arc that rounds it (ignored at the ends). */
export interface Corner {
  xy: XY;
  radiusM: number;
}

/**
 * Round the interior corners of a polyline with circular arcs. Each arc's tangent length is
 * capped so that arcs never overlap and stay `reserveStartM` / `reserveEndM` clear of the ends.
 */
export function filletPolyline(corners: readonly Corner[], reserveStartM: number, reserveEndM: number, maxStepM = 3): P[] {
  const n = corners.length;
  const out: P[] = [[corners[0]!.xy[0], corners[0]!.xy[1]]];
  for (let i = 1; i < n - 1; i++) {
    const prev = corners[i - 1]!.xy;
    const here = corners[i]!.xy;
    const next = corners[i + 1]!.xy;
    const dIn = unit(sub(here, prev));
    const dOut = unit(sub(next, here));
    const phi = turnAngleRad(dIn, dOut);
    if (Math.abs(phi) < 1e-3) {
      out.push([here[0], here[1]]);
      continue;
    }
    const lenIn = dist(prev, here);
    const lenOut = dist(here, next);
    const availIn = i === 1 ? lenIn - reserveStartM : lenIn / 2;
    const availOut = i === n - 2 ? lenOut - reserveEndM : lenOut / 2;
    const tanHalf = Math.tan(Math.abs(phi) / 2);
    const t = Math.max(0, Math.min(corners[i]!.radiusM * tanHalf, availIn, availOut));
    const r = t / tanHalf;
    if (r < 1) {
      out.push([here[0], here[1]]);
      continue;
    }
    const t1 = sub(here, scale(dIn, t));
    const side = phi > 0 ? 1 : -1;
    const centre = add(t1, scale(leftOf(dIn), side * r));
    const a0 = Math.atan2(t1[1] - centre[1], t1[0] - centre[0]);
    const steps = Math.max(2, Math.ceil(Math.max((r * Math.abs(phi)) / maxStepM, Math.abs(phi) / ((4 * Math.PI) / 180))));
    for (let k = 0; k <= steps; k++) out.push(add(centre, polar(r, a0 + (phi * k) / steps)));
  }
  out.push([corners[n - 1]!.xy[0], corners[n - 1]!.xy[1]]);
  return dropRepeats(out);
}

/** Cumulative lengths along a polyline, metres. */
export function stations(pts: readonly XY[]): number[] {
  const s = [0];
  for (let i = 1; i < pts.length; i++) s.push(s[i - 1]! + dist(pts[i - 1]!, pts[i]!));
  return s;
}

/** The piece of a polyline between stations fromM and toM (clamped), with exact end vertices. */
export function slicePolyline(pts: readonly XY[], fromM: number, toM: number): P[] {
  const s = stations(pts);
  const at = (m: number): P => {
    for (let i = 1; i < pts.length; i++) {
      if (s[i]! >= m || i === pts.length - 1) {
        const seg = s[i]! - s[i - 1]!;
        const t = seg > 0 ? Math.min(1, Math.max(0, (m - s[i - 1]!) / seg)) : 0;
        return add(pts[i - 1]!, scale(sub(pts[i]!, pts[i - 1]!), t));
      }
    }
    return [pts[0]![0], pts[0]![1]];
  };
  const out: P[] = [at(fromM)];
  for (let i = 0; i < pts.length; i++) if (s[i]! > fromM + 1e-6 && s[i]! < toM - 1e-6) out.push([pts[i]![0], pts[i]![1]]);
  out.push(at(toM));
  return dropRepeats(out);
}

/**
 * Insert vertices at the given stations (sorted, inside the polyline) and return the polyline
 * with the vertex index of each cut.
 */
export function insertCuts(pts: readonly XY[], cutsM: readonly number[]): { pts: P[]; cutIndex: number[] } {
  const s = stations(pts);
  const out: P[] = [];
  const cutIndex: number[] = [];
  let c = 0;
  for (let i = 0; i < pts.length; i++) {
    while (c < cutsM.length && cutsM[c]! < s[i]! - 1e-6) {
      const seg = s[i]! - s[i - 1]!;
      const t = (cutsM[c]! - s[i - 1]!) / seg;
      out.push(add(pts[i - 1]!, scale(sub(pts[i]!, pts[i - 1]!), t)));
      cutIndex.push(out.length - 1);
      c++;
    }
    out.push([pts[i]![0], pts[i]![1]]);
    if (c < cutsM.length && Math.abs(cutsM[c]! - s[i]!) <= 1e-6) {
      cutIndex.push(out.length - 1);
      c++;
    }
  }
  return { pts: out, cutIndex };
}

/** Unit tangent at each vertex (mean of the adjacent segment directions). */
export function tangents(pts: readonly XY[]): P[] {
  const n = pts.length;
  return pts.map((_, i) => {
    const a = unit(sub(pts[Math.min(i + 1, n - 1)]!, pts[i]!));
    const b = unit(sub(pts[i]!, pts[Math.max(i - 1, 0)]!));
    if (i === 0) return a;
    if (i === n - 1) return b;
    return unit(add(a, b));
  });
}

/** The polyline shifted sideways by offsetM (positive: to the left), one vertex per vertex (mitred). */
export function offsetPolyline(pts: readonly XY[], offsetM: number): P[] {
  const n = pts.length;
  const tan = tangents(pts);
  return pts.map((p, i) => {
    let k = offsetM;
    if (i > 0 && i < n - 1) {
      const a = unit(sub(pts[i + 1]!, p));
      const cosHalf = dot(a, tan[i]!);
      if (cosHalf > 0.3) k = offsetM / cosHalf;
    }
    return add(p, scale(leftOf(tan[i]!), k));
  });
}

/**
 * A cubic Bezier from a (leaving along unit dirA) to b (arriving along unit dirB), sampled
 * about every stepM metres, both ends included.
 */
export function bezier(a: XY, dirA: XY, b: XY, dirB: XY, stepM = 2, tangentFraction = 0.4): P[] {
  const chord = dist(a, b);
  const k = chord * tangentFraction;
  const p1 = add(a, scale(dirA, k));
  const p2 = sub(b, scale(dirB, k));
  const count = Math.max(2, Math.ceil(chord / stepM) + 1);
  const out: P[] = [];
  for (let i = 0; i < count; i++) {
    const t = i / (count - 1);
    const u = 1 - t;
    const w0 = u * u * u;
    const w1 = 3 * u * u * t;
    const w2 = 3 * u * t * t;
    const w3 = t * t * t;
    out.push([
      w0 * a[0] + w1 * p1[0] + w2 * p2[0] + w3 * b[0],
      w0 * a[1] + w1 * p1[1] + w2 * p2[1] + w3 * b[1],
    ]);
  }
  return out;
}

/** Points on a circular arc from angle a0 to a1 (radians, counter-clockwise when a1 > a0). */
export function arc(centre: XY, radiusM: number, a0Rad: number, a1Rad: number, maxStepM = 2): P[] {
  const steps = Math.max(2, Math.ceil((radiusM * Math.abs(a1Rad - a0Rad)) / maxStepM));
  const out: P[] = [];
  for (let k = 0; k <= steps; k++) out.push(add(centre, polar(radiusM, a0Rad + ((a1Rad - a0Rad) * k) / steps)));
  return out;
}

export function dropRepeats(pts: P[]): P[] {
  return pts.filter((p, i) => i === 0 || dist(p, pts[i - 1]!) > 1e-6);
}
