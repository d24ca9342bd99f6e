/**
 * One road between two junctions as Lanelet2 elements: its rounded centre line trimmed back
 * from both junctions, one boundary way per lane edge and segment, one lanelet per lane and
 * segment (segments share their end nodes, so lanelets chain as successors), guard rails and
 * speed-limit signs. Returns what the junctions need to connect to: a `LegEnd` at each end.
 *
 * Lateral offsets are measured to the LEFT of the road's from->to direction; forward lanes lie
 * right of the centre line (right-hand traffic), backward lanes left of it.
 */
import type { XY } from '../../shared/schema.ts';
import type { Rng } from '../rng.ts';
import { filletPolyline, insertCuts, leftOf, offsetPolyline, scale, add, slicePolyline, stations, tangents, type P } from './geometry.ts';
import type { EdgeKind, JunctionSpec, RoadSpec } from './network.ts';
import type { OsmDoc, Tags } from './osm-doc.ts';

/** A lane's two bound nodes at the end that touches a junction. */
export interface LaneEndRef {
  leftNode: number;
  rightNode: number;
  left: XY;
  right: XY;
}

/** Where a road meets a junction, seen by traffic driving INTO the junction. */
export interface LegEnd {
  road: RoadSpec;
  junctionId: string;
  /** Unit direction from the junction outward along the road. */
  outward: P;
  /** Centre-line end point. */
  centre: P;
  /** Lanes ending here (their end nodes), innermost (next to the centre line) first. */
  incoming: LaneEndRef[];
  /** Lanes starting here (their start nodes), innermost first. */
  outgoing: LaneEndRef[];
  /** Lanelet ids of the incoming lanes (last segment), innermost first. */
  incomingLaneletIds: number[];
  /** Outer edge of the incoming lanes (on their right) and of the outgoing lanes. */
  rightEdge: { node: number; xy: P };
  leftEdge: { node: number; xy: P };
  edge: EdgeKind;
}

export interface RoadBuild {
  fromEnd: LegEnd;
  toEnd: LegEnd;
  /** Summed length of this road's lanelets (centre line times lanes), metres. */
  laneLengthM: number;
}

export interface RoadBuildOptions {
  /** Longest lanelet along a road, metres. */
  maxSegmentM: number;
  /** Length before a junction where multi-lane dividers turn solid, metres. */
  approachM: number;
  /** Distance of a speed-limit sign after the junction, metres. */
  signDistanceM: number;
  /** Sign or light stands this far outside the road edge, metres. */
  furnitureOffsetM: number;
}

export const DEFAULT_ROAD_BUILD: RoadBuildOptions = {
  maxSegmentM: 90, // m
  approachM: 30, // m
  signDistanceM: 20, // m
  furnitureOffsetM: 1.5, // m
};

export function buildRoad(
  doc: OsmDoc,
  spec: RoadSpec,
  from: JunctionSpec,
  to: JunctionSpec,
  setbackFromM: number,
  setbackToM: number,
  rng: Rng,
  opts: RoadBuildOptions = DEFAULT_ROAD_BUILD,
): RoadBuild {
  const nF = spec.lanesForward;
  const nB = spec.lanesBackward;
  const w = spec.laneWidthM;
  const corners = [{ xy: from.xy, radiusM: 0 }, ...spec.via, { xy: to.xy, radiusM: 0 }];
  const full = filletPolyline(corners, setbackFromM + 5, setbackToM + 5);
  const fullLen = stations(full).at(-1)!;
  const centre = slicePolyline(full, setbackFromM, fullLen - setbackToM);
  const lenM = stations(centre).at(-1)!;
  if (!(lenM > 10)) throw new RangeError(`road ${spec.id}: only ${lenM.toFixed(1)} m left between junctions ${from.id} and ${to.id}`);

  // Cut stations: approach zones at both ends for multi-lane roads, then even pieces.
  const multi = Math.max(nF, nB) > 1 && lenM > 3 * opts.approachM;
  const a0 = multi ? opts.approachM : 0;
  const a1 = multi ? lenM - opts.approachM : lenM;
  const target = rng.uniform(0.6, 1) * opts.maxSegmentM;
  const pieces = Math.max(1, Math.ceil((a1 - a0) / target));
  const cuts: number[] = [0];
  if (multi) cuts.push(a0);
  for (let i = 1; i < pieces; i++) cuts.push(a0 + ((a1 - a0) * i) / pieces);
  if (multi) cuts.push(a1);
  cuts.push(lenM);
  const { pts, cutIndex } = insertCuts(centre, cuts);
  const segments = cutIndex.length - 1;

  // Lines j = 0 (left edge) .. nB + nF (right edge), offset (nB - j) * w.
  const lineCount = nB + nF + 1;
  const lineNodes: number[][] = [];
  const linePts: P[][] = [];
  const wayIds: number[][] = [];
  for (let j = 0; j < lineCount; j++) {
    const lp = offsetPolyline(pts, (nB - j) * w);
    const nodes = doc.nodesOf(lp);
    linePts.push(lp);
    lineNodes.push(nodes);
    const ways: number[] = [];
    for (let s = 0; s < segments; s++) {
      const tags = lineTags(spec, j, s, segments, multi);
      ways.push(doc.way(nodes.slice(cutIndex[s]!, cutIndex[s + 1]! + 1), tags));
    }
    wayIds.push(ways);
  }

  const location = spec.edge === 'curbstone' ? 'urban' : 'nonurban';
  const speed = spec.edge === 'curbstone' ? (Math.max(nF, nB) > 1 ? '60' : '50') : '70';
  const laneletTags: Tags = { location, speed_limit: speed };
  const forwardLast: number[] = [];
  const backwardFirst: number[] = [];
  for (let s = 0; s < segments; s++) {
    for (let k = 0; k < nF; k++) {
      const id = doc.lanelet(wayIds[nB + k]![s]!, wayIds[nB + k + 1]![s]!, laneletTags);
      if (s === segments - 1) forwardLast.push(id);
    }
    for (let k = 0; k < nB; k++) {
      const id = doc.lanelet(wayIds[nB - k]![s]!, wayIds[nB - k - 1]![s]!, laneletTags);
      if (s === 0) backwardFirst.push(id);
    }
  }

  if (spec.guardRail) {
    doc.line(offsetPolyline(pts, nB * w + 1.2), { type: 'guard_rail' });
    doc.line(offsetPolyline(pts, -(nF * w + 1.2)), { type: 'guard_rail' });
  }

  const tan = tangents(pts);
  const last = pts.length - 1;
  const at = (j: number, i: number): { node: number; xy: P } => ({ node: lineNodes[j]![i]!, xy: linePts[j]![i]! });
  const ref = (jl: number, jr: number, i: number): LaneEndRef => ({
    leftNode: lineNodes[jl]![i]!,
    rightNode: lineNodes[jr]![i]!,
    left: linePts[jl]![i]!,
    right: linePts[jr]![i]!,
  });
  const range = (n: number): number[] => Array.from({ length: n }, (_, k) => k);
  const toEnd: LegEnd = {
    road: spec,
    junctionId: to.id,
    outward: scale(tan[last]!, -1),
    centre: pts[last]!,
    incoming: range(nF).map((k) => ref(nB + k, nB + k + 1, last)),
    outgoing: range(nB).map((k) => ref(nB - k, nB - k - 1, last)),
    incomingLaneletIds: forwardLast,
    rightEdge: at(nB + nF, last),
    leftEdge: at(0, last),
    edge: spec.edge,
  };
  const fromEnd: LegEnd = {
    road: spec,
    junctionId: from.id,
    outward: tan[0]!,
    centre: pts[0]!,
    incoming: range(nB).map((k) => ref(nB - k, nB - k - 1, 0)),
    outgoing: range(nF).map((k) => ref(nB + k, nB + k + 1, 0)),
    incomingLaneletIds: backwardFirst,
    rightEdge: at(0, 0),
    leftEdge: at(nB + nF, 0),
    edge: spec.edge,
  };

  if (spec.speedLimitSign && lenM > 3 * opts.signDistanceM) {
    const s = stations(pts);
    const place = (stationM: number, offsetM: number, outwardSign: number): void => {
      const i = s.findIndex((v) => v >= stationM);
      const p = pts[Math.max(0, i)]!;
      const n = leftOf(tan[Math.max(0, i)]!);
      const a = add(p, scale(n, offsetM));
      doc.line([a, add(a, scale(n, 0.6 * outwardSign))], { type: 'traffic_sign', subtype: 'de274', sign_value: speed });
    };
    if (nF > 0) place(opts.signDistanceM, -(nF * w + opts.furnitureOffsetM), -1);
    if (nB > 0) place(lenM - opts.signDistanceM, nB * w + opts.furnitureOffsetM, 1);
  }

  return { fromEnd, toEnd, laneLengthM: lenM * (nF + nB) };
}

function lineTags(spec: RoadSpec, j: number, segment: number, segments: number, multi: boolean): Tags {
  const nB = spec.lanesBackward;
  const nF = spec.lanesForward;
  if (j === 0 || j === nB + nF) return edgeTags(spec.edge);
  if (j === nB) return { type: 'line_thin', subtype: spec.centre, color: spec.centreColour };
  // A divider between lanes of one direction: solid in the approach to a junction.
  const forwardApproach = j > nB && segment === segments - 1;
  const backwardApproach = j < nB && segment === 0;
  const solid = multi && (forwardApproach || backwardApproach);
  return { type: 'line_thin', subtype: solid ? 'solid' : 'dashed', color: 'white' };
}

/** Tags of a road edge way. */
export function edgeTags(kind: EdgeKind): Tags {
  return kind === 'curbstone' ? { type: 'curbstone', subtype: 'high' } : { type: 'road_border' };
}
