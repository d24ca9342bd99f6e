/**
 * Clustering of point primitives (signs, lights) and polygon primitives (crosswalks), after
 * alignment. Positions are metres in the job tile's frame.
 *
 * Points: cores greedy from the most confident observation, members within half pointRadiusM of
 * the core's coordinate-wise median (re-centred 3 times); cores within pointRadiusM are one place
 * unless the same passes saw both (joinCores: two posts 1.5 m apart); a place lies at the median
 * of its passes' medians (passMedian). Two sign codes at one place are two signs when the drives
 * that saw the minor code mostly saw the major one too (one pole, two plates); otherwise the minor
 * code is a misreading and is outvoted.
 *
 * Polygons: greedy from the most typical view (the largest summed strong overlap, IoU >= 0.5,
 * with the views around it: a full view of one crosswalk, not a view that ran two neighbouring crosswalks
 * together nor a fragment), members by overlap and orientation. When every member is a rectangle
 * (what the camera path uploads: a crosswalk's stripes' extent) the consensus is one rectangle on
 * the seed's axis from the members no larger than 1.5x the seed (medianRectangle: its ends along
 * the long axis where the views that reach farthest end, outerEnd; its sides at their median);
 * otherwise the per-vertex median of the
 * nearly-full-size members that share the most common vertex count, after rotating each ring's
 * vertex order onto a reference ring (the medoid); else the medoid. A cluster whose shape lies
 * mostly (half its area or more) inside an earlier one's is not a second crosswalk: its members
 * join the earlier one.
 */
import { PointGrid, cellKey, identityOrder, stableOrderByKey } from './grid.ts';
import { hypot, medianInPlace, quantileOfSorted } from './polyline.ts';

export interface PointCluster {
  x: number;
  y: number;
  /** Observation indices. */
  members: number[];
  signCode: string;
}

export function clusterPoints(
  obs: readonly number[],
  x: Float64Array,
  y: Float64Array,
  score: Float32Array,
  drive: Int32Array,
  signCode: readonly string[],
  radiusM: number,
  pass: Int32Array = drive,
): PointCluster[] {
  const out: PointCluster[] = [];
  for (const members of joinCores(greedyPointClusters(obs, x, y, score, radiusM / 2), drive, pass, radiusM)) {
    const code0 = signCode[members[0]!];
    let oneCode = true;
    for (let j = 1; j < members.length && oneCode; j++) oneCode = signCode[members[j]!] === code0;
    if (oneCode) {
      const [cx, cy] = passMedian(members, x, y, pass);
      out.push({ x: cx, y: cy, members, signCode: code0! });
    } else for (const c of splitByCode(members, x, y, drive, pass, signCode)) out.push(c);
  }
  return out;
}

/**
 * A place's position: the coordinate-wise median over its passes of each pass's median, one vote
 * per pass (a drive that looped past a sign three times, or whose daemon saw it in many chunks,
 * does not outweigh the others; the passes' pose errors are what the median averages out).
 */
function passMedian(members: readonly number[], x: Float64Array, y: Float64Array, pass: Int32Array): [number, number] {
  const n = members.length;
  const b = passMedianScratch(n);
  // Members grouped by pass: keys pass * 2^22 + position sort numerically, exactly (pass ids
  // are int32 >= 0, joinCores checked, and positions < 2^22 keep the keys below 2^53).
  if (n >= 2 ** 22) throw new RangeError(`passMedian: ${n} observations in one place (at most 2^22)`);
  const key = b.key.subarray(0, n);
  for (let j = 0; j < n; j++) key[j] = pass[members[j]!]! * 2 ** 22 + j;
  key.sort();
  const order = b.order;
  for (let j = 0; j < n; j++) order[j] = members[key[j]! % 2 ** 22]!;
  const { gx, gy, mx, my } = b;
  let k = 0;
  for (let s = 0; s < n; ) {
    let e = s;
    while (e < n && pass[order[e]!] === pass[order[s]!]) e++;
    for (let j = s; j < e; j++) {
      gx[j - s] = x[order[j]!]!;
      gy[j - s] = y[order[j]!]!;
    }
    mx[k] = medianInPlace(gx, e - s);
    my[k] = medianInPlace(gy, e - s);
    k++;
    s = e;
  }
  return [medianInPlace(mx, k), medianInPlace(my, k)];
}

/** passMedian's buffers, grown to n entries and reused (one merge job runs on one thread). */
let passMedianBuffers = { key: new Float64Array(0), order: new Int32Array(0), gx: new Float64Array(0), gy: new Float64Array(0), mx: new Float64Array(0), my: new Float64Array(0) };
function passMedianScratch(n: number): typeof passMedianBuffers {
  if (passMedianBuffers.key.length < n) {
    const m = Math.max(64, 2 * n);
    passMedianBuffers = { key: new Float64Array(m), order: new Int32Array(m), gx: new Float64Array(m), gy: new Float64Array(m), mx: new Float64Array(m), my: new Float64Array(m) };
  }
  return passMedianBuffers;
}

/**
 * Makes ids (>= 0) small enough to index a stamp array: left as they are when the largest is
 * at most 4 x n + 1024 (the merge's dense indices), else renumbered in place in order of first
 * appearance. Returns the largest id.
 */
function denseIds(ids: Int32Array, n: number): number {
  let max = 0;
  for (let k = 0; k < n; k++) {
    if (ids[k]! < 0) throw new RangeError(`clusterPoints: drive and pass ids must be indices >= 0, got ${ids[k]}`);
    if (ids[k]! > max) max = ids[k]!;
  }
  if (max <= 4 * n + 1024) return max;
  const renumbered = new Map<number, number>();
  for (let k = 0; k < n; k++) {
    let v = renumbered.get(ids[k]!);
    if (v === undefined) renumbered.set(ids[k]!, (v = renumbered.size));
    ids[k] = v;
  }
  return renumbered.size - 1;
}

/**
 * Cores (greedy clusters of half the radius) joined into one place when their centres lie within
 * `radiusM` of the place's first core, unless the same passes saw both (`pass`: a stretch of one
 * drive under one pose correction, the merge's alignment segment): two posts 1.5 m apart (a
 * roundabout entry's signs) are two signs when most passes that saw the smaller core saw the
 * other as well, while the stragglers of one sign (passes whose poses are off by a metre) were
 * not seen there on the same pass. Cores are taken largest first (most drives, then most
 * members, then the greedy order); each place's members are the observation indices of its cores.
 */
function joinCores(cores: ReadonlyArray<{ x: number; y: number; members: number[] }>, drive: Int32Array, pass: Int32Array, radiusM: number): number[][] {
  const nc = cores.length;
  // Distinct drives and passes of each core, by stamping their ids; the passes of core k are
  // passFlat[passStart[k] .. passStart[k + 1]) (ids only compared for equality).
  let total = 0;
  for (const c of cores) total += c.members.length;
  const driveOf = new Int32Array(total);
  const passOf = new Int32Array(total);
  let m = 0;
  for (const c of cores) {
    for (const i of c.members) {
      driveOf[m] = drive[i]!;
      passOf[m++] = pass[i]!;
    }
  }
  const driveStamp = new Int32Array(denseIds(driveOf, total) + 1).fill(-1);
  const passStamp = new Int32Array(denseIds(passOf, total) + 1).fill(-1);
  const drives = new Uint32Array(nc);
  const passFlat = new Int32Array(total);
  const passStart = new Int32Array(nc + 1);
  m = 0;
  for (let k = 0; k < nc; k++) {
    let np = passStart[k]!;
    let nd = 0;
    for (let e = m + cores[k]!.members.length; m < e; m++) {
      const d = driveOf[m]!;
      if (driveStamp[d] !== k) {
        driveStamp[d] = k;
        nd++;
      }
      const v = passOf[m]!;
      if (passStamp[v] !== k) {
        passStamp[v] = k;
        passFlat[np++] = v;
      }
    }
    drives[k] = nd;
    passStart[k + 1] = np;
  }
  // Most drives first, then most members, then the greedy order (radix passes are stable).
  const sizes = new Uint32Array(nc);
  for (let k = 0; k < nc; k++) sizes[k] = cores[k]!.members.length;
  const order = stableOrderByKey(drives, stableOrderByKey(sizes, identityOrder(nc), true), true);
  type Place = { x: number; y: number; members: number[]; passes: Set<number> };
  const places: Place[] = [];
  // Places by grid cell of side radiusM: a core looks in its cell and the 8 around it.
  const buckets = new Map<number, Place[]>();
  const cellOf = (v: number): number => Math.floor(v / radiusM);
  for (const k of order) {
    const c = cores[k]!;
    const p0 = passStart[k]!;
    const p1 = passStart[k + 1]!;
    const needBoth = Math.max(2, (p1 - p0) / 2);
    let best: Place | undefined;
    let bestD = radiusM;
    const ci = cellOf(c.x);
    const cj = cellOf(c.y);
    for (let di = -1; di <= 1; di++) {
      for (let dj = -1; dj <= 1; dj++) {
        for (const p of buckets.get(cellKey(ci + di, cj + dj)) ?? []) {
          const dist = hypot(p.x - c.x, p.y - c.y);
          if (dist > bestD) continue;
          let both = 0;
          for (let j = p0; j < p1; j++) if (p.passes.has(passFlat[j]!)) both++;
          if (both >= needBoth) continue;
          best = p;
          bestD = dist;
        }
      }
    }
    if (best) {
      for (const i of c.members) best.members.push(i);
      for (let j = p0; j < p1; j++) best.passes.add(passFlat[j]!);
      continue;
    }
    const passes = new Set<number>();
    for (let j = p0; j < p1; j++) passes.add(passFlat[j]!);
    const place: Place = { x: c.x, y: c.y, members: c.members.slice(), passes };
    places.push(place);
    const key = cellKey(ci, cj);
    const bucket = buckets.get(key);
    if (bucket) bucket.push(place);
    else buckets.set(key, [place]);
  }
  return places.map((p) => p.members);
}

/**
 * Greedy point clusters: from the most confident observation not yet taken, the members within
 * `radiusM` of the cluster's coordinate-wise median (re-centred 3 times). Members are indices into
 * x / y (entries of `obs`).
 */
export function greedyPointClusters(obs: readonly number[], x: Float64Array, y: Float64Array, score: Float32Array, radiusM: number): Array<{ x: number; y: number; members: number[] }> {
  const n = obs.length;
  if (!n) return [];
  const px = new Float64Array(n);
  const py = new Float64Array(n);
  const sc = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    const i = obs[k]!;
    px[k] = x[i]!;
    py[k] = y[i]!;
    sc[k] = score[i]!;
  }
  const grid = new PointGrid(px, py, radiusM);
  const taken = new Uint8Array(n);
  const order = byScoreDescending(sc);
  const out: Array<{ x: number; y: number; members: number[] }> = [];
  const bx = new Float64Array(n);
  const by = new Float64Array(n);
  const near = { buf: new Int32Array(256) };
  let mem = new Int32Array(256);
  for (const seed of order) {
    if (taken[seed]) continue;
    let cx = px[seed]!;
    let cy = py[seed]!;
    let nm = 0;
    for (let it = 0; it < 3; it++) {
      const qx = cx;
      const qy = cy;
      const nc = grid.collectWithin(qx, qy, radiusM, near);
      if (mem.length < nc + 1) mem = new Int32Array(2 * (nc + 1));
      nm = 0;
      for (let j = 0; j < nc; j++) {
        const k = near.buf[j]!;
        if (!taken[k]) mem[nm++] = k;
      }
      if (!nm) mem[nm++] = seed;
      for (let j = 0; j < nm; j++) {
        bx[j] = px[mem[j]!]!;
        by[j] = py[mem[j]!]!;
      }
      cx = medianInPlace(bx, nm);
      cy = medianInPlace(by, nm);
      // The same centre finds the same members again (nothing is taken meanwhile): done.
      if (cx === qx && cy === qy) break;
    }
    let hasSeed = false;
    for (let j = 0; j < nm && !hasSeed; j++) hasSeed = mem[j] === seed;
    if (!hasSeed) mem[nm++] = seed;
    const members: number[] = new Array<number>(nm);
    for (let j = 0; j < nm; j++) {
      taken[mem[j]!] = 1;
      members[j] = obs[mem[j]!]!;
      bx[j] = x[members[j]!]!;
      by[j] = y[members[j]!]!;
    }
    out.push({ x: medianInPlace(bx, nm), y: medianInPlace(by, nm), members });
  }
  return out;
}

/**
 * Indices 0..n-1 by score, highest first, ties in index order (a stable sort's order). Scores
 * that are float32 values >= 0 sort by their bit patterns (which order like the values) in a
 * radix sort; anything else takes the comparison sort.
 */
function byScoreDescending(sc: Float64Array): Int32Array | number[] {
  const n = sc.length;
  const f32 = new Float32Array(1);
  const bits = new Uint32Array(f32.buffer);
  const keys = new Uint32Array(n);
  for (let k = 0; k < n; k++) {
    f32[0] = sc[k]!;
    const b = bits[0]!;
    if (f32[0] !== sc[k] || !(sc[k]! >= 0) || b >= 0x80000000) return Array.from({ length: n }, (_, i) => i).sort((i, j) => sc[j]! - sc[i]!);
    keys[k] = b;
  }
  return stableOrderByKey(keys, identityOrder(n), true);
}

function splitByCode(members: number[], x: Float64Array, y: Float64Array, drive: Int32Array, pass: Int32Array, signCode: readonly string[]): PointCluster[] {
  const groups = new Map<string, number[]>();
  for (const i of members) {
    const g = groups.get(signCode[i]!);
    if (g) g.push(i);
    else groups.set(signCode[i]!, [i]);
  }
  const drivesOf = (g: number[]): Set<number> => new Set(g.map((i) => drive[i]!));
  const sorted = [...groups.entries()].sort((a, b) => drivesOf(b[1]).size - drivesOf(a[1]).size || b[1].length - a[1].length);
  const [majorCode, major] = sorted[0]!;
  const majorDrives = drivesOf(major);
  const merged = [...major];
  const separate: Array<[string, number[]]> = [];
  for (const [code, g] of sorted.slice(1)) {
    const d = drivesOf(g);
    let both = 0;
    for (const k of d) if (majorDrives.has(k)) both++;
    if (both >= Math.max(1, d.size / 2)) separate.push([code, g]);
    else merged.push(...g);
  }
  const centre = (g: number[], code: string): PointCluster => {
    const [cx, cy] = passMedian(g, x, y, pass);
    return { x: cx, y: cy, members: g, signCode: code };
  };
  return [centre(merged, majorCode), ...separate.map(([code, g]) => centre(g, code))];
}

export interface AreaCluster {
  /** Consensus ring (not closed), counter-clockwise. */
  ring: Array<[number, number]>;
  members: number[];
}

export interface Ring {
  xs: number[];
  ys: number[];
  cx: number;
  cy: number;
  /** Area, m^2, and largest distance from the centroid to a vertex, m. */
  area: number;
  reach: number;
  /** Orientation of the principal axis, radians mod pi; NaN when not elongated. */
  axis: number;
}

/**
 * `rings[k]` belongs to observation `obs[k]`; vertices in metres. Perception often sees only
 * part of a wide crosswalk (clipped to its field of view), and sometimes runs two neighbouring
 * ones together, so the most typical views seed (typicality), members join by overlap (either
 * centroid inside or within 1 m of the other's ring), and the shape is built from the members of
 * nearly full size only (all members count as support).
 */
export function clusterAreas(obs: readonly number[], rings: ReadonlyArray<Array<[number, number]>>, score: Float32Array, radiusM: number, ends: CrosswalkEnds = MEDIAN_ENDS): AreaCluster[] {
  const R: Ring[] = rings.map(describeRing);
  const n = R.length;
  if (!n) return [];
  const grid = new PointGrid(Float64Array.from(R, (r) => r.cx), Float64Array.from(R, (r) => r.cy), radiusM);
  const taken = new Uint8Array(n);
  const typ = typicality(R, grid, radiusM);
  const order = Array.from({ length: n }, (_, k) => k).sort((a, b) => typ[b]! - typ[a]! || R[b]!.area - R[a]!.area || score[obs[b]!]! - score[obs[a]!]!);
  const out: AreaCluster[] = [];
  const shapes: Ring[] = [];
  for (const seed of order) {
    if (taken[seed]) continue;
    const s = R[seed]!;
    const mem: number[] = [];
    grid.forEachWithin(s.cx, s.cy, Math.max(radiusM, s.reach), (k) => {
      if (taken[k]) return;
      const r = R[k]!;
      if (!Number.isNaN(s.axis) && !Number.isNaN(r.axis)) {
        let d = Math.abs(s.axis - r.axis) % Math.PI;
        if (d > Math.PI / 2) d = Math.PI - d;
        if (d > Math.PI / 6) return;
      }
      if (k !== seed && !(nearRing(r.cx, r.cy, s, 1) || nearRing(s.cx, s.cy, r, 1))) return;
      mem.push(k);
    });
    if (!mem.includes(seed)) mem.push(seed);
    for (const k of mem) taken[k] = 1;
    const rects = mem.map((k) => R[k]!);
    let ring: Array<[number, number]>;
    if (rects.length >= 2 && rects.every(isRectangle)) ring = medianRectangle(rects.filter((r) => r.area <= 1.5 * s.area), s, ends);
    else {
      const areas = mem.map((k) => R[k]!.area).sort((a, b) => a - b);
      const full = 0.7 * areas[Math.floor(0.9 * (areas.length - 1))]!;
      ring = consensusRing(mem.map((k) => R[k]!).filter((r) => r.area >= full));
    }
    const shape = describeRing(ring);
    const host = shapes.findIndex((h) => Math.abs(h.cx - shape.cx) <= h.reach + shape.reach && intersectionArea(shape, h) >= 0.5 * Math.min(shape.area, h.area));
    if (host >= 0) {
      for (const k of mem) out[host]!.members.push(obs[k]!);
      continue;
    }
    shapes.push(shape);
    out.push({ ring, members: mem.map((k) => obs[k]!) });
  }
  return out;
}

/**
 * How typical each ring is of the views around it: the sum of its IoU with the rings it
 * overlaps by IoU 0.5 or more, among those whose centroid lies within max(radiusM, its reach).
 * A full view of a crosswalk that many drives saw scores high; a view of two neighbouring
 * crosswalks run together overlaps each of them by less than half, and a fragment overlaps
 * little: both score low.
 *
 * Work: every pair of views of one crosswalk overlaps (hundreds of views where a fleet passed
 * often), so each pair's IoU is computed once, the lower index's ring clipped by the higher's, and
 * credited to both rings whose search reaches the other; a pair whose areas differ by more than
 * 2:1 cannot reach IoU 0.5 (the intersection is at most the smaller area, the union at least the
 * larger) and is not clipped at all.
 */
function typicality(R: readonly Ring[], grid: PointGrid, radiusM: number): Float64Array {
  const t = new Float64Array(R.length);
  // Each ring's search radius, squared as PointGrid.forEachWithin squares it.
  const r2 = R.map((r) => {
    const q = Math.max(radiusM, r.reach);
    return q * q;
  });
  for (let k = 0; k < R.length; k++) {
    const a = R[k]!;
    grid.forEachWithin(a.cx, a.cy, Math.max(radiusM, a.reach), (j, d2) => {
      if (j === k) return;
      // Ring j's own search reached ring k: the pair was done when k was j's neighbour.
      if (j < k && d2 <= r2[j]!) return;
      const b = R[j]!;
      if (Math.min(a.area, b.area) < 0.49 * Math.max(a.area, b.area)) return;
      const inter = j < k ? intersectionArea(b, a) : intersectionArea(a, b);
      const iou = inter > 0 ? inter / (a.area + b.area - inter) : 0;
      if (iou < 0.5) return;
      t[k] = t[k]! + iou;
      if (j > k && d2 <= r2[j]!) t[j] = t[j]! + iou;
    });
  }
  return t;
}

/**
 * Area of the intersection of ring `a` with ring `b` (both counter-clockwise, as describeRing
 * makes them), by clipping a to b's edges (Sutherland-Hodgman): exact when b is convex, as the
 * rectangles of the camera path are; an approximation for a concave b.
 */
export function intersectionArea(a: Ring, b: Ring): number {
  // Clipped polygons ping-pong between two scratch buffers (no arrays per call or per edge:
  // this runs for every pair of overlapping views).
  let n = a.xs.length;
  if (clip.px.length < 2 * n) growClip(2 * n, 0);
  let { px, py, qx, qy } = clip;
  for (let k = 0; k < n; k++) {
    px[k] = a.xs[k]!;
    py[k] = a.ys[k]!;
  }
  const m = b.xs.length;
  for (let i = 0; i < m && n; i++) {
    // One edge's clip emits at most two vertices per input vertex.
    if (qx.length < 2 * n) {
      clip = { px, py, qx, qy };
      growClip(2 * n, n);
      ({ px, py, qx, qy } = clip);
    }
    const ex0 = b.xs[i]!;
    const ey0 = b.ys[i]!;
    const ex = b.xs[(i + 1) % m]! - ex0;
    const ey = b.ys[(i + 1) % m]! - ey0;
    let q = 0;
    // Walk the polygon's edges (k-1 -> k), each vertex's side of the clip edge computed once
    // (>= 0: inside): the crossing of an edge that changes side, then the vertex if inside.
    let x0 = px[n - 1]!;
    let y0 = py[n - 1]!;
    let s0 = ex * (y0 - ey0) - ey * (x0 - ex0);
    for (let k = 0; k < n; k++) {
      const x1 = px[k]!;
      const y1 = py[k]!;
      const s1 = ex * (y1 - ey0) - ey * (x1 - ex0);
      if ((s0 >= 0) !== (s1 >= 0)) {
        const f = s0 / (s0 - s1);
        qx[q] = x0 + f * (x1 - x0);
        qy[q++] = y0 + f * (y1 - y0);
      }
      if (s1 >= 0) {
        qx[q] = x1;
        qy[q++] = y1;
      }
      x0 = x1;
      y0 = y1;
      s0 = s1;
    }
    const tx = px;
    const ty = py;
    px = qx;
    py = qy;
    qx = tx;
    qy = ty;
    n = q;
  }
  let area2 = 0;
  for (let k = 0, j = n - 1; k < n; j = k++) area2 += px[j]! * py[k]! - px[k]! * py[j]!;
  return Math.abs(area2) / 2;
}

/** Scratch of intersectionArea (grown on demand, never shrunk). */
let clip = { px: new Float64Array(64), py: new Float64Array(64), qx: new Float64Array(64), qy: new Float64Array(64) };

/** Grows the scratch to at least `size`, keeping the first `keep` vertices of px, py. */
function growClip(size: number, keep: number): void {
  const len = Math.max(size, 2 * clip.px.length);
  const px = new Float64Array(len);
  const py = new Float64Array(len);
  px.set(clip.px.subarray(0, keep));
  py.set(clip.py.subarray(0, keep));
  clip = { px, py, qx: new Float64Array(len), qy: new Float64Array(len) };
}

/** A 4-corner ring with right angles (within 3 degrees): what the camera path uploads. */
function isRectangle(r: Ring): boolean {
  if (r.xs.length !== 4) return false;
  for (let i = 0; i < 4; i++) {
    const a = (i + 3) % 4;
    const b = (i + 1) % 4;
    const ux = r.xs[a]! - r.xs[i]!;
    const uy = r.ys[a]! - r.ys[i]!;
    const vx = r.xs[b]! - r.xs[i]!;
    const vy = r.ys[b]! - r.ys[i]!;
    const cos = (ux * vx + uy * vy) / (hypot(ux, uy) * hypot(vx, vy) || 1);
    if (Math.abs(cos) > 0.05) return false;
  }
  return true;
}

/**
 * Where a crosswalk rectangle ends along its long axis (MergeOptions crosswalkEndQuantile,
 * crosswalkEndBandM; outerEnd). Quantile 0.5 or an infinite band is the median view.
 */
export interface CrosswalkEnds {
  quantile: number;
  bandM: number;
}

const MEDIAN_ENDS: CrosswalkEnds = { quantile: 0.5, bandM: Infinity };

/**
 * One end of a crosswalk from its views' ends `v` (positions along the axis; `dir` +1 for the
 * far end, -1 for the near one). When the outermost end (the `quantile` quantile outwards, so
 * that one view smeared beyond the paint does not set it) lies within bandM of the median, the
 * views agree and the end is their median; otherwise some stopped metres short (cut by the
 * camera's field of view on a wide road) and the end is the median of the ends within bandM of
 * the outermost one. Reorders v.
 */
function outerEnd(v: number[], dir: 1 | -1, ends: CrosswalkEnds): number {
  v.sort((a, b) => a - b);
  const outer = quantileOfSorted(v, dir > 0 ? ends.quantile : 1 - ends.quantile);
  const mid = quantileOfSorted(v, 0.5);
  if ((outer - mid) * dir <= ends.bandM) return mid;
  // The ends within bandM of the outermost one are a sorted run at one end of v.
  const near = dir > 0 ? v.filter((e) => e >= outer - ends.bandM) : v.filter((e) => e <= outer + ends.bandM);
  return quantileOfSorted(near, 0.5);
}

/**
 * The members' rectangles make one rectangle on the seed's axis: across it (the crosswalk's
 * width along the road) each side at the median of the members' extents; along it (across the
 * road) each end at outerEnd of the members' ends. A camera sees a wide road's crosswalk only as
 * far as its field of view reaches: on a multi-lane tuning map the median view of a 13 m crosswalk
 * was 11 m long. History: until 2026-11-30 the ends were the 20 % quantile of starts and 80 % of
 * ends, when the model's views were mostly whole but smeared beyond the paint (1.3-1.6 times the
 * true area); then the median (AP@0.5 on three Karlsruhe demo stores 0.020 / 0.021 / 0.054 ->
 * 0.080 / 0.045 / 0.090); on 2026-12-07, with views no longer smeared, outerEnd (quantile 0.9,
 * band 1 m) took crosswalk AP@0.5 on four tuning demo stores from 0.613 / 0.256 / 1.000 / 0.776 to
 * 0.637 / 0.532 / 1.000 / 0.721 (Karlsruhe / multi-lane / grid / mixed with stripe-drawn
 * crosswalks; docs/MEASUREMENTS.md section 4.0000000).
 */
function medianRectangle(members: Ring[], seed: Ring, ends: CrosswalkEnds): Array<[number, number]> {
  const th = Number.isNaN(seed.axis) ? Math.atan2(seed.ys[1]! - seed.ys[0]!, seed.xs[1]! - seed.xs[0]!) : seed.axis;
  const ux = Math.cos(th);
  const uy = Math.sin(th);
  let cx = 0;
  let cy = 0;
  for (const r of members) {
    cx += r.cx / members.length;
    cy += r.cy / members.length;
  }
  const lo0: number[] = [];
  const hi0: number[] = [];
  const lo1: number[] = [];
  const hi1: number[] = [];
  for (const r of members) {
    let a0 = Infinity;
    let b0 = -Infinity;
    let a1 = Infinity;
    let b1 = -Infinity;
    for (let i = 0; i < r.xs.length; i++) {
      const dx = r.xs[i]! - cx;
      const dy = r.ys[i]! - cy;
      const s0 = dx * ux + dy * uy;
      const s1 = -dx * uy + dy * ux;
      a0 = Math.min(a0, s0);
      b0 = Math.max(b0, s0);
      a1 = Math.min(a1, s1);
      b1 = Math.max(b1, s1);
    }
    lo0.push(a0);
    hi0.push(b0);
    lo1.push(a1);
    hi1.push(b1);
  }
  const l0 = outerEnd(lo0, -1, ends);
  const l1 = outerEnd(hi0, 1, ends);
  const m0 = medianInPlace(lo1, lo1.length);
  const m1 = medianInPlace(hi1, hi1.length);
  const at = (s0: number, s1: number): [number, number] => [cx + ux * s0 - uy * s1, cy + uy * s0 + ux * s1];
  return [at(l0, m0), at(l1, m0), at(l1, m1), at(l0, m1)];
}

/** Is (x, y) inside ring r or within tolM of its edges? */
function nearRing(x: number, y: number, r: Ring, tolM: number): boolean {
  let inside = false;
  let best = Infinity;
  const n = r.xs.length;
  for (let i = 0, j = n - 1; i < n; j = i++) {
    const ax = r.xs[j]!;
    const ay = r.ys[j]!;
    const bx = r.xs[i]!;
    const by = r.ys[i]!;
    if (by > y !== ay > y && x < ((ax - bx) * (y - by)) / (ay - by) + bx) inside = !inside;
    const vx = bx - ax;
    const vy = by - ay;
    const l2 = vx * vx + vy * vy;
    let t = l2 > 0 ? ((x - ax) * vx + (y - ay) * vy) / l2 : 0;
    t = t < 0 ? 0 : t > 1 ? 1 : t;
    best = Math.min(best, hypot(x - ax - vx * t, y - ay - vy * t));
  }
  return inside || best <= tolM;
}

export function describeRing(pts: ReadonlyArray<readonly [number, number]>): Ring {
  let xs = pts.map((p) => p[0]);
  let ys = pts.map((p) => p[1]);
  let area2 = 0;
  for (let i = 0; i < xs.length; i++) {
    const j = (i + 1) % xs.length;
    area2 += xs[i]! * ys[j]! - xs[j]! * ys[i]!;
  }
  if (area2 < 0) {
    xs = xs.reverse();
    ys = ys.reverse();
  }
  const cx = xs.reduce((a, b) => a + b, 0) / xs.length;
  const cy = ys.reduce((a, b) => a + b, 0) / ys.length;
  let sxx = 0;
  let sxy = 0;
  let syy = 0;
  for (let i = 0; i < xs.length; i++) {
    const dx = xs[i]! - cx;
    const dy = ys[i]! - cy;
    sxx += dx * dx;
    sxy += dx * dy;
    syy += dy * dy;
  }
  const tr = sxx + syy;
  const disc = Math.sqrt(((sxx - syy) / 2) ** 2 + sxy * sxy);
  const l1 = tr / 2 + disc;
  const l2 = tr / 2 - disc;
  const axis = l1 > 2.25 * Math.max(l2, 1e-9) ? 0.5 * Math.atan2(2 * sxy, sxx - syy) : NaN;
  let reach = 0;
  for (let i = 0; i < xs.length; i++) reach = Math.max(reach, hypot(xs[i]! - cx, ys[i]! - cy));
  return { xs, ys, cx, cy, area: Math.abs(area2) / 2, reach, axis: Number.isNaN(axis) ? NaN : (axis + Math.PI) % Math.PI };
}

function consensusRing(members: Ring[]): Array<[number, number]> {
  const counts = new Map<number, Ring[]>();
  for (const r of members) {
    const g = counts.get(r.xs.length);
    if (g) g.push(r);
    else counts.set(r.xs.length, [r]);
  }
  const group = [...counts.values()].sort((a, b) => b.length - a.length)[0]!;
  // Medoid of the group by centroid distance.
  let ref = group[0]!;
  let bestSum = Infinity;
  for (const a of group) {
    let s = 0;
    // Partial sums only grow: once one reaches the best, this one cannot win.
    for (let k = 0; k < group.length && s < bestSum; k++) s += hypot(a.cx - group[k]!.cx, a.cy - group[k]!.cy);
    if (s < bestSum) {
      bestSum = s;
      ref = a;
    }
  }
  const nv = ref.xs.length;
  if (group.length < 2) return ref.xs.map((x, i) => [x, ref.ys[i]!]);
  const vx: number[][] = Array.from({ length: nv }, () => []);
  const vy: number[][] = Array.from({ length: nv }, () => []);
  for (const r of group) {
    let bestShift = 0;
    let bestCost = Infinity;
    for (let sh = 0; sh < nv; sh++) {
      let c = 0;
      for (let i = 0; i < nv; i++) c += (r.xs[(i + sh) % nv]! - ref.xs[i]!) ** 2 + (r.ys[(i + sh) % nv]! - ref.ys[i]!) ** 2;
      if (c < bestCost) {
        bestCost = c;
        bestShift = sh;
      }
    }
    for (let i = 0; i < nv; i++) {
      vx[i]!.push(r.xs[(i + bestShift) % nv]!);
      vy[i]!.push(r.ys[(i + bestShift) % nv]!);
    }
  }
  return vx.map((col, i) => [medianInPlace(col, col.length), medianInPlace(vy[i]!, vy[i]!.length)]);
}
