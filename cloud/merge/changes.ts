/**
 * Change detection against the previous version of a tile, and stable ids.
 *
 * Features of the same class are compared in the tile's local frame: lines and polygon rings
 * sampled every metre, each sample's distance to the other feature; a pair overlaps when at
 * least half the samples of either lie within matchGateM. A new feature that overlaps no
 * previous one is added; a previous one that overlaps no new one is removed (when the merge
 * gives evidence of absence, `absent`: recent drives passed it and saw nothing there). Overlapping
 * pairs are matched one-to-one, most alike first (mutual overlap, small distance): the new
 * feature inherits the id and the
 * firstSeen time. It counts as moved when the drives since the previous version place it more
 * than movedThresholdM from where the drives before placed it (its `recentShiftM`, a lower
 * bound measured in this merge's alignment, so a feature the merge merely re-places as drives
 * are added does not count, nor one too few recent drives saw). The tile's common shift (the
 * gauge moves a little as drives are added) is estimated and reported. Features scored below
 * changeMinScore (a new feature: its existence score, evidence.ts, which forgives the placement
 * term of a feature most of the passing drives saw), and lines or rings shorter than
 * changeMinLengthM (slivers a tile border or a line end cut off), that appear or disappear are
 * counted apart, as low-confidence churn. A
 * confident previous feature with evidence of absence is not matched to a low-confidence new
 * one that no drive since the previous version saw (what is left of its old observations after
 * the rest went stale): it is removed.
 */
import { createHash } from 'node:crypto';
import type { LocalFrame } from '../../shared/geo.ts';
import type { PrimitiveClass, XY } from '../../shared/schema.ts';
import { polylineLengthM } from '../../shared/geometry.ts';
import { existenceScore } from './evidence.ts';
import { featurePoints, firstPosition, isAreaGeometry, round8, type MapFeature } from './features.ts';
import type { MergeOptions } from './options.ts';
import { hypot, newProjection, Polyline, resampleFlat, simplifyIndices } from './polyline.ts';

export type ClassCounts = Partial<Record<PrimitiveClass, number>>;

export interface TileChanges {
  added: ClassCounts;
  removed: ClassCounts;
  moved: ClassCounts;
  unchanged: number;
  /** Features scored below changeMinScore that appeared / disappeared (not in added / removed). */
  lowConfidence: { added: ClassCounts; removed: ClassCounts };
  /**
   * New features where no drive had looked before the previous version (every drive that saw
   * or passed it came after): the map grew there, nothing on the ground changed (not in added).
   */
  newCoverage: ClassCounts;
  addedIds: string[];
  removedIds: string[];
  movedIds: string[];
  /**
   * Stretches of a previous line feature that went stale while the rest of it stays (paint
   * removed inside a longer line): each with an id of its own, its parent's id and its
   * geometry, [lng, lat]. Absent when there are none.
   */
  removedParts?: LinePart[];
  /**
   * Stretches of a previous line feature that moved while the rest of it stays (paint repainted
   * aside inside a longer line; recent-shift.ts movedStretches): each with an id of its own, its
   * parent's id and its new geometry, [lng, lat]. Absent when there are none.
   */
  movedParts?: LinePart[];
  /** Common shift of the matched features since the previous version, [east, north] metres. */
  commonShiftM: [number, number];
}

/** A stretch of a line feature reported removed or moved on its own (TileChanges removedParts, movedParts). */
/** A line stretch, [lng, lat] (a removed or moved part's geometry before it is reported). */
export interface LineStretch {
  cls: PrimitiveClass;
  coordinates: Array<[number, number]>;
}

export interface LinePart extends LineStretch {
  id: string;
  parentId: string;
}

interface Shape {
  cls: PrimitiveClass;
  /** Length of a line or ring, metres; undefined for points. */
  lengthM?: number;
  samples: XY[];
  /** For lines/polygons, the sampled polyline (rings closed). */
  line?: Polyline;
  point?: XY;
}

function shapeOf(f: MapFeature, frame: LocalFrame): Shape {
  const pts = featurePoints(f, frame);
  if (f.geometry.type === 'Point') return { cls: f.properties.class, samples: pts, point: pts[0]! };
  const closed = isAreaGeometry(f.geometry) ? [...pts, pts[0]!] : pts;
  return { cls: f.properties.class, ...sampled(closed), lengthM: polylineLengthM(closed) };
}

/** A line's samples 1 m apart and the polyline through them. */
function sampled(pts: readonly XY[]): { samples: XY[]; line: Polyline } {
  const r = resampleFlat(
    pts.map((p) => p[0]),
    pts.map((p) => p[1]),
    0,
    pts.length,
    1,
  );
  const samples: XY[] = Array.from(r.x, (x, i) => [x, r.y[i]!] as XY);
  return { samples, line: new Polyline(r.x, r.y) };
}

interface PairDisp {
  /** Overlap share, [0, 1] (the larger of the two directions; >= 0.5 to count as a pair). */
  overlap: number;
  /** How well the two are the same feature: mean of both overlap shares less the mean distance in gates. */
  affinity: number;
  /** Normal-equation terms of this pair for the common shift: A (xx, xy, yy), b (x, y). */
  A: [number, number, number];
  b: [number, number];
  /** Per-sample (normal, offset) to evaluate the residual once the common shift is known. */
  normals: Array<[number, number, number]>;
}

/** How a (previous) relates to b (new): overlap and displacement from a to b. */
function compare(a: Shape, b: Shape, gateM: number): PairDisp | undefined {
  if (a.point && b.point) {
    const dx = b.point[0] - a.point[0];
    const dy = b.point[1] - a.point[1];
    const dist = hypot(dx, dy);
    if (dist > gateM) return undefined;
    return { overlap: 1, affinity: 1 - dist / gateM, A: [1, 0, 1], b: [dx, dy], normals: [[1, 0, dx], [0, 1, dy]] };
  }
  if (!a.line || !b.line) return undefined;
  const pr = newProjection();
  let distSum = 0;
  let distN = 0;
  const share = (from: Shape, to: Polyline): number => {
    let k = 0;
    for (const s of from.samples) {
      if (!to.project(s[0], s[1], gateM, pr) || pr.beyond !== 0) continue;
      k++;
      distSum += pr.dist;
      distN++;
    }
    return from.samples.length ? k / from.samples.length : 0;
  };
  const sa = share(a, b.line);
  const sb = share(b, a.line);
  const overlap = Math.max(sa, sb);
  if (overlap < 0.5) return undefined;
  const affinity = (sa + sb) / 2 - (distN ? distSum / distN : gateM) / gateM;
  // Offsets of b's samples from a, along a's normal.
  let axx = 0;
  let axy = 0;
  let ayy = 0;
  let bx = 0;
  let by = 0;
  const normals: Array<[number, number, number]> = [];
  for (const s of b.samples) {
    if (!a.line.project(s[0], s[1], gateM, pr) || pr.beyond !== 0) continue;
    const nx = -pr.ty;
    const ny = pr.tx;
    const off = pr.lat;
    normals.push([nx, ny, off]);
    axx += nx * nx;
    axy += nx * ny;
    ayy += ny * ny;
    bx += nx * off;
    by += ny * off;
  }
  const k = normals.length || 1;
  return { overlap, affinity, A: [axx / k, axy / k, ayy / k], b: [bx / k, by / k], normals };
}

export interface DiffResult {
  /** Id for each new feature (inherited or fresh). */
  ids: string[];
  /** firstSeenUnixMs inherited from the matched previous feature, or undefined. */
  inheritedFirstSeen: Array<number | undefined>;
  changes: TileChanges;
  /**
   * Ids of the previous features that live on: a new feature overlaps each (it took the id, or
   * another previous feature's that it overlaps too: two lines joined into one).
   */
  continued: Set<string>;
}

/**
 * `absent(f)`, when given, says whether the recent drives show previous feature `f` gone (the
 * merge's evidence of absence, evidence.ts absentSince); an unmatched previous feature without
 * it is counted with the low-confidence churn, not as removed.
 */
export function diffTile(
  prev: readonly MapFeature[],
  next: readonly MapFeature[],
  frame: LocalFrame,
  tile: string,
  version: number,
  o: MergeOptions,
  absent?: (f: MapFeature, points: readonly XY[]) => boolean,
  newCoverage?: (j: number) => boolean,
): DiffResult {
  const P = prev.map((f) => shapeOf(f, frame));
  const N = next.map((f) => shapeOf(f, frame));
  const pairs: Array<{ i: number; j: number; d: PairDisp }> = [];
  const prevHit = new Uint8Array(P.length);
  const nextHit = new Uint8Array(N.length);
  // Few features per tile and class: compare pairs whose bounding boxes are near.
  const boxes = (S: Shape[]): Float64Array[] => S.map((s) => boxOf(s.samples));
  const pb = boxes(P);
  const nb = boxes(N);
  const g = o.matchGateM;
  // A confident previous feature that the recent drives show gone is not continued by a
  // low-confidence new one made of old observations only (last seen no later than the previous
  // version's newest sighting: what is left where the rest went stale): it was removed, and the
  // remnant is churn.
  let prevSeenUnixMs = -Infinity;
  for (const f of prev) prevSeenUnixMs = Math.max(prevSeenUnixMs, f.properties.lastSeenUnixMs);
  const remnant = (j: number): boolean => next[j]!.properties.score < o.changeMinScore && next[j]!.properties.lastSeenUnixMs <= prevSeenUnixMs;
  const goneCache = new Map<number, boolean>();
  const gone = (i: number): boolean => {
    let v = goneCache.get(i);
    if (v === undefined) {
      v = absent !== undefined && prev[i]!.properties.score >= o.changeMinScore && !isSliver(P[i]!, o) && absent(prev[i]!, featurePoints(prev[i]!, frame));
      goneCache.set(i, v);
    }
    return v;
  };
  for (let i = 0; i < P.length; i++) {
    for (let j = 0; j < N.length; j++) {
      if (P[i]!.cls !== N[j]!.cls) continue;
      if (remnant(j) && gone(i)) continue;
      const a = pb[i]!;
      const b = nb[j]!;
      if (a[0]! - g > b[2]! || b[0]! - g > a[2]! || a[1]! - g > b[3]! || b[1]! - g > a[3]!) continue;
      const d = compare(P[i]!, N[j]!, g);
      if (!d) continue;
      pairs.push({ i, j, d });
      prevHit[i] = 1;
      nextHit[j] = 1;
    }
  }
  pairs.sort((x, y) => y.d.affinity - x.d.affinity);
  const matchOfNext = new Int32Array(N.length).fill(-1);
  const usedPrev = new Uint8Array(P.length);
  const matched: typeof pairs = [];
  for (const pr of pairs) {
    if (usedPrev[pr.i] || matchOfNext[pr.j]! >= 0) continue;
    usedPrev[pr.i] = 1;
    matchOfNext[pr.j] = pr.i;
    matched.push(pr);
  }
  // Common shift: robust least squares over matched pairs (each pair weighs the same; pairs that
  // moved on their own are weighted out, Tukey on the pair's median residual).
  const pairResidual = (d: PairDisp, sh: [number, number]): number => {
    const res = d.normals.map(([nx, ny, off]) => Math.abs(off - nx * sh[0] - ny * sh[1])).sort((a, b) => a - b);
    return res.length ? res[res.length >> 1]! : 0;
  };
  let shift: [number, number] = [0, 0];
  if (matched.length >= 3) {
    const w = matched.map(() => 1);
    for (let it = 0; it < 6; it++) {
      let axx = 1e-3;
      let axy = 0;
      let ayy = 1e-3;
      let bx = 0;
      let by = 0;
      matched.forEach(({ d }, k) => {
        axx += w[k]! * d.A[0];
        axy += w[k]! * d.A[1];
        ayy += w[k]! * d.A[2];
        bx += w[k]! * d.b[0];
        by += w[k]! * d.b[1];
      });
      const det = axx * ayy - axy * axy;
      shift = [(ayy * bx - axy * by) / det, (axx * by - axy * bx) / det];
      const c = 1.5 * o.movedThresholdM;
      matched.forEach(({ d }, k) => {
        const u = pairResidual(d, shift) / c;
        w[k] = u >= 1 ? 0 : (1 - u * u) ** 2;
      });
    }
  }
  const changes: TileChanges = {
    added: {},
    removed: {},
    moved: {},
    unchanged: 0,
    lowConfidence: { added: {}, removed: {} },
    newCoverage: {},
    addedIds: [],
    removedIds: [],
    movedIds: [],
    commonShiftM: [round3(shift[0]), round3(shift[1])],
  };
  const bump = (c: ClassCounts, cls: PrimitiveClass): void => {
    c[cls] = (c[cls] ?? 0) + 1;
  };
  const ids: string[] = [];
  const inheritedFirstSeen: Array<number | undefined> = [];
  const taken = new Set<string>();
  for (let j = 0; j < N.length; j++) {
    const i = matchOfNext[j]!;
    if (i >= 0) {
      ids.push(prev[i]!.properties.id);
      taken.add(prev[i]!.properties.id);
      inheritedFirstSeen.push(prev[i]!.properties.firstSeenUnixMs);
    } else {
      ids.push('');
      inheritedFirstSeen.push(undefined);
    }
  }
  for (let j = 0; j < N.length; j++) {
    if (ids[j]) continue;
    ids[j] = freshId(tile, version, next[j]!, taken);
    // Beside a previous feature (another took its id) it is churn, unless the drives that saw it
    // came (nearly all: changeNewDrivesShare) after the previous version: new paint next to old
    // (a repainted lane, a construction zone's lines), which the match gate alone cannot tell
    // from a re-cut piece.
    if (nextHit[j] && !isNewPaint(next[j]!, prevSeenUnixMs, o)) continue;
    if (newCoverage?.(j)) bump(changes.newCoverage, N[j]!.cls);
    else if (existenceScore(next[j]!.properties) < o.changeMinScore || isSliver(N[j]!, o)) bump(changes.lowConfidence.added, N[j]!.cls);
    else {
      bump(changes.added, N[j]!.cls);
      changes.addedIds.push(ids[j]!);
    }
  }
  for (let i = 0; i < P.length; i++) {
    if (prevHit[i]) continue;
    if (prev[i]!.properties.score < o.changeMinScore || isSliver(P[i]!, o) || (absent && !absent(prev[i]!, featurePoints(prev[i]!, frame)))) {
      bump(changes.lowConfidence.removed, P[i]!.cls);
      continue;
    }
    bump(changes.removed, P[i]!.cls);
    changes.removedIds.push(prev[i]!.properties.id);
  }
  for (const { i, j, d } of matched) {
    // Moved when the drives since the previous version place it elsewhere than the drives before
    // did (recentShiftM, a lower bound, both in this merge's alignment); without that evidence
    // (too few recent drives) nothing new says it moved: a consensus that moved anyway was
    // re-placed by the merge. (pairResidual still weighs the common shift, which is reported.)
    const recent = next[j]!.properties.recentShiftM;
    if (recent !== undefined && recent > o.movedThresholdM) {
      bump(changes.moved, P[i]!.cls);
      changes.movedIds.push(ids[j]!);
    } else changes.unchanged++;
  }
  const continued = new Set<string>();
  for (let i = 0; i < P.length; i++) if (prevHit[i]) continued.add(prev[i]!.properties.id);
  return { ids, inheritedFirstSeen, changes, continued };
}

const isSliver = (s: Shape, o: MergeOptions): boolean => s.lengthM !== undefined && s.lengthM < o.changeMinLengthM;

/** Seen first after the previous version's newest sighting, or mostly by drives since then (changeNewDrivesShare). */
export function isNewPaint(f: Pick<MapFeature, 'properties'>, prevSeenUnixMs: number, o: Pick<MergeOptions, 'changeNewDrivesShare'>): boolean {
  const p = f.properties;
  return p.firstSeenUnixMs > prevSeenUnixMs || (p.recentDrives !== undefined && p.supportDrives > 0 && p.recentDrives >= o.changeNewDrivesShare * p.supportDrives);
}

/**
 * Stretches of lines (`parts`: clipped to the tile, [lng, lat]) reported as changes of their
 * own, `kind` removed (cut out as stale) or moved (re-placed where the recent drives put them),
 * that lie on a confident feature of the previous version which this version still has (`kept`:
 * matched, so not removed whole): at least half of the stretch, sampled every metre, within
 * matchGateM of it. Each gets a fresh id unique in the tile (`taken`) and its parent's id; the
 * counts go with `removed` / `moved`. A moved stretch is reported only where the previous
 * feature lies more than movedThresholdM from it (median over its samples; not where an earlier
 * merge already re-placed it) and not when the feature is reported moved whole.
 */
export function addLineParts(kind: 'removed' | 'moved', changes: TileChanges, prev: readonly MapFeature[], kept: ReadonlySet<string>, parts: readonly LineStretch[], frame: LocalFrame, tile: string, version: number, o: MergeOptions, taken: Set<string>): void {
  const pr = newProjection();
  const P = prev.map((f) => shapeOf(f, frame));
  const movedWhole = new Set(changes.movedIds);
  for (const part of parts) {
    const pts = part.coordinates.map(([lng, lat]) => frame.toLocal({ lng, lat }));
    if (pts.length < 2 || polylineLengthM(pts) < o.changeMinLengthM) continue;
    const r = resampleFlat(pts.map((q) => q[0]), pts.map((q) => q[1]), 0, pts.length, 1);
    let parent = -1;
    for (let i = 0; i < prev.length && parent < 0; i++) {
      const f = prev[i]!;
      const line = P[i]!.line;
      if (f.properties.class !== part.cls || !line || !kept.has(f.properties.id) || f.properties.score < o.changeMinScore) continue;
      let k = 0;
      for (let j = 0; j < r.x.length; j++) if (line.project(r.x[j]!, r.y[j]!, o.matchGateM, pr) && pr.beyond === 0) k++;
      if (2 * k >= r.x.length) parent = i;
    }
    if (parent < 0) continue;
    if (kind === 'moved') {
      // Moved since the previous version only where that version had it elsewhere: a stretch it
      // already shows in the new place (re-placed by the merge before) is no new change.
      if (movedWhole.has(prev[parent]!.properties.id)) continue;
      const line = P[parent]!.line!;
      const dist: number[] = [];
      for (let j = 0; j < r.x.length; j++) if (line.project(r.x[j]!, r.y[j]!, o.matchGateM, pr)) dist.push(pr.dist);
      dist.sort((a, b) => a - b);
      if (!(dist[dist.length >> 1]! > o.movedThresholdM)) continue;
    }
    const f: MapFeature = { type: 'Feature', id: '', geometry: { type: 'LineString', coordinates: part.coordinates }, properties: prev[parent]!.properties };
    const list = kind === 'removed' ? (changes.removedParts ??= []) : (changes.movedParts ??= []);
    list.push({ id: freshId(tile, version, f, taken), parentId: prev[parent]!.properties.id, cls: part.cls, coordinates: part.coordinates });
    changes[kind][part.cls] = (changes[kind][part.cls] ?? 0) + 1;
  }
}

/**
 * Stretches of the previous version's lines that the new version no longer has, though the line
 * itself lives on (its id is in `kept`): paint removed at a line's end or inside it that the merge
 * no longer clusters into the line at all (a stretch that went stale inside a consensus line is
 * cut there instead: withoutStaleStretches). Runs of a previous line's 1 m samples farther than
 * matchGateM from every new feature of its class and from every line in `covered` (the cut
 * stretches, tested already), at least `minRunM` long, in classes
 * `classes`. Whether the drives since show such a stretch gone is the caller's test
 * (absentSince): a stretch merely not reproduced is no removal.
 */
export function uncoveredStretches(prev: readonly MapFeature[], next: readonly MapFeature[], kept: ReadonlySet<string>, covered: readonly LineStretch[], frame: LocalFrame, o: MergeOptions, minRunM: number, classes: readonly PrimitiveClass[]): LineStretch[] {
  const out: LineStretch[] = [];
  const g = o.matchGateM;
  const lines: Array<{ cls: PrimitiveClass; line: Polyline; box: Float64Array }> = [];
  for (const f of next) {
    if (!classes.includes(f.properties.class) || f.geometry.type === 'Point') continue;
    const sh = shapeOf(f, frame);
    if (sh.line) lines.push({ cls: sh.cls, line: sh.line, box: boxOf(sh.samples) });
  }
  for (const c of covered) {
    if (!classes.includes(c.cls) || c.coordinates.length < 2) continue;
    const sh = sampled(c.coordinates.map(([lng, lat]) => frame.toLocal({ lng, lat })));
    lines.push({ cls: c.cls, line: sh.line, box: boxOf(sh.samples) });
  }
  const pr = newProjection();
  for (const f of prev) {
    const cls = f.properties.class;
    if (!classes.includes(cls) || !kept.has(f.properties.id) || f.geometry.type === 'Point') continue;
    const sh = shapeOf(f, frame);
    const n = sh.samples.length;
    if (n < 2) continue;
    const box = boxOf(sh.samples);
    const near = lines.filter((l) => l.cls === cls && !(box[0]! - g > l.box[2]! || l.box[0]! - g > box[2]! || box[1]! - g > l.box[3]! || l.box[1]! - g > box[3]!));
    const bare = sh.samples.map(([x, y]) => !near.some((l) => l.line.project(x, y, g, pr)));
    for (let a = 0; a < n; ) {
      if (!bare[a]) {
        a++;
        continue;
      }
      let b = a;
      while (b + 1 < n && bare[b + 1]) b++;
      // Samples lie 1 m apart: a run of k samples spans k - 1 metres.
      if (b - a >= minRunM) {
        const xs = sh.samples.slice(a, b + 1).map((q) => q[0]);
        const ys = sh.samples.slice(a, b + 1).map((q) => q[1]);
        const keep = simplifyIndices(xs, ys, 0, xs.length, STRETCH_SIMPLIFY_M);
        out.push({
          cls,
          coordinates: keep.map((i) => {
            const q = frame.toLngLat([xs[i]!, ys[i]!]);
            return [round8(q.lng), round8(q.lat)];
          }),
        });
      }
      a = b + 1;
    }
  }
  return out;
}

/** How far a reported stretch's vertices may lie from its 1 m samples, metres. */
const STRETCH_SIMPLIFY_M = 0.02;

function boxOf(pts: readonly XY[]): Float64Array {
  const b = Float64Array.of(Infinity, Infinity, -Infinity, -Infinity);
  for (const [x, y] of pts) {
    b[0] = Math.min(b[0]!, x);
    b[1] = Math.min(b[1]!, y);
    b[2] = Math.max(b[2]!, x);
    b[3] = Math.max(b[3]!, y);
  }
  return b;
}

/** A deterministic id, unique in the tile: class, place and version hashed. */
function freshId(tile: string, version: number, f: MapFeature, taken: Set<string>): string {
  const g = f.geometry;
  const first = firstPosition(g);
  const [, x, y] = tile.split('/');
  for (let k = 0; ; k++) {
    const h = createHash('sha1').update(`${tile}|${f.properties.class}|${first[0].toFixed(6)}|${first[1].toFixed(6)}|${version}|${k}`).digest('hex').slice(0, 10);
    const id = `${x}-${y}-${h}`;
    if (!taken.has(id)) {
      taken.add(id);
      return id;
    }
  }
}

const round3 = (v: number): number => Math.round(v * 1000) / 1000;
