/**
 * What merge N must do, decided by the coordinator before any tile job runs (incremental by
 * default):
 *
 *  1. batches: those not in v<N-1>'s consumed set (tiles/v<N-1>/inputs.json), found through the
 *     ingest's arrival log after v<N-1>'s arrival watermark, or by listing `batches/` when there
 *     is no usable watermark (new-batches.ts); `rebuild` lists and reads all (skipping, by their
 *     index, batches wholly older than the window). Either way the plan records the new watermark.
 *     A batch is consumed only once read and decoded (or skipped by the window on a good index):
 *     one named by an arrival record but not in the store, or torn (the ingest writes a batch and
 *     its record at once, cloud/ingest/service.ts), is read again when a later record names it
 *     or the margin re-lists its record;
 *  2. state: for each tile with new observations, or whose oldest observation left the window,
 *     the new state = previous state (window applied) + new observations (state.ts); `rebuild`
 *     builds every tile's state from the batches. Same observations, same key;
 *  3. recompute: every tile with a changed state, and every tile whose job gathers an observation
 *     that state gained or lost (a vertex within `marginM` of its square: shards.ts tilesReached;
 *     the same set incrementally and rebuilt), plus tiles new to the map (all tiles when the merge
 *     options changed or there is no previous version); every other
 *     tile of v<N-1> is carried into N by reference (its manifest entry, tile object untouched).
 *     `recomputeAll` recomputes every tile (after a change of the merge code: options are
 *     compared, code is not).
 */
import type { WireObservation } from '../../shared/batch.ts';
import { parseTileKey, tileKey } from '../../shared/tiles.ts';
import type { ObjectStore } from '../store/index.ts';
import { BatchSet } from './batch-set.ts';
import { indexOf, readBatchIndex, writeBatchIndex } from './batch-index.ts';
import { findNewBatches } from './new-batches.ts';
import type { TileJob } from './job.ts';
import type { MergeOptions } from './options.ts';
import { newestSeenUnixMs, type Manifest, type ManifestTile, type PublishPlan, type TileState } from './publish.ts';
import { neighbourhood, tilesReached, tilesTouched, type ReachCache } from './shards.ts';
import { EMPTY_STATE, StateMissingError, normalise, readState, writeState } from './state.ts';
import { readStoredBatch } from './stored-batch.ts';

const DAY_MS = 86_400_000;

export interface PlanInput {
  store: ObjectStore;
  version: number;
  nowUnixMs: number;
  previous: Manifest | undefined;
  options: MergeOptions;
  /** Options as given (what jobs carry). */
  jobOptions: Partial<MergeOptions>;
  windowDays: number | null;
  rebuild: boolean;
  /** Recompute every tile (a new merge algorithm); carried tiles then get new objects. */
  recomputeAll: boolean;
  warn: (event: string, fields: Record<string, unknown>) => void;
}

export interface MergePlan {
  publish: PublishPlan;
  jobs: TileJob[];
  /** For the run report and log. */
  stats: { mode: 'incremental' | 'rebuild'; newBatchesFrom: 'arrivals' | 'listing'; arrivalRecordsRead: number; batchesRead: number; batchesSkippedByWindow: number; batchesUndecodable: number; batchesMissing: number; newObservations: number; statesChanged: number; tilesRecomputed: number; tilesCarried: number };
}

export async function planMerge(p: PlanInput): Promise<MergePlan> {
  const { store, previous: prev } = p;
  const cutoffUnixMs = p.windowDays === null ? -Infinity : p.nowUnixMs - p.windowDays * DAY_MS;
  // A previous version from before incremental merges (no inputs.json) is rebuilt from the batches.
  const incremental = !p.rebuild && prev !== undefined && typeof prev.inputs === 'string';
  const consumed = incremental ? await readInputs(store, prev) : new BatchSet();
  const prevTiles = new Map<string, ManifestTile>((prev?.tiles ?? []).map((t) => [t.tile, t]));
  const prevNewest = newestSeenUnixMs(prev?.tiles ?? []);

  // 1. New observations, by the tile they are keyed to.
  const fresh = new Map<string, WireObservation[]>();
  const touched = new Set<string>();
  const boxes = new Map<string, [number, number, number, number]>();
  const reachCache: ReachCache = new Map();
  let read = 0;
  let skippedByWindow = 0;
  let undecodable = 0;
  let missing = 0;
  let nNew = 0;
  const found = await findNewBatches({ store, incremental, previousWatermark: prev?.arrivalWatermark, previousName: `v${prev?.version ?? 0}`, consumed, warn: p.warn });
  for (const key of found.keys) {
    if (consumed.has(key)) continue;
    if (cutoffUnixMs > -Infinity) {
      const idx = await readBatchIndex(store, key);
      // An index with an error (written by merges before 2026-12-06) says nothing of the batch
      // there now: a resend may have replaced a torn one.
      if (idx && idx.error === undefined && (idx.maxTUnixMs === null || idx.maxTUnixMs < cutoffUnixMs)) {
        consumed.add(key);
        skippedByWindow++;
        continue;
      }
    }
    const buf = await store.get(key);
    if (!buf) {
      missing++; // named by a record, not (yet) stored: not consumed
      continue;
    }
    read++;
    let observations: WireObservation[];
    try {
      observations = readStoredBatch(key, buf).observations; // drive ids scoped to the vehicle
    } catch (e) {
      // Not consumed, no index: a torn write is replaced by its vehicle's resend, whose record
      // brings the key back (the ingest verified every batch it stored).
      undecodable++;
      p.warn('merge_batch_skipped', { key, reason: (e as Error).message });
      continue;
    }
    consumed.add(key);
    await writeBatchIndex(store, key, indexOf(observations));
    for (const o of observations) {
      if (o.tUnixMs < cutoffUnixMs) continue;
      let list = fresh.get(o.tile);
      if (!list) fresh.set(o.tile, (list = []));
      list.push(o);
      for (const t of tilesTouched(o, boxes)) touched.add(t);
      nNew++;
    }
  }

  // 2. State of every tile whose observations may have changed.
  const candidates = new Set<string>(fresh.keys());
  for (const t of prevTiles.values()) {
    if (t.obs === null) continue;
    if (!incremental || (t.oldestObsUnixMs !== null && t.oldestObsUnixMs < cutoffUnixMs)) candidates.add(t.tile);
  }
  const changed = new Map<string, TileState>();
  // Per changed tile: itself and the tiles whose jobs gather an observation it gained or lost.
  const reach = new Map<string, Set<string>>();
  for (const tile of [...candidates].sort()) {
    const before = prevTiles.get(tile);
    const prevObs = incremental && before?.obs ? await readState(store, before.obs) : [];
    const added = normalise(tile, fresh.get(tile) ?? []);
    const obs = prevObs.filter((o) => o.tUnixMs >= cutoffUnixMs).concat(added);
    const state = await writeState(store, tile, obs);
    if (state.obs === (before?.obs ?? null)) continue;
    changed.set(tile, state);
    // What the state gained or lost. Incrementally: the new observations and those the window
    // dropped. A rebuild reads the previous state only now and compares; one that is gone (what
    // a rebuild recovers from) leaves the difference unknown: then the whole 3x3 neighbourhood.
    let delta: WireObservation[] | undefined;
    if (incremental) delta = prevObs.filter((o) => o.tUnixMs < cutoffUnixMs).concat(added);
    else if (!before?.obs) delta = obs;
    else {
      const was = await readState(store, before.obs).catch((e: unknown) => {
        if (e instanceof StateMissingError) return undefined;
        throw e;
      });
      delta = was && symmetricDifference(was, obs);
    }
    const r = new Set<string>([tile]);
    if (delta === undefined) for (const nb of neighbourhood(parseTileKey(tile))) r.add(tileKey(nb));
    else for (const o of delta) for (const t of tilesReached(o, p.options.marginM, reachCache)) r.add(t);
    reach.set(tile, r);
  }
  const stateOf = (tile: string): TileState => changed.get(tile) ?? (prevTiles.has(tile) ? pickState(prevTiles.get(tile)!) : EMPTY_STATE);

  // 3. Which tiles to recompute; the rest are carried.
  const allTiles = new Set<string>([...prevTiles.keys(), ...touched]);
  const optionsChanged = prev !== undefined && JSON.stringify(prev.options) !== JSON.stringify(p.options);
  const recompute = new Set<string>();
  if (!prev || optionsChanged || p.recomputeAll) for (const t of allTiles) recompute.add(t);
  else {
    for (const t of touched) if (!prevTiles.has(t)) recompute.add(t);
    for (const r of reach.values()) for (const t of r) if (allTiles.has(t)) recompute.add(t);
  }

  const shardsOf = (tile: string): string[] => neighbourhood(parseTileKey(tile)).map((nb) => stateOf(tileKey(nb)).obs).filter((k): k is string => k !== null);
  const cost = (tile: string): number => neighbourhood(parseTileKey(tile)).reduce((a, nb) => a + stateOf(tileKey(nb)).obsCount, 0);
  // Largest jobs first (observations in the 3x3 neighbourhood), so the last ones to finish are
  // short and the workers end together.
  const jobs: TileJob[] = [...recompute]
    .map((tile) => ({ tile, cost: cost(tile) }))
    .sort((a, b) => b.cost - a.cost || (a.tile < b.tile ? -1 : 1))
    .map(({ tile }) => ({ tile, version: p.version, store: store.describe(), shards: shardsOf(tile), previousKey: prevTiles.get(tile)?.key ?? null, previousNewestSeenUnixMs: prevNewest, options: p.jobOptions }));
  const states: Record<string, TileState> = {};
  for (const t of [...recompute].sort()) states[t] = stateOf(t);
  const carried = [...prevTiles.values()].filter((t) => !recompute.has(t.tile));
  let nObs = 0;
  for (const t of allTiles) nObs += stateOf(t).obsCount;
  return {
    publish: {
      version: p.version,
      createdUnixMs: p.nowUnixMs,
      previousVersion: prev?.version ?? null,
      windowDays: p.windowDays,
      options: p.options,
      inputs: consumed.toJson(),
      inputBatchCount: consumed.size,
      inputObservationCount: nObs,
      arrivalWatermark: found.watermark,
      carried,
      states,
    },
    jobs,
    stats: { mode: incremental ? 'incremental' : 'rebuild', newBatchesFrom: found.source, arrivalRecordsRead: found.arrivalRecordsRead, batchesRead: read, batchesSkippedByWindow: skippedByWindow, batchesUndecodable: undecodable, batchesMissing: missing, newObservations: nNew, statesChanged: changed.size, tilesRecomputed: jobs.length, tilesCarried: carried.length },
  };
}

async function readInputs(store: ObjectStore, prev: Manifest): Promise<BatchSet> {
  const buf = await store.get(prev.inputs);
  if (!buf) throw new Error(`${prev.inputs} (consumed batches of v${prev.version}) is missing`);
  return BatchSet.fromJson(JSON.parse(buf.toString('utf8')), prev.inputs);
}

function pickState(t: ManifestTile): TileState {
  return { obs: t.obs ?? null, obsCount: t.obsCount ?? 0, oldestObsUnixMs: t.oldestObsUnixMs ?? null };
}

/** Observations in exactly one of the two lists (as normalised states hold them): a rebuild's state change. */
function symmetricDifference(a: readonly WireObservation[], b: readonly WireObservation[]): WireObservation[] {
  const key = (o: WireObservation): string => `${o.driveId}|${o.tUnixMs}|${o.cls}|${o.style ?? ''}|${o.kind ?? ''}|${o.signCode ?? ''}|${o.score}|${o.poseSigmaCm}|${o.pointsCm.join(';')}`;
  const count = new Map<string, number>();
  for (const o of a) count.set(key(o), (count.get(key(o)) ?? 0) + 1);
  for (const o of b) count.set(key(o), (count.get(key(o)) ?? 0) - 1);
  const out: WireObservation[] = [];
  for (const list of [a, b]) {
    for (const o of list) {
      const k = key(o);
      const c = count.get(k)!;
      if (c === 0) continue;
      // Surplus on one side: report one copy and take it off the count.
      if ((c > 0) === (list === a)) {
        out.push(o);
        count.set(k, c > 0 ? c - 1 : c + 1);
      }
    }
  }
  return out;
}
