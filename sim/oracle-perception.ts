/**
 * TEST DOUBLE for the perception model: an oracle that reads the ground-truth map at the TRUE
 * pose and reports, in the vehicle BODY frame (x forward, y left, metres, rear axle origin),
 * what a camera + lidar perception stage would plausibly output. It is not a perception model;
 * it stands in for one so the rest of the pipeline can be exercised and evaluated.
 *
 * Per frame:
 * - polylines (dividers, boundaries, stop lines) clipped to the sensor field, resampled every
 *   ~vertexSpacingM (jittered per frame), each vertex with noise growing with range;
 * - crosswalk polygons clipped to the field; signs and lights as points within their own range;
 * - a per-frame correlated offset and yaw error shared by all observations (calibration/ego
 *   motion error), on top of the per-vertex noise;
 * - each primitive is missed with a probability rising with range; divider styles flip with a
 *   small probability; a few short false-positive lines; a confidence score per observation.
 */
import type { BoundaryKind, DividerStyle, Primitive } from '../shared/schema.ts';
import { DIVIDER_STYLES } from '../shared/schema.ts';
import type { BodyObservation } from '../shared/topics.ts';
import { ringAreaM2 } from '../shared/geometry.ts';
import { clipPolygon, clipPolyline, type Rect } from './clip.ts';
import { PrimitiveIndex } from './primitive-index.ts';
import type { Rng } from './rng.ts';

export interface OraclePerceptionOptions {
  /** Sensor field for lines and areas, body frame, metres. */
  aheadM: number;
  behindM: number;
  lateralM: number;
  /** Field for signs and traffic lights (they are tall and seen from further), metres. */
  pointAheadM: number;
  pointLateralM: number;
  /** Mean spacing of output vertices, metres; jittered by +-vertexSpacingJitterM per frame. */
  vertexSpacingM: number;
  vertexSpacingJitterM: number;
  /** Per-vertex noise 1-sigma at range 0, metres; grows by noiseGrowthPerM per metre of range. */
  vertexSigmaM: number;
  noiseGrowthPerM: number;
  /** Point objects: 1-sigma position noise at range 0, metres (same growth). */
  pointSigmaM: number;
  /** Per-frame correlated offset (1-sigma, x and y), metres, and yaw error, radians. */
  frameOffsetSigmaM: number;
  frameYawSigmaRad: number;
  /** Miss probability per primitive per frame at range 0 and at the far edge of the field. */
  missProbNear: number;
  missProbFar: number;
  /** Probability that a divider's style is reported wrong in a frame. */
  styleFlipProb: number;
  /** Mean number of false-positive short lines per frame (Poisson). */
  falsePositivesPerFrame: number;
  /** Pieces shorter than this are not reported, metres; crosswalk parts smaller than minAreaM2. */
  minPieceLengthM: number;
  minAreaM2: number;
}

export const DEFAULT_ORACLE_OPTIONS: OraclePerceptionOptions = {
  aheadM: 35, // m
  behindM: 10, // m
  lateralM: 15, // m
  pointAheadM: 50, // m
  pointLateralM: 20, // m
  vertexSpacingM: 1.5, // m
  vertexSpacingJitterM: 0.4, // m
  vertexSigmaM: 0.06, // m
  noiseGrowthPerM: 0.03, // per metre of range (sigma x (1 + 0.03 r))
  pointSigmaM: 0.15, // m
  frameOffsetSigmaM: 0.05, // m
  frameYawSigmaRad: 0.002, // rad
  missProbNear: 0.03,
  missProbFar: 0.3,
  styleFlipProb: 0.02,
  falsePositivesPerFrame: 0.1, // per frame
  minPieceLengthM: 1.0, // m
  minAreaM2: 2.0, // m^2
};

/** A pose in the map frame: rear axle centre, yaw counter-clockwise from east. */
export interface PoseXY {
  xM: number;
  yM: number;
  yawRad: number;
}

export interface OracleFrame {
  observations: BodyObservation[];
  /** Per observation: index of the ground-truth primitive it came from, -1 for false positives. */
  sources: number[];
  /** Ground-truth primitives inside the sensor field this frame (seen or missed). */
  inView: number[];
}

export class OraclePerception {
  readonly options: OraclePerceptionOptions;
  private readonly primitives: readonly Primitive[];
  private readonly index: PrimitiveIndex;
  private readonly reach: number;

  constructor(primitives: readonly Primitive[], options: Partial<OraclePerceptionOptions> = {}) {
    const o = { ...DEFAULT_ORACLE_OPTIONS, ...options };
    validate(o);
    this.options = o;
    this.primitives = primitives;
    this.index = new PrimitiveIndex(primitives);
    this.reach = Math.hypot(Math.max(o.aheadM, o.behindM, o.pointAheadM), Math.max(o.lateralM, o.pointLateralM));
  }

  /** What the perception stage reports at the true pose `pose`; `rng` drives all randomness. */
  observe(pose: PoseXY, rng: Rng): OracleFrame {
    const o = this.options;
    const c = Math.cos(pose.yawRad);
    const s = Math.sin(pose.yawRad);
    const lineField: Rect = { minX: -o.behindM, maxX: o.aheadM, minY: -o.lateralM, maxY: o.lateralM };
    const pointField: Rect = { minX: 0, maxX: o.pointAheadM, minY: -o.pointLateralM, maxY: o.pointLateralM };
    const r = this.reach;
    const hits = this.index.query(pose.xM - r, pose.yM - r, pose.xM + r, pose.yM + r);
    const { xs, ys } = this.index;

    // Per-frame correlated error: body-frame offset and a small yaw.
    const fdx = rng.normal(0, o.frameOffsetSigmaM);
    const fdy = rng.normal(0, o.frameOffsetSigmaM);
    const fyaw = rng.normal(0, o.frameYawSigmaRad);
    const fc = Math.cos(fyaw);
    const fs = Math.sin(fyaw);
    const spacingM = Math.max(0.3, o.vertexSpacingM + rng.uniform(-o.vertexSpacingJitterM, o.vertexSpacingJitterM));
    const noisy = (bx: number, by: number, sigma0: number): [number, number] => {
      const sigma = sigma0 * (1 + o.noiseGrowthPerM * Math.hypot(bx, by));
      const nx = bx + rng.normal(0, sigma);
      const ny = by + rng.normal(0, sigma);
      return [round4(fc * nx - fs * ny + fdx), round4(fs * nx + fc * ny + fdy)];
    };

    const out: OracleFrame = { observations: [], sources: [], inView: [] };
    const bx = new Float64Array(64);
    for (const hit of hits) {
      const p = this.primitives[hit.primitive]!;
      const n = hit.to - hit.from + 1;
      const bxs = n <= 32 ? bx.subarray(0, n) : new Float64Array(n);
      const bys = n <= 32 ? bx.subarray(32, 32 + n) : new Float64Array(n);
      for (let i = 0; i < n; i++) {
        const dx = xs[hit.from + i]! - pose.xM;
        const dy = ys[hit.from + i]! - pose.yM;
        bxs[i] = c * dx + s * dy;
        bys[i] = -s * dx + c * dy;
      }

      if (p.cls === 'traffic_sign' || p.cls === 'traffic_light') {
        const px = bxs[0]!;
        const py = bys[0]!;
        if (px < pointField.minX || px > pointField.maxX || py < pointField.minY || py > pointField.maxY) continue;
        out.inView.push(hit.primitive);
        const range = Math.hypot(px, py);
        if (rng.chance(this.missProb(range, o.pointAheadM))) continue;
        const obs: BodyObservation = { cls: p.cls, score: this.score(range, o.pointAheadM, rng), pointsBody: [noisy(px, py, o.pointSigmaM)] };
        if (p.cls === 'traffic_sign') obs.signCode = p.signCode ?? '';
        this.push(out, obs, hit.primitive);
        continue;
      }

      if (p.cls === 'crosswalk') {
        const ring: Array<[number, number]> = [];
        for (let i = 0; i < n; i++) ring.push([bxs[i]!, bys[i]!]);
        const clipped = clipPolygon(ring, lineField);
        if (clipped.length < 3 || ringAreaM2(clipped) < o.minAreaM2) continue;
        out.inView.push(hit.primitive);
        const range = nearestRange(clipped);
        if (rng.chance(this.missProb(range, o.aheadM))) continue;
        this.push(out, { cls: 'crosswalk', score: this.score(range, o.aheadM, rng), pointsBody: clipped.map((q) => noisy(q[0], q[1], o.vertexSigmaM)) }, hit.primitive);
        continue;
      }

      const pieces = clipPolyline(bxs, bys, 0, n - 1, lineField).filter((piece) => pieceLengthM(piece) >= o.minPieceLengthM);
      if (pieces.length === 0) continue;
      out.inView.push(hit.primitive);
      let range = Infinity;
      for (const piece of pieces) range = Math.min(range, nearestRange(piece));
      if (rng.chance(this.missProb(range, o.aheadM))) continue;
      let style: DividerStyle | undefined = p.style;
      let flipped = false;
      if (p.cls === 'lane_divider' && style !== undefined && rng.chance(o.styleFlipProb)) {
        const others = DIVIDER_STYLES.filter((x) => x !== style);
        style = rng.choice(others);
        flipped = true;
      }
      for (const piece of pieces) {
        const pts = resamplePiece(piece, spacingM).map((q) => noisy(q[0], q[1], o.vertexSigmaM));
        const obs: BodyObservation = { cls: p.cls, score: this.score(nearestRange(piece), o.aheadM, rng) * (flipped ? 0.8 : 1), pointsBody: pts };
        if (style !== undefined) obs.style = style;
        if (p.kind !== undefined) obs.kind = p.kind;
        this.push(out, obs, hit.primitive);
      }
    }

    this.addFalsePositives(out, rng, noisy);
    return out;
  }

  private push(out: OracleFrame, obs: BodyObservation, source: number): void {
    obs.score = round4(obs.score);
    out.observations.push(obs);
    out.sources.push(source);
  }

  private missProb(rangeM: number, maxRangeM: number): number {
    const o = this.options;
    const f = Math.min(1, Math.max(0, rangeM / maxRangeM));
    return o.missProbNear + (o.missProbFar - o.missProbNear) * f;
  }

  private score(rangeM: number, maxRangeM: number, rng: Rng): number {
    const f = Math.min(1, Math.max(0, rangeM / maxRangeM));
    return clamp(0.95 - 0.35 * f + rng.normal(0, 0.04), 0.05, 0.99);
  }

  private addFalsePositives(out: OracleFrame, rng: Rng, noisy: (x: number, y: number, sigma: number) => [number, number]): void {
    const o = this.options;
    let count = 0;
    // Poisson draw by counting exponential arrivals in one unit of time.
    for (let t = rng.exponential(o.falsePositivesPerFrame); t < 1; t += rng.exponential(o.falsePositivesPerFrame)) count++;
    for (let k = 0; k < count; k++) {
      const x0 = rng.uniform(0, o.aheadM);
      const y0 = rng.uniform(-o.lateralM, o.lateralM);
      const len = rng.uniform(2, 6);
      const dir = rng.normal(0, 0.3);
      const nPts = 3;
      const pts: Array<[number, number]> = [];
      for (let i = 0; i < nPts; i++) {
        const f = (i / (nPts - 1)) * len;
        pts.push(noisy(x0 + Math.cos(dir) * f, y0 + Math.sin(dir) * f, o.vertexSigmaM));
      }
      const obs: BodyObservation = { cls: rng.chance(0.7) ? 'lane_divider' : 'road_boundary', score: round4(rng.uniform(0.15, 0.6)), pointsBody: pts };
      if (obs.cls === 'lane_divider') obs.style = rng.choice(DIVIDER_STYLES);
      else obs.kind = rng.choice<BoundaryKind>(['curb', 'road_border']);
      out.observations.push(obs);
      out.sources.push(-1);
    }
  }
}

function validate(o: OraclePerceptionOptions): void {
  for (const key of ['aheadM', 'lateralM', 'pointAheadM', 'pointLateralM', 'vertexSpacingM'] as const) {
    if (!(o[key] > 0)) throw new RangeError(`${key} must be > 0, got ${o[key]}`);
  }
  for (const key of ['behindM', 'vertexSpacingJitterM', 'vertexSigmaM', 'noiseGrowthPerM', 'pointSigmaM', 'frameOffsetSigmaM', 'frameYawSigmaRad', 'falsePositivesPerFrame', 'minPieceLengthM', 'minAreaM2'] as const) {
    if (!(o[key] >= 0)) throw new RangeError(`${key} must be >= 0, got ${o[key]}`);
  }
  for (const key of ['missProbNear', 'missProbFar', 'styleFlipProb'] as const) {
    if (!(o[key] >= 0 && o[key] <= 1)) throw new RangeError(`${key} must be a probability in [0, 1], got ${o[key]}`);
  }
}

/** Resample a piece at about `spacingM` (both ends kept, at least 2 vertices). */
function resamplePiece(piece: ReadonlyArray<readonly [number, number]>, spacingM: number): Array<[number, number]> {
  const n = piece.length;
  const cum = new Float64Array(n);
  for (let i = 1; i < n; i++) cum[i] = cum[i - 1]! + Math.hypot(piece[i]![0] - piece[i - 1]![0], piece[i]![1] - piece[i - 1]![1]);
  const total = cum[n - 1]!;
  const count = Math.max(2, Math.round(total / spacingM) + 1);
  const out: Array<[number, number]> = [];
  let j = 1;
  for (let k = 0; k < count; k++) {
    const sM = (total * k) / (count - 1);
    while (j < n - 1 && cum[j]! < sM) j++;
    const a = piece[j - 1]!;
    const b = piece[j]!;
    const seg = cum[j]! - cum[j - 1]!;
    const t = seg > 0 ? Math.min(1, Math.max(0, (sM - cum[j - 1]!) / seg)) : 0;
    out.push([a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t]);
  }
  return out;
}

function pieceLengthM(piece: ReadonlyArray<readonly [number, number]>): number {
  let len = 0;
  for (let i = 1; i < piece.length; i++) len += Math.hypot(piece[i]![0] - piece[i - 1]![0], piece[i]![1] - piece[i - 1]![1]);
  return len;
}

function nearestRange(pts: ReadonlyArray<readonly [number, number]>): number {
  let best = Infinity;
  for (const q of pts) best = Math.min(best, Math.hypot(q[0], q[1]));
  return best;
}

function clamp(v: number, lo: number, hi: number): number {
  return v < lo ? lo : v > hi ? hi : v;
}

/** Round to 0.1 mm: keeps messages compact without visible loss. */
function round4(v: number): number {
  return Math.round(v * 1e4) / 1e4;
}
