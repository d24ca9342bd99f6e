import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ringRoadOsm } from '../../test/fixtures/ring-road.ts';
import { loadLanelet2, osmBoundsCentre } from '../lanelet2.ts';
import { holdoutCutEastM, writeDataset } from './dataset.ts';

const xml = ringRoadOsm();
const ring = loadLanelet2(xml, { origin: osmBoundsCentre(xml) });
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'camds-'));
  dirs.push(d);
  return d;
}

describe('writeDataset', () => {
  it('writes consistent sizes, meta and one truth line per frame', () => {
    const dir = tmp();
    const meta = writeDataset({ outDir: dir, frames: 6, maps: [{ name: 'ring', map: ring }], seed: 2, vehiclesPerMap: 3, driveLengthM: 300 });
    expect(meta.count).toBe(6);
    expect(statSync(join(dir, 'images.u8')).size).toBe(6 * 128 * 256 * 3);
    expect(statSync(join(dir, 'labels.u8')).size).toBe(6 * 64 * 128);
    const m = JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8'));
    expect(m).toMatchObject({ schemaVersion: 1, count: 6, imageWidthPx: 256, imageHeightPx: 128, labelWidthPx: 128, labelHeightPx: 64, maps: ['ring'] });
    expect(m.classes[0]).toBe('background');
    expect(m.classes[9]).toBe('light_base');
    const lines = readFileSync(join(dir, 'frames.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines).toHaveLength(6);
    for (const l of lines) {
      expect(l.map).toBe('ring');
      expect(l.calibration.widthPx).toBe(256);
      expect(typeof l.vehiclePitchRad).toBe('number');
      for (const t of l.truth) for (const [x, y] of t.pointsBody) {
        expect(x).toBeGreaterThanOrEqual(3 - 1e-9);
        expect(x).toBeLessThanOrEqual(30 + 1e-9);
        expect(Math.abs(y)).toBeLessThanOrEqual(12 + 1e-9);
      }
    }
    expect(lines.some((l) => l.truth.some((t: { cls: string }) => t.cls === 'lane_divider'))).toBe(true);
    // labels carry real classes
    const labels = readFileSync(join(dir, 'labels.u8'));
    expect(labels.some((x) => x === 1 || x === 2)).toBe(true);
  });

  it('holds out the east part of a map', () => {
    const cut = holdoutCutEastM(ring, 0.3);
    for (const area of ['train', 'holdout'] as const) {
      const dir = tmp();
      writeDataset({ outDir: dir, frames: 4, maps: [{ name: 'ring', map: ring }], seed: 5, area, conditions: 'clear,night', vehiclesPerMap: 4, driveLengthM: 600 });
      const lines = readFileSync(join(dir, 'frames.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
      for (const l of lines) expect(area === 'train' ? l.pose.xM <= cut : l.pose.xM > cut).toBe(true);
      for (const l of lines) expect(l.conditions.night === 0 || l.conditions.night === 1).toBe(true);
    }
  });

  it('refuses bad options with the field named', () => {
    expect(() => writeDataset({ outDir: tmp(), frames: 0, maps: [{ name: 'ring', map: ring }] })).toThrow(/frames/);
    expect(() => writeDataset({ outDir: tmp(), frames: 1, maps: [{ name: 'ring', map: ring }], conditions: 'foggy' })).toThrow(/foggy/);
  });
});
