/**
 * Paint and street furniture at a junction approach (a `LegEnd`): stop lines, crosswalks,
 * traffic signs and lights beside the road, and the Lanelet2 regulatory elements that tie a
 * light or sign to its stop line and lanelets.
 *
 * Crosswalks and stop lines can be drawn in each convention Lanelet2 maps use (`PaintConventions`),
 * so the loader is tested on all of them:
 * - crosswalks 'side_lines': two free `pedestrian_marking` lines (the default);
 *   'stripes': one closed `zebra_marking` way per zebra bar;
 *   'lanelet': a crosswalk lanelet (`subtype=crosswalk`) whose bounds are the two side lines;
 *   'lanelet_stripes': a crosswalk lanelet with `virtual` bounds, and the bars inside it;
 * - stop lines 'per_lane': one `stop_line` across each incoming lane, neighbours touching (the
 *   default); 'spanning': one `stop_line` across all incoming lanes.
 */
import { add, dist, scale, sub, unit, type P } from './geometry.ts';
import type { OsmDoc } from './osm-doc.ts';
import type { LegEnd } from './roads.ts';

export const CROSSWALK_STYLES = ['side_lines', 'stripes', 'lanelet', 'lanelet_stripes'] as const;
export type CrosswalkStyle = (typeof CROSSWALK_STYLES)[number];
export const STOP_LINE_STYLES = ['per_lane', 'spanning'] as const;
export type StopLineStyle = (typeof STOP_LINE_STYLES)[number];

/** How crossings and stop lines are drawn. */
export interface PaintConventions {
  crosswalks: CrosswalkStyle;
  stopLines: StopLineStyle;
}

export const DEFAULT_PAINT: PaintConventions = { crosswalks: 'side_lines', stopLines: 'per_lane' };

export interface FurnitureOptions {
  /** Stop line this far before the lane's end, metres. */
  stopLineBackM: number;
  /** Crosswalk lines this far beyond the road's end (towards the junction), metres. */
  crosswalkNearM: number;
  crosswalkFarM: number;
  /** Signs and lights stand this far outside the road edge, metres. */
  sideOffsetM: number;
  /** Width of a sign plate / light housing, metres. */
  plateWidthM: number;
  /** Width of one zebra bar and the distance between bar centres, metres. */
  stripeWidthM: number;
  stripePitchM: number;
}

export const DEFAULT_FURNITURE: FurnitureOptions = {
  stopLineBackM: 1, // m
  crosswalkNearM: 1.5, // m
  crosswalkFarM: 5.5, // m
  sideOffsetM: 1.5, // m
  plateWidthM: 0.6, // m
  stripeWidthM: 0.5, // m
  stripePitchM: 1.0, // m
};

/** Right of the travel direction into the junction (= -outward). */
function rightOfIncoming(leg: LegEnd): P {
  // travel d = -outward; right of d = (d.y, -d.x) = (-outward.y, outward.x)
  return [-leg.outward[1], leg.outward[0]];
}

/**
 * Stop lines before the incoming lanes: one across each lane (innermost lane first; neighbours
 * touch end to end) or one across them all. Returns their way ids.
 */
export function stopLines(doc: OsmDoc, leg: LegEnd, style: StopLineStyle = 'per_lane', o: FurnitureOptions = DEFAULT_FURNITURE): number[] {
  const back = scale(leg.outward, o.stopLineBackM);
  if (style === 'spanning') {
    const inner = leg.incoming[0]!;
    const outer = leg.incoming[leg.incoming.length - 1]!;
    return [doc.line([add(inner.left, back), add(outer.right, back)], { type: 'stop_line' })];
  }
  return leg.incoming.map((lane) => doc.line([add(lane.left, back), add(lane.right, back)], { type: 'stop_line' }));
}

/** One crosswalk across the whole carriageway just in front of the road's end, drawn in `style`. */
export function crosswalk(doc: OsmDoc, leg: LegEnd, style: CrosswalkStyle = 'side_lines', o: FurnitureOptions = DEFAULT_FURNITURE): void {
  const side = (d: number, tags: Record<string, string>): number => {
    const shift = scale(leg.outward, -d);
    return doc.line([add(leg.leftEdge.xy, shift), add(leg.rightEdge.xy, shift)], tags);
  };
  if (style === 'side_lines') {
    side(o.crosswalkNearM, { type: 'pedestrian_marking' });
    side(o.crosswalkFarM, { type: 'pedestrian_marking' });
    return;
  }
  if (style === 'lanelet' || style === 'lanelet_stripes') {
    const tags = style === 'lanelet' ? { type: 'pedestrian_marking' } : { type: 'virtual' };
    const near = side(o.crosswalkNearM, tags);
    const far = side(o.crosswalkFarM, tags);
    doc.lanelet(near, far, { subtype: 'crosswalk', one_way: 'no' });
  }
  if (style === 'stripes' || style === 'lanelet_stripes') zebraStripes(doc, leg, o);
}

/** Closed `zebra_marking` ways, one per bar, centred across the carriageway between the crosswalk's sides. */
function zebraStripes(doc: OsmDoc, leg: LegEnd, o: FurnitureOptions): void {
  const across = unit(sub(leg.rightEdge.xy, leg.leftEdge.xy));
  const widthM = dist(leg.leftEdge.xy, leg.rightEdge.xy);
  const count = Math.floor((widthM - o.stripeWidthM) / o.stripePitchM) + 1;
  const marginM = (widthM - (count - 1) * o.stripePitchM) / 2;
  const near = scale(leg.outward, -o.crosswalkNearM);
  const far = scale(leg.outward, -o.crosswalkFarM);
  for (let k = 0; k < count; k++) {
    const c = add(leg.leftEdge.xy, scale(across, marginM + k * o.stripePitchM));
    const a = add(c, scale(across, -o.stripeWidthM / 2));
    const b = add(c, scale(across, o.stripeWidthM / 2));
    const ids = doc.nodesOf([add(a, near), add(b, near), add(b, far), add(a, far)]);
    doc.way([...ids, ids[0]!], { type: 'zebra_marking' });
  }
}

/** A sign plate (or light) beside the incoming lanes' right edge, `backM` before the road's end. */
export function besideApproach(doc: OsmDoc, leg: LegEnd, backM: number, tags: Record<string, string>, o: FurnitureOptions = DEFAULT_FURNITURE): number {
  const right = rightOfIncoming(leg);
  const a = add(add(leg.rightEdge.xy, scale(leg.outward, backM)), scale(right, o.sideOffsetM));
  return doc.line([a, add(a, scale(right, o.plateWidthM))], tags);
}

/** A regulatory element (traffic_light / traffic_sign) referring to `refers`, with stop lines, added to the incoming lanelets. */
export function regulatoryElement(doc: OsmDoc, leg: LegEnd, subtype: string, refers: number[], refLines: number[]): void {
  const id = doc.relation(
    [...refers.map((ref) => ({ type: 'way' as const, ref, role: 'refers' })), ...refLines.map((ref) => ({ type: 'way' as const, ref, role: 'ref_line' }))],
    { type: 'regulatory_element', subtype },
  );
  for (const lanelet of leg.incomingLaneletIds) doc.addMember(lanelet, { type: 'relation', ref: id, role: 'regulatory_element' });
}
