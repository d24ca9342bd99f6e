/**
 * The map-primitive model shared by the edge, the cloud, the simulation and the evaluation.
 *
 * Coordinates: every geometry here is in a *local metric frame* (east, north) in metres,
 * written as `[eastM, northM]` pairs. Which frame is always stated by the owner of the data:
 * a tile's local frame (see tiles.ts) or a map-wide frame (see geo.ts `LocalFrame`).
 * WGS84 positions are always objects `{ lng, lat }` in degrees, never bare pairs.
 */

/** Every primitive class fleetmap maps. Wire codes are CLASS_CODES below, not positions here. */
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

/**
 * Wire codes (docs/WIRE.md): explicit numbers, never array positions, so reordering or adding a
 * name above cannot change what a stored batch means. A new class gets a new number; a code is
 * never reused.
 */
export const CLASS_CODES: Readonly<Record<PrimitiveClass, number>> = {
  lane_divider: 0,
  road_boundary: 1,
  stop_line: 2,
  crosswalk: 3,
  traffic_sign: 4,
  traffic_light: 5,
};
export const DIVIDER_STYLE_CODES: Readonly<Record<DividerStyle, number>> = { solid: 0, dashed: 1, mixed: 2 };
export const BOUNDARY_KIND_CODES: Readonly<Record<BoundaryKind, number>> = { curb: 0, road_border: 1, barrier: 2 };

const invert = <K extends string>(t: Readonly<Record<K, number>>): ReadonlyMap<number, K> => new Map(Object.entries(t).map(([k, v]) => [v as number, k as K]));
const CLASS_BY_CODE = invert(CLASS_CODES);
const STYLE_BY_CODE = invert(DIVIDER_STYLE_CODES);
const KIND_BY_CODE = invert(BOUNDARY_KIND_CODES);

export function classCode(cls: PrimitiveClass): number {
  return CLASS_CODES[cls];
}

export function classFromCode(code: number): PrimitiveClass {
  const cls = CLASS_BY_CODE.get(code);
  if (cls === undefined) throw new RangeError(`unknown primitive class code ${code}`);
  return cls;
}

/** The class with this wire code, or undefined. */
export const classOfCode = (code: number): PrimitiveClass | undefined => CLASS_BY_CODE.get(code);
/** The divider style with this wire code, or undefined. */
export const dividerStyleOfCode = (code: number): DividerStyle | undefined => STYLE_BY_CODE.get(code);
/** The boundary kind with this wire code, or undefined. */
export const boundaryKindOfCode = (code: number): BoundaryKind | undefined => KIND_BY_CODE.get(code);
