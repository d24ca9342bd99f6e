/**
 * Test support (not exported from index.ts): a small synthetic world and a fleet observing it
 * with GNSS-like errors, written as real batches. The world frame is a LocalFrame at `origin`
 * (metres, [east, north]); the road runs east-west across a tile border at x = 0.
 *
 * Errors per drive: a bias ~ N(0, biasSigmaM^2) per axis, a slow linear drift, optionally one
 * multipath jump; per observation a shared offset (~5 cm) and per-vertex noise (~3 cm); misses;
 * and false positives seen by one drive only.
 */
import { encodeBatch, type ObservationBatch, type WireObservation } from '../../shared/batch.ts';
import { LocalFrame, type LngLat } from '../../shared/geo.ts';
import type { BoundaryKind, DividerStyle, PrimitiveClass, XY } from '../../shared/schema.ts';
import { tileBounds, tileFrame, tileKey, tileOf } from '../../shared/tiles.ts';
import type { ObjectStore } from '../store/index.ts';

export interface TruthLine {
  id: string;
  cls: 'lane_divider' | 'road_boundary' | 'stop_line';
  style?: DividerStyle;
  kind?: BoundaryKind;
  points: XY[];
}
export interface TruthPoint {
  id: string;
  cls: 'traffic_sign' | 'traffic_light';
  signCode?: string;
  at: XY;
}
export interface TruthWorld {
  frame: LocalFrame;
  lines: TruthLine[];
  points: TruthPoint[];
  crosswalks: Array<{ id: string; ring: XY[] }>;
}

/** Centre line of the road: gently curved, x from -170 to 170 m. */
function centre(x: number): XY {
  return [x, 0.0006 * x * x];
}
function normalAt(x: number): XY {
  const slope = 0.0012 * x;
  const len = Math.hypot(1, slope);
  return [-slope / len, 1 / len];
}
function offsetLine(lat: number, x0: number, x1: number, stepM = 2): XY[] {
  const out: XY[] = [];
  for (let x = x0; x <= x1 + 1e-9; x += stepM) {
    const c = centre(x);
    const n = normalAt(x);
    out.push([c[0] + n[0] * lat, c[1] + n[1] * lat]);
  }
  return out;
}

/**
 * A world whose origin sits on the west border of the tile containing `near`. The crosswalk is
 * 4 m long across the road, centred `crosswalkAtM` along it (105 m; 0 puts it across the border).
 */
export function syntheticWorld(near: LngLat = { lng: 8.4037, lat: 49.0069 }, crosswalkAtM = 105): TruthWorld {
  const t = tileOf(near);
  const b = tileBounds(t);
  const frame = new LocalFrame({ lng: b.west, lat: (b.north + b.south) / 2 });
  const lines: TruthLine[] = [
    { id: 'curb_right', cls: 'road_boundary', kind: 'curb', points: offsetLine(-7, -160, 160) },
    { id: 'div_right', cls: 'lane_divider', style: 'dashed', points: offsetLine(-3.5, -160, 160) },
    { id: 'div_centre', cls: 'lane_divider', style: 'solid', points: offsetLine(0, -160, 160) },
    { id: 'div_left', cls: 'lane_divider', style: 'dashed', points: offsetLine(3.5, -160, 160) },
    { id: 'border_left', cls: 'road_boundary', kind: 'road_border', points: offsetLine(7, -160, 160) },
  ];
  const c = centre(100);
  const n = normalAt(100);
  lines.push({ id: 'stop', cls: 'stop_line', points: [[c[0] + n[0] * -6.8, c[1] + n[1] * -6.8], [c[0] - n[0] * 0.2, c[1] - n[1] * 0.2]] });
  const ring: XY[] = [];
  for (const [x, lat] of [[crosswalkAtM - 2, -7], [crosswalkAtM + 2, -7], [crosswalkAtM + 2, 7], [crosswalkAtM - 2, 7]] as const) {
    const cc = centre(x);
    const nn = normalAt(x);
    ring.push([cc[0] + nn[0] * lat, cc[1] + nn[1] * lat]);
  }
  const sign = (id: string, cls: TruthPoint['cls'], x: number, lat: number, code?: string): TruthPoint => {
    const cc = centre(x);
    const nn = normalAt(x);
    const p: TruthPoint = { id, cls, at: [cc[0] + nn[0] * lat, cc[1] + nn[1] * lat] };
    if (code !== undefined) p.signCode = code;
    return p;
  };
  return {
    frame,
    lines,
    points: [sign('sign_a', 'traffic_sign', 95, -8.5, 'de206'), sign('sign_b', 'traffic_sign', -60, 8.5, 'de274'), sign('light_a', 'traffic_light', 97, -9.5)],
    crosswalks: [{ id: 'xwalk', ring }],
  };
}

export interface FleetOptions {
  drives: number;
  seed: number;
  /** First drive's start, Unix ms; drives start `spacingMin` minutes apart. */
  startUnixMs: number;
  spacingMin?: number;
  biasSigmaM?: number;
  /** Drift speed, metres per minute (random direction per drive). */
  driftMPerMin?: number;
  missRate?: number;
  /** Truth line ids nobody sees any more (removed paint). */
  without?: string[];
  /** Add single-drive false positives. */
  falsePositives?: boolean;
  /** Give drive 1 a 4 m multipath jump for 3 s. */
  multipath?: boolean;
  driveIdPrefix?: string;
  /** Drives 0..anchors-1 position with RTK: a few cm of error, no drift, pose sigma 3 cm declared. */
  anchors?: number;
  /**
   * Per-drive heading error, 1-sigma radians: each (non-anchor) drive's positions are rotated by
   * its own angle about the world origin (the road's middle). Default 0 (none).
   */
  rotationSigmaRad?: number;
}

export interface DriveTruth {
  driveId: string;
  /** The error the drive adds to every position at time t (metres, world frame), besides the rotation. */
  offsetAt(tUnixMs: number): XY;
  /** Its rotation about the world origin, radians counter-clockwise: a point p moves by rotationRad x perp(p). */
  rotationRad: number;
  startUnixMs: number;
  endUnixMs: number;
}

export interface Fleet {
  observations: WireObservation[];
  drives: DriveTruth[];
}

export function simulateFleet(w: TruthWorld, o: FleetOptions): Fleet {
  const rnd = mulberry32(o.seed);
  const gauss = (): number => Math.sqrt(-2 * Math.log(1 - rnd())) * Math.cos(2 * Math.PI * rnd());
  const observations: WireObservation[] = [];
  const drives: DriveTruth[] = [];
  const speed = 10; // m/s
  for (let d = 0; d < o.drives; d++) {
    const driveId = `${o.driveIdPrefix ?? 'drive'}-${o.seed}-${d}`;
    const start = o.startUnixMs + d * (o.spacingMin ?? 5) * 60_000;
    const anchor = d < (o.anchors ?? 0);
    const biasSigmaM = anchor ? 0.02 : (o.biasSigmaM ?? 1);
    const bias: XY = [gauss() * biasSigmaM, gauss() * biasSigmaM];
    const dir = rnd() * 2 * Math.PI;
    const drift = anchor ? 0 : (o.driftMPerMin ?? 0.2) / 60_000;
    const poseSigmaCm = anchor ? 3 : 100;
    const forward = d % 2 === 0;
    const jumpAt = o.multipath && d === 1 && !anchor ? start + 12_000 : -1;
    // Drawn only when asked for, so fleets without it keep their random sequence.
    const rotationRad = o.rotationSigmaRad && !anchor ? gauss() * o.rotationSigmaRad : 0;
    const offsetAt = (t: number): XY => {
      const dt = t - start;
      let x = bias[0] + Math.cos(dir) * drift * dt;
      let y = bias[1] + Math.sin(dir) * drift * dt;
      if (jumpAt > 0 && t >= jumpAt && t < jumpAt + 3000) {
        x += 0.8;
        y += 4;
      }
      return [x, y];
    };
    const end = start + (340 / speed) * 1000;
    drives.push({ driveId, offsetAt, rotationRad, startUnixMs: start, endUnixMs: end });
    // A frame every 10 m: the 25 m ahead of the car.
    for (let k = 0; k <= 34; k++) {
      const x = forward ? -170 + 10 * k : 170 - 10 * k;
      const t = start + k * 1000;
      const lo = forward ? x : x - 25;
      const hi = forward ? x + 25 : x;
      const off = offsetAt(t);
      const emit = (cls: PrimitiveClass, pts: XY[], extra: Partial<WireObservation>): void => {
        if (rnd() < (o.missRate ?? 0.1)) return;
        const ox = off[0] + gauss() * (anchor ? 0.01 : 0.05);
        const oy = off[1] + gauss() * (anchor ? 0.01 : 0.05);
        const noisy: XY[] = pts.map((p) => [p[0] + ox - rotationRad * p[1] + gauss() * 0.03, p[1] + oy + rotationRad * p[0] + gauss() * 0.03]);
        observations.push(toWire(w.frame, { driveId, tUnixMs: t, cls, score: 0.6 + 0.4 * rnd(), poseSigmaCm, ...extra }, noisy));
      };
      for (const line of w.lines) {
        if (o.without?.includes(line.id)) continue;
        const inWin = line.points.filter((p) => p[0] >= lo && p[0] <= hi);
        if (inWin.length < 2) continue;
        const pts = forward ? inWin : inWin.slice().reverse();
        const extra: Partial<WireObservation> = {};
        if (line.style) extra.style = rnd() < 0.95 ? line.style : line.style === 'solid' ? 'dashed' : 'solid';
        if (line.kind) extra.kind = line.kind;
        emit(line.cls, pts, extra);
      }
      for (const p of w.points) {
        if (o.without?.includes(p.id) || p.at[0] < lo || p.at[0] > hi) continue;
        emit(p.cls, [p.at], p.signCode !== undefined ? { signCode: p.signCode } : {});
      }
      for (const cw of w.crosswalks) {
        if (o.without?.includes(cw.id) || !cw.ring.every((p) => p[0] >= lo - 5 && p[0] <= hi + 5) || k % 2) continue;
        emit('crosswalk', cw.ring, {});
      }
      if (o.falsePositives && k === 20) {
        // One drive's phantom divider beside the road, and a phantom sign.
        if (d === 0) emit('lane_divider', offsetLine(10.5, 30, 50), { style: 'solid' });
        if (d === 3) emit('traffic_sign', [[50, 0.0006 * 2500 - 9]], { signCode: 'de101' });
        if (d === 5) emit('lane_divider', offsetLine(-1.75, -40, -20), { style: 'dashed' });
      }
    }
  }
  return { observations, drives };
}

function toWire(frame: LocalFrame, base: Omit<WireObservation, 'tile' | 'pointsCm'>, pts: XY[]): WireObservation {
  const lls = pts.map((p) => frame.toLngLat(p));
  const tile = tileOf(lls[0]!);
  const tf = tileFrame(tile);
  const pointsCm = lls.map((ll) => {
    const [x, y] = tf.toLocal(ll);
    return [Math.round(x * 100), Math.round(y * 100)] as [number, number];
  });
  return { ...base, tile: tileKey(tile), pointsCm } as WireObservation;
}

export const TEST_KEY = new Uint8Array(32).fill(7);

/** Writes the observations as batches of <= perBatch per drive, at batches/<vehicle>/<seq>.fmb. */
export async function writeBatches(store: ObjectStore, obs: readonly WireObservation[], perBatch = 200, seqFrom = 1): Promise<number> {
  const byDrive = new Map<string, WireObservation[]>();
  for (const o of obs) {
    const l = byDrive.get(o.driveId);
    if (l) l.push(o);
    else byDrive.set(o.driveId, [o]);
  }
  let n = 0;
  for (const [driveId, list] of byDrive) {
    const vehicleId = `veh-${driveId}`;
    for (let i = 0, seq = seqFrom; i < list.length; i += perBatch, seq++) {
      const chunk = list.slice(i, i + perBatch);
      const batch: ObservationBatch = { vehicleId, seq, createdUnixMs: Math.max(...chunk.map((c) => c.tUnixMs)) + 1000, queueDepth: 0, observations: chunk };
      await store.put(`batches/${vehicleId}/${String(seq).padStart(10, '0')}.fmb`, encodeBatch(batch, TEST_KEY));
      n++;
    }
  }
  return n;
}

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface LineError {
  id: string;
  /** Mean / max distance of the truth samples (shifted by the expected offset) to the nearest published feature of the class, metres. */
  meanM: number;
  maxM: number;
  /** Share of truth samples within 0.3 m of a published feature. */
  coverage: number;
}

/**
 * Compares published features (any tiles) with the truth lines of the world, shifted by
 * `offset` (the drives' shared error, which no merge can remove). Samples every metre, 3 m in
 * from each end.
 */
export function lineErrors(w: TruthWorld, features: ReadonlyArray<{ geometry: { type: string; coordinates: unknown }; properties: { class: string } }>, offset: XY): LineError[] {
  const byClass = new Map<string, XY[][]>();
  for (const f of features) {
    if (f.geometry.type !== 'LineString') continue;
    const pts = (f.geometry.coordinates as Array<[number, number]>).map(([lng, lat]) => w.frame.toLocal({ lng, lat }));
    const l = byClass.get(f.properties.class);
    if (l) l.push(pts);
    else byClass.set(f.properties.class, [pts]);
  }
  return w.lines.map((line) => {
    const cands = byClass.get(line.cls) ?? [];
    const samples: XY[] = [];
    for (let i = 1; i < line.points.length; i++) {
      const a = line.points[i - 1]!;
      const b = line.points[i]!;
      const len = Math.hypot(b[0] - a[0], b[1] - a[1]);
      for (let s = 0; s < len; s += 1) samples.push([a[0] + ((b[0] - a[0]) * s) / len + offset[0], a[1] + ((b[1] - a[1]) * s) / len + offset[1]]);
    }
    const inner = samples.length > 8 ? samples.slice(3, -3) : samples;
    let sum = 0;
    let max = 0;
    let near = 0;
    for (const p of inner) {
      let best = Infinity;
      for (const c of cands) best = Math.min(best, distToPolyline(p, c));
      sum += best;
      max = Math.max(max, best);
      if (best <= 0.3) near++;
    }
    return { id: line.id, meanM: sum / inner.length, maxM: max, coverage: near / inner.length };
  });
}

export function distToPolyline(p: XY, pts: readonly XY[]): number {
  if (pts.length === 1) return Math.hypot(p[0] - pts[0]![0], p[1] - pts[0]![1]);
  let best = Infinity;
  for (let i = 1; i < pts.length; i++) {
    const a = pts[i - 1]!;
    const b = pts[i]!;
    const vx = b[0] - a[0];
    const vy = b[1] - a[1];
    const l2 = vx * vx + vy * vy;
    let t = l2 > 0 ? ((p[0] - a[0]) * vx + (p[1] - a[1]) * vy) / l2 : 0;
    t = Math.max(0, Math.min(1, t));
    best = Math.min(best, Math.hypot(p[0] - a[0] - vx * t, p[1] - a[1] - vy * t));
  }
  return best;
}

/** Mean over drives of each drive's error at the middle of its drive: what the consensus keeps. */
export function meanOffset(drives: readonly DriveTruth[]): XY {
  let x = 0;
  let y = 0;
  for (const d of drives) {
    const o = d.offsetAt((d.startUnixMs + d.endUnixMs) / 2);
    x += o[0];
    y += o[1];
  }
  return [x / drives.length, y / drives.length];
}
