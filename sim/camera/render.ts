/**
 * Render one front-camera frame and its segmentation labels from the Lanelet2 ground truth
 * (PERCEPTION.md sections 1-2), with the projection the edge uses (shared/camera.ts).
 *
 * Layers, painter's order: sky and textured asphalt per pixel; boundary surroundings; paint;
 * cast shadows; then kerb faces, barriers, signs, lights and other vehicles far to near;
 * image effects last. Polygons are rasterised at `ss` x `ss` samples per pixel; paint thinner
 * than a sample is widened to one sample with its opacity scaled down (coverage), so far lines
 * fade instead of breaking up. The base layer is computed once per output pixel, and only pixels
 * a polygon covers in part keep `ss` x `ss` samples (FrameRaster): the same image as
 * supersampling everything, at a fraction of the cost.
 */
import { cameraPose, type CameraCalibration } from '../../shared/camera.ts';
import type { Lanelet2Map } from '../lanelet2.ts';
import type { PoseXY } from '../oracle-perception.ts';
import type { Rng } from '../rng.ts';
import { validateConditions, type CameraConditions } from './conditions.ts';
import type { FrameContext, LightSource, VerticalItem } from './context.ts';
import { applyLighting, finishImage } from './effects.ts';
import { drawGroundAndSky, type GroundLook } from './ground.ts';
import { drawMapLayer } from './map-layer.ts';
import { hash2 } from './noise.ts';
import { addPoleObject, addVehicles } from './objects.ts';
import { FrameRaster } from './raster.ts';
import { cameraSceneOf, type CameraScene } from './scene.ts';

export interface RenderOptions {
  /** Samples per output pixel along each axis. */
  ss: number;
  /** Paint and boundaries are drawn up to this distance ahead, metres. */
  paintRangeM: number;
  /** Signs, lights and vehicles up to this distance ahead, metres. */
  objectRangeM: number;
  /** Line labels farther than this (camera depth) are 255 (ignored by the loss), metres. */
  labelMaxRangeM: number;
}

export const DEFAULT_RENDER_OPTIONS: RenderOptions = {
  ss: 2, // samples per pixel per axis
  paintRangeM: 70, // m
  objectRangeM: 90, // m
  labelMaxRangeM: 45, // m
};

export interface RenderedFrame {
  /** H x W x 3 RGB bytes, rows top to bottom. */
  image: Uint8Array;
  /** H/2 x W/2 class ids (SEG_CLASS_IDS), 255 = ignore. */
  labels: Uint8Array;
  /** Exposure time the conditions imply, microseconds (for the camera frame header). */
  exposureUs: number;
}

/** A renderer for one map, reusing its buffers between frames (not re-entrant). */
export class CameraRenderer {
  readonly scene: CameraScene;
  readonly options: RenderOptions;
  private raster: FrameRaster | undefined;
  private tmp = new Float32Array(0);
  private distM = new Float32Array(0);
  private readonly uv = new Float64Array(2);
  /** When set, milliseconds spent per stage are added here (profiling). */
  stageMs: Record<string, number> | undefined;

  constructor(map: Lanelet2Map | CameraScene, options: Partial<RenderOptions> = {}) {
    this.scene = 'index' in map ? map : cameraSceneOf(map);
    const o = { ...DEFAULT_RENDER_OPTIONS, ...options };
    for (const k of ['paintRangeM', 'objectRangeM', 'labelMaxRangeM'] as const) if (!(o[k] > 0)) throw new RangeError(`${k} must be > 0 metres, got ${o[k]}`);
    this.options = o;
  }

  render(pose: PoseXY, cal: CameraCalibration, vehiclePitchRad: number, conditions: CameraConditions, rng: Rng): RenderedFrame {
    validateConditions(conditions);
    if (!Number.isFinite(vehiclePitchRad) || Math.abs(vehiclePitchRad) > 0.3) throw new RangeError(`vehiclePitchRad must be in [-0.3, 0.3] rad, got ${vehiclePitchRad}`);
    // fixed order of forks: switching one effect never shifts another's numbers
    const vehicleRng = rng.fork('vehicles');
    const noiseSeed = rng.fork('noise').nextUint32();
    const W = cal.widthPx;
    const H = cal.heightPx;
    let fr = this.raster;
    if (!fr || fr.widthPx !== W || fr.heightPx !== H) {
      fr = this.raster = new FrameRaster(W, H, this.options.ss);
      this.tmp = new Float32Array(W * H * 3);
      this.distM = new Float32Array(W * H);
    }
    const c = conditions;
    const camPose = cameraPose(cal, vehiclePitchRad);
    fr.setCamera(camPose, cal, c.slopeCurvaturePerM);
    fr.beginFrame();
    const look = groundLook(c.worldSeed);
    const lap = stageClock(this.stageMs);
    drawGroundAndSky(fr, pose, look, this.distM);
    lap('ground');

    const verticals: VerticalItem[] = [];
    const lights: LightSource[] = [];
    const ctx: FrameContext = {
      fr,
      scene: this.scene,
      pose,
      cos: Math.cos(pose.yawRad),
      sin: Math.sin(pose.yawRad),
      cond: c,
      paintRangeM: this.options.paintRangeM,
      objectRangeM: this.options.objectRangeM,
      labelMaxRangeM: this.options.labelMaxRangeM,
      verticals,
      lights,
      uv: this.uv,
    };
    drawMapLayer(ctx);
    lap('map');
    const R = this.options.objectRangeM;
    for (const h of this.scene.index.query(pose.xM - R, pose.yM - R, pose.xM + R, pose.yM + R)) {
      const cls = this.scene.primitives[h.primitive]!.cls;
      if (cls === 'traffic_sign' || cls === 'traffic_light') addPoleObject(ctx, h.primitive);
    }
    addVehicles(ctx, vehicleRng);
    verticals.sort((a, b) => b.depthM - a.depthM);
    for (const v of verticals) v.draw();
    lap('objects');

    const img = fr.resolve();
    lap('downsample');
    applyLighting({ widthPx: W, heightPx: H, img, distM: this.distM, lights, sunUV: sunPosition(fr, c), horizon: look.horizon, cxPx: cal.cxPx }, c);
    const image = new Uint8Array(W * H * 3);
    lap('lighting');
    finishImage(img, W, H, c, noiseSeed, image, this.tmp);
    lap('finish');
    return { image, labels: fr.label.slice(), exposureUs: Math.round((2000 / c.exposure) * (1 + 15 * c.night)) };
  }
}

/**
 * lap(name) adds the milliseconds since the last lap to stageMs[name] (a no-op without stageMs).
 * A factory rather than an inline `const lap = ...`: an inferred function name costs a `__name`
 * call per frame under the tsx loader.
 */
function stageClock(stageMs: Record<string, number> | undefined): (name: string) => void {
  if (!stageMs) return noLap;
  let t = performance.now();
  return (name) => {
    const now = performance.now();
    stageMs[name] = (stageMs[name] ?? 0) + now - t;
    t = now;
  };
}

function noLap(): void {}

const renderers = new WeakMap<object, CameraRenderer>();

/** Render one frame (a renderer per map is built once and kept). */
export function renderFrame(scene: Lanelet2Map | CameraScene, pose: PoseXY, calibration: CameraCalibration, vehiclePitchRad: number, conditions: CameraConditions, rng: Rng): RenderedFrame {
  let r = renderers.get(scene);
  if (!r) {
    r = new CameraRenderer(scene);
    renderers.set(scene, r);
  }
  return r.render(pose, calibration, vehiclePitchRad, conditions, rng);
}

/** Asphalt and sky of a world seed: the look of a place on a day. */
function groundLook(seed: number): GroundLook {
  const grey = 0.27 + 0.14 * hash2(seed, 1, 77);
  const warm = 0.02 * (hash2(seed, 2, 77) - 0.5);
  const overcast = hash2(seed, 3, 77) < 0.35;
  return {
    asphalt: [grey + warm, grey, grey - warm + 0.01],
    textureAmp: 0.12 + 0.15 * hash2(seed, 4, 77),
    sky: overcast ? [0.72, 0.74, 0.77] : [0.36, 0.55, 0.84],
    horizon: overcast ? [0.82, 0.83, 0.85] : [0.75, 0.82, 0.9],
    seed: seed | 0,
  };
}

function sunPosition(fr: FrameRaster, c: CameraConditions): [number, number] | undefined {
  if (!(c.lowSun > 0)) return undefined;
  const el = 0.06;
  const d = 1e4;
  const x = fr.t[0]! + d * Math.cos(el) * Math.cos(c.sunAzimuthRad);
  const y = fr.t[1]! + d * Math.cos(el) * Math.sin(c.sunAzimuthRad);
  const z = fr.t[2]! + d * Math.sin(el);
  const uv = new Float64Array(2);
  return fr.project(x, y, z, uv) ? [uv[0]!, uv[1]!] : undefined;
}
