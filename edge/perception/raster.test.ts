/**
 * The optimised raster and linking helpers against straightforward reference versions (the
 * per-cell implementations they replaced) on random noisy masks: the same results, cell for cell.
 */
import { describe, expect, it } from 'vitest';
import { linkPolylines, type Pt } from './polyline.ts';
import { components, fillHoles, pruneSpurs, thinZhangSuen, traceSkeleton } from './raster.ts';

const RING: ReadonlyArray<readonly [number, number]> = [[0, -1], [1, -1], [1, 0], [1, 1], [0, 1], [-1, 1], [-1, 0], [-1, -1]];
const WALK_ORDER = [0, 2, 4, 6, 1, 3, 5, 7];

function at(m: Uint8Array, w: number, h: number, c: number, r: number): number {
  return c < 0 || r < 0 || c >= w || r >= h ? 0 : m[r * w + c]!;
}
function refCrossing(m: Uint8Array, w: number, h: number, c: number, r: number): number {
  let runs = 0;
  let prev = at(m, w, h, c + RING[7]![0], r + RING[7]![1]);
  for (let k = 0; k < 8; k++) {
    const cur = at(m, w, h, c + RING[k]![0], r + RING[k]![1]);
    if (cur && !prev) runs++;
    prev = cur;
  }
  return runs;
}
function refThin(mask: Uint8Array, w: number, h: number): Uint8Array {
  for (let c = 0; c < w; c++) mask[c] = mask[(h - 1) * w + c] = 0;
  for (let r = 0; r < h; r++) mask[r * w] = mask[r * w + w - 1] = 0;
  let changed = true;
  while (changed) {
    changed = false;
    for (let step = 0; step < 2; step++) {
      const del: number[] = [];
      for (let i = 0; i < mask.length; i++) {
        if (!mask[i]) continue;
        const [p2, p3, p4, p5, p6, p7, p8, p9] = [mask[i - w]!, mask[i - w + 1]!, mask[i + 1]!, mask[i + w + 1]!, mask[i + w]!, mask[i + w - 1]!, mask[i - 1]!, mask[i - w - 1]!];
        const b = p2 + p3 + p4 + p5 + p6 + p7 + p8 + p9;
        if (b < 2 || b > 6) continue;
        const seq = [p2, p3, p4, p5, p6, p7, p8, p9, p2];
        let a = 0;
        for (let k = 0; k < 8; k++) if (seq[k] === 0 && seq[k + 1] === 1) a++;
        if (a !== 1) continue;
        if (step === 0 ? p2 * p4 * p6 === 0 && p4 * p6 * p8 === 0 : p2 * p4 * p8 === 0 && p2 * p6 * p8 === 0) del.push(i);
      }
      for (const i of del) mask[i] = 0;
      if (del.length > 0) changed = true;
    }
  }
  return mask;
}
function refComponents(mask: Uint8Array, w: number, h: number): number[][] {
  const label = new Uint8Array(mask.length);
  const out: number[][] = [];
  for (let s = 0; s < mask.length; s++) {
    if (!mask[s] || label[s]) continue;
    const queue = [s];
    label[s] = 1;
    for (let head = 0; head < queue.length; head++) {
      const i = queue[head]!;
      const c = i % w;
      const r = (i - c) / w;
      for (const [dc, dr] of RING) {
        const j = (r + dr) * w + c + dc;
        if (at(mask, w, h, c + dc, r + dr) && !label[j]) {
          label[j] = 1;
          queue.push(j);
        }
      }
    }
    out.push(queue);
  }
  return out;
}
function refFillHoles(mask: Uint8Array, w: number, h: number, maxCells: number): Uint8Array {
  const inv = Uint8Array.from(mask, (v) => (v ? 0 : 1));
  for (const comp of refComponents(inv, w, h)) {
    if (comp.length > maxCells) continue;
    if (comp.some((i) => i % w === 0 || i % w === w - 1 || i < w || i >= (h - 1) * w)) continue;
    for (const i of comp) mask[i] = 1;
  }
  return mask;
}
function refWalkNext(m: Uint8Array, w: number, h: number, cur: number, seen: (j: number) => boolean): number[] {
  const c = cur % w;
  const r = (cur - c) / w;
  const out: number[] = [];
  for (const k of WALK_ORDER) {
    const nc = c + RING[k]![0];
    const nr = r + RING[k]![1];
    if (at(m, w, h, nc, nr) && !seen(nr * w + nc)) out.push(nr * w + nc);
  }
  return out;
}
function refTrace(mask: Uint8Array, w: number, h: number): number[][] {
  const visited = new Uint8Array(mask.length);
  const paths: number[][] = [];
  const walk = (start: number): void => {
    const path = [start];
    visited[start] = 1;
    for (let cur = start; ; ) {
      const next = refWalkNext(mask, w, h, cur, (j) => visited[j] === 1)[0];
      if (next === undefined) break;
      visited[next] = 1;
      path.push(next);
      cur = next;
    }
    paths.push(path);
  };
  for (let i = 0; i < mask.length; i++) if (mask[i] && !visited[i] && refCrossing(mask, w, h, i % w, Math.floor(i / w)) <= 1) walk(i);
  for (let i = 0; i < mask.length; i++) if (mask[i] && !visited[i]) walk(i);
  return paths;
}
function refPrune(skel: Uint8Array, w: number, h: number, maxCells: number): Uint8Array {
  const ends: number[] = [];
  for (let i = 0; i < skel.length; i++) if (skel[i] && refCrossing(skel, w, h, i % w, Math.floor(i / w)) === 1) ends.push(i);
  for (const start of ends) {
    const branch = [start];
    const seen = new Set<number>(branch);
    let cur = start;
    let junction = false;
    while (branch.length <= maxCells) {
      const next = refWalkNext(skel, w, h, cur, (j) => seen.has(j));
      if (next.length === 0) break;
      const n0 = next[0]!;
      if (refCrossing(skel, w, h, n0 % w, Math.floor(n0 / w)) >= 3) {
        junction = true;
        break;
      }
      for (const j of next) seen.add(j);
      branch.push(n0);
      cur = n0;
    }
    if (junction && branch.length < maxCells) for (const i of branch) skel[i] = 0;
  }
  return skel;
}

/** Deterministic pseudo-random numbers in [0, 1). */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** A noisy mask: random blobs and strokes plus salt and pepper (like model output on a grid). */
function randomMask(seed: number, w: number, h: number): Uint8Array {
  const rand = rng(seed);
  const m = new Uint8Array(w * h);
  const density = 0.02 + 0.2 * rand();
  for (let i = 0; i < m.length; i++) if (rand() < density) m[i] = 1;
  const strokes = Math.floor(rand() * 6);
  for (let s = 0; s < strokes; s++) {
    let x = rand() * w;
    let y = rand() * h;
    const a = rand() * 2 * Math.PI;
    const width = 1 + rand() * 3;
    for (let t = 0; t < 40; t++, x += Math.cos(a), y += Math.sin(a)) {
      for (let dy = -width; dy <= width; dy++) for (let dx = -width; dx <= width; dx++) {
        const c = Math.floor(x + dx);
        const r = Math.floor(y + dy);
        if (c >= 0 && r >= 0 && c < w && r < h && rand() < 0.9) m[r * w + c] = 1;
      }
    }
  }
  return m;
}

describe('raster helpers match the reference versions on noisy masks', () => {
  it('fillHoles, thinning, spur pruning, tracing and components agree cell for cell', () => {
    for (let seed = 1; seed <= 150; seed++) {
      const w = 20 + (seed % 37);
      const h = 15 + ((seed * 7) % 29);
      const m = randomMask(seed, w, h);
      expect(components(m, w, h), `components seed ${seed}`).toEqual(refComponents(m, w, h));
      const filled = fillHoles(m.slice(), w, h, 6);
      expect(filled, `fillHoles seed ${seed}`).toEqual(refFillHoles(m.slice(), w, h, 6));
      const thin = thinZhangSuen(filled.slice(), w, h);
      expect(thin, `thin seed ${seed}`).toEqual(refThin(filled.slice(), w, h));
      const pruned = pruneSpurs(thin.slice(), w, h, 6);
      expect(pruned, `prune seed ${seed}`).toEqual(refPrune(thin.slice(), w, h, 6));
      expect(traceSkeleton(pruned, w, h), `trace seed ${seed}`).toEqual(refTrace(pruned, w, h));
    }
  });
});

describe('raster helpers on masks that are views into a larger buffer', () => {
  it('give the same results at every byte offset (scans skip empty 32-bit words only where aligned)', () => {
    // A copy of m starting `offset` bytes into a larger buffer, with set bytes around it.
    const placed = (m: Uint8Array, offset: number): Uint8Array => {
      const buf = new Uint8Array(m.length + 8).fill(1);
      const v = buf.subarray(offset, offset + m.length);
      v.set(m);
      return v;
    };
    for (let seed = 1; seed <= 40; seed++) {
      const w = 20 + (seed % 37);
      const h = 15 + ((seed * 7) % 29);
      const m = randomMask(seed, w, h);
      const filled = fillHoles(m.slice(), w, h, 6);
      const thin = thinZhangSuen(filled.slice(), w, h);
      const pruned = pruneSpurs(thin.slice(), w, h, 6);
      for (const offset of [1, 2, 3, 4]) {
        expect(components(placed(m, offset), w, h), `components seed ${seed} offset ${offset}`).toEqual(components(m, w, h));
        expect(fillHoles(placed(m, offset), w, h, 6), `fillHoles seed ${seed} offset ${offset}`).toEqual(filled);
        expect(thinZhangSuen(placed(filled, offset), w, h), `thin seed ${seed} offset ${offset}`).toEqual(thin);
        expect(pruneSpurs(placed(thin, offset), w, h, 6), `prune seed ${seed} offset ${offset}`).toEqual(pruned);
        expect(traceSkeleton(placed(pruned, offset), w, h), `trace seed ${seed} offset ${offset}`).toEqual(traceSkeleton(pruned, w, h));
      }
    }
  });
});

describe('linkPolylines', () => {
  it('links the same pieces as trying every pair of ends', () => {
    // Reference: every pair of ends, costs sorted stably (the implementation it replaced).
    const ref = (pieces: Pt[][]): Pt[][] => {
      const o = { maxGapM: 3, maxAngleRad: 0.2, maxLateralM: 0.35, tangentM: 1.5, minDirectionalM: 0.6 };
      const ends = pieces.flatMap((p, piece) => [0, 1].map((side) => {
        const n = p.length;
        const end = side === 0 ? p[0]! : p[n - 1]!;
        let k = side === 0 ? 0 : n - 1;
        let inner = end;
        while (k + (side === 0 ? 1 : -1) >= 0 && k + (side === 0 ? 1 : -1) < n) {
          k += side === 0 ? 1 : -1;
          inner = p[k]!;
          if (Math.hypot(inner[0] - end[0], inner[1] - end[1]) >= o.tangentM) break;
        }
        const d = Math.hypot(end[0] - inner[0], end[1] - inner[1]);
        let len = 0;
        for (let i = 1; i < n; i++) len += Math.hypot(p[i]![0] - p[i - 1]![0], p[i]![1] - p[i - 1]![1]);
        return { piece, side, x: end[0], y: end[1], dx: d > 0 ? (end[0] - inner[0]) / d : 0, dy: d > 0 ? (end[1] - inner[1]) / d : 0, directional: len >= o.minDirectionalM && d > 0 };
      }));
      const cosMax = Math.cos(o.maxAngleRad);
      const cands: Array<{ a: number; b: number; cost: number }> = [];
      for (let a = 0; a < ends.length; a++) {
        for (let b = a + 1; b < ends.length; b++) {
          const ea = ends[a]!;
          const eb = ends[b]!;
          if (ea.piece === eb.piece) continue;
          const gx = eb.x - ea.x;
          const gy = eb.y - ea.y;
          const d = Math.hypot(gx, gy);
          if (d > o.maxGapM || (!ea.directional && !eb.directional && d > 0.5)) continue;
          if (ea.directional && eb.directional && -(ea.dx * eb.dx + ea.dy * eb.dy) < cosMax) continue;
          let lateral = 0;
          let ok = true;
          for (const [e, sx, sy] of [[ea, gx, gy], [eb, -gx, -gy]] as const) {
            if (!e.directional) continue;
            if (d > 0.5 && (e.dx * sx + e.dy * sy) / d < cosMax) ok = false;
            const lat = Math.abs(e.dx * sy - e.dy * sx);
            if (lat > o.maxLateralM + 0.03 * d) ok = false;
            lateral = Math.max(lateral, lat);
          }
          if (ok) cands.push({ a, b, cost: d + 5 * lateral });
        }
      }
      cands.sort((p, q) => p.cost - q.cost);
      const parent = pieces.map((_, i) => i);
      const find = (i: number): number => (parent[i] === i ? i : (parent[i] = find(parent[i]!)));
      const link = new Array<number>(ends.length).fill(-1);
      for (const c of cands) {
        if (link[c.a] !== -1 || link[c.b] !== -1) continue;
        const ra = find(ends[c.a]!.piece);
        const rb = find(ends[c.b]!.piece);
        if (ra === rb) continue;
        parent[ra] = rb;
        link[c.a] = c.b;
        link[c.b] = c.a;
      }
      const used = new Uint8Array(pieces.length);
      const chains: Pt[][] = [];
      for (let i = 0; i < pieces.length; i++) {
        if (used[i]) continue;
        const startSide = link[2 * i] === -1 ? 0 : link[2 * i + 1] === -1 ? 1 : -1;
        if (startSide < 0) continue;
        const chain: Pt[] = [];
        let piece = i;
        let enter = startSide;
        for (;;) {
          used[piece] = 1;
          const pts = pieces[piece]!;
          chain.push(...(enter === 0 ? pts : [...pts].reverse()));
          const to = link[2 * piece + (enter === 0 ? 1 : 0)]!;
          if (to === -1) break;
          piece = ends[to]!.piece;
          enter = ends[to]!.side;
          if (used[piece]) break;
        }
        chains.push(chain);
      }
      return chains;
    };
    for (let seed = 1; seed <= 60; seed++) {
      const rand = rng(seed);
      const pieces: Pt[][] = [];
      // Dashes along a few lines (linkable), plus random short pieces; coarse coordinates make ties.
      for (let line = 0; line < 3; line++) {
        const y0 = line * 3.5;
        const a = (rand() - 0.5) * 0.1;
        for (let x = 0; x < 30; x += 1 + Math.round(rand() * 4)) {
          const len = 0.5 + Math.round(rand() * 4) / 2;
          pieces.push([[x, y0 + a * x], [x + len / 2, y0 + a * (x + len / 2)], [x + len, y0 + a * (x + len)]]);
        }
      }
      for (let k = 0; k < 15; k++) {
        const x = Math.round(rand() * 60) / 2;
        const y = Math.round(rand() * 20) / 2;
        pieces.push([[x, y], [x + Math.round(rand() * 4) / 2, y + Math.round((rand() - 0.5) * 2) / 2]]);
      }
      expect(linkPolylines(pieces, { maxGapM: 3 }), `seed ${seed}`).toEqual(ref(pieces));
    }
  });
});
