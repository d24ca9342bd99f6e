/**
 * A single-lane roundabout (counter-clockwise in right-hand traffic): a ring of lanelets cut at
 * every entry and exit, the island kerb as the left bound, the outer kerb as the right bound
 * (virtual across each leg's mouth), entry and exit lanelets joining the legs' lanes, corner
 * kerbs that flare into the ring (the outer lanes' right bounds), yield and roundabout signs
 * and crosswalks on the legs.
 */
import type { Rng } from '../rng.ts';
import { add, arc, bezier, polar, scale, type P } from './geometry.ts';
import { besideApproach, crosswalk, DEFAULT_PAINT, regulatoryElement, type PaintConventions } from './furniture.ts';
import type { JunctionSpec } from './network.ts';
import type { OsmDoc } from './osm-doc.ts';
import { edgeTags, type LegEnd } from './roads.ts';

/** Roads stop this far outside the ring's outer edge, metres. */
const MOUTH_M = 8;

export function roundaboutSetbackM(spec: JunctionSpec): number {
  return spec.islandRadiusM + spec.ringWidthM + MOUTH_M;
}

interface Cut {
  angle: number;
  leg: number;
  kind: 'entry' | 'exit';
  innerNode: number;
  outerNode: number;
}

export function buildRoundabout(
  doc: OsmDoc,
  spec: JunctionSpec,
  legs: readonly LegEnd[],
  rng: Rng,
  paint: PaintConventions = DEFAULT_PAINT,
): { ringLengthM: number; connectorLengthM: number; crosswalks: number } {
  const c = spec.xy;
  const ri = spec.islandRadiusM;
  const ro = ri + spec.ringWidthM;
  const tangent = (a: number): P => [-Math.sin(a), Math.cos(a)];
  const cuts: Cut[] = [];
  legs.forEach((leg, li) => {
    const theta = Math.atan2(leg.outward[1], leg.outward[0]);
    const w = leg.road.laneWidthM;
    const dEntry = Math.asin(Math.min(0.9, (leg.incoming.length * w + 1) / ro));
    const dExit = Math.asin(Math.min(0.9, (leg.outgoing.length * w + 1) / ro));
    for (const [kind, angle] of [['entry', theta + dEntry], ['exit', theta - dExit]] as const) {
      const a = normAngle(angle);
      cuts.push({ angle: a, leg: li, kind, innerNode: doc.node(add(c, polar(ri, a))), outerNode: doc.node(add(c, polar(ro, a))) });
    }
  });
  cuts.sort((p, q) => p.angle - q.angle);

  // Ring segments from each cut to the next, counter-clockwise.
  let ringLengthM = 0;
  for (let i = 0; i < cuts.length; i++) {
    const a = cuts[i]!;
    const b = cuts[(i + 1) % cuts.length]!;
    const a1 = b.angle + (i + 1 === cuts.length ? 2 * Math.PI : 0);
    const inner = arc(c, ri, a.angle, a1);
    const outer = arc(c, ro, a.angle, a1);
    const island = doc.way([a.innerNode, ...doc.nodesOf(inner.slice(1, -1)), b.innerNode], { type: 'curbstone', subtype: 'high' });
    const mouth = a.kind === 'exit' && b.kind === 'entry' && a.leg === b.leg;
    const edge = edgeTags(legs[a.leg]!.edge);
    const outerWay = doc.way([a.outerNode, ...doc.nodesOf(outer.slice(1, -1)), b.outerNode], mouth ? { type: 'virtual' } : edge);
    doc.lanelet(island, outerWay, { location: 'urban', speed_limit: '30' });
    ringLengthM += ((ri + ro) / 2) * (a1 - a.angle);
  }

  let connectorLengthM = 0;
  let crosswalks = 0;
  legs.forEach((leg, li) => {
    const entry = cuts.find((k) => k.leg === li && k.kind === 'entry')!;
    const exit = cuts.find((k) => k.leg === li && k.kind === 'exit')!;
    const inward = scale(leg.outward, -1);
    const innerXY = (k: Cut): P => add(c, polar(ri, k.angle));
    const outerXY = (k: Cut): P => add(c, polar(ro, k.angle));
    const edge = edgeTags(leg.edge);
    // Flared kerbs into and out of the ring.
    const inKerbPts = bezier(leg.rightEdge.xy, inward, outerXY(entry), tangent(entry.angle));
    const inKerb = doc.way([leg.rightEdge.node, ...doc.nodesOf(inKerbPts.slice(1, -1)), entry.outerNode], edge);
    const outKerbPts = bezier(outerXY(exit), tangent(exit.angle), leg.leftEdge.xy, leg.outward);
    const outKerb = doc.way([exit.outerNode, ...doc.nodesOf(outKerbPts.slice(1, -1)), leg.leftEdge.node], edge);

    leg.incoming.forEach((lane, k) => {
      const left = bezier(lane.left, inward, innerXY(entry), tangent(entry.angle));
      const leftWay = doc.way([lane.leftNode, ...doc.nodesOf(left.slice(1, -1)), entry.innerNode], { type: 'virtual' });
      const rightWay =
        k === leg.incoming.length - 1
          ? inKerb
          : doc.way([lane.rightNode, ...doc.nodesOf(bezier(lane.right, inward, outerXY(entry), tangent(entry.angle)).slice(1, -1)), entry.outerNode], { type: 'virtual' });
      doc.lanelet(leftWay, rightWay, { turn_direction: 'right' });
      connectorLengthM += polyLen(left);
    });
    leg.outgoing.forEach((lane, k) => {
      const left = bezier(innerXY(exit), tangent(exit.angle), lane.left, leg.outward);
      const leftWay = doc.way([exit.innerNode, ...doc.nodesOf(left.slice(1, -1)), lane.leftNode], { type: 'virtual' });
      const rightWay =
        k === leg.outgoing.length - 1
          ? outKerb
          : doc.way([exit.outerNode, ...doc.nodesOf(bezier(outerXY(exit), tangent(exit.angle), lane.right, leg.outward).slice(1, -1)), lane.rightNode], { type: 'virtual' });
      doc.lanelet(leftWay, rightWay, { turn_direction: 'right' });
      connectorLengthM += polyLen(left);
    });

    if (leg.incoming.length > 0) {
      const yieldSign = besideApproach(doc, leg, 2, { type: 'traffic_sign', subtype: 'de205' });
      const roundSign = besideApproach(doc, leg, 3.5, { type: 'traffic_sign', subtype: 'de215' });
      regulatoryElement(doc, leg, 'traffic_sign', [yieldSign, roundSign], []);
    }
    if (spec.crosswalks && rng.chance(0.75)) {
      crosswalk(doc, leg, paint.crosswalks);
      crosswalks++;
    }
  });
  return { ringLengthM, connectorLengthM, crosswalks };
}

function normAngle(a: number): number {
  const t = a % (2 * Math.PI);
  return t < 0 ? t + 2 * Math.PI : t;
}

function polyLen(pts: readonly P[]): number {
  let s = 0;
  for (let i = 1; i < pts.length; i++) s += Math.hypot(pts[i]![0] - pts[i - 1]![0], pts[i]![1] - pts[i - 1]![1]);
  return s;
}
