/**
 * A plain 3- or 4-way junction: corner kerbs between neighbouring legs, one lanelet per
 * allowed movement (incoming lane -> outgoing lane) with `virtual` bounds (the right-turn
 * lanelet of the outer lane uses the corner kerb as its right bound), stop lines per lane,
 * traffic lights or stop signs with their regulatory elements, and crosswalks.
 *
 * Lane choice (right-hand traffic; mirrored maps turn it into left-hand rules): right turns
 * from the outermost lane into the outermost lane, left turns from the innermost into the
 * innermost, straight on lane by lane; a lane with no movement by that rule takes the
 * straightest movement, so every lane has a successor.
 */
import type { Rng } from '../rng.ts';
import { bezier, scale, turnAngleRad, type P } from './geometry.ts';
import { besideApproach, crosswalk, DEFAULT_PAINT, regulatoryElement, stopLines, type PaintConventions } from './furniture.ts';
import type { JunctionSpec } from './network.ts';
import type { OsmDoc } from './osm-doc.ts';
import { edgeTags, type LaneEndRef, type LegEnd } from './roads.ts';

/** Turns within this angle count as straight on, radians. */
const STRAIGHT_RAD = (35 * Math.PI) / 180;

/** How far from the junction centre the roads must stop, metres. */
export function junctionSetbackM(legs: ReadonlyArray<{ outward: P; halfWidthM: number }>): number {
  const angles = legs.map((l) => Math.atan2(l.outward[1], l.outward[0])).sort((a, b) => a - b);
  let minGap = 2 * Math.PI;
  for (let i = 0; i < angles.length; i++) {
    const next = i + 1 < angles.length ? angles[i + 1]! : angles[0]! + 2 * Math.PI;
    minGap = Math.min(minGap, next - angles[i]!);
  }
  const maxHalf = Math.max(...legs.map((l) => l.halfWidthM));
  const box = maxHalf / Math.tan(Math.min(minGap, (2 * Math.PI) / 3) / 2) + 4;
  return box + 7; // room for a crosswalk in the mouth
}

export function buildJunction(
  doc: OsmDoc,
  spec: JunctionSpec,
  legsIn: readonly LegEnd[],
  rng: Rng,
  paint: PaintConventions = DEFAULT_PAINT,
): { connectorLengthM: number; crosswalks: number; stopLines: number } {
  const legs = [...legsIn].sort((a, b) => Math.atan2(a.outward[1], a.outward[0]) - Math.atan2(b.outward[1], b.outward[0]));
  const n = legs.length;

  // Corner kerbs: leg i's right edge (its counter-clockwise side) to leg i+1's left edge.
  const cornerWay: number[] = [];
  for (let i = 0; i < n; i++) {
    const a = legs[i]!;
    const b = legs[(i + 1) % n]!;
    const pts = bezier(a.rightEdge.xy, scale(a.outward, -1), b.leftEdge.xy, b.outward);
    const inner = doc.nodesOf(pts.slice(1, -1));
    const tags = edgeTags(a.edge === 'curbstone' || b.edge === 'curbstone' ? 'curbstone' : 'road_border');
    cornerWay.push(doc.way([a.rightEdge.node, ...inner, b.leftEdge.node], tags));
  }

  let connectorLengthM = 0;
  for (let i = 0; i < n; i++) {
    const from = legs[i]!;
    const nIn = from.incoming.length;
    const moves: Array<{ to: number; angle: number }> = [];
    for (let j = 0; j < n; j++) {
      if (j === i || legs[j]!.outgoing.length === 0) continue;
      moves.push({ to: j, angle: turnAngleRad(scale(from.outward, -1), legs[j]!.outward) });
    }
    if (moves.length === 0) continue;
    for (let k = 0; k < nIn; k++) {
      const chosen: Array<{ to: number; outLane: number; kind: 'left' | 'right' | 'straight' }> = [];
      for (const m of moves) {
        const nOut = legs[m.to]!.outgoing.length;
        if (Math.abs(m.angle) < STRAIGHT_RAD) chosen.push({ to: m.to, outLane: Math.min(k, nOut - 1), kind: 'straight' });
        else if (m.angle < 0 && k === nIn - 1) chosen.push({ to: m.to, outLane: nOut - 1, kind: 'right' });
        else if (m.angle > 0 && k === 0) chosen.push({ to: m.to, outLane: 0, kind: 'left' });
      }
      if (chosen.length === 0) {
        const m = moves.reduce((p, q) => (Math.abs(q.angle) < Math.abs(p.angle) ? q : p));
        const nOut = legs[m.to]!.outgoing.length;
        chosen.push({ to: m.to, outLane: Math.min(k, nOut - 1), kind: m.angle > 0 ? 'left' : 'right' });
      }
      for (const c of chosen) {
        const to = legs[c.to]!;
        const inLane = from.incoming[k]!;
        const outLane = to.outgoing[c.outLane]!;
        const kerb = c.to === (i + 1) % n && k === nIn - 1 && c.outLane === to.outgoing.length - 1 ? cornerWay[i]! : null;
        connectorLengthM += connector(doc, from, inLane, to, outLane, kerb, c.kind);
      }
    }
  }

  // Paint and furniture on every approach.
  let crosswalks = 0;
  let stopLineCount = 0;
  for (const leg of legs) {
    if (leg.incoming.length === 0) continue;
    const lines = stopLines(doc, leg, paint.stopLines);
    stopLineCount += lines.length;
    if (spec.control === 'lights') {
      const light = besideApproach(doc, leg, 1, { type: 'traffic_light', subtype: 'red_yellow_green' });
      regulatoryElement(doc, leg, 'traffic_light', [light], lines);
    } else {
      const sign = besideApproach(doc, leg, 3, { type: 'traffic_sign', subtype: 'de206' });
      regulatoryElement(doc, leg, 'traffic_sign', [sign], lines);
    }
    if (spec.crosswalks && rng.chance(0.75)) {
      crosswalk(doc, leg, paint.crosswalks);
      crosswalks++;
    }
  }
  return { connectorLengthM, crosswalks, stopLines: stopLineCount };
}

/** One movement lanelet; returns its centre length, metres. */
function connector(doc: OsmDoc, from: LegEnd, inLane: LaneEndRef, to: LegEnd, outLane: LaneEndRef, rightKerb: number | null, kind: string): number {
  const dIn = scale(from.outward, -1);
  const left = bezier(inLane.left, dIn, outLane.left, to.outward);
  const leftWay = doc.way([inLane.leftNode, ...doc.nodesOf(left.slice(1, -1)), outLane.leftNode], { type: 'virtual' });
  let rightWay = rightKerb;
  const right = bezier(inLane.right, dIn, outLane.right, to.outward);
  if (rightWay === null) rightWay = doc.way([inLane.rightNode, ...doc.nodesOf(right.slice(1, -1)), outLane.rightNode], { type: 'virtual' });
  doc.lanelet(leftWay, rightWay, { turn_direction: kind });
  let lengthM = 0;
  for (let i = 1; i < left.length; i++) lengthM += Math.hypot(left[i]![0] - left[i - 1]![0], left[i]![1] - left[i - 1]![1]);
  return lengthM;
}
