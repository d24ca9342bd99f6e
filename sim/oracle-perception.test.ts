import { describe, expect, it } from 'vitest';
import { pointPolylineDistM, transformPoint } from '../shared/geometry.ts';
import type { Primitive } from '../shared/schema.ts';
import { KARLSRUHE_OSM_PATH, loadLanelet2File } from './bundled-maps.ts';
import { DriveProfile } from './drive.ts';
import { buildLaneletGraph } from './lanelet-graph.ts';
import { OraclePerception } from './oracle-perception.ts';
import { Rng } from './rng.ts';
import { planRoute } from './routes.ts';

const divider: Primitive = { cls: 'lane_divider', style: 'dashed', points: [[-100, 1.75], [0, 1.75], [100, 1.75]] };
const curb: Primitive = { cls: 'road_boundary', kind: 'curb', points: [[-100, -5], [100, -5]] };
const sign: Primitive = { cls: 'traffic_sign', signCode: 'de205', points: [[30, -7]] };
const crossing: Primitive = { cls: 'crosswalk', points: [[20, -5], [24, -5], [24, 5], [20, 5]] };
const perfect = { missProbNear: 0, missProbFar: 0, styleFlipProb: 0, falsePositivesPerFrame: 0 };

describe('OraclePerception (test double)', () => {
  it('sees the divider next to the vehicle, in the body frame, with small error', () => {
    const oracle = new OraclePerception([divider, curb, sign, crossing], perfect);
    // Vehicle at (10, 0) heading east: the divider is 1.75 m to the left.
    const f = oracle.observe({ xM: 10, yM: 0, yawRad: 0 }, new Rng(1));
    const div = f.observations.find((o) => o.cls === 'lane_divider')!;
    expect(div.style).toBe('dashed');
    expect(div.pointsBody.length).toBeGreaterThan(20);
    const ys = div.pointsBody.map((p) => p[1]);
    expect(ys.reduce((s, y) => s + y, 0) / ys.length).toBeCloseTo(1.75, 1);
    for (const [x, y] of div.pointsBody) {
      expect(x).toBeGreaterThanOrEqual(-10.5);
      expect(x).toBeLessThanOrEqual(35.5);
      expect(Math.abs(y - 1.75)).toBeLessThan(0.5);
    }
    expect(div.score).toBeGreaterThan(0.5);
    const curbObs = f.observations.find((o) => o.cls === 'road_boundary')!;
    expect(curbObs.kind).toBe('curb');
    const s = f.observations.find((o) => o.cls === 'traffic_sign')!;
    expect(s.signCode).toBe('de205');
    expect(Math.hypot(s.pointsBody[0]![0] - 20, s.pointsBody[0]![1] + 7)).toBeLessThan(1);
    expect(f.observations.some((o) => o.cls === 'crosswalk')).toBe(true);
    expect(f.sources.every((i) => i >= 0)).toBe(true);
  });

  it('rotates into the body frame', () => {
    const oracle = new OraclePerception([divider], perfect);
    // Heading west at (0, 0): the divider at y = +1.75 (north) is now on the right.
    const f = oracle.observe({ xM: 0, yM: 0, yawRad: Math.PI }, new Rng(2));
    const ys = f.observations[0]!.pointsBody.map((p) => p[1]);
    expect(ys.reduce((s, y) => s + y, 0) / ys.length).toBeCloseTo(-1.75, 1);
  });

  it('sees nothing 200 m away', () => {
    const oracle = new OraclePerception([divider, curb, sign, crossing], perfect);
    const f = oracle.observe({ xM: 0, yM: 200, yawRad: 0 }, new Rng(3));
    expect(f.observations).toEqual([]);
    expect(f.inView).toEqual([]);
  });

  it('misses, flips and invents at the configured rates', () => {
    const oracle = new OraclePerception([divider], { missProbNear: 0.5, missProbFar: 0.5, styleFlipProb: 0.2, falsePositivesPerFrame: 0.5 });
    const rng = new Rng(4);
    let seen = 0;
    let flipped = 0;
    let falsePos = 0;
    const frames = 2000;
    for (let i = 0; i < frames; i++) {
      const f = oracle.observe({ xM: 0, yM: 0, yawRad: 0 }, rng);
      f.sources.forEach((src, k) => {
        if (src < 0) falsePos++;
        else {
          seen++;
          if (f.observations[k]!.style !== 'dashed') flipped++;
        }
      });
    }
    expect(seen / frames).toBeGreaterThan(0.45);
    expect(seen / frames).toBeLessThan(0.55);
    expect(flipped / seen).toBeGreaterThan(0.15);
    expect(flipped / seen).toBeLessThan(0.25);
    expect(falsePos / frames).toBeGreaterThan(0.4);
    expect(falsePos / frames).toBeLessThan(0.6);
  });

  it('on the real map: observations lie on ground truth (speed: sim/bench/oracle-perception.bench.ts)', () => {
    const map = loadLanelet2File(KARLSRUHE_OSM_PATH);
    const oracle = new OraclePerception(map.primitives, { falsePositivesPerFrame: 0 });
    const route = planRoute(buildLaneletGraph(map), new Rng(8), { targetLengthM: 1000 });
    const profile = new DriveProfile(route.centreline, new Rng(9));
    const rng = new Rng(10);
    const errors: number[] = [];
    let frames = 0;
    let observations = 0;
    for (let t = 0; t < profile.durationS; t += 0.5) {
      const pose = profile.poseAt(t);
      const f = oracle.observe(pose, rng);
      frames++;
      observations += f.observations.length;
      f.observations.forEach((o, k) => {
        const truth = map.primitives[f.sources[k]!]!;
        if (o.cls !== 'lane_divider' && o.cls !== 'road_boundary') return;
        for (const p of o.pointsBody) errors.push(pointPolylineDistM(transformPoint(p, pose.xM, pose.yM, pose.yawRad), truth.points));
      });
    }
    errors.sort((a, b) => a - b);
    expect(observations / frames).toBeGreaterThan(5);
    expect(errors[Math.floor(errors.length * 0.5)]!).toBeLessThan(0.12);
    expect(errors[Math.floor(errors.length * 0.99)]!).toBeLessThan(0.5);
  });
});
