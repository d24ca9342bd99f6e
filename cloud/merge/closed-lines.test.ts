/**
 * Closed lines (a kerb round a traffic island): clustered into one closed consensus line and
 * published once, closed; a loop the drives saw only in part stays one open line that does not
 * wind round twice. Before closed lines were detected, the two ends of the growing line chased
 * each other round the loop (thousands of metres of line round a 94 m ring) and the loop came
 * out as many short overlapping pieces.
 */
import { describe, expect, it } from 'vitest';
import type { XY } from '../../shared/schema.ts';
import { parseTileKey, tileBounds, tileFrame } from '../../shared/tiles.ts';
import { clusterLines, type LineCluster, type LinePoints } from './cluster-lines.ts';
import { clipLine, clipPolyline, type Position } from './features.ts';
import { mergeTile } from './merge-tile.ts';
import { newProjection, Polyline } from './polyline.ts';
import type { TileObservation } from './prepare.ts';
import { tileBoxM } from './shards.ts';

/** A small deterministic PRNG (mulberry32) and a normal deviate from it. */
function rng(seed: number): { u: () => number; n: () => number } {
  let a = seed >>> 0;
  const u = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { u, n: () => Math.sqrt(-2 * Math.log(u() + 1e-12)) * Math.cos(2 * Math.PI * u()) };
}

/**
 * Each drive's view of a ring kerb (centre c, radius r) as the edge sends it: consecutive crops
 * of ~cropM that abut end to start, one point a metre, the drive's own offset (a few dm) and
 * per-point noise (3 cm); drives start anywhere and go either way round. `skipRad`: a sector
 * [0, skipRad) of angle that drives from `skipFromDrive` on do not see.
 */
function ringViews(c: XY, r: number, drives: number, cropM: number, seed: number, skipRad = 0, skipFromDrive = 0): XY[][][] {
  const g = rng(seed);
  const out: XY[][][] = [];
  for (let d = 0; d < drives; d++) {
    const ox = g.n() * 0.15;
    const oy = g.n() * 0.15;
    const start = g.u() * 2 * Math.PI;
    const dir = d % 2 ? -1 : 1;
    const nPts = Math.round(2 * Math.PI * r);
    const crops: XY[][] = [];
    let cur: XY[] = [];
    for (let k = 0; k <= nPts; k++) {
      const a = start + (dir * k) / r;
      const am = ((a % (2 * Math.PI)) + 2 * Math.PI) % (2 * Math.PI);
      if (am < skipRad && d >= skipFromDrive) {
        if (cur.length >= 2) crops.push(cur);
        cur = [];
        continue;
      }
      cur.push([c[0] + ox + r * Math.cos(a) + g.n() * 0.03, c[1] + oy + r * Math.sin(a) + g.n() * 0.03]);
      if (cur.length > cropM) {
        crops.push(cur);
        cur = [cur[cur.length - 1]!];
      }
    }
    if (cur.length >= 2) crops.push(cur);
    out.push(crops);
  }
  return out;
}

function linePoints(views: XY[][][]): LinePoints {
  const x: number[] = [];
  const y: number[] = [];
  const tx: number[] = [];
  const ty: number[] = [];
  const drive: number[] = [];
  const itemStart: number[] = [];
  const itemEnd: number[] = [];
  views.forEach((crops, d) => {
    for (const crop of crops) {
      itemStart.push(x.length);
      crop.forEach((p, i) => {
        const a = crop[Math.max(0, i - 1)]!;
        const b = crop[Math.min(crop.length - 1, i + 1)]!;
        const l = Math.hypot(b[0] - a[0], b[1] - a[1]) || 1;
        x.push(p[0]);
        y.push(p[1]);
        tx.push((b[0] - a[0]) / l);
        ty.push((b[1] - a[1]) / l);
        drive.push(d);
      });
      itemEnd.push(x.length);
    }
  });
  const n = x.length;
  return { n, x: Float64Array.from(x), y: Float64Array.from(y), tx: Float64Array.from(tx), ty: Float64Array.from(ty), drive: Int32Array.from(drive), attr: new Int8Array(n), weight: new Float32Array(n).fill(1), itemStart, itemEnd };
}

const PARAMS = { gateM: 0.6, spacingM: 1, cosMax: Math.cos((25 * Math.PI) / 180), minInlierShare: 0.6, smoothBins: 2 };
/** Clusters that support anything (the others repeat an earlier one all along). */
const live = (cs: LineCluster[]): LineCluster[] => cs.filter((c) => c.support.some((s) => s > 0));
const lengthOf = (x: ArrayLike<number>, y: ArrayLike<number>): number => {
  let s = 0;
  for (let i = 1; i < x.length; i++) s += Math.hypot(x[i]! - x[i - 1]!, y[i]! - y[i - 1]!);
  return s;
};

describe('closed lines: clustering', () => {
  for (const [r, cropM] of [
    [15, 20],
    [5, 8],
    [60, 30],
  ] as const) {
    it(`clusters a ring of radius ${r} m seen by 6 drives in ${cropM} m crops into one closed line, once round`, () => {
      // Leftover points of the ring may seed more clusters, wholly marked as repeating it.
      const clusters = live(clusterLines(linePoints(ringViews([0, 0], r, 6, cropM, 7)), PARAMS));
      expect(clusters.length).toBe(1);
      const k = clusters[0]!;
      const n = k.x.length;
      expect(k.closed).toBe(true);
      expect([k.x[n - 1], k.y[n - 1]]).toEqual([k.x[0], k.y[0]]);
      expect(lengthOf(k.x, k.y) / (2 * Math.PI * r)).toBeGreaterThan(0.98);
      expect(lengthOf(k.x, k.y) / (2 * Math.PI * r)).toBeLessThan(1.02);
      // Every drive supports every vertex (give or take one at a crop joint), the seam included.
      expect(Math.min(...k.support)).toBeGreaterThanOrEqual(4);
      expect(k.support[n - 1]).toBe(k.support[0]);
      // On the ring: no vertex off it by more than the drives' offsets.
      for (let v = 0; v < n; v++) expect(Math.abs(Math.hypot(k.x[v]!, k.y[v]!) - r)).toBeLessThan(0.3);
    });
  }

  it('keeps a ring that no drive saw all round open, and once round', () => {
    const r = 15;
    const clusters = live(clusterLines(linePoints(ringViews([0, 0], r, 6, 20, 3, 0.5)), PARAMS));
    expect(clusters.length).toBe(1);
    const k = clusters[0]!;
    expect(k.closed).toBe(false);
    const seen = (2 * Math.PI - 0.5) * r;
    expect(lengthOf(k.x, k.y)).toBeLessThan(seen + 2);
    expect(lengthOf(k.x, k.y)).toBeGreaterThan(seen - 3);
  });

  /** A stadium loop (two 15 m straights widthM apart, half-circle ends) seen whole by 4 drives in 10 m crops. */
  const stadium = (widthM: number): XY[][][] => {
    const r = widthM / 2;
    const len = 30 + 2 * Math.PI * r;
    const at = (s: number): XY => {
      s = ((s % len) + len) % len;
      if (s < 15) return [s, -r];
      s -= 15;
      if (s < Math.PI * r) return [15 + r * Math.sin(s / r), -r * Math.cos(s / r)];
      s -= Math.PI * r;
      if (s < 15) return [15 - s, r];
      s -= 15;
      return [-r * Math.sin(s / r), r * Math.cos(s / r)];
    };
    const g = rng(widthM * 100);
    return [0, 1, 2, 3].map((d) => {
      const s0 = g.u() * len;
      const crops: XY[][] = [];
      for (let c = 0; c < len; c += 10) {
        const crop: XY[] = [];
        for (let s = c; s <= Math.min(len, c + 10) + 1e-9; s += 0.5) {
          const p = at(s0 + s);
          crop.push([p[0] + d * 0.02 + g.n() * 0.02, p[1] + g.n() * 0.02]);
        }
        crops.push(crop);
      }
      return crops;
    });
  };

  it('closes a loop whose sides are wider apart than two gates, not a narrower one (a line turned back on itself)', () => {
    const wide = live(clusterLines(linePoints(stadium(4)), PARAMS));
    expect(wide.length).toBe(1);
    expect(wide[0]!.closed).toBe(true);
    // 2 * area / perimeter of a 1 m wide stadium is ~1 m, under two 0.6 m gates.
    for (const k of clusterLines(linePoints(stadium(1)), PARAMS)) expect(k.closed).toBe(false);
  });
});

describe('closed lines: polyline and clipping', () => {
  it('projects onto a closed polyline across its seam, never beyond it', () => {
    const xs: number[] = [];
    const ys: number[] = [];
    for (let k = 0; k < 12; k++) {
      xs.push(10 * Math.cos((2 * Math.PI * k) / 12));
      ys.push(10 * Math.sin((2 * Math.PI * k) / 12));
    }
    xs.push(xs[0]!);
    ys.push(ys[0]!);
    const L = new Polyline(Float64Array.from(xs), Float64Array.from(ys));
    expect(L.closed).toBe(true);
    expect(new Polyline(Float64Array.from([0, 1, 2]), Float64Array.from([0, 0, 0])).closed).toBe(false);
    const pr = newProjection(2);
    // Just before the seam (on the last segment), walking from a hint on segment 0.
    const a = -0.1;
    expect(L.project(10.2 * Math.cos(a), 10.2 * Math.sin(a), 2, pr, 0)).toBe(true);
    expect(pr.beyond).toBe(0);
    expect(Math.floor(pr.pos)).toBe(11);
    expect(pr.dist).toBeLessThan(0.7);
  });

  it('keeps a closed line one piece across its seam when clipped, and closed when inside', () => {
    const b = { west: 0, east: 10, south: 0, north: 10 };
    // A closed square whose seam (first vertex) lies inside and which leaves the tile east.
    const sq: Position[] = [
      [5, 2],
      [12, 2],
      [12, 8],
      [5, 8],
      [5, 2],
    ];
    expect(clipPolyline(sq, b).length).toBe(2);
    const runs = clipLine(sq, b);
    expect(runs).toEqual([
      [
        [10, 8],
        [5, 8],
        [5, 2],
        [10, 2],
      ],
    ]);
    const inside: Position[] = [
      [2, 2],
      [8, 2],
      [8, 8],
      [2, 8],
      [2, 2],
    ];
    expect(clipLine(inside, b)).toEqual([inside]);
  });
});

describe('closed lines: mergeTile', () => {
  const tile = '16/34297/22504';
  const [x0, y0, x1, y1] = tileBoxM(parseTileKey(tile));
  const c: XY = [(x0 + x1) / 2, (y0 + y1) / 2];
  const observe = (views: XY[][][]): TileObservation[] => {
    const t0 = Date.UTC(2025, 2, 1);
    const observations: TileObservation[] = [];
    views.forEach((crops, d) => {
      crops.forEach((points, i) => {
        observations.push({ driveId: `veh-${d}-d1`, tUnixMs: t0 + d * 3_600_000 + i * 1000, cls: 'road_boundary', kind: 'curb', score: 0.9, poseSigmaCm: 50, points });
      });
    });
    return observations;
  };

  it('publishes a loop with a stretch too few drives saw as one open piece across the seam', () => {
    // Drive 0 sees the whole ring, the four others all but 0.6 rad of it (~7 m): the cluster
    // closes along drive 0, that stretch lacks minDrives (2), and the rest is one piece.
    const r = 12;
    const res = mergeTile({ tile, version: 1, observations: observe(ringViews(c, r, 5, 15, 13, 0.6, 1)) });
    const lines = res.collection.features.filter((f) => f.properties.class === 'road_boundary');
    expect(lines.length).toBe(1);
    const g = lines[0]!.geometry;
    if (g.type !== 'LineString') throw new Error('a line');
    const f = tileFrame(parseTileKey(tile));
    const local = g.coordinates.map(([lng, lat]) => f.toLocal({ lng, lat }));
    const len = lengthOf(
      local.map((p) => p[0]),
      local.map((p) => p[1]),
    );
    expect(len).toBeGreaterThan((2 * Math.PI - 0.6) * r - 3);
    expect(len).toBeLessThan((2 * Math.PI - 0.6) * r + 3);
  });

  it('publishes the kerb round an island once, closed', () => {
    const r = 12;
    const res = mergeTile({ tile, version: 1, observations: observe(ringViews(c, r, 5, 15, 11)) });
    const lines = res.collection.features.filter((f) => f.properties.class === 'road_boundary');
    expect(lines.length).toBe(1);
    const g = lines[0]!.geometry;
    if (g.type !== 'LineString') throw new Error('a line');
    const co = g.coordinates;
    expect(co[co.length - 1]).toEqual(co[0]);
    const f = tileFrame(parseTileKey(tile));
    const local = co.map(([lng, lat]) => f.toLocal({ lng, lat }));
    const len = lengthOf(
      local.map((p) => p[0]),
      local.map((p) => p[1]),
    );
    expect(len / (2 * Math.PI * r)).toBeGreaterThan(0.97);
    expect(len / (2 * Math.PI * r)).toBeLessThan(1.03);
    expect(lines[0]!.properties.kind).toBe('curb');
    expect(lines[0]!.properties.supportDrives).toBe(5);
    // Inside the tile, so the border clip did not cut it.
    const tb = tileBounds(parseTileKey(tile));
    for (const [lng, lat] of co) expect(lng > tb.west && lng < tb.east && lat > tb.south && lat < tb.north).toBe(true);
  });
});
