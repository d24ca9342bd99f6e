/**
 * Front radar scans on the sensor bus (topic `radar`, msgpack like every topic but `camera`).
 *
 * A series-production corner/front radar (77 GHz) reports a detection list per scan. The radar
 * ECU applies its calibrated mounting, so detections arrive in the vehicle body frame (x forward,
 * y left, metres, origin at the rear axle centre on the ground, shared/topics.ts). The range rate
 * stays what the sensor measured: radial velocity along the line from the sensor (at
 * `sensorXM, sensorYM`) to the detection, positive when moving apart. A static object seen from a
 * car driving forward at v has rangeRate = -v * cos(bearing), which is how the edge tells the
 * road's furniture (poles, rails) from traffic.
 *
 * Payload (msgpack map):
 * ```
 * { tMonoNs, scanId, sensorXM, sensorYM,
 *   detections: [ { xM, yM, rangeRateMps, rcsDbsm }, ... ] }   // at most MAX_RADAR_DETECTIONS
 * ```
 */

export interface RadarDetection {
  /** Position in the body frame, metres (x forward, y left). */
  xM: number;
  yM: number;
  /** Radial velocity relative to the sensor, metres per second, positive = moving apart. */
  rangeRateMps: number;
  /** Radar cross-section, dBsm. */
  rcsDbsm: number;
}

export interface RadarScan {
  /** Monotonic clock of the vehicle computer at the scan, nanoseconds since boot. */
  tMonoNs: number;
  /** Scan counter (integer >= 0, may wrap). */
  scanId: number;
  /** The sensor's position in the body frame (its calibrated mounting), metres. */
  sensorXM: number;
  sensorYM: number;
  detections: RadarDetection[];
}

/** Most detections one scan may carry (a 77 GHz front radar reports up to a few hundred). */
export const MAX_RADAR_DETECTIONS = 512;
/** Largest |sensorXM| / |sensorYM|: the sensor sits on the car, metres. */
export const MAX_RADAR_MOUNT_M = 10;
/** Accepted range of rangeRateMps (m/s) and rcsDbsm (dBsm). */
export const RADAR_RANGE_RATE_LIMIT_MPS = 200;
export const RADAR_RCS_LIMITS_DBSM = [-80, 80] as const;
