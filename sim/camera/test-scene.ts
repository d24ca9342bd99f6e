/**
 * A synthetic straight road for the camera tests: lanes along +x (map frame east) with a solid
 * divider at y = +1.75 m, a dashed divider at y = -1.75 m (dashes from the phase of its id), kerbs
 * at y = +-5.25 m, a stop line across at x = 30 m and a sign. Built directly as primitives.
 */
import type { GroundTruthPrimitive, Lanelet2Map } from '../lanelet2.ts';

export function straightRoadMap(extra: GroundTruthPrimitive[] = []): Lanelet2Map {
  const line = (id: string, y: number, cls: GroundTruthPrimitive['cls'], more: Partial<GroundTruthPrimitive>): GroundTruthPrimitive => ({
    id,
    cls,
    points: [
      [-20, y],
      [200, y],
    ],
    sourceType: 'line_thin',
    sourceSubtype: '',
    ...more,
  });
  const primitives: GroundTruthPrimitive[] = [
    line('solid', 1.75, 'lane_divider', { style: 'solid', sourceSubtype: 'solid' }),
    line('dashed', -1.75, 'lane_divider', { style: 'dashed', sourceSubtype: 'dashed' }),
    line('kerbL', 5.25, 'road_boundary', { kind: 'curb', sourceType: 'curbstone' }),
    line('kerbR', -5.25, 'road_boundary', { kind: 'curb', sourceType: 'curbstone' }),
    { id: 'stop', cls: 'stop_line', points: [[30, -5.25], [30, 5.25]], sourceType: 'stop_line', sourceSubtype: '' },
    { id: 'sign', cls: 'traffic_sign', points: [[25, -6]], sourceType: 'traffic_sign', sourceSubtype: 'de205', signCode: 'de205' },
    ...extra,
  ];
  const centre = (y: number): Array<[number, number]> => Array.from({ length: 221 }, (_, i) => [-20 + i, y] as [number, number]);
  const lanelet = (id: string, y: number): Lanelet2Map['lanelets'][number] => ({
    id,
    subtype: 'road',
    vehicle: true,
    oneWay: true,
    left: [],
    right: [],
    centreline: centre(y),
    lengthM: 220,
    leftBound: { wayId: '', type: '', subtype: '', inverted: false },
    rightBound: { wayId: '', type: '', subtype: '', inverted: false },
    startNodeIds: ['', ''],
    endNodeIds: ['', ''],
    successorIds: [],
    leftNeighbourId: null,
    rightNeighbourId: null,
  });
  const lanelets = [lanelet('l1', 3.5), lanelet('l2', 0), lanelet('l3', -3.5)];
  return { primitives, lanelets, laneletById: new Map(lanelets.map((l) => [l.id, l])), totals: {}, unmapped: {}, errors: [] } as unknown as Lanelet2Map;
}
