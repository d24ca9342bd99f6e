import { describe, expect, it } from 'vitest';
import { SEG_CLASS_IDS } from '../../shared/camera.ts';
import { classPriorFactors, SegDecoder } from './decode.ts';
import { GroundLut } from './ground.ts';
import { vectorizeFrame } from './localmap.ts';
import { renderRoad, subsampleTable, TEST_CALIBRATION, type RoadScene } from './test-scene.ts';
import { allocBevGrid, vectorizeGrid, type BevGrid } from './vectorize.ts';

const CELL = 0.15;

/** Paint a class into a grid: every cell whose centre satisfies `inside` sees it with `ratio`. */
function paint(g: BevGrid, cls: number, inside: (x: number, y: number) => boolean, ratio = 0.9): void {
  const n = g.widthCells * g.heightCells;
  for (let i = 0; i < n; i++) {
    const c = i % g.widthCells;
    const r = (i - c) / g.widthCells;
    const x = g.originXM + (c + 0.5) * g.cellM;
    const y = g.originYM + (r + 0.5) * g.cellM;
    if (inside(x, y)) g.evidence[(cls - 1) * n + i] = ratio * g.visibility[i]!;
  }
}

describe('decode', () => {
  it('takes the arg-max class and its probability per pixel', () => {
    const dec = new SegDecoder({ classes: 3, widthPx: 2, heightPx: 1 });
    // planes: class 0 [0.5, 0.1], class 1 [0.3, 0.2], class 2 [0.2, 0.7]
    const out = dec.decode(Float32Array.from([0.5, 0.1, 0.3, 0.2, 0.2, 0.7]));
    expect([...out.classId]).toEqual([0, 2]);
    expect(out.prob[1]).toBeCloseTo(0.7, 6);
    expect(() => dec.decode(new Float32Array(5))).toThrow(/must hold 3x1x2 = 6 floats, got 5/);
    expect(out.signBaseProb).toBeUndefined(); // a model without the pole-foot classes
  });

  it('keeps the pole-foot probabilities where they lose the arg-max', () => {
    const dec = new SegDecoder({ classes: 10, widthPx: 1, heightPx: 1 });
    const probs = new Float32Array(10);
    probs[0] = 0.5;
    probs[SEG_CLASS_IDS.sign_base] = 0.3;
    probs[SEG_CLASS_IDS.light_base] = 0.2;
    const out = dec.decode(probs);
    expect(out.classId[0]).toBe(0);
    expect(out.signBaseProb![0]).toBeCloseTo(0.3, 6);
    expect(out.lightBaseProb![0]).toBeCloseTo(0.2, 6);
  });

  it('takes the training class weighting back out when given class prior factors', () => {
    // Trained with weights background 1.5, paint 36, kerb 24: one factor for both map classes,
    // the geometric mean of 1.5 / 36 and 1.5 / 24 (to the power alpha).
    const weights = { background: 1.5, paint: 36, kerb: 24 };
    const full = classPriorFactors(weights, ['background', 'paint', 'kerb'], 1)!;
    const shared = Math.sqrt((1.5 / 36) * (1.5 / 24));
    expect(full[0]).toBeCloseTo(1, 6);
    expect(full[1]).toBeCloseTo(shared, 6);
    expect(full[2]).toBeCloseTo(shared, 6);
    // Pixel 0: paint 0.6 against background 0.4 is background after full correction; pixel 1,
    // paint 0.98, stays paint; pixel 2: paint 0.5 against kerb 0.45 stays paint (the ranking of
    // map classes never changes).
    const probs = Float32Array.from([0.4, 0.01, 0.01, 0.6, 0.98, 0.5, 0, 0.01, 0.49]); // planes of 3 pixels
    const plain = new SegDecoder({ classes: 3, widthPx: 3, heightPx: 1 }).decode(probs);
    expect([...plain.classId]).toEqual([1, 1, 1]);
    const corrected = new SegDecoder({ classes: 3, widthPx: 3, heightPx: 1 }, full).decode(probs);
    expect([...corrected.classId]).toEqual([0, 1, 1]);
    expect(corrected.prob[0]).toBeCloseTo(0.4 / (0.4 + 0.6 * shared), 5);
    // half way (alpha 0.5): the square root
    expect(classPriorFactors(weights, ['background', 'paint', 'kerb'], 0.5)![1]).toBeCloseTo(Math.sqrt(shared), 6);
    // no usable record: decoded as is; a bad alpha is refused
    expect(classPriorFactors(undefined, ['background', 'paint'], 1)).toBeUndefined();
    expect(classPriorFactors({ background: 1.5 }, ['background', 'paint'], 1)).toBeUndefined();
    expect(classPriorFactors(weights, ['background', 'paint'], 0)).toBeUndefined();
    expect(() => classPriorFactors(weights, ['background', 'paint'], 1.5)).toThrow(/classPriorAlpha must be in \[0, 1\]/);
    expect(() => new SegDecoder({ classes: 3, widthPx: 2, heightPx: 1 }, Float32Array.from([1, 0]))).toThrow(/classFactors must hold 3/);
  });
});

describe('vectorizeGrid', () => {
  it('finds a solid and a dashed divider, linked across the dash gaps, and a stop line', () => {
    // 30 m x 12 m, x along the road; lines at y = 2.03 (solid) and y = -1.62 (dashed 3 m / 6 m).
    const g = allocBevGrid(200, 80, CELL, 0, -6);
    g.visibility.fill(4);
    paint(g, SEG_CLASS_IDS.divider_solid, (x, y) => x > 1 && x < 29 && Math.abs(y - 2.03) <= 0.1);
    paint(g, SEG_CLASS_IDS.divider_dashed, (x, y) => x > 1 && x < 29 && (x - 1) % 9 < 3 && Math.abs(y + 1.62) <= 0.1);
    // Stop line across the lane: x in [20, 20.45], y in [-1.3, 1.7]
    paint(g, SEG_CLASS_IDS.stop_line, (x, y) => x >= 20 && x < 20.45 && y >= -1.3 && y <= 1.7);
    const prims = vectorizeGrid(g);
    const dividers = prims.filter((p) => p.cls === 'lane_divider');
    expect(dividers).toHaveLength(2);
    const solid = dividers.find((d) => d.style === 'solid')!;
    const dashed = dividers.find((d) => d.style === 'dashed')!;
    expect(solid).toBeDefined();
    expect(dashed).toBeDefined();
    for (const p of solid.points) expect(Math.abs(p[1] - 2.03)).toBeLessThan(0.1);
    for (const p of dashed.points) expect(Math.abs(p[1] + 1.62)).toBeLessThan(0.1);
    // Dashes at x 1-4, 10-13, 19-22, 28-29: one polyline from the first dash to the last.
    const xs = dashed.points.map((p) => p[0]);
    expect(Math.min(...xs)).toBeLessThan(1.5);
    expect(Math.max(...xs)).toBeGreaterThan(28.5);
    expect(solid.points.length).toBeLessThanOrEqual(3); // straight: Douglas-Peucker keeps the ends
    expect(solid.score).toBeGreaterThan(0.85);
    const stops = prims.filter((p) => p.cls === 'stop_line');
    expect(stops).toHaveLength(1);
    const [a, b] = stops[0]!.points as [[number, number], [number, number]];
    const [lo, hi] = a[1] < b[1] ? [a, b] : [b, a];
    expect(Math.abs(lo[0] - 20.22)).toBeLessThan(0.1);
    expect(Math.abs(hi[0] - 20.22)).toBeLessThan(0.1);
    expect(Math.abs(lo[1] + 1.3)).toBeLessThan(0.15);
    expect(Math.abs(hi[1] - 1.7)).toBeLessThan(0.15);
    expect(prims.filter((p) => p.cls !== 'lane_divider' && p.cls !== 'stop_line')).toHaveLength(0);
  });

  it('links dashes seen short and a few degrees askew into one line (the collinear test)', () => {
    // A dashed line along y = 0, of which only 1.5 m of each dash was seen (6 m gaps), each
    // tilted by 0.12 m over its length, alternately: the extension test alone misses every gap.
    const g = allocBevGrid(240, 60, CELL, 0, -4.5);
    g.visibility.fill(4);
    const tilt = (x: number, k: number): number => (k % 2 === 0 ? 1 : -1) * 0.08 * (x - 7.5 * k - 1.75);
    paint(g, SEG_CLASS_IDS.divider_dashed, (x, y) => {
      const k = Math.floor((x - 1) / 7.5);
      return x > 1 && x < 33 && x - 1 - 7.5 * k < 1.5 && Math.abs(y - tilt(x, k)) <= 0.08;
    });
    const lines = (o: Parameters<typeof vectorizeGrid>[1]) => vectorizeGrid(g, { ...o, minLineLengthM: 6 }).filter((p) => p.cls === 'lane_divider');
    expect(lines({ linkFitMaxResidualM: 0 })).toHaveLength(0); // each dash alone is shorter than 6 m
    const linked = lines({});
    expect(linked).toHaveLength(1);
    const xs = linked[0]!.points.map((p) => p[0]);
    expect(Math.min(...xs)).toBeLessThan(1.5);
    expect(Math.max(...xs)).toBeGreaterThan(31);
    for (const p of linked[0]!.points) expect(Math.abs(p[1])).toBeLessThan(0.15);
  });

  it('vectorises crosswalks, boundaries and sign / light bases', () => {
    const g = allocBevGrid(200, 100, CELL, 0, -7.5);
    g.visibility.fill(2);
    // Zebra: stripes 0.5 m wide every 1 m along y, 3 m long in x, from y = -4 to 4.
    paint(g, SEG_CLASS_IDS.crosswalk, (x, y) => x >= 10 && x < 13 && y >= -4 && y < 4 && (((y + 4) % 1) + 1) % 1 < 0.5);
    paint(g, SEG_CLASS_IDS.boundary_curb, (x, y) => x > 1 && x < 28 && Math.abs(y - 6) <= 0.1);
    paint(g, SEG_CLASS_IDS.sign_base, (x, y) => Math.hypot(x - 20, y + 6) < 0.25);
    paint(g, SEG_CLASS_IDS.light_base, (x, y) => Math.hypot(x - 25, y - 6.8) < 0.25);
    const prims = vectorizeGrid(g);
    const cw = prims.filter((p) => p.cls === 'crosswalk');
    expect(cw).toHaveLength(1);
    expect(cw[0]!.points).toHaveLength(4);
    const cx = cw[0]!.points.map((p) => p[0]);
    const cy = cw[0]!.points.map((p) => p[1]);
    expect(Math.min(...cx)).toBeCloseTo(10, 0);
    expect(Math.max(...cx)).toBeCloseTo(13, 0);
    expect(Math.min(...cy)).toBeCloseTo(-4, 0);
    expect(Math.max(...cy)).toBeCloseTo(3.5, 0);
    const curb = prims.filter((p) => p.cls === 'road_boundary');
    expect(curb).toHaveLength(1);
    expect(curb[0]!.kind).toBe('curb');
    const sign = prims.find((p) => p.cls === 'traffic_sign')!;
    expect(sign.signCode).toBe('');
    expect(Math.hypot(sign.points[0]![0] - 20, sign.points[0]![1] + 6)).toBeLessThan(0.1);
    const light = prims.find((p) => p.cls === 'traffic_light')!;
    expect(Math.hypot(light.points[0]![0] - 25, light.points[0]![1] - 6.8)).toBeLessThan(0.1);
  });

  it('keeps a barrier and the road border beside it apart, each a line of its kind', () => {
    // A road border and a guard rail 1.2 m behind it, seen from afar: each class's evidence
    // smeared across the strip between them until the two bands touch.
    const g = allocBevGrid(200, 100, CELL, 0, -7.5);
    g.visibility.fill(2);
    paint(g, SEG_CLASS_IDS.boundary_border, (x, y) => x > 1 && x < 28 && y >= 2.5 && y < 3.6);
    paint(g, SEG_CLASS_IDS.boundary_barrier, (x, y) => x > 1 && x < 28 && y >= 3.6 && y < 4.7);
    const lines = vectorizeGrid(g).filter((p) => p.cls === 'road_boundary');
    const lateralM = (kind: string): number[] =>
      lines
        .filter((p) => p.kind === kind)
        .flatMap((p) => p.points.map((q) => q[1]))
        .sort((a, b) => a - b);
    const border = lateralM('road_border');
    const rail = lateralM('barrier');
    expect(border.length).toBeGreaterThan(0);
    expect(rail.length).toBeGreaterThan(0);
    expect(Math.abs(border[border.length >> 1]! - 3.05)).toBeLessThan(0.2);
    expect(Math.abs(rail[rail.length >> 1]! - 4.15)).toBeLessThan(0.2);
  });

  it('does not let smeared or stray crosswalk cells stretch the rectangle', () => {
    const g = allocBevGrid(200, 100, CELL, 0, -7.5);
    g.visibility.fill(2);
    paint(g, SEG_CLASS_IDS.crosswalk, (x, y) => x >= 10 && x < 13 && y >= -4 && y < 4 && (((y + 4) % 1) + 1) % 1 < 0.5);
    // Far pixels smeared the stripes 3 m along their ray, weakly; a stray blob touches the far end.
    paint(g, SEG_CLASS_IDS.crosswalk, (x, y) => x >= 13 && x < 16 && y >= -4 && y < 4 && (((y + 4) % 1) + 1) % 1 < 0.5, 0.4);
    paint(g, SEG_CLASS_IDS.crosswalk, (x, y) => x >= 10 && x < 10.3 && y >= 4 && y < 4.6);
    const cw = vectorizeGrid(g).filter((p) => p.cls === 'crosswalk');
    expect(cw).toHaveLength(1);
    const cx = cw[0]!.points.map((p) => p[0]);
    const cy = cw[0]!.points.map((p) => p[1]);
    expect(Math.max(...cx)).toBeLessThan(13.3);
    expect(Math.max(...cy)).toBeLessThan(4);
    // The extreme cells (quantile 0) and a presence threshold under the smear stretch it.
    const loose = vectorizeGrid(g, { crosswalkPresenceThreshold: 0.35, crosswalkExtentQuantile: 0 }).filter((p) => p.cls === 'crosswalk');
    expect(Math.max(...loose[0]!.points.map((p) => p[0]))).toBeGreaterThan(15.5);
  });

  it('sizes a crosswalk to its evidence across the way, undoing the quantiles inward bias', () => {
    const g = allocBevGrid(200, 100, CELL, 0, -7.5);
    g.visibility.fill(2);
    // An 8 m (y) by 3 m (x) crosswalk of even evidence; the car drives along x.
    paint(g, SEG_CLASS_IDS.crosswalk, (x, y) => x >= 10 && x < 13 && y >= -4 && y < 4);
    const span = (o: Parameters<typeof vectorizeGrid>[1], travelAxisRad?: number): { x: number; y: number } => {
      const cw = vectorizeGrid(g, o, undefined, undefined, travelAxisRad).filter((p) => p.cls === 'crosswalk');
      expect(cw).toHaveLength(1);
      const xs = cw[0]!.points.map((p) => p[0]);
      const ys = cw[0]!.points.map((p) => p[1]);
      return { x: Math.max(...xs) - Math.min(...xs), y: Math.max(...ys) - Math.min(...ys) };
    };
    // The quantiles 0.08 .. 0.92 of an 8 m side lie 0.64 m in from its ends; the rectangle spans all 8 m.
    const across = span({ crosswalkExtentQuantile: 0.08 }, 0);
    expect(Math.abs(across.y - 8)).toBeLessThan(0.3);
    // Along the way (where far pixels smear evidence along their rays) the quantiles are kept.
    expect(across.x).toBeLessThan(2.8);
    // Without a travel axis the long side is taken as the one across the road.
    expect(Math.abs(span({ crosswalkExtentQuantile: 0.08 }).y - 8)).toBeLessThan(0.3);
    // Driving along y instead, x is across the way.
    expect(Math.abs(span({ crosswalkExtentQuantile: 0.08 }, Math.PI / 2).x - 3)).toBeLessThan(0.3);
  });

  it('simplifies road boundaries with their own tolerance, dividers with theirs', () => {
    const g = allocBevGrid(200, 100, CELL, 0, -7.5);
    g.visibility.fill(2);
    // A kerb and a divider, both bowed 2 m over 26 m (parabolas), 3 m apart.
    const bow = (x: number): number => 0.012 * (x - 15) ** 2 - 2;
    paint(g, SEG_CLASS_IDS.boundary_curb, (x, y) => x > 2 && x < 28 && Math.abs(y - (bow(x) + 3)) <= 0.1);
    paint(g, SEG_CLASS_IDS.divider_solid, (x, y) => x > 2 && x < 28 && Math.abs(y - bow(x)) <= 0.1);
    const count = (o: Parameters<typeof vectorizeGrid>[1]): Record<string, number> => {
      const out: Record<string, number> = {};
      for (const p of vectorizeGrid(g, o)) if (p.cls === 'road_boundary' || p.cls === 'lane_divider') out[p.cls] = Math.max(out[p.cls] ?? 0, p.points.length);
      return out;
    };
    const base = count({});
    expect(base.road_boundary).toBeGreaterThan(2);
    expect(base.lane_divider).toBeGreaterThan(2);
    const loose = count({ boundarySimplifyToleranceM: 5 });
    expect(loose.road_boundary).toBe(2);
    expect(loose.lane_divider).toBe(base.lane_divider);
  });

  it('splits two crosswalks that the evidence runs together across a median island', () => {
    const g = allocBevGrid(200, 100, CELL, 0, -7.5);
    g.visibility.fill(2);
    // Two 3 m deep crosswalks, y -7..-1 and 1..7, joined by a 0.6 m wide smear over the island.
    paint(g, SEG_CLASS_IDS.crosswalk, (x, y) => x >= 10 && x < 13 && ((y >= -7 && y < -1) || (y >= 1 && y < 7)));
    paint(g, SEG_CLASS_IDS.crosswalk, (x, y) => x >= 11 && x < 11.6 && y >= -1 && y < 1);
    const cw = vectorizeGrid(g).filter((p) => p.cls === 'crosswalk');
    expect(cw).toHaveLength(2);
    const spans = cw.map((p) => p.points.map((q) => q[1])).map((ys) => [Math.min(...ys), Math.max(...ys)] as const).sort((a, b) => a[0] - b[0]);
    expect(spans[0]![0]).toBeLessThan(-6);
    expect(spans[0]![1]).toBeLessThan(-0.5);
    expect(spans[1]![0]).toBeGreaterThan(0.5);
    expect(spans[1]![1]).toBeGreaterThan(6);
    // Without the split: one 14 m rectangle over both.
    expect(vectorizeGrid(g, { crosswalkSplitValley: 0 }).filter((p) => p.cls === 'crosswalk')).toHaveLength(1);
  });

  it('keeps a stop line across the lane, not a zebra stripe, a divider dash or a short bar', () => {
    const g = allocBevGrid(200, 100, CELL, 0, -7.5);
    g.visibility.fill(2);
    // Divider along x at y = 2; a dash of it taken for a stop line at x 4..6.
    paint(g, SEG_CLASS_IDS.divider_solid, (x, y) => x > 1 && x < 29 && Math.abs(y - 2) <= 0.1);
    paint(g, SEG_CLASS_IDS.stop_line, (x, y) => x >= 4 && x < 7 && Math.abs(y - 2) <= 0.15);
    // A real stop line across the lane at x = 9 from y = -1.5 to 1.8.
    paint(g, SEG_CLASS_IDS.stop_line, (x, y) => x >= 9 && x < 9.4 && y >= -1.5 && y <= 1.8);
    // A zebra at x 12..15 whose middle stripe the model called stop line.
    paint(g, SEG_CLASS_IDS.crosswalk, (x, y) => x >= 12 && x < 15 && y >= -4 && y < 4 && (((y + 4) % 1) + 1) % 1 < 0.5);
    paint(g, SEG_CLASS_IDS.stop_line, (x, y) => x >= 12 && x < 15 && y >= 0 && y < 0.5);
    // A short bar: 1.5 m.
    paint(g, SEG_CLASS_IDS.stop_line, (x, y) => x >= 20 && x < 20.4 && y >= -1 && y <= 0.5);
    const stops = vectorizeGrid(g).filter((p) => p.cls === 'stop_line');
    expect(stops).toHaveLength(1);
    expect(Math.abs((stops[0]!.points[0]![0] + stops[0]!.points[1]![0]) / 2 - 9.2)).toBeLessThan(0.2);
    // With the divider filter off and short bars allowed, the dash and the bar come back (the stripe stays out).
    expect(vectorizeGrid(g, { stopLineDividerDistanceM: 0, minStopLineLengthM: 1 }).filter((p) => p.cls === 'stop_line')).toHaveLength(3);
  });

  it('drops stop lines along the car\'s way when asked to (travel axis)', () => {
    const g = allocBevGrid(200, 100, CELL, 0, -7.5);
    g.visibility.fill(2);
    // Across the way (the car drives along x): kept; a bar along the way: dropped with the option.
    paint(g, SEG_CLASS_IDS.stop_line, (x, y) => x >= 9 && x < 9.4 && y >= -1.5 && y <= 1.8);
    paint(g, SEG_CLASS_IDS.stop_line, (x, y) => x >= 15 && x < 18.5 && y >= 3 && y < 3.4);
    const on = vectorizeGrid(g, { stopLineMinAngleToTravelRad: 0.96 }, undefined, undefined, 0).filter((p) => p.cls === 'stop_line');
    expect(on).toHaveLength(1);
    expect(Math.abs(on[0]!.points[0]![0] - 9.2)).toBeLessThan(0.2);
    // Off by default, and without a travel axis (the car turned in the chunk) both stay.
    expect(vectorizeGrid(g, {}, undefined, undefined, 0).filter((p) => p.cls === 'stop_line')).toHaveLength(2);
    expect(vectorizeGrid(g, { stopLineMinAngleToTravelRad: 0.96 }).filter((p) => p.cls === 'stop_line')).toHaveLength(2);
  });

  it('refuses bad stop-line, crosswalk and pole options, naming them', () => {
    const g = allocBevGrid(10, 10, CELL, 0, 0);
    expect(() => vectorizeGrid(g, { crosswalkExtentQuantile: 0.5 })).toThrow(/crosswalkExtentQuantile/);
    expect(() => vectorizeGrid(g, { crosswalkSplitValley: 1 })).toThrow(/crosswalkSplitValley/);
    expect(() => vectorizeGrid(g, { boundarySimplifyToleranceM: -0.1 })).toThrow(/boundarySimplifyToleranceM/);
    expect(() => vectorizeGrid(g, { stopLinePresenceThreshold: 0 })).toThrow(/stopLinePresenceThreshold/);
    expect(() => vectorizeGrid(g, { poleBothFraction: 0 })).toThrow(/poleBothFraction/);
    expect(() => vectorizeGrid(g, { stopLineDividerAngleRad: -1 })).toThrow(/stopLineDividerAngleRad/);
  });

  it('clips to a rectangle so neighbouring rectangles share nothing', () => {
    const g = allocBevGrid(200, 40, CELL, 0, -3);
    g.visibility.fill(1);
    paint(g, SEG_CLASS_IDS.divider_solid, (x, y) => x > 1 && x < 29 && Math.abs(y - 0.5) <= 0.1);
    const left = vectorizeGrid(g, {}, { minXM: 0, minYM: -3, maxXM: 15, maxYM: 3 });
    const right = vectorizeGrid(g, {}, { minXM: 15, minYM: -3, maxXM: 30, maxYM: 3 });
    expect(left).toHaveLength(1);
    expect(right).toHaveLength(1);
    expect(Math.max(...left[0]!.points.map((p) => p[0]))).toBeCloseTo(15, 6);
    expect(Math.min(...right[0]!.points.map((p) => p[0]))).toBeCloseTo(15, 6);
  });
});

describe('vectorizeGrid with radar poles', () => {
  it('places signs and lights where the radar put them, named by the camera evidence near them', () => {
    const g = allocBevGrid(200, 80, CELL, 0, -6);
    g.visibility.fill(4);
    // The camera's pole feet lie 0.8 m from the radar poles (its range is coarse far away).
    paint(g, SEG_CLASS_IDS.sign_base, (x, y) => Math.hypot(x - 5.8, y - 3) < 0.3, 0.5);
    paint(g, SEG_CLASS_IDS.light_base, (x, y) => Math.hypot(x - 15.8, y + 3) < 0.3, 0.5);
    const poles = [
      { xM: 5, yM: 3 }, // sign
      { xM: 15, yM: -3 }, // light
      { xM: 25, yM: 3 }, // a lamp post: no camera evidence near it
    ];
    const prims = vectorizeGrid(g, {}, undefined, poles);
    const points = prims.filter((p) => p.cls === 'traffic_sign' || p.cls === 'traffic_light');
    expect(points.map((p) => [p.cls, p.points[0]])).toEqual([
      ['traffic_sign', [5, 3]],
      ['traffic_light', [15, -3]],
    ]);
    expect(points[0]!.signCode).toBe('');
    expect(points[0]!.score).toBeGreaterThan(0.5);
    expect(points[0]!.score).toBeLessThan(1);
    // Without the radar, the camera's own blobs are used, at the camera's position.
    const own = vectorizeGrid(g).filter((p) => p.cls === 'traffic_sign');
    expect(own).toHaveLength(1);
    expect(Math.hypot(own[0]!.points[0]![0] - 5.8, own[0]!.points[0]![1] - 3)).toBeLessThan(0.2);
    // A pole with too little evidence near it is not uploaded.
    expect(vectorizeGrid(g, { minPoleEvidence: 1e6 }, undefined, poles).filter((p) => p.cls === 'traffic_sign')).toHaveLength(0);
  });

  it('names only the nearest pole after the evidence: a lamp post 1.5 m from a light stays unnamed', () => {
    const g = allocBevGrid(200, 80, CELL, 0, -6);
    g.visibility.fill(4);
    paint(g, SEG_CLASS_IDS.light_base, (x, y) => Math.hypot(x - 10.3, y - 3) < 0.3, 0.5);
    const poles = [
      { xM: 10, yM: 3 }, // the light
      { xM: 11.5, yM: 3 }, // a lamp post beside it
    ];
    const lights = vectorizeGrid(g, {}, undefined, poles).filter((p) => p.cls === 'traffic_light');
    expect(lights.map((p) => p.points[0])).toEqual([[10, 3]]);
    // Alone, the lamp post would have taken the light's evidence (it lies within poleCameraRadiusM).
    expect(vectorizeGrid(g, {}, undefined, [poles[1]!]).filter((p) => p.cls === 'traffic_light')).toHaveLength(1);
  });
});

describe('vectorizeFrame (one rendered frame through ground projection)', () => {
  it('recovers both dividers with their style and the stop line', () => {
    const scene: RoadScene = { originEastM: -50, originNorthM: 0, headingRad: 0, solidT: 1.75, dashedT: -1.8, lineWidthM: 0.15, dashM: 3, gapM: 6, stopS: 50 + 9, stopWidthM: 0.4, stopT0: -1.5, stopT1: 1.5 };
    const lut = new GroundLut(TEST_CALIBRATION);
    lut.update(0);
    const seg = renderRoad(scene, subsampleTable(TEST_CALIBRATION, 0), 0, 0, 0);
    const prims = vectorizeFrame(seg, lut);
    const dividers = prims.filter((p) => p.cls === 'lane_divider');
    const near = (pts: Array<[number, number]>, t: number): boolean => pts.every((p) => p[0] > 12 || Math.abs(p[1] - t) < 0.1);
    const solid = dividers.filter((d) => Math.abs(d.pointsLocal[0]![1] - 1.75) < 0.5);
    const dashed = dividers.filter((d) => Math.abs(d.pointsLocal[0]![1] + 1.8) < 0.5);
    expect(solid).toHaveLength(1);
    expect(dashed).toHaveLength(1);
    expect(solid[0]!.style).toBe('solid');
    expect(dashed[0]!.style).toBe('dashed');
    expect(near(solid[0]!.pointsLocal, 1.75)).toBe(true);
    expect(near(dashed[0]!.pointsLocal, -1.8)).toBe(true);
    const stops = prims.filter((p) => p.cls === 'stop_line');
    expect(stops).toHaveLength(1);
    const [a, b] = stops[0]!.pointsLocal as [[number, number], [number, number]];
    expect(Math.abs((a[0] + b[0]) / 2 - 9.2)).toBeLessThan(0.4);
    expect(Math.abs(Math.abs(a[1] - b[1]) - 3)).toBeLessThan(0.4);
  });
});
