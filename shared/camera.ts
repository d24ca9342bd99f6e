/**
 * The front camera: its calibration (intrinsics and mounting), the projection between image
 * pixels and the ground, and the classes the on-vehicle perception model segments.
 *
 * Frames (all right-handed):
 * - body (ISO 8855): x forward, y left, z up, metres; origin at the rear axle centre on the
 *   ground. A ground point is `[xM, yM]` (z = 0).
 * - camera (OpenCV): x right, y down, z along the optical axis.
 * - image: `u` columns to the right, `v` rows down, pixels; the centre of the top-left pixel is
 *   (0.5, 0.5), so pixel (col, row) covers [col, col+1) x [row, row+1).
 *
 * Angles: `pitchRad` positive = looking down (nose down for the vehicle: ISO 8855, right-handed
 * about the body y axis, which points left); `yawRad` positive = turned left; `rollRad`
 * positive = right-handed about the optical axis projected forward (the left side up).
 *
 * The vehicle's own pitch (braking dips the nose) adds to the camera's mounting pitch; the
 * change of camera height it causes (a few millimetres) is neglected. Ground projection assumes
 * a flat road around the vehicle (what a single camera without depth can assume); road slope
 * changes are an error source the simulator can switch on.
 */

export const CAMERA_CALIBRATION_SCHEMA_VERSION = 1;

export interface CameraCalibration {
  schemaVersion: 1;
  /** Free text, e.g. "veh-003 front camera". */
  name: string;
  widthPx: number;
  heightPx: number;
  /** Focal lengths and principal point, pixels (pinhole, no distortion: images are rectified). */
  fxPx: number;
  fyPx: number;
  cxPx: number;
  cyPx: number;
  /** Mounting position in the body frame, metres (zM = height above the ground). */
  mountXM: number;
  mountYM: number;
  mountZM: number;
  /** Mounting orientation, radians (see the header for signs). */
  pitchRad: number;
  yawRad: number;
  rollRad: number;
}

/** Camera-to-body rotation (row-major 3x3) and camera position in the body frame. */
export interface CameraPose {
  /** R[row * 3 + col]: body = R * camera + t. */
  r: Float64Array;
  t: Float64Array;
}

/** The camera's pose in the body frame for a vehicle pitch (radians, nose down positive). */
export function cameraPose(cal: CameraCalibration, vehiclePitchRad = 0): CameraPose {
  const pitch = cal.pitchRad + vehiclePitchRad;
  // camera (x right, y down, z fwd) -> body-aligned (x fwd, y left, z up): C
  const C = [0, 0, 1, -1, 0, 0, 0, -1, 0];
  const rx = rotX(cal.rollRad);
  const ry = rotY(pitch);
  const rz = rotZ(cal.yawRad);
  const r = mul3(rz, mul3(ry, mul3(rx, C)));
  return { r: Float64Array.from(r), t: Float64Array.from([cal.mountXM, cal.mountYM, cal.mountZM]) };
}

/**
 * Where the ray through image point (u, v) meets the road surface, body frame metres; undefined
 * when it misses it (at or above the horizon on flat ground) or meets it behind the camera. The
 * surface is z = 0.5 * roadCurvaturePerM * x^2 (body x forward, z up; the vertical curvature of
 * the road ahead, 1/m: positive where the road rises into a dip ahead, negative over a crest, 0
 * the flat ground plane), `raySurfaceScale`.
 */
export function pixelToGround(pose: CameraPose, cal: CameraCalibration, u: number, v: number, out: [number, number] = [0, 0], roadCurvaturePerM = 0): [number, number] | undefined {
  const xc = (u - cal.cxPx) / cal.fxPx;
  const yc = (v - cal.cyPx) / cal.fyPx;
  const r = pose.r;
  const dx = r[0]! * xc + r[1]! * yc + r[2]!;
  const dy = r[3]! * xc + r[4]! * yc + r[5]!;
  const dz = r[6]! * xc + r[7]! * yc + r[8]!;
  const s = raySurfaceScale(pose.t[0]!, pose.t[2]!, dx, dz, roadCurvaturePerM);
  if (!(s > 0)) return undefined;
  out[0] = pose.t[0]! + s * dx;
  out[1] = pose.t[1]! + s * dy;
  return out;
}

/**
 * The ray (x, z) = (t0, t2) + s * (dx, dz) (body frame, from the camera at height t2) meets the
 * road surface z = 0.5 * k * x^2 at the smallest s > 0 returned here; NaN when it never does. For
 * k = 0 (flat ground) that is -t2 / dz for rays below the horizon (dz < 0). Otherwise the root of
 * 0.5 k dx^2 s^2 + (k t0 dx - dz) s + (0.5 k t0^2 - t2) = 0, taken in the form that stays exact
 * as k goes to 0 (q = -(b + sign(b) sqrt(disc)) / 2; roots q / a and c / q).
 */
export function raySurfaceScale(t0: number, t2: number, dx: number, dz: number, k: number): number {
  if (k === 0) return dz < -1e-9 ? -t2 / dz : Number.NaN;
  const a = 0.5 * k * dx * dx;
  const b = k * t0 * dx - dz;
  const c = 0.5 * k * t0 * t0 - t2;
  const disc = b * b - 4 * a * c;
  if (!(disc >= 0)) return Number.NaN;
  const q = -0.5 * (b + (b >= 0 ? 1 : -1) * Math.sqrt(disc));
  const s1 = q !== 0 ? c / q : Number.NaN;
  const s2 = a !== 0 ? q / a : Number.NaN;
  let s = Number.NaN;
  if (s1 > 1e-9) s = s1;
  if (s2 > 1e-9 && !(s <= s2)) s = s2;
  return s;
}

/**
 * Image point of a body-frame point (metres), or undefined when it is behind the camera
 * (depth under `minDepthM`). Returns [u, v, depthM].
 */
export function bodyToPixel(pose: CameraPose, cal: CameraCalibration, xM: number, yM: number, zM: number, minDepthM = 0.05, out: [number, number, number] = [0, 0, 0]): [number, number, number] | undefined {
  const px = xM - pose.t[0]!;
  const py = yM - pose.t[1]!;
  const pz = zM - pose.t[2]!;
  const r = pose.r;
  // camera = R^T * (p - t)
  const xc = r[0]! * px + r[3]! * py + r[6]! * pz;
  const yc = r[1]! * px + r[4]! * py + r[7]! * pz;
  const zc = r[2]! * px + r[5]! * py + r[8]! * pz;
  if (!(zc >= minDepthM)) return undefined;
  out[0] = cal.cxPx + (cal.fxPx * xc) / zc;
  out[1] = cal.cyPx + (cal.fyPx * yc) / zc;
  out[2] = zc;
  return out;
}

/** Image row of the horizon at the image centre column (rays above it never meet the ground). */
export function horizonRowPx(cal: CameraCalibration, vehiclePitchRad = 0): number {
  return cal.cyPx - cal.fyPx * Math.tan(cal.pitchRad + vehiclePitchRad);
}

/** Validate a calibration (parsed JSON); throws a RangeError naming every bad field. */
export function validateCameraCalibration(raw: unknown, source = '<inline>'): CameraCalibration {
  const problems: string[] = [];
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new RangeError(`camera calibration ${source}: must be a JSON object`);
  const c = raw as Record<string, unknown>;
  const num = (k: string, lo: number, hi: number, integer = false): void => {
    const v = c[k];
    if (!(typeof v === 'number' && Number.isFinite(v) && v >= lo && v <= hi && (!integer || Number.isInteger(v)))) {
      problems.push(`${k} must be ${integer ? 'an integer' : 'a number'} in [${lo}, ${hi}], got ${JSON.stringify(v) ?? 'undefined (missing)'}`);
    }
  };
  if (c.schemaVersion !== CAMERA_CALIBRATION_SCHEMA_VERSION) problems.push(`schemaVersion must be ${CAMERA_CALIBRATION_SCHEMA_VERSION}, got ${JSON.stringify(c.schemaVersion) ?? 'undefined (missing)'}`);
  if (typeof c.name !== 'string' || c.name.length > 200) problems.push(`name must be a string of at most 200 chars`);
  num('widthPx', 8, 8192, true);
  num('heightPx', 8, 8192, true);
  num('fxPx', 1, 1e5);
  num('fyPx', 1, 1e5);
  num('cxPx', 0, 8192);
  num('cyPx', 0, 8192);
  num('mountXM', -10, 10);
  num('mountYM', -5, 5);
  num('mountZM', 0.2, 5);
  num('pitchRad', -0.8, 0.8);
  num('yawRad', -0.8, 0.8);
  num('rollRad', -0.5, 0.5);
  if (problems.length > 0) throw new RangeError(`camera calibration ${source}: ${problems.join('; ')}`);
  return raw as CameraCalibration;
}

/**
 * Segmentation classes of the perception model: stable numbers (the model's output channels and
 * the training labels), never array positions elsewhere. `sign_base` / `light_base` mark a sign
 * or traffic light as a whole, its pole from the foot up and what it carries; the edge takes the
 * foot (the ground point georeferencing needs) from the lowest pixels of each column's run.
 */
export const SEG_CLASS_IDS = {
  background: 0,
  divider_solid: 1,
  divider_dashed: 2,
  boundary_curb: 3,
  boundary_border: 4,
  boundary_barrier: 5,
  stop_line: 6,
  crosswalk: 7,
  sign_base: 8,
  light_base: 9,
} as const;
export type SegClass = keyof typeof SEG_CLASS_IDS;
export const SEG_CLASS_COUNT = 10;
/** Label value for pixels the loss ignores (e.g. behind an occluding vehicle). */
export const SEG_IGNORE = 255;
/** Class names by id. */
export const SEG_CLASS_NAMES: readonly SegClass[] = (Object.keys(SEG_CLASS_IDS) as SegClass[]).sort((a, b) => SEG_CLASS_IDS[a] - SEG_CLASS_IDS[b]);

function rotX(a: number): number[] {
  const c = Math.cos(a);
  const s = Math.sin(a);
  return [1, 0, 0, 0, c, -s, 0, s, c];
}
/** Right-handed about +y (left): positive tips the forward axis down. */
function rotY(a: number): number[] {
  const c = Math.cos(a);
  const s = Math.sin(a);
  return [c, 0, s, 0, 1, 0, -s, 0, c];
}
function rotZ(a: number): number[] {
  const c = Math.cos(a);
  const s = Math.sin(a);
  return [c, -s, 0, s, c, 0, 0, 0, 1];
}
function mul3(a: readonly number[], b: readonly number[]): number[] {
  const o = new Array<number>(9);
  for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) o[i * 3 + j] = a[i * 3]! * b[j]! + a[i * 3 + 1]! * b[3 + j]! + a[i * 3 + 2]! * b[6 + j]!;
  return o;
}
