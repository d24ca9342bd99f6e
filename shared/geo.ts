/**
 * WGS84 <-> local metric frames.
 *
 * A `LocalFrame` is an east-north-up tangent plane at an explicit origin (there is no default
 * origin: projecting lat/lon needs one, and a silent default would put data in the wrong place).
 * Points are converted exactly through ECEF; the up component is dropped on the way in and
 * recovered on the way out, so round trips are sub-millimetre across tens of kilometres.
 *
 * Coordinate order: `LngLat` objects carry degrees; local points are `[eastM, northM]`.
 */
import type { XY } from './schema.ts';

export interface LngLat {
  /** Longitude, degrees east, WGS84. */
  lng: number;
  /** Latitude, degrees north, WGS84. */
  lat: number;
}

/**
 * A lng/lat box, degrees. `west > east` means the box crosses the antimeridian (+-180 deg) and
 * holds the longitudes from west eastward through 180 to east: the GeoJSON bbox convention
 * (RFC 7946, section 5.2).
 */
export interface LngLatBounds {
  west: number;
  south: number;
  east: number;
  north: number;
}

const WGS84_A_M = 6378137.0;
const WGS84_F = 1 / 298.257223563;
const WGS84_E2 = WGS84_F * (2 - WGS84_F);
const DEG = Math.PI / 180;

export function assertLngLat(p: LngLat, what = 'position'): void {
  if (!Number.isFinite(p.lng) || p.lng < -180 || p.lng > 180) {
    throw new RangeError(`${what}.lng must be a finite longitude in [-180, 180], got ${p.lng}`);
  }
  if (!Number.isFinite(p.lat) || p.lat < -85.05112878 || p.lat > 85.05112878) {
    throw new RangeError(`${what}.lat must be a finite latitude in [-85.05, 85.05], got ${p.lat}`);
  }
}

function toEcef(lngDeg: number, latDeg: number, hM: number): [number, number, number] {
  const lat = latDeg * DEG;
  const lng = lngDeg * DEG;
  const sinLat = Math.sin(lat);
  const cosLat = Math.cos(lat);
  const n = WGS84_A_M / Math.sqrt(1 - WGS84_E2 * sinLat * sinLat);
  return [
    (n + hM) * cosLat * Math.cos(lng),
    (n + hM) * cosLat * Math.sin(lng),
    (n * (1 - WGS84_E2) + hM) * sinLat,
  ];
}

function fromEcef(x: number, y: number, z: number): [number, number, number] {
  const lng = Math.atan2(y, x);
  const p = Math.hypot(x, y);
  let lat = Math.atan2(z, p * (1 - WGS84_E2));
  let h = 0;
  for (let i = 0; i < 5; i++) {
    const sinLat = Math.sin(lat);
    const n = WGS84_A_M / Math.sqrt(1 - WGS84_E2 * sinLat * sinLat);
    h = p / Math.cos(lat) - n;
    lat = Math.atan2(z, p * (1 - (WGS84_E2 * n) / (n + h)));
  }
  return [lng / DEG, lat / DEG, h];
}

/** An east-north tangent plane at `origin`. */
export class LocalFrame {
  readonly origin: LngLat;
  private readonly o: [number, number, number];
  private readonly sinLat: number;
  private readonly cosLat: number;
  private readonly sinLng: number;
  private readonly cosLng: number;

  constructor(origin: LngLat) {
    assertLngLat(origin, 'origin');
    this.origin = { lng: origin.lng, lat: origin.lat };
    this.o = toEcef(origin.lng, origin.lat, 0);
    this.sinLat = Math.sin(origin.lat * DEG);
    this.cosLat = Math.cos(origin.lat * DEG);
    this.sinLng = Math.sin(origin.lng * DEG);
    this.cosLng = Math.cos(origin.lng * DEG);
  }

  /** WGS84 (height 0) to `[eastM, northM]`. */
  toLocal(p: LngLat): [number, number] {
    const [x, y, z] = toEcef(p.lng, p.lat, 0);
    const dx = x - this.o[0];
    const dy = y - this.o[1];
    const dz = z - this.o[2];
    const east = -this.sinLng * dx + this.cosLng * dy;
    const north = -this.sinLat * this.cosLng * dx - this.sinLat * this.sinLng * dy + this.cosLat * dz;
    return [east, north];
  }

  /** `[eastM, northM]` on the ellipsoid surface back to WGS84. */
  toLngLat(xy: XY): LngLat {
    const [east, north] = xy;
    // The point lies on the ellipsoid, below the tangent plane by about d^2 / 2R: iterate on up.
    let up = -(east * east + north * north) / (2 * WGS84_A_M);
    let result: LngLat = { lng: 0, lat: 0 };
    for (let i = 0; i < 3; i++) {
      const dx = -this.sinLng * east - this.sinLat * this.cosLng * north + this.cosLat * this.cosLng * up;
      const dy = this.cosLng * east - this.sinLat * this.sinLng * north + this.cosLat * this.sinLng * up;
      const dz = this.cosLat * north + this.sinLat * up;
      const [lng, lat, h] = fromEcef(this.o[0] + dx, this.o[1] + dy, this.o[2] + dz);
      result = { lng, lat };
      up -= h;
    }
    return result;
  }
}

/** Great-circle-free helper: distance in metres between two WGS84 points via a local frame. */
export function distanceM(a: LngLat, b: LngLat): number {
  const [e, n] = new LocalFrame(a).toLocal(b);
  return Math.hypot(e, n);
}

/**
 * `lngDeg` moved by whole turns to lie within 180 degrees of `refDeg` (as seen from there: 181
 * rather than -179 next to 180 deg). Exact: a longitude already within 180 degrees is returned
 * unchanged, not recomputed.
 */
export function lngNearDeg(lngDeg: number, refDeg: number): number {
  let lng = lngDeg;
  while (lng - refDeg > 180) lng -= 360;
  while (lng - refDeg < -180) lng += 360;
  return lng;
}

/** Degrees of longitude a box spans eastward from its west edge (west > east: across +-180). */
export function lngSpanDeg(b: Pick<LngLatBounds, 'west' | 'east'>): number {
  return b.east >= b.west ? b.east - b.west : b.east - b.west + 360;
}

/**
 * The smallest box holding every position: its longitudes are the shortest arc that holds them
 * all, which crosses the antimeridian (west > east) where the positions lie on both sides of it.
 * The arc leaves out the widest gap between neighbouring longitudes; where the gap across +-180
 * is as wide as the widest, the box stays on one side (west = least, east = greatest longitude).
 * Undefined without positions.
 */
export function lngLatBoundsOf(points: Iterable<LngLat>): LngLatBounds | undefined {
  const lngs: number[] = [];
  let south = Infinity;
  let north = -Infinity;
  for (const p of points) {
    lngs.push(p.lng);
    if (p.lat < south) south = p.lat;
    if (p.lat > north) north = p.lat;
  }
  if (lngs.length === 0) return undefined;
  lngs.sort((a, b) => a - b);
  const n = lngs.length;
  let widest = lngs[0]! + 360 - lngs[n - 1]!; // the gap across +-180
  let after = 0; // index of the first longitude after the widest gap
  for (let i = 1; i < n; i++) {
    const gap = lngs[i]! - lngs[i - 1]!;
    if (gap > widest) {
      widest = gap;
      after = i;
    }
  }
  return { west: lngs[after]!, south, east: lngs[(after + n - 1) % n]!, north };
}

/** Centre of a box (the middle of its longitude arc, across +-180 where it crosses). */
export function boundsCentre(b: LngLatBounds): LngLat {
  return { lng: lngNearDeg(b.west + lngSpanDeg(b) / 2, 0), lat: (b.south + b.north) / 2 };
}

/** A GeoJSON position, `[lngDeg, latDeg]` (RFC 7946 order). */
export type LngLatPosition = [number, number];

/**
 * A closed ring (first position repeated last) cut on the antimeridian, as RFC 7946 section
 * 3.1.9 asks of any geometry that crosses it: `ring` has continuous longitudes (a crosswalk seen
 * from its tile: 179.99999 then 180.00003, or -180.00002 then -179.99998) and may reach past
 * +-180 deg on one side. Returns the ring alone when it stays within [-180, 180] (touching the
 * line is not crossing it); otherwise its parts on either side of the line (Sutherland-Hodgman
 * against the meridian, exact for the convex rings the merge publishes), each closed, the far
 * part moved by a whole turn so every longitude is within [-180, 180]. The cut vertices of both
 * parts have the same latitudes (one on +180, the other on -180); `joinAntimeridianParts`
 * splices the parts back along them. A part with fewer than 3 distinct vertices is dropped.
 */
export function splitRingAtAntimeridian(ring: readonly LngLatPosition[]): LngLatPosition[][] {
  let minLng = Infinity;
  let maxLng = -Infinity;
  for (const [lng] of ring) {
    minLng = Math.min(minLng, lng);
    maxLng = Math.max(maxLng, lng);
  }
  const cut = maxLng > 180 ? 180 : minLng < -180 ? -180 : undefined;
  if (cut === undefined) return [ring.map(([lng, lat]) => [lng, lat])];
  const open = ring.length > 1 && ring[0]![0] === ring[ring.length - 1]![0] && ring[0]![1] === ring[ring.length - 1]![1] ? ring.slice(0, -1) : ring;
  const parts: LngLatPosition[][] = [];
  for (const side of [-1, 1] as const) {
    // side -1: longitudes <= cut; side 1: >= cut.
    const inside = (lng: number): boolean => (side < 0 ? lng <= cut : lng >= cut);
    const out: LngLatPosition[] = [];
    for (let i = 0; i < open.length; i++) {
      const p = open[i]!;
      const q = open[(i + 1) % open.length]!;
      if (inside(p[0])) out.push([p[0], p[1]]);
      // The edge crosses the meridian strictly between its ends: the cut vertex.
      if ((p[0] - cut) * (q[0] - cut) < 0) out.push([cut, p[1] + ((cut - p[0]) * (q[1] - p[1])) / (q[0] - p[0])]);
    }
    const distinct = out.filter((p, i) => i === 0 || p[0] !== out[i - 1]![0] || p[1] !== out[i - 1]![1]);
    if (distinct.length > 1 && distinct[0]![0] === distinct[distinct.length - 1]![0] && distinct[0]![1] === distinct[distinct.length - 1]![1]) distinct.pop();
    if (distinct.length < 3) continue;
    const far = (side > 0) === (cut > 0);
    const part = distinct.map(([lng, lat]): LngLatPosition => [far ? lng - 2 * cut : lng, lat]);
    part.push([part[0]![0], part[0]![1]]);
    parts.push(part);
  }
  return parts;
}

/**
 * The inverse of `splitRingAtAntimeridian`: the parts of one ring (each closed) as one closed
 * ring with continuous longitudes within 180 deg of `refLngDeg`. Two parts are spliced along the
 * edge they share (the same two positions, in opposite directions); the cut vertices, which lie
 * on the edges of the ring that was cut, are dropped again where they are collinear with their
 * neighbours. Parts that share no edge (not one ring cut in two): the part with the most vertices.
 */
export function joinAntimeridianParts(parts: readonly (readonly LngLatPosition[])[], refLngDeg: number): LngLatPosition[] {
  const near = parts.map((r) => {
    const open = r.slice(0, r.length > 1 && r[0]![0] === r[r.length - 1]![0] && r[0]![1] === r[r.length - 1]![1] ? -1 : r.length);
    return open.map(([lng, lat]): LngLatPosition => [lngNearDeg(lng, refLngDeg), lat]);
  });
  const close = (r: LngLatPosition[]): LngLatPosition[] => (r.length ? [...r, [r[0]![0], r[0]![1]]] : r);
  if (near.length === 0) return [];
  if (near.length === 1) return close(near[0]!);
  const same = (a: LngLatPosition, b: LngLatPosition): boolean => Math.abs(a[0] - b[0]) < 1e-9 && Math.abs(a[1] - b[1]) < 1e-9;
  let ring = near[0]!;
  const rest = near.slice(1);
  const seams: LngLatPosition[] = [];
  for (let guard = 0; rest.length && guard < near.length; guard++) {
    let joined = false;
    for (let k = 0; k < rest.length && !joined; k++) {
      const b = rest[k]!;
      for (let i = 0; i < ring.length && !joined; i++) {
        const a0 = ring[i]!;
        const a1 = ring[(i + 1) % ring.length]!;
        for (let j = 0; j < b.length; j++) {
          // b runs the shared edge the other way: b[j] = a1, b[j + 1] = a0.
          if (!same(b[j]!, a1) || !same(b[(j + 1) % b.length]!, a0)) continue;
          const around: LngLatPosition[] = [];
          for (let s = 2; s < b.length; s++) around.push(b[(j + s) % b.length]!);
          ring = [...ring.slice(0, i + 1), ...around, ...ring.slice(i + 1)];
          seams.push(a0, a1);
          rest.splice(k, 1);
          joined = true;
          break;
        }
      }
    }
    if (!joined) break;
  }
  if (rest.length) return close([ring, ...rest].reduce((a, b) => (b.length > a.length ? b : a)));
  // Drop the seam's vertices that lie on a straight edge of the whole ring (within ~1 cm).
  const out = ring.filter((p, i) => {
    if (!seams.some((s) => same(s, p)) || ring.length <= 3) return true;
    const a = ring[(i - 1 + ring.length) % ring.length]!;
    const b = ring[(i + 1) % ring.length]!;
    const ex = b[0] - a[0];
    const ey = b[1] - a[1];
    const len = Math.hypot(ex, ey);
    return len === 0 || Math.abs(ex * (p[1] - a[1]) - ey * (p[0] - a[0])) / len > 1e-7;
  });
  return close(out.length >= 3 ? out : ring);
}
