/**
 * Maps written from the Lanelet2 specification by someone who had not read the loader
 * (test/fixtures/lanelet2-spec/: a left-hand-traffic Tokyo T junction, an Austin two-way stop,
 * a Utrecht signalised junction with bike lanes), and the rules they exposed: jersey barriers,
 * stop signs in lower case and other countries' codes, participant overrides, U-turns to the
 * oncoming side in left-hand traffic and on lanes under 3 m, one crosswalk per physical crossing
 * however it is split or drawn twice, and a sign drawn as an outline at its centre.
 */
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { convexHull, ringAreaM2, ringGapM } from '../shared/geometry.ts';
import type { XY } from '../shared/schema.ts';
import { loadLanelet2File } from './bundled-maps.ts';
import { buildCrosswalks } from './crosswalks.ts';
import { buildLaneletGraph, oncomingSide } from './lanelet-graph.ts';
import { isStopSignCode, isVehicleLanelet, mapWayTags } from './lanelet2-tags.ts';
import type { Lanelet2Map } from './lanelet2.ts';

const FIXTURES = fileURLToPath(new URL('../test/fixtures/lanelet2-spec/', import.meta.url));
const load = (name: string): Lanelet2Map => loadLanelet2File(path.join(FIXTURES, name));

function counts(map: Lanelet2Map): Record<string, number> {
  const out: Record<string, number> = {};
  for (const p of map.primitives) {
    const k = p.kind ? `${p.cls}:${p.kind}` : p.cls;
    out[k] = (out[k] ?? 0) + 1;
  }
  return out;
}

/** Directed lanelets with nowhere to go once the connectors are built. */
function deadEnds(map: Lanelet2Map): number {
  return buildLaneletGraph(map).nodes.filter((n) => n.successors.length === 0).length;
}

describe('Lanelet2 maps written from the specification', () => {
  it('Tokyo, left-hand traffic: jersey barriers, a jp330-a stop line, three crossings, U-turns on the right', () => {
    const map = load('japan-tokyo-t-junction.osm');
    expect(counts(map)).toMatchObject({ 'road_boundary:barrier': 4, stop_line: 3, crosswalk: 3, lane_divider: 6, traffic_light: 1, traffic_sign: 3 });
    expect(oncomingSide(map.lanelets)).toBe('right');
    expect(deadEnds(map)).toBe(0);
  });

  it('Austin: usr1-1 stop lines (spec lower case), four crossings however drawn, U-turns on the left', () => {
    const map = load('usa-austin-two-way-stop.osm');
    expect(counts(map)).toMatchObject({ stop_line: 2, crosswalk: 4, lane_divider: 16, traffic_sign: 4 });
    expect(oncomingSide(map.lanelets)).toBe('left');
    expect(deadEnds(map)).toBe(0);
  });

  it('Utrecht: a bus and taxi street is not for the fleet, 2.9 m lanes still turn round', () => {
    const map = load('netherlands-utrecht-signalised.osm');
    expect(counts(map)).toMatchObject({ crosswalk: 2, traffic_light: 6, stop_line: 4 });
    const busTaxi = map.lanelets.filter((l) => l.id === '1123' || l.id === '1124');
    expect(busTaxi.map((l) => l.vehicle)).toEqual([false, false]);
    expect(oncomingSide(map.lanelets)).toBe('left');
    expect(deadEnds(map)).toBe(0);
  });
});

describe('the tag rules', () => {
  it('knows jersey barriers as barriers', () => {
    expect(mapWayTags('jersey_barrier', '')).toEqual({ as: 'polyline', cls: 'road_boundary', kind: 'barrier' });
  });

  it('reads stop-sign codes in any case, with or without a colon, and other countries', () => {
    for (const c of ['de206', 'usr1-1', 'usR1-1', 'us:R1-1', 'JP330-A', 'nlb7', 'stop']) expect(isStopSignCode(c), c).toBe(true);
    for (const c of ['de205', 'usr2-1', 'jp323', '']) expect(isStopSignCode(c), c).toBe(false);
  });

  it('lets participant tags override the subtype: only the listed participants', () => {
    expect(isVehicleLanelet({ subtype: 'road' })).toBe(true);
    expect(isVehicleLanelet({ subtype: 'road', 'participant:vehicle:bus': 'yes', 'participant:vehicle:taxi': 'yes' })).toBe(false);
    expect(isVehicleLanelet({ subtype: 'bus_lane', 'participant:vehicle:car': 'yes' })).toBe(true);
    expect(isVehicleLanelet({ subtype: 'road', 'participant:vehicle': 'yes', 'participant:vehicle:car': 'no' })).toBe(false);
    expect(isVehicleLanelet({ subtype: 'walkway', 'participant:vehicle': 'yes' })).toBe(true);
    expect(isVehicleLanelet({ subtype: 'road', 'participant:pedestrian': 'yes' })).toBe(false);
  });
});

describe('one crosswalk per physical crossing', () => {
  // A 10 m crossing, 4 m wide, across a road along x: from y = 0 to y = 10.
  const lanelet = (id: string, y0: number, y1: number) => ({
    id,
    subtype: 'crosswalk',
    leftWayId: `${id}-l`,
    rightWayId: `${id}-r`,
    leftType: 'virtual',
    rightType: 'virtual',
    left: [[0, y0], [0, y1]] as XY[],
    right: [[4, y0], [4, y1]] as XY[],
  });

  it('joins two crosswalk lanelets split at the centre line into one ring', () => {
    const { areas } = buildCrosswalks([], [lanelet('a', 0, 5), lanelet('b', 5, 10)]);
    expect(areas).toHaveLength(1);
    expect(ringAreaM2(areas[0]!.ring)).toBeCloseTo(40, 6);
  });

  it('keeps one area for a crossing drawn as a lanelet and as an area', () => {
    const ring: XY[] = [[-0.1, -0.1], [4.1, -0.1], [4.1, 10.1], [-0.1, 10.1]];
    const { areas } = buildCrosswalks([], [lanelet('a', 0, 10)], {}, [{ id: 'poly', ring, sourceType: 'multipolygon', sourceSubtype: 'crosswalk' }]);
    expect(areas).toHaveLength(1);
    expect(ringAreaM2(areas[0]!.ring)).toBeCloseTo(4.2 * 10.2, 6);
  });

  it('keeps two crossings that touch at a corner apart (their hull is far larger than both)', () => {
    const across = { ...lanelet('c', 10, 14), left: [[4, 10], [14, 10]] as XY[], right: [[4, 14], [14, 14]] as XY[] };
    const { areas } = buildCrosswalks([], [lanelet('a', 0, 10), across]);
    expect(areas).toHaveLength(2);
  });
});

describe('ring helpers (shared/geometry.ts)', () => {
  it('hull, area and gap', () => {
    const hull = convexHull([[0, 0], [2, 0], [1, 1], [2, 2], [0, 2], [1, 0.5]]);
    expect(hull).toEqual([[0, 0], [2, 0], [2, 2], [0, 2]]);
    expect(ringAreaM2(hull)).toBe(4);
    expect(ringGapM([[0, 0], [1, 0], [1, 1], [0, 1]], [[3, 0], [4, 0], [4, 1], [3, 1]])).toBe(2);
  });
});
