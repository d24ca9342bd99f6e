/**
 * Raster helpers for vectorisation on a W x H cell mask (Uint8Array, 1 = set, row-major,
 * index row * W + col): Zhang-Suen thinning, skeleton tracing into cell paths, connected
 * components, hole filling, spur pruning and a square dilation.
 *
 * Hot paths for noisy model output (thousands of small blobs and spurs per chunk): no allocation
 * per cell (scratch typed arrays grown on demand and reused across calls), the 8-neighbourhood
 * read as one byte (bit k = neighbour k of RING) and classified by lookup tables, no closures.
 * Scratch buffers are module state: these functions are not re-entrant (one call at a time, which
 * single-threaded JavaScript guarantees).
 */

// 8-neighbour offsets in circular order (N, NE, E, SE, S, SW, W, NW) as [dc, dr].
const RING: ReadonlyArray<readonly [number, number]> = [
  [0, -1], [1, -1], [1, 0], [1, 1], [0, 1], [-1, 1], [-1, 0], [-1, -1],
];
const RING_DC = Int32Array.from(RING, (d) => d[0]!);
const RING_DR = Int32Array.from(RING, (d) => d[1]!);
// Walk preference: 4-neighbours first, so staircases are followed cell by cell.
const WALK_ORDER = Int32Array.from([0, 2, 4, 6, 1, 3, 5, 7]);

/** Per 8-neighbour code (bit k = RING[k] set): number of 0 -> 1 transitions in circular order. */
const CROSSING = new Uint8Array(256);
/** Per code: Zhang-Suen deletable in sub-iteration 0 (bit 0) / 1 (bit 1). */
const ZS_DELETE = new Uint8Array(256);
for (let code = 0; code < 256; code++) {
  const b = (k: number): number => (code >> k) & 1;
  let runs = 0;
  let prev = b(7);
  for (let k = 0; k < 8; k++) {
    const cur = b(k);
    if (cur && !prev) runs++;
    prev = cur;
  }
  CROSSING[code] = runs;
  // Zhang-Suen names: p2 = N, p3 = NE, p4 = E, p5 = SE, p6 = S, p7 = SW, p8 = W, p9 = NW.
  const [p2, p3, p4, p5, p6, p7, p8, p9] = [b(0), b(1), b(2), b(3), b(4), b(5), b(6), b(7)];
  const count = p2 + p3 + p4 + p5 + p6 + p7 + p8 + p9;
  if (count < 2 || count > 6 || runs !== 1) continue;
  ZS_DELETE[code] = (p2 * p4 * p6 === 0 && p4 * p6 * p8 === 0 ? 1 : 0) | (p2 * p4 * p8 === 0 && p2 * p6 * p8 === 0 ? 2 : 0);
}

// Scratch buffers, grown on demand.
let scratchI32a = new Int32Array(0);
let scratchI32b = new Int32Array(0);
let scratchU8 = new Uint8Array(0);
let stamp = new Int32Array(0);
let stampGen = 0;

function i32a(n: number): Int32Array {
  if (scratchI32a.length < n) scratchI32a = new Int32Array(Math.max(n, scratchI32a.length * 2));
  return scratchI32a;
}
function i32b(n: number): Int32Array {
  if (scratchI32b.length < n) scratchI32b = new Int32Array(Math.max(n, scratchI32b.length * 2));
  return scratchI32b;
}
/** A zeroed Uint8Array scratch of at least n entries. */
function u8zero(n: number): Uint8Array {
  if (scratchU8.length < n) scratchU8 = new Uint8Array(Math.max(n, scratchU8.length * 2));
  else scratchU8.fill(0, 0, n);
  return scratchU8;
}
/** A fresh generation of the stamp array (entries !== the returned value are "unseen"). */
function newStamp(n: number): number {
  if (stamp.length < n) {
    stamp = new Int32Array(Math.max(n, stamp.length * 2));
    stampGen = 0;
  }
  if (stampGen >= 0x7ffffff0) {
    stamp.fill(0);
    stampGen = 0;
  }
  return ++stampGen;
}

/**
 * A 32-bit view of `mask`'s whole words (entry k = cells 4k .. 4k + 3), or undefined when the
 * mask is not 4-byte aligned in its buffer: scans of sparse masks skip empty words (see skipEmpty).
 */
function wordsOf(mask: Uint8Array): Int32Array | undefined {
  return (mask.byteOffset & 3) === 0 ? new Int32Array(mask.buffer, mask.byteOffset, mask.length >> 2) : undefined;
}

/**
 * The first index >= i worth visiting in a scan for set cells: i itself unless i starts a word of
 * `words` that is empty, then the start of the next non-empty word (or of the cells past the
 * whole words). Scans visit the same set cells in the same order, four unset cells per test.
 */
function skipEmpty(words: Int32Array | undefined, i: number): number {
  if (words === undefined || (i & 3) !== 0) return i;
  let k = i >> 2;
  while (k < words.length && words[k] === 0) k++;
  return k << 2 > i ? k << 2 : i;
}

/** The 8-neighbour code of cell (c, r) (bit k = RING[k] set; outside the grid counts as unset). */
function neighbourCode(mask: Uint8Array, w: number, h: number, c: number, r: number): number {
  const i = r * w + c;
  if (c > 0 && r > 0 && c < w - 1 && r < h - 1) {
    return (
      (mask[i - w]! ? 1 : 0) | (mask[i - w + 1]! ? 2 : 0) | (mask[i + 1]! ? 4 : 0) | (mask[i + w + 1]! ? 8 : 0) |
      (mask[i + w]! ? 16 : 0) | (mask[i + w - 1]! ? 32 : 0) | (mask[i - 1]! ? 64 : 0) | (mask[i - w - 1]! ? 128 : 0)
    );
  }
  let code = 0;
  for (let k = 0; k < 8; k++) {
    const nc = c + RING_DC[k]!;
    const nr = r + RING_DR[k]!;
    if (nc >= 0 && nr >= 0 && nc < w && nr < h && mask[nr * w + nc]) code |= 1 << k;
  }
  return code;
}

/** Number of runs of set cells around (c, r) in circular order (1 = an end of a line). */
function crossingNumber(mask: Uint8Array, w: number, h: number, c: number, r: number): number {
  return CROSSING[neighbourCode(mask, w, h, c, r)]!;
}

let scratchI32c = new Int32Array(0);
let scratchI32d = new Int32Array(0);
const ringOff = new Int32Array(8);

/**
 * Zhang-Suen thinning in place; returns the mask. Border cells are treated as unset.
 *
 * Whether a cell is deleted in a sub-iteration depends only on its 8-neighbourhood, so a cell is
 * re-examined (per sub-iteration kind) only when a neighbour was deleted since it was last
 * examined: the same result as examining every set cell each time, in time proportional to the
 * cells that change.
 */
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
  const n = mask.length;
  const words = wordsOf(mask);
  // Pending cells per sub-iteration kind (flag bit 1 / 2 marks membership; a cell is in each list
  // at most once), the list being examined and the deletions. At first: every set cell.
  const p0 = i32a(n);
  const p1 = i32b(n);
  const flags = u8zero(n);
  let n0 = 0;
  for (let i = skipEmpty(words, 0); i < n; i = skipEmpty(words, i + 1)) {
    if (!mask[i]) continue;
    p0[n0] = i;
    p1[n0++] = i;
    flags[i] = 3;
  }
  const live = n0;
  if (live === 0) return mask;
  if (scratchI32c.length < live) scratchI32c = new Int32Array(Math.max(live, scratchI32c.length * 2));
  if (scratchI32d.length < live) scratchI32d = new Int32Array(Math.max(live, scratchI32d.length * 2));
  const work = scratchI32c;
  const del = scratchI32d;
  // Index offset of each RING neighbour on this grid.
  for (let k = 0; k < 8; k++) ringOff[k] = RING_DR[k]! * w + RING_DC[k]!;
  let n1 = n0;
  let changed = true;
  while (changed) {
    changed = false;
    for (let step = 0; step < 2; step++) {
      const bit = step === 0 ? 1 : 2;
      let cnt: number;
      if (step === 0) {
        work.set(p0.subarray(0, n0));
        cnt = n0;
        n0 = 0;
      } else {
        work.set(p1.subarray(0, n1));
        cnt = n1;
        n1 = 0;
      }
      let nd = 0;
      for (let j = 0; j < cnt; j++) {
        const i = work[j]!;
        flags[i] = flags[i]! & ~bit;
        if (!mask[i]) continue;
        const code =
          mask[i - w]! | (mask[i - w + 1]! << 1) | (mask[i + 1]! << 2) | (mask[i + w + 1]! << 3) |
          (mask[i + w]! << 4) | (mask[i + w - 1]! << 5) | (mask[i - 1]! << 6) | (mask[i - w - 1]! << 7);
        if (ZS_DELETE[code]! & bit) del[nd++] = i;
      }
      for (let d = 0; d < nd; d++) mask[del[d]!] = 0;
      for (let d = 0; d < nd; d++) {
        const i = del[d]!;
        for (let k = 0; k < 8; k++) {
          const j = i + ringOff[k]!;
          if (!mask[j]) continue;
          const f = flags[j]!;
          if (!(f & 1)) p0[n0++] = j;
          if (!(f & 2)) p1[n1++] = j;
          flags[j] = 3;
        }
      }
      if (nd > 0) changed = true;
    }
  }
  return mask;
}

/**
 * Trace a skeleton into paths of cell indices: starting at line ends (crossing number 1), then
 * whatever is left (closed loops). Each cell belongs to one path; a path stops where it has no
 * unvisited neighbour, so at a junction the branches become separate paths (linked later).
 */
export function traceSkeleton(mask: Uint8Array, w: number, h: number): number[][] {
  const f = traceSkeletonFlat(mask, w, h);
  const out: number[][] = [];
  for (let k = 0; k < f.count; k++) out.push(Array.from(f.cells.subarray(f.start[k]!, f.start[k + 1]!)));
  return out;
}

/** Paths as traced by `traceSkeleton`, flat: path k is cells[start[k] .. start[k + 1]). Scratch arrays, valid until the next call. */
export interface Paths {
  count: number;
  start: Int32Array;
  cells: Int32Array;
}

let pathStart = new Int32Array(64);
let pathCells = new Int32Array(0);

export function traceSkeletonFlat(mask: Uint8Array, w: number, h: number): Paths {
  const n = mask.length;
  const visited = u8zero(n);
  if (pathCells.length < n) pathCells = new Int32Array(Math.max(n, pathCells.length * 2));
  const cells = pathCells;
  let count = 0;
  let tail = 0;
  const words = wordsOf(mask);
  for (let pass = 0; pass < 2; pass++) {
    for (let i = skipEmpty(words, 0); i < n; i = skipEmpty(words, i + 1)) {
      if (!mask[i] || visited[i]) continue;
      if (pass === 0) {
        const c = i % w;
        if (CROSSING[neighbourCode(mask, w, h, c, (i - c) / w)]! > 1) continue;
      }
      // Walk from i.
      if (count + 2 > pathStart.length) {
        const grown = new Int32Array(pathStart.length * 2);
        grown.set(pathStart);
        pathStart = grown;
      }
      pathStart[count++] = tail;
      cells[tail++] = i;
      visited[i] = 1;
      let cur = i;
      for (;;) {
        const cc = cur % w;
        const r = (cur - cc) / w;
        let next = -1;
        if (cc > 0 && r > 0 && cc < w - 1 && r < h - 1) {
          // Interior: WALK_ORDER = N, E, S, W, NE, SE, SW, NW.
          let j = cur - w;
          if (mask[j] && !visited[j]) next = j;
          else if (mask[(j = cur + 1)] && !visited[j]) next = j;
          else if (mask[(j = cur + w)] && !visited[j]) next = j;
          else if (mask[(j = cur - 1)] && !visited[j]) next = j;
          else if (mask[(j = cur - w + 1)] && !visited[j]) next = j;
          else if (mask[(j = cur + w + 1)] && !visited[j]) next = j;
          else if (mask[(j = cur + w - 1)] && !visited[j]) next = j;
          else if (mask[(j = cur - w - 1)] && !visited[j]) next = j;
        } else {
          for (let q = 0; q < 8; q++) {
            const k = WALK_ORDER[q]!;
            const nc = cc + RING_DC[k]!;
            const nr = r + RING_DR[k]!;
            if (nc < 0 || nr < 0 || nc >= w || nr >= h) continue;
            const j = nr * w + nc;
            if (mask[j] && !visited[j]) {
              next = j;
              break;
            }
          }
        }
        if (next < 0) break;
        visited[next] = 1;
        cells[tail++] = next;
        cur = next;
      }
    }
  }
  pathStart[count] = tail;
  return { count, start: pathStart, cells };
}

/**
 * 8-connected components of a mask, in scan order of their first cell; each component's cells
 * in breadth-first order. Returned flat: component k is cells[start[k] .. start[k + 1]). The
 * arrays are scratch, valid until the next call of a function of this module.
 */
export interface Components {
  count: number;
  start: Int32Array;
  cells: Int32Array;
}

let compStart = new Int32Array(0);

export function componentsFlat(mask: Uint8Array, w: number, h: number): Components {
  const n = mask.length;
  const label = u8zero(n);
  const cells = i32a(n);
  let count = 0;
  let tail = 0;
  const starts: number[] = [];
  const words = wordsOf(mask);
  for (let s = skipEmpty(words, 0); s < n; s = skipEmpty(words, s + 1)) {
    if (!mask[s] || label[s]) continue;
    starts.push(tail);
    count++;
    let head = tail;
    cells[tail++] = s;
    label[s] = 1;
    while (head < tail) {
      const i = cells[head++]!;
      const c = i % w;
      const r = (i - c) / w;
      if (c > 0 && r > 0 && c < w - 1 && r < h - 1) {
        // RING order: N, NE, E, SE, S, SW, W, NW.
        let j = i - w;
        if (mask[j] && !label[j]) { label[j] = 1; cells[tail++] = j; }
        j = i - w + 1;
        if (mask[j] && !label[j]) { label[j] = 1; cells[tail++] = j; }
        j = i + 1;
        if (mask[j] && !label[j]) { label[j] = 1; cells[tail++] = j; }
        j = i + w + 1;
        if (mask[j] && !label[j]) { label[j] = 1; cells[tail++] = j; }
        j = i + w;
        if (mask[j] && !label[j]) { label[j] = 1; cells[tail++] = j; }
        j = i + w - 1;
        if (mask[j] && !label[j]) { label[j] = 1; cells[tail++] = j; }
        j = i - 1;
        if (mask[j] && !label[j]) { label[j] = 1; cells[tail++] = j; }
        j = i - w - 1;
        if (mask[j] && !label[j]) { label[j] = 1; cells[tail++] = j; }
      } else {
        for (let k = 0; k < 8; k++) {
          const nc = c + RING_DC[k]!;
          const nr = r + RING_DR[k]!;
          if (nc < 0 || nr < 0 || nc >= w || nr >= h) continue;
          const j = nr * w + nc;
          if (mask[j] && !label[j]) {
            label[j] = 1;
            cells[tail++] = j;
          }
        }
      }
    }
  }
  if (compStart.length < count + 1) compStart = new Int32Array(Math.max(count + 1, compStart.length * 2));
  for (let k = 0; k < count; k++) compStart[k] = starts[k]!;
  compStart[count] = tail;
  return { count, start: compStart, cells };
}

/** 8-connected components of a mask; returns the cell indices of each component. */
export function components(mask: Uint8Array, w: number, h: number): number[][] {
  const f = componentsFlat(mask, w, h);
  const out: number[][] = [];
  for (let k = 0; k < f.count; k++) out.push(Array.from(f.cells.subarray(f.start[k]!, f.start[k + 1]!)));
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

// Runs of unset cells for fillHoles: row, first column, end column (exclusive); union-find.
let runRow = new Int32Array(0);
let runC0 = new Int32Array(0);
let runC1 = new Int32Array(0);
let runParent = new Int32Array(0);
let runSize = new Int32Array(0);

function runRoot(i: number): number {
  while (runParent[i] !== i) {
    const p = runParent[runParent[i]!]!;
    runParent[i] = p;
    i = p;
  }
  return i;
}

/**
 * Fill holes (unset 8-connected regions not touching the border) of at most `maxCells` cells, in
 * place. The unset cells are taken as horizontal runs, joined by union-find where runs of
 * neighbouring rows touch (8-connected: overlapping or diagonally adjacent), so the cost is a scan
 * of the mask plus work per run, not per cell.
 */
export function fillHoles(mask: Uint8Array, w: number, h: number, maxCells: number): Uint8Array {
  // Runs, row by row.
  const words = wordsOf(mask);
  let runs = 0;
  const rowStart = i32a(h + 1);
  for (let r = 0; r < h; r++) {
    rowStart[r] = runs;
    const row = r * w;
    let c = 0;
    while (c < w) {
      while (c < w && mask[row + c]) c++;
      if (c >= w) break;
      const c0 = c;
      while (c < w && !mask[row + c]) {
        c++;
        // Whole empty words of the run at once.
        if (words !== undefined && ((row + c) & 3) === 0) while (c + 4 <= w && words[(row + c) >> 2] === 0) c += 4;
      }
      if (runs >= runRow.length) growRuns(runs + 1);
      runRow[runs] = r;
      runC0[runs] = c0;
      runC1[runs] = c;
      runParent[runs] = runs;
      // Size, or -1 once the region touches the border.
      runSize[runs] = r === 0 || r === h - 1 || c0 === 0 || c === w ? -1 : c - c0;
      runs++;
    }
  }
  rowStart[h] = runs;
  if (runs === 0) return mask;
  // Join runs of consecutive rows that touch.
  for (let r = 1; r < h; r++) {
    let a = rowStart[r - 1]!;
    const aEnd = rowStart[r]!;
    let b = rowStart[r]!;
    const bEnd = rowStart[r + 1]!;
    while (a < aEnd && b < bEnd) {
      // 8-connected: [a0, a1) and [b0, b1) touch when a0 <= b1 and b0 <= a1.
      if (runC0[a]! <= runC1[b]! && runC0[b]! <= runC1[a]!) {
        const ra = runRoot(a);
        const rb = runRoot(b);
        if (ra !== rb) {
          const sa = runSize[ra]!;
          const sb = runSize[rb]!;
          runParent[ra] = rb;
          runSize[rb] = sa < 0 || sb < 0 ? -1 : sa + sb;
        }
      }
      if (runC1[a]! < runC1[b]!) a++;
      else b++;
    }
  }
  for (let k = 0; k < runs; k++) {
    const s = runSize[runRoot(k)]!;
    if (s >= 0 && s <= maxCells) mask.fill(1, runRow[k]! * w + runC0[k]!, runRow[k]! * w + runC1[k]!);
  }
  return mask;
}

function growRuns(n: number): void {
  const m = Math.max(n, runRow.length * 2, 1024);
  const grow = (a: Int32Array<ArrayBuffer>): Int32Array<ArrayBuffer> => {
    const b = new Int32Array(m);
    b.set(a);
    return b;
  };
  runRow = grow(runRow);
  runC0 = grow(runC0);
  runC1 = grow(runC1);
  runParent = grow(runParent);
  runSize = grow(runSize);
}

/**
 * Remove skeleton spurs: branches from a line end to a junction shorter than `maxCells` cells
 * (the junction stays). In place; one pass (spurs of spurs are rare at these sizes).
 */
export function pruneSpurs(skel: Uint8Array, w: number, h: number, maxCells: number): Uint8Array {
  const n = skel.length;
  // Line ends in scan order, in one pass (at most one per cell).
  const ends = i32a(n);
  let nEnds = 0;
  const words = wordsOf(skel);
  for (let i = skipEmpty(words, 0); i < n; i = skipEmpty(words, i + 1)) {
    if (!skel[i]) continue;
    const c = i % w;
    if (crossingNumber(skel, w, h, c, (i - c) / w) === 1) ends[nEnds++] = i;
  }
  const branch = i32b(maxCells + 2);
  const next = new Int32Array(8);
  for (let e = 0; e < nEnds; e++) {
    const start = ends[e]!;
    const gen = newStamp(n);
    let len = 0;
    branch[len++] = start;
    stamp[start] = gen;
    let cur = start;
    let junction = false;
    while (len <= maxCells) {
      const c = cur % w;
      const r = (cur - c) / w;
      let nn = 0;
      for (let q = 0; q < 8; q++) {
        const k = WALK_ORDER[q]!;
        const nc = c + RING_DC[k]!;
        const nr = r + RING_DR[k]!;
        if (nc < 0 || nr < 0 || nc >= w || nr >= h) continue;
        const j = nr * w + nc;
        if (skel[j] && stamp[j] !== gen) next[nn++] = j;
      }
      if (nn === 0) break;
      const n0 = next[0]!;
      const nc0 = n0 % w;
      if (crossingNumber(skel, w, h, nc0, (n0 - nc0) / w) >= 3) {
        junction = true;
        break;
      }
      // Staircase cells: the 4-neighbour first; its diagonal twin is part of the same line.
      for (let q = 0; q < nn; q++) stamp[next[q]!] = gen;
      branch[len++] = n0;
      cur = n0;
    }
    if (junction && len < maxCells) for (let q = 0; q < len; q++) skel[branch[q]!] = 0;
  }
  return skel;
}
