/**
 * Georeferencing: body-frame perception observations -> WireObservations in tile-local
 * centimetres, using the pose estimated from GNSS + vehicle signals.
 *
 * For each PerceptionFrame, the pose at the frame's tMonoNs rotates and translates each vertex
 * (body x forward, y left, metres) into the pose's local east-north frame, then to WGS84. The
 * observation's tile is the MAP_TILE_ZOOM tile containing its FIRST vertex (cheap, deterministic,
 * and for points the only choice); all vertices are written in that tile's local frame
 * (shared/tiles.ts tileFrame: east-north at the tile centre) as whole centimetres. A polyline that
 * runs into the neighbouring tile stays with the tile of its first vertex (the wire format allows
 * coordinates up to MAX_ABS_COORD_CM from the centre).
 *
 * Frames before any pose, or too far outside the pose history, are dropped and counted.
 * The drive id comes from the last `drive` start marker (observations before any marker carry
 * `<vehicleId>-nodrive`); a drive start also resets the pose (the car may have been moved).
 * The daemon persists the drive state in the outbox so a restarted daemon keeps tagging the
 * drive that is still going on (`initialDrive`).
 */
import { tileFrame, tileKey, tileOf, type LocalFrame, type WireObservation, type BodyObservation, type DriveMarker, type PerceptionFrame } from '../shared/index.ts';
import { PoseEstimator, type GnssOutcome, type Pose } from './pose.ts';
import type { SensorMessage } from './intake.ts';
import type { ObservationCompactor } from './compact.ts';

export interface GeorefCounters {
  framesIn: number;
  framesBeforePose: number;
  framesPoseTooOld: number;
  framesPoseTooNew: number;
  /** Frames while the heading was unknown (before the drive's first GNSS course). */
  framesHeadingUnknown: number;
  framesWithoutDrive: number;
  /** Frames the compactor skipped (not keyframes). */
  framesNotKeyframes: number;
  observationsOut: number;
  drivesStarted: number;
  drivesEnded: number;
}

export interface GeorefResult {
  observations: WireObservation[];
  /** A drive end marker: the daemon should flush its outbox. */
  driveEnded?: string;
  driveStarted?: string;
  /** Why a perception frame produced nothing. */
  dropped?: 'before_pose' | 'pose_too_old' | 'pose_too_new' | 'heading_unknown';
  gnss?: GnssOutcome;
}

export class Georeferencer {
  readonly counters: GeorefCounters = {
    framesIn: 0,
    framesBeforePose: 0,
    framesPoseTooOld: 0,
    framesPoseTooNew: 0,
    framesHeadingUnknown: 0,
    framesWithoutDrive: 0,
    framesNotKeyframes: 0,
    observationsOut: 0,
    drivesStarted: 0,
    drivesEnded: 0,
  };
  private driveId: string | undefined;
  private driveOpen = false;

  constructor(
    readonly vehicleId: string,
    readonly pose: PoseEstimator = new PoseEstimator(),
    initialDrive?: { driveId: string | undefined; open: boolean },
    /** Optional compaction (edge/compact.ts); without it every frame is uploaded whole. */
    readonly compactor?: ObservationCompactor,
  ) {
    if (!vehicleId) throw new TypeError(`Georeferencer.vehicleId must be a non-empty string, got ${JSON.stringify(vehicleId)}`);
    if (initialDrive) {
      this.driveId = initialDrive.driveId;
      this.driveOpen = initialDrive.open;
    }
  }

  /** The current drive id, and whether its end marker has not been seen yet. */
  get drive(): { driveId: string | undefined; open: boolean } {
    return { driveId: this.driveId, open: this.driveOpen };
  }

  handle(m: SensorMessage): GeorefResult {
    switch (m.topic) {
      case 'vehicle':
        this.pose.onVehicle(m.payload);
        return { observations: [] };
      case 'gnss':
        return { observations: [], gnss: this.pose.onGnss(m.payload) };
      case 'drive':
        return this.onDrive(m.payload);
      case 'perception':
        return this.onFrame(m.payload);
      case 'camera':
      case 'radar':
        // Camera frames and radar scans go to the on-vehicle perception (edge/perception/), not here.
        return { observations: [] };
    }
  }

  private onDrive(d: DriveMarker): GeorefResult {
    if (d.event === 'start') {
      if (d.driveId !== this.driveId || !this.driveOpen) {
        this.pose.reset();
        this.compactor?.reset();
      }
      this.driveId = d.driveId;
      this.driveOpen = true;
      this.counters.drivesStarted++;
      return { observations: [], driveStarted: d.driveId };
    }
    this.driveOpen = false;
    this.counters.drivesEnded++;
    return { observations: [], driveEnded: d.driveId };
  }

  private onFrame(f: PerceptionFrame): GeorefResult {
    this.counters.framesIn++;
    const at = this.pose.poseAt(f.tMonoNs);
    const tUnixMs = this.pose.unixMsAt(f.tMonoNs);
    if (!at.ok || tUnixMs === undefined) {
      const reason = at.ok || at.reason === 'no_pose' ? 'before_pose' : at.reason === 'too_old' ? 'pose_too_old' : at.reason === 'no_heading' ? 'heading_unknown' : 'pose_too_new';
      if (reason === 'before_pose') this.counters.framesBeforePose++;
      else if (reason === 'pose_too_old') this.counters.framesPoseTooOld++;
      else if (reason === 'heading_unknown') this.counters.framesHeadingUnknown++;
      else this.counters.framesPoseTooNew++;
      return { observations: [], dropped: reason };
    }
    if (this.driveId === undefined) this.counters.framesWithoutDrive++;
    const driveId = this.driveId ?? `${this.vehicleId}-nodrive`;
    let kept: readonly BodyObservation[] = f.observations;
    if (this.compactor) {
      if (this.compactor.frameOrigin !== at.frame) {
        // The pose frame is re-anchored at the first fix of a drive; positions are not comparable across frames.
        this.compactor.reset();
        this.compactor.frameOrigin = at.frame;
      }
      const c = this.compactor.frame(at.pose.eastM, at.pose.northM, f.observations);
      if (!c) {
        this.counters.framesNotKeyframes++;
        return { observations: [] };
      }
      kept = c;
    }
    const observations = kept.map((o) => georeferenceObservation(o, at.pose, at.frame, driveId, Math.round(tUnixMs)));
    this.counters.observationsOut += observations.length;
    return { observations };
  }
}

/** Body point (x forward, y left, metres) to [eastM, northM] in the pose's frame. */
export function bodyToLocal(pose: Pose, xM: number, yM: number): [number, number] {
  const c = Math.cos(pose.headingRad);
  const s = Math.sin(pose.headingRad);
  return [pose.eastM + xM * c - yM * s, pose.northM + xM * s + yM * c];
}

export function georeferenceObservation(o: BodyObservation, pose: Pose, poseFrame: LocalFrame, driveId: string, tUnixMs: number): WireObservation {
  const lngLats = o.pointsBody.map(([x, y]) => poseFrame.toLngLat(bodyToLocal(pose, x, y)));
  const tile = tileOf(lngLats[0]!);
  const tf = tileFrame(tile);
  const w: WireObservation = {
    tile: tileKey(tile),
    driveId,
    tUnixMs,
    cls: o.cls,
    score: o.score,
    poseSigmaCm: Math.round(pose.sigmaM * 100),
    pointsCm: lngLats.map((p) => {
      const [e, n] = tf.toLocal(p);
      return [Math.round(e * 100) || 0, Math.round(n * 100) || 0]; // || 0: never -0 on the wire
    }),
  };
  if (o.cls === 'lane_divider' && o.style) w.style = o.style;
  if (o.cls === 'road_boundary' && o.kind) w.kind = o.kind;
  if (o.cls === 'traffic_sign') w.signCode = o.signCode ?? '';
  return w;
}

/**
 * A primitive already in the pose estimator's east-north frame (the on-vehicle local map's
 * output, metres) to a WireObservation: the same path as a body-frame observation at the
 * frame's origin with zero heading.
 */
export function georeferenceLocal(
  o: { cls: BodyObservation['cls']; style?: BodyObservation['style']; kind?: BodyObservation['kind']; signCode?: string; score: number; pointsLocal: Array<[number, number]>; poseSigmaM: number; tUnixMs: number },
  poseFrame: LocalFrame,
  driveId: string,
): WireObservation {
  const body: BodyObservation = { cls: o.cls, score: Math.min(1, Math.max(0, o.score)), pointsBody: o.pointsLocal };
  if (o.style) body.style = o.style;
  if (o.kind) body.kind = o.kind;
  if (o.signCode !== undefined) body.signCode = o.signCode;
  return georeferenceObservation(body, { tMonoNs: 0, eastM: 0, northM: 0, headingRad: 0, sigmaM: o.poseSigmaM, headingSigmaRad: 0 }, poseFrame, driveId, Math.round(o.tUnixMs));
}
