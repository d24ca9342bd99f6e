/**
 * Published GeoJSON (RFC 7946): one FeatureCollection per tile, coordinates [lng, lat] WGS84
 * degrees in that order, rounded to 1e-8 deg (~1 mm). Adjacent tiles meet on the border without
 * duplicates: lines are clipped to the tile's lng/lat bounds (the same numbers on both sides of a
 * border); points belong to the tile `tileOf` puts them in, and so do polygons (crosswalks, a few
 * metres across) by their centroid: they are published whole, possibly overhanging the border.
 */
import { joinAntimeridianParts, lngNearDeg, splitRingAtAntimeridian, type LngLatPosition, type LocalFrame } from '../../shared/geo.ts';
import { CLASS_GEOMETRY, type BoundaryKind, type DividerStyle, type PrimitiveClass, type XY } from '../../shared/schema.ts';
import { tileKey, tileOf, type LngLatBounds, type TileId } from '../../shared/tiles.ts';

export type Position = LngLatPosition;

export interface FeatureProperties {
  id: string;
  class: PrimitiveClass;
  style?: DividerStyle;
  kind?: BoundaryKind;
  signCode?: string;
  /** Confidence in [0, 1]. */
  score: number;
  supportDrives: number;
  supportObservations: number;
  firstSeenUnixMs: number;
  lastSeenUnixMs: number;
  /** Robust spread of the supporting drives around the consensus (lines), metres. */
  spreadM?: number;
  /**
   * Of the drives that passed its place, the share that saw it, in [0, 1] (a feature first seen
   * after the tile's previous version counts only the drives since its first sighting).
   * evidence.ts `existenceScore` reads it; absent in tiles of older versions.
   */
  seenShare?: number;
  /**
   * How far the drives since the tile's previous version place it from where the drives before
   * placed it, metres (recent-shift.ts recentShiftM); absent without a previous version or with too
   * few drives on either side. What `moved` is judged on (changes.ts).
   */
  recentShiftM?: number;
  /**
   * Of the supporting drives, those with observations since the tile's previous version (its
   * newest sighting); absent without a previous version. New paint beside old (changes.ts) is
   * what mostly recent drives saw.
   */
  recentDrives?: number;
  /**
   * Lines: part of this line was re-placed where the drives after this time put it (a stretch
   * repainted aside, recent-shift.ts movedStretches), Unix ms. The next version tests the same
   * split again, so one or two drives since then cannot take the line back to the old paint that
   * the earlier drives still outnumber.
   */
  movedAfterUnixMs?: number;
}

/**
 * A crosswalk is a Polygon (one outer ring), or where it crosses the antimeridian a MultiPolygon
 * of its two sides, each within [-180, 180] deg (RFC 7946 section 3.1.9; `areaRing` joins them
 * again).
 */
export type MapGeometry =
  | { type: 'LineString'; coordinates: Position[] }
  | { type: 'Point'; coordinates: Position }
  | { type: 'Polygon'; coordinates: Position[][] }
  | { type: 'MultiPolygon'; coordinates: Position[][][] };

/** An area (a crosswalk): a Polygon, or a MultiPolygon across the antimeridian. */
export type AreaGeometry = Extract<MapGeometry, { type: 'Polygon' | 'MultiPolygon' }>;

export function isAreaGeometry(g: MapGeometry): g is AreaGeometry {
  return g.type === 'Polygon' || g.type === 'MultiPolygon';
}

/**
 * The outer ring of an area as one closed ring, longitudes continuous and within 180 deg of
 * `refLngDeg` (default: its first vertex's; a MultiPolygon's sides spliced back together along
 * the antimeridian).
 */
export function areaRing(g: AreaGeometry, refLngDeg: number = firstPosition(g)[0]): Position[] {
  const parts = g.type === 'Polygon' ? [g.coordinates[0] ?? []] : g.coordinates.map((p) => p[0] ?? []);
  return joinAntimeridianParts(parts, refLngDeg);
}

/** The first position of a geometry (an area's: its first ring's first vertex). */
export function firstPosition(g: MapGeometry): Position {
  if (g.type === 'Point') return g.coordinates;
  if (g.type === 'LineString') return g.coordinates[0]!;
  if (g.type === 'Polygon') return g.coordinates[0]![0]!;
  return g.coordinates[0]![0]![0]!;
}

export interface MapFeature {
  type: 'Feature';
  id: string;
  geometry: MapGeometry;
  properties: FeatureProperties;
}

export interface TileFeatureCollection {
  type: 'FeatureCollection';
  /** fleetmap extension members (RFC 7946 section 6.1 allows foreign members). */
  tile: string;
  version: number;
  features: MapFeature[];
}

/** A degree rounded as published: 1e-8 deg (~1 mm). */
export const round8 = (v: number): number => Math.round(v * 1e8) / 1e8;

/** Geometries of one primitive inside the tile (a line may enter and leave more than once). */
export function clipToTile(cls: PrimitiveClass, points: readonly XY[], frame: LocalFrame, tile: TileId, bounds: LngLatBounds, minLineM: number): MapGeometry[] {
  const shape = CLASS_GEOMETRY[cls];
  if (shape === 'point') {
    const q = frame.toLngLat(points[0]!);
    const p: Position = [q.lng, q.lat];
    return tileKey(tileOf({ lng: p[0], lat: p[1] }, tile.z)) === tileKey(tile) ? [{ type: 'Point', coordinates: [round8(p[0]), round8(p[1])] }] : [];
  }
  // Longitudes as seen from the tile's centre, so a line crossing the antimeridian next to the
  // tile runs on (181 deg rather than -179) and is clipped at the tile's edge like any other; a
  // crosswalk (published whole) across it is cut there into a MultiPolygon of its two sides.
  const centreLng = (bounds.west + bounds.east) / 2;
  const ll: Position[] = points.map((p) => {
    const q = frame.toLngLat(p);
    return [lngNearDeg(q.lng, centreLng), q.lat];
  });
  if (shape === 'polygon') {
    // A crosswalk is one object: published whole by the tile that holds its centroid.
    if (ll.length < 3) return [];
    const [cx, cy] = points.reduce((a, q) => [a[0] + q[0] / points.length, a[1] + q[1] / points.length], [0, 0]);
    const c = frame.toLngLat([cx, cy]);
    if (tileKey(tileOf(c, tile.z)) !== tileKey(tile)) return [];
    const closed = ll.map(([x, y]) => [round8(x), round8(y)] as Position);
    closed.push([closed[0]![0], closed[0]![1]]);
    const parts = splitRingAtAntimeridian(closed).map((r) => r.map(([x, y]) => [round8(x), round8(y)] as Position));
    if (parts.length === 1) return [{ type: 'Polygon', coordinates: [parts[0]!] }];
    return [{ type: 'MultiPolygon', coordinates: parts.map((r) => [r]) }];
  }
  const mPerLat = 111_320;
  const mPerLng = 111_320 * Math.cos((frame.origin.lat * Math.PI) / 180);
  return clipLine(ll, bounds)
    .map((run) => run.map(([x, y]) => [round8(x), round8(y)] as Position))
    .filter((run) => {
      let len = 0;
      for (let i = 1; i < run.length; i++) len += Math.hypot((run[i]![0] - run[i - 1]![0]) * mPerLng, (run[i]![1] - run[i - 1]![1]) * mPerLat);
      return run.length >= 2 && len >= minLineM;
    })
    .map((coordinates) => ({ type: 'LineString' as const, coordinates }));
}

/**
 * `clipPolyline`, keeping a closed line (last vertex = first) whole across its seam: when it
 * leaves the tile, the run that ends on the seam and the run that starts there are one piece
 * (joined, last run first); a loop wholly inside stays one closed run.
 */
export function clipLine(pts: readonly Position[], b: LngLatBounds): Position[][] {
  const runs = clipPolyline(pts, b);
  const n = pts.length;
  if (runs.length < 2 || n < 4 || pts[0]![0] !== pts[n - 1]![0] || pts[0]![1] !== pts[n - 1]![1]) return runs;
  const first = runs[0]!;
  const last = runs[runs.length - 1]!;
  const f0 = first[0]!;
  const lz = last[last.length - 1]!;
  // Both touch the seam only when they hold its vertex unclipped (clipSegment copies it).
  if (f0[0] !== pts[0]![0] || f0[1] !== pts[0]![1] || lz[0] !== pts[0]![0] || lz[1] !== pts[0]![1]) return runs;
  return [[...last, ...first.slice(1)], ...runs.slice(1, -1)];
}

/** Liang-Barsky per segment; consecutive inside parts join into runs. */
export function clipPolyline(pts: readonly Position[], b: LngLatBounds): Position[][] {
  const runs: Position[][] = [];
  let cur: Position[] | undefined;
  for (let i = 1; i < pts.length; i++) {
    const a = pts[i - 1]!;
    const c = pts[i]!;
    const seg = clipSegment(a, c, b);
    if (!seg) {
      cur = undefined;
      continue;
    }
    const [p, q, enteredInside, leftInside] = seg;
    if (!cur || !enteredInside) {
      cur = [p];
      runs.push(cur);
    }
    cur.push(q);
    if (!leftInside) cur = undefined;
  }
  return runs;
}

/** Clipped segment, whether it starts at a (unclipped) and ends at c (unclipped). */
function clipSegment(a: Position, c: Position, b: LngLatBounds): [Position, Position, boolean, boolean] | undefined {
  const dx = c[0] - a[0];
  const dy = c[1] - a[1];
  let t0 = 0;
  let t1 = 1;
  const edges: Array<[number, number]> = [
    [-dx, a[0] - b.west],
    [dx, b.east - a[0]],
    [-dy, a[1] - b.south],
    [dy, b.north - a[1]],
  ];
  for (const [pp, qq] of edges) {
    if (pp === 0) {
      if (qq < 0) return undefined;
      continue;
    }
    const r = qq / pp;
    if (pp < 0) {
      if (r > t1) return undefined;
      if (r > t0) t0 = r;
    } else {
      if (r < t0) return undefined;
      if (r < t1) t1 = r;
    }
  }
  if (t1 <= t0) return undefined;
  const p: Position = t0 === 0 ? [a[0], a[1]] : [a[0] + dx * t0, a[1] + dy * t0];
  const q: Position = t1 === 1 ? [c[0], c[1]] : [a[0] + dx * t1, a[1] + dy * t1];
  return [p, q, t0 === 0, t1 === 1];
}

/** Vertices of a feature's geometry in a local frame (polygon rings without the closing vertex). */
/** The newest sighting among features (largest lastSeenUnixMs), or null when there are none. */
export function newestSighting(features: readonly MapFeature[]): number | null {
  let newest: number | null = null;
  for (const f of features) if (newest === null || f.properties.lastSeenUnixMs > newest) newest = f.properties.lastSeenUnixMs;
  return newest;
}

export function featurePoints(f: MapFeature, frame: LocalFrame): XY[] {
  const g = f.geometry;
  const to = (c: Position): XY => frame.toLocal({ lng: c[0], lat: c[1] });
  if (g.type === 'Point') return [to(g.coordinates)];
  if (g.type === 'LineString') return g.coordinates.map(to);
  const ring = areaRing(g, frame.origin.lng).map(to);
  if (ring.length > 3) ring.pop();
  return ring;
}

/** Reads a published tile back, refusing anything that is not one. */
export function parseTileCollection(buf: Uint8Array, where: string): TileFeatureCollection {
  const fc = JSON.parse(Buffer.from(buf).toString('utf8')) as Partial<TileFeatureCollection>;
  if (fc.type !== 'FeatureCollection' || !Array.isArray(fc.features)) throw new Error(`${where} is not a GeoJSON FeatureCollection`);
  return fc as TileFeatureCollection;
}
