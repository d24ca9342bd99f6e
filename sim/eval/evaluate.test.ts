import { describe, expect, it } from 'vitest';
import { PRIMITIVE_CLASSES, type Primitive, type PrimitiveClass, type ScoredPrimitive } from '../../shared/schema.ts';
import { evaluateMap, thresholdKey } from './evaluate.ts';
import { asPredictions, shifted, syntheticMap } from './test_fixtures.ts';

const GT = syntheticMap();
const PERFECT = asPredictions(GT);
const KEYS = ['0.2', '0.5', '1.0'];

function ap(report: { classes: Record<PrimitiveClass, { ap: Record<string, number | null> }> }, cls: PrimitiveClass, key: string): number {
  const v = report.classes[cls].ap[key];
  if (typeof v !== 'number') throw new Error(`AP of ${cls} at ${key} is ${v}`);
  return v;
}

describe('evaluateMap: report contract', () => {
  it('has the contract keys, all classes, and survives JSON', () => {
    const r = evaluateMap(GT, PERFECT, { kmDriven: 2, bytesUploaded: 5000, drives: 7, elapsedS: 1.5, floor: { driveBiasSigmaM: 1, drivesPerPlace: [4] } });
    for (const k of ['version', 'drives', 'kmDriven', 'bytesUploaded', 'bytesPerKm', 'classes', 'mAP', 'relative', 'absoluteFloorCm', 'elapsedS']) {
      expect(r).toHaveProperty(k);
    }
    expect(r.version).toBe(1);
    expect(r.drives).toBe(7);
    expect(r.bytesPerKm).toBe(2500);
    expect(r.elapsedS).toBe(1.5);
    expect(Object.keys(r.mAP)).toEqual(KEYS);
    expect(Object.keys(r.classes).sort()).toEqual([...PRIMITIVE_CLASSES].sort());
    for (const cls of PRIMITIVE_CLASSES) {
      const c = r.classes[cls];
      expect(Object.keys(c.ap)).toEqual(KEYS);
      expect(c.lateralErrorCm).toHaveProperty('p50');
      expect(c.lateralErrorCm).toHaveProperty('p95');
      expect(c).toHaveProperty('recall');
    }
    expect(r.relative).not.toBeNull();
    expect(Object.keys(r.relative!.mAP)).toEqual(KEYS);
    expect(r.relative!.lateralErrorCm).toHaveProperty('p50');
    expect(r.absoluteFloorCm).toBeCloseTo(100 * 0.67449 * 0.5, 1);
    const json = JSON.stringify(r);
    expect(json).not.toMatch(/NaN|Infinity/);
    expect(JSON.parse(json).classes.lane_divider.ap['1.0']).toBe(1);
  });

  it('writes threshold keys with a decimal', () => {
    expect(thresholdKey(1)).toBe('1.0');
    expect(thresholdKey(0.2)).toBe('0.2');
    expect(thresholdKey(0.25)).toBe('0.25');
  });

  it('leaves context it was not given as null', () => {
    const r = evaluateMap(GT, PERFECT, { relative: false });
    expect(r.drives).toBeNull();
    expect(r.kmDriven).toBeNull();
    expect(r.bytesPerKm).toBeNull();
    expect(r.absoluteFloorCm).toBeNull();
    expect(r.relative).toBeNull();
    expect(r.classes.lane_divider.fpLengthPerKm).toBeNull();
  });
});

describe('evaluateMap: figures', () => {
  it('scores a perfect map AP 1 at every threshold, recall 1, zero error and zero false positives', () => {
    const r = evaluateMap(GT, PERFECT, { kmDriven: 1 });
    for (const cls of PRIMITIVE_CLASSES) {
      for (const k of KEYS) expect(ap(r, cls, k)).toBe(1);
      expect(r.classes[cls].recall).toBeCloseTo(1, 9);
      expect(r.classes[cls].lateralErrorCm.p95).toBeCloseTo(0, 6);
    }
    for (const k of KEYS) expect(r.mAP[k]).toBe(1);
    expect(r.fpLengthPerKm).toBeCloseTo(0, 9);
    expect(r.classes.traffic_sign.fpCount).toBe(0);
    for (const k of KEYS) expect(r.relative!.mAP[k]).toBe(1);
  });

  it('a map shifted 0.3 m across its lines fails 0.2 m and passes 0.5 m', () => {
    const r = evaluateMap(GT, shifted(PERFECT, 0, 0.3));
    // Lines along x and points are displaced by the full 0.3 m.
    for (const cls of ['lane_divider', 'road_boundary', 'traffic_sign', 'traffic_light'] as const) {
      expect(ap(r, cls, '0.2')).toBeLessThan(0.05);
    }
    for (const cls of PRIMITIVE_CLASSES) {
      expect(ap(r, cls, '0.5')).toBeGreaterThan(0.95);
      expect(ap(r, cls, '1.0')).toBe(1);
    }
    expect(r.mAP['0.2']!).toBeLessThan(0.5);
    // Shifted along themselves, stop lines (along y) and the crosswalks' long sides are not
    // displaced: Chamfer rightly passes them. Across them, stop lines fail 0.2 m too.
    expect(ap(r, 'stop_line', '0.2')).toBe(1);
    const rx = evaluateMap(GT, shifted(PERFECT, 0.3, 0));
    expect(ap(rx, 'stop_line', '0.2')).toBe(0);
    expect(ap(rx, 'stop_line', '0.5')).toBe(1);
    // Shifted 0.3 m diagonally, every line is displaced 0.21 m across itself: all classes fail.
    const rd = evaluateMap(GT, shifted(PERFECT, 0.3 * Math.SQRT1_2, 0.3 * Math.SQRT1_2));
    expect(rd.mAP['0.2']!).toBeLessThan(0.05);
    expect(rd.mAP['0.5']!).toBe(1);
  });

  it('reports the lateral error of a 0.1 m shift as ~10 cm', () => {
    const r = evaluateMap(GT, shifted(PERFECT, 0, 0.1));
    for (const cls of ['lane_divider', 'road_boundary'] as const) {
      const lat = r.classes[cls].lateralErrorCm;
      expect(lat.p50!).toBeGreaterThan(9);
      expect(lat.p50!).toBeLessThan(10.01);
      expect(lat.p95!).toBeLessThan(10.01);
    }
    expect(r.classes.traffic_sign.lateralErrorCm.p50).toBeCloseTo(10, 6);
    expect(r.lateralErrorCm.p50!).toBeGreaterThan(9);
    expect(r.lateralErrorCm.p50!).toBeLessThan(10.01);
    for (const k of KEYS) expect(ap(r, 'lane_divider', k)).toBe(1);
  });

  it('scores a class missing from the predictions 0, and leaves a class missing from the ground truth out of mAP', () => {
    const pred = PERFECT.filter((p) => p.cls !== 'traffic_light');
    const r = evaluateMap(GT, pred);
    for (const k of KEYS) {
      expect(ap(r, 'traffic_light', k)).toBe(0);
      expect(r.mAP[k]).toBeCloseTo(5 / 6, 12);
    }
    expect(r.classes.traffic_light.recall).toBe(0);
    expect(r.classes.traffic_light.lateralErrorCm.p50).toBeNull();

    const gtNoSigns = GT.filter((p) => p.cls !== 'traffic_sign');
    const r2 = evaluateMap(gtNoSigns, PERFECT);
    for (const k of KEYS) {
      expect(r2.classes.traffic_sign.ap[k]).toBeNull();
      expect(r2.mAP[k]).toBe(1); // the signs' predictions cannot count against the mean
    }
    expect(r2.classes.traffic_sign.recall).toBeNull();
    expect(r2.classes.traffic_sign.fpCount).toBe(3);
  });

  it('recovers ~perfect AP at 0.2 m in the relative figures of a uniformly shifted map', () => {
    const r = evaluateMap(GT, shifted(PERFECT, 0.45, -0.35));
    expect(r.mAP['0.2']!).toBeLessThan(0.2);
    const rel = r.relative!;
    for (const cls of PRIMITIVE_CLASSES) expect(rel.classes[cls].ap['0.2']!).toBeGreaterThan(0.99);
    expect(rel.mAP['0.2']!).toBeGreaterThan(0.99);
    expect(rel.lateralErrorCm.p95!).toBeLessThan(1);
    expect(rel.alignment.alignedPatches).toBe(rel.alignment.patches);
    expect(rel.alignment.medianOffsetCm!).toBeCloseTo(100 * Math.hypot(0.45, 0.35), 0);
  });

  it('extra false lines lower precision/AP and raise the false-positive length per km', () => {
    const truth = asPredictions(GT, 0.8);
    const falseLines: ScoredPrimitive[] = [
      { cls: 'lane_divider', points: [[5, 20], [145, 20]], score: 0.9 },
      { cls: 'lane_divider', points: [[5, 22.5], [95, 22.5]], score: 0.95 },
    ];
    const base = evaluateMap(GT, truth, { kmDriven: 10 });
    const r = evaluateMap(GT, [...truth, ...falseLines], { kmDriven: 10 });
    for (const k of KEYS) {
      expect(ap(base, 'lane_divider', k)).toBe(1);
      expect(ap(r, 'lane_divider', k)).toBeLessThan(0.9);
    }
    expect(r.mAP['0.5']!).toBeLessThan(base.mAP['0.5']!);
    expect(base.classes.lane_divider.fpLengthPerKm).toBeCloseTo(0, 9);
    expect(r.classes.lane_divider.fpLengthM).toBeCloseTo(140 + 90, 6);
    expect(r.classes.lane_divider.fpLengthPerKm).toBeCloseTo(23, 6);
    expect(r.fpLengthPerKm).toBeCloseTo(23, 6);
    // per km PUBLISHED: 230 m false of the dividers' 3 x 140 m true + ~150 m wavy + 230 m false
    const c = r.classes.lane_divider;
    expect(c.fpLengthPerKmPublished).toBeCloseTo(230 / (c.predLengthM! / 1000), 6);
    expect(c.predLengthM! - base.classes.lane_divider.predLengthM!).toBeCloseTo(230, 6);
    expect(r.fpLengthPerKmPublished).toBeCloseTo(230 / (r.publishedLengthM / 1000), 6);
    expect(base.fpLengthPerKmPublished).toBeCloseTo(0, 9);
    // independent of the km driven, unlike fpLengthPerKm
    const far = evaluateMap(GT, [...truth, ...falseLines], { kmDriven: 1000, relative: false });
    expect(far.classes.lane_divider.fpLengthPerKmPublished).toBeCloseTo(c.fpLengthPerKmPublished!, 9);
    expect(far.classes.lane_divider.fpLengthPerKm).toBeCloseTo(0.23, 6);
    // points: false signs per km of published lines
    const sign: ScoredPrimitive = { cls: 'traffic_sign', points: [[100, 45]], score: 0.5, signCode: 'de205' };
    const withSign = evaluateMap(GT, [...truth, sign], { relative: false });
    let linesKm = 0;
    for (const cls of PRIMITIVE_CLASSES) if (withSign.classes[cls].predLengthM !== null) linesKm += withSign.classes[cls].predLengthM! / 1000;
    expect(withSign.classes.traffic_sign.fpCount).toBe(1);
    expect(withSign.classes.traffic_sign.fpCountPerKmPublished).toBeCloseTo(1 / linesKm, 9);
    expect(withSign.classes.traffic_sign.fpCountPerKm).toBeNull(); // no km driven given
    expect(r.classes.lane_divider.recall).toBeCloseTo(1, 9);
    // The same false lines ranked below every true one cost no AP (only FP length).
    const low = evaluateMap(GT, [...truth, ...falseLines.map((p) => ({ ...p, score: 0.1 }))], { kmDriven: 10 });
    expect(ap(low, 'lane_divider', '0.5')).toBe(1);
    expect(low.classes.lane_divider.fpLengthPerKm).toBeCloseTo(23, 6);
  });

  it('lateralErrorAllSeenCm covers ALL ground truth: misses and far lines count, unlike the matched pairs', () => {
    const gt: Primitive[] = [
      { cls: 'lane_divider', points: [[5, 10], [145, 10]], style: 'solid' },
      { cls: 'lane_divider', points: [[5, 30], [145, 30]], style: 'solid' },
    ];
    const near: ScoredPrimitive = { cls: 'lane_divider', points: [[5, 10.1], [145, 10.1]], score: 1 };
    // Only the first line predicted (10 cm off): the matched pairs say 10 cm, half of the truth is missed.
    const one = evaluateMap(gt, [near], { relative: false });
    expect(one.lateralErrorCm.p95).toBeCloseTo(10, 6);
    expect(one.lateralErrorAllSeenCm.p50).toBeNull(); // the median falls among the misses
    expect(one.lateralErrorAllSeenCm.p95).toBeNull();
    expect(one.lateralErrorAllSeenCm.missedFraction).toBeCloseTo(0.5, 2);
    expect(one.classes.lane_divider.lateralErrorAllSeenCm.samples).toBe(2 * 140 * 4); // every 0.25 m
    // The second line predicted 3 m off: no match within 1 m, so the matched pairs still say 10 cm,
    // but over all ground truth seen the p95 is the 3 m.
    const far: ScoredPrimitive = { cls: 'lane_divider', points: [[5, 33], [145, 33]], score: 1 };
    const two = evaluateMap(gt, [near, far], { relative: false });
    expect(two.lateralErrorCm.p95).toBeCloseTo(10, 6);
    expect(two.lateralErrorAllSeenCm.p95).toBeCloseTo(300, 6);
    expect(two.lateralErrorAllSeenCm.missedFraction).toBe(0);
    // Points: each GT point to the nearest predicted point of its class.
    const signs = evaluateMap([{ cls: 'traffic_sign', points: [[20, 20]] }, { cls: 'traffic_sign', points: [[80, 20]] }], [{ cls: 'traffic_sign', points: [[20, 22]], score: 1 }, { cls: 'traffic_sign', points: [[80, 20.5]], score: 1 }], { relative: false });
    expect(signs.classes.traffic_sign.lateralErrorCm.samples).toBe(1); // only the 0.5 m one matches within 1 m
    expect(signs.classes.traffic_sign.lateralErrorAllSeenCm.p95).toBeCloseTo(50 + 0.95 * 150, 6);
  });

  it('measures recall of ground-truth length', () => {
    // Predict only the first 70 m of the straight boundary at y = 6.5 (of 140 m).
    const pred = PERFECT.filter((p) => !(p.cls === 'road_boundary' && p.points[0]![1] === 6.5));
    pred.push({ cls: 'road_boundary', points: [[5, 6.5], [75, 6.5]], score: 1 });
    const r = evaluateMap(GT, pred);
    const c = r.classes.road_boundary;
    expect(c.recall!).toBeCloseTo((c.gtLengthM! - 70) / c.gtLengthM!, 2);
  });

  it('rejects malformed input with the field named', () => {
    expect(() => evaluateMap(GT, [{ cls: 'lane_divider', points: [[0, 0]], score: 1 }])).toThrow(/pred\[0\]\.points must hold >= 2/);
    expect(() => evaluateMap(GT, [{ cls: 'traffic_sign', points: [[0, NaN]], score: 1 }])).toThrow(/pred\[0\]\.points\[0\]/);
    expect(() => evaluateMap(GT, [{ cls: 'traffic_sign', points: [[0, 0]], score: 2 }])).toThrow(/pred\[0\]\.score/);
    expect(() => evaluateMap([{ cls: 'bogus' as PrimitiveClass, points: [[0, 0]] }], [])).toThrow(/gt\[0\]\.cls/);
    expect(() => evaluateMap(GT, PERFECT, { patchM: 30 })).toThrow(/align\.patchM/);
  });
});
