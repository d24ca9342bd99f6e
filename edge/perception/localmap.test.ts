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
