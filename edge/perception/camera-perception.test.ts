import { describe, expect, it } from 'vitest';
import type { CameraFrame, RadarScan } from '../../shared/index.ts';
import { CameraPerception, type FramePose, type FrameSegmenter } from './camera-perception.ts';
import type { SegOutput } from './decode.ts';
import type { LocalPrimitive } from './localmap.ts';
import { renderRoad, subsampleTable, TEST_CALIBRATION, type RoadScene } from './test-scene.ts';

// A straight road east along y = 0; the car drives it at 10 m/s from x = 0 to 90 m.
const SCENE: RoadScene = { originEastM: -50, originNorthM: 0, headingRad: 0, solidT: 1.75, dashedT: -1.75, lineWidthM: 0.15, dashM: 3, gapM: 6 };
const SPEED_MPS = 10;
const SIGN = { x: 45, y: 5 };
const LAMP_POST = { x: 60, y: -5 };
/** Where the camera's pole-foot pixels put the sign: 0.7 m long (its range is coarse). */
const SIGN_SEEN_BY_CAMERA = { x: 45.7, y: 5 };
const SENSOR_X_M = 3.8;
const FRAME_ID = {};

/** Stand-in for the model: the test road, plus the sign's foot as sign_base probability. */
function fakeSegmenter(poseAt: (tMonoNs: number) => { x: number }, pipelined = false, roadCurvaturePerM = 0): FrameSegmenter {
  const table = subsampleTable(TEST_CALIBRATION, 0, 128, 64, roadCurvaturePerM);
  return {
    inputWidthPx: 256,
    inputHeightPx: 128,
    // Pipelined: a fresh output per frame (as the worker segmenter's), answered on a later turn.
    pipelined,
    run: async (frame: CameraFrame): Promise<SegOutput> => {
      if (pipelined) await new Promise((resolve) => setImmediate(resolve));
      const { x } = poseAt(frame.tMonoNs);
      const out = renderRoad(SCENE, table, x, 0, 0);
      const sign = new Float32Array(out.widthPx * out.heightPx);
      for (let i = 0; i < sign.length; i++) {
        const gx = table[(i * 16 + 5) * 2]!;
        const gy = table[(i * 16 + 5) * 2 + 1]!;
        if (!Number.isNaN(gx) && Math.hypot(x + gx - SIGN_SEEN_BY_CAMERA.x, gy - SIGN_SEEN_BY_CAMERA.y) < 0.5) sign[i] = 0.6;
      }
      out.signBaseProb = sign;
      out.lightBaseProb = new Float32Array(sign.length);
      return out;
    },
  };
}

function scanAt(tMonoNs: number, carX: number, scanId: number): RadarScan {
  const detections = [SIGN, LAMP_POST].flatMap((t) => {
    const bx = t.x - carX;
    const lx = bx - SENSOR_X_M;
    const r = Math.hypot(lx, t.y);
    if (lx <= 0 || Math.abs(Math.atan2(t.y, lx)) > 0.87) return [];
    return [{ xM: bx, yM: t.y, rangeRateMps: (-SPEED_MPS * lx) / r, rcsDbsm: 8 }];
  });
  return { tMonoNs, scanId, sensorXM: SENSOR_X_M, sensorYM: 0, detections };
}

async function drive(withRadar: boolean, pipelined = false): Promise<{ prims: LocalPrimitive[]; p: CameraPerception }> {
  const xAt = (tMonoNs: number): number => (tMonoNs / 1e9) * SPEED_MPS;
  const poseOf = (tMonoNs: number): FramePose => ({ ok: true, eastM: xAt(tMonoNs), northM: 0, headingRad: 0, sigmaM: 0.5, frame: FRAME_ID, tUnixMs: 1_700_000_000_000 + tMonoNs / 1e6 });
  // A short synthetic drive gives the pole foot little evidence: the camera-only blob threshold is lowered to see it.
  const p = new CameraPerception(fakeSegmenter((t) => ({ x: xAt(t) }), pipelined), TEST_CALIBRATION, { revisit: false, localMap: { vectorize: { minPointEvidence: 0.5 } } });
  const prims: LocalPrimitive[] = [];
  const pixels = new Uint8Array(256 * 128 * 3);
  let scanId = 0;
  for (let tMs = 0; tMs <= 9000; tMs += 100) {
    const tMonoNs = tMs * 1e6;
    p.onVehicle({ tMonoNs, speedMps: SPEED_MPS, yawRateRps: 0 });
    if (withRadar) p.onRadar(scanAt(tMonoNs, xAt(tMonoNs), scanId++));
    if (tMs % 500 !== 0) continue;
    p.offer({ tMonoNs, frameId: tMs / 500, encoding: 'rgb8', widthPx: 256, heightPx: 128, exposureUs: 0, pixels });
    const f = p.take();
    if (f) for (const out of await p.process(f, poseOf)) prims.push(...out.primitives);
  }
  prims.push(...p.flush().primitives);
  return { prims, p };
}

describe('CameraPerception with a front radar', () => {
  it('puts the sign where the radar found its pole; the lamp post the camera does not call a sign stays out', async () => {
    const { prims, p } = await drive(true);
    const signs = prims.filter((q) => q.cls === 'traffic_sign');
    expect(signs).toHaveLength(1);
    const [x, y] = signs[0]!.pointsLocal[0]!;
    expect(Math.hypot(x - SIGN.x, y - SIGN.y)).toBeLessThan(0.1);
    expect(prims.some((q) => q.cls === 'traffic_light')).toBe(false);
    expect(p.counters.radarScansIn).toBe(91);
    expect(p.counters.radarPoles).toBe(2); // the sign and the lamp post
    expect(p.counters.radarScansDropped).toBe(0);
    // The dividers still come from the camera.
    expect(prims.filter((q) => q.cls === 'lane_divider').length).toBeGreaterThan(0);
  });

  it('without radar scans, the sign comes from the camera alone, where the camera saw it', async () => {
    const { prims, p } = await drive(false);
    const signs = prims.filter((q) => q.cls === 'traffic_sign');
    expect(signs).toHaveLength(1);
    const [x, y] = signs[0]!.pointsLocal[0]!;
    expect(Math.hypot(x - SIGN_SEEN_BY_CAMERA.x, y - SIGN_SEEN_BY_CAMERA.y)).toBeLessThan(0.3);
    expect(p.counters.radarPoles).toBe(0);
  });

  it('drops the oldest radar scans beyond its bound when no frame is run, and counts them', () => {
    const p = new CameraPerception(fakeSegmenter(() => ({ x: 0 })), TEST_CALIBRATION, { maxPendingRadarScans: 4 });
    for (let k = 0; k < 10; k++) p.onRadar(scanAt(k * 1e8, 0, k));
    expect(p.counters.radarScansDropped).toBe(6);
    expect(() => new CameraPerception(fakeSegmenter(() => ({ x: 0 })), TEST_CALIBRATION, { maxPendingRadarScans: 0 })).toThrow(/maxPendingRadarScans/);
  });
});

describe('CameraPerception with a pipelined segmenter (frame N fused while N+1 is segmented)', () => {
  it('finds exactly what the one-frame-at-a-time path finds, nothing lost at the flush', async () => {
    const plain = await drive(true, false);
    const piped = await drive(true, true);
    expect(piped.prims.length).toBeGreaterThanOrEqual(3); // two dividers and the sign
    expect(piped.prims).toEqual(plain.prims);
    expect(piped.p.counters.framesProcessed).toBe(plain.p.counters.framesProcessed);
    expect(piped.p.counters.primitivesOut).toBe(plain.p.counters.primitivesOut);
  });

  it('holds the last segmented frame until the next frame or the flush', async () => {
    const p = new CameraPerception(fakeSegmenter(() => ({ x: 0 }), true), TEST_CALIBRATION, { revisit: false });
    const poseOf = (): FramePose => ({ ok: true, eastM: 0, northM: 0, headingRad: 0, sigmaM: 0.5, frame: FRAME_ID, tUnixMs: 1_700_000_000_000 });
    p.offer({ tMonoNs: 0, frameId: 0, encoding: 'rgb8', widthPx: 256, heightPx: 128, exposureUs: 0, pixels: new Uint8Array(256 * 128 * 3) });
    await p.process(p.take()!, poseOf);
    expect(p.counters.framesProcessed).toBe(0);
    expect(p.holding).toBe(true);
    const out = p.flush();
    expect(p.counters.framesProcessed).toBe(1);
    expect(out.primitives.some((q) => q.cls === 'lane_divider')).toBe(true);
    expect(p.holding).toBe(false);
  });
});

describe('CameraPerception across drives in one run', () => {
  it.each([false, true])('runs the frames of a second drive whose sensor clock restarted at zero, and counts the restart (pipelined %s)', async (pipelined) => {
    const xAt = (tMonoNs: number): number => (tMonoNs / 1e9) * SPEED_MPS;
    const p = new CameraPerception(fakeSegmenter((t) => ({ x: xAt(t) }), pipelined), TEST_CALIBRATION, { revisit: false, maxRateHz: 10 });
    const pixels = new Uint8Array(256 * 128 * 3);
    const lineMetres = (prims: LocalPrimitive[]): number =>
      prims.filter((q) => q.cls === 'lane_divider').reduce((s, q) => s + q.pointsLocal.slice(1).reduce((m, pt, i) => m + Math.hypot(pt[0] - q.pointsLocal[i]![0], pt[1] - q.pointsLocal[i]![1]), 0), 0);
    // The daemon's pose is re-anchored at each drive start: each drive has a pose frame of its own.
    const playDrive = async (frameId: object): Promise<LocalPrimitive[]> => {
      const poseOf = (tMonoNs: number): FramePose => ({ ok: true, eastM: xAt(tMonoNs), northM: 0, headingRad: 0, sigmaM: 0.5, frame: frameId, tUnixMs: 1_700_000_000_000 + tMonoNs / 1e6 });
      const prims: LocalPrimitive[] = [];
      for (let tMs = 0; tMs <= 9000; tMs += 500) {
        p.offer({ tMonoNs: tMs * 1e6, frameId: tMs / 500, encoding: 'rgb8', widthPx: 256, heightPx: 128, exposureUs: 0, pixels });
        const f = p.take();
        if (f) for (const out of await p.process(f, poseOf)) prims.push(...out.primitives);
      }
      prims.push(...p.flush().primitives);
      return prims;
    };
    const first = await playDrive({});
    const processedFirst = p.counters.framesProcessed;
    const second = await playDrive({});
    expect(processedFirst).toBe(19);
    expect(p.counters.framesProcessed).toBe(2 * processedFirst);
    expect(p.counters.framesSkippedRate).toBe(0);
    expect(p.counters.sensorClockRestarts).toBe(1);
    expect(lineMetres(first)).toBeGreaterThan(50);
    expect(lineMetres(second)).toBeCloseTo(lineMetres(first), 0);
  });
});

describe('CameraPerception on a road that curves up ahead (a dip)', () => {
  /** Median |lateral offset| of the solid divider's vertices, and the slope estimate after the drive. */
  async function solidOffset(slope: boolean): Promise<{ offsetM: number; curvaturePerM: number; pairs: number }> {
    const k = 0.002;
    const xAt = (tMonoNs: number): number => (tMonoNs / 1e9) * SPEED_MPS;
    const p = new CameraPerception(fakeSegmenter((t) => ({ x: xAt(t) }), false, k), TEST_CALIBRATION, { revisit: false, slope: slope ? {} : false });
    const poseOf = (tMonoNs: number): FramePose => ({ ok: true, eastM: xAt(tMonoNs), northM: 0, headingRad: 0, sigmaM: 0.5, frame: FRAME_ID, tUnixMs: 1_700_000_000_000 + tMonoNs / 1e6 });
    const pixels = new Uint8Array(256 * 128 * 3);
    const prims: LocalPrimitive[] = [];
    for (let tMs = 0; tMs <= 9000; tMs += 500) {
      p.offer({ tMonoNs: tMs * 1e6, frameId: tMs / 500, encoding: 'rgb8', widthPx: 256, heightPx: 128, exposureUs: 0, pixels });
      const f = p.take();
      if (f) for (const out of await p.process(f, poseOf)) prims.push(...out.primitives);
    }
    const curvaturePerM = p.counters.roadCurvaturePerM;
    const pairs = p.counters.slopePairs;
    prims.push(...p.flush().primitives);
    // The solid divider at y = +1.75 m; vertices from x = 20 m on (the first frames have no estimate yet).
    const ys = prims.filter((q) => q.cls === 'lane_divider').flatMap((q) => q.pointsLocal.filter(([x, y]) => x > 20 && y > 0.5).map(([, y]) => y));
    ys.sort((a, b) => a - b);
    return { offsetM: ys[Math.floor(ys.length / 2)]!, curvaturePerM, pairs };
  }

  it('finds the curvature from the frames and puts the divider where it is; taken as flat, too wide', async () => {
    const flat = await solidOffset(false);
    const curved = await solidOffset(true);
    expect(flat.pairs).toBe(0);
    expect(curved.pairs).toBeGreaterThan(10);
    expect(Math.abs(curved.curvaturePerM - 0.002)).toBeLessThan(0.0004);
    expect(flat.offsetM - 1.75).toBeGreaterThan(0.08);
    expect(Math.abs(curved.offsetM - 1.75)).toBeLessThan(0.04);
  });
});
