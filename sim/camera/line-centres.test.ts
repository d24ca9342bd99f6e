/**
 * The edge's line centres (LocalMapOptions.lineCentreHalfPx) on the simulator's own labels: a
 * drive on a generated multi-lane road, each camera frame's label image fed to the on-vehicle
 * perception as if it were the model's output, at the true pose. Lines 4 m and more to the side
 * of the car's way are seen shallow across the image, where a label band two pixels wide spans
 * metres of road along each ray; taking only the band's middle puts them nearer the truth.
 */
import { describe, expect, it } from 'vitest';
import { SEG_IGNORE } from '../../shared/camera.ts';
import { pointPolylineDistM, pointSegmentDist2 } from '../../shared/geometry.ts';
import type { CameraFrame } from '../../shared/camera-frame.ts';
import { CameraPerception, type FramePose, type FrameSegmenter } from '../../edge/perception/camera-perception.ts';
import { allocSegOutput, type SegOutput } from '../../edge/perception/decode.ts';
import type { LocalPrimitive } from '../../edge/perception/localmap.ts';
import { DriveProfile } from '../drive.ts';
import { planFleet } from '../fleet.ts';
import { loadLanelet2, osmBoundsCentre } from '../lanelet2.ts';
import { generateMap } from '../mapgen/index.ts';
import { Rng, deriveSeed } from '../rng.ts';
import { vehicleCalibration } from './calibration.ts';
import { CLEAR_CONDITIONS } from './conditions.ts';
import { CameraRenderer } from './render.ts';

type P = [number, number];
const { osmXml } = generateMap({ seed: 41, layout: 'multilane' });
const map = loadLanelet2(osmXml, { origin: osmBoundsCentre(osmXml) });
const drive = planFleet(map, { vehicles: 1, drivesPerVehicle: 1, driveLengthM: 700, seed: 3 }).drives[0]!;
const renderer = new CameraRenderer(map);
const calibration = vehicleCalibration(drive.vehicleId, 1);
const dividers = map.primitives.filter((p) => p.cls === 'lane_divider').map((p) => p.points as P[]);

/** The label image of the frame being processed, as the model's arg-max (ignored pixels: background). */
class LabelSegmenter implements FrameSegmenter {
  readonly inputWidthPx = calibration.widthPx;
  readonly inputHeightPx = calibration.heightPx;
  labels: Uint8Array = new Uint8Array(0);
  private readonly out: SegOutput = allocSegOutput(calibration.widthPx / 2, calibration.heightPx / 2);
  async run(): Promise<SegOutput> {
    for (let i = 0; i < this.labels.length; i++) {
      const k = this.labels[i]!;
      this.out.classId[i] = k === SEG_IGNORE ? 0 : k;
      this.out.prob[i] = 0.9;
    }
    return this.out;
  }
}

/** Distance from p to the nearest of `lines`, and the foot point there. */
function distToLines(p: P, lines: readonly (readonly P[])[]): { d: number; at: P } {
  let best = { d2: Infinity, at: p };
  for (const l of lines) {
    for (let i = 1; i < l.length; i++) {
      const a = l[i - 1]!;
      const b = l[i]!;
      const { d2, t } = pointSegmentDist2(p, a, b);
      if (d2 < best.d2) best = { d2, at: [a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1])] };
    }
  }
  return { d: Math.sqrt(best.d2), at: best.at };
}

/** Distances of the uploaded dividers (every 0.25 m) to the true ones within 1 m, by the true line's distance from the car's way. */
async function dividerErrorsM(lineCentreHalfPx: number): Promise<{ near: number[]; far: number[] }> {
  const seg = new LabelSegmenter();
  const perception = new CameraPerception(seg, calibration, { maxRateHz: 100, revisit: false, localMap: { lineCentreHalfPx } });
  const profile = new DriveProfile(drive.route.centreline, new Rng(deriveSeed(drive.seed, 'drive')));
  const frame = {};
  const prims: P[][] = [];
  const take = (ps: readonly LocalPrimitive[]): void => {
    for (const p of ps) if (p.cls === 'lane_divider') prims.push(p.pointsLocal);
  };
  const rng = new Rng(7);
  for (let tS = 0; tS < profile.durationS; tS += 0.5) {
    const pose = profile.poseAt(tS);
    const f = renderer.render(pose, calibration, 0, { ...CLEAR_CONDITIONS }, rng);
    seg.labels = f.labels;
    const tMonoNs = Math.round(tS * 1e9) + 1e9;
    const cam: CameraFrame = { tMonoNs, frameId: Math.round(tS * 2), encoding: 'rgb8', widthPx: calibration.widthPx, heightPx: calibration.heightPx, exposureUs: f.exposureUs, pixels: f.image };
    perception.offer(cam);
    const ready = perception.take();
    if (!ready) continue;
    const poseOf = (): FramePose => ({ ok: true, eastM: pose.xM, northM: pose.yM, headingRad: pose.yawRad, sigmaM: 0.05, frame, tUnixMs: 1.7e12 + tS * 1000 });
    for (const out of await perception.process(ready, poseOf)) take(out.primitives);
  }
  take(perception.flush().primitives);
  const near: number[] = [];
  const far: number[] = [];
  for (const line of prims) {
    for (let i = 1; i < line.length; i++) {
      const a = line[i - 1]!;
      const b = line[i]!;
      const n = Math.max(1, Math.ceil(Math.hypot(b[0] - a[0], b[1] - a[1]) / 0.25));
      for (let j = 0; j < n; j++) {
        const p: P = [a[0] + ((b[0] - a[0]) * j) / n, a[1] + ((b[1] - a[1]) * j) / n];
        const t = distToLines(p, dividers);
        if (t.d > 1) continue;
        const fromWay = pointPolylineDistM(t.at, drive.route.centreline as P[]);
        if (fromWay < 2.5) near.push(t.d);
        else if (fromWay >= 4) far.push(t.d);
      }
    }
  }
  return { near, far };
}

const median = (v: number[]): number => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!;

describe('line centres on the simulator labels', () => {
  it('puts the lines beside the car nearer the truth, and the near ones no farther', async () => {
    const off = await dividerErrorsM(0);
    const on = await dividerErrorsM(0.5);
    // Measured: far 5.3 -> 2.3 cm, near 2.7 -> 2.7 cm, with as many points uploaded near and far.
    expect(on.far.length).toBeGreaterThan(0.8 * off.far.length);
    expect(median(on.far)).toBeLessThan(0.6 * median(off.far));
    expect(on.near.length).toBeGreaterThan(0.8 * off.near.length);
    expect(median(on.near)).toBeLessThan(median(off.near) + 0.005);
  }, 120_000);
});
