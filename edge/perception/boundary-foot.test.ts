import { describe, expect, it } from 'vitest';
import { SEG_CLASS_IDS } from '../../shared/camera.ts';
import { allocSegOutput, type SegOutput } from './decode.ts';
import { GroundLut } from './ground.ts';
import { LocalMap, type LocalMapOptions, type LocalPrimitive } from './localmap.ts';
import { renderRoad, subsampleTable, TEST_CALIBRATION, type RoadScene } from './test-scene.ts';

// A straight road along east with a guard rail on the left: its foot at RAIL_T, its face up to
// RAIL_TOP_M. The model marks the whole face as barrier; the flat-ground projection of a face
// pixel lands beyond the foot (at lateral t * H / (H - z) for height z), here up to ~9.6 m.
const scene: RoadScene = { originEastM: 0, originNorthM: 0, headingRad: 0, solidT: 1.75, dashedT: -1.8, lineWidthM: 0.15, dashM: 3, gapM: 6 };
const RAIL_T = 4; // m, lateral of the rail's foot (left)
const RAIL_TOP_M = 0.8; // m
const FOOT_HALF_M = 0.08; // m, the label's half-width at the foot

/** Whether one of output pixel i's 16 ground sub-samples lies at a lateral (metres) that `at` accepts. */
function seesLateral(table: Float32Array, i: number, at: (lateralM: number) => boolean): boolean {
  for (let k = 0; k < 16; k++) {
    const y = table[(i * 16 + k) * 2 + 1]!;
    if (!Number.isNaN(y) && at(y)) return true;
  }
  return false;
}

/** The road scene plus the rail: a pixel is barrier when a sub-sample sees the foot or the face. */
function renderWithRail(table: Float32Array, eastM: number, out: SegOutput): SegOutput {
  renderRoad(scene, table, eastM, 0, 0, out);
  const camH = TEST_CALIBRATION.mountZM;
  // A ray to ground point lateral y crosses the rail plane at height camH * (1 - RAIL_T / y).
  const faceFarY = RAIL_T / (1 - RAIL_TOP_M / camH);
  for (let i = 0; i < out.classId.length; i++) {
    if (seesLateral(table, i, (y) => Math.abs(y - RAIL_T) <= FOOT_HALF_M || (y >= RAIL_T && y <= faceFarY))) out.classId[i] = SEG_CLASS_IDS.boundary_barrier;
  }
  return out;
}

// A road border (the asphalt's edge) 1.2 m inside the rail, as on a rural road's shoulder. The
// model marks the shoulder strip behind the border as border too (as it marks a kerb's face and
// what lies behind it), so in each column the border's run of boundary pixels reaches the rail's.
const BORDER_T = RAIL_T - 1.2; // m

/** The rail scene plus a road border at BORDER_T: labelled from its foot to the rail's foot. */
function renderWithBorderAndRail(table: Float32Array, eastM: number, out: SegOutput): SegOutput {
  renderWithRail(table, eastM, out);
  for (let i = 0; i < out.classId.length; i++) {
    if (out.classId[i] === SEG_CLASS_IDS.boundary_barrier) continue;
    if (seesLateral(table, i, (y) => y >= BORDER_T - FOOT_HALF_M && y < RAIL_T - FOOT_HALF_M)) out.classId[i] = SEG_CLASS_IDS.boundary_border;
  }
  return out;
}

/** The rail scene with the rail's face labelled border on every other image row above its foot. */
function renderWithFlickeringFace(table: Float32Array, eastM: number, out: SegOutput): SegOutput {
  renderWithRail(table, eastM, out);
  for (let i = 0; i < out.classId.length; i++) {
    if (out.classId[i] !== SEG_CLASS_IDS.boundary_barrier || Math.floor(i / out.widthPx) % 2 === 0) continue;
    if (!seesLateral(table, i, (y) => Math.abs(y - RAIL_T) <= FOOT_HALF_M)) out.classId[i] = SEG_CLASS_IDS.boundary_border;
  }
  return out;
}

function drive(options: Partial<LocalMapOptions>, render = renderWithRail): LocalPrimitive[] {
  const lut = new GroundLut(TEST_CALIBRATION);
  lut.update(0);
  const table = subsampleTable(TEST_CALIBRATION, 0);
  const seg = allocSegOutput(128, 64);
  const map = new LocalMap(options);
  const out: LocalPrimitive[] = [];
  for (let k = 0; k <= 80; k++) {
    const e = k; // 1 m per frame
    map.addFrame(render(table, e, seg), lut, { eastM: e, northM: 0, headingRad: 0, sigmaM: 0.1 }, k * 100);
    out.push(...map.finish(e, 0, 0).primitives);
  }
  out.push(...map.flush().primitives);
  return out;
}

/** Lateral (north) of the emitted boundary lines (of `kind`, when given), sampled along 10..70 m east. */
function railLateralsM(prims: LocalPrimitive[], kind?: LocalPrimitive['kind']): number[] {
  const lats: number[] = [];
  for (const p of prims) {
    if (p.cls !== 'road_boundary' || (kind !== undefined && p.kind !== kind)) continue;
    for (let i = 0; i + 1 < p.pointsLocal.length; i++) {
      const [a, b] = [p.pointsLocal[i]!, p.pointsLocal[i + 1]!];
      const n = Math.ceil(Math.hypot(b[0] - a[0], b[1] - a[1]) / 0.25); // every 0.25 m
      for (let j = 0; j < n; j++) {
        const f = j / n;
        const x = a[0] + (b[0] - a[0]) * f;
        if (x > 10 && x < 70) lats.push(a[1] + (b[1] - a[1]) * f);
      }
    }
  }
  return lats.sort((u, v) => u - v);
}

describe('LocalMap boundary feet', () => {
  it('puts a raised boundary at its foot, not on the projection of its face', () => {
    const withFeet = railLateralsM(drive({ boundaryFootPx: 3 }));
    expect(withFeet.length).toBeGreaterThan(100);
    const median = withFeet[Math.floor(withFeet.length / 2)]!;
    expect(Math.abs(median - RAIL_T)).toBeLessThan(0.3); // the kept foot pixels reach a little up the face
    // nothing out on the projected face
    expect(withFeet[withFeet.length - 1]!).toBeLessThan(RAIL_T + 0.4);

    // The same frames without the foot rule: the face's evidence pulls the line outward.
    const without = railLateralsM(drive({ boundaryFootPx: 0 }));
    expect(without.length).toBeGreaterThan(100);
    expect(without[Math.floor(without.length / 2)]! - RAIL_T).toBeGreaterThan(0.5);
  });

  it('leaves lane dividers alone', () => {
    const lat = (prims: LocalPrimitive[]): number[] =>
      prims
        .filter((p) => p.cls === 'lane_divider')
        .flatMap((p) => p.pointsLocal.map((q) => q[1]))
        .sort((u, v) => u - v);
    expect(lat(drive({ boundaryFootPx: 3 }))).toEqual(lat(drive({ boundaryFootPx: 0 })));
  });

  it('keeps a barrier behind a road border as a line of its own, at its foot', () => {
    const prims = drive({ boundaryFootPx: 3 }, renderWithBorderAndRail);
    const median = (v: number[]): number => v[Math.floor(v.length / 2)]!;
    const rail = railLateralsM(prims, 'barrier');
    const border = railLateralsM(prims, 'road_border');
    // Each kind along most of the 60 m (a sample every 0.25 m), at its own place.
    expect(rail.length).toBeGreaterThan(150);
    expect(border.length).toBeGreaterThan(150);
    expect(Math.abs(median(rail) - RAIL_T)).toBeLessThan(0.3);
    expect(Math.abs(median(border) - BORDER_T)).toBeLessThan(0.3);
    // No line between the two: every boundary sample lies near one of them.
    const between = railLateralsM(prims).filter((y) => y > BORDER_T + 0.4 && y < RAIL_T - 0.4);
    expect(between).toEqual([]);
  });

  it('gives a barrier one foot per run however its face labels flicker', () => {
    const lats = railLateralsM(drive({ boundaryFootPx: 3 }, renderWithFlickeringFace));
    expect(lats.length).toBeGreaterThan(100);
    expect(Math.abs(lats[Math.floor(lats.length / 2)]! - RAIL_T)).toBeLessThan(0.3);
    // (A border-labelled row at the foot moves the barrier's foot one row up: a little outward.)
    expect(lats[lats.length - 1]!).toBeLessThan(RAIL_T + 0.6);
  });

  it('refuses a negative or fractional foot', () => {
    expect(() => new LocalMap({ boundaryFootPx: -1 })).toThrow(/boundaryFootPx/);
    expect(() => new LocalMap({ boundaryFootPx: 1.5 })).toThrow(/boundaryFootPx/);
  });
});
