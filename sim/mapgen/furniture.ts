/**
 * Paint and street furniture at a junction approach (a `LegEnd`): stop lines per lane,
 * crosswalks as two `pedestrian_marking` lines, traffic signs and lights beside the road, and
 * the Lanelet2 regulatory elements that tie a light or sign to its stop line and lanelets.
 */
import { add, scale, type P } from './geometry.ts';
import type { OsmDoc } from './osm-doc.ts';
import type { LegEnd } from './roads.ts';

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
}

export const DEFAULT_FURNITURE: FurnitureOptions = {
  stopLineBackM: 1, // m
  crosswalkNearM: 1.5, // m
  crosswalkFarM: 5.5, // m
  sideOffsetM: 1.5, // m
  plateWidthM: 0.6, // m
};

/** Right of the travel direction into the junction (= -outward). */
function rightOfIncoming(leg: LegEnd): P {
  // travel d = -outward; right of d = (d.y, -d.x) = (-outward.y, outward.x)
  return [-leg.outward[1], leg.outward[0]];
}

/** One stop line across each incoming lane; returns their way ids, innermost lane first. */
export function stopLines(doc: OsmDoc, leg: LegEnd, o: FurnitureOptions = DEFAULT_FURNITURE): number[] {
  const back = scale(leg.outward, o.stopLineBackM);
  return leg.incoming.map((lane) => doc.line([add(lane.left, back), add(lane.right, back)], { type: 'stop_line' }));
}

/** A crosswalk across the whole carriageway just in front of the road's end. */
export function crosswalk(doc: OsmDoc, leg: LegEnd, o: FurnitureOptions = DEFAULT_FURNITURE): void {
  for (const d of [o.crosswalkNearM, o.crosswalkFarM]) {
    const shift = scale(leg.outward, -d);
    doc.line([add(leg.leftEdge.xy, shift), add(leg.rightEdge.xy, shift)], { type: 'pedestrian_marking' });
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
