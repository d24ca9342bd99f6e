import { describe, expect, it } from 'vitest';
import { bodyToPixel, cameraPose, pixelToGround, raySurfaceScale } from '../../shared/camera.ts';
import { allocSegOutput } from './decode.ts';
import { GroundLut } from './ground.ts';
import { SlopeEstimator } from './slope.ts';
import { renderRoad, subsampleTable, TEST_CALIBRATION, type RoadScene } from './test-scene.ts';

const HEADING = 0.3;
const SCENE: RoadScene = { originEastM: 5, originNorthM: -3, headingRad: HEADING, solidT: 1.75, dashedT: -1.75, lineWidthM: 0.15, dashM: 3, gapM: 6, stopS: 60, stopWidthM: 0.4, stopT0: -1.75, stopT1: 1.75 };

/** Drive the synthetic road rendered on the surface z = 0.5 k x^2, one frame every stepM; the estimator's last estimate. */
function driveOn(curvaturePerM: number, stepM: number, lengthM = 100, est = new SlopeEstimator(TEST_CALIBRATION, 2)): SlopeEstimator {
  const table = subsampleTable(TEST_CALIBRATION, 0, 128, 64, curvaturePerM);
  const seg = allocSegOutput(128, 64);
  for (let s = 0; s <= lengthM; s += stepM) {
    const e = SCENE.originEastM + s * Math.cos(HEADING);
    const n = SCENE.originNorthM + s * Math.sin(HEADING);
    renderRoad(SCENE, table, e, n, HEADING, seg);
    est.observe(seg, { eastM: e, northM: n, headingRad: HEADING }, 0);
  }
  return est;
}

describe('raySurfaceScale', () => {
  it('is the flat ground plane at k = 0 and continuous as k goes to 0', () => {
    expect(raySurfaceScale(1.8, 1.35, 0.99, -0.1, 0)).toBeCloseTo(13.5, 12);
    expect(raySurfaceScale(1.8, 1.35, 0.99, -0.1, 1e-12)).toBeCloseTo(13.5, 6);
    expect(raySurfaceScale(1.8, 1.35, 0.99, 0.01, 0)).toBeNaN(); // above the horizon
  });

  it('meets the curved surface where the ray does, and misses a crest the ray passes over', () => {
    const k = 0.002;
    const s = raySurfaceScale(1.8, 1.35, 0.995, -0.08, k);
    const x = 1.8 + s * 0.995;
    expect(1.35 - 0.08 * s).toBeCloseTo(0.5 * k * x * x, 9);
    // A dip: a ray just above the flat horizon still meets the rising road.
    expect(raySurfaceScale(1.8, 1.35, 1, 0.01, k)).toBeGreaterThan(0);
    // A crest: a ray grazing the flat horizon passes over the falling road.
    expect(raySurfaceScale(1.8, 1.35, 1, -0.02, -0.004)).toBeNaN();
  });
});

describe('GroundLut on a curved road', () => {
  it('maps each pixel centre to the surface point that projects back onto it', () => {
    const k = -0.0015;
    const lut = new GroundLut(TEST_CALIBRATION, { maxRangeM: 30 });
    lut.update(0.01, k);
    expect(lut.roadCurvaturePerM).toBe(k);
    const pose = cameraPose(TEST_CALIBRATION, 0.01);
    let checked = 0;
    for (const [c, r] of [[64, 40], [20, 50], [100, 36], [64, 63]] as const) {
      const i = r * 128 + c;
      expect(lut.valid[i]).toBe(1);
      const x = lut.xM[i]!;
      const uv = bodyToPixel(pose, TEST_CALIBRATION, x, lut.yM[i]!, 0.5 * k * x * x)!;
      expect(uv[0]).toBeCloseTo(2 * c + 1, 3);
      expect(uv[1]).toBeCloseTo(2 * r + 1, 3);
      checked++;
    }
    expect(checked).toBe(4);
    // Over a crest the road falls away: the same pixel sees it farther than on flat ground; in a
    // dip the road rises towards the camera: nearer.
    const flat = pixelToGround(pose, TEST_CALIBRATION, 129, 81)!;
    const crest = pixelToGround(pose, TEST_CALIBRATION, 129, 81, [0, 0], -0.002)!;
    const dip = pixelToGround(pose, TEST_CALIBRATION, 129, 81, [0, 0], 0.002)!;
    expect(crest[0]).toBeGreaterThan(flat[0] + 0.2);
    expect(dip[0]).toBeLessThan(flat[0] - 0.2);
  });

  it('is rebuilt when the curvature moves by more than its tolerance, not for less', () => {
    const lut = new GroundLut(TEST_CALIBRATION, { curvatureTolerancePerM: 0.0001 });
    expect(lut.update(0, 0)).toBe(true);
    expect(lut.update(0, 0.00005)).toBe(false);
    expect(lut.update(0, 0.0002)).toBe(true);
    expect(() => lut.update(0, Number.NaN)).toThrow(/roadCurvaturePerM/);
  });
});

describe('SlopeEstimator', () => {
  it('finds the vertical curvature of a road from the parallax of its paint between frames', () => {
    for (const k of [-0.002, 0.0015, 0.003]) {
      const est = driveOn(k, 5);
      expect(est.counters.pairsCompared).toBeGreaterThan(15);
      expect(Math.abs(est.curvaturePerM - k)).toBeLessThan(0.0003);
    }
  });

  it('at 10 Hz compares each frame with one a few metres back, not the one a metre before', () => {
    for (const k of [-0.001, 0.002]) {
      const est = driveOn(k, 1);
      expect(est.counters.pairsCompared).toBeGreaterThan(90);
      expect(Math.abs(est.curvaturePerM - k)).toBeLessThan(0.0003);
    }
    // Compared with the frame before (a metre back), the estimate was 1.7 instead of 2 / km.
    const near = driveOn(0.002, 1, 100, new SlopeEstimator(TEST_CALIBRATION, 2, { minMoveM: 0.9 }));
    expect(Math.abs(near.curvaturePerM - 0.002)).toBeGreaterThan(0.0002);
  });

  it('stays near 0 on flat ground, at 10 Hz and at 2 Hz spacing', () => {
    expect(Math.abs(driveOn(0, 1).curvaturePerM)).toBeLessThan(0.0002);
    expect(Math.abs(driveOn(0, 5).curvaturePerM)).toBeLessThan(0.0002);
  });

  it('learns nothing from a standing car or a jump, and forgets everything on reset', () => {
    const standing = driveOn(0.002, 0.2, 5);
    expect(standing.counters.pairsCompared).toBe(0);
    expect(standing.curvaturePerM).toBe(0);
    const jumps = driveOn(0.002, 20);
    expect(jumps.counters.pairsCompared).toBe(0);
    const est = driveOn(0.002, 5);
    expect(est.curvaturePerM).toBeGreaterThan(0.0015);
    est.reset();
    expect(est.curvaturePerM).toBe(0);
  });

  it('keeps its estimate when no painted pixel of a frame lands on paint of the one before', () => {
    const est = new SlopeEstimator(TEST_CALIBRATION, 2);
    const table = subsampleTable(TEST_CALIBRATION, 0, 128, 64, 0.002);
    const empty = allocSegOutput(128, 64);
    const seg = allocSegOutput(128, 64);
    for (let s = 0; s <= 60; s += 5) {
      const e = SCENE.originEastM + s * Math.cos(HEADING);
      const n = SCENE.originNorthM + s * Math.sin(HEADING);
      renderRoad(SCENE, table, e, n, HEADING, seg);
      est.observe(s % 10 === 0 ? seg : empty, { eastM: e, northM: n, headingRad: HEADING }, 0);
    }
    expect(est.counters.pairsCompared).toBeGreaterThanOrEqual(4); // painted frames after empty ones
    expect(est.curvaturePerM).toBe(0);
  });

  it('refuses options that make no candidates', () => {
    expect(() => new SlopeEstimator(TEST_CALIBRATION, 2, { stepPerM: 0 })).toThrow(/stepPerM/);
    expect(() => new SlopeEstimator(TEST_CALIBRATION, 2, { minMoveM: 5, maxMoveM: 2 })).toThrow(/maxMoveM/);
    expect(() => new SlopeEstimator(TEST_CALIBRATION, 2, { maxFramesKept: 0 })).toThrow(/maxFramesKept/);
  });
});
