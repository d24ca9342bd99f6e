/**
 * A simulated fleet straight into an object store, in-process: each drive simulated with the
 * oracle perception, georeferenced and compacted like the edge daemon does (Georeferencer +
 * ObservationCompactor, no sockets), encoded and signed as batches, stored where the ingest would
 * put them. For merge benchmarks and tests that need many drives quickly; the demo runs the real
 * processes instead.
 *
 * With `model` (a Segmenter), each drive is simulated with the camera and the front radar instead
 * and runs through the daemon's perception path (CameraPerception: model, ground projection,
 * local map, radar poles) with the daemon's own pose estimate, each frame processed as it comes
 * (the daemon's `--replay`, deterministic here: no other work runs between messages).
 */
import type { ObjectStore } from '../cloud/store/index.ts';
import { ObservationCompactor } from '../edge/compact.ts';
import { Georeferencer, georeferenceLocal } from '../edge/georef.ts';
import { PoseEstimator } from '../edge/pose.ts';
import { CameraPerception, framePoseOf, type CameraPerceptionOptions, type FrameSegmenter, type PerceptionOutput } from '../edge/perception/camera-perception.ts';
import type { LocalFrame } from '../shared/geo.ts';
import type { CameraConditions } from './camera/conditions.ts';
import { encodeBatch, type WireObservation } from '../shared/batch.ts';
import { generateSigningKeyPair, type SigningKey } from '../shared/signing.ts';
import type { CoveragePose } from './coverage.ts';
import type { PlannedDrive } from './fleet.ts';
import type { GnssErrorOptions } from './gnss-error.ts';
import type { Lanelet2Map } from './lanelet2.ts';
import { simulateDrive, type SimulatedDrive } from './simulate-drive.ts';

export interface FleetStoreOptions {
  /** Edge keyframe spacing, metres; 0 = no compaction (every perception frame uploaded). */
  keyframeSpacingM: number;
  /** Appended to every drive id (a second pass of the same plan). */
  driveSuffix: string;
  /** Observations per batch. */
  batchObservations: number;
  /** Signing key of the simulated fleet (the merge reads stored batches as trusted). */
  key?: SigningKey;
  /** Last sequence number per vehicle, carried between calls (updated in place). */
  seqOf?: Map<string, number>;
  /** Called after each drive. */
  onDrive?: (done: number, total: number) => void;
  /** GNSS error model of every drive of this call (default: the consumer receiver's, sim/gnss-error.ts). */
  gnss?: Partial<GnssErrorOptions>;
  /** The edge's floor on the receiver's reported accuracy, metres (`--gnss-min-sigma-m`; default the daemon's). */
  minGnssSigmaM?: number;
  /** The on-vehicle model instead of the oracle: camera frames at cameraHz and radar scans. */
  model?: {
    segmenter: FrameSegmenter;
    cameraHz: number;
    conditionsOf: (drive: PlannedDrive) => Partial<CameraConditions>;
    calibrationSeed: number;
    /** Hills of the map (sim/terrain.ts); default: none. */
    terrain?: { seed: number };
    /** The edge's road-curvature estimate (CameraPerception `slope`); default: the edge's. */
    slope?: CameraPerceptionOptions['slope'];
  };
}

export const DEFAULT_FLEET_STORE_OPTIONS: FleetStoreOptions = { keyframeSpacingM: 12, driveSuffix: '', batchObservations: 2000 };

export interface FleetStoreResult {
  /** Each drive's true trajectory, every 5th pose (for coverage). */
  trajectories: CoveragePose[][];
  /** Each drive's realised GNSS bias [eastM, northM], in trajectory order. */
  biases: Array<[number, number]>;
  observations: number;
  km: number;
  bytes: number;
  batches: number;
}

export async function simulateFleetIntoStore(map: Lanelet2Map, drives: readonly PlannedDrive[], store: ObjectStore, options: Partial<FleetStoreOptions> = {}): Promise<FleetStoreResult> {
  const o = { ...DEFAULT_FLEET_STORE_OPTIONS, ...options };
  const key = o.key ?? generateSigningKeyPair().privateKey;
  const seqOf = o.seqOf ?? new Map<string, number>();
  const out: FleetStoreResult = { trajectories: [], biases: [], observations: 0, km: 0, bytes: 0, batches: 0 };
  for (const [di, planned] of drives.entries()) {
    const drive = { ...planned, driveId: planned.driveId + o.driveSuffix };
    const m = o.model;
    const gnss = o.gnss ? { gnss: o.gnss } : {};
    const sim = m ? simulateDrive(map, drive, { camera: { enabled: true, hz: m.cameraHz, conditions: m.conditionsOf(drive), calibrationSeed: m.calibrationSeed }, radar: { enabled: true }, ...(m.terrain ? { terrain: m.terrain } : {}), ...gnss }) : simulateDrive(map, drive, gnss);
    out.km += sim.lengthM / 1000;
    const tr: CoveragePose[] = [];
    for (let i = 0; i < sim.truth.xM.length; i += 5) tr.push({ xM: sim.truth.xM[i]!, yM: sim.truth.yM[i]!, yawRad: sim.truth.yawRad[i]! });
    out.trajectories.push(tr);
    out.biases.push([sim.gnssBias.eastM, sim.gnssBias.northM]);
    const compactor = o.keyframeSpacingM > 0 && !m ? new ObservationCompactor({ keyframeSpacingM: o.keyframeSpacingM, maxWindowM: Math.max(30, o.keyframeSpacingM) }) : undefined;
    const geo = new Georeferencer(drive.vehicleId, new PoseEstimator(o.minGnssSigmaM === undefined ? {} : { minGnssSigmaM: o.minGnssSigmaM }), undefined, compactor);
    const obs: WireObservation[] = m ? await perceiveDrive(sim.messages, geo, new CameraPerception(m.segmenter, sim.calibration, { maxRateHz: 1000, ...(m.slope !== undefined ? { slope: m.slope } : {}) })) : [];
    if (!m) for (const msg of sim.messages) obs.push(...geo.handle(msg).observations);
    out.observations += obs.length;
    for (let i = 0; i < obs.length; i += o.batchObservations) {
      const seq = (seqOf.get(drive.vehicleId) ?? 0) + 1;
      seqOf.set(drive.vehicleId, seq);
      const chunk = obs.slice(i, i + o.batchObservations);
      const buf = encodeBatch({ vehicleId: drive.vehicleId, seq, createdUnixMs: chunk[chunk.length - 1]!.tUnixMs, queueDepth: 0, observations: chunk }, key);
      out.bytes += buf.length;
      out.batches++;
      await store.put(`batches/${drive.vehicleId}/${String(seq).padStart(10, '0')}.fmb`, buf);
    }
    o.onDrive?.(di + 1, drives.length);
  }
  return out;
}

/** The daemon's perception path over one drive's messages, in order (edge/parts.ts, in-process). */
async function perceiveDrive(messages: SimulatedDrive['messages'], geo: Georeferencer, p: CameraPerception): Promise<WireObservation[]> {
  const obs: WireObservation[] = [];
  const poseOf = framePoseOf(geo.pose);
  const emit = (out: PerceptionOutput): void => {
    const driveId = geo.drive.driveId;
    if (out.primitives.length === 0 || !out.frame || driveId === undefined) return;
    for (const q of out.primitives) obs.push(georeferenceLocal(q, out.frame as LocalFrame, driveId));
  };
  for (const msg of messages) {
    // A drive marker waits until the local map is flushed (as the daemon's intake does).
    if (msg.topic === 'drive') emit(p.flush());
    if (msg.topic === 'vehicle') p.onVehicle(msg.payload);
    if (msg.topic === 'radar') p.onRadar(msg.payload);
    if (msg.topic === 'camera') {
      p.offer(msg.payload);
      const f = p.take();
      if (f) for (const out of await p.process(f, poseOf)) emit(out);
      continue;
    }
    if (msg.topic !== 'radar') geo.handle(msg);
  }
  emit(p.flush());
  return obs;
}