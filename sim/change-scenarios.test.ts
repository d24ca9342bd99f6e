import { describe, expect, it } from 'vitest';
import { pointPolylineDistM } from '../shared/geometry.ts';
import { applyChangeScenarios, CHANGE_SCENARIOS, type TrueChange } from './change-scenarios.ts';
import { stripeShape } from './crosswalk-stripes.ts';
import { scoreChanges, type ReportedChange } from './eval/change-eval.ts';
import { loadLanelet2, osmBoundsCentre } from './lanelet2.ts';
import { generateMap } from './mapgen/index.ts';

const map = (() => {
  const { osmXml } = generateMap({ seed: 3, layout: 'mixed' });
  return loadLanelet2(osmXml, { origin: osmBoundsCentre(osmXml) });
})();
const everywhere = { primitive: () => true, lanelet: () => true };

describe('applyChangeScenarios', () => {
  const world = applyChangeScenarios(map, CHANGE_SCENARIOS, everywhere, { seed: 5 });

  it('makes one change per scenario at least, each recorded, the input map untouched', () => {
    for (const s of CHANGE_SCENARIOS) expect(world.changes.some((c) => c.scenario === s), s).toBe(true);
    expect(map.primitives.some((p) => p.id.startsWith('chg-'))).toBe(false);
    expect(world.map.lanelets).toBe(map.lanelets);
  });

  it('removes what it says it removed and adds what it says it added', () => {
    const ids = new Set(world.map.primitives.map((p) => p.id));
    for (const c of world.changes) {
      if (c.kind === 'removed') expect(ids.has(c.id), c.id).toBe(false);
      if (c.kind === 'added') expect(world.map.primitives.find((p) => p.id === c.id)?.points).toEqual(c.afterM);
      if (c.kind === 'moved') expect(world.map.primitives.find((p) => p.id === c.id)?.points).toEqual(c.afterM);
    }
    const removed = world.changes.filter((c) => c.kind === 'removed').length;
    const added = world.changes.filter((c) => c.kind === 'added').length;
    expect(world.map.primitives.length).toBe(map.primitives.length - removed + added);
  });

  it('repaints a divider by the set shift and moves a sign by the set distance', () => {
    const repaint = world.changes.find((c) => c.scenario === 'repaint-lane')!;
    const mid = repaint.afterM![Math.floor(repaint.afterM!.length / 2)]!;
    expect(pointPolylineDistM(mid, repaint.beforeM!)).toBeCloseTo(0.8, 1);
    const sign = world.changes.find((c) => c.scenario === 'move-sign')!;
    expect(Math.hypot(sign.afterM![0]![0] - sign.beforeM![0]![0], sign.afterM![0]![1] - sign.beforeM![0]![1])).toBeCloseTo(5, 6);
    // along the road: as far from the nearest vehicle lanelet's centreline as before (a random
    // direction put signs in the carriageway or metres nearer or further from it)
    const fromRoad = (q: [number, number]): number => Math.min(...map.lanelets.filter((l) => l.vehicle).map((l) => pointPolylineDistM(q, l.centreline)));
    expect(Math.abs(fromRoad(sign.afterM![0]! as [number, number]) - fromRoad(sign.beforeM![0]! as [number, number]))).toBeLessThan(0.3);
    const zone = world.map.primitives.find((p) => p.id === world.changes.find((c) => c.scenario === 'construction-zone')!.id)!;
    expect(zone.color).toBe('yellow');
  });

  it('paints a new crosswalk across the whole carriageway, wider than deep, as its zebra bars need', () => {
    const cw = world.changes.find((c) => c.scenario === 'new-crosswalk')!;
    const [a, b, c, d] = cw.afterM! as [number, number][];
    const acrossM = Math.hypot(b![0] - a![0], b![1] - a![1]);
    const deepM = Math.hypot(d![0] - a![0], d![1] - a![1]);
    expect(deepM).toBeCloseTo(4, 1); // crosswalkWidthM along the road
    // more than the one lanelet it was placed on: both directions of a two-way road at least
    expect(acrossM).toBeGreaterThan(5);
    expect(stripeShape(cw.afterM!, true).axis).toEqual(stripeShape([a!, b!], false).axis);
  });

  it('keeps changes apart and is deterministic per seed', () => {
    const again = applyChangeScenarios(map, CHANGE_SCENARIOS, everywhere, { seed: 5 });
    expect(again.changes).toEqual(world.changes);
    const other = applyChangeScenarios(map, CHANGE_SCENARIOS, everywhere, { seed: 6 });
    expect(other.changes.map((c) => c.id)).not.toEqual(world.changes.map((c) => c.id));
  });

  it('changes nothing where nothing is eligible', () => {
    const none = applyChangeScenarios(map, CHANGE_SCENARIOS, { primitive: () => false, lanelet: () => false });
    expect(none.changes).toEqual([]);
    expect(none.map.primitives).toEqual(map.primitives);
  });
});

describe('scoreChanges', () => {
  const removed: TrueChange = { scenario: 'remove-markings', kind: 'removed', cls: 'lane_divider', id: 'a', beforeM: [[0, 0], [40, 0]] };
  const moved: TrueChange = { scenario: 'move-sign', kind: 'moved', cls: 'traffic_sign', id: 's', beforeM: [[100, 0]], afterM: [[105, 0]] };
  const added: TrueChange = { scenario: 'new-crosswalk', kind: 'added', cls: 'crosswalk', id: 'c', afterM: [[200, -3], [204, -3], [204, 3], [200, 3]] };
  const rep = (kind: ReportedChange['kind'], cls: ReportedChange['cls'], pointsM: Array<[number, number]>, closed = false): ReportedChange => ({ kind, cls, id: `${kind}-${pointsM[0]![0]}`, pointsM, closed });

  it('scores a perfect report 1 and counts nothing false', () => {
    const s = scoreChanges([removed, moved, added], [rep('removed', 'lane_divider', [[0, 0.3], [40, 0.3]]), rep('moved', 'traffic_sign', [[105.4, 0]]), rep('added', 'crosswalk', [[200, -3], [204, -3], [204, 3], [200, 3]], true)], 10);
    expect(s).toMatchObject({ detected: 3, reportedTrue: 3, precision: 1, recall: 1, f1: 1, falseChanges: 0 });
  });

  it('takes a move reported as removed + added, and charges reports that match nothing', () => {
    const s = scoreChanges([moved], [rep('removed', 'traffic_sign', [[100, 0.5]]), rep('added', 'traffic_sign', [[104.6, 0]]), rep('added', 'lane_divider', [[500, 0], [520, 0]])], 20);
    expect(s.detected).toBe(1);
    expect(s.reportedTrue).toBe(2);
    expect(s.falseChanges).toBe(1);
    expect(s.falseChangesPer10Km).toBeCloseTo(0.5, 9);
    expect(s.precision).toBeCloseTo(2 / 3, 9);
  });

  it('needs the right kind, class and place', () => {
    const s = scoreChanges([removed], [rep('added', 'lane_divider', [[0, 0], [40, 0]]), rep('removed', 'road_boundary', [[0, 0], [40, 0]]), rep('removed', 'lane_divider', [[0, 3], [40, 3]])], 10);
    expect(s.detected).toBe(0);
    expect(s.recall).toBe(0);
    expect(s.falseChanges).toBe(3);
    expect(s.f1).toBe(0);
  });
});

describe('scoreChanges with the earlier map', () => {
  it('leaves out removals of what the earlier map never had', () => {
    const gone: TrueChange = { scenario: 'remove-markings', kind: 'removed', cls: 'lane_divider', id: 'a', beforeM: [[0, 0], [40, 0]] };
    const unseen: TrueChange = { scenario: 'remove-markings', kind: 'removed', cls: 'lane_divider', id: 'b', beforeM: [[0, 50], [40, 50]] };
    const previous = [{ cls: 'lane_divider' as const, points: [[-20, 0.2], [60, 0.2]] as Array<[number, number]> }];
    const s = scoreChanges([gone, unseen], [{ kind: 'removed', cls: 'lane_divider', id: 'x', pointsM: [[0, 0.2], [40, 0.2]], closed: false }], 10, { previous });
    expect(s).toMatchObject({ trueChanges: 1, notInPrevious: 1, detected: 1, recall: 1, precision: 1 });
    expect(scoreChanges([gone, unseen], [], 10).trueChanges).toBe(2);
  });
});
