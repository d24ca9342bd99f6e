import { describe, expect, it } from 'vitest';
import { Rng } from '../../sim/rng.ts';
import { clusterAreas, clusterPoints, greedyPointClusters } from './cluster-shapes.ts';
import { DEFAULT_MERGE_OPTIONS } from './options.ts';

/** The clustering spelled out plainly (all-pairs, sorts): what the grid version must reproduce. */
function reference(obs: number[], x: Float64Array, y: Float64Array, score: Float32Array, radiusM: number): Array<{ x: number; y: number; members: number[] }> {
  const median = (v: number[]): number => {
    const s = [...v].sort((a, b) => a - b);
    const m = s.length >> 1;
    return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
  };
  const taken = new Set<number>();
  const order = [...obs.keys()].sort((a, b) => score[obs[b]!]! - score[obs[a]!]! || a - b);
  const out: Array<{ x: number; y: number; members: number[] }> = [];
  for (const seed of order) {
    if (taken.has(seed)) continue;
    let cx = x[obs[seed]!]!;
    let cy = y[obs[seed]!]!;
    let mem: number[] = [];
    for (let it = 0; it < 3; it++) {
      mem = [...obs.keys()].filter((k) => !taken.has(k) && (x[obs[k]!]! - cx) ** 2 + (y[obs[k]!]! - cy) ** 2 <= radiusM * radiusM);
      if (!mem.length) mem = [seed];
      cx = median(mem.map((k) => x[obs[k]!]!));
      cy = median(mem.map((k) => y[obs[k]!]!));
    }
    if (!mem.includes(seed)) mem.push(seed);
    for (const k of mem) taken.add(k);
    const members = mem.map((k) => obs[k]!);
    out.push({ x: median(members.map((i) => x[i]!)), y: median(members.map((i) => y[i]!)), members });
  }
  return out;
}

describe('clusterPoints', () => {
  it('greedy clusters are the plain algorithm\'s: same centres, same members, seeds by score (ties by index)', () => {
    const rng = new Rng(5);
    for (let trial = 0; trial < 20; trial++) {
      // Signs 2-6 m apart, 2-40 observations each with GNSS-like scatter, scores with many ties.
      const signs = Array.from({ length: 12 }, (_, k) => [k * rng.uniform(2, 6), rng.uniform(-3, 3)] as const);
      const xs: number[] = [];
      const ys: number[] = [];
      const scores: number[] = [];
      for (const [sx, sy] of signs) {
        for (let j = Math.floor(rng.uniform(2, 40)); j > 0; j--) {
          xs.push(sx + rng.normal(0, 0.4));
          ys.push(sy + rng.normal(0, 0.4));
          scores.push(Math.round(rng.uniform(0, 4)) / 4);
        }
      }
      const n = xs.length;
      // Observation indices interleaved with ones of another class (not in `obs`).
      const x = new Float64Array(2 * n);
      const y = new Float64Array(2 * n);
      const score = new Float32Array(2 * n);
      const obs: number[] = [];
      const perm = [...xs.keys()].sort(() => rng.uniform(-1, 1));
      perm.forEach((k, j) => {
        x[2 * j + 1] = xs[k]!;
        y[2 * j + 1] = ys[k]!;
        score[2 * j + 1] = scores[k]!;
        obs.push(2 * j + 1);
      });
      const got = greedyPointClusters(obs, x, y, score, 1.5);
      // Members in any order (the grid lists them cell by cell).
      const sorted = (cs: Array<{ x: number; y: number; members: number[] }>): unknown => cs.map((c) => ({ x: c.x, y: c.y, members: [...c.members].sort((a, b) => a - b) }));
      expect(sorted(got)).toEqual(sorted(reference(obs, x, y, score, 1.5)));
    }
  });

  it('keeps two posts 1.5 m apart apart when the same passes saw both, and joins one sign\'s stragglers', () => {
    const rng = new Rng(9);
    const xs: number[] = [];
    const ys: number[] = [];
    const passes: number[] = [];
    // 12 passes each see both posts of a pair (0, 0) and (1.5, 0), with a pass-wide pose error.
    for (let k = 0; k < 12; k++) {
      const ex = rng.normal(0, 0.35);
      const ey = rng.normal(0, 0.35);
      for (const px of [0, 1.5]) {
        xs.push(px + ex + rng.normal(0, 0.05));
        ys.push(ey + rng.normal(0, 0.05));
        passes.push(k);
      }
    }
    // A lone sign at (20, 0): 10 passes near it, 3 more (other passes) about a metre off.
    for (let k = 0; k < 13; k++) {
      const off = k < 10 ? [rng.normal(0, 0.15), rng.normal(0, 0.15)] : [0.9 + rng.normal(0, 0.1), rng.normal(0, 0.1)];
      xs.push(20 + off[0]!);
      ys.push(off[1]!);
      passes.push(100 + k);
    }
    const n = xs.length;
    const pass = Int32Array.from(passes);
    const got = clusterPoints([...xs.keys()], Float64Array.from(xs), Float64Array.from(ys), new Float32Array(n).fill(0.9), pass, new Array<string>(n).fill(''), 1.5, pass);
    expect(got).toHaveLength(3);
    for (const [tx, ty] of [
      [0, 0],
      [1.5, 0],
      [20, 0],
    ] as const) {
      expect(Math.min(...got.map((c) => Math.hypot(c.x - tx, c.y - ty))), `sign at ${tx}, ${ty}`).toBeLessThan(0.3);
    }
    expect(got.find((c) => c.x > 10)!.members).toHaveLength(13);
  });

  it('places a sign at the median of its passes, one vote each, not of its observations', () => {
    // Five passes saw it once near (0, 0); one pass (a drive that looped, or saw it in many chunks) 20 times 0.6 m off.
    const xs = [0.02, -0.03, 0.01, -0.01, 0.03, ...Array.from({ length: 20 }, (_, k) => 0.6 + 0.001 * k)];
    const n = xs.length;
    const pass = Int32Array.from(xs, (_, i) => Math.min(i, 5));
    const got = clusterPoints([...xs.keys()], Float64Array.from(xs), new Float64Array(n), new Float32Array(n).fill(0.9), pass, new Array<string>(n).fill(''), 1.5, pass);
    expect(got).toHaveLength(1);
    expect(Math.abs(got[0]!.x)).toBeLessThan(0.05);
  });

  it('splits one place into two signs when the drives saw both codes', () => {
    const x = Float64Array.of(0, 0.1, 0.2, 0.1, 0.0, 0.2);
    const y = Float64Array.of(0, 0.1, 0.0, 0.2, 0.1, 0.1);
    const drive = Int32Array.of(0, 0, 1, 1, 2, 2);
    const code = ['205', '306', '205', '306', '205', '306'];
    const got = clusterPoints([0, 1, 2, 3, 4, 5], x, y, new Float32Array(6).fill(0.9), drive, code, 1.5);
    expect(got.map((c) => [c.signCode, [...c.members].sort()])).toEqual([
      ['205', [0, 2, 4]],
      ['306', [1, 3, 5]],
    ]);
  });

  it('the same places whatever the pass ids are numbered (sparse ids renumbered for stamping); negative ids refused', () => {
    const rng = new Rng(11);
    const n = 400;
    const x = Float64Array.from({ length: n }, (_, i) => (i % 20) * 4 + rng.normal(0, 0.4));
    const y = Float64Array.from({ length: n }, () => rng.normal(0, 0.4));
    const drive = Int32Array.from({ length: n }, () => rng.int(15));
    const pass = Int32Array.from(drive, (d, i) => d * 3 + (i % 3));
    const score = Float32Array.from({ length: n }, () => rng.uniform(0.3, 1));
    const codes = new Array<string>(n).fill('');
    const obs = [...x.keys()];
    const small = clusterPoints(obs, x, y, score, drive, codes, 1.5, pass);
    const large = clusterPoints(obs, x, y, score, drive, codes, 1.5, Int32Array.from(pass, (p) => p * 1_000_003 + 7));
    expect(small.length).toBeGreaterThanOrEqual(20);
    expect(large).toEqual(small);
    expect(() => clusterPoints(obs, x, y, score, Int32Array.from(drive, (d) => d - 1), codes, 1.5)).toThrow(/indices >= 0, got -1/);
  });
});

describe('clusterAreas', () => {
  const rect = (x0: number, x1: number, y0: number, y1: number): Array<[number, number]> => [
    [x0, y0],
    [x1, y0],
    [x1, y1],
    [x0, y1],
  ];
  it('makes one crosswalk of the rectangles the drives saw: each side at the members\' median', () => {
    // A 7 m x 4 m crosswalk (x 0..7); three drives saw it whole within a few decimetres, one smeared
    // it 2 m further along, one saw only its first 4 m. The median ignores both.
    const rings = [rect(0, 7, 0, 4), rect(0.1, 7.1, -0.1, 4.1), rect(-0.1, 6.9, 0.1, 3.9), rect(0, 9, 0, 4), rect(0, 4, 0, 4)];
    const out = clusterAreas([0, 1, 2, 3, 4], rings, Float32Array.from([0.8, 0.8, 0.8, 0.8, 0.8]), 3);
    expect(out).toHaveLength(1);
    expect(out[0]!.members.sort()).toEqual([0, 1, 2, 3, 4]);
    const xs = out[0]!.ring.map((p) => p[0]);
    const ys = out[0]!.ring.map((p) => p[1]);
    expect(Math.min(...xs)).toBeCloseTo(0, 1);
    expect(Math.max(...xs)).toBeCloseTo(7, 1);
    expect(Math.min(...ys)).toBeCloseTo(0, 1);
    expect(Math.max(...ys)).toBeCloseTo(4, 1);
  });
  const MERGE_ENDS = { quantile: DEFAULT_MERGE_OPTIONS.crosswalkEndQuantile, bandM: DEFAULT_MERGE_OPTIONS.crosswalkEndBandM };
  it('spans a wide road\'s crosswalk that each drive saw only part of (merge default ends)', () => {
    // A 13 m x 4 m crosswalk (x 0..13) across a four-lane road: three drives on one side saw it
    // as far as their camera's field of view reached (x 0..10.5), three on the other side from
    // x 2.5 on. The median view is 10.5 m long; the merge's ends are where the views that reach
    // farthest end.
    const rings: Array<Array<[number, number]>> = [];
    for (let d = 0; d < 3; d++) rings.push(rect(0.05 * d, 10.5 - 0.05 * d, 0, 4), rect(2.5 + 0.05 * d, 13 - 0.05 * d, 0.05 * d, 4));
    const obs = rings.map((_, k) => k);
    const span = (ends?: { quantile: number; bandM: number }): [number, number] => {
      const out = clusterAreas(obs, rings, Float32Array.from(rings, () => 0.8), 3, ends);
      expect(out).toHaveLength(1);
      const xs = out[0]!.ring.map((p) => p[0]);
      return [Math.min(...xs), Math.max(...xs)];
    };
    const [a, b] = span(MERGE_ENDS);
    expect(a).toBeCloseTo(0, 0);
    expect(b).toBeCloseTo(13, 0);
    const [ma, mb] = span(); // the median view
    expect(mb - ma).toBeLessThan(11);
  });
  it('keeps a crosswalk that ten drives saw whole at its ends when one view was smeared (merge default ends)', () => {
    // x 0..7: nine views within a decimetre or two of each end, one smeared 2 m beyond the far end.
    const rings: Array<Array<[number, number]>> = [];
    for (let d = 0; d < 9; d++) rings.push(rect(0.04 * (d - 4), 7 + 0.04 * (4 - d), 0, 4));
    rings.push(rect(0, 9, 0, 4));
    const out = clusterAreas(rings.map((_, k) => k), rings, Float32Array.from(rings, () => 0.8), 3, MERGE_ENDS);
    expect(out).toHaveLength(1);
    const xs = out[0]!.ring.map((p) => p[0]);
    expect(Math.min(...xs)).toBeCloseTo(0, 1);
    expect(Math.max(...xs)).toBeCloseTo(7, 1);
  });
  it('keeps two neighbouring crosswalks apart when some views ran them together', () => {
    // A: x 0..6, B: x 8..14 (a 2 m median island between), both y 0..4. Four drives saw each
    // alone; three saw one 14 m blob (the largest views: before, one of them seeded and took both).
    const rings: Array<Array<[number, number]>> = [];
    for (let d = 0; d < 4; d++) rings.push(rect(0 + 0.05 * d, 6 + 0.05 * d, 0, 4), rect(8 - 0.05 * d, 14 - 0.05 * d, 0, 4));
    for (let d = 0; d < 3; d++) rings.push(rect(0, 14, 0.1 * d, 4));
    const obs = rings.map((_, k) => k);
    const out = clusterAreas(obs, rings, Float32Array.from(rings, () => 0.8), 3);
    expect(out).toHaveLength(2);
    const spans = out.map((c) => c.ring.map((p) => p[0])).map((xs) => [Math.min(...xs), Math.max(...xs)] as const).sort((a, b) => a[0] - b[0]);
    expect(spans[0]![0]).toBeCloseTo(0, 0);
    expect(spans[0]![1]).toBeLessThan(6.5);
    expect(spans[1]![0]).toBeGreaterThan(7.5);
    expect(spans[1]![1]).toBeCloseTo(14, 0);
    // Every view supports one of them.
    expect(out.reduce((n, c) => n + c.members.length, 0)).toBe(rings.length);
  });
  it('adds a fragment lying inside a crosswalk to it instead of publishing a second one', () => {
    // A 8 m x 3 m crosswalk seen by three drives; two drives uploaded a 1 m x 3 m piece of it
    // whose axis runs the other way (not a member by orientation).
    const rings = [rect(0, 8, 0, 3), rect(0.1, 8.1, 0, 3), rect(-0.1, 7.9, 0.05, 3.05), rect(4, 5, 0.2, 2.8), rect(4.1, 5.1, 0.2, 2.8)];
    const out = clusterAreas([0, 1, 2, 3, 4], rings, Float32Array.from([0.8, 0.8, 0.8, 0.8, 0.8]), 3);
    expect(out).toHaveLength(1);
    expect(out[0]!.members.sort()).toEqual([0, 1, 2, 3, 4]);
  });
  it('keeps the shape of other polygons (a skewed crossing): per-vertex medians', () => {
    const skew = (d: number): Array<[number, number]> => [
      [0 + d, 0],
      [10 + d, 0],
      [12 + d, 4],
      [2 + d, 4],
    ];
    const out = clusterAreas([0, 1, 2], [skew(0), skew(0.2), skew(-0.1)], Float32Array.from([0.8, 0.8, 0.8]), 3);
    expect(out).toHaveLength(1);
    const ring = out[0]!.ring;
    expect(ring).toHaveLength(4);
    // The skewed corner survives (a rectangle would have put it at x = 0 or 2 along y = 4 otherwise).
    const top = ring.filter((p) => p[1] > 2).map((p) => p[0]).sort((a, b) => a - b);
    expect(top[0]).toBeCloseTo(2, 1);
    expect(top[1]).toBeCloseTo(12, 1);
  });
});
