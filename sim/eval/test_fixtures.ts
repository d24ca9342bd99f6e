/**
 * Small synthetic maps for the evaluation tests (`[eastM, northM]`, metres). Everything lies in
 * x 5..145, y 3..46: inside the 50 m patches y in [0, 50), lines parallel to a patch border stay
 * well away from it, so a shift of a few decimetres does not move a line into another patch.
 */
import type { Primitive, ScoredPrimitive, XY } from '../../shared/schema.ts';

function sampled(f: (x: number) => number, x0: number, x1: number, stepM: number): XY[] {
  const out: XY[] = [];
  for (let x = x0; x <= x1 + 1e-9; x += stepM) out.push([x, f(x)]);
  return out;
}

/** A road along x with two boundaries, two dividers, curves, stop lines, crosswalks, signs, lights. */
export function syntheticMap(): Primitive[] {
  return [
    { cls: 'road_boundary', points: [[5, 6.5], [145, 6.5]], kind: 'curb' },
    { cls: 'road_boundary', points: [[5, 17], [60, 17], [145, 17]], kind: 'curb' },
    { cls: 'road_boundary', points: sampled((x) => 38 + 0.0015 * (x - 75) ** 2, 5, 145, 2.5), kind: 'road_border' },
    { cls: 'lane_divider', points: [[5, 10], [145, 10]], style: 'dashed' },
    { cls: 'lane_divider', points: [[5, 13.5], [145, 13.5]], style: 'solid' },
    { cls: 'lane_divider', points: sampled((x) => 30 + 5 * Math.sin(x / 15), 5, 145, 2), style: 'solid' },
    { cls: 'stop_line', points: [[60, 6.5], [60, 10]] },
    { cls: 'stop_line', points: [[120, 10], [120, 13.5]] },
    { cls: 'crosswalk', points: [[70, 6.5], [74, 6.5], [74, 17], [70, 17]] },
    { cls: 'crosswalk', points: [[130, 6.5], [134, 6.5], [134, 17], [130, 17]] },
    { cls: 'traffic_sign', points: [[20, 20]], signCode: 'de205' },
    { cls: 'traffic_sign', points: [[80, 22]], signCode: 'de274' },
    { cls: 'traffic_sign', points: [[140, 3]], signCode: '' },
    { cls: 'traffic_light', points: [[62, 20]] },
    { cls: 'traffic_light', points: [[122, 20]] },
  ];
}

/** Ground truth as predictions with one score. */
export function asPredictions(gt: readonly Primitive[], score = 1): ScoredPrimitive[] {
  return gt.map((p) => ({ ...p, points: p.points.map((q): XY => [q[0], q[1]]), score }));
}

/** Every prediction moved by (dx, dy) metres. */
export function shifted(pred: readonly ScoredPrimitive[], dxM: number, dyM: number): ScoredPrimitive[] {
  return pred.map((p) => ({ ...p, points: p.points.map((q): XY => [q[0] + dxM, q[1] + dyM]) }));
}

/** Small deterministic PRNG (mulberry32) for reproducible noise. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A city-sized synthetic map: a grid of two-lane roads (two boundaries and a divider each, a
 * vertex every 2 m), stop lines, signs and lights; about `targetKm` km of lines in total.
 */
export function syntheticCity(targetKm = 25): Primitive[] {
  const out: Primitive[] = [];
  const spacingM = 120;
  const roadLenM = Math.sqrt((targetKm * 1000) / 3 / 2) * Math.sqrt(spacingM) * 1.0;
  const n = Math.max(2, Math.round(roadLenM / spacingM));
  const lenM = n * spacingM;
  const dense = (a: XY, b: XY): XY[] => {
    const k = Math.max(1, Math.round(Math.hypot(b[0] - a[0], b[1] - a[1]) / 2));
    return Array.from({ length: k + 1 }, (_, i): XY => [a[0] + ((b[0] - a[0]) * i) / k, a[1] + ((b[1] - a[1]) * i) / k]);
  };
  let km = 0;
  for (let i = 0; i < 2 * n && km < targetKm; i++) {
    const c = 7 + (i % n) * spacingM; // road centre
    const along = i < n; // first n roads along x, then along y
    for (const [off, cls] of [[-3.5, 'road_boundary'], [0, 'lane_divider'], [3.5, 'road_boundary']] as const) {
      const a: XY = along ? [0, c + off] : [c + off, 0];
      const b: XY = along ? [lenM, c + off] : [c + off, lenM];
      out.push({ cls, points: dense(a, b) });
      km += lenM / 1000;
    }
    for (let s = 40; s < lenM; s += spacingM) {
      out.push({ cls: 'stop_line', points: along ? [[s, c - 3.5], [s, c]] : [[c, s], [c + 3.5, s]] });
      out.push({ cls: 'traffic_sign', points: [along ? [s + 3, c - 5] : [c + 5, s + 3]] });
      out.push({ cls: 'traffic_light', points: [along ? [s + 1, c + 5] : [c - 5, s + 1]] });
    }
  }
  return out;
}

/**
 * Predictions from ground truth: one bias per 100 m patch (sigma `biasM` per axis), vertex noise
 * (`noiseM`), 5% of the lines dropped and a few false lines added; scores in [0.5, 1].
 */
export function noisyPredictions(gt: readonly Primitive[], seed: number, biasM = 0.15, noiseM = 0.03): ScoredPrimitive[] {
  const rnd = prng(seed);
  const gauss = (): number => Math.sqrt(-2 * Math.log(1 - rnd())) * Math.cos(2 * Math.PI * rnd());
  const bias = new Map<string, XY>();
  const biasAt = (q: XY): XY => {
    const key = `${Math.floor(q[0] / 100)},${Math.floor(q[1] / 100)}`;
    let b = bias.get(key);
    if (b === undefined) bias.set(key, (b = [biasM * gauss(), biasM * gauss()]));
    return b;
  };
  const out: ScoredPrimitive[] = [];
  for (const p of gt) {
    if (rnd() < 0.05) continue;
    out.push({
      ...p,
      points: p.points.map((q): XY => {
        const b = biasAt(q);
        return [q[0] + b[0] + noiseM * gauss(), q[1] + b[1] + noiseM * gauss()];
      }),
      score: 0.5 + 0.5 * rnd(),
    });
    if (rnd() < 0.03 && p.points.length > 1) {
      out.push({ ...p, points: p.points.map((q): XY => [q[0] + 1.7, q[1] + 1.7]), score: 0.5 * rnd() + 0.3 });
    }
  }
  return out;
}
