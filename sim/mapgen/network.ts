/**
 * The abstract road network a layout describes before any Lanelet2 element exists: junctions
 * (plain or roundabout) at positions in metres, and roads between them with their shape, lane
 * counts and paint. Geometry is drawn for RIGHT-hand traffic; left-hand maps are mirrored when
 * written (osm-doc.ts).
 */
import type { XY } from '../../shared/schema.ts';

export type JunctionControl = 'lights' | 'stop';
export type EdgeKind = 'curbstone' | 'road_border';
export type CentreLine = 'solid' | 'solid_solid' | 'dashed';
export type PaintColour = 'white' | 'yellow';

export interface JunctionSpec {
  id: string;
  /** Centre, metres east/north of the map origin. */
  xy: XY;
  kind: 'junction' | 'roundabout';
  /** Plain junctions: traffic lights or stop signs on every approach (with stop lines). */
  control: JunctionControl;
  /** Roundabouts: radius of the central island, metres. */
  islandRadiusM: number;
  /** Roundabouts: width of the circulating lane, metres. */
  ringWidthM: number;
  /** Paint crosswalks across (some of) the approaches. */
  crosswalks: boolean;
}

export interface RoadSpec {
  id: string;
  /** Junction ids at the two ends; "forward" lanes run from -> to. */
  from: string;
  to: string;
  /** Bend points between the junctions, each rounded with its own radius. */
  via: Array<{ xy: XY; radiusM: number }>;
  lanesForward: number;
  lanesBackward: number;
  laneWidthM: number;
  centre: CentreLine;
  centreColour: PaintColour;
  edge: EdgeKind;
  /** A guard rail beyond both edges. */
  guardRail: boolean;
  /** A speed limit sign (de274) after each end, for traffic leaving the junction. */
  speedLimitSign: boolean;
}

export interface NetworkSpec {
  junctions: JunctionSpec[];
  roads: RoadSpec[];
}

/** Defaults for a junction; layouts override what they need. */
export function junction(id: string, xy: XY, over: Partial<JunctionSpec> = {}): JunctionSpec {
  return { id, xy, kind: 'junction', control: 'stop', islandRadiusM: 14, ringWidthM: 5.5, crosswalks: false, ...over };
}

/** Defaults for a road; layouts override what they need. */
export function road(id: string, from: string, to: string, over: Partial<RoadSpec> = {}): RoadSpec {
  return {
    id,
    from,
    to,
    via: [],
    lanesForward: 1,
    lanesBackward: 1,
    laneWidthM: 3.5,
    centre: 'dashed',
    centreColour: 'white',
    edge: 'curbstone',
    guardRail: false,
    speedLimitSign: false,
    ...over,
  };
}
