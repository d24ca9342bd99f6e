import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { coverageOf, DEFAULT_COVERAGE_OPTIONS, type CoveragePose } from '../coverage.ts';
import { decodeCoverageFile, readCoverageFile, toCoverageFile, writeCoverageFile, type CoverageDrive } from '../coverage-file.ts';
import type { EvaluationReport } from './evaluate.ts';
import { evaluateOnCoverage } from './on-coverage.ts';
import { asPredictions, prng, shifted, syntheticMap } from './test_fixtures.ts';

/** A drive east along y from x0 to x1, a pose every metre. */
const eastbound = (y: number, x0: number, x1: number): CoveragePose[] => Array.from({ length: x1 - x0 + 1 }, (_, i) => ({ xM: x0 + i, yM: y, yawRad: 0 }));

const GT = syntheticMap();
const TRAJECTORIES = [eastbound(12, 0, 150), eastbound(12, 40, 150), eastbound(15, 0, 90), eastbound(28, 10, 150)];
const DRIVES: CoverageDrive[] = TRAJECTORIES.map((t, i) => ({ driveId: `veh-00${i + 1}-d1`, biasEastM: 0.31 * (i - 1.5), biasNorthM: -0.17 * i + 0.2, lengthM: t.length - 1 }));

function fileOf(): ReturnType<typeof toCoverageFile> {
  const coverage = coverageOf(GT, TRAJECTORIES, DEFAULT_COVERAGE_OPTIONS);
  return toCoverageFile({ map: 'synthetic', mapSeed: 12345, options: DEFAULT_COVERAGE_OPTIONS, driveBiasSigmaM: 1, drives: DRIVES, kmDriven: DRIVES.reduce((s, d) => s + d.lengthM / 1000, 0), coverage });
}

/** The published map: the truth moved a little, with noise. */
function published(): ReturnType<typeof asPredictions> {
  const r = prng(3);
  return shifted(asPredictions(GT, 0.9), 0.12, -0.07).map((p) => ({ ...p, points: p.points.map(([x, y]): [number, number] => [x + 0.05 * (r() - 0.5), y + 0.05 * (r() - 0.5)]) }));
}

const withoutTiming = (r: EvaluationReport): Omit<EvaluationReport, 'evaluationS'> => {
  const { evaluationS: _t, ...rest } = r;
  return rest;
};

describe('coverage file', () => {
  it('names the drives of every place, in step with drivesPerPlace', () => {
    const f = fileOf();
    expect(f.covered.length).toBeGreaterThan(5);
    expect(f.places).toHaveLength(f.drivesPerPlace.length);
    f.places.forEach((p, i) => {
      expect(p.drives).toHaveLength(f.drivesPerPlace[i]!);
      expect(p.drives.length).toBeGreaterThanOrEqual(2);
      if (p.across !== null) expect(Math.hypot(p.across[0], p.across[1])).toBeCloseTo(1, 9);
    });
    // lines along east: across is north (or south)
    const line = f.places.find((p) => p.across !== null)!;
    expect(Math.abs(line.across![1])).toBeCloseTo(1, 6);
  });

  it('round trip: written, read back, scored again gives identical figures (the demo vs fleetmap eval --coverage)', () => {
    const f = fileOf();
    const pred = published();
    const direct = evaluateOnCoverage(f, pred, { bytesUploaded: 54321 });
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'fm-coverage-')), 'coverage.json');
    writeCoverageFile(file, f);
    const back = readCoverageFile(file);
    expect(back).toEqual(f);
    const again = evaluateOnCoverage(back, pred, { bytesUploaded: 54321 });
    expect(withoutTiming(again)).toEqual(withoutTiming(direct));
    // the context came along: drives, km, both floors (realised from the drives' biases)
    expect(again.drives).toBe(4);
    expect(again.kmDriven).toBe(f.kmDriven);
    expect(again.absoluteFloorSource).toBe('realised');
    expect(again.floorCm.realised!.places).toBe(f.places.length);
    expect(again.floorCm.expected!.places).toBe(f.places.length);
    expect(again.recall).toBeGreaterThan(0.9);
  });

  it('refuses another format or version with an exact message', () => {
    const f = JSON.parse(JSON.stringify(fileOf())) as Record<string, unknown>;
    expect(() => decodeCoverageFile({ ...f, version: 2 }, 'x.json')).toThrow('x.json: got v2 data, expected v1');
    expect(() => decodeCoverageFile({ ...f, format: 'geojson' }, 'x.json')).toThrow(/x\.json: format must be "fleetmap-coverage"/);
    const places = (f.places as Array<{ drives: number[] }>).map((p, i) => (i === 0 ? { ...p, drives: [99] } : p));
    expect(() => decodeCoverageFile({ ...f, places }, 'x.json')).toThrow(/places\[0\] must be/);
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'fm-coverage-')), 'bad.json');
    writeFileSync(file, '{not json');
    expect(() => readCoverageFile(file)).toThrow(/bad\.json/);
    expect(readFileSync(file, 'utf8')).toBe('{not json');
  });
});
