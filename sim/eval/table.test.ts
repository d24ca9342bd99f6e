import { describe, expect, it } from 'vitest';
import { PRIMITIVE_CLASSES } from '../../shared/schema.ts';
import { evaluateMap } from './evaluate.ts';
import { formatReportTable } from './table.ts';
import { asPredictions, shifted, syntheticMap } from './test_fixtures.ts';

describe('formatReportTable', () => {
  const gt = syntheticMap();
  const report = evaluateMap(gt, shifted(asPredictions(gt), 0, 0.3), {
    kmDriven: 4,
    bytesUploaded: 10_000,
    drives: 3,
    floor: { driveBiasSigmaM: 1, drivesPerPlace: [4] },
  });
  const text = formatReportTable(report);

  it('has one fixed-width row per class with the AP, lateral and recall columns', () => {
    const lines = text.split('\n');
    const header = lines.find((l) => l.startsWith('class'))!;
    expect(header).toMatch(/AP@0\.2\s+AP@0\.5\s+AP@1\.0\s+lat p50\s+lat p95\s+p95 seen\s+recall\s+FP\/km drv\s+FP\/km pub/);
    for (const cls of PRIMITIVE_CLASSES) {
      const row = lines.find((l) => l.startsWith(cls))!;
      expect(row.length).toBe(header.length);
    }
    const divider = lines.find((l) => l.startsWith('lane_divider'))!;
    expect(divider).toMatch(/^lane_divider\s+0\.000\s+1\.000\s+1\.000\s+30\.0 cm\s+30\.0 cm\s+30\.0 cm\s+1\.000\s+0\.0 m\s+0\.0 m$/);
  });

  it('shows mAP absolute vs relative, the floor and bytes per km', () => {
    expect(text).toMatch(/absolute\s+0\.\d{3}\s+1\.000\s+1\.000/);
    expect(text).toMatch(/relative\s+1\.000\s+1\.000\s+1\.000/);
    expect(text).toContain('floor (perfect consensus p50) 33.7 cm (expected)');
    expect(text).toContain('floor expected (sigma 1.00 m / sqrt(n), over bias draws): p50 33.7 cm');
    expect(text).toContain('lat p50/p95: matched pairs only; p95 seen: all ground truth seen');
    expect(text).toContain('bytes/km 2500');
  });

  it('names the realised floor and prints a miss in "p95 seen"', () => {
    const r = evaluateMap(gt, asPredictions(gt.filter((p) => p.cls !== 'stop_line')), {
      relative: false,
      floor: { driveBiasSigmaM: 1, drivesPerPlace: [2] },
      realisedFloor: { driveBiasesM: [[0.1, 0.2], [0.3, 0]], places: [{ drives: [0, 1], across: [0, 1] }] },
    });
    const t = formatReportTable(r);
    expect(t).toContain('floor (perfect consensus p50) 10.0 cm (realised)');
    expect(t).toContain('floor realised (mean bias of the drives at each place, across the line): p50 10.0 cm, p95 10.0 cm; 2-D magnitude p50 22.4 cm');
    expect(t).toContain('floor expected (sigma 1.00 m / sqrt(n)');
    expect(t.split('\n').find((l) => l.startsWith('stop_line'))).toMatch(/^stop_line(\s+0\.000){3}\s+-\s+-\s+miss\s+0\.000/);
  });

  it('prints unknown figures as "-"', () => {
    const r = evaluateMap(gt.filter((p) => p.cls !== 'crosswalk'), asPredictions(gt), { relative: false });
    const row = formatReportTable(r).split('\n').find((l) => l.startsWith('crosswalk'))!;
    expect(row).toMatch(/^crosswalk\s+-\s+-\s+-/);
  });
});
