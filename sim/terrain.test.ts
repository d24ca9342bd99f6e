import { describe, expect, it } from 'vitest';
import { ringRoadOsm } from '../test/fixtures/ring-road.ts';
import { CLEAR_CONDITIONS } from './camera/conditions.ts';
import { planFleet } from './fleet.ts';
import { loadLanelet2, osmBoundsCentre } from './lanelet2.ts';
import { Rng } from './rng.ts';
import { simulateDrive } from './simulate-drive.ts';
import { FIT_AHEAD_M, Terrain, validateTerrain, DEFAULT_TERRAIN } from './terrain.ts';

describe('Terrain', () => {
  it('is the same hills for the same seed and other hills for another', () => {
    const a = new Terrain({ seed: 5 });
    const b = new Terrain({ seed: 5 });
    const c = new Terrain({ seed: 6 });
    for (const [x, y] of [[0, 0], [120, -40], [-900, 300]] as const) {
      expect(a.heightM(x, y)).toBe(b.heightM(x, y));
      expect(a.heightM(x, y)).not.toBe(c.heightM(x, y));
    }
  });

  it('has the root mean square curvature asked for, along random headings at random places', () => {
    for (const rmsPerM of [0.0004, 0.0007, 0.0015]) {
      const t = new Terrain({ seed: 11, curvatureRmsPerM: rmsPerM, waves: 24 });
      const rng = new Rng(3);
      let sum2 = 0;
      const n = 20_000;
      for (let i = 0; i < n; i++) sum2 += t.curvatureAlongPerM(rng.uniform(-5000, 5000), rng.uniform(-5000, 5000), rng.uniform(0, 2 * Math.PI)) ** 2;
      expect(Math.sqrt(sum2 / n) / rmsPerM).toBeGreaterThan(0.85);
      expect(Math.sqrt(sum2 / n) / rmsPerM).toBeLessThan(1.15);
    }
    const flat = new Terrain({ seed: 11, curvatureRmsPerM: 0 });
    expect(flat.heightM(10, 20)).toBe(0);
    expect(flat.cameraCurvaturePerM(10, 20, 1)).toBe(0);
  });

  it('gives grade and curvature as the derivatives of its height along the heading', () => {
    const t = new Terrain({ seed: 2 });
    const h = 0.5; // m
    for (const [x, y, yaw] of [[10, 20, 0.3], [-300, 75, 2.2], [800, -640, -1.1]] as const) {
      const at = (s: number): number => t.heightM(x + s * Math.cos(yaw), y + s * Math.sin(yaw));
      expect(t.gradeAlong(x, y, yaw)).toBeCloseTo((at(0.01) - at(-0.01)) / 0.02, 6);
      expect(t.curvatureAlongPerM(x, y, yaw)).toBeCloseTo((at(h) - 2 * at(0) + at(-h)) / (h * h), 6);
      // A crest is a crest both ways: the curvature does not change with the direction of travel.
      expect(t.curvatureAlongPerM(x, y, yaw + Math.PI)).toBeCloseTo(t.curvatureAlongPerM(x, y, yaw), 12);
    }
  });

  it("fits the camera's constant curvature to the profile ahead, which at a wave's crest is the crest's", () => {
    // One wave along x: z = a sin(Kx + p). At a crest (Kx + p = pi/2) the profile ahead is
    // a (cos(Ks) - 1) ~ -0.5 a K^2 s^2, so the fit lies close to -a K^2, a little flatter.
    const t = new Terrain({ seed: 9, waves: 1, minWavelengthM: 400, maxWavelengthM: 400, curvatureRmsPerM: 0.001 });
    const rng = new Rng(1);
    let best = { k: 0, x: 0, y: 0, yaw: 0 };
    for (let i = 0; i < 5000; i++) {
      const x = rng.uniform(-400, 400), y = rng.uniform(-400, 400), yaw = rng.uniform(0, 2 * Math.PI);
      const k = t.curvatureAlongPerM(x, y, yaw);
      if (k < best.k) best = { k, x, y, yaw };
    }
    const fit = t.cameraCurvaturePerM(best.x, best.y, best.yaw);
    expect(fit).toBeLessThan(0);
    expect(fit / best.k).toBeGreaterThan(0.8);
    expect(fit / best.k).toBeLessThan(1.0001);
    expect(FIT_AHEAD_M[0]).toBeGreaterThan(0);
  });

  it('refuses a bad spec naming each field', () => {
    expect(() => validateTerrain({ ...DEFAULT_TERRAIN, seed: 1, curvatureRmsPerM: -1, waves: 0 })).toThrow(/curvatureRmsPerM.*waves/);
    expect(() => new Terrain({ seed: 1, minWavelengthM: 500, maxWavelengthM: 100 })).toThrow(/maxWavelengthM/);
    expect(() => new Terrain({ seed: Number.NaN })).toThrow(/seed/);
  });
});

describe('simulateDrive on terrain', () => {
  const xml = ringRoadOsm();
  const ring = loadLanelet2(xml, { origin: osmBoundsCentre(xml) });
  const drive = planFleet(ring, { vehicles: 1, drivesPerVehicle: 1, driveLengthM: 120, seed: 4 }).drives[0]!;

  it("renders every frame on the terrain's curvature, in place of the drive's own", () => {
    const conditions = { ...CLEAR_CONDITIONS, noiseSigma: 0, slopeCurvaturePerM: 0.002 };
    type Camera = NonNullable<Parameters<typeof simulateDrive>[2]>['camera'];
    const frames = (camera: Camera, terrain?: { seed: number; curvatureRmsPerM: number }): Buffer[] =>
      simulateDrive(ring, drive, { camera: { enabled: true, hz: 1, ...camera }, ...(terrain ? { terrain } : {}) }).messages.flatMap((m) => (m.topic === 'camera' ? [Buffer.from(m.payload.pixels)] : []));
    const drives = frames({ conditions });
    const flatDrive = frames({ conditions: { ...conditions, slopeCurvaturePerM: 0 } });
    const flatTerrain = frames({ conditions }, { seed: 21, curvatureRmsPerM: 0 });
    const hilly = frames({ conditions }, { seed: 21, curvatureRmsPerM: 0.003 });
    expect(drives.length).toBeGreaterThan(5);
    // A flat terrain replaces the drive's curvature by 0: every frame as the flat drive's.
    expect(flatTerrain.every((px, i) => px.equals(flatDrive[i]!))).toBe(true);
    expect(drives.some((px, i) => !px.equals(flatDrive[i]!))).toBe(true);
    // Hills: other frames than either.
    expect(hilly.filter((px, i) => !px.equals(flatDrive[i]!) && !px.equals(drives[i]!)).length).toBeGreaterThan(drives.length / 2);
  });

  it('turns the pitch gyro with the road: speed x curvature on top of the body, nothing else moved', () => {
    const terrain = { seed: 21, curvatureRmsPerM: 0.003 };
    const t = new Terrain(terrain);
    const vehicle = (o: Parameters<typeof simulateDrive>[2]) => simulateDrive(ring, drive, o).messages.flatMap((m) => (m.topic === 'vehicle' ? [m.payload] : []));
    const flat = vehicle({});
    const hilly = vehicle({ terrain });
    const sim = simulateDrive(ring, drive, { terrain });
    expect(hilly.length).toBe(flat.length);
    let moved = 0;
    hilly.forEach((v, i) => {
      const f = flat[i]!;
      expect([v.tMonoNs, v.speedMps, v.yawRateRps]).toEqual([f.tMonoNs, f.speedMps, f.yawRateRps]);
      // The truth at this time (vehicle signals and truth share the clock), nose down positive.
      const j = sim.truth.tMonoNs.findIndex((ns) => Math.abs(ns - v.tMonoNs) < 1);
      if (j < 0) return;
      const speedMps = j > 0 ? Math.hypot(sim.truth.xM[j]! - sim.truth.xM[j - 1]!, sim.truth.yM[j]! - sim.truth.yM[j - 1]!) / ((sim.truth.tMonoNs[j]! - sim.truth.tMonoNs[j - 1]!) / 1e9) : 0;
      const expected = -speedMps * t.curvatureAlongPerM(sim.truth.xM[j]!, sim.truth.yM[j]!, sim.truth.yawRad[j]!);
      expect(v.pitchRateRps! - f.pitchRateRps!).toBeCloseTo(expected, 3);
      if (Math.abs(expected) > 1e-3) moved++;
    });
    expect(moved).toBeGreaterThan(10);
  });
});
