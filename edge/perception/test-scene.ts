/**
 * Test support (not exported by index.ts): a straight synthetic road with a solid and a dashed
 * divider and an optional stop line, rendered into a SegOutput the way the training labels are
 * rendered (a label pixel takes a class when its footprint touches the paint: 4 x 4 sub-samples
 * projected to the ground), so tests drive the post-processing like the model's output.
 */
import { cameraPose, pixelToGround, SEG_CLASS_IDS, type CameraCalibration } from '../../shared/camera.ts';
import { allocSegOutput, type SegOutput } from './decode.ts';

export const TEST_CALIBRATION: CameraCalibration = {
  schemaVersion: 1,
  name: 'test front camera',
  widthPx: 256,
  heightPx: 128,
  fxPx: 150,
  fyPx: 150,
  cxPx: 128,
  cyPx: 64,
  mountXM: 1.8,
  mountYM: 0,
  mountZM: 1.35,
  pitchRad: 0.12,
  yawRad: 0,
  rollRad: 0,
};

export interface RoadScene {
  /** Road axis: start point and direction in the world frame. */
  originEastM: number;
  originNorthM: number;
  headingRad: number;
  /** Lateral offsets (left positive) of the solid and the dashed divider, metres. */
  solidT: number;
  dashedT: number;
  lineWidthM: number;
  /** Dash pattern along the road: paint then gap, metres. */
  dashM: number;
  gapM: number;
  /** Stop line: along-road start and thickness, lateral extent; none when undefined. */
  stopS?: number;
  stopWidthM?: number;
  stopT0?: number;
  stopT1?: number;
}

export function classifyRoad(scene: RoadScene, eastM: number, northM: number): number {
  const c = Math.cos(scene.headingRad);
  const s = Math.sin(scene.headingRad);
  const de = eastM - scene.originEastM;
  const dn = northM - scene.originNorthM;
  const along = c * de + s * dn;
  const lat = -s * de + c * dn;
  const hw = scene.lineWidthM / 2;
  if (scene.stopS !== undefined && along >= scene.stopS && along < scene.stopS + (scene.stopWidthM ?? 0.4) && lat >= (scene.stopT0 ?? -1.5) && lat <= (scene.stopT1 ?? 1.5)) {
    return SEG_CLASS_IDS.stop_line;
  }
  if (Math.abs(lat - scene.solidT) <= hw) return SEG_CLASS_IDS.divider_solid;
  if (Math.abs(lat - scene.dashedT) <= hw) {
    const period = scene.dashM + scene.gapM;
    const ph = ((along % period) + period) % period;
    if (ph < scene.dashM) return SEG_CLASS_IDS.divider_dashed;
  }
  return SEG_CLASS_IDS.background;
}

/**
 * Body-frame ground points of 4 x 4 sub-samples of every output pixel (NaN where the ray misses
 * the road), the road surface z = 0.5 * roadCurvaturePerM * x^2 (0: flat).
 */
export function subsampleTable(cal: CameraCalibration, vehiclePitchRad: number, outW = 128, outH = 64, roadCurvaturePerM = 0): Float32Array {
  const pose = cameraPose(cal, vehiclePitchRad);
  const t = new Float32Array(outW * outH * 16 * 2).fill(Number.NaN);
  const g: [number, number] = [0, 0];
  for (let r = 0; r < outH; r++) {
    for (let c = 0; c < outW; c++) {
      for (let k = 0; k < 16; k++) {
        const u = 2 * c + ((k % 4) + 0.5) / 2;
        const v = 2 * r + (Math.floor(k / 4) + 0.5) / 2;
        const p = pixelToGround(pose, cal, u, v, g, roadCurvaturePerM);
        if (!p) continue;
        const o = ((r * outW + c) * 16 + k) * 2;
        t[o] = p[0];
        t[o + 1] = p[1];
      }
    }
  }
  return t;
}

/** Render the scene seen from a vehicle pose (world frame) into `out` (arg-max classes, prob 0.9). */
export function renderRoad(scene: RoadScene, table: Float32Array, eastM: number, northM: number, headingRad: number, out: SegOutput = allocSegOutput(128, 64)): SegOutput {
  const c = Math.cos(headingRad);
  const s = Math.sin(headingRad);
  const n = out.widthPx * out.heightPx;
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let k = 0; k < 16; k++) {
      const x = table[(i * 16 + k) * 2]!;
      if (Number.isNaN(x)) continue;
      const y = table[(i * 16 + k) * 2 + 1]!;
      const cls = classifyRoad(scene, eastM + c * x - s * y, northM + s * x + c * y);
      if (cls === SEG_CLASS_IDS.stop_line) best = cls;
      else if (cls !== 0 && best === 0) best = cls;
    }
    out.classId[i] = best;
    out.prob[i] = 0.9;
  }
  return out;
}
