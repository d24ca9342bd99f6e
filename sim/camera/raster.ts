/**
 * The frame buffers of one rendered camera frame and the polygon rasteriser that fills them:
 * body-frame polygons (metres) are moved into the camera frame, clipped against a near plane,
 * projected and scan-converted (even-odd rule, pixel centres) into
 * - `base`: the per-pixel base layer (sky and ground) at output resolution;
 * - `rgb`: a supersampled float RGB buffer (0..1, `ss` x `ss` samples per output pixel), with
 *   alpha blending or multiplication (shadows). Only output pixels a polygon touches are
 *   supersampled: their samples are copied from `base` when first drawn on (`expanded`), and
 *   `resolve` averages them and takes `base` for all other pixels;
 * - `label`: class ids at stride 2 of the output image (PERCEPTION.md section 2).
 * Ground points lie at z = 0.5 * k * x^2 (a vertical curvature of the road, `slopeK`).
 */
import type { CameraCalibration, CameraPose } from '../../shared/camera.ts';

const MAX_VERTS = 32;
const NEAR_M = 0.3;
const MODE_SET = 0;
const MODE_BLEND = 1;
const MODE_MULTIPLY = 2;

export class FrameRaster {
  readonly widthPx: number;
  readonly heightPx: number;
  /** Samples per output pixel along each axis. */
  readonly ss: number;
  readonly ssWidth: number;
  readonly ssHeight: number;
  readonly labelWidth: number;
  readonly labelHeight: number;
  readonly rgb: Float32Array;
  /** Output-resolution RGB base layer, filled before any polygon is drawn. */
  readonly base: Float32Array;
  /**
   * Per output pixel: 1 when its samples in `rgb` are in use (copied from `base`), 2 when they
   * were but a polygon has covered the pixel in full since (`base` holds its colour again).
   */
  readonly expanded: Uint8Array;
  /** Pixels expanded this frame, each once. */
  private readonly expandedList: Int32Array;
  private expandedCount = 0;
  readonly label: Uint8Array;
  /** Body-frame polygon input (metres); fill bx/by/bz[0..n) then call a fill method. */
  readonly bx = new Float64Array(MAX_VERTS);
  readonly by = new Float64Array(MAX_VERTS);
  readonly bz = new Float64Array(MAX_VERTS);

  /** Set polygon vertex i (body frame, metres). */
  setVertex(i: number, xM: number, yM: number, zM: number): void {
    this.bx[i] = xM;
    this.by[i] = yM;
    this.bz[i] = zM;
  }
  // camera
  readonly r = new Float64Array(9);
  readonly t = new Float64Array(3);
  fx = 1;
  fy = 1;
  cx = 0;
  cy = 0;
  slopeK = 0;
  // scratch
  private readonly cxs = new Float64Array(MAX_VERTS);
  private readonly cys = new Float64Array(MAX_VERTS);
  private readonly czs = new Float64Array(MAX_VERTS);
  private readonly qx = new Float64Array(MAX_VERTS * 2);
  private readonly qy = new Float64Array(MAX_VERTS * 2);
  private readonly qz = new Float64Array(MAX_VERTS * 2);
  private readonly sx = new Float64Array(MAX_VERTS * 2);
  private readonly sy = new Float64Array(MAX_VERTS * 2);
  private readonly xints = new Float64Array(MAX_VERTS * 2);
  private readonly spanRow: Int32Array;
  private readonly spanX0: Int32Array;
  private readonly spanX1: Int32Array;

  constructor(widthPx: number, heightPx: number, ss = 2) {
    if (!(Number.isInteger(widthPx) && widthPx >= 8 && widthPx % 2 === 0)) throw new RangeError(`widthPx must be an even integer >= 8, got ${widthPx}`);
    if (!(Number.isInteger(heightPx) && heightPx >= 8 && heightPx % 2 === 0)) throw new RangeError(`heightPx must be an even integer >= 8, got ${heightPx}`);
    if (!(Number.isInteger(ss) && ss >= 1 && ss <= 4)) throw new RangeError(`ss must be an integer in [1, 4], got ${ss}`);
    this.widthPx = widthPx;
    this.heightPx = heightPx;
    this.ss = ss;
    this.ssWidth = widthPx * ss;
    this.ssHeight = heightPx * ss;
    this.labelWidth = widthPx / 2;
    this.labelHeight = heightPx / 2;
    this.rgb = new Float32Array(this.ssWidth * this.ssHeight * 3);
    this.base = new Float32Array(widthPx * heightPx * 3);
    this.expanded = new Uint8Array(widthPx * heightPx);
    this.expandedList = new Int32Array(widthPx * heightPx);
    this.label = new Uint8Array(this.labelWidth * this.labelHeight);
    const maxSpans = this.ssHeight * MAX_VERTS;
    this.spanRow = new Int32Array(maxSpans);
    this.spanX0 = new Int32Array(maxSpans);
    this.spanX1 = new Int32Array(maxSpans);
  }

  setCamera(pose: CameraPose, cal: CameraCalibration, slopeK: number): void {
    if (cal.widthPx !== this.widthPx || cal.heightPx !== this.heightPx) throw new RangeError(`calibration is ${cal.widthPx}x${cal.heightPx} px, the raster ${this.widthPx}x${this.heightPx} px`);
    this.r.set(pose.r);
    this.t.set(pose.t);
    this.fx = cal.fxPx;
    this.fy = cal.fyPx;
    this.cx = cal.cxPx;
    this.cy = cal.cyPx;
    this.slopeK = slopeK;
  }

  /** Start a frame: no pixel is supersampled yet, labels are background (0). */
  beginFrame(): void {
    this.expanded.fill(0);
    this.expandedCount = 0;
    this.label.fill(0);
  }

  /** Copy the base colour into the samples of the output pixels under ss row `row`, columns [x0, x1). */
  private expand(row: number, x0: number, x1: number): void {
    const ss = this.ss;
    const W = this.widthPx;
    const sw = this.ssWidth;
    const v = (row / ss) | 0;
    const u1 = ((x1 - 1) / ss) | 0;
    const ex = this.expanded;
    const base = this.base;
    const rgb = this.rgb;
    for (let u = (x0 / ss) | 0; u <= u1; u++) {
      const p = v * W + u;
      if (ex[p] === 1) continue;
      if (ex[p] === 0) this.expandedList[this.expandedCount++] = p;
      ex[p] = 1;
      const cr = base[p * 3]!;
      const cg = base[p * 3 + 1]!;
      const cb = base[p * 3 + 2]!;
      for (let a = 0; a < ss; a++) {
        let i = ((v * ss + a) * sw + u * ss) * 3;
        for (let b = 0; b < ss; b++, i += 3) {
          rgb[i] = cr;
          rgb[i + 1] = cg;
          rgb[i + 2] = cb;
        }
      }
    }
  }

  /** Finish the frame's colours: supersampled pixels are averaged into `base`, which is then the output image. */
  resolve(): Float32Array {
    const ss = this.ss;
    const W = this.widthPx;
    const sw = this.ssWidth;
    const src = this.rgb;
    const base = this.base;
    const ex = this.expanded;
    const list = this.expandedList;
    const inv = 1 / (ss * ss);
    // the count is read once and reset before the loop (no property access after it: the loop runs
    // once per frame, often in on-stack-replaced code)
    const count = this.expandedCount;
    this.expandedCount = 0;
    for (let q = 0; q < count; q++) {
      const p = list[q]!;
      if (ex[p] !== 1) {
        ex[p] = 0; // painted over in full since: its base is the colour
        continue;
      }
      const v = (p / W) | 0;
      const u = p - v * W;
      let r = 0;
      let g = 0;
      let b = 0;
      for (let a = 0; a < ss; a++) {
        let i = ((v * ss + a) * sw + u * ss) * 3;
        for (let k = 0; k < ss; k++, i += 3) {
          r += src[i]!;
          g += src[i + 1]!;
          b += src[i + 2]!;
        }
      }
      const o = p * 3;
      base[o] = r * inv;
      base[o + 1] = g * inv;
      base[o + 2] = b * inv;
      ex[p] = 0;
    }
    return base;
  }

  /** Ground height at body x, metres. */
  groundZ(xM: number): number {
    return 0.5 * this.slopeK * xM * xM;
  }

  /** Depth (camera z) of a body point, metres. */
  depthM(xM: number, yM: number, zM: number): number {
    const r = this.r;
    return r[2]! * (xM - this.t[0]!) + r[5]! * (yM - this.t[1]!) + r[8]! * (zM - this.t[2]!);
  }

  /** Projected output-image point of a body point into `out` ([u, v]); false when behind. */
  project(xM: number, yM: number, zM: number, out: Float64Array): boolean {
    const r = this.r;
    const px = xM - this.t[0]!;
    const py = yM - this.t[1]!;
    const pz = zM - this.t[2]!;
    const zc = r[2]! * px + r[5]! * py + r[8]! * pz;
    if (!(zc >= NEAR_M)) return false;
    out[0] = this.cx + (this.fx * (r[0]! * px + r[3]! * py + r[6]! * pz)) / zc;
    out[1] = this.cy + (this.fy * (r[1]! * px + r[4]! * py + r[7]! * pz)) / zc;
    return true;
  }

  /** Alpha-blend the body polygon bx/by/bz[0..n) in colour (r, g, b) into the rgb buffer. */
  fillColour(n: number, cr: number, cg: number, cb: number, alpha: number): void {
    const spans = this.scanBody(n, this.ss, this.ssWidth, this.ssHeight);
    this.paintSpans(spans, alpha >= 1 ? MODE_SET : MODE_BLEND, cr, cg, cb, alpha);
  }

  /** Multiply the rgb buffer under the body polygon by (fr, fg, fb) (shadows). */
  fillMultiply(n: number, fr: number, fg: number, fb: number): void {
    const spans = this.scanBody(n, this.ss, this.ssWidth, this.ssHeight);
    this.paintSpans(spans, MODE_MULTIPLY, fr, fg, fb, 1);
  }

  /**
   * Apply a paint operation to the sample spans: output pixels whose samples the spans cover
   * completely are done once per pixel (on `base` while not supersampled: all its samples would
   * get the same value), the partly covered ones per sample.
   */
  private paintSpans(spans: number, mode: number, cr: number, cg: number, cb: number, a: number): void {
    const ss = this.ss;
    const W = this.widthPx;
    const sw = this.ssWidth;
    const rows = this.spanRow;
    const xs0 = this.spanX0;
    const xs1 = this.spanX1;
    const base = this.base;
    const ex = this.expanded;
    const rgb = this.rgb;
    const ia = 1 - a;
    let s = 0;
    while (s < spans) {
      const v = (rows[s]! / ss) | 0;
      const rowTop = v * ss;
      let e = s + 1;
      while (e < spans && rows[e]! < rowTop + ss) e++;
      // pixels covered in full: one span on each of the ss sample rows
      let fu0 = 0;
      let fu1 = 0;
      if (e - s === ss) {
        let lo = 0;
        let hi = sw;
        let ok = true;
        for (let t = s; t < e; t++) {
          if (rows[t] !== rowTop + (t - s)) ok = false;
          if (xs0[t]! > lo) lo = xs0[t]!;
          if (xs1[t]! < hi) hi = xs1[t]!;
        }
        if (ok) {
          fu0 = Math.ceil(lo / ss);
          fu1 = Math.floor(hi / ss);
          if (fu1 < fu0) fu1 = fu0;
        }
      }
      // one loop per mode (the mode is fixed for the whole polygon)
      if (mode === MODE_SET) {
        for (let u = fu0, p = v * W + fu0; u < fu1; u++, p++) {
          const o = p * 3;
          base[o] = cr;
          base[o + 1] = cg;
          base[o + 2] = cb;
          if (ex[p] === 1) ex[p] = 2;
        }
      } else if (mode === MODE_BLEND) {
        for (let u = fu0, p = v * W + fu0; u < fu1; u++, p++) {
          if (ex[p] !== 1) {
            const o = p * 3;
            base[o] = base[o]! * ia + cr * a;
            base[o + 1] = base[o + 1]! * ia + cg * a;
            base[o + 2] = base[o + 2]! * ia + cb * a;
          } else {
            for (let r = rowTop; r < rowTop + ss; r++) {
              const i0 = (r * sw + u * ss) * 3;
              this.paintSamples(i0, i0 + ss * 3, mode, cr, cg, cb, a, ia);
            }
          }
        }
      } else {
        for (let u = fu0, p = v * W + fu0; u < fu1; u++, p++) {
          if (ex[p] !== 1) {
            const o = p * 3;
            base[o] = base[o]! * cr;
            base[o + 1] = base[o + 1]! * cg;
            base[o + 2] = base[o + 2]! * cb;
          } else {
            for (let r = rowTop; r < rowTop + ss; r++) {
              const i0 = (r * sw + u * ss) * 3;
              this.paintSamples(i0, i0 + ss * 3, mode, cr, cg, cb, a, ia);
            }
          }
        }
      }
      const fx0 = fu0 * ss;
      const fx1 = fu1 * ss;
      for (let t = s; t < e; t++) {
        const row = rows[t]!;
        const x0 = xs0[t]!;
        const x1 = xs1[t]!;
        if (fx1 > fx0) {
          if (fx0 > x0) this.samplePart(row, x0, Math.min(x1, fx0), mode, cr, cg, cb, a, ia);
          if (x1 > fx1) this.samplePart(row, Math.max(x0, fx1), x1, mode, cr, cg, cb, a, ia);
        } else {
          this.samplePart(row, x0, x1, mode, cr, cg, cb, a, ia);
        }
      }
      s = e;
    }
    void rgb;
  }

  private samplePart(row: number, x0: number, x1: number, mode: number, cr: number, cg: number, cb: number, a: number, ia: number): void {
    if (x1 <= x0) return;
    this.expand(row, x0, x1);
    this.paintSamples((row * this.ssWidth + x0) * 3, (row * this.ssWidth + x1) * 3, mode, cr, cg, cb, a, ia);
  }

  private paintSamples(i: number, end: number, mode: number, cr: number, cg: number, cb: number, a: number, ia: number): void {
    const rgb = this.rgb;
    if (mode === MODE_SET) {
      for (; i < end; i += 3) {
        rgb[i] = cr;
        rgb[i + 1] = cg;
        rgb[i + 2] = cb;
      }
    } else if (mode === MODE_BLEND) {
      for (; i < end; i += 3) {
        rgb[i] = rgb[i]! * ia + cr * a;
        rgb[i + 1] = rgb[i + 1]! * ia + cg * a;
        rgb[i + 2] = rgb[i + 2]! * ia + cb * a;
      }
    } else {
      for (; i < end; i += 3) {
        rgb[i] = rgb[i]! * cr;
        rgb[i + 1] = rgb[i + 1]! * cg;
        rgb[i + 2] = rgb[i + 2]! * cb;
      }
    }
  }

  /** Set the label of every label pixel whose centre the body polygon covers. */
  fillLabel(n: number, value: number): void {
    const spans = this.scanBody(n, 0.5, this.labelWidth, this.labelHeight);
    this.writeLabelSpans(spans, value);
  }

  /**
   * Label a ground segment (body metres) as a line of half-width `halfWidthM`, at least
   * `minHalfPx` label pixels either side of its centre.
   */
  labelGroundLine(x0: number, y0: number, x1: number, y1: number, halfWidthM: number, minHalfPx: number, value: number): void {
    const k = this.slopeK;
    this.labelSegment(x0, y0, 0.5 * k * x0 * x0, x1, y1, 0.5 * k * x1 * x1, halfWidthM, minHalfPx, value);
  }

  /**
   * Label an upright object standing on the ground at body point (x, y): from height z0M to z1M
   * above the ground, `halfWidthM` wide either side, at least `minHalfPx` label pixels.
   */
  labelUpright(xM: number, yM: number, z0M: number, z1M: number, halfWidthM: number, minHalfPx: number, value: number): void {
    const g = this.groundZ(xM);
    this.labelSegment(xM, yM, g + z0M, xM, yM, g + z1M, halfWidthM, minHalfPx, value);
  }

  /** Label the 3-D body segment (x0, y0, z0) -> (x1, y1, z1) as a band of half-width halfWidthM (at least minHalfPx label pixels). */
  private labelSegment(x0: number, y0: number, z0: number, x1: number, y1: number, z1: number, halfWidthM: number, minHalfPx: number, value: number): void {
    // camera coordinates of both ends
    this.bx[0] = x0;
    this.by[0] = y0;
    this.bz[0] = z0;
    this.bx[1] = x1;
    this.by[1] = y1;
    this.bz[1] = z1;
    this.toCamera(2);
    let ax = this.cxs[0]!;
    let ay = this.cys[0]!;
    let az = this.czs[0]!;
    let bx = this.cxs[1]!;
    let by = this.cys[1]!;
    let bz = this.czs[1]!;
    if (az < NEAR_M && bz < NEAR_M) return;
    if (az < NEAR_M || bz < NEAR_M) {
      const f = (NEAR_M - az) / (bz - az);
      const nx = ax + (bx - ax) * f;
      const ny = ay + (by - ay) * f;
      if (az < NEAR_M) {
        ax = nx;
        ay = ny;
        az = NEAR_M;
      } else {
        bx = nx;
        by = ny;
        bz = NEAR_M;
      }
    }
    const sc = 0.5;
    const u0 = (this.cx + (this.fx * ax) / az) * sc;
    const v0 = (this.cy + (this.fy * ay) / az) * sc;
    const u1 = (this.cx + (this.fx * bx) / bz) * sc;
    const v1 = (this.cy + (this.fy * by) / bz) * sc;
    const h0 = Math.max(minHalfPx, (this.fx * sc * halfWidthM) / az);
    const h1 = Math.max(minHalfPx, (this.fx * sc * halfWidthM) / bz);
    let du = u1 - u0;
    let dv = v1 - v0;
    const len = Math.hypot(du, dv);
    if (len < 1e-6) {
      du = 1;
      dv = 0;
    } else {
      du /= len;
      dv /= len;
    }
    // perpendicular (-dv, du); extend the ends by half a pixel so short pieces join
    const eu = du * 0.5;
    const ev = dv * 0.5;
    const sx = this.sx;
    const sy = this.sy;
    sx[0] = u0 - eu - dv * h0;
    sy[0] = v0 - ev + du * h0;
    sx[1] = u1 + eu - dv * h1;
    sy[1] = v1 + ev + du * h1;
    sx[2] = u1 + eu + dv * h1;
    sy[2] = v1 + ev - du * h1;
    sx[3] = u0 - eu + dv * h0;
    sy[3] = v0 - ev - du * h0;
    const spans = this.scanScreen(4, this.labelWidth, this.labelHeight);
    this.writeLabelSpans(spans, value);
  }

  /** Label a disc of `radiusPx` label pixels around the label-image point (u, v). */
  labelDisc(uLabel: number, vLabel: number, radiusPx: number, value: number): void {
    const r0 = Math.max(0, Math.ceil(vLabel - radiusPx - 0.5));
    const r1 = Math.min(this.labelHeight - 1, Math.floor(vLabel + radiusPx - 0.5));
    for (let row = r0; row <= r1; row++) {
      const dy = row + 0.5 - vLabel;
      const half = Math.sqrt(Math.max(0, radiusPx * radiusPx - dy * dy));
      const c0 = Math.max(0, Math.ceil(uLabel - half - 0.5));
      const c1 = Math.min(this.labelWidth - 1, Math.floor(uLabel + half - 0.5));
      for (let col = c0; col <= c1; col++) this.label[row * this.labelWidth + col] = value;
    }
  }

  private writeLabelSpans(spans: number, value: number): void {
    const label = this.label;
    const lw = this.labelWidth;
    const rows = this.spanRow;
    const xs0 = this.spanX0;
    const xs1 = this.spanX1;
    for (let s = 0; s < spans; s++) {
      const o = rows[s]! * lw;
      for (let i = o + xs0[s]!, end = o + xs1[s]!; i < end; i++) label[i] = value;
    }
  }

  private toCamera(n: number): void {
    const r = this.r;
    const tx = this.t[0]!;
    const ty = this.t[1]!;
    const tz = this.t[2]!;
    const bx = this.bx;
    const by = this.by;
    const bz = this.bz;
    const cxs = this.cxs;
    const cys = this.cys;
    const czs = this.czs;
    for (let i = 0; i < n; i++) {
      const px = bx[i]! - tx;
      const py = by[i]! - ty;
      const pz = bz[i]! - tz;
      cxs[i] = r[0]! * px + r[3]! * py + r[6]! * pz;
      cys[i] = r[1]! * px + r[4]! * py + r[7]! * pz;
      czs[i] = r[2]! * px + r[5]! * py + r[8]! * pz;
    }
  }

  /** Transform, clip at the near plane, project at `scale` (pixels per output pixel), scan. */
  private scanBody(n: number, scale: number, w: number, h: number): number {
    this.toCamera(n);
    const cxs = this.cxs;
    const cys = this.cys;
    const czs = this.czs;
    const qx = this.qx;
    const qy = this.qy;
    const qz = this.qz;
    // Sutherland-Hodgman against z >= NEAR_M
    let m = 0;
    for (let i = 0; i < n; i++) {
      const j = i + 1 === n ? 0 : i + 1;
      const zi = czs[i]!;
      const zj = czs[j]!;
      const inI = zi >= NEAR_M;
      const inJ = zj >= NEAR_M;
      if (inI) {
        qx[m] = cxs[i]!;
        qy[m] = cys[i]!;
        qz[m] = zi;
        m++;
      }
      if (inI !== inJ) {
        const f = (NEAR_M - zi) / (zj - zi);
        qx[m] = cxs[i]! + (cxs[j]! - cxs[i]!) * f;
        qy[m] = cys[i]! + (cys[j]! - cys[i]!) * f;
        qz[m] = NEAR_M;
        m++;
      }
    }
    if (m < 3) return 0;
    const sx = this.sx;
    const sy = this.sy;
    const cx = this.cx;
    const cy = this.cy;
    const fx = this.fx;
    const fy = this.fy;
    for (let i = 0; i < m; i++) {
      sx[i] = (cx + (fx * qx[i]!) / qz[i]!) * scale;
      sy[i] = (cy + (fy * qy[i]!) / qz[i]!) * scale;
    }
    return this.scanScreen(m, w, h);
  }

  /** Spans (row, [x0, x1)) of pixel centres inside the screen polygon sx/sy[0..m), even-odd. */
  private scanScreen(m: number, w: number, h: number): number {
    const sx = this.sx;
    const sy = this.sy;
    let minY = Infinity;
    let maxY = -Infinity;
    let minX = Infinity;
    let maxX = -Infinity;
    for (let i = 0; i < m; i++) {
      if (sy[i]! < minY) minY = sy[i]!;
      if (sy[i]! > maxY) maxY = sy[i]!;
      if (sx[i]! < minX) minX = sx[i]!;
      if (sx[i]! > maxX) maxX = sx[i]!;
    }
    if (maxX < 0 || minX > w || maxY < 0 || minY > h) return 0;
    const r0 = Math.max(0, Math.ceil(minY - 0.5));
    const r1 = Math.min(h - 1, Math.ceil(maxY - 0.5) - 1);
    let spans = 0;
    const xi = this.xints;
    const spanRow = this.spanRow;
    const spanX0 = this.spanX0;
    const spanX1 = this.spanX1;
    const maxSpans = spanRow.length;
    for (let row = r0; row <= r1; row++) {
      const yc = row + 0.5;
      let k = 0;
      for (let i = 0; i < m; i++) {
        const j = i + 1 === m ? 0 : i + 1;
        const y0 = sy[i]!;
        const y1 = sy[j]!;
        if (y0 <= yc !== y1 <= yc) {
          const x = sx[i]! + ((yc - y0) * (sx[j]! - sx[i]!)) / (y1 - y0);
          // insertion sort
          let p = k++;
          while (p > 0 && xi[p - 1]! > x) {
            xi[p] = xi[p - 1]!;
            p--;
          }
          xi[p] = x;
        }
      }
      for (let p = 0; p + 1 < k; p += 2) {
        const c0 = Math.max(0, Math.ceil(xi[p]! - 0.5));
        const c1 = Math.min(w, Math.ceil(xi[p + 1]! - 0.5));
        if (c1 > c0 && spans < maxSpans) {
          spanRow[spans] = row;
          spanX0[spans] = c0;
          spanX1[spans] = c1;
          spans++;
        }
      }
    }
    return spans;
  }
}
