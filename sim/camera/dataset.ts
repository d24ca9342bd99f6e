/**
 * Write a training dataset (PERCEPTION.md section 3): frames sampled along planned drives with
 * random per-vehicle calibrations, conditions and vehicle pitch; images.u8 / labels.u8 /
 * frames.jsonl / meta.json in one directory. Splits: an AREA of each map (east-west cut of the
 * map's extent: `train` = west part, `holdout` = east part), and seeds (use another seed).
 */
import { closeSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { prepareOutDir } from '../../cli/out-dir.ts';
import { SEG_CLASS_NAMES, type CameraCalibration } from '../../shared/camera.ts';
import { DriveProfile } from '../drive.ts';
import { planFleet } from '../fleet.ts';
import type { Lanelet2Map } from '../lanelet2.ts';
import { deriveSeed, Rng } from '../rng.ts';
import { vehicleCalibration } from './calibration.ts';
import { CLEAR_CONDITIONS, CONDITION_PRESETS, isConditionPreset, randomConditions, type CameraConditions } from './conditions.ts';
import { PitchTrack } from './pitch.ts';
import { CameraRenderer } from './render.ts';
import { bodyTruth } from './truth.ts';

export type AreaSplit = 'all' | 'train' | 'holdout';

export interface DatasetOptions {
  outDir: string;
  /** Frames to write. */
  frames: number;
  /** Named maps to sample from (round robin). */
  maps: ReadonlyArray<{ name: string; map: Lanelet2Map }>;
  seed: number;
  /** "mixed" (random effects), a preset name, or a comma list of preset names. */
  conditions: string;
  /** Effects never used in mixed conditions (held out), e.g. ["night"]. */
  excludeEffects: ReadonlyArray<keyof CameraConditions>;
  area: AreaSplit;
  /** East fraction of each map's extent held out, 0..1. */
  holdoutFraction: number;
  /** Vehicles (each with its own calibration) per map, and route length per drive, metres. */
  vehiclesPerMap: number;
  driveLengthM: number;
  /** Random vehicle pitch on top of the braking pitch, 1-sigma, radians. */
  pitchNoiseRad: number;
  /** Progress callback, called every 100 frames. */
  onProgress?: (written: number) => void;
}

export const DEFAULT_DATASET_OPTIONS: Omit<DatasetOptions, 'outDir' | 'maps'> = {
  frames: 1000,
  seed: 1,
  conditions: 'mixed',
  excludeEffects: [],
  area: 'all',
  holdoutFraction: 0.3, // of the east-west extent
  vehiclesPerMap: 30,
  driveLengthM: 1500, // m
  pitchNoiseRad: 0.008, // rad
};

/**
 * What the labels mean, beyond the class ids: 1 = sign_base / light_base a disc at the pole foot;
 * 2 = signs and lights labelled whole, pole and plate (docs/PERCEPTION.md section 2). A cache of
 * rendered frames is stale when its labelSchema differs.
 */
export const LABEL_SCHEMA = 2;

export interface DatasetMeta {
  schemaVersion: 1;
  labelSchema: number;
  count: number;
  imageWidthPx: number;
  imageHeightPx: number;
  labelWidthPx: number;
  labelHeightPx: number;
  classes: string[];
  split: string;
  maps: string[];
  conditions: Record<string, unknown>;
  seed: number;
  msPerFrame: number;
}

/**
 * East coordinate (map frame, metres) splitting a map into train (west) and holdout (east):
 * the cut leaves `holdoutFraction` of the drivable lane length (vehicle lanelets' centrelines,
 * weighted by length) east of it. A quantile of what can be driven, not of the bounding box:
 * a few outlying ways must not leave the held-out side empty.
 */
export function holdoutCutEastM(map: Lanelet2Map, holdoutFraction: number): number {
  const xs: number[] = [];
  const ws: number[] = [];
  const lanes = map.lanelets.filter((l) => l.vehicle);
  for (const l of lanes.length > 0 ? lanes : map.lanelets) {
    const c = l.centreline;
    for (let i = 1; i < c.length; i++) {
      xs.push((c[i - 1]![0] + c[i]![0]) / 2);
      ws.push(Math.hypot(c[i]![0] - c[i - 1]![0], c[i]![1] - c[i - 1]![1]));
    }
  }
  if (xs.length === 0) for (const p of map.primitives) for (const q of p.points) {
    xs.push(q[0]);
    ws.push(1);
  }
  const order = xs.map((_, i) => i).sort((a, b) => xs[a]! - xs[b]!);
  const total = ws.reduce((a, b) => a + b, 0);
  let acc = 0;
  for (const i of order) {
    acc += ws[i]!;
    if (acc >= (1 - holdoutFraction) * total) return xs[i]!;
  }
  return xs[order[order.length - 1]!]!;
}

export function writeDataset(options: Partial<DatasetOptions> & Pick<DatasetOptions, 'outDir' | 'maps'>): DatasetMeta {
  const o: DatasetOptions = { ...DEFAULT_DATASET_OPTIONS, ...options };
  if (!(Number.isInteger(o.frames) && o.frames >= 1)) throw new RangeError(`frames must be an integer >= 1, got ${o.frames}`);
  if (o.maps.length === 0) throw new RangeError('maps must name at least one map');
  if (!(o.holdoutFraction > 0 && o.holdoutFraction < 1)) throw new RangeError(`holdoutFraction must be in (0, 1), got ${o.holdoutFraction}`);
  if (!['all', 'train', 'holdout'].includes(o.area)) throw new RangeError(`area must be all, train or holdout, got ${JSON.stringify(o.area)}`);
  const presetList = o.conditions === 'mixed' ? [] : o.conditions.split(',').map((s) => s.trim());
  for (const p of presetList) if (!isConditionPreset(p)) throw new RangeError(`conditions: unknown preset ${JSON.stringify(p)} (use mixed or ${Object.keys(CONDITION_PRESETS).join(', ')})`);
  for (const k of o.excludeEffects) if (!(k in CLEAR_CONDITIONS)) throw new RangeError(`excludeEffects: unknown effect ${JSON.stringify(k)}`);

  prepareOutDir(o.outDir, { clear: true });
  const sources = o.maps.map(({ name, map }) => {
    // The seed is already per map (by name), and the routes may circle a small loop as they did
    // before the pass limit (routes.ts): keep the frames the committed model was trained on.
    const plan = planFleet(map, { vehicles: o.vehiclesPerMap, drivesPerVehicle: 1, driveLengthM: o.driveLengthM, seed: deriveSeed(o.seed, name), perMapSeeds: false, maxPassesPerDrive: Infinity });
    return {
      name,
      renderer: new CameraRenderer(map),
      cutEastM: holdoutCutEastM(map, o.holdoutFraction),
      drives: plan.drives.map((d) => ({ drive: d, profile: undefined as DriveProfile | undefined, pitch: undefined as PitchTrack | undefined })),
    };
  });
  const imgFd = openSync(join(o.outDir, 'images.u8'), 'w');
  const lblFd = openSync(join(o.outDir, 'labels.u8'), 'w');
  const jsonFd = openSync(join(o.outDir, 'frames.jsonl'), 'w');
  const rng = new Rng(deriveSeed(o.seed, 'dataset'));
  let written = 0;
  let attempts = 0;
  let renderMs = 0;
  let width = 0;
  let height = 0;
  const calibrations = new Map<string, CameraCalibration>();
  try {
    while (written < o.frames) {
      if (++attempts > o.frames * 50 + 1000) throw new Error(`dataset: only ${written} of ${o.frames} frames found in area ${o.area} after ${attempts} attempts`);
      const src = sources[attempts % sources.length]!;
      const d = src.drives[rng.int(src.drives.length)]!;
      if (!d.profile) {
        d.profile = new DriveProfile(d.drive.route.centreline, new Rng(deriveSeed(d.drive.seed, 'drive')));
        const prof = d.profile;
        d.pitch = new PitchTrack(prof.durationS, (t) => prof.poseAt(t).accelMps2);
      }
      const tS = rng.uniform(0, d.profile.durationS);
      const pose = d.profile.poseAt(tS);
      const inHoldout = pose.xM > src.cutEastM;
      if ((o.area === 'train' && inHoldout) || (o.area === 'holdout' && !inHoldout)) continue;
      const calKey = `${src.name}/${d.drive.vehicleId}`;
      let cal = calibrations.get(calKey);
      if (!cal) {
        cal = vehicleCalibration(d.drive.vehicleId, deriveSeed(o.seed, src.name));
        calibrations.set(calKey, cal);
      }
      const frameRng = rng.fork(`frame-${written}`);
      let cond: CameraConditions;
      if (presetList.length > 0) cond = { ...CONDITION_PRESETS[frameRng.choice(presetList) as keyof typeof CONDITION_PRESETS], worldSeed: frameRng.int(1 << 30) };
      else cond = randomConditions(frameRng);
      for (const k of o.excludeEffects) (cond as unknown as Record<string, number>)[k] = (CLEAR_CONDITIONS as unknown as Record<string, number>)[k]!;
      const pitch = Math.max(-0.05, Math.min(0.05, d.pitch!.pitchRadAt(tS) + frameRng.normal(0, o.pitchNoiseRad)));
      const t0 = performance.now();
      const f = src.renderer.render(pose, cal, pitch, cond, frameRng);
      renderMs += performance.now() - t0;
      width = cal.widthPx;
      height = cal.heightPx;
      writeSync(imgFd, f.image);
      writeSync(lblFd, f.labels);
      const line = {
        map: src.name,
        seed: o.seed,
        driveId: d.drive.driveId,
        tS: Math.round(tS * 1000) / 1000,
        pose: { xM: round3(pose.xM), yM: round3(pose.yM), yawRad: Math.round(pose.yawRad * 1e6) / 1e6 },
        conditions: cond,
        calibration: cal,
        vehiclePitchRad: Math.round(pitch * 1e6) / 1e6,
        truth: bodyTruth(src.renderer.scene, pose),
      };
      writeSync(jsonFd, `${JSON.stringify(line)}\n`);
      written++;
      if (o.onProgress && written % 100 === 0) o.onProgress(written);
    }
  } finally {
    closeSync(imgFd);
    closeSync(lblFd);
    closeSync(jsonFd);
  }
  const meta: DatasetMeta = {
    schemaVersion: 1,
    labelSchema: LABEL_SCHEMA,
    count: written,
    imageWidthPx: width,
    imageHeightPx: height,
    labelWidthPx: width / 2,
    labelHeightPx: height / 2,
    classes: [...SEG_CLASS_NAMES],
    split: o.area === 'all' ? 'all' : `${o.area} (east ${Math.round(o.holdoutFraction * 100)}% of each map held out)`,
    maps: o.maps.map((m) => m.name),
    conditions: { mode: o.conditions, excludeEffects: [...o.excludeEffects] },
    seed: o.seed,
    msPerFrame: Math.round((renderMs / written) * 100) / 100,
  };
  writeFileSync(join(o.outDir, 'meta.json'), `${JSON.stringify(meta, null, 2)}\n`);
  return meta;
}

function round3(v: number): number {
  return Math.round(v * 1000) / 1000;
}
