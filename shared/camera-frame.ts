/**
 * Camera frames on the sensor bus: raw pixels behind a small fixed header, one ZeroMQ frame
 * (`['camera', bytes]`), so a frame is never copied through msgpack.
 *
 * Layout (little-endian), CAMERA_FRAME_HEADER_BYTES = 24:
 * ```
 * offset size  field
 *  0     2     magic "FC" (0x46 0x43)
 *  2     1     version = 1
 *  3     1     encoding: 1 = rgb8 (3 bytes per pixel, R G B), 2 = gray8 (1 byte)
 *  4     2     widthPx  (u16)
 *  6     2     heightPx (u16)
 *  8     4     frameId  (u32, wraps)
 * 12     8     tMonoNs  (f64: exact below 2^53 ns = 104 days of uptime)
 * 20     4     exposureUs (u32; 0 = unknown)
 * 24     ...   pixels, rows top to bottom, widthPx * heightPx * bytesPerPixel bytes
 * ```
 */

export const CAMERA_FRAME_MAGIC = 0x4346; // "FC" read as little-endian u16
export const CAMERA_FRAME_VERSION = 1;
export const CAMERA_FRAME_HEADER_BYTES = 24;
/** Wire codes of pixel encodings (stable numbers). */
export const CAMERA_ENCODINGS = { rgb8: 1, gray8: 2 } as const;
export type CameraEncoding = keyof typeof CAMERA_ENCODINGS;
export const MAX_CAMERA_SIDE_PX = 4096;

export interface CameraFrame {
  tMonoNs: number;
  frameId: number;
  encoding: CameraEncoding;
  widthPx: number;
  heightPx: number;
  exposureUs: number;
  /** Pixels, a view into the message bytes (not copied). */
  pixels: Uint8Array;
}

export function bytesPerPixel(e: CameraEncoding): number {
  return e === 'rgb8' ? 3 : 1;
}

/** Header + pixels in one buffer. */
export function encodeCameraFrame(f: Omit<CameraFrame, 'pixels'> & { pixels: Uint8Array }): Uint8Array {
  const n = f.widthPx * f.heightPx * bytesPerPixel(f.encoding);
  if (f.pixels.length !== n) throw new RangeError(`camera frame: ${f.widthPx}x${f.heightPx} ${f.encoding} needs ${n} pixel bytes, got ${f.pixels.length}`);
  const buf = new Uint8Array(CAMERA_FRAME_HEADER_BYTES + n);
  const dv = new DataView(buf.buffer);
  dv.setUint16(0, CAMERA_FRAME_MAGIC, true);
  dv.setUint8(2, CAMERA_FRAME_VERSION);
  dv.setUint8(3, CAMERA_ENCODINGS[f.encoding]);
  dv.setUint16(4, f.widthPx, true);
  dv.setUint16(6, f.heightPx, true);
  dv.setUint32(8, f.frameId >>> 0, true);
  dv.setFloat64(12, f.tMonoNs, true);
  dv.setUint32(20, f.exposureUs >>> 0, true);
  buf.set(f.pixels, CAMERA_FRAME_HEADER_BYTES);
  return buf;
}

/** Decode and validate; returns the reason as a string when the bytes are not a camera frame. */
export function decodeCameraFrame(bytes: Uint8Array): CameraFrame | string {
  if (bytes.length < CAMERA_FRAME_HEADER_BYTES) return `camera frame of ${bytes.length} bytes is shorter than its ${CAMERA_FRAME_HEADER_BYTES}-byte header`;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (dv.getUint16(0, true) !== CAMERA_FRAME_MAGIC) return 'camera frame: bad magic (expected "FC")';
  const version = dv.getUint8(2);
  if (version !== CAMERA_FRAME_VERSION) return `camera frame: got v${version} data, expected v${CAMERA_FRAME_VERSION}`;
  const code = dv.getUint8(3);
  const encoding = (Object.keys(CAMERA_ENCODINGS) as CameraEncoding[]).find((k) => CAMERA_ENCODINGS[k] === code);
  if (!encoding) return `camera frame: unknown encoding code ${code}`;
  const widthPx = dv.getUint16(4, true);
  const heightPx = dv.getUint16(6, true);
  if (widthPx < 1 || heightPx < 1 || widthPx > MAX_CAMERA_SIDE_PX || heightPx > MAX_CAMERA_SIDE_PX) return `camera frame: size ${widthPx}x${heightPx} outside 1..${MAX_CAMERA_SIDE_PX}`;
  const tMonoNs = dv.getFloat64(12, true);
  if (!(Number.isFinite(tMonoNs) && tMonoNs >= 0)) return `camera frame: tMonoNs must be a non-negative number, got ${tMonoNs}`;
  const n = widthPx * heightPx * bytesPerPixel(encoding);
  if (bytes.length !== CAMERA_FRAME_HEADER_BYTES + n) return `camera frame: ${widthPx}x${heightPx} ${encoding} needs ${CAMERA_FRAME_HEADER_BYTES + n} bytes, got ${bytes.length}`;
  return {
    tMonoNs,
    frameId: dv.getUint32(8, true),
    encoding,
    widthPx,
    heightPx,
    exposureUs: dv.getUint32(20, true),
    pixels: bytes.subarray(CAMERA_FRAME_HEADER_BYTES),
  };
}
