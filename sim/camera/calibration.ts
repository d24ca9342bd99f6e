/**
 * Camera calibrations of the simulated fleet: the default front camera (PERCEPTION.md section 1)
 * and a per-vehicle variation of its mounting, seeded by the vehicle id.
 */
import type { CameraCalibration } from '../../shared/camera.ts';
import { deriveSeed, Rng, type Seed } from '../rng.ts';

export const DEFAULT_CAMERA: CameraCalibration = {
  schemaVersion: 1,
  name: 'simulated front camera',
  widthPx: 256,
  heightPx: 128,
  fxPx: 150, // px
  fyPx: 150, // px
  cxPx: 128, // px
  cyPx: 64, // px
  mountXM: 1.8, // m ahead of the rear axle
  mountYM: 0, // m
  mountZM: 1.35, // m above the ground
  pitchRad: 0.12, // rad, looking down
  yawRad: 0, // rad
  rollRad: 0, // rad
};

export interface MountVariation {
  /** Half-ranges of the uniform variation per vehicle. */
  heightM: number;
  pitchRad: number;
  yawRad: number;
  rollRad: number;
}

export const DEFAULT_MOUNT_VARIATION: MountVariation = {
  heightM: 0.08, // m
  pitchRad: 0.03, // rad
  yawRad: 0.02, // rad
  rollRad: 0.01, // rad
};

/** The calibration of one vehicle's front camera: the default with its mounting varied. */
export function vehicleCalibration(vehicleId: string, seed: Seed = 1, variation: MountVariation = DEFAULT_MOUNT_VARIATION, base: CameraCalibration = DEFAULT_CAMERA): CameraCalibration {
  const rng = new Rng(deriveSeed(seed, vehicleId, 'camera-mount'));
  const r6 = (v: number): number => Math.round(v * 1e6) / 1e6;
  return {
    ...base,
    name: `${vehicleId} front camera`,
    mountZM: r6(base.mountZM + rng.uniform(-variation.heightM, variation.heightM)),
    pitchRad: r6(base.pitchRad + rng.uniform(-variation.pitchRad, variation.pitchRad)),
    yawRad: r6(base.yawRad + rng.uniform(-variation.yawRad, variation.yawRad)),
    rollRad: r6(base.rollRad + rng.uniform(-variation.rollRad, variation.rollRad)),
  };
}
