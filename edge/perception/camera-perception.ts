/**
 * CameraPerception: the daemon's perception stage as one object, without sockets or timers.
 *
 *   camera frame -> FrameGate (rate cap, latest frame wins; or backpressure when replaying)
 *     -> Segmenter (preprocess, onnxruntime, decode) -> GroundLut (calibration + vehicle pitch)
 *     -> LocalMap (odometry-frame evidence) -> finished stretches of road as LocalPrimitives.
 *   radar scan -> (queued until the next frame is run, then placed with the pose at its time)
 *     -> RadarPoleMap (static hits) -> poles in each finished chunk, which the camera's
 *        evidence names sign or light (vectorize.ts classifyPoles). Without radar scans in the
 *        pose frame, signs and lights come from the camera alone.
 *
 * The local map lives in the pose estimator's east-north frame; when that frame changes (a new
 * drive re-anchors the pose) everything held is flushed first, with the old frame, so nothing is
 * georeferenced in the wrong frame. The daemon's part (edge/parts.ts `runPerception`) drives it.
 */
import { wrapAngleRad, type CameraCalibration, type CameraFrame, type RadarScan, type VehicleSignals } from '../../shared/index.ts';
import type { PoseEstimator } from '../pose.ts';
import { FrameGate } from './gate.ts';
import { GroundLut, type GroundOptions } from './ground.ts';
import { LineStitcher } from './stitch.ts';
import { LocalMap, type LocalMapOptions, type LocalPrimitive } from './localmap.ts';
import { RevisitFilter, type RevisitOptions } from './revisit.ts';
import { PitchEstimator } from './pitch.ts';
import { GyroCurvature } from './gyro-curvature.ts';
import { SlopeEstimator, type SlopeOptions } from './slope.ts';
import { RadarPoleMap, type RadarPoleOptions } from './radar-poles.ts';
import { scaleCalibration } from './preprocess.ts';
import type { SegOutput } from './decode.ts';

/** What runs the model: the Segmenter, or a stand-in in tests. */
export interface FrameSegmenter {
  run(frame: CameraFrame): Promise<SegOutput>;
  /** Model input size (the calibration is scaled to it). */
  readonly inputWidthPx: number;
  readonly inputHeightPx: number;
  /**
   * Runs leave this thread free and results stay valid while the next frame runs (the worker
   * segmenter): perception fuses frame N while frame N+1 is segmented. Otherwise a result is
   * consumed before the next run starts.
   */
  readonly pipelined?: boolean;
  /** Per-stage time of the last run, milliseconds (where the segmenter measures it). */
  readonly timings?: { preprocessMs: number; inferenceMs: number; decodeMs: number };
}

/** A segmented frame waiting to be fused into the local map (pipelined perception). */
interface SegmentedFrame {
  seg: SegOutput;
  pose: Extract<FramePose, { ok: true }>;
  pitchRad: number;
  /** The revisit filter's odometer when the frame was run, metres. */
  travelledM: number;
}

/** Pose at a frame's time, in some east-north frame (any identity object), or why there is none. */
export type FramePose =
  | { ok: true; eastM: number; northM: number; headingRad: number; sigmaM: number; frame: unknown; tUnixMs: number }
  | { ok: false; reason: string };

/** The pose lookup perception runs with: the daemon's pose estimate at a sensor time. */
export function framePoseOf(pose: Pick<PoseEstimator, 'poseAt' | 'unixMsAt'>): (tMonoNs: number) => FramePose {
  return (tMonoNs) => {
    const at = pose.poseAt(tMonoNs);
    const tUnixMs = pose.unixMsAt(tMonoNs);
    if (!at.ok || tUnixMs === undefined) return { ok: false, reason: at.ok ? 'no_clock' : at.reason };
    return { ok: true, eastM: at.pose.eastM, northM: at.pose.northM, headingRad: at.pose.headingRad, sigmaM: at.pose.sigmaM, frame: at.frame, tUnixMs };
  };
}

export interface CameraPerceptionOptions {
  /** Most frames processed per second of sensor time, hertz (profile perception.maxHz). */
  maxRateHz: number;
  /**
   * A frame is not run when the vehicle moved less than this since the last frame that was, and
   * turned less than `minTurnRad`: a standing car sees the same road again (metres).
   */
  minTravelM: number;
  minTurnRad: number;
  localMap: Partial<LocalMapOptions>;
  /** Ground projection (range limits of the pixels that enter the local map). */
  ground: Partial<GroundOptions>;
  /** Each stretch of road once per drive (revisit.ts); `false` uploads every pass. */
  revisit: Partial<RevisitOptions> | false;
  /** Radar poles (radar-poles.ts). */
  radar: Partial<RadarPoleOptions>;
  /** Radar scans waiting for the next frame, at most (the oldest is dropped and counted). */
  maxPendingRadarScans: number;
  /** The road's vertical curvature from frame pairs (slope.ts, `{}` for its defaults); `false`: flat ground. */
  slope: Partial<SlopeOptions> | false;
}

/**
 * Defaults of the vehicle's local map, tuned on two Karlsruhe drives of the simulator (seeds 5
 * and 7, committed model): only pixels up to 15 m ahead enter it (farther rows cover metres of
 * road per pixel and mostly add noise; at 2 Hz a cell is still seen several times from near),
 * and a line needs presence 0.45 over 6 m (3 m: 17.7 kB/km and mAP@1.0 0.161 in the demo; 6 m: 10.3 kB/km, 0.193).
 */
export const DEFAULT_CAMERA_PERCEPTION_OPTIONS: CameraPerceptionOptions = {
  maxRateHz: 10, // Hz
  minTravelM: 0.5, // m
  minTurnRad: 0.02, // rad
  localMap: { vectorize: { presenceThreshold: 0.45, minLineLengthM: 6 } },
  ground: { maxRangeM: 15 }, // m
  revisit: {},
  radar: {},
  maxPendingRadarScans: 64, // scans (6 s at 10 Hz)
  // Off by default: on the simulator, whose slope is drawn per drive and averages out over a
  // fleet's drives, it moved the maps by less than the fleets differ (docs/MEASUREMENTS.md).
  slope: false,
};

/**
 * A frame whose sensor time lies this far before the latest one seen restarts the gate's clock
 * (frames of one stream arrive in order; a small step back is jitter, not a restart), milliseconds.
 */
export const SENSOR_CLOCK_RESTART_MS = 1000; // ms

export interface CameraPerceptionCounters {
  framesIn: number;
  framesProcessed: number;
  /** Frames skipped because they came sooner than 1 / maxRateHz after the last one started. */
  framesSkippedRate: number;
  /** Frames skipped because a newer one arrived while they waited (inference could not keep up). */
  framesSkippedBehind: number;
  framesWithoutPose: number;
  framesWrongSize: number;
  /** Frames not run because the vehicle stood still (minTravelM, minTurnRad). */
  framesSkippedStationary: number;
  /**
   * Sensor time ran backwards by more than SENSOR_CLOCK_RESTART_MS between frames: the sensors'
   * clock restarted (a new recording, a rebooted sensor hub) while the daemon stayed up.
   */
  sensorClockRestarts: number;
  primitivesOut: number;
  /** Primitives dropped whole / lines shortened because this drive already uploaded that stretch. */
  primitivesRevisitDropped: number;
  primitivesRevisitTrimmed: number;
  inferenceMsTotal: number;
  radarScansIn: number;
  /** Scans placed in the pole map (some are then skipped there: radarScansSkippedSlow). */
  radarScansPlaced: number;
  /** Scans dropped: more than maxPendingRadarScans waited (no frame was run for a while). */
  radarScansDropped: number;
  radarScansWithoutPose: number;
  radarScansSkippedSlow: number;
  /** Poles the radar found in emitted chunks (the camera then names them or not). */
  radarPoles: number;
  /** Frame pairs the road's vertical curvature was estimated from; its latest estimate, 1/m. */
  slopePairs: number;
  roadCurvaturePerM: number;
  /** How often the ground table was rebuilt (the pitch or the curvature moved beyond its tolerance). */
  groundTableBuilds: number;
}

/** Primitives ready for georeferencing, in the east-north frame `frame`. */
export interface PerceptionOutput {
  primitives: LocalPrimitive[];
  frame: unknown;
}

export class CameraPerception {
  readonly counters: CameraPerceptionCounters = {
    framesIn: 0,
    framesProcessed: 0,
    framesSkippedRate: 0,
    framesSkippedBehind: 0,
    framesWithoutPose: 0,
    framesWrongSize: 0,
    framesSkippedStationary: 0,
    sensorClockRestarts: 0,
    primitivesOut: 0,
    primitivesRevisitDropped: 0,
    primitivesRevisitTrimmed: 0,
    inferenceMsTotal: 0,
    radarScansIn: 0,
    radarScansPlaced: 0,
    radarScansDropped: 0,
    radarScansWithoutPose: 0,
    radarScansSkippedSlow: 0,
    radarPoles: 0,
    slopePairs: 0,
    roadCurvaturePerM: 0,
    groundTableBuilds: 0,
  };
  readonly gate: FrameGate<CameraFrame>;
  private readonly lut: GroundLut;
  private readonly pitch = new PitchEstimator();
  private readonly slope: SlopeEstimator | undefined;
  /** The road's curvature at the car from the pitch gyro (its fast part), beside the slope's. */
  private readonly gyroCurvature: GyroCurvature | undefined;
  private readonly localMapOptions: Partial<LocalMapOptions>;
  private localMap: LocalMap;
  private readonly stitcher = new LineStitcher();
  private readonly revisitOptions: Partial<RevisitOptions> | false;
  private revisits: RevisitFilter | undefined;
  /** Travel of the current pose frame so far (the revisit filter's odometer), metres. */
  private travelledM = 0;
  private mapFrame: unknown = undefined;
  private ready: CameraFrame | undefined;
  /** Segmented, not yet fused (pipelined segmenter only): fused while the next frame is segmented, or at flush. */
  private pending: SegmentedFrame | undefined;
  private readonly minTravelM: number;
  private readonly minTurnRad: number;
  /** Pose of the last frame run, in the local map's frame (valid when hasLastRun). */
  private readonly lastRun = { eastM: 0, northM: 0, headingRad: 0 };
  private hasLastRun = false;
  /** Newest sensor time offered, ms: the gate's clock. */
  private latestMs = Number.NEGATIVE_INFINITY;
  private readonly radarOptions: Partial<RadarPoleOptions>;
  private readonly maxPendingRadarScans: number;
  private poles: RadarPoleMap;
  /** Whether radar scans were placed in this pose frame (then radar poles make signs and lights). */
  private radarInFrame = false;
  /** Radar scans waiting for the next frame run, with the car's motion when they came. */
  private pendingScans: Array<{ scan: RadarScan; speedMps: number; yawRateRps: number }> = [];
  private motion = { speedMps: 0, yawRateRps: 0 };
  /** The pose lookup of the last frame run (flush places waiting scans with it). */
  private lastPoseOf: ((tMonoNs: number) => FramePose) | undefined;

  constructor(
    private readonly segmenter: FrameSegmenter,
    readonly calibration: CameraCalibration,
    options: Partial<CameraPerceptionOptions> = {},
  ) {
    const d = DEFAULT_CAMERA_PERCEPTION_OPTIONS;
    const maxRateHz = options.maxRateHz ?? d.maxRateHz;
    this.minTravelM = options.minTravelM ?? d.minTravelM;
    this.minTurnRad = options.minTurnRad ?? d.minTurnRad;
    if (!(this.minTravelM >= 0) || !(this.minTurnRad >= 0)) throw new RangeError(`minTravelM and minTurnRad must be >= 0, got ${this.minTravelM}, ${this.minTurnRad}`);
    this.gate = new FrameGate<CameraFrame>({ maxRateHz });
    this.lut = new GroundLut(scaleCalibration(calibration, segmenter.inputWidthPx, segmenter.inputHeightPx), { ...d.ground, ...options.ground });
    const lm = options.localMap ?? {};
    this.localMapOptions = { ...d.localMap, ...lm, vectorize: { ...d.localMap.vectorize, ...lm.vectorize } };
    this.radarOptions = { ...d.radar, ...options.radar };
    this.poles = new RadarPoleMap(this.radarOptions);
    this.maxPendingRadarScans = options.maxPendingRadarScans ?? d.maxPendingRadarScans;
    if (!(Number.isInteger(this.maxPendingRadarScans) && this.maxPendingRadarScans >= 1)) throw new RangeError(`maxPendingRadarScans must be an integer >= 1, got ${this.maxPendingRadarScans}`);
    this.localMap = this.newLocalMap();
    this.revisitOptions = options.revisit ?? d.revisit;
    this.revisits = this.revisitOptions === false ? undefined : new RevisitFilter(this.revisitOptions);
    const slope = options.slope ?? d.slope;
    this.slope = slope === false ? undefined : new SlopeEstimator(this.lut.calibration, this.lut.options.stride, slope);
    this.gyroCurvature = slope === false ? undefined : new GyroCurvature();
  }

  onVehicle(v: VehicleSignals): void {
    this.pitch.update(v.tMonoNs, v.pitchRateRps, v.speedMps);
    this.gyroCurvature?.update(v.tMonoNs, v.speedMps, this.pitch.roadPitchRateRps);
    this.motion = { speedMps: v.speedMps, yawRateRps: v.yawRateRps };
  }

  /** A radar scan from the bus: queued (bounded) until the next frame is run. */
  onRadar(scan: RadarScan): void {
    this.counters.radarScansIn++;
    this.pendingScans.push({ scan, ...this.motion });
    if (this.pendingScans.length > this.maxPendingRadarScans) {
      this.pendingScans.shift();
      this.counters.radarScansDropped++;
    }
  }

  /**
   * A camera frame from the bus. The gate's clock is sensor time (the frame's tMonoNs), so the
   * rate cap means the same whether the bus runs in real time or is replayed faster.
   */
  offer(frame: CameraFrame): void {
    this.counters.framesIn++;
    if (frame.widthPx !== this.calibration.widthPx || frame.heightPx !== this.calibration.heightPx) {
      this.counters.framesWrongSize++;
      return;
    }
    const tMs = frame.tMonoNs / 1e6;
    if (tMs < this.latestMs - SENSOR_CLOCK_RESTART_MS) {
      // Without this, every frame until the old time came round again would be over the rate cap.
      this.counters.sensorClockRestarts++;
      this.latestMs = tMs;
      this.gate.restartClock();
    }
    this.latestMs = Math.max(this.latestMs, tMs);
    const start = this.gate.offer(frame, this.latestMs);
    if (start) this.ready = start;
    this.syncSkips();
  }

  /** Frames held (in flight + waiting), never more than 2. */
  get depth(): number {
    return this.gate.depth;
  }

  /** The frame to run now, if any (it is then in flight until `process` returns). */
  take(): CameraFrame | undefined {
    const f = this.ready;
    this.ready = undefined;
    return f;
  }

  /** Whether nothing is in flight or waiting. */
  get idle(): boolean {
    return this.gate.depth === 0 && this.ready === undefined;
  }

  /** Whether the local map holds evidence not yet emitted (or lines waiting for their continuation). */
  get holding(): boolean {
    return this.pending !== undefined || this.localMap.chunksHeld > 0 || this.stitcher.holding;
  }

  /**
   * Run one frame taken with `take()`: segment, project, fuse; returns what the local map
   * finished (plus, when the pose frame changed, everything held from the old frame).
   */
  async process(frame: CameraFrame, poseOf: (tMonoNs: number) => FramePose): Promise<PerceptionOutput[]> {
    const out: PerceptionOutput[] = [];
    try {
      const pose = poseOf(frame.tMonoNs);
      if (!pose.ok) {
        this.counters.framesWithoutPose++;
        return out;
      }
      if (pose.frame !== this.mapFrame) {
        if (this.mapFrame !== undefined) out.push(this.flush());
        this.mapFrame = pose.frame;
        this.hasLastRun = false;
      }
      this.lastPoseOf = poseOf;
      this.placeScans(poseOf, frame.tMonoNs);
      const last = this.lastRun;
      if (this.hasLastRun && Math.hypot(pose.eastM - last.eastM, pose.northM - last.northM) < this.minTravelM && Math.abs(wrapAngleRad(pose.headingRad - last.headingRad)) < this.minTurnRad) {
        this.counters.framesSkippedStationary++;
        return out;
      }
      if (this.hasLastRun) this.travelledM += Math.hypot(pose.eastM - last.eastM, pose.northM - last.northM);
      last.eastM = pose.eastM;
      last.northM = pose.northM;
      last.headingRad = pose.headingRad;
      this.hasLastRun = true;
      const pitchRad = this.pitch.pitchRad(frame.tMonoNs);
      const travelledM = this.travelledM;
      const t0 = performance.now();
      if (this.segmenter.pipelined) {
        // The segmenter works off this thread: fuse the previous frame meanwhile.
        const running = this.segmenter.run(frame);
        running.catch(() => {}); // awaited below; fusing may throw first
        const ready = this.fusePending();
        if (ready.length > 0) out.push(this.emit(ready));
        const seg = await running;
        const t = this.segmenter.timings;
        this.counters.inferenceMsTotal += t ? t.preprocessMs + t.inferenceMs + t.decodeMs : performance.now() - t0;
        this.pending = { seg, pose, pitchRad, travelledM };
      } else {
        const seg = await this.segmenter.run(frame);
        this.counters.inferenceMsTotal += performance.now() - t0;
        const ready = this.fuse({ seg, pose, pitchRad, travelledM });
        if (ready.length > 0) out.push(this.emit(ready));
      }
      return out;
    } finally {
      const next = this.gate.done(this.latestMs);
      if (next) this.ready = next;
      this.syncSkips();
    }
  }

  /** Emit everything the local map holds (drive end, pose frame change) and start afresh. */
  flush(): PerceptionOutput {
    if (this.lastPoseOf) this.placeScans(this.lastPoseOf, Number.POSITIVE_INFINITY);
    const fused = this.fusePending();
    const r = this.localMap.flush();
    const out = this.emit([...fused, ...this.stitcher.push(this.once(r.primitives, this.travelledM)), ...this.stitcher.flush()]);
    this.poles = new RadarPoleMap(this.radarOptions);
    this.radarInFrame = false;
    this.pendingScans = [];
    this.lastPoseOf = undefined;
    this.localMap = this.newLocalMap();
    // The memory belongs to one pose frame and one drive.
    if (this.revisitOptions !== false) this.revisits = new RevisitFilter(this.revisitOptions);
    this.travelledM = 0;
    this.hasLastRun = false;
    this.slope?.reset();
    this.gyroCurvature?.reset();
    return out;
  }

  private newLocalMap(): LocalMap {
    return new LocalMap(this.localMapOptions, (chunk) => {
      if (!this.radarInFrame) return undefined;
      const found = this.poles.polesIn(chunk);
      this.counters.radarPoles += found.length;
      return found.map((p) => ({ xM: p.eastM, yM: p.northM }));
    });
  }

  /** Place the waiting radar scans up to `untilMonoNs` in the pole map, in the local map's frame. */
  private placeScans(poseOf: (tMonoNs: number) => FramePose, untilMonoNs: number): void {
    const skippedBefore = this.poles.counters.scansSkippedSlow;
    let k = 0;
    for (; k < this.pendingScans.length; k++) {
      const { scan, speedMps, yawRateRps } = this.pendingScans[k]!;
      if (scan.tMonoNs > untilMonoNs) break;
      const pose = poseOf(scan.tMonoNs);
      if (!pose.ok || pose.frame !== this.mapFrame) {
        this.counters.radarScansWithoutPose++;
        continue;
      }
      this.poles.addScan(scan, { eastM: pose.eastM, northM: pose.northM, headingRad: pose.headingRad, speedMps, yawRateRps });
      this.counters.radarScansPlaced++;
      this.radarInFrame = true;
    }
    if (k > 0) this.pendingScans.splice(0, k);
    this.counters.radarScansSkippedSlow += this.poles.counters.scansSkippedSlow - skippedBefore;
  }

  /** Fuse a segmented frame into the local map; returns the lines and features that finished. */
  private fuse(f: SegmentedFrame): LocalPrimitive[] {
    let curvaturePerM = 0;
    if (this.slope) {
      // The camera's parallax holds the slow part of the curvature, the gyro the fast part.
      const maxPerM = this.slope.options.maxCurvaturePerM;
      const sum = this.slope.observe(f.seg, f.pose, f.pitchRad) + (this.gyroCurvature?.deviationPerM ?? 0);
      curvaturePerM = sum > maxPerM ? maxPerM : sum < -maxPerM ? -maxPerM : sum;
      this.counters.slopePairs = this.slope.counters.pairsCompared;
      this.counters.roadCurvaturePerM = curvaturePerM;
    }
    if (this.lut.update(f.pitchRad, curvaturePerM)) this.counters.groundTableBuilds++;
    this.localMap.addFrame(f.seg, this.lut, f.pose, f.pose.tUnixMs);
    this.counters.framesProcessed++;
    const done = this.localMap.finish(f.pose.eastM, f.pose.northM, f.pose.headingRad);
    return done.chunksEmitted > 0 ? this.stitcher.push(this.once(done.primitives, f.travelledM)) : [];
  }

  private fusePending(): LocalPrimitive[] {
    const f = this.pending;
    this.pending = undefined;
    return f ? this.fuse(f) : [];
  }

  /** What this drive has not uploaded yet (all of it with the filter off); `travelledM`: the odometer then. */
  private once(prims: LocalPrimitive[], travelledM: number): LocalPrimitive[] {
    if (!this.revisits) return prims;
    const c = this.revisits.counters;
    const dropped = c.dropped;
    const trimmed = c.trimmed;
    const out = this.revisits.filter(prims, travelledM);
    this.counters.primitivesRevisitDropped += c.dropped - dropped;
    this.counters.primitivesRevisitTrimmed += c.trimmed - trimmed;
    return out;
  }

  private emit(primitives: LocalPrimitive[]): PerceptionOutput {
    this.counters.primitivesOut += primitives.length;
    return { primitives, frame: this.mapFrame };
  }

  private syncSkips(): void {
    this.counters.framesSkippedRate = this.gate.counters.skippedRateCap;
    this.counters.framesSkippedBehind = this.gate.counters.skippedReplaced;
  }
}
