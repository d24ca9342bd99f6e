import { describe, expect, it } from 'vitest';
import { polylineLengthM } from '../../shared/geometry.ts';
import { evaluateMap } from './evaluate.ts';
import { noisyPredictions, syntheticCity } from './test_fixtures.ts';

describe('evaluateMap at city scale', () => {
  it('scores ~25 km of lines (absolute and relative; speed: sim/bench/eval-scale.bench.ts)', () => {
    const gt = syntheticCity(25);
    let km = 0;
    for (const p of gt) if (p.points.length > 1) km += polylineLengthM(p.points) / 1000;
    expect(km).toBeGreaterThan(24);
    const pred = noisyPredictions(gt, 1);
    const r = evaluateMap(gt, pred, { kmDriven: 400 });
    // 15 cm per-patch biases: absolute AP suffers at 0.2 m, the relative figures remove them.
    expect(r.relative!.mAP['0.2']!).toBeGreaterThan(r.mAP['0.2']! + 0.15);
    expect(r.relative!.lateralErrorCm.p50!).toBeLessThan(r.lateralErrorCm.p50! / 2);
    // 5% of the ground truth was dropped: recall and AP@1.0 stay below 1 in both.
    expect(r.recall!).toBeLessThan(0.99);
    expect(r.classes.road_boundary.fpLengthPerKm!).toBeGreaterThan(0);
  });
});
