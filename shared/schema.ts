/**
 * The map-primitive model shared by the edge, the cloud, the simulation and the evaluation.
 *
 * Coordinates: every geometry here is in a *local metric frame* (east, north) in metres,
 * written as `[eastM, northM]` pairs. Which frame is always stated by the owner of the data:
 * a tile's local frame (see tiles.ts) or a map-wide frame (see geo.ts `LocalFrame`).
 * WGS84 positions are always objects `{ lng, lat }` in degrees, never bare pairs.
 */

/** Every primitive class fleetmap maps. Order is part of the wire format (class codes). */
export const PRIMITIVE_CLASSES = [
  'lane_divider',
  'road_boundary',
  'stop_line',
  'crosswalk',
  'traffic_sign',
  'traffic_light',
] as const;
export type PrimitiveClass = (typeof PRIMITIVE_CLASSES)[number];

/** Painted style of a lane divider. `mixed` = solid on one side, dashed on the other. */
export const DIVIDER_STYLES = ['solid', 'dashed', 'mixed'] as const;
export type DividerStyle = (typeof DIVIDER_STYLES)[number];

/** What bounds the road: a kerb, the edge of the drivable surface, or a built barrier. */
export const BOUNDARY_KINDS = ['curb', 'road_border', 'barrier'] as const;
export type BoundaryKind = (typeof BOUNDARY_KINDS)[number];

/** How each class is shaped. */
export const CLASS_GEOMETRY: Record<PrimitiveClass, 'polyline' | 'polygon' | 'point'> = {
  lane_divider: 'polyline',
  road_boundary: 'polyline',
  stop_line: 'polyline',
  crosswalk: 'polygon',
  traffic_sign: 'point',
  traffic_light: 'point',
};

/** A point or vertex in a local metric frame: [eastM, northM]. */
export type XY = readonly [number, number];

/**
 * One map primitive in a local metric frame.
 * - polyline classes: `points` are the vertices in order (>= 2).
 * - crosswalk: `points` is the outer ring, not closed (first vertex not repeated), >= 3.
 * - point classes: `points` has exactly one entry.
 */
export interface Primitive {
  cls: PrimitiveClass;
  points: XY[];
  /** lane_divider only. */
  style?: DividerStyle;
  /** road_boundary only. */
  kind?: BoundaryKind;
  /** traffic_sign only: the sign code, e.g. "de205" (free text, may be empty). */
  signCode?: string;
}

/** A primitive with an identity and a confidence, as produced by perception or the merge. */
export interface ScoredPrimitive extends Primitive {
  /** Confidence in [0, 1]. */
  score: number;
}

export function isPrimitiveClass(v: unknown): v is PrimitiveClass {
  return typeof v === 'string' && (PRIMITIVE_CLASSES as readonly string[]).includes(v);
}

export function classCode(cls: PrimitiveClass): number {
  return PRIMITIVE_CLASSES.indexOf(cls);
}

export function classFromCode(code: number): PrimitiveClass {
  const cls = PRIMITIVE_CLASSES[code];
  if (cls === undefined) throw new RangeError(`unknown primitive class code ${code}`);
  return cls;
}
