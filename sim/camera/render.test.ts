import { describe, expect, it } from 'vitest';
import { bodyToPixel, cameraPose, SEG_CLASS_IDS, SEG_IGNORE } from '../../shared/camera.ts';
import { Rng } from '../rng.ts';
import { DEFAULT_CAMERA, vehicleCalibration } from './calibration.ts';
import { CLEAR_CONDITIONS, CONDITION_PRESETS, randomConditions, type CameraConditions } from './conditions.ts';
import { CameraRenderer } from './render.ts';
import { cameraSceneOf } from './scene.ts';
import { straightRoadMap } from './test-scene.ts';

const map = straightRoadMap();
const renderer = new CameraRenderer(map);
const pose = { xM: 0, yM: 0, yawRad: 0 };
const quiet: CameraConditions = { ...CLEAR_CONDITIONS, noiseSigma: 0 };
const cal = DEFAULT_CAMERA;
const W = cal.widthPx;

function lum(img: Uint8Array, u: number, v: number): number {
  const i = (v * W + u) * 3;
  return (img[i]! + img[i + 1]! + img[i + 2]!) / 3;
}

function labelAt(labels: Uint8Array, u: number, v: number): number {
  return labels[Math.floor(v / 2) * (W / 2) + Math.floor(u / 2)]!;
}

describe('renderFrame on a straight road', () => {
  const f = renderer.render(pose, cal, 0, quiet, new Rng(1));

  it('has the documented sizes', () => {
    expect(f.image.length).toBe(256 * 128 * 3);
    expect(f.labels.length).toBe(128 * 64);
  });

  it('draws the solid divider at the columns bodyToPixel predicts', () => {
    const cp = cameraPose(cal, 0);
    for (const xM of [8, 12, 20]) {
      const [u, v] = bodyToPixel(cp, cal, xM, 1.75, 0)!;
      const row = Math.floor(v);
      // brightest column of the row within the left half
      let best = -1;
      let bestU = -1;
      for (let c = 0; c < cal.cxPx; c++) {
        const l = lum(f.image, c, row);
        if (l > best) {
          best = l;
          bestU = c;
        }
      }
      expect(Math.abs(bestU + 0.5 - u)).toBeLessThanOrEqual(1.5);
      // paint is much brighter than the asphalt beside it
      expect(best - lum(f.image, Math.min(W - 1, Math.round(u) + 6), row)).toBeGreaterThan(60);
    }
  });

  it('labels the divider, the dashes, the stop line and the kerb where they are, background elsewhere', () => {
    const cp = cameraPose(cal, 0);
    const at = (x: number, y: number): number => {
      const [u, v] = bodyToPixel(cp, cal, x, y, 0)!;
      return labelAt(f.labels, u, v);
    };
    expect(at(10, 1.75)).toBe(SEG_CLASS_IDS.divider_solid);
    expect(at(30, 0)).toBe(SEG_CLASS_IDS.stop_line);
    expect(at(12, 5.25)).toBe(SEG_CLASS_IDS.boundary_curb);
    expect(at(10, 0)).toBe(SEG_CLASS_IDS.background);
    // dashed: a dash centre is labelled, a gap centre is not
    const st = cameraSceneOf(map).style[1]!;
    const dashX = (k: number): number => -20 + st.phaseM + 9 * k + 1.5; // arc from x = -20
    const k = Math.ceil((8 + 20 - st.phaseM) / 9);
    expect(at(dashX(k), -1.75)).toBe(SEG_CLASS_IDS.divider_dashed);
    expect(at(dashX(k) + 4.5, -1.75)).toBe(SEG_CLASS_IDS.background);
    // a sign is labelled whole: its pole from the foot up and the plate it carries, not the ground beside it
    expect(at(25, -6)).toBe(SEG_CLASS_IDS.sign_base);
    const above = (zM: number): number => {
      const [u, v] = bodyToPixel(cp, cal, 25, -6, zM)!;
      return labelAt(f.labels, u, v);
    };
    expect(above(1)).toBe(SEG_CLASS_IDS.sign_base);
    expect(above(2.5)).toBe(SEG_CLASS_IDS.sign_base);
    expect(at(25, -7.5)).not.toBe(SEG_CLASS_IDS.sign_base);
  });

  it('is deterministic per seed and each effect is off at 0 (identical to clear)', () => {
    const a = renderer.render(pose, cal, 0, CLEAR_CONDITIONS, new Rng(7));
    const b = renderer.render(pose, cal, 0, CLEAR_CONDITIONS, new Rng(7));
    expect(Buffer.from(a.image).equals(Buffer.from(b.image))).toBe(true);
    const on: Partial<CameraConditions> = { vehicles: 3, wear: 0.7, ghostLines: 1, shadows: 0.5, lowSun: 0.8, night: 1, wet: 1, blurPx: 1, slopeCurvaturePerM: 0.003, exposure: 1.5 };
    for (const [k, v] of Object.entries(on)) {
      const withEffect = renderer.render(pose, cal, 0, { ...CLEAR_CONDITIONS, [k]: v }, new Rng(7));
      expect(Buffer.from(withEffect.image).equals(Buffer.from(a.image)), `${k} changes the image`).toBe(false);
      const again = renderer.render(pose, cal, 0, { ...CLEAR_CONDITIONS, [k]: v }, new Rng(7));
      expect(Buffer.from(again.image).equals(Buffer.from(withEffect.image)), `${k} is deterministic`).toBe(true);
    }
    const c = renderer.render(pose, cal, 0, { ...CLEAR_CONDITIONS }, new Rng(8));
    expect(Buffer.from(c.image).equals(Buffer.from(a.image))).toBe(false); // another seed, other noise
  });

  it('labels pixels hidden by other vehicles 255', () => {
    let ignored = 0;
    for (let s = 0; s < 5 && ignored === 0; s++) {
      const g = renderer.render(pose, cal, 0, { ...quiet, vehicles: 4 }, new Rng(s));
      ignored = g.labels.filter((x) => x === SEG_IGNORE).length;
    }
    expect(ignored).toBeGreaterThan(20);
  });

  it('moves the road with vehicle pitch and with a slope the edge does not model', () => {
    const cp = cameraPose(cal, 0.02);
    const pitched = renderer.render(pose, cal, 0.02, quiet, new Rng(1));
    const [u, v] = bodyToPixel(cp, cal, 30, 0, 0)!;
    expect(labelAt(pitched.labels, u, v)).toBe(SEG_CLASS_IDS.stop_line);
    // a crest (k < 0) drops the far road: the flat-ground row of the stop line is no longer it
    const crest = renderer.render(pose, cal, 0, { ...quiet, slopeCurvaturePerM: -0.004 }, new Rng(1));
    const [u0, v0] = bodyToPixel(cameraPose(cal, 0), cal, 30, 0, 0)!;
    const [u1, v1] = bodyToPixel(cameraPose(cal, 0), cal, 30, 0, 0.5 * -0.004 * 900)!;
    expect(labelAt(crest.labels, u1, v1)).toBe(SEG_CLASS_IDS.stop_line);
    expect(v1 - v0).toBeGreaterThan(3);
    void u0;
  });

  it('renders every preset and random mixes with per-vehicle calibrations', () => {
    const rng = new Rng(3);
    for (const c of [...Object.values(CONDITION_PRESETS), randomConditions(rng), randomConditions(rng)]) {
      const g = renderer.render({ xM: 5, yM: 0.3, yawRad: 0.05 }, vehicleCalibration('veh-002', 4), 0.01, c, rng);
      expect(g.image.length).toBe(256 * 128 * 3);
      expect(g.labels.some((x) => x === SEG_CLASS_IDS.divider_solid)).toBe(true);
    }
  });

  it('night is darker than clear, low sun brighter', () => {
    const mean = (img: Uint8Array): number => img.reduce((s, x) => s + x, 0) / img.length;
    const clear = mean(renderer.render(pose, cal, 0, CLEAR_CONDITIONS, new Rng(1)).image);
    expect(mean(renderer.render(pose, cal, 0, CONDITION_PRESETS.night, new Rng(1)).image)).toBeLessThan(clear * 0.6);
    expect(mean(renderer.render(pose, cal, 0, CONDITION_PRESETS.lowSun, new Rng(1)).image)).toBeGreaterThan(clear);
  });
});
