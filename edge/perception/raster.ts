/**
 * Raster helpers for vectorisation on a W x H cell mask (Uint8Array, 1 = set, row-major,
 * index row * W + col): Zhang-Suen thinning, skeleton tracing into cell paths, connected
 * components and a square dilation. Pure, allocation per call (not per cell).
 */

/** Zhang-Suen thinning in place; returns the mask. Border cells are treated as unset. */
export function thinZhangSuen(mask: Uint8Array, w: number, h: number): Uint8Array {
  // Clear the border so the 8-neighbourhood is always inside.
  for (let c = 0; c < w; c++) {
    mask[c] = 0;
    mask[(h - 1) * w + c] = 0;
  }
  for (let r = 0; r < h; r++) {
    mask[r * w] = 0;
    mask[r * w + w - 1] = 0;
  }
  let live: number[] = [];
  for (let i = 0; i < mask.length; i++) if (mask[i]) live.push(i);
  const del: number[] = [];
  let changed = true;
  while (changed) {
    changed = false;
    for (let step = 0; step < 2; step++) {
      del.length = 0;
      for (const i of live) {
        if (!mask[i]) continue;
        const p2 = mask[i - w]!;
        const p3 = mask[i - w + 1]!;
        const p4 = mask[i + 1]!;
        const p5 = mask[i + w + 1]!;
        const p6 = mask[i + w]!;
        const p7 = mask[i + w - 1]!;
        const p8 = mask[i - 1]!;
        const p9 = mask[i - w - 1]!;
        const b = p2 + p3 + p4 + p5 + p6 + p7 + p8 + p9;
        if (b < 2 || b > 6) continue;
        const a = (p2 === 0 && p3 === 1 ? 1 : 0) + (p3 === 0 && p4 === 1 ? 1 : 0) + (p4 === 0 && p5 === 1 ? 1 : 0) + (p5 === 0 && p6 === 1 ? 1 : 0) +
          (p6 === 0 && p7 === 1 ? 1 : 0) + (p7 === 0 && p8 === 1 ? 1 : 0) + (p8 === 0 && p9 === 1 ? 1 : 0) + (p9 === 0 && p2 === 1 ? 1 : 0);
        if (a !== 1) continue;
        if (step === 0 ? p2 * p4 * p6 === 0 && p4 * p6 * p8 === 0 : p2 * p4 * p8 === 0 && p2 * p6 * p8 === 0) del.push(i);
      }
      for (const i of del) mask[i] = 0;
      if (del.length > 0) changed = true;
    }
    if (changed) live = live.filter((i) => mask[i] === 1);
  }
  return mask;
}

// 8-neighbour offsets in circular order (N, NE, E, SE, S, SW, W, NW) as [dc, dr].
const RING: ReadonlyArray<readonly [number, number]> = [
  [0, -1], [1, -1], [1, 0], [1, 1], [0, 1], [-1, 1], [-1, 0], [-1, -1],
];
// Walk preference: 4-neighbours first, so staircases are followed cell by cell.
const WALK_ORDER = [0, 2, 4, 6, 1, 3, 5, 7];

/** Number of runs of set cells around (c, r) in circular order (1 = an end of a line). */
function crossingNumber(mask: Uint8Array, w: number, h: number, c: number, r: number): number {
  let runs = 0;
  let prev = at(mask, w, h, c + RING[7]![0], r + RING[7]![1]);
  for (let k = 0; k < 8; k++) {
    const cur = at(mask, w, h, c + RING[k]![0], r + RING[k]![1]);
    if (cur && !prev) runs++;
    prev = cur;
  }
  // A closed ring of 8 set neighbours has no 0 -> 1 transition.
  return runs;
}

/**
 * Trace a skeleton into paths of cell indices: starting at line ends (crossing number 1), then
 * whatever is left (closed loops). Each cell belongs to one path; a path stops where it has no
 * unvisited neighbour, so at a junction the branches become separate paths (linked later).
 */
export function traceSkeleton(mask: Uint8Array, w: number, h: number): number[][] {
  const visited = new Uint8Array(mask.length);
  const paths: number[][] = [];
  const walk = (start: number): void => {
    const path = [start];
    visited[start] = 1;
    let cur = start;
    for (;;) {
      const c = cur % w;
      const r = (cur - c) / w;
      let next = -1;
      for (const k of WALK_ORDER) {
        const nc = c + RING[k]![0];
        const nr = r + RING[k]![1];
        if (nc < 0 || nr < 0 || nc >= w || nr >= h) continue;
        const j = nr * w + nc;
        if (mask[j] && !visited[j]) {
          next = j;
          break;
        }
      }
      if (next < 0) break;
      visited[next] = 1;
      path.push(next);
      cur = next;
    }
    paths.push(path);
  };
  for (let i = 0; i < mask.length; i++) {
    if (!mask[i] || visited[i]) continue;
    const c = i % w;
    if (crossingNumber(mask, w, h, c, (i - c) / w) <= 1) walk(i);
  }
  for (let i = 0; i < mask.length; i++) if (mask[i] && !visited[i]) walk(i);
  return paths;
}

/** 8-connected components of a mask; returns the cell indices of each component. */
export function components(mask: Uint8Array, w: number, h: number): number[][] {
  const label = new Uint8Array(mask.length);
  const out: number[][] = [];
  const queue = new Int32Array(mask.length);
  for (let s = 0; s < mask.length; s++) {
    if (!mask[s] || label[s]) continue;
    let head = 0;
    let tail = 0;
    queue[tail++] = s;
    label[s] = 1;
    const cells: number[] = [];
    while (head < tail) {
      const i = queue[head++]!;
      cells.push(i);
      const c = i % w;
      const r = (i - c) / w;
      for (let k = 0; k < 8; k++) {
        const nc = c + RING[k]![0];
        const nr = r + RING[k]![1];
        if (nc < 0 || nr < 0 || nc >= w || nr >= h) continue;
        const j = nr * w + nc;
        if (mask[j] && !label[j]) {
          label[j] = 1;
          queue[tail++] = j;
        }
      }
    }
    out.push(cells);
  }
  return out;
}

/** Square dilation by `radius` cells (separable max filter); returns a new mask. */
export function dilate(mask: Uint8Array, w: number, h: number, radius: number): Uint8Array {
  if (radius <= 0) return mask.slice();
  const tmp = new Uint8Array(mask.length);
  const out = new Uint8Array(mask.length);
  for (let r = 0; r < h; r++) {
    let next = 0; // first column not yet set in this row of tmp
    for (let c = 0; c < w; c++) {
      if (!mask[r * w + c]) continue;
      const hi = Math.min(w - 1, c + radius);
      for (let d = Math.max(next, c - radius); d <= hi; d++) tmp[r * w + d] = 1;
      next = hi + 1;
    }
  }
  for (let c = 0; c < w; c++) {
    let next = 0;
    for (let r = 0; r < h; r++) {
      if (!tmp[r * w + c]) continue;
      const hi = Math.min(h - 1, r + radius);
      for (let d = Math.max(next, r - radius); d <= hi; d++) out[d * w + c] = 1;
      next = hi + 1;
    }
  }
  return out;
}

function at(mask: Uint8Array, w: number, h: number, c: number, r: number): number {
  return c < 0 || r < 0 || c >= w || r >= h ? 0 : mask[r * w + c]!;
}

/** Fill holes (unset regions not touching the border) of at most `maxCells` cells, in place. */
export function fillHoles(mask: Uint8Array, w: number, h: number, maxCells: number): Uint8Array {
  const inv = new Uint8Array(mask.length);
  for (let i = 0; i < mask.length; i++) inv[i] = mask[i] ? 0 : 1;
  for (const comp of components(inv, w, h)) {
    if (comp.length > maxCells) continue;
    let border = false;
    for (const i of comp) {
      const c = i % w;
      const r = (i - c) / w;
      if (c === 0 || r === 0 || c === w - 1 || r === h - 1) {
        border = true;
        break;
      }
    }
    if (!border) for (const i of comp) mask[i] = 1;
  }
  return mask;
}

/**
 * Remove skeleton spurs: branches from a line end to a junction shorter than `maxCells` cells
 * (the junction stays). In place; one pass (spurs of spurs are rare at these sizes).
 */
export function pruneSpurs(skel: Uint8Array, w: number, h: number, maxCells: number): Uint8Array {
  const ends: number[] = [];
  for (let i = 0; i < skel.length; i++) {
    if (!skel[i]) continue;
    const c = i % w;
    if (crossingNumber(skel, w, h, c, (i - c) / w) === 1) ends.push(i);
  }
  for (const start of ends) {
    const branch = [start];
    const seen = new Set<number>(branch);
    let cur = start;
    let junction = false;
    while (branch.length <= maxCells) {
      const c = cur % w;
      const r = (cur - c) / w;
      const next: number[] = [];
      for (const k of WALK_ORDER) {
        const nc = c + RING[k]![0];
        const nr = r + RING[k]![1];
        if (nc < 0 || nr < 0 || nc >= w || nr >= h) continue;
        const j = nr * w + nc;
        if (skel[j] && !seen.has(j)) next.push(j);
      }
      if (next.length === 0) break;
      const n0 = next[0]!;
      const nc0 = n0 % w;
      if (crossingNumber(skel, w, h, nc0, (n0 - nc0) / w) >= 3) {
        junction = true;
        break;
      }
      // Staircase cells: the 4-neighbour first; its diagonal twin is part of the same line.
      for (const j of next) seen.add(j);
      branch.push(n0);
      cur = n0;
    }
    if (junction && branch.length < maxCells) for (const i of branch) skel[i] = 0;
  }
  return skel;
}
