/**
 * LocalMap line centres (lineCentreHalfPx): a shallow band of line pixels puts its evidence at
 * the ground under the band's middle rows; a steep band and every pixel's visibility are left
 * as they were.
 */
import { describe, expect, it } from 'vitest';
import { cameraPose, pixelToGround, SEG_CLASS_IDS } from '../../shared/camera.ts';
import { allocSegOutput, type SegOutput } from './decode.ts';
import { GroundLut } from './ground.ts';
import { LocalMap } from './localmap.ts';
import { TEST_CALIBRATION } from './test-scene.ts';

interface ChunkView {
  ci: number;
  cj: number;
  visibility: Float32Array;
  evidence: Float32Array;
}
const CELL_M = 0.15;
const N = 240; // cells per chunk side (the default)

/** Every cell holding evidence of `cls`: its centre (pose frame = body frame here) and the evidence; and the summed visibility. */
function cellsOf(map: LocalMap, cls: number): { cells: Array<{ xM: number; yM: number; ev: number }>; visibility: number } {
  const chunks = (map as unknown as { chunks: Map<number, ChunkView> }).chunks;
  const cells: Array<{ xM: number; yM: number; ev: number }> = [];
  let visibility = 0;
  for (const ch of chunks.values()) {
    const plane = (cls - 1) * N * N;
    for (let i = 0; i < N * N; i++) {
      visibility += ch.visibility[i]!;
      const ev = ch.evidence[plane + i]!;
      if (ev > 0) cells.push({ xM: (ch.ci * N + (i % N) + 0.5) * CELL_M, yM: (ch.cj * N + Math.floor(i / N) + 0.5) * CELL_M, ev });
    }
  }
  return { cells, visibility };
}

/** One frame at the origin, heading east, of `seg`. */
function splat(seg: SegOutput, lineCentreHalfPx: number): LocalMap {
  const lut = new GroundLut(TEST_CALIBRATION);
  lut.update(0);
  const map = new LocalMap({ lineCentreHalfPx });
  map.addFrame(seg, lut, { eastM: 0, northM: 0, headingRad: 0, sigmaM: 0.1 }, 0);
  return map;
}

/** Body-frame forward distance of the ground seen at image row v (input pixels) on the centre column. */
function forwardAtRowM(v: number): number {
  const g = pixelToGround(cameraPose(TEST_CALIBRATION, 0), TEST_CALIBRATION, TEST_CALIBRATION.cxPx, v);
  if (!g) throw new Error(`row ${v} sees no ground`);
  return g[0];
}

const DIVIDER = SEG_CLASS_IDS.divider_solid;

/** A 128 x 64 output holding a divider in rows r0..r1, columns c0..c1 (probability 0.9). */
function dividerBand(r0: number, r1: number, c0: number, c1: number): SegOutput {
  const seg = allocSegOutput(128, 64);
  for (let r = r0; r <= r1; r++) {
    for (let c = c0; c <= c1; c++) {
      seg.classId[r * 128 + c] = DIVIDER;
      seg.prob[r * 128 + c] = 0.9;
    }
  }
  return seg;
}

describe('LocalMap line centres', () => {
  it('puts a shallow band three rows tall at the ground under its middle row', () => {
    // Output rows 40..42 across columns 44..84: a line running across the view ~10 m ahead.
    const seg = dividerBand(40, 42, 44, 84);
    const on = cellsOf(splat(seg, 0.5), DIVIDER);
    const off = cellsOf(splat(seg, 0), DIVIDER);
    // The band's middle, output row coordinate 41.5 +- 0.5: input rows 82 .. 84.
    const nearM = forwardAtRowM(84);
    const farM = forwardAtRowM(82);
    const bandNearM = forwardAtRowM(86);
    const bandFarM = forwardAtRowM(80);
    const xs = (cells: Array<{ xM: number }>): number[] => cells.map((c) => c.xM).sort((a, b) => a - b);
    const onX = xs(on.cells);
    const offX = xs(off.cells);
    expect(onX.length).toBeGreaterThan(30);
    // Near / far edges of the evidence, to a cell.
    expect(onX[0]!).toBeGreaterThan(nearM - 2 * CELL_M);
    expect(onX[onX.length - 1]!).toBeLessThan(farM + 2 * CELL_M);
    // Without the centres the whole band's rows hold evidence.
    expect(offX[0]!).toBeLessThan(bandNearM + 2 * CELL_M);
    expect(offX[offX.length - 1]!).toBeGreaterThan(bandFarM - 2 * CELL_M);
    expect(farM - nearM).toBeLessThan(0.5 * (bandFarM - bandNearM));
    // The same visibility, and the band's evidence kept in total (moved, not dropped).
    expect(on.visibility).toBeCloseTo(off.visibility, 3);
    const sum = (cells: Array<{ ev: number }>): number => cells.reduce((a, c) => a + c.ev, 0);
    expect(sum(on.cells)).toBeGreaterThan(0.8 * sum(off.cells));
    expect(sum(on.cells)).toBeLessThan(1.2 * sum(off.cells));
  });

  it('leaves a steep band (a line running away from the camera) as it was', () => {
    const seg = dividerBand(30, 60, 70, 71);
    const on = cellsOf(splat(seg, 0.5), DIVIDER);
    const off = cellsOf(splat(seg, 0), DIVIDER);
    expect(on.cells.length).toBeGreaterThan(50);
    expect(on.cells).toEqual(off.cells);
  });

  it('refuses a half-width outside [0, 4] pixels', () => {
    expect(() => new LocalMap({ lineCentreHalfPx: -0.5 })).toThrow(/lineCentreHalfPx/);
    expect(() => new LocalMap({ lineCentreHalfPx: 5 })).toThrow(/lineCentreHalfPx/);
    expect(() => new LocalMap({ lineCentreHalfPx: Number.NaN })).toThrow(/lineCentreHalfPx/);
  });
});
