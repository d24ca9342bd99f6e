/**
 * A `NetworkSpec` to Lanelet2 elements in an `OsmDoc`: validate the spec, find how far each
 * junction pushes its roads back, build every road, then every junction or roundabout on the
 * road ends that meet it.
 */
import type { Rng } from '../rng.ts';
import { DEFAULT_PAINT, type PaintConventions } from './furniture.ts';
import { sub, unit, type P } from './geometry.ts';
import { buildJunction, junctionSetbackM } from './junctions.ts';
import type { NetworkSpec, RoadSpec } from './network.ts';
import { OsmDoc } from './osm-doc.ts';
import { buildRoad, type LegEnd } from './roads.ts';
import { buildRoundabout, roundaboutSetbackM } from './roundabout.ts';

export interface BuildStats {
  /** Lane length on roads (centre line times lanes), metres. */
  roadLaneLengthM: number;
  /** Lane length of junction movements and roundabout rings, metres. */
  junctionLaneLengthM: number;
  junctions: number;
  roundabouts: number;
  roads: number;
  /** Crossings painted (each one physical crosswalk, however it is drawn). */
  crosswalks: number;
  /** Stop-line ways drawn (one per incoming lane, or one per approach when spanning). */
  stopLines: number;
}

export function buildNetwork(spec: NetworkSpec, rng: Rng, paint: PaintConventions = DEFAULT_PAINT): { doc: OsmDoc; stats: BuildStats } {
  validateNetwork(spec);
  const byId = new Map(spec.junctions.map((j) => [j.id, j]));
  const legsAt = new Map<string, Array<{ outward: P; halfWidthM: number }>>();
  for (const r of spec.roads) {
    const from = byId.get(r.from)!;
    const to = byId.get(r.to)!;
    const firstTowards = r.via[0]?.xy ?? to.xy;
    const lastFrom = r.via[r.via.length - 1]?.xy ?? from.xy;
    const halfWidthM = Math.max(r.lanesForward, r.lanesBackward) * r.laneWidthM;
    pushTo(legsAt, from.id, { outward: unit(sub(firstTowards, from.xy)), halfWidthM });
    pushTo(legsAt, to.id, { outward: unit(sub(lastFrom, to.xy)), halfWidthM });
  }
  const setback = new Map<string, number>();
  for (const j of spec.junctions) {
    const legs = legsAt.get(j.id) ?? [];
    if (legs.length < 2) throw new RangeError(`junction ${j.id}: needs at least 2 roads, has ${legs.length}`);
    setback.set(j.id, j.kind === 'roundabout' ? roundaboutSetbackM(j) : junctionSetbackM(legs));
  }

  const doc = new OsmDoc();
  const ends = new Map<string, LegEnd[]>();
  let roadLaneLengthM = 0;
  for (const r of spec.roads) {
    const built = buildRoad(doc, r, byId.get(r.from)!, byId.get(r.to)!, setback.get(r.from)!, setback.get(r.to)!, rng.fork(`road:${r.id}`));
    pushTo(ends, r.from, built.fromEnd);
    pushTo(ends, r.to, built.toEnd);
    roadLaneLengthM += built.laneLengthM;
  }
  let junctionLaneLengthM = 0;
  let crosswalks = 0;
  let stopLines = 0;
  for (const j of spec.junctions) {
    const legs = ends.get(j.id)!;
    const jr = rng.fork(`junction:${j.id}`);
    if (j.kind === 'roundabout') {
      const r = buildRoundabout(doc, j, legs, jr, paint);
      junctionLaneLengthM += r.ringLengthM + r.connectorLengthM;
      crosswalks += r.crosswalks;
    } else {
      const b = buildJunction(doc, j, legs, jr, paint);
      junctionLaneLengthM += b.connectorLengthM;
      crosswalks += b.crosswalks;
      stopLines += b.stopLines;
    }
  }
  return {
    doc,
    stats: {
      roadLaneLengthM,
      junctionLaneLengthM,
      junctions: spec.junctions.filter((j) => j.kind === 'junction').length,
      roundabouts: spec.junctions.filter((j) => j.kind === 'roundabout').length,
      roads: spec.roads.length,
      crosswalks,
      stopLines,
    },
  };
}

/** Throws a RangeError naming the element, field and value of the first problem. */
export function validateNetwork(spec: NetworkSpec): void {
  const ids = new Set<string>();
  for (const j of spec.junctions) {
    if (ids.has(j.id)) throw new RangeError(`junction id ${JSON.stringify(j.id)} is used twice`);
    ids.add(j.id);
    if (!j.xy.every(Number.isFinite)) throw new RangeError(`junction ${j.id}: xy must be finite metres, got [${j.xy.join(', ')}]`);
    if (j.kind === 'roundabout' && !(j.islandRadiusM >= 4)) throw new RangeError(`junction ${j.id}: islandRadiusM must be >= 4 m, got ${j.islandRadiusM}`);
    if (j.kind === 'roundabout' && !(j.ringWidthM >= 3)) throw new RangeError(`junction ${j.id}: ringWidthM must be >= 3 m, got ${j.ringWidthM}`);
  }
  for (const r of spec.roads) checkRoad(r, ids);
}

function checkRoad(r: RoadSpec, junctionIds: Set<string>): void {
  if (!junctionIds.has(r.from)) throw new RangeError(`road ${r.id}: from ${JSON.stringify(r.from)} is no junction`);
  if (!junctionIds.has(r.to)) throw new RangeError(`road ${r.id}: to ${JSON.stringify(r.to)} is no junction`);
  if (r.from === r.to) throw new RangeError(`road ${r.id}: from and to are the same junction ${r.from}`);
  for (const [field, v, lo] of [['lanesForward', r.lanesForward, 1], ['lanesBackward', r.lanesBackward, 0]] as const) {
    if (!Number.isInteger(v) || v < lo || v > 4) throw new RangeError(`road ${r.id}: ${field} must be an integer in [${lo}, 4], got ${v}`);
  }
  if (!(r.laneWidthM >= 2.5 && r.laneWidthM <= 5)) throw new RangeError(`road ${r.id}: laneWidthM must be in [2.5, 5] m, got ${r.laneWidthM}`);
}

function pushTo<V>(m: Map<string, V[]>, k: string, v: V): void {
  const list = m.get(k);
  if (list) list.push(v);
  else m.set(k, [v]);
}

