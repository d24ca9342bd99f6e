/**
 * The one table of on-vehicle topics (sensor bus -> edge daemon), in the manner of openpilot's
 * cereal/services.py: each topic's nominal rate and payload type. Sockets, tests and fixtures
 * derive from this table.
 *
 * Framing on ZeroMQ: a two-part message [topic (utf8), payload (msgpack)], except `camera`, whose
 * payload is raw bytes (shared/camera-frame.ts). The edge daemon's
 * intake is a PULL socket: sensor gateways PUSH, so a slow daemon applies backpressure instead
 * of silently dropping frames (which a PUB/SUB bus would do at its high-water mark).
 *
 * Frames: the vehicle body frame is x forward, y left (metres), origin at the rear axle
 * centre on the ground. Angles are radians, counter-clockwise from east (yaw) in the world.
 */
import type { CameraFrame } from './camera-frame.ts';
import type { RadarScan } from './radar.ts';
import type { BoundaryKind, DividerStyle, PrimitiveClass } from './schema.ts';

export interface GnssFix {
  /** Monotonic clock of the vehicle computer, nanoseconds since boot. */
  tMonoNs: number;
  /** GNSS time, Unix milliseconds (UTC). */
  tUnixMs: number;
  /** Receiver status: 'none' = no fix (outage), the position fields are then meaningless. */
  fixType: 'none' | '2d' | '3d';
  lat: number;
  lng: number;
  /** Receiver's own 1-sigma horizontal accuracy estimate, metres. */
  horizontalAccuracyM: number;
  /** Course over ground, radians counter-clockwise from east; NaN when unknown. */
  courseRad: number;
}

export interface VehicleSignals {
  tMonoNs: number;
  /** Wheel speed, metres per second. */
  speedMps: number;
  /** Yaw rate from the IMU, radians per second, counter-clockwise positive. */
  yawRateRps: number;
  /**
   * Pitch rate from the IMU, radians per second, positive = nose going down (ISO 8855:
   * right-handed about the body y axis, which points left). Optional: older gateways omit it.
   */
  pitchRateRps?: number;
}

/** One observed primitive in the vehicle body frame (x forward, y left, metres). */
export interface BodyObservation {
  cls: PrimitiveClass;
  style?: DividerStyle;
  kind?: BoundaryKind;
  signCode?: string;
  /** Confidence in [0, 1]. */
  score: number;
  /** Vertices `[xM, yM]` in the body frame; one entry for point classes. */
  pointsBody: Array<[number, number]>;
}

/** Output of a perception stage for one camera/lidar frame. */
export interface PerceptionFrame {
  tMonoNs: number;
  frameId: number;
  observations: BodyObservation[];
}

/** Marks the start and end of a drive (ignition cycle); the edge tags observations with it. */
export interface DriveMarker {
  tMonoNs: number;
  event: 'start' | 'end';
  /** Unique per vehicle and drive, e.g. "<vehicleId>-<bootCount>". */
  driveId: string;
}

export interface TopicSpec {
  /** Nominal publishing rate, hertz. */
  rateHz: number;
  /** Carried in the uplink batches (after edge processing) or only consumed on the vehicle. */
  description: string;
}

export const TOPICS = {
  gnss: { rateHz: 10, description: 'GNSS fix (GnssFix)' },
  vehicle: { rateHz: 50, description: 'wheel speed and yaw rate (VehicleSignals)' },
  perception: {
    rateHz: 2,
    description: 'map-primitive observations in the body frame (PerceptionFrame); produced by a perception stage',
  },
  drive: { rateHz: 0, description: 'drive start/end markers (DriveMarker)' },
  camera: {
    rateHz: 10,
    description: 'front camera frames: raw pixels behind a 24-byte header (shared/camera-frame.ts), not msgpack',
  },
  radar: { rateHz: 10, description: 'front radar detection lists in the body frame (RadarScan, shared/radar.ts)' },
} as const satisfies Record<string, TopicSpec>;

export type TopicName = keyof typeof TOPICS;

export interface TopicPayloads {
  gnss: GnssFix;
  vehicle: VehicleSignals;
  perception: PerceptionFrame;
  drive: DriveMarker;
  camera: CameraFrame;
  radar: RadarScan;
}

export function isTopicName(v: string): v is TopicName {
  return Object.prototype.hasOwnProperty.call(TOPICS, v);
}
