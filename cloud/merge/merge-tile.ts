/**
 * `mergeTile`: the whole merge of one tile, a pure function of its input (no I/O, no clock).
 *
 * Input: the observations of the tile and of its neighbours within `marginM`, already in the
 * tile's local frame (metres), and the tile's features in the previous version. Output: the
 * tile's GeoJSON FeatureCollection (clipped to the tile square), the change summary against the
 * previous version, and statistics (including each drive segment's correction).
 *
 * Pipeline: coarse alignment (score-map search, leave-one-drive-out) -> clustering at a wide
 * gate -> fine alignment (point-to-line against the consensus, iterated) -> local gauge (mean
 * correction over drives zero at each place) -> clustering at the final gate -> consensus
 * pieces -> evidence over time (support, misses, staleness) -> clip to the tile -> diff.
 */
import { pointPolylineDistM } from '../../shared/geometry.ts';
import { parseTileKey, tileBounds, tileFrame } from '../../shared/tiles.ts';
import { PRIMITIVE_CLASSES, type PrimitiveClass, type XY } from '../../shared/schema.ts';
import { coarseAlign } from './align-coarse.ts';
import { alignToConsensus } from './align-fine.ts';
import { barsAlongLines } from './bars-along-lines.ts';
import { extendDashedEnds } from './dashed-ends.ts';
import { barsAtKerbs } from './bars-at-kerbs.ts';
import { splitBarsAtLaneEnds } from './bars-at-lane-ends.ts';
import { addLineParts, diffTile, uncoveredStretches, type LineStretch, type TileChanges } from './changes.ts';
import { clusterAll, toConsensus } from './consensus.ts';
import { Footprint, absentSince, evidenceOf, isStale, recentDriveCount, shadows, withoutStaleStretches } from './evidence.ts';
import { movedStretches, recentShiftM, replaceStretches } from './recent-shift.ts';
import { clipToTile, isAreaGeometry, newestSighting, type MapFeature, type TileFeatureCollection } from './features.ts';
import { localGauge } from './gauge.ts';
import { resolveMergeOptions, type MergeOptions } from './options.ts';
import { tileBoxM } from './shards.ts';
import { CLS_BOUNDARY, CLS_CROSSWALK, CLS_DIVIDER, CLS_LIGHT, CLS_SIGN, CLS_STOP, correctPoints, correctVertices, prepare, resample, segmentCorrectionAt, type TileObservation } from './prepare.ts';

/** Lines whose stretches go on their own: stale ones cut out, uncovered ones reported removed. */
const STALE_STRETCH_CLASSES: readonly PrimitiveClass[] = ['lane_divider', 'road_boundary'];

export interface TileInput {
  /** "16/x/y". */
  tile: string;
  /** The version being built (goes into ids of new features and the collection). */
  version: number;
  /** Observations of the tile and its neighbours' margin, in this tile's frame. */
  observations: readonly TileObservation[];
  /** This tile's features in the previous version (empty or absent for the first). */
  previous?: readonly MapFeature[];
  /**
   * The previous version's newest sighting over all its tiles (null or absent: none, or no
   * previous version). A tile without previous features splits its drives into earlier and
   * recent there: what it now publishes where nobody had looked before is new coverage.
   */
  previousNewestSeenUnixMs?: number | null;
  options?: Partial<MergeOptions>;
}

/** One drive segment's estimated correction (added to its raw positions), metres, tile frame. */
export interface SegmentCorrection {
  driveId: string;
  t0UnixMs: number;
  t1UnixMs: number;
  dxM: number;
  dyM: number;
  /** The segment's rotation about its pivot, milliradians counter-clockwise (0 when rotation is off). */
  rotationMrad: number;
}

export interface TileStats {
  observations: number;
  drives: number;
  segments: number;
  /** Consensus primitives before clipping; dropped as stale, and as shadows of a stronger one. */
  consensus: number;
  stale: number;
  shadows: number;
  features: number;
  fineIterations: number;
  timingsMs: Record<'prepare' | 'coarse' | 'cluster1' | 'fine' | 'cluster2' | 'publish', number>;
  corrections: SegmentCorrection[];
}

export interface TileResult {
  tile: string;
  collection: TileFeatureCollection;
  changes: TileChanges;
  stats: TileStats;
}

export function mergeTile(input: TileInput, now: () => number = () => performance.now()): TileResult {
  const o = resolveMergeOptions(input.options);
  const tileId = parseTileKey(input.tile);
  const t = { prepare: 0, coarse: 0, cluster1: 0, fine: 0, cluster2: 0, publish: 0 };
  let t0 = now();
  const lap = (k: keyof typeof t): void => {
    const t1 = now();
    t[k] = Math.round((t1 - t0) * 10) / 10;
    t0 = t1;
  };

  const p = prepare(input.observations, o);
  const lineSpacing = (c: number): number => (c === CLS_DIVIDER || c === CLS_BOUNDARY ? o.resampleM : c === CLS_STOP ? o.stopLineResampleM : 0);
  const rsLine = resample(p, lineSpacing);
  // Alignment needs no metre-by-metre lines: the first clustering and the fine loop run on a
  // resampling twice as coarse (half the work).
  const rsFit = resample(p, (c) => 2 * lineSpacing(c));
  const rsAlign = resample(p, (c) => (c === CLS_SIGN || c === CLS_LIGHT ? 1 : c === CLS_CROSSWALK || lineSpacing(c) > 0 ? o.alignSpacingM : 0));
  lap('prepare');

  const { corr } = coarseAlign(p, rsAlign, o);
  lap('coarse');

  let vtx = correctVertices(p, corr, null);
  const first = clusterAll(p, rsFit, vtx.x, vtx.y, correctPoints(rsFit, p, corr, null), o, o.coarseGateM, undefined, 2);
  lap('cluster1');

  const theta = o.rotationPriorSigmaRad > 0 ? new Float64Array(p.nSeg) : null;
  const fine = alignToConsensus(p, rsFit, first, corr, o, theta);
  const gauge = localGauge(p, rsAlign, corr, o, theta);
  lap('fine');

  const pos = correctPoints(rsLine, p, corr, gauge, theta);
  vtx = correctVertices(p, corr, gauge, theta);
  const [bx0, by0, bx1, by1] = tileBoxM(tileId);
  const m = o.outputMarginM;
  const nearTile = new Uint8Array(p.nObs);
  for (let i = 0; i < p.nObs; i++) {
    for (let k = p.vStart[i]!; k < p.vStart[i]! + p.vCount[i]!; k++) {
      const x = vtx.x[k]!;
      const y = vtx.y[k]!;
      if (x >= bx0 - m && x <= bx1 + m && y >= by0 - m && y <= by1 + m) {
        nearTile[i] = 1;
        break;
      }
    }
  }
  const final = clusterAll(p, rsLine, vtx.x, vtx.y, pos, o, o.gateM, nearTile);
  const footprint = new Footprint(p, rsAlign, correctPoints(rsAlign, p, corr, gauge, theta), o.footprintCellM);
  const linePts = { start: rsLine.obsStart, count: rsLine.obsCount, x: pos.x, y: pos.y };
  // Recent against earlier drives: split at the newest sighting the previous version holds.
  // A tile without previous features (new in this version) splits at the previous version's.
  const prevSeenUnixMs = newestSighting(input.previous ?? []) ?? input.previousNewestSeenUnixMs ?? -Infinity;
  const split = prevSeenUnixMs > -Infinity ? { afterUnixMs: prevSeenUnixMs, minDrives: o.minDrives } : undefined;
  // Lines lose the stretches that no drive since the previous version saw, though those that
  // passed there since all could have: paint removed since then (no cut without a previous version).
  const cutStale = split !== undefined && o.staleStretchWindowM > 0 && o.staleStretchMinM > 0;
  const frame = tileFrame(tileId);
  const bounds = tileBounds(tileId);
  const cuts: LineStretch[] = [];
  // Stretches of lines that the recent drives place aside (paint repainted inside a longer
  // line): re-placed there before the stale test (which would take the old place, which the
  // recent drives no longer see, for removed paint), and reported moved as parts of the line.
  const moveSplit = (input.previous?.length ?? 0) > 0 && o.movedStretchBinM > 0 && o.movedStretchMinM > 0 ? split : undefined;
  const moves: LineStretch[] = [];
  /** A stretch of a line (tile frame) as the pieces of it inside the tile, [lng, lat], into `out`. */
  const clippedStretches = (cls: PrimitiveClass, run: readonly XY[], out: LineStretch[]): void => {
    for (const g of clipToTile(cls, run, frame, tileId, bounds, o.minLineM)) if (g.type === 'LineString') out.push({ cls, coordinates: g.coordinates.map((q) => [q[0]!, q[1]!]) });
  };
  const moveOptions = { binM: o.movedStretchBinM, minLengthM: o.movedStretchMinM, thresholdM: o.movedThresholdM, minRecentDrives: o.staleAfterMissedDrives };
  // Moves the previous version made (its lines' movedAfterUnixMs): tested again with their own
  // split, so a few drives since cannot take a re-placed stretch back to the old paint that the
  // earlier drives still outnumber. Not reported again: the previous version shows them.
  const remembered = moveSplit ? rememberedMoves(input.previous ?? [], frame) : [];
  /** Consensus lines with a re-placed stretch -> the split it was found with. */
  const movedAfter = new Map<object, number>();
  const laneEnds = { reachM: o.stopLineLaneReachM, endM: o.stopLineLaneEndM, minPieceM: o.stopLineLaneEndMinPieceM, tangentM: o.stopLineLaneEndTangentM, minAngleDeg: o.stopLineLaneEndMinAngleDeg };
  const consensus = splitBarsAtLaneEnds(toConsensus(p, rsLine, final, o), linePts, laneEnds).flatMap((c0) => {
    let c = c0;
    let after: number | undefined;
    if (moveSplit && (c.cls === 'lane_divider' || c.cls === 'road_boundary')) {
      const stretches = movedStretches(c, p, linePts, moveSplit, moveOptions);
      if (stretches.length) {
        const r = replaceStretches(c, stretches);
        c = r.c;
        after = moveSplit.afterUnixMs;
        for (const run of r.moved) clippedStretches(c.cls, run, moves);
      } else {
        for (const t of remembered) {
          if (t.cls !== c.cls || t.afterUnixMs === moveSplit.afterUnixMs || !t.points.some((q) => pointPolylineDistM(q, c0.points) <= o.matchGateM)) continue;
          const again = movedStretches(c, p, linePts, { afterUnixMs: t.afterUnixMs, minDrives: o.minDrives }, moveOptions);
          if (!again.length) continue;
          c = replaceStretches(c, again).c;
          after = t.afterUnixMs;
          break;
        }
      }
    }
    const pieces = !cutStale || !STALE_STRETCH_CLASSES.includes(c.cls) ? [c] : (() => {
      const w = withoutStaleStretches(c, p, linePts, footprint, o, o.gateM, o.staleStretchWindowM, o.staleStretchMinM, prevSeenUnixMs);
      for (const run of w.cut) clippedStretches(c.cls, run, cuts);
      return w.pieces;
    })();
    if (after !== undefined) for (const q of pieces) movedAfter.set(q, after);
    return pieces;
  });
  lap('cluster2');

  const features: MapFeature[] = [];
  /** Per feature: first seen after the previous version where no drive had passed before (new coverage). */
  const grew: boolean[] = [];
  let stale = 0;
  /** Per live primitive: its consensus, evidence and (with a previous version) its drives since then. */
  const live: Array<{ c: (typeof consensus)[number]; e: ReturnType<typeof evidenceOf>; recentDrives: number | undefined }> = [];
  for (const c of consensus) {
    const e = evidenceOf(c, p, footprint, split ? split.afterUnixMs : Infinity);
    if (isStale(e, o)) stale++;
    else live.push({ c, e, recentDrives: split ? recentDriveCount(c, p, split.afterUnixMs) : undefined });
  }
  // New paint (a painted line: nearly all its drives since the previous version, at least as
  // many as a removal needs misses) is no ghost of the old line beside it. A GNSS multipath
  // ghost is one or two drives' jump, not several recent drives agreeing. (Kerbs are not
  // repainted: on the oracle's roundabout validation map the exemption let a kerb ghost through.)
  const newPaint = (k: number): boolean => {
    const { c, e, recentDrives } = live[k]!;
    if (recentDrives === undefined || (c.cls !== 'lane_divider' && c.cls !== 'stop_line')) return false;
    return recentDrives >= Math.max(o.staleAfterMissedDrives, o.changeNewDrivesShare * e.supportDrives);
  };
  const shadowed = shadows(live, o, newPaint);
  const misread = barsAlongLines(live, { alongM: o.stopLineAlongM, maxAngleDeg: o.stopLineAlongMaxDeg, minShare: o.stopLineAlongShare });
  const kept = live.filter((_, k) => !shadowed[k] && !misread[k]);
  const trimmed = barsAtKerbs(kept, { maxTrimM: o.stopLineKerbTrimM, maxShare: o.stopLineKerbTrimShare, minSupportShare: o.stopLineKerbMinSupportShare });
  const extended = extendDashedEnds(kept.map(({ c }) => c), { extendM: o.dashedEndExtendM, clearM: o.dashedEndClearM, tangentM: o.dashedEndTangentM });
  for (let k = 0; k < kept.length; k++) {
    const { c, e, recentDrives } = kept[k]!;
    const shift = split ? recentShiftM(c, p, vtx.x, vtx.y, split) : undefined;
    for (const geometry of clipToTile(c.cls, trimmed[k] ?? extended[k] ?? c.points, frame, tileId, bounds, o.minLineM)) {
      const props: MapFeature['properties'] = {
        id: '',
        class: c.cls,
        score: e.score,
        supportDrives: e.supportDrives,
        supportObservations: e.supportObservations,
        firstSeenUnixMs: e.firstSeenUnixMs,
        lastSeenUnixMs: e.lastSeenUnixMs,
        seenShare: e.seenShare,
      };
      if (c.style) props.style = c.style;
      if (c.kind) props.kind = c.kind;
      if (c.signCode !== undefined) props.signCode = c.signCode;
      if (geometry.type === 'LineString') props.spreadM = Math.round(c.spreadM * 1000) / 1000;
      if (shift !== undefined) props.recentShiftM = Math.round(shift * 1000) / 1000;
      if (recentDrives !== undefined) props.recentDrives = recentDrives;
      const after = movedAfter.get(c);
      if (after !== undefined) props.movedAfterUnixMs = after;
      features.push({ type: 'Feature', id: '', geometry, properties: props });
      grew.push(split !== undefined && e.firstSeenUnixMs > split.afterUnixMs && e.missedBeforeNew === 0);
    }
  }
  // A previous feature not reproduced is removed only when recent drives passed it and saw nothing of its class there.
  // Lines by their resampled points (vertices of a simplified line lie metres apart), the rest by their vertices.
  const vertexPts = { start: p.vStart, count: p.vCount, x: vtx.x, y: vtx.y };
  // (A tile left with no observations at all, its window emptied, has no evidence either way: all
  // its previous features are removed, as before.)
  const absent = split && p.nObs > 0
    ? (f: MapFeature, pts: readonly XY[]): boolean => {
        const cls = PRIMITIVE_CLASSES.indexOf(f.properties.class);
        return absentSince(pts, isAreaGeometry(f.geometry), cls, p, lineSpacing(cls) > 0 ? linePts : vertexPts, footprint, split, o.matchGateM, cls === CLS_STOP ? o.stopLineResampleM : undefined);
      }
    : undefined;
  const diff = diffTile(input.previous ?? [], features, frame, input.tile, input.version, o, absent, (j) => grew[j]!);
  const taken = new Set(diff.ids);
  if (cutStale && input.previous?.length && p.nObs > 0) {
    // The stretches cut out of consensus lines, and those of the previous lines that no new
    // feature covers any more (paint removed at a line's end, or gone from the clustering
    // altogether); each reported removed only on the same evidence of absence as a whole feature.
    const kept = diff.continued;
    const bare = uncoveredStretches(input.previous, features, kept, cuts, frame, o, o.staleStretchMinM, STALE_STRETCH_CLASSES);
    const gone = [...cuts, ...bare].filter((c) => absentSince(c.coordinates.map(([lng, lat]) => frame.toLocal({ lng, lat })), false, PRIMITIVE_CLASSES.indexOf(c.cls), p, linePts, footprint, split, o.matchGateM));
    if (gone.length) addLineParts('removed', diff.changes, input.previous, kept, gone, frame, input.tile, input.version, o, taken);
  }
  if (moves.length && input.previous?.length) addLineParts('moved', diff.changes, input.previous, new Set(diff.ids), moves, frame, input.tile, input.version, o, taken);
  features.forEach((f, j) => {
    f.id = diff.ids[j]!;
    f.properties.id = f.id;
    const inherited = diff.inheritedFirstSeen[j];
    if (inherited !== undefined && inherited < f.properties.firstSeenUnixMs) f.properties.firstSeenUnixMs = inherited;
  });
  lap('publish');

  const corrections: SegmentCorrection[] = [];
  const g = new Float64Array(2);
  const c = new Float64Array(2);
  const firstObs = new Int32Array(p.nSeg).fill(-1);
  for (let i = p.nObs - 1; i >= 0; i--) firstObs[p.seg[i]!] = i;
  for (let s = 0; s < p.nSeg; s++) {
    // Report the correction including the gauge at the segment's first observation.
    const i = firstObs[s]!;
    const qx = p.vx[p.vStart[i]!]!;
    const qy = p.vy[p.vStart[i]!]!;
    gauge(qx, qy, g);
    segmentCorrectionAt(p, corr, theta, s, qx, qy, c);
    corrections.push({
      driveId: p.driveIds[p.segDrive[s]!]!,
      t0UnixMs: p.segT0[s]!,
      t1UnixMs: p.segT1[s]!,
      dxM: Math.round((c[0]! - g[0]!) * 1000) / 1000,
      dyM: Math.round((c[1]! - g[1]!) * 1000) / 1000,
      rotationMrad: theta ? Math.round(theta[s]! * 1e6) / 1000 : 0,
    });
  }
  return {
    tile: input.tile,
    collection: { type: 'FeatureCollection', tile: input.tile, version: input.version, features },
    changes: diff.changes,
    stats: {
      observations: p.nObs,
      drives: p.driveIds.length,
      segments: p.nSeg,
      consensus: consensus.length,
      stale,
      shadows: shadowed.filter(Boolean).length,
      features: features.length,
      fineIterations: fine.iterations,
      timingsMs: t,
      corrections,
    },
  };
}

/**
 * The previous version's lines with a re-placed stretch (`movedAfterUnixMs`), in the tile's
 * frame, one entry per feature, ordered by split time then class (the same order whatever order
 * the previous tile lists them in).
 */
function rememberedMoves(previous: readonly MapFeature[], frame: ReturnType<typeof tileFrame>): Array<{ cls: PrimitiveClass; afterUnixMs: number; points: XY[] }> {
  const out: Array<{ cls: PrimitiveClass; afterUnixMs: number; points: XY[] }> = [];
  for (const f of previous) {
    const t = f.properties.movedAfterUnixMs;
    if (t === undefined || !Number.isFinite(t) || f.geometry.type !== 'LineString') continue;
    out.push({ cls: f.properties.class, afterUnixMs: t, points: f.geometry.coordinates.map(([lng, lat]) => frame.toLocal({ lng, lat })) });
  }
  return out.sort((a, b) => a.afterUnixMs - b.afterUnixMs || (a.cls < b.cls ? -1 : a.cls > b.cls ? 1 : 0));
}
