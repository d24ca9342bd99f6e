/**
 * Stitching polylines that continue each other end to end, before they are cut into instances.
 *
 * How a line is split into pieces says nothing about the world: Lanelet2 splits a kerb into one
 * way per lanelet, and published tiles split a consensus line at every tile border. Scoring those
 * pieces as they come would fail a prediction that covers three ground-truth ways in one patch (or
 * a ground-truth line the tile border cut in two). So, per class, pieces whose ends meet within
 * `toleranceM` are joined, but only where exactly two ends meet: at a junction (three or more
 * ends) nothing is joined, since which two continue each other is not known.
 *
 * Geometry: `[eastM, northM]` in the caller's frame. Orientation is free (lines are undirected).
 */
import type { XY } from '../../shared/schema.ts';

export interface StitchInput {
  points: readonly XY[];
  /** Confidence (predictions); the stitched line gets the length-weighted mean. */
  score?: number;
}

export interface Stitched {
  points: Array<[number, number]>;
  score: number;
  /** Indices of the input lines it was made of, in order. */
  parts: number[];
}

export function stitchPolylines(lines: readonly StitchInput[], toleranceM: number): Stitched[] {
  if (!(toleranceM >= 0)) throw new RangeError(`toleranceM must be >= 0, got ${toleranceM}`);
  const n = lines.length;
  const cell = Math.max(toleranceM, 1e-6) * 2;
  const grid = new Map<string, number[]>();
  const endPoint = (e: number): XY => {
    const pts = lines[e >> 1]!.points;
    return (e & 1) === 0 ? pts[0]! : pts[pts.length - 1]!;
  };
  const key = (x: number, y: number): string => `${Math.floor(x / cell)},${Math.floor(y / cell)}`;
  for (let e = 0; e < 2 * n; e++) {
    if (lines[e >> 1]!.points.length < 2) continue;
    const [x, y] = endPoint(e);
    const k = key(x, y);
    let list = grid.get(k);
    if (!list) grid.set(k, (list = []));
    list.push(e);
  }
  const near = (e: number): number[] => {
    const [x, y] = endPoint(e);
    const cx = Math.floor(x / cell);
    const cy = Math.floor(y / cell);
    const out: number[] = [];
    for (let dx = -1; dx <= 1; dx++) {
      for (let dy = -1; dy <= 1; dy++) {
        for (const f of grid.get(`${cx + dx},${cy + dy}`) ?? []) {
          if (f === e) continue;
          const q = endPoint(f);
          if (Math.hypot(q[0] - x, q[1] - y) <= toleranceM) out.push(f);
        }
      }
    }
    return out;
  };
  // partner[e] = the one other end meeting end e (from another line), when exactly two meet.
  const partner = new Int32Array(2 * n).fill(-1);
  for (let e = 0; e < 2 * n; e++) {
    if (lines[e >> 1]!.points.length < 2) continue;
    const ns = near(e);
    if (ns.length !== 1) continue;
    const f = ns[0]!;
    if (f >> 1 === e >> 1) continue; // a line closing on itself
    if (near(f).length === 1) partner[e] = f;
  }

  const used = new Uint8Array(n);
  const out: Stitched[] = [];
  const walk = (start: number, enterEnd: number): void => {
    const pts: Array<[number, number]> = [];
    const parts: number[] = [];
    let scoreLen = 0;
    let totalL = 0;
    let i = start;
    let enter = enterEnd;
    while (i >= 0 && !used[i]) {
      used[i] = 1;
      parts.push(i);
      const src = lines[i]!.points;
      const seq = enter === 0 ? src : src.slice().reverse();
      for (let k = 0; k < seq.length; k++) {
        const p = seq[k]!;
        const last = pts[pts.length - 1];
        if (last && k === 0 && last[0] === p[0] && last[1] === p[1]) continue;
        pts.push([p[0], p[1]]);
      }
      let l = 0;
      for (let k = 1; k < src.length; k++) l += Math.hypot(src[k]![0] - src[k - 1]![0], src[k]![1] - src[k - 1]![1]);
      scoreLen += (lines[i]!.score ?? 1) * l;
      totalL += l;
      const next = partner[2 * i + (1 - enter)]!;
      if (next < 0) break;
      i = next >> 1;
      enter = next & 1;
    }
    out.push({ points: pts, score: totalL > 0 ? scoreLen / totalL : (lines[start]!.score ?? 1), parts });
  };
  // Chains with a free end first, from that end; what is left are closed loops.
  for (let i = 0; i < n; i++) {
    if (used[i] || lines[i]!.points.length < 2) continue;
    if (partner[2 * i]! < 0) walk(i, 0);
    else if (partner[2 * i + 1]! < 0) walk(i, 1);
  }
  for (let i = 0; i < n; i++) if (!used[i] && lines[i]!.points.length >= 2) walk(i, 0);
  for (let i = 0; i < n; i++) if (!used[i]) out.push({ points: lines[i]!.points.map((p) => [p[0], p[1]] as [number, number]), score: lines[i]!.score ?? 1, parts: [i] });
  return out;
}
