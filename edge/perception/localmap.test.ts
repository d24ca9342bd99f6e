import { SEG_CLASS_IDS } from '../../shared/camera.ts';
import { describe, expect, it } from 'vitest';
import { allocSegOutput } from './decode.ts';
import { GroundLut } from './ground.ts';
import { LocalMap, type LocalPrimitive } from './localmap.ts';
import { renderRoad, subsampleTable, TEST_CALIBRATION, type RoadScene } from './test-scene.ts';

const HEADING = 0.3; // rad: the road is not aligned with the chunk grid
const scene: RoadScene = { originEastM: 5, originNorthM: -3, headingRad: HEADING, solidT: 1.75, dashedT: -1.8, lineWidthM: 0.15, dashM: 3, gapM: 6 };

/** Along / lateral road coordinates of a pose-frame point. */
function roadCoords(p: [number, number]): [number, number] {
  const c = Math.cos(HEADING);
  const s = Math.sin(HEADING);
  const de = p[0] - scene.originEastM;
  const dn = p[1] - scene.originNorthM;
  return [c * de + s * dn, -s * de + c * dn];
}

describe('LocalMap', () => {
  it('emits each divider once over a drive, continuous across chunk borders, with bounded memory', () => {
    const lut = new GroundLut(TEST_CALIBRATION);
    lut.update(0);
    const table = subsampleTable(TEST_CALIBRATION, 0);
    const seg = allocSegOutput(128, 64);
    const map = new LocalMap();
    const out: LocalPrimitive[] = [];
    let maxHeld = 0;
    const stepM = 1; // 10 m/s at 10 Hz
    for (let k = 0; k <= 150; k++) {
      const s = k * stepM;
      const e = scene.originEastM + s * Math.cos(HEADING);
      const n = scene.originNorthM + s * Math.sin(HEADING);
      renderRoad(scene, table, e, n, HEADING, seg);
      map.addFrame(seg, lut, { eastM: e, northM: n, headingRad: HEADING, sigmaM: 0.2 + k * 0.001 }, 1_000_000 + k * 100);
      out.push(...map.finish(e, n, HEADING).primitives);
      maxHeld = Math.max(maxHeld, map.chunksHeld);
    }
    const before = out.length;
    out.push(...map.flush().primitives);
    expect(before).toBeGreaterThan(0); // chunks were finished during the drive, not only at the end
    expect(map.chunksHeld).toBe(0);
    expect(maxHeld).toBeLessThanOrEqual(12);

    const dividers = out.filter((p) => p.cls === 'lane_divider');
    expect(out.filter((p) => p.cls !== 'lane_divider')).toHaveLength(0);
    // The field starts ~4 m ahead of the rear axle; the dashes are painted at s in [9k, 9k + 3).
    for (const [t, style, firstS] of [[scene.solidT, 'solid', 5], [scene.dashedT, 'dashed', 9]] as const) {
      const pieces = dividers
        .filter((d) => Math.abs(roadCoords(d.pointsLocal[0]!)[1] - t) < 0.8)
        .map((d) => ({ d, s: d.pointsLocal.map((p) => roadCoords(p)[0]) }))
        .map(({ d, s }) => ({ d, s0: Math.min(...s), s1: Math.max(...s) }))
        .sort((a, b) => a.s0 - b.s0);
      expect(pieces.length).toBeGreaterThanOrEqual(3); // the stretch crosses several chunks
      for (const p of pieces) {
        expect(p.d.style).toBe(style);
        expect(p.d.poseSigmaM).toBeGreaterThan(0.2);
        for (const q of p.d.pointsLocal) {
          const [along, lat] = roadCoords(q);
          if (along > 5 && along < 150) expect(Math.abs(lat - t)).toBeLessThan(0.1);
        }
      }
      // No duplicates: pieces do not overlap along the road; continuous: they meet at borders.
      for (let i = 1; i < pieces.length; i++) {
        expect(pieces[i]!.s0).toBeGreaterThan(pieces[i - 1]!.s1 - 0.3);
        if (pieces[i]!.s0 < 150) expect(pieces[i]!.s0 - pieces[i - 1]!.s1).toBeLessThan(0.5);
      }
      expect(pieces[0]!.s0).toBeLessThan(firstS + 1);
      expect(pieces[pieces.length - 1]!.s1).toBeGreaterThan(165);
    }
    expect(map.counters.chunksEmitted).toBe(map.counters.chunksCreated);
    expect(map.counters.chunksRevisited).toBe(0);
  });
});

describe('LocalMap pole feet', () => {
  // A sign foot at 40 m along the road, 4 m right of it; the model gives it probability 0.4 but
  // background wins the arg-max everywhere (as for most real pole feet: a blob of a few pixels).
  const SIGN_ALONG = 40;
  const SIGN_LAT = -4;
  const signEN = (): [number, number] => {
    const c = Math.cos(HEADING);
    const s = Math.sin(HEADING);
    return [scene.originEastM + SIGN_ALONG * c - SIGN_LAT * s, scene.originNorthM + SIGN_ALONG * s + SIGN_LAT * c];
  };

  function drive(withProb: boolean, frames: (k: number) => boolean): LocalPrimitive[] {
    const lut = new GroundLut(TEST_CALIBRATION);
    lut.update(0);
    const table = subsampleTable(TEST_CALIBRATION, 0);
    const seg = allocSegOutput(128, 64);
    const map = new LocalMap();
    const out: LocalPrimitive[] = [];
    const [se, sn] = signEN();
    for (let k = 0; k <= 60; k++) {
      const e = scene.originEastM + k * Math.cos(HEADING);
      const n = scene.originNorthM + k * Math.sin(HEADING);
      renderRoad(scene, table, e, n, HEADING, seg);
      if (withProb) {
        const p = (seg.signBaseProb ??= new Float32Array(lut.size));
        p.fill(0);
        if (frames(k)) {
          // Body-frame position of the foot; pixels whose ground point lies within 0.4 m of it.
          const c = Math.cos(HEADING);
          const s = Math.sin(HEADING);
          const bx = c * (se - e) + s * (sn - n);
          const by = -s * (se - e) + c * (sn - n);
          for (let i = 0; i < lut.size; i++) if (lut.valid[i] && Math.hypot(lut.xM[i]! - bx, lut.yM[i]! - by) < 0.4 && seg.classId[i] === 0) p[i] = 0.4;
        }
      }
      map.addFrame(seg, lut, { eastM: e, northM: n, headingRad: HEADING, sigmaM: 0.2 }, 0);
      out.push(...map.finish(e, n, HEADING).primitives);
    }
    out.push(...map.flush().primitives);
    return out.filter((p) => p.cls === 'traffic_sign');
  }

  it('finds a sign whose foot never wins the arg-max, from its probability over frames', () => {
    const signs = drive(true, () => true);
    expect(signs).toHaveLength(1);
    const [se, sn] = signEN();
    expect(Math.hypot(signs[0]!.pointsLocal[0]![0] - se, signs[0]!.pointsLocal[0]![1] - sn)).toBeLessThan(0.5);
    expect(signs[0]!.signCode).toBe('');
  });

  it('finds nothing without the probability, nor from a foot seen in one frame only', () => {
    expect(drive(false, () => true)).toHaveLength(0);
    expect(drive(true, (k) => k === 20)).toHaveLength(0);
  });

  /**
   * A whole pole as the model marks it (sign_base / light_base label the pole from its foot up):
   * in each column the pixels whose ray passes the pole, from its foot to the horizon; the lower
   * part (a light's pole) light_base, the upper part (the sign it carries) sign_base. The
   * flat-ground projection puts the pole's pixels beyond its foot.
   */
  function drivePole(poleFootPx: number): LocalPrimitive[] {
    const lut = new GroundLut(TEST_CALIBRATION);
    lut.update(0);
    const table = subsampleTable(TEST_CALIBRATION, 0);
    const seg = allocSegOutput(128, 64);
    const map = new LocalMap({ poleFootPx });
    const out: LocalPrimitive[] = [];
    const [se, sn] = signEN();
    const camX = TEST_CALIBRATION.mountXM;
    for (let k = 0; k <= 60; k++) {
      const e = scene.originEastM + k * Math.cos(HEADING);
      const n = scene.originNorthM + k * Math.sin(HEADING);
      renderRoad(scene, table, e, n, HEADING, seg);
      const c = Math.cos(HEADING);
      const s = Math.sin(HEADING);
      const bx = c * (se - e) + s * (sn - n) - camX;
      const by = -s * (se - e) + c * (sn - n);
      const footRangeM = Math.hypot(bx, by);
      if (bx > 3) {
        for (let i = 0; i < lut.size; i++) {
          if (!lut.valid[i]) continue;
          const x = lut.xM[i]! - camX;
          const y = lut.yM[i]!;
          const rangeM = Math.hypot(x, y);
          const offM = Math.abs(x * by - y * bx) / rangeM; // across the ray, at the foot's range
          if (rangeM < footRangeM - 0.2 || offM > 0.15) continue;
          seg.classId[i] = rangeM < 1.6 * footRangeM ? SEG_CLASS_IDS.light_base : SEG_CLASS_IDS.sign_base;
        }
      }
      map.addFrame(seg, lut, { eastM: e, northM: n, headingRad: HEADING, sigmaM: 0.2 }, 0);
      out.push(...map.finish(e, n, HEADING).primitives);
    }
    out.push(...map.flush().primitives);
    return out.filter((p) => p.cls === 'traffic_sign' || p.cls === 'traffic_light');
  }

  it('puts a whole pole at its foot and names what it carries, not on the projection of the pole', () => {
    const [se, sn] = signEN();
    const off = (p: LocalPrimitive): number => Math.hypot(p.pointsLocal[0]![0] - se, p.pointsLocal[0]![1] - sn);
    const feet = drivePole(2);
    const sign = feet.filter((p) => p.cls === 'traffic_sign');
    const light = feet.filter((p) => p.cls === 'traffic_light');
    expect(sign).toHaveLength(1);
    expect(light).toHaveLength(1);
    expect(off(sign[0]!)).toBeLessThan(0.5);
    expect(off(light[0]!)).toBeLessThan(0.5);
    // The same frames taking the whole run: the pole's projection pulls the points outward.
    const whole = drivePole(64);
    expect(whole.length).toBeGreaterThan(0);
    expect(Math.min(...whole.map(off))).toBeGreaterThan(2 * Math.max(off(sign[0]!), off(light[0]!)));
  });

  it('refuses a pole foot under one pixel', () => {
    expect(() => new LocalMap({ poleFootPx: 0 })).toThrow(/poleFootPx/);
    expect(() => new LocalMap({ poleFootPx: 1.5 })).toThrow(/poleFootPx/);
  });
});

describe('LocalMap splatting', () => {
  it('puts every footprint sample where a per-sample transform does, across chunk edges, within the chunk boxes', () => {
    const lut = new GroundLut(TEST_CALIBRATION);
    lut.update(0);
    const table = subsampleTable(TEST_CALIBRATION, 0);
    const seg = allocSegOutput(128, 64);
    const cellM = 0.15;
    const N = 32; // 4.8 m chunks: many footprints cross chunk edges
    const map = new LocalMap({ chunkCells: N, marginM: 1 });
    // Reference: each sample transformed on its own (the straightforward splat), per global cell.
    const ref = new Map<string, number>();
    const poses = [
      { eastM: 5, northM: -3, headingRad: 0.3 },
      { eastM: 4.8, northM: 0.001, headingRad: Math.PI / 2 },
      { eastM: -7.2, northM: 9.6, headingRad: -2.4 },
    ];
    for (const pose of poses) {
      renderRoad(scene, table, pose.eastM, pose.northM, pose.headingRad, seg);
      map.addFrame(seg, lut, { ...pose, sigmaM: 0.1 }, 0);
      const cos = Math.cos(pose.headingRad);
      const sin = Math.sin(pose.headingRad);
      for (let i = 0; i < lut.size; i++) {
        if (!lut.valid[i]) continue;
        const nA = Math.min(64, Math.max(1, Math.ceil(lut.alongM[i]! / (0.7 * cellM))));
        const nC = Math.min(64, Math.max(1, Math.ceil(lut.acrossM[i]! / (0.7 * cellM))));
        const weights = sampleWeights(lut.farDensity[i]!, nA);
        for (let a = 0; a < nA; a++) {
          for (let c = 0; c < nC; c++) {
            const ta = (a + 0.5) / nA;
            const tc = (c + 0.5) / nC - 0.5;
            const bx = lut.nearXM[i]! + ta * (lut.farXM[i]! - lut.nearXM[i]!) + tc * lut.acrossXM[i]!;
            const by = lut.nearYM[i]! + ta * (lut.farYM[i]! - lut.nearYM[i]!) + tc * lut.acrossYM[i]!;
            const key = `${Math.floor((pose.eastM + cos * bx - sin * by) / cellM)},${Math.floor((pose.northM + sin * bx + cos * by) / cellM)}`;
            ref.set(key, (ref.get(key) ?? 0) + weights[a]! / nC);
          }
        }
      }
    }
    // The map's chunks (private; read for this check only).
    const chunks = (map as unknown as { chunks: Map<number, { ci: number; cj: number; visibility: Float32Array; boxes: Int32Array }> }).chunks;
    let compared = 0;
    let misplaced = 0;
    for (const ch of chunks.values()) {
      const b = ch.boxes.subarray(4 * 9, 4 * 10); // the visibility box
      for (let r = 0; r < N; r++) {
        for (let c = 0; c < N; c++) {
          const v = ch.visibility[r * N + c]!;
          const want = ref.get(`${ch.ci * N + c},${ch.cj * N + r}`) ?? 0;
          if (v !== 0) {
            compared++;
            expect(c >= b[0]! && c <= b[2]! && r >= b[1]! && r <= b[3]!).toBe(true);
          }
          if (Math.abs(v - want) > 1e-4 * Math.max(1, want)) misplaced++;
        }
      }
    }
    expect(compared).toBeGreaterThan(1000);
    // A sample exactly on a cell edge may round to either side: allow a handful.
    expect(misplaced).toBeLessThanOrEqual(4);
  });
});

/** Weights of a footprint's nA samples near -> far: proportional to the image rows per metre there (geometric from 1 to farDensity), summing to 1. */
function sampleWeights(farDensity: number, nA: number): number[] {
  const w = Array.from({ length: nA }, (_, a) => farDensity ** ((a + 0.5) / nA));
  const sum = w.reduce((x, y) => x + y, 0);
  return w.map((x) => x / sum);
}

describe('LocalMap footprint weights', () => {
  it("puts half of each pixel's weight on either side of its image centre's ground point, not of its footprint's middle", () => {
    // A pixel sees its image rows evenly; a far pixel's footprint stretches beyond its centre's
    // ground point more than before it. Weighted by image rows per metre, the median sample
    // along the ray lies at the centre's ground point; uniformly weighted, it lies farther out.
    const lut = new GroundLut(TEST_CALIBRATION);
    lut.update(0.01);
    let checked = 0;
    let weightedErrM = 0;
    let uniformErrM = 0;
    for (let i = 0; i < lut.size; i++) {
      if (!lut.valid[i]) continue;
      const alongM = lut.alongM[i]!;
      const nA = Math.min(64, Math.max(1, Math.ceil(alongM / (0.7 * 0.15))));
      if (nA < 12) continue;
      const far = lut.farDensity[i]!;
      expect(far).toBeGreaterThan(0);
      expect(far).toBeLessThanOrEqual(1);
      const nearToCentreM = Math.hypot(lut.xM[i]! - lut.nearXM[i]!, lut.yM[i]! - lut.nearYM[i]!);
      // The far edge of the top rows is mirrored from the near half (GroundLut): the centre is its middle there.
      const mirrored = Math.abs(nearToCentreM - alongM / 2) < 1e-3 * alongM;
      if (mirrored) continue;
      const weights = sampleWeights(far, nA);
      let acc = 0;
      let medianM = Number.NaN;
      for (let a = 0; a < nA; a++) {
        if (acc + weights[a]! >= 0.5) {
          // Interpolate within the sample's interval [a / nA, (a + 1) / nA).
          medianM = ((a + (0.5 - acc) / weights[a]!) / nA) * alongM;
          break;
        }
        acc += weights[a]!;
      }
      expect(Math.abs(medianM - nearToCentreM)).toBeLessThan(0.03 * alongM + 0.02);
      weightedErrM += Math.abs(medianM - nearToCentreM);
      uniformErrM += Math.abs(alongM / 2 - nearToCentreM);
      checked++;
    }
    expect(checked).toBeGreaterThan(500);
    // The uniform weights' median (the footprint's middle) lies beyond the centre on far rows.
    expect(weightedErrM).toBeLessThan(uniformErrM / 5);
  });
});
