/**
 * The one table from Lanelet2 linestring tags (`type`/`subtype`) to fleetmap primitive classes.
 *
 * - line_thin / line_thick: subtype solid, solid_solid -> lane_divider solid; dashed,
 *   dashed_dashed -> dashed; solid_dashed, dashed_solid -> mixed. Without a known subtype the
 *   paint is unknown: not a primitive (the Karlsruhe README's totals count them out too).
 * - curbstone (any subtype) -> road_boundary curb; road_border -> road_border;
 *   guard_rail, wall, fence -> barrier.
 * - stop_line -> stop_line; drawn as its outline (a closed ring) it is reduced to its centre line.
 *   A `ref_line` of a traffic_light, right_of_way or all_way_stop regulatory element (or of a
 *   traffic_sign element for a stop sign) is the stop line too when it is painted but tagged as
 *   a plain line (line_thin / line_thick, or no type): `refLineStopLine`. A `virtual` ref_line
 *   is no paint and stays unmapped.
 * - pedestrian_marking, zebra_marking -> crosswalk marking: side lines, lanelet bounds or single
 *   stripes, made into one polygon per crossing by crosswalks.ts (a single line is not an area).
 * - traffic_light, traffic_sign -> one point each (the linestring's midpoint); a sign's
 *   subtype is its sign code.
 * - virtual and everything else (bike_marking, zig-zag, keepout, rail, ...) -> not a primitive:
 *   virtual lines are never observable, and the rest are classes fleetmap does not map.
 */
import type { BoundaryKind, DividerStyle, PrimitiveClass } from '../shared/schema.ts';

export type WayMapping =
  | { as: 'polyline'; cls: PrimitiveClass; style?: DividerStyle; kind?: BoundaryKind }
  | { as: 'point'; cls: 'traffic_sign' | 'traffic_light'; signCode?: string }
  | { as: 'crosswalk_marking' }
  | { as: 'none' };

const DIVIDER_STYLE_BY_SUBTYPE: Record<string, DividerStyle> = {
  solid: 'solid',
  solid_solid: 'solid',
  dashed: 'dashed',
  dashed_dashed: 'dashed',
  solid_dashed: 'mixed',
  dashed_solid: 'mixed',
};

const BOUNDARY_KIND_BY_TYPE: Record<string, BoundaryKind> = {
  curbstone: 'curb',
  road_border: 'road_border',
  guard_rail: 'barrier',
  jersey_barrier: 'barrier',
  wall: 'barrier',
  fence: 'barrier',
};

const CROSSWALK_MARKING_TYPES = new Set(['pedestrian_marking', 'zebra_marking']);

/** How a linestring with these `type`/`subtype` tags enters the ground truth. */
export function mapWayTags(type: string, subtype: string): WayMapping {
  if (type === 'line_thin' || type === 'line_thick') {
    const style = DIVIDER_STYLE_BY_SUBTYPE[subtype];
    return style ? { as: 'polyline', cls: 'lane_divider', style } : { as: 'none' };
  }
  const kind = BOUNDARY_KIND_BY_TYPE[type];
  if (kind) return { as: 'polyline', cls: 'road_boundary', kind };
  if (type === 'stop_line') return { as: 'polyline', cls: 'stop_line' };
  if (CROSSWALK_MARKING_TYPES.has(type)) return { as: 'crosswalk_marking' };
  if (type === 'traffic_light') return { as: 'point', cls: 'traffic_light' };
  if (type === 'traffic_sign') return { as: 'point', cls: 'traffic_sign', signCode: subtype };
  return { as: 'none' };
}

/** Regulatory element subtypes whose `ref_line` is where vehicles stop. */
const STOP_REF_LINE_SUBTYPES = new Set(['traffic_light', 'right_of_way', 'all_way_stop']);

/**
 * Stop-sign codes (`traffic_sign` subtypes) whose traffic_sign element's `ref_line` is a stop
 * line, lower case: Lanelet2 writes a sign as its country's ISO 3166 code and national number,
 * all tags lower case (LinestringTagging), and maps in the wild write them in any case, so codes
 * are compared case-insensitively. Germany 206, USA (MUTCD) R1-1, Japan 330-A, UK 601.1,
 * France AB4, the Netherlands B7, and a plain "stop".
 */
export const STOP_SIGN_CODES = new Set(['de206', 'usr1-1', 'jp330-a', 'jp330a', 'gb601.1', 'frab4', 'nlb7', 'stop']);

/** Whether a sign code names a stop sign (STOP_SIGN_CODES, any case, `:` between country and number allowed). */
export function isStopSignCode(code: string): boolean {
  return STOP_SIGN_CODES.has(code.toLowerCase().replace(':', ''));
}

/** Linestring types a stop line referenced as `ref_line` may carry and still be paint. */
const PAINTED_REF_LINE_TYPES = new Set(['stop_line', 'line_thin', 'line_thick', '']);

/**
 * Whether a way used as `ref_line` by a regulatory element is a painted stop line.
 * `regSubtype` is the element's subtype, `refersSignCodes` the subtypes of its `refers` signs.
 */
export function refLineStopLine(regSubtype: string, refersSignCodes: readonly string[], wayType: string): boolean {
  if (!PAINTED_REF_LINE_TYPES.has(wayType)) return false;
  if (STOP_REF_LINE_SUBTYPES.has(regSubtype)) return true;
  return regSubtype === 'traffic_sign' && refersSignCodes.some(isStopSignCode);
}

/** Lanelet subtypes motor vehicles drive on (Lanelet2's vehicle traffic rules). */
const VEHICLE_LANELET_SUBTYPES = new Set(['road', 'highway', 'play_street']);

/** Lanelet subtypes that are two-way unless tagged otherwise. */
const TWO_WAY_BY_DEFAULT = new Set(['walkway', 'crosswalk', 'stairs', 'play_street', 'exit']);

/**
 * Whether the fleet's cars may use a lanelet. Participant tags override the subtype
 * (LaneletAndAreaTagging, "Overriding"): once any `participant:*` tag is given, only the listed
 * participants may use it, so a car may when `participant:vehicle` or `participant:vehicle:car`
 * says yes (a bus and taxi lane, `participant:vehicle:bus=yes`, is not for them).
 */
export function isVehicleLanelet(tags: Record<string, string>): boolean {
  const yes = (v: string | undefined): boolean => v === 'yes' || v === 'true';
  const car = tags['participant:vehicle:car'];
  if (car !== undefined) return yes(car);
  const participant = tags['participant:vehicle'];
  if (participant !== undefined) return yes(participant);
  if (Object.keys(tags).some((k) => k.startsWith('participant:'))) return false;
  return VEHICLE_LANELET_SUBTYPES.has(tags.subtype ?? 'road');
}

/** Lanelet2's `one_way` with its per-subtype default. */
export function isOneWayLanelet(tags: Record<string, string>): boolean {
  const v = tags.one_way;
  if (v === 'yes' || v === 'true') return true;
  if (v === 'no' || v === 'false') return false;
  return !TWO_WAY_BY_DEFAULT.has(tags.subtype ?? 'road');
}
