/**
 * Seeded road networks, one function per layout. All are closed (every lane can be driven on
 * for ever), span roughly 0.5-1.5 km and hold 5-15 km of lanes.
 *
 * - grid: a jittered city grid, 3-4 x 3-4 junctions, rounded corners, bent roads, kerbs,
 *   stop signs or lights, crosswalks.
 * - suburban: a curvy rural loop with 3-way junctions and spokes to a central junction,
 *   road borders, guard rails, dashed or solid centre lines.
 * - roundabout: the suburban shape with a roundabout in the centre and one on the loop.
 * - multilane: a wide grid of arterials with 2-3 lanes per direction, double solid centre
 *   lines, dashed dividers (solid before junctions), traffic lights.
 * - mixed: a grid with a roundabout, one multi-lane avenue, mixed edges and paint.
 */
import type { XY } from '../../shared/schema.ts';
import type { Rng } from '../rng.ts';
import { add, leftOf, polar, scale, sub, unit, dist, type P } from './geometry.ts';
import { junction, road, type JunctionSpec, type NetworkSpec, type PaintColour, type RoadSpec } from './network.ts';

export const LAYOUTS = ['grid', 'suburban', 'roundabout', 'multilane', 'mixed'] as const;
export type Layout = (typeof LAYOUTS)[number];

export function layoutNetwork(layout: Layout, rng: Rng): NetworkSpec {
  switch (layout) {
    case 'grid':
      return gridLayout(rng);
    case 'suburban':
      return loopLayout(rng, false);
    case 'roundabout':
      return loopLayout(rng, true);
    case 'multilane':
      return multilaneLayout(rng);
    case 'mixed':
      return mixedLayout(rng);
  }
}

// ---------------------------------------------------------------------------------------------

function gridLayout(rng: Rng): NetworkSpec {
  const nx = 3 + rng.int(2);
  const ny = 3 + rng.int(2);
  const spacing = nx * ny <= 9 ? rng.uniform(230, 270) : rng.uniform(165, 210);
  const colour: PaintColour = rng.chance(0.3) ? 'yellow' : 'white';
  const avenue = rng.chance(0.5) ? 1 + rng.int(ny - 2) : -1; // a row with two lanes per direction
  return gridNetwork(rng, {
    nx,
    ny,
    spacingXM: spacing * rng.uniform(0.9, 1.1),
    spacingYM: spacing * rng.uniform(0.9, 1.1),
    jitterM: spacing * 0.07,
    cornerRadiusM: [18, 60],
    bendChance: 0.5,
    junction: (gx, gy, degree) => ({ control: degree === 4 || rng.chance(0.3) ? 'lights' : 'stop', crosswalks: rng.chance(0.6) }),
    road: (e) => {
      const lanes = e.horizontal && e.gy === avenue && !e.perimeter ? 2 : 1;
      return {
        lanesForward: lanes,
        lanesBackward: lanes,
        laneWidthM: lanes > 1 ? 3.25 : rng.uniform(3, 3.5),
        centre: lanes > 1 ? 'solid' : rng.choice(['dashed', 'dashed', 'solid'] as const),
        centreColour: colour,
        edge: 'curbstone',
        speedLimitSign: rng.chance(0.4),
      };
    },
  });
}

function multilaneLayout(rng: Rng): NetworkSpec {
  const spacing = rng.uniform(220, 260);
  const colour: PaintColour = rng.chance(0.5) ? 'yellow' : 'white';
  const wideAxisHorizontal = rng.chance(0.5);
  return gridNetwork(rng, {
    nx: 3,
    ny: 3,
    spacingXM: spacing,
    spacingYM: spacing * rng.uniform(0.9, 1.1),
    jitterM: 6,
    cornerRadiusM: [45, 90],
    bendChance: 0.25,
    junction: () => ({ control: 'lights', crosswalks: true }),
    road: (e) => {
      const lanes = e.perimeter ? 2 : e.horizontal === wideAxisHorizontal ? 3 : 2;
      return {
        lanesForward: lanes,
        lanesBackward: lanes,
        laneWidthM: 3.25,
        centre: lanes === 3 || rng.chance(0.5) ? 'solid_solid' : 'solid',
        centreColour: colour,
        edge: 'curbstone',
        guardRail: e.perimeter && rng.chance(0.5),
        speedLimitSign: rng.chance(0.5),
      };
    },
  });
}

function mixedLayout(rng: Rng): NetworkSpec {
  const spacing = rng.uniform(170, 210);
  const roundaboutX = 1 + rng.int(2);
  return gridNetwork(rng, {
    nx: 4,
    ny: 3,
    spacingXM: spacing,
    spacingYM: spacing * rng.uniform(0.9, 1.1),
    jitterM: spacing * 0.06,
    cornerRadiusM: [30, 110],
    bendChance: 0.6,
    junction: (gx, gy, degree) =>
      gx === roundaboutX && gy === 1
        ? { kind: 'roundabout', islandRadiusM: rng.uniform(12, 18), ringWidthM: rng.uniform(5, 6), crosswalks: true }
        : { control: degree === 4 ? 'lights' : rng.choice(['lights', 'stop'] as const), crosswalks: rng.chance(0.6) },
    road: (e) => {
      const avenue = e.horizontal && e.gy === 1;
      const rural = e.perimeter && rng.chance(0.4);
      return {
        lanesForward: avenue ? 2 : 1,
        lanesBackward: avenue ? 2 : 1,
        laneWidthM: avenue ? 3.25 : rng.uniform(3, 3.75),
        centre: avenue ? 'solid_solid' : rng.choice(['dashed', 'solid'] as const),
        centreColour: rng.chance(0.3) ? 'yellow' : 'white',
        edge: rural ? 'road_border' : 'curbstone',
        guardRail: rural && rng.chance(0.5),
        speedLimitSign: rng.chance(0.4),
      };
    },
  });
}

// ---------------------------------------------------------------------------------------------

export interface GridEdge {
  perimeter: boolean;
  horizontal: boolean;
  /** Grid row of a horizontal inner edge, column of a vertical one. */
  gx: number;
  gy: number;
}

export interface GridOptions {
  nx: number;
  ny: number;
  spacingXM: number; // m
  spacingYM: number; // m
  jitterM: number; // m, junction position noise
  cornerRadiusM: [number, number]; // m, range for the rounded grid corners
  bendChance: number; // probability that a road gets a bend or an S-curve
  junction: (gx: number, gy: number, degree: number) => Partial<JunctionSpec>;
  road: (e: GridEdge) => Partial<RoadSpec>;
}

/**
 * A grid whose four corners are rounded bends of the perimeter road; the other perimeter
 * points are 3-way junctions, the inner points 4-way junctions.
 */
export function gridNetwork(rng: Rng, o: GridOptions): NetworkSpec {
  const { nx, ny } = o;
  const isCorner = (gx: number, gy: number): boolean => (gx === 0 || gx === nx - 1) && (gy === 0 || gy === ny - 1);
  const onPerimeter = (gx: number, gy: number): boolean => gx === 0 || gy === 0 || gx === nx - 1 || gy === ny - 1;
  const xy: P[][] = [];
  for (let gx = 0; gx < nx; gx++) {
    xy.push([]);
    for (let gy = 0; gy < ny; gy++) {
      const base: P = [(gx - (nx - 1) / 2) * o.spacingXM, (gy - (ny - 1) / 2) * o.spacingYM];
      xy[gx]!.push(isCorner(gx, gy) ? base : add(base, [rng.uniform(-o.jitterM, o.jitterM), rng.uniform(-o.jitterM, o.jitterM)]));
    }
  }
  const jid = (gx: number, gy: number): string => `j${gx}_${gy}`;
  const junctions: JunctionSpec[] = [];
  for (let gx = 0; gx < nx; gx++) {
    for (let gy = 0; gy < ny; gy++) {
      if (isCorner(gx, gy)) continue;
      const degree = onPerimeter(gx, gy) ? 3 : 4;
      junctions.push(junction(jid(gx, gy), xy[gx]![gy]!, o.junction(gx, gy, degree)));
    }
  }
  const roads: RoadSpec[] = [];
  // Perimeter, counter-clockwise, corners as bends.
  const cycle: Array<[number, number]> = [];
  for (let gx = 0; gx < nx - 1; gx++) cycle.push([gx, 0]);
  for (let gy = 0; gy < ny - 1; gy++) cycle.push([nx - 1, gy]);
  for (let gx = nx - 1; gx > 0; gx--) cycle.push([gx, ny - 1]);
  for (let gy = ny - 1; gy > 0; gy--) cycle.push([0, gy]);
  const start = cycle.findIndex(([gx, gy]) => !isCorner(gx, gy));
  let from = cycle[start]!;
  let via: RoadSpec['via'] = [];
  for (let k = 1; k <= cycle.length; k++) {
    const p = cycle[(start + k) % cycle.length]!;
    if (isCorner(p[0], p[1])) {
      via.push({ xy: xy[p[0]]![p[1]]!, radiusM: rng.uniform(o.cornerRadiusM[0], o.cornerRadiusM[1]) });
      continue;
    }
    const horizontal = from[1] === p[1];
    const spec = road(`r${roads.length}`, jid(from[0], from[1]), jid(p[0], p[1]), { ...o.road({ perimeter: true, horizontal, gx: from[0], gy: from[1] }), via });
    if (via.length === 0) spec.via = bends(rng, xy[from[0]]![from[1]]!, xy[p[0]]![p[1]]!, o.bendChance);
    roads.push(spec);
    from = p;
    via = [];
  }
  // Inner edges.
  for (let gy = 1; gy < ny - 1; gy++) {
    for (let gx = 0; gx < nx - 1; gx++) roads.push(innerRoad(rng, o, roads.length, xy, jid, [gx, gy], [gx + 1, gy], true));
  }
  for (let gx = 1; gx < nx - 1; gx++) {
    for (let gy = 0; gy < ny - 1; gy++) roads.push(innerRoad(rng, o, roads.length, xy, jid, [gx, gy], [gx, gy + 1], false));
  }
  return { junctions, roads };
}

function innerRoad(
  rng: Rng,
  o: GridOptions,
  index: number,
  xy: P[][],
  jid: (gx: number, gy: number) => string,
  a: [number, number],
  b: [number, number],
  horizontal: boolean,
): RoadSpec {
  const spec = road(`r${index}`, jid(a[0], a[1]), jid(b[0], b[1]), o.road({ perimeter: false, horizontal, gx: a[0], gy: a[1] }));
  spec.via = bends(rng, xy[a[0]]![a[1]]!, xy[b[0]]![b[1]]!, o.bendChance);
  return spec;
}

/** None, one bend or an S-curve between two points: vias offset sideways, with radii. */
function bends(rng: Rng, a: XY, b: XY, chance: number): RoadSpec['via'] {
  if (!rng.chance(chance)) return [];
  const len = dist(a, b);
  const side = leftOf(unit(sub(b, a)));
  const along = (t: number, offsetM: number): P => add(add(a, scale(sub(b, a), t)), scale(side, offsetM));
  const amp = len * rng.uniform(0.04, 0.1) * (rng.chance(0.5) ? 1 : -1);
  if (rng.chance(0.5)) return [{ xy: along(0.5, amp), radiusM: len * rng.uniform(0.8, 2.5) }];
  return [
    { xy: along(0.35, amp), radiusM: len * rng.uniform(0.3, 0.8) },
    { xy: along(0.65, -amp), radiusM: len * rng.uniform(0.3, 0.8) },
  ];
}

// ---------------------------------------------------------------------------------------------

/**
 * A rounded polygon loop (8 vertices) with 3-way junctions at some vertices and spokes to a
 * central junction or roundabout.
 */
function loopLayout(rng: Rng, roundabouts: boolean): NetworkSpec {
  const m = 8;
  const r0 = rng.uniform(300, 420);
  const rot = rng.uniform(0, 2 * Math.PI);
  const vertices: P[] = [];
  for (let k = 0; k < m; k++) vertices.push(polar(r0 * rng.uniform(0.82, 1.15), rot + (2 * Math.PI * k) / m + rng.uniform(-0.12, 0.12)));
  const spokeAt = rng.chance(0.5) ? [0, 2, 4, 6] : [0, 3, 5];
  const colour: PaintColour = rng.chance(0.3) ? 'yellow' : 'white';
  const urban = roundabouts;
  const loopStyle = (): Partial<RoadSpec> => ({
    laneWidthM: rng.uniform(3.25, 3.75),
    centre: rng.choice(['dashed', 'dashed', 'solid'] as const),
    centreColour: colour,
    edge: urban ? 'curbstone' : 'road_border',
    guardRail: !urban && rng.chance(0.5),
    speedLimitSign: rng.chance(0.5),
  });
  const junctions: JunctionSpec[] = [
    junction('centre', [rng.uniform(-30, 30), rng.uniform(-30, 30)], roundabouts
      ? { kind: 'roundabout', islandRadiusM: rng.uniform(14, 22), ringWidthM: rng.uniform(5, 6.5), crosswalks: true }
      : { control: rng.choice(['lights', 'stop'] as const), crosswalks: true }),
  ];
  spokeAt.forEach((k, i) => {
    const small = roundabouts && i === 0;
    junctions.push(junction(`loop${k}`, vertices[k]!, small
      ? { kind: 'roundabout', islandRadiusM: rng.uniform(9, 12), ringWidthM: 5.5, crosswalks: rng.chance(0.5) }
      : { control: rng.chance(0.3) ? 'lights' : 'stop', crosswalks: urban && rng.chance(0.5) }));
  });
  const roads: RoadSpec[] = [];
  // The loop, junction to junction, other vertices as bends.
  for (let i = 0; i < spokeAt.length; i++) {
    const a = spokeAt[i]!;
    const b = spokeAt[(i + 1) % spokeAt.length]!;
    const via: RoadSpec['via'] = [];
    for (let k = a + 1; k !== (b < a + 1 ? b + m : b); k++) via.push({ xy: vertices[k % m]!, radiusM: rng.uniform(60, 160) });
    roads.push(road(`loop${i}`, `loop${a}`, `loop${b}`, { ...loopStyle(), via }));
  }
  // Spokes with a gentle bend.
  for (const k of spokeAt) {
    const centre = junctions[0]!.xy;
    const mid = add(scale(add(centre, vertices[k]!), 0.5), scale(leftOf(unit(sub(vertices[k]!, centre))), r0 * rng.uniform(-0.12, 0.12)));
    roads.push(road(`spoke${k}`, 'centre', `loop${k}`, { ...loopStyle(), via: [{ xy: mid, radiusM: rng.uniform(120, 300) }] }));
  }
  return { junctions, roads };
}
