/**
 * Per-frame state shared by the layers of the renderer: the raster, the pose, the conditions,
 * and the body-frame transform of map coordinates.
 */
import type { CameraConditions } from './conditions.ts';
import type { PoseXY } from '../oracle-perception.ts';
import type { FrameRaster } from './raster.ts';
import type { CameraScene } from './scene.ts';

/** Something standing up from the ground, drawn far to near after the ground layer. */
export interface VerticalItem {
  /** Camera depth used for ordering, metres. */
  depthM: number;
  draw: () => void;
}

/** A bright point in the output image (for glow and wet streaks). */
export interface LightSource {
  u: number;
  v: number;
  r: number;
  g: number;
  b: number;
  /** Brightness scale, also the glow radius scale. */
  strength: number;
  /** Camera depth, metres. */
  depthM: number;
}

export interface FrameContext {
  fr: FrameRaster;
  scene: CameraScene;
  pose: PoseXY;
  cos: number;
  sin: number;
  cond: CameraConditions;
  /** Paint and boundaries are drawn up to this body x, metres. */
  paintRangeM: number;
  /** Signs, lights and vehicles up to this body x, metres. */
  objectRangeM: number;
  /** Lines farther than this (camera depth) are labelled 255 (ignored), metres. */
  labelMaxRangeM: number;
  verticals: VerticalItem[];
  lights: LightSource[];
  /** Scratch for projections. */
  uv: Float64Array;
}

export function bodyX(ctx: FrameContext, wx: number, wy: number): number {
  return ctx.cos * (wx - ctx.pose.xM) + ctx.sin * (wy - ctx.pose.yM);
}

export function bodyY(ctx: FrameContext, wx: number, wy: number): number {
  return -ctx.sin * (wx - ctx.pose.xM) + ctx.cos * (wy - ctx.pose.yM);
}

/** Rough field-of-view test of a body ground point (a wide wedge ahead), with a margin in metres. */
export function nearView(ctx: FrameContext, x: number, y: number, maxX: number, marginM: number): boolean {
  return x > -marginM && x < maxX + marginM && Math.abs(y) < 0.95 * Math.max(0, x) + 4 + marginM;
}
