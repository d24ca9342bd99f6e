/**
 * A simulated 77 GHz front radar: per scan a detection list in the body frame (shared/radar.ts),
 * from the ground-truth map at the TRUE pose plus what the map does not hold.
 *
 * Targets (static ones in a `RadarWorld`, built once per map and world seed, `radarWorldFor`):
 * - poles: every traffic_sign and traffic_light point (points within `poleMergeM` are one pole);
 * - barriers: road_boundary of kind `barrier` (guard rails, walls, fences), a sample every
 *   `barrierSpacingM`, each seen rarely (specular);
 * - clutter NOT in the map: lamp posts, trees, bollards along every road_boundary, 10-40 m apart,
 *   1-4 m off the boundary on the side away from the road, seeded per boundary id (the same
 *   objects on every drive, and after a change of the map elsewhere);
 * - per scan: false alarms (Poisson) uniform over the field of view, and moving traffic
 *   (Poisson targets of 1-3 detections each, range rate off the static expectation).
 * Poles and clutter have similar detection probability and RCS: the radar cannot tell a sign
 * from a lamp post, nor (here) a pole from a light. Kerbs, road borders and paint are not seen.
 *
 * Measurement: range and azimuth from the sensor (Gaussian), range rate = -(sensor velocity) .
 * line of sight (sensor velocity in the body frame (v - w sensorYM, w sensorXM)) plus noise, RCS
 * plus noise. Detections are sorted by range so their order says nothing of their source.
 * Not modelled: occlusion, multipath / ghosts, elevation, resolution cells (two targets closer
 * than the radar resolves are both reported), range-dependent detection probability.
 */
import type { Primitive, XY } from '../shared/schema.ts';
import { pointInRing } from '../shared/geometry.ts';
import { MAX_RADAR_DETECTIONS, MAX_RADAR_MOUNT_M, RADAR_RANGE_RATE_LIMIT_MPS, RADAR_RCS_LIMITS_DBSM, type RadarDetection } from '../shared/radar.ts';
import { deriveSeed, Rng } from './rng.ts';

/** How the static world looks to the radar (what `radarWorldFor` builds and caches). */
export interface RadarWorldOptions {
  /** Grid cell of the target index, metres. */
  cellM: number;
  /** Sign / light points closer than this are one pole, metres. */
  poleMergeM: number;
  /** Per-pole RCS, drawn once per pole, dBsm [lo, hi]. */
  poleRcsDbsm: readonly [number, number];
  /** Spacing of barrier samples along the boundary, metres; their RCS, dBsm. */
  barrierSpacingM: number;
  barrierRcsDbsm: number;
  /** Gap between clutter objects along a boundary, metres [lo, hi]. */
  clutterSpacingM: readonly [number, number];
  /** Clutter offset from the boundary, away from the road, metres [lo, hi]. */
  clutterOffsetM: readonly [number, number];
  /** Per-object clutter RCS, dBsm [lo, hi]. */
  clutterRcsDbsm: readonly [number, number];
  /** The road side of a boundary is decided by the nearest lane line / lane centre within this, metres. */
  sideSearchM: number;
  /** Clutter closer than this to a lane line or lane centre is not placed, metres. */
  clutterClearanceM: number;
}

export const DEFAULT_RADAR_WORLD_OPTIONS: RadarWorldOptions = {
  cellM: 20, // m
  poleMergeM: 0.3, // m
  poleRcsDbsm: [5, 15], // dBsm
  barrierSpacingM: 1, // m
  barrierRcsDbsm: -5, // dBsm
  clutterSpacingM: [10, 40], // m
  clutterOffsetM: [1, 4], // m
  clutterRcsDbsm: [0, 10], // dBsm
  sideSearchM: 20, // m
  clutterClearanceM: 1.5, // m
};

export interface SimulatedRadarOptions {
  /** Emit `radar` scans (simulateDrive). */
  enabled: boolean;
  /** Scan rate, hertz. */
  hz: number;
  /** Mounting in the body frame (x forward, y left from the rear axle centre), metres. */
  sensorXM: number;
  sensorYM: number;
  /** Range gate from the sensor, metres; azimuth half field of view, radians. */
  minRangeM: number;
  maxRangeM: number;
  fovHalfRad: number;
  /** Measurement noise, 1-sigma. */
  rangeSigmaM: number;
  azimuthSigmaRad: number;
  rangeRateSigmaMps: number;
  rcsSigmaDb: number;
  /** Detection probability per scan of a sign pole, a light pole, a barrier sample, a clutter object. */
  signDetectProb: number;
  lightDetectProb: number;
  barrierDetectProb: number;
  clutterDetectProb: number;
  /** False alarms: Poisson mean per scan; range rate uniform in +-limit, m/s; RCS uniform, dBsm. */
  falseAlarmsPerScan: number;
  falseAlarmRangeRateMps: number;
  falseAlarmRcsDbsm: readonly [number, number];
  /** Moving traffic: Poisson mean targets per scan, each 1..trafficMaxDetections detections. */
  trafficPerScan: number;
  trafficMaxDetections: number;
  /** A target's detections lie within this of each other, metres. */
  trafficSpreadM: number;
  /** |range rate - static expectation| of a target, m/s [lo, hi]; RCS, dBsm [lo, hi]. */
  trafficRelSpeedMps: readonly [number, number];
  trafficRcsDbsm: readonly [number, number];
  /** Seed of the static world (clutter, per-object RCS): the same for every drive on a map. */
  worldSeed: number;
  world: Partial<RadarWorldOptions>;
}

export const DEFAULT_SIMULATED_RADAR_OPTIONS: SimulatedRadarOptions = {
  enabled: false,
  hz: 10, // Hz
  sensorXM: 3.8, // m (front bumper)
  sensorYM: 0, // m
  minRangeM: 0.5, // m
  maxRangeM: 70, // m
  fovHalfRad: (50 * Math.PI) / 180, // rad (+-50 deg)
  rangeSigmaM: 0.12, // m
  azimuthSigmaRad: 0.008, // rad
  rangeRateSigmaMps: 0.08, // m/s
  rcsSigmaDb: 2, // dB
  signDetectProb: 0.75,
  lightDetectProb: 0.8,
  barrierDetectProb: 0.12,
  clutterDetectProb: 0.6,
  falseAlarmsPerScan: 4, // per scan
  falseAlarmRangeRateMps: 15, // m/s (uniform in +-15)
  falseAlarmRcsDbsm: [-15, 0], // dBsm
  trafficPerScan: 2, // targets per scan
  trafficMaxDetections: 3, // detections per target
  trafficSpreadM: 1.5, // m
  trafficRelSpeedMps: [2, 15], // m/s
  trafficRcsDbsm: [5, 20], // dBsm
  worldSeed: 1,
  world: {},
};

/** Where each detection came from (simulation truth; never on the wire). */
export type RadarSource = 'sign_pole' | 'light_pole' | 'barrier' | 'clutter' | 'false_alarm' | 'traffic';
const STATIC_SOURCES: readonly RadarSource[] = ['sign_pole', 'light_pole', 'barrier', 'clutter'];
const SIGN = 0;
const LIGHT = 1;
const BARRIER = 2;
const CLUTTER = 3;

/** The vehicle at a scan: rear axle centre in the map frame, yaw CCW from east, motion. */
export interface RadarPose {
  xM: number;
  yM: number;
  yawRad: number;
  speedMps: number;
  yawRateRps: number;
}

export interface RadarScanResult {
  detections: RadarDetection[];
  /** Per detection, its source. */
  sources: RadarSource[];
}

/** A clutter object with the boundary point it was placed from. */
export interface RadarClutter {
  xM: number;
  yM: number;
  rcsDbsm: number;
  boundaryId: string;
  anchor: XY;
}

/** The map as the radar world needs it (a Lanelet2Map fits). */
export interface RadarMapInput {
  primitives: ReadonlyArray<Primitive & { id?: string }>;
  lanelets?: ReadonlyArray<{ vehicle: boolean; left: readonly XY[]; right: readonly XY[]; centreline: readonly XY[] }>;
}

/** Merge `partial` over the defaults and validate; a RangeError names the bad field. */
export function radarOptions(partial: Partial<SimulatedRadarOptions> = {}): SimulatedRadarOptions {
  const o: SimulatedRadarOptions = { ...DEFAULT_SIMULATED_RADAR_OPTIONS, ...partial };
  const bad = (key: string, want: string, v: unknown): never => {
    throw new RangeError(`radar.${key} must be ${want}, got ${JSON.stringify(v) ?? String(v)}`);
  };
  if (typeof o.enabled !== 'boolean') bad('enabled', 'a boolean', o.enabled);
  const num = (key: keyof SimulatedRadarOptions, lo: number, hi: number, loOpen = false): void => {
    const v = o[key] as unknown;
    if (!(typeof v === 'number' && Number.isFinite(v) && (loOpen ? v > lo : v >= lo) && v <= hi)) bad(key, `a number in ${loOpen ? '(' : '['}${lo}, ${hi}]`, v);
  };
  num('hz', 0, 100, true);
  num('sensorXM', -MAX_RADAR_MOUNT_M, MAX_RADAR_MOUNT_M);
  num('sensorYM', -MAX_RADAR_MOUNT_M, MAX_RADAR_MOUNT_M);
  num('minRangeM', 0, 200);
  // The edge refuses body coordinates beyond 250 m (edge/intake.ts): stay well inside.
  num('maxRangeM', o.minRangeM, 200, true);
  num('fovHalfRad', 0, Math.PI, true);
  for (const k of ['rangeSigmaM', 'azimuthSigmaRad', 'rangeRateSigmaMps', 'rcsSigmaDb'] as const) num(k, 0, 10);
  for (const k of ['signDetectProb', 'lightDetectProb', 'barrierDetectProb', 'clutterDetectProb'] as const) num(k, 0, 1);
  num('falseAlarmsPerScan', 0, 100);
  num('falseAlarmRangeRateMps', 0, RADAR_RANGE_RATE_LIMIT_MPS / 2);
  num('trafficPerScan', 0, 50);
  if (!(Number.isInteger(o.trafficMaxDetections) && o.trafficMaxDetections >= 1 && o.trafficMaxDetections <= 20)) bad('trafficMaxDetections', 'an integer in [1, 20]', o.trafficMaxDetections);
  num('trafficSpreadM', 0, 20);
  num('worldSeed', -Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
  const [rcsLo, rcsHi] = RADAR_RCS_LIMITS_DBSM;
  interval('radar.falseAlarmRcsDbsm', o.falseAlarmRcsDbsm, rcsLo + 10, rcsHi - 10);
  interval('radar.trafficRcsDbsm', o.trafficRcsDbsm, rcsLo + 10, rcsHi - 10);
  interval('radar.trafficRelSpeedMps', o.trafficRelSpeedMps, 0, RADAR_RANGE_RATE_LIMIT_MPS / 2);
  if (typeof o.world !== 'object' || o.world === null) bad('world', 'an object', o.world);
  radarWorldOptions(o.world);
  return o;
}

/** Merge `partial` over the world defaults and validate; a RangeError names the bad field. */
export function radarWorldOptions(partial: Partial<RadarWorldOptions> = {}): RadarWorldOptions {
  const o: RadarWorldOptions = { ...DEFAULT_RADAR_WORLD_OPTIONS, ...partial };
  for (const k of ['cellM', 'barrierSpacingM', 'sideSearchM'] as const) {
    if (!(Number.isFinite(o[k]) && o[k] > 0 && o[k] <= 1000)) throw new RangeError(`radar.world.${k} must be a number in (0, 1000] metres, got ${o[k]}`);
  }
  for (const k of ['poleMergeM', 'clutterClearanceM'] as const) {
    if (!(Number.isFinite(o[k]) && o[k] >= 0 && o[k] <= 100)) throw new RangeError(`radar.world.${k} must be a number in [0, 100] metres, got ${o[k]}`);
  }
  const [rcsLo, rcsHi] = RADAR_RCS_LIMITS_DBSM;
  if (!(Number.isFinite(o.barrierRcsDbsm) && o.barrierRcsDbsm >= rcsLo + 10 && o.barrierRcsDbsm <= rcsHi - 10)) throw new RangeError(`radar.world.barrierRcsDbsm must be a number in [${rcsLo + 10}, ${rcsHi - 10}] dBsm, got ${o.barrierRcsDbsm}`);
  interval('radar.world.poleRcsDbsm', o.poleRcsDbsm, rcsLo + 10, rcsHi - 10);
  interval('radar.world.clutterRcsDbsm', o.clutterRcsDbsm, rcsLo + 10, rcsHi - 10);
  interval('radar.world.clutterOffsetM', o.clutterOffsetM, 0, 50);
  interval('radar.world.clutterSpacingM', o.clutterSpacingM, 0.5, 10_000);
  return o;
}

/**
 * The radar's static world of one map: poles, barrier samples and clutter in flat arrays (map
 * frame, metres) with a uniform grid over them.
 */
export class RadarWorld {
  readonly options: RadarWorldOptions;
  readonly xs: Float64Array;
  readonly ys: Float64Array;
  readonly rcs: Float32Array;
  /** SIGN, LIGHT, BARRIER or CLUTTER per target. */
  readonly kind: Uint8Array;
  /** The clutter objects (also in the flat arrays), for tests and inspection. */
  readonly clutter: readonly RadarClutter[];
  readonly poleCount: number;
  readonly barrierSampleCount: number;
  private readonly cells = new Map<number, Int32Array>();

  constructor(map: RadarMapInput, worldSeed: number, options: Partial<RadarWorldOptions> = {}) {
    const o = radarWorldOptions(options);
    this.options = o;
    const xs: number[] = [];
    const ys: number[] = [];
    const rcs: number[] = [];
    const kind: number[] = [];
    const add = (x: number, y: number, r: number, k: number): void => {
      xs.push(x);
      ys.push(y);
      rcs.push(r);
      kind.push(k);
    };

    // Poles: signs and lights; points within poleMergeM are one pole (a light wins over a sign).
    const poles: Array<{ x: number; y: number; k: number; id: string }> = [];
    map.primitives.forEach((p, i) => {
      if (p.cls !== 'traffic_sign' && p.cls !== 'traffic_light') return;
      const q = p.points[0];
      if (!q) return;
      const k = p.cls === 'traffic_light' ? LIGHT : SIGN;
      const same = poles.find((m) => Math.hypot(m.x - q[0], m.y - q[1]) <= o.poleMergeM);
      if (same) {
        if (k === LIGHT) same.k = LIGHT;
      }
      else poles.push({ x: q[0], y: q[1], k, id: p.id ?? `#${i}` });
    });
    for (const m of poles) add(m.x, m.y, new Rng(deriveSeed(worldSeed, 'radar-pole', m.id)).uniform(o.poleRcsDbsm[0], o.poleRcsDbsm[1]), m.k);
    this.poleCount = poles.length;

    // Barriers: a sample every barrierSpacingM along each barrier boundary.
    let barrierSamples = 0;
    for (const p of map.primitives) {
      if (p.cls !== 'road_boundary' || p.kind !== 'barrier') continue;
      walkPolyline(p.points, () => o.barrierSpacingM / 2, () => o.barrierSpacingM, (x, y) => {
        add(x, y, o.barrierRcsDbsm, BARRIER);
        barrierSamples++;
      });
    }
    this.barrierSampleCount = barrierSamples;

    // Clutter: along every road boundary, on the side away from the road.
    const clutter: RadarClutter[] = [];
    const road = new SegmentGrid(o.sideSearchM);
    const lanes: Array<{ ring: XY[]; minX: number; minY: number; maxX: number; maxY: number }> = [];
    for (const p of map.primitives) if (p.cls === 'lane_divider') road.addPolyline(p.points);
    for (const l of map.lanelets ?? []) {
      if (!l.vehicle) continue;
      road.addPolyline(l.centreline);
      const ring = [...l.left, ...l.right.slice().reverse()];
      if (ring.length >= 3) lanes.push({ ring, ...bounds(ring) });
    }
    const onRoad = (x: number, y: number): boolean => lanes.some((l) => x >= l.minX && x <= l.maxX && y >= l.minY && y <= l.maxY && pointInRing([x, y], l.ring));
    map.primitives.forEach((p, i) => {
      if (p.cls !== 'road_boundary' || p.points.length < 2) return;
      const id = p.id ?? `#${i}`;
      const r = new Rng(deriveSeed(worldSeed, 'radar-clutter', id));
      const gap = (): number => r.uniform(o.clutterSpacingM[0], o.clutterSpacingM[1]);
      walkPolyline(p.points, () => r.uniform(0, o.clutterSpacingM[1]), gap, (x, y, tx, ty) => {
        // Draw everything first: a skipped object must not shift the next one's numbers.
        const offset = r.uniform(o.clutterOffsetM[0], o.clutterOffsetM[1]);
        const objectRcs = r.uniform(o.clutterRcsDbsm[0], o.clutterRcsDbsm[1]);
        const near = road.nearest(x, y, o.sideSearchM);
        if (!near) return; // no road in sight: the side cannot be decided
        // Left normal of the boundary; the road lies on the side of the nearest lane line / centre.
        const side = -ty * (near.x - x) + tx * (near.y - y);
        if (Math.abs(side) < 1e-6 * o.sideSearchM) return;
        const away = side > 0 ? -1 : 1;
        const cx = x + away * -ty * offset;
        const cy = y + away * tx * offset;
        const d = road.nearest(cx, cy, o.sideSearchM);
        const dCand = d ? Math.hypot(d.x - cx, d.y - cy) : Number.POSITIVE_INFINITY;
        if (dCand < o.clutterClearanceM || dCand <= Math.hypot(near.x - x, near.y - y) || onRoad(cx, cy)) return;
        clutter.push({ xM: cx, yM: cy, rcsDbsm: objectRcs, boundaryId: id, anchor: [x, y] });
        add(cx, cy, objectRcs, CLUTTER);
      });
    });
    this.clutter = clutter;

    this.xs = Float64Array.from(xs);
    this.ys = Float64Array.from(ys);
    this.rcs = Float32Array.from(rcs);
    this.kind = Uint8Array.from(kind);
    const byCell = new Map<number, number[]>();
    for (let i = 0; i < xs.length; i++) {
      const key = cellKey(Math.floor(xs[i]! / o.cellM), Math.floor(ys[i]! / o.cellM));
      let list = byCell.get(key);
      if (!list) byCell.set(key, (list = []));
      list.push(i);
    }
    for (const [key, list] of byCell) this.cells.set(key, Int32Array.from(list));
  }

  /** Calls fn(i) for every target in the grid cells touching the box (map frame, metres). */
  forEachIn(minX: number, minY: number, maxX: number, maxY: number, fn: (i: number) => void): void {
    const c = this.options.cellM;
    const x1 = Math.floor(maxX / c);
    const y1 = Math.floor(maxY / c);
    for (let ix = Math.floor(minX / c); ix <= x1; ix++) {
      for (let iy = Math.floor(minY / c); iy <= y1; iy++) {
        const list = this.cells.get(cellKey(ix, iy));
        if (list) for (let k = 0; k < list.length; k++) fn(list[k]!);
      }
    }
  }
}

const worldCache = new WeakMap<object, Map<string, RadarWorld>>();

/** The radar world of a map, built once per (map object, world seed, options). */
export function radarWorldFor(map: RadarMapInput, worldSeed: number, options: Partial<RadarWorldOptions> = {}): RadarWorld {
  let byKey = worldCache.get(map);
  if (!byKey) worldCache.set(map, (byKey = new Map()));
  const key = `${worldSeed}|${JSON.stringify(options)}`;
  let world = byKey.get(key);
  if (!world) byKey.set(key, (world = new RadarWorld(map, worldSeed, options)));
  return world;
}

/** The radar: `scan(pose, rng)` is one detection list at a true pose. */
export class SimulatedRadar {
  readonly options: SimulatedRadarOptions;
  readonly world: RadarWorld;

  constructor(world: RadarWorld, options: Partial<SimulatedRadarOptions> = {}) {
    this.options = radarOptions(options);
    this.world = world;
  }

  /** Range rate of a static object at bearing `azRad` from the sensor, m/s. */
  staticRangeRateMps(pose: Pick<RadarPose, 'speedMps' | 'yawRateRps'>, azRad: number): number {
    const o = this.options;
    const vx = pose.speedMps - pose.yawRateRps * o.sensorYM;
    const vy = pose.yawRateRps * o.sensorXM;
    return -(vx * Math.cos(azRad) + vy * Math.sin(azRad));
  }

  scan(pose: RadarPose, rng: Rng): RadarScanResult {
    const o = this.options;
    const w = this.world;
    const c = Math.cos(pose.yawRad);
    const s = Math.sin(pose.yawRad);
    const sxW = pose.xM + c * o.sensorXM - s * o.sensorYM;
    const syW = pose.yM + s * o.sensorXM + c * o.sensorYM;
    const out: Array<{ d: RadarDetection; src: RadarSource; r: number }> = [];
    const emit = (rangeM: number, azRad: number, rangeRateMps: number, rcsDbsm: number, src: RadarSource): void => {
      out.push({
        d: {
          xM: round(o.sensorXM + rangeM * Math.cos(azRad), 100),
          yM: round(o.sensorYM + rangeM * Math.sin(azRad), 100),
          rangeRateMps: round(clamp(rangeRateMps, RADAR_RANGE_RATE_LIMIT_MPS), 100),
          rcsDbsm: round(Math.min(RADAR_RCS_LIMITS_DBSM[1], Math.max(RADAR_RCS_LIMITS_DBSM[0], rcsDbsm)), 10),
        },
        src,
        r: rangeM,
      });
    };
    const prob = [o.signDetectProb, o.lightDetectProb, o.barrierDetectProb, o.clutterDetectProb];

    // Static targets in the box around the field-of-view sector.
    const box = sectorBox(sxW, syW, pose.yawRad, o.fovHalfRad, o.maxRangeM);
    w.forEachIn(box[0], box[1], box[2], box[3], (i) => {
      const dx = w.xs[i]! - sxW;
      const dy = w.ys[i]! - syW;
      const fx = c * dx + s * dy; // sensor-relative, body axes
      const fy = -s * dx + c * dy;
      const r = Math.hypot(fx, fy);
      if (r < o.minRangeM || r > o.maxRangeM) return;
      const az = Math.atan2(fy, fx);
      if (Math.abs(az) > o.fovHalfRad) return;
      const k = w.kind[i]!;
      if (!rng.chance(prob[k]!)) return;
      const rr = this.staticRangeRateMps(pose, az) + rng.normal(0, o.rangeRateSigmaMps);
      emit(Math.max(0, r + rng.normal(0, o.rangeSigmaM)), az + rng.normal(0, o.azimuthSigmaRad), rr, w.rcs[i]! + rng.normal(0, o.rcsSigmaDb), STATIC_SOURCES[k]!);
    });

    // False alarms: uniform over the field-of-view area.
    const r0 = o.minRangeM * o.minRangeM;
    const r1 = o.maxRangeM * o.maxRangeM;
    for (let n = poisson(rng, o.falseAlarmsPerScan); n > 0; n--) {
      const r = Math.sqrt(rng.uniform(r0, r1));
      const az = rng.uniform(-o.fovHalfRad, o.fovHalfRad);
      emit(r, az, rng.uniform(-o.falseAlarmRangeRateMps, o.falseAlarmRangeRateMps), rng.uniform(o.falseAlarmRcsDbsm[0], o.falseAlarmRcsDbsm[1]), 'false_alarm');
    }

    // Moving traffic: a few detections close together, range rate off the static expectation.
    for (let n = poisson(rng, o.trafficPerScan); n > 0; n--) {
      const centre = trafficCentre(rng, o);
      const rel = (rng.chance(0.5) ? 1 : -1) * rng.uniform(o.trafficRelSpeedMps[0], o.trafficRelSpeedMps[1]);
      const targetRcs = rng.uniform(o.trafficRcsDbsm[0], o.trafficRcsDbsm[1]);
      const count = 1 + rng.int(o.trafficMaxDetections);
      for (let j = 0; j < count; j++) {
        // Within a disc of diameter trafficSpreadM: any two detections within trafficSpreadM.
        const rho = (o.trafficSpreadM / 2) * Math.sqrt(rng.next());
        const phi = rng.uniform(-Math.PI, Math.PI);
        const fx = centre[0] + rho * Math.cos(phi);
        const fy = centre[1] + rho * Math.sin(phi);
        const r = Math.hypot(fx, fy);
        const az = Math.atan2(fy, fx);
        if (r < o.minRangeM || r > o.maxRangeM || Math.abs(az) > o.fovHalfRad) continue;
        const rr = this.staticRangeRateMps(pose, az) + rel + rng.normal(0, o.rangeRateSigmaMps);
        emit(r, az, rr, targetRcs + rng.normal(0, o.rcsSigmaDb), 'traffic');
      }
    }

    // Sorted by range (as a detection list comes): the order says nothing of the source.
    out.sort((a, b) => a.r - b.r);
    if (out.length > MAX_RADAR_DETECTIONS) out.length = MAX_RADAR_DETECTIONS;
    return { detections: out.map((e) => e.d), sources: out.map((e) => e.src) };
  }
}

/** A traffic target's centre, sensor frame (x forward): on the road ahead, inside the field. */
function trafficCentre(rng: Rng, o: SimulatedRadarOptions): [number, number] {
  let fx = 0;
  let fy = 0;
  for (let tries = 0; tries < 8; tries++) {
    fx = rng.uniform(Math.max(o.minRangeM + 2, 3), o.maxRangeM - 1);
    fy = rng.uniform(-7, 7); // m: within a few lanes of the car
    if (Math.hypot(fx, fy) <= o.maxRangeM - 1 && Math.abs(Math.atan2(fy, fx)) <= o.fovHalfRad) break;
  }
  if (!(Math.hypot(fx, fy) <= o.maxRangeM - 1 && Math.abs(Math.atan2(fy, fx)) <= o.fovHalfRad)) fy = 0;
  return [fx, fy];
}

/** Poisson deviate (Knuth; normal approximation for large means). */
export function poisson(rng: Rng, mean: number): number {
  if (!(mean > 0)) return 0;
  if (mean > 30) return Math.max(0, Math.round(rng.normal(mean, Math.sqrt(mean))));
  const l = Math.exp(-mean);
  let k = 0;
  let p = rng.next();
  while (p > l) {
    k++;
    p *= rng.next();
  }
  return k;
}

/** Bounding box [minX, minY, maxX, maxY] of a circle sector (apex, heading, half angle, radius). */
function sectorBox(x: number, y: number, headingRad: number, halfRad: number, radiusM: number): [number, number, number, number] {
  let minX = x;
  let maxX = x;
  let minY = y;
  let maxY = y;
  const take = (a: number): void => {
    const px = x + radiusM * Math.cos(a);
    const py = y + radiusM * Math.sin(a);
    minX = Math.min(minX, px);
    maxX = Math.max(maxX, px);
    minY = Math.min(minY, py);
    maxY = Math.max(maxY, py);
  };
  take(headingRad - halfRad);
  take(headingRad + halfRad);
  for (let q = -4; q <= 4; q++) {
    const a = (q * Math.PI) / 2;
    let d = a - headingRad;
    d = Math.atan2(Math.sin(d), Math.cos(d));
    if (Math.abs(d) <= halfRad) take(a);
  }
  return [minX, minY, maxX, maxY];
}

/**
 * Walks a polyline by arc length: the first point at first(), then every step() metres; fn gets
 * the point and the unit tangent there.
 */
function walkPolyline(pts: readonly XY[], first: () => number, step: () => number, fn: (x: number, y: number, tx: number, ty: number) => void): void {
  let next = first();
  let at = 0;
  for (let i = 1; i < pts.length; i++) {
    const a = pts[i - 1]!;
    const b = pts[i]!;
    const len = Math.hypot(b[0] - a[0], b[1] - a[1]);
    if (!(len > 0)) continue;
    const tx = (b[0] - a[0]) / len;
    const ty = (b[1] - a[1]) / len;
    while (next <= at + len) {
      const u = next - at;
      fn(a[0] + tx * u, a[1] + ty * u, tx, ty);
      next += Math.max(1e-3, step());
    }
    at += len;
  }
}

/** Line segments in a uniform grid: the nearest point on any of them within a radius. */
class SegmentGrid {
  private readonly cells = new Map<number, number[]>();
  private readonly seg: number[] = []; // ax, ay, bx, by per segment
  constructor(private readonly cellM: number) {}

  addPolyline(pts: readonly XY[]): void {
    for (let i = 1; i < pts.length; i++) {
      const a = pts[i - 1]!;
      const b = pts[i]!;
      const s = this.seg.length / 4;
      this.seg.push(a[0], a[1], b[0], b[1]);
      const c = this.cellM;
      for (let ix = Math.floor(Math.min(a[0], b[0]) / c); ix <= Math.floor(Math.max(a[0], b[0]) / c); ix++) {
        for (let iy = Math.floor(Math.min(a[1], b[1]) / c); iy <= Math.floor(Math.max(a[1], b[1]) / c); iy++) {
          const key = cellKey(ix, iy);
          let list = this.cells.get(key);
          if (!list) this.cells.set(key, (list = []));
          list.push(s);
        }
      }
    }
  }

  nearest(x: number, y: number, radiusM: number): { x: number; y: number } | undefined {
    const c = this.cellM;
    let best: { x: number; y: number } | undefined;
    let bestD2 = radiusM * radiusM;
    for (let ix = Math.floor((x - radiusM) / c); ix <= Math.floor((x + radiusM) / c); ix++) {
      for (let iy = Math.floor((y - radiusM) / c); iy <= Math.floor((y + radiusM) / c); iy++) {
        for (const s of this.cells.get(cellKey(ix, iy)) ?? []) {
          const ax = this.seg[4 * s]!;
          const ay = this.seg[4 * s + 1]!;
          const dx = this.seg[4 * s + 2]! - ax;
          const dy = this.seg[4 * s + 3]! - ay;
          const l2 = dx * dx + dy * dy;
          const t = l2 > 0 ? Math.max(0, Math.min(1, ((x - ax) * dx + (y - ay) * dy) / l2)) : 0;
          const px = ax + t * dx;
          const py = ay + t * dy;
          const d2 = (px - x) ** 2 + (py - y) ** 2;
          if (d2 < bestD2) {
            bestD2 = d2;
            best = { x: px, y: py };
          }
        }
      }
    }
    return best;
  }
}

function bounds(pts: readonly XY[]): { minX: number; minY: number; maxX: number; maxY: number } {
  let minX = Infinity;
  let minY = Infinity;
  let maxX = -Infinity;
  let maxY = -Infinity;
  for (const [x, y] of pts) {
    minX = Math.min(minX, x);
    minY = Math.min(minY, y);
    maxX = Math.max(maxX, x);
    maxY = Math.max(maxY, y);
  }
  return { minX, minY, maxX, maxY };
}

function interval(name: string, v: unknown, lo: number, hi: number): void {
  const ok = Array.isArray(v) && v.length === 2 && v.every((x) => typeof x === 'number' && Number.isFinite(x) && x >= lo && x <= hi) && (v[0] as number) <= (v[1] as number);
  if (!ok) throw new RangeError(`${name} must be [lo, hi] with ${lo} <= lo <= hi <= ${hi}, got ${JSON.stringify(v)}`);
}

const CELL_BIAS = 1 << 20;
function cellKey(ix: number, iy: number): number {
  return (ix + CELL_BIAS) * 2 * CELL_BIAS + (iy + CELL_BIAS);
}

function clamp(v: number, limit: number): number {
  return Math.max(-limit, Math.min(limit, v));
}

function round(v: number, scale: number): number {
  return Math.round(v * scale) / scale;
}
