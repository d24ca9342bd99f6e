/**
 * Simulate one planned drive: the messages the vehicle's sensor bus would carry, in time order,
 * plus the ground truth the evaluation needs.
 *
 * Topics (shared/topics.ts): `drive` start/end markers; `vehicle` wheel speed and yaw rate
 * (with a per-drive wheel-speed scale error and gyro bias); `gnss` fixes with the GnssErrorModel
 * applied (WGS84 through the map frame); `perception` frames from the OraclePerception test
 * double at the true pose (`camera` frames instead when the camera is on); `radar` scans of the
 * simulated front radar (sim/radar.ts) when it is on. `tMonoNs` counts nanoseconds since the
 * vehicle computer booted (`bootToStartS` before the start marker); `tUnixMs` is GNSS (UTC) time.
 */
import type { TopicName } from '../shared/topics.ts';
import { wrapAngleRad } from '../shared/geometry.ts';
import { DriveProfile, sampleTrajectory, type DriveOptions, type TrueTrajectory } from './drive.ts';
import type { PlannedDrive } from './fleet.ts';
import { GnssErrorModel, type GnssErrorOptions, type GnssEvent } from './gnss-error.ts';
import type { Lanelet2Map } from './lanelet2.ts';
import { sortMessages, type SimMessage } from './messages.ts';
import { OraclePerception, type OraclePerceptionOptions } from './oracle-perception.ts';
import { deriveSeed, Rng } from './rng.ts';
import type { CameraCalibration } from '../shared/camera.ts';
import { vehicleCalibration } from './camera/calibration.ts';
import { CLEAR_CONDITIONS, type CameraConditions } from './camera/conditions.ts';
import { PitchTrack, type PitchModelOptions } from './camera/pitch.ts';
import { renderFrame } from './camera/render.ts';
import { Terrain, type TerrainSpec } from './terrain.ts';
import { radarOptions, radarWorldFor, SimulatedRadar, type SimulatedRadarOptions } from './radar.ts';

export interface SimulatedCameraOptions {
  /** Emit rendered `camera` frames instead of oracle `perception` frames. */
  enabled: boolean;
  /** Camera frame rate, hertz. */
  hz: number;
  /** Imaging conditions of the drive (worldSeed defaults to the drive seed). */
  conditions: Partial<CameraConditions>;
  /** Seed of the per-vehicle mounting variation (same vehicle, same calibration). */
  calibrationSeed: number;
  /** A fixed calibration instead of the per-vehicle one. */
  calibration?: CameraCalibration;
  pitch: Partial<PitchModelOptions>;
}

export const DEFAULT_SIMULATED_CAMERA_OPTIONS: SimulatedCameraOptions = {
  enabled: false,
  hz: 10, // Hz
  conditions: {},
  calibrationSeed: 1,
  pitch: {},
};

export interface VehicleSignalOptions {
  /** Wheel-speed scale error per drive, 1-sigma (fraction). */
  speedScaleSigma: number;
  /** Wheel-speed noise per message, 1-sigma, m/s. */
  speedNoiseMps: number;
  /** Gyro bias per drive, 1-sigma, rad/s. */
  yawRateBiasSigmaRps: number;
  /** Gyro noise per message, 1-sigma, rad/s. */
  yawRateNoiseRps: number;
  /** Pitch gyro bias per drive, 1-sigma, rad/s (the same MEMS IMU as the yaw rate's). */
  pitchRateBiasSigmaRps: number;
  /** Pitch gyro noise per message, 1-sigma, rad/s. */
  pitchRateNoiseRps: number;
}

export const DEFAULT_VEHICLE_SIGNAL_OPTIONS: VehicleSignalOptions = {
  speedScaleSigma: 0.005, // fraction (0.5 %)
  speedNoiseMps: 0.02, // m/s
  yawRateBiasSigmaRps: 0.002, // rad/s
  yawRateNoiseRps: 0.003, // rad/s
  pitchRateBiasSigmaRps: 0.002, // rad/s
  pitchRateNoiseRps: 0.003, // rad/s
};

export interface SimulateDriveOptions {
  /** Message rates, hertz. */
  vehicleHz: number;
  gnssHz: number;
  perceptionHz: number;
  /** Rate of the returned true trajectory, hertz. */
  truthHz: number;
  drive: Partial<DriveOptions>;
  gnss: Partial<GnssErrorOptions>;
  perception: Partial<OraclePerceptionOptions>;
  vehicleSignals: Partial<VehicleSignalOptions>;
  /** Rendered front-camera frames (off by default: oracle perception frames). */
  camera: Partial<SimulatedCameraOptions>;
  /**
   * Simulated front radar scans (off by default). Its clutter is seeded by `radar.worldSeed`
   * (default 1), not by the drive: every drive on a map sees the same roadside objects.
   */
  radar: Partial<SimulatedRadarOptions>;
  /**
   * Hills that belong to the map (sim/terrain.ts; default none). Each camera frame is rendered on
   * the terrain's curvature ahead of the car, in place of the conditions' per-drive
   * `slopeCurvaturePerM`, and the pitch gyro turns with the road: it reads the grade's change,
   * -speed x curvature (nose down positive), on top of the body's pitch on its suspension.
   */
  terrain?: Partial<TerrainSpec> & { seed: number };
}

export const DEFAULT_SIMULATE_DRIVE_OPTIONS: SimulateDriveOptions = {
  vehicleHz: 10, // Hz (TOPICS.vehicle nominal is 50; 10 is plenty for dead reckoning here)
  gnssHz: 10, // Hz
  perceptionHz: 2, // Hz
  truthHz: 10, // Hz
  drive: {},
  gnss: {},
  perception: {},
  vehicleSignals: {},
  camera: {},
  radar: {},
};

/** The ground-truth trajectory with the vehicle clock beside the drive-relative seconds. */
export interface DriveTruth extends TrueTrajectory {
  /** Vehicle monotonic clock at each sample, ns since boot. */
  tMonoNs: Float64Array;
}

export interface SimulatedDrive {
  drive: PlannedDrive;
  /** All sensor-bus messages of the drive, ordered by tMonoNs. */
  messages: SimMessage[];
  truth: DriveTruth;
  /** The per-drive GNSS bias (the part averaging within the drive cannot remove), metres. */
  gnssBias: { eastM: number; northM: number };
  gnssEvents: readonly GnssEvent[];
  /**
   * Ground-truth primitive id -> number of perception frames in which it was inside the sensor
   * field (whether or not it was detected): which drive covered which part of the map.
   */
  primitivesInView: Map<string, number>;
  lengthM: number;
  durationS: number;
  /** Messages per topic. */
  counts: Record<TopicName, number>;
  /** The front camera's calibration of this vehicle (also when the camera is off). */
  calibration: CameraCalibration;
}

const oracleCache = new WeakMap<Lanelet2Map, Map<string, OraclePerception>>();

/** The oracle for a map and options, built once (its spatial index is the costly part). */
export function oracleFor(map: Lanelet2Map, options: Partial<OraclePerceptionOptions> = {}): OraclePerception {
  let byOptions = oracleCache.get(map);
  if (!byOptions) {
    byOptions = new Map();
    oracleCache.set(map, byOptions);
  }
  const key = JSON.stringify(options);
  let oracle = byOptions.get(key);
  if (!oracle) {
    oracle = new OraclePerception(map.primitives, options);
    byOptions.set(key, oracle);
  }
  return oracle;
}

export function simulateDrive(map: Lanelet2Map, drive: PlannedDrive, options: Partial<SimulateDriveOptions> = {}): SimulatedDrive {
  const o = { ...DEFAULT_SIMULATE_DRIVE_OPTIONS, ...options };
  for (const key of ['vehicleHz', 'gnssHz', 'perceptionHz', 'truthHz'] as const) {
    if (!(o[key] > 0 && o[key] <= 1000)) throw new RangeError(`${key} must be in (0, 1000] Hz, got ${o[key]}`);
  }
  const vs = { ...DEFAULT_VEHICLE_SIGNAL_OPTIONS, ...o.vehicleSignals };
  const cam = { ...DEFAULT_SIMULATED_CAMERA_OPTIONS, ...o.camera };
  if (cam.enabled && !(cam.hz > 0 && cam.hz <= 100)) throw new RangeError(`camera.hz must be in (0, 100] Hz, got ${cam.hz}`);
  const rad = radarOptions(o.radar);
  const calibration = cam.calibration ?? vehicleCalibration(drive.vehicleId, cam.calibrationSeed);
  const rng = (label: string): Rng => new Rng(deriveSeed(drive.seed, label));
  const profile = new DriveProfile(drive.route.centreline, rng('drive'), o.drive);
  const gnssModel = new GnssErrorModel(rng('gnss'), profile.durationS, o.gnss);
  const oracle = oracleFor(map, o.perception);
  const startNs = Math.round(drive.bootToStartS * 1e9);
  const monoNs = (tS: number): number => startNs + Math.round(tS * 1e9);
  const unixMs = (tS: number): number => drive.startUnixMs + Math.round(tS * 1000);
  const messages: SimMessage[] = [];
  const counts: Record<TopicName, number> = { drive: 0, vehicle: 0, gnss: 0, perception: 0, camera: 0, radar: 0 };
  const push = (m: SimMessage): void => {
    messages.push(m);
    counts[m.topic]++;
  };

  push({ topic: 'drive', payload: { tMonoNs: startNs, event: 'start', driveId: drive.driveId } });

  const vRng = rng('vehicle');
  const speedScale = 1 + vRng.normal(0, vs.speedScaleSigma);
  const gyroBias = vRng.normal(0, vs.yawRateBiasSigmaRps);
  const pitch = new PitchTrack(profile.durationS, (tS) => profile.poseAt(tS).accelMps2, cam.pitch);
  // The pitch gyro's errors from a stream of their own (the other signals' draws stay as they were).
  const pRngGyro = rng('pitch-gyro');
  const pitchGyroBias = pRngGyro.normal(0, vs.pitchRateBiasSigmaRps);
  const terrain = o.terrain ? new Terrain(o.terrain) : undefined;
  // Over a crest (curvature < 0) the road, and the car on it, pitches nose down as it drives on.
  const roadPitchRateRps = (p: { xM: number; yM: number; yawRad: number; speedMps: number }): number => (terrain ? -p.speedMps * terrain.curvatureAlongPerM(p.xM, p.yM, p.yawRad) : 0);
  forEachTick(profile.durationS, o.vehicleHz, (tS) => {
    const p = profile.poseAt(tS);
    const speedMps = p.speedMps > 0 ? Math.max(0, p.speedMps * speedScale + vRng.normal(0, vs.speedNoiseMps)) : 0;
    push({
      topic: 'vehicle',
      payload: {
        tMonoNs: monoNs(tS),
        speedMps: round(speedMps, 1e4),
        yawRateRps: round(p.yawRateRps + gyroBias + vRng.normal(0, vs.yawRateNoiseRps), 1e5),
        pitchRateRps: round(pitch.pitchRateRpsAt(tS) + roadPitchRateRps(p) + pitchGyroBias + pRngGyro.normal(0, vs.pitchRateNoiseRps), 1e6),
      },
    });
  });

  forEachTick(profile.durationS, o.gnssHz, (tS) => {
    const p = profile.poseAt(tS);
    const e = gnssModel.sample(tS, p.speedMps);
    const fix = e.fixType !== 'none';
    const ll = fix ? map.frame.toLngLat([p.xM + e.eastErrM, p.yM + e.northErrM]) : { lng: Number.NaN, lat: Number.NaN };
    push({
      topic: 'gnss',
      payload: {
        tMonoNs: monoNs(tS),
        tUnixMs: unixMs(tS),
        fixType: e.fixType,
        lat: ll.lat,
        lng: ll.lng,
        horizontalAccuracyM: round(e.horizontalAccuracyM, 1e3),
        courseRad: Number.isNaN(e.courseErrRad) ? Number.NaN : round(wrapAngleRad(p.yawRad + e.courseErrRad), 1e5),
      },
    });
  });

  const pRng = rng('perception');
  const inView = new Map<string, number>();
  let frameId = 0;
  forEachTick(profile.durationS, o.perceptionHz, (tS) => {
    const p = profile.poseAt(tS);
    const frame = oracle.observe(p, pRng);
    for (const i of frame.inView) {
      const id = map.primitives[i]!.id;
      inView.set(id, (inView.get(id) ?? 0) + 1);
    }
    if (!cam.enabled) push({ topic: 'perception', payload: { tMonoNs: monoNs(tS), frameId: frameId++, observations: frame.observations } });
  });

  if (cam.enabled) {
    const conditions: CameraConditions = { ...CLEAR_CONDITIONS, worldSeed: drive.seed % 1_000_000_007, ...cam.conditions };
    const cRng = rng('camera');
    let cameraFrameId = 0;
    let last: { xM: number; yM: number; yawRad: number; pitchRad: number; frame: ReturnType<typeof renderFrame> } | undefined;
    forEachTick(profile.durationS, cam.hz, (tS) => {
      const p = profile.poseAt(tS);
      const pitchRad = pitch.pitchRadAt(tS);
      // A car standing still sees the same picture: the simulator renders it once (a cost of the
      // simulation, not of the edge, which still receives every frame).
      const still = last && Math.hypot(p.xM - last.xM, p.yM - last.yM) < 0.02 && Math.abs(p.yawRad - last.yawRad) < 1e-4 && Math.abs(pitchRad - last.pitchRad) < 1e-4;
      if (!still) {
        const frameConditions = terrain ? { ...conditions, slopeCurvaturePerM: terrain.cameraCurvaturePerM(p.xM, p.yM, p.yawRad) } : conditions;
        last = { xM: p.xM, yM: p.yM, yawRad: p.yawRad, pitchRad, frame: renderFrame(map, p, calibration, pitchRad, frameConditions, cRng) };
      }
      const f = last!.frame;
      push({
        topic: 'camera',
        payload: { tMonoNs: monoNs(tS), frameId: cameraFrameId++, encoding: 'rgb8', widthPx: calibration.widthPx, heightPx: calibration.heightPx, exposureUs: f.exposureUs, pixels: f.image },
      });
    });
  }

  if (rad.enabled) {
    const radar = new SimulatedRadar(radarWorldFor(map, rad.worldSeed, rad.world), rad);
    const rRng = rng('radar');
    let scanId = 0;
    forEachTick(profile.durationS, rad.hz, (tS) => {
      const scan = radar.scan(profile.poseAt(tS), rRng);
      push({ topic: 'radar', payload: { tMonoNs: monoNs(tS), scanId: scanId++, sensorXM: rad.sensorXM, sensorYM: rad.sensorYM, detections: scan.detections } });
    });
  }

  push({ topic: 'drive', payload: { tMonoNs: monoNs(profile.durationS) + 1_000_000, event: 'end', driveId: drive.driveId } });

  const truth = sampleTruth(profile, o.truthHz, monoNs);
  return {
    drive,
    messages: sortMessages(messages),
    truth,
    gnssBias: { eastM: gnssModel.biasEastM, northM: gnssModel.biasNorthM },
    gnssEvents: gnssModel.events,
    primitivesInView: inView,
    lengthM: profile.lengthM,
    durationS: profile.durationS,
    counts,
    calibration,
  };
}

/** Calls fn at t = k / hz for k = 0, 1, ... while t <= durationS. */
function forEachTick(durationS: number, hz: number, fn: (tS: number) => void): void {
  const n = Math.floor(durationS * hz + 1e-9);
  for (let k = 0; k <= n; k++) fn(k / hz);
}

function sampleTruth(profile: DriveProfile, hz: number, monoNs: (tS: number) => number): DriveTruth {
  const t = sampleTrajectory(profile, hz);
  return { ...t, tMonoNs: t.tS.map(monoNs) };
}

function round(v: number, scale: number): number {
  return Number.isFinite(v) ? Math.round(v * scale) / scale : v;
}
