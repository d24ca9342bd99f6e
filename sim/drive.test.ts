import { describe, expect, it } from 'vitest';
import type { XY } from '../shared/schema.ts';
import { KARLSRUHE_OSM_PATH, loadLanelet2File } from './bundled-maps.ts';
import { DEFAULT_DRIVE_OPTIONS, DriveProfile, sampleTrajectory } from './drive.ts';
import { buildLaneletGraph } from './lanelet-graph.ts';
import { Rng } from './rng.ts';
import { planRoute } from './routes.ts';

const map = loadLanelet2File(KARLSRUHE_OSM_PATH);
const graph = buildLaneletGraph(map);

describe('DriveProfile on real routes', () => {
  const hz = 50;
  const drives = [1, 2, 3, 4, 5, 6].map((seed) => {
    const route = planRoute(graph, new Rng(seed), { targetLengthM: 2000 });
    const profile = new DriveProfile(route.centreline, new Rng(seed + 100));
    return { route, profile, traj: sampleTrajectory(profile, hz) };
  });

  it('drives at urban speeds and respects the lateral and longitudinal limits', () => {
    const vMax = DEFAULT_DRIVE_OPTIONS.cruiseSpeedMps[1] + DEFAULT_DRIVE_OPTIONS.speedVariationMps;
    for (const { profile, traj } of drives) {
      const n = traj.tS.length;
      let maxV = 0;
      let maxLat = 0;
      let maxAcc = 0;
      let maxDec = 0;
      for (let k = 0; k < n; k++) {
        maxV = Math.max(maxV, traj.speedMps[k]!);
        maxLat = Math.max(maxLat, Math.abs(traj.speedMps[k]! * traj.yawRateRps[k]!));
        if (k > 0) {
          const a = (traj.speedMps[k]! - traj.speedMps[k - 1]!) * hz;
          maxAcc = Math.max(maxAcc, a);
          maxDec = Math.max(maxDec, -a);
        }
      }
      expect(maxV).toBeLessThanOrEqual(vMax + 1e-9);
      expect(maxV).toBeGreaterThan(6); // it does get going
      expect(maxLat).toBeLessThanOrEqual(DEFAULT_DRIVE_OPTIONS.maxLateralAccelMps2 + 0.05);
      expect(maxAcc).toBeLessThanOrEqual(DEFAULT_DRIVE_OPTIONS.maxAccelMps2 + 0.05);
      expect(maxDec).toBeLessThanOrEqual(DEFAULT_DRIVE_OPTIONS.maxDecelMps2 + 0.05);
      const meanV = profile.lengthM / profile.durationS;
      expect(meanV).toBeGreaterThan(2.5);
      expect(meanV).toBeLessThan(14);
      expect(traj.speedMps[0]).toBe(0);
      expect(traj.speedMps[n - 1]).toBeLessThan(0.1);
      expect(profile.poseAt(profile.durationS).speedMps).toBe(0);
    }
  });

  it('moves continuously, consistent with its speed and yaw rate', () => {
    let worstStepM = 0;
    let worstYawRad = 0;
    for (const { traj } of drives) {
      for (let k = 1; k < traj.tS.length; k++) {
        const stepM = Math.hypot(traj.xM[k]! - traj.xM[k - 1]!, traj.yM[k]! - traj.yM[k - 1]!);
        const expectedM = (traj.speedMps[k]! + traj.speedMps[k - 1]!) / 2 / hz;
        worstStepM = Math.max(worstStepM, Math.abs(stepM - expectedM));
        let dYaw = traj.yawRad[k]! - traj.yawRad[k - 1]!;
        dYaw = Math.atan2(Math.sin(dYaw), Math.cos(dYaw));
        const expectedYaw = (traj.yawRateRps[k]! + traj.yawRateRps[k - 1]!) / 2 / hz;
        worstYawRad = Math.max(worstYawRad, Math.abs(dYaw - expectedYaw));
      }
    }
    expect(worstStepM).toBeLessThan(0.02);
    expect(worstYawRad).toBeLessThan(0.01);
  });

  it('follows the route closely', () => {
    const { route, traj } = drives[0]!;
    let maxDevM = 0;
    for (let k = 0; k < traj.tS.length; k += 25) maxDevM = Math.max(maxDevM, nearestM(route.centreline, traj.xM[k]!, traj.yM[k]!));
    expect(maxDevM).toBeLessThan(1.5);
  });
});

describe('DriveProfile on a straight road', () => {
  const straight: XY[] = [[0, 0], [1000, 0]];

  it('accelerates to cruise, stops where planned, and is deterministic', () => {
    const p = new DriveProfile(straight, new Rng(3), { cruiseSpeedMps: [12, 12], speedVariationMps: 0, stopsPerKm: 0 });
    expect(p.stopCount).toBe(0);
    expect(p.poseAt(p.durationS / 2).speedMps).toBeCloseTo(12, 6);
    // 0 -> 12 m/s at 1.5 m/s^2 takes 8 s over 48 m; braking at 2.5 m/s^2 takes 4.8 s over 28.8 m.
    expect(p.durationS).toBeCloseTo(8 + 4.8 + (1000 - 48 - 28.8) / 12, 1);
    expect(p.poseAt(4).speedMps).toBeCloseTo(6, 6);
    const q = new DriveProfile(straight, new Rng(3), { cruiseSpeedMps: [12, 12], speedVariationMps: 0, stopsPerKm: 0 });
    expect(q.poseAt(33.3)).toEqual(p.poseAt(33.3));
    const withStops = new DriveProfile(straight, new Rng(4), { stopsPerKm: 5, stopDurationS: [10, 10] });
    expect(withStops.stopCount).toBeGreaterThan(0);
  });

  it('validates its options', () => {
    expect(() => new DriveProfile(straight, new Rng(1), { cruiseSpeedMps: [10, 5] })).toThrow(/cruiseSpeedMps/);
    expect(() => new DriveProfile(straight, new Rng(1), { maxLateralAccelMps2: 0 })).toThrow(/maxLateralAccelMps2/);
    expect(() => new DriveProfile([[0, 0]], new Rng(1))).toThrow(/>= 2 vertices/);
    expect(() => new DriveProfile([[0, 0], [0.5, 0]], new Rng(1))).toThrow(/too short to drive: 0.50 m/);
  });
});

function nearestM(pts: readonly XY[], x: number, y: number): number {
  let best = Infinity;
  for (let i = 1; i < pts.length; i++) {
    const a = pts[i - 1]!;
    const b = pts[i]!;
    const vx = b[0] - a[0];
    const vy = b[1] - a[1];
    const len2 = vx * vx + vy * vy;
    const t = len2 > 0 ? Math.max(0, Math.min(1, ((x - a[0]) * vx + (y - a[1]) * vy) / len2)) : 0;
    best = Math.min(best, Math.hypot(x - a[0] - vx * t, y - a[1] - vy * t));
  }
  return best;
}
