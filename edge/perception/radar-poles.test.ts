import { describe, expect, it } from 'vitest';
import type { RadarDetection, RadarScan } from '../../shared/radar.ts';
import { RadarPoleMap, type RadarScanPose } from './radar-poles.ts';

const SENSOR_X_M = 3.8;

/** A small seeded generator (mulberry32) with a Box-Muller normal. */
class Rng {
  constructor(private s: number) {}
  next(): number {
    this.s = (this.s + 0x6d2b79f5) | 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  normal(mean: number, sd: number): number {
    return mean + sd * Math.sqrt(-2 * Math.log(1 - this.next())) * Math.cos(2 * Math.PI * this.next());
  }
}

/** A car driving east along y = 0 at 10 m/s, pose frame = world; scans at 10 Hz. */
function drivePast(map: RadarPoleMap, targets: Array<{ x: number; y: number; p?: number; moving?: number }>, opts: { fromX?: number; toX?: number; speedMps?: number; noiseM?: number; falseAlarms?: number; seed?: number } = {}): void {
  const rng = new Rng(opts.seed ?? 1);
  const speed = opts.speedMps ?? 10;
  let scanId = 0;
  for (let x = opts.fromX ?? -60; x <= (opts.toX ?? 60); x += speed / 10) {
    const detections: RadarDetection[] = [];
    for (const t of targets) {
      const bx = t.x - x;
      const by = t.y;
      const lx = bx - SENSOR_X_M;
      const r = Math.hypot(lx, by);
      if (lx <= 0 || Math.abs(Math.atan2(by, lx)) > 0.87 || r > 70) continue;
      if (rng.next() > (t.p ?? 0.8)) continue;
      const n = opts.noiseM ?? 0.05;
      detections.push({ xM: bx + rng.normal(0, n), yM: by + rng.normal(0, n), rangeRateMps: (-speed * lx) / r + (t.moving ?? 0), rcsDbsm: 5 });
    }
    for (let k = 0; k < (opts.falseAlarms ?? 0); k++) {
      const a = (rng.next() - 0.5) * 1.7;
      const r = 2 + rng.next() * 45;
      detections.push({ xM: SENSOR_X_M + r * Math.cos(a), yM: r * Math.sin(a), rangeRateMps: (rng.next() - 0.5) * 30, rcsDbsm: -5 });
    }
    const scan: RadarScan = { tMonoNs: scanId * 1e8, scanId: scanId++, sensorXM: SENSOR_X_M, sensorYM: 0, detections };
    const pose: RadarScanPose = { eastM: x, northM: 0, headingRad: 0, speedMps: speed, yawRateRps: 0 };
    map.addScan(scan, pose);
  }
}

const ALL = { minXM: -100, minYM: -100, maxXM: 100, maxYM: 100 };

describe('RadarPoleMap', () => {
  it('finds a pole the car drives past, within centimetres, once', () => {
    const map = new RadarPoleMap();
    drivePast(map, [{ x: 10, y: 5 }]);
    const poles = map.polesIn(ALL);
    expect(poles).toHaveLength(1);
    expect(Math.hypot(poles[0]!.eastM - 10, poles[0]!.northM - 5)).toBeLessThan(0.05);
    expect(poles[0]!.hits).toBeGreaterThan(20);
    // Its hits were consumed: the next chunk does not get it again.
    expect(map.polesIn(ALL)).toHaveLength(0);
  });

  it('ignores moving traffic, sparse false alarms and a guard rail', () => {
    const map = new RadarPoleMap();
    const rail = Array.from({ length: 40 }, (_, k) => ({ x: -10 + k, y: -6, p: 0.3 }));
    drivePast(map, [{ x: 20, y: 3, moving: 4 }, ...rail], { falseAlarms: 6 });
    expect(map.polesIn(ALL)).toHaveLength(0);
    expect(map.counters.clustersRejected).toBeGreaterThan(0);
    expect(map.counters.detectionsStatic).toBeLessThan(map.counters.detectionsIn);
  });

  it('keeps two poles 2 m apart apart', () => {
    const map = new RadarPoleMap();
    drivePast(map, [{ x: 10, y: 5 }, { x: 12, y: 5 }]);
    const poles = map.polesIn(ALL).sort((a, b) => a.eastM - b.eastM);
    expect(poles.map((p) => Math.round(p.eastM))).toEqual([10, 12]);
  });

  it('finds both posts of a pair 1.2-1.6 m apart (a roundabout entry), along or across the road', () => {
    for (const [dx, dy] of [
      [1.5, 0],
      [0, 1.5],
      [1.2, 0.6],
    ] as const) {
      const map = new RadarPoleMap();
      drivePast(map, [{ x: 10, y: 5 }, { x: 10 + dx, y: 5 + dy }]);
      const poles = map.polesIn(ALL);
      expect(poles, `pair offset ${dx}, ${dy}`).toHaveLength(2);
      for (const [x, y] of [[10, 5], [10 + dx, 5 + dy]] as const) {
        expect(Math.min(...poles.map((p) => Math.hypot(p.eastM - x, p.northM - y)))).toBeLessThan(0.1);
      }
    }
  });

  it('does not take the end of a guard rail, nor a post in a row of three, for a pole', () => {
    const railEnd = new RadarPoleMap();
    const rail = Array.from({ length: 12 }, (_, k) => ({ x: 10 + k, y: 5, p: 0.8 }));
    drivePast(railEnd, rail);
    expect(railEnd.polesIn(ALL)).toHaveLength(0);
    // Samples a metre apart, each as strong as a pole: the middle one has neighbours on both sides.
    const row = new RadarPoleMap();
    drivePast(row, [{ x: 10, y: 5 }, { x: 11, y: 5 }, { x: 12, y: 5 }]);
    expect(row.polesIn(ALL).filter((p) => Math.abs(p.eastM - 11) < 0.3)).toHaveLength(0);
  });

  it('leaves a pole centred outside the chunk for the chunk that holds it', () => {
    const map = new RadarPoleMap();
    drivePast(map, [{ x: 10.1, y: 5 }]);
    expect(map.polesIn({ minXM: -100, minYM: -100, maxXM: 10, maxYM: 100 })).toHaveLength(0);
    expect(map.polesIn({ minXM: 10, minYM: -100, maxXM: 100, maxYM: 100 })).toHaveLength(1);
  });

  it('does not pile up hits while the car stands', () => {
    const map = new RadarPoleMap();
    drivePast(map, [{ x: 10, y: 5 }], { speedMps: 0.5, fromX: 0, toX: 1 });
    expect(map.counters.scansUsed).toBeLessThanOrEqual(1);
    expect(map.counters.scansSkippedSlow).toBeGreaterThan(10);
    expect(map.polesIn(ALL)).toHaveLength(0);
  });

  it('holds at most maxCells and forgets what is left far behind', () => {
    const small = new RadarPoleMap({ maxCells: 50 });
    drivePast(small, [], { falseAlarms: 20, speedMps: 10 });
    expect(small.size).toBeLessThanOrEqual(50);
    expect(small.counters.cellsEvicted).toBeGreaterThan(0);
    const far = new RadarPoleMap({ retainM: 30 });
    drivePast(far, [{ x: -40, y: 5 }], { fromX: -80, toX: 60 });
    expect(far.polesIn(ALL)).toHaveLength(0); // forgotten 100 m later
  });

  it('refuses bad options, naming the field', () => {
    expect(() => new RadarPoleMap({ cellM: 0 })).toThrow(/radar\.cellM/);
    expect(() => new RadarPoleMap({ minHits: 2.5 })).toThrow(/radar\.minHits/);
    expect(() => new RadarPoleMap({ staticToleranceMps: Number.NaN })).toThrow(/radar\.staticToleranceMps/);
    expect(() => new RadarPoleMap({ neighbourRadiusM: 0 })).toThrow(/radar\.neighbourRadiusM/);
  });
});
