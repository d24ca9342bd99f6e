/**
 * The coordinator of a merge: one new immutable map version from every stored batch.
 *
 *  1. claim version N = latest + 1 (`merge/v<N>/claim.json`, putIfAbsent: two merges never
 *     build the same version);
 *  2. read `batches/**.fmb` (drive ids scoped to their vehicle: stored-batch.ts), shard the
 *     observations by tile (`merge/v<N>/obs/...`);
 *  3. one job per tile that has observations (or had features in v<N-1>), run by the executor;
 *     each job writes `tiles/v<N>/16/<x>/<y>.geojson`;
 *  4. write `tiles/v<N>/manifest.json`, then LAST `tiles/latest.json` -> N. Readers go through
 *     latest.json, so they never see a half-written version.
 */
import type { WireObservation } from '../../shared/batch.ts';
import type { PrimitiveClass } from '../../shared/schema.ts';
import type { ObjectStore } from '../store/index.ts';
import type { ClassCounts, TileChanges } from './changes.ts';
import { InProcessExecutor, type MergeExecutor } from './executor.ts';
import type { TileJob, TileJobResult } from './job.ts';
import { resolveMergeOptions, type MergeOptions } from './options.ts';
import { parseTileKey, tileKey } from '../../shared/tiles.ts';
import { encodeShard, neighbourhood, shardKey, tilesTouched } from './shards.ts';
import { readStoredBatch } from './stored-batch.ts';

export const LATEST_KEY = 'tiles/latest.json';

export interface Manifest {
  version: number;
  createdUnixMs: number;
  previousVersion: number | null;
  inputBatchCount: number;
  /** Batches that could not be decoded (skipped, listed in the log). */
  skippedBatchCount: number;
  inputObservationCount: number;
  /** Per tile: features by class, and consensus primitives dropped as stale / as shadows. */
  tiles: Array<{ tile: string; key: string; features: number; byClass: ClassCounts; dropped: { stale: number; shadows: number } }>;
  changes: {
    totals: { added: ClassCounts; removed: ClassCounts; moved: ClassCounts; lowConfidence: { added: ClassCounts; removed: ClassCounts } };
    tiles: Record<string, TileChanges>;
  };
  options: MergeOptions;
  elapsedMs: number;
}

export interface Latest {
  version: number;
  manifest: string;
  createdUnixMs: number;
}

export interface MergeLog {
  info(event: string, fields: Record<string, unknown>): void;
  warn(event: string, fields: Record<string, unknown>): void;
}

export const silentLog: MergeLog = { info: () => undefined, warn: () => undefined };

export interface RunMergeOptions {
  executor?: MergeExecutor;
  options?: Partial<MergeOptions>;
  /** Clock for createdUnixMs (tests pass a fixed one). */
  nowUnixMs?: () => number;
  log?: MergeLog;
}

export async function readLatest(store: ObjectStore): Promise<Latest | undefined> {
  const buf = await store.get(LATEST_KEY);
  if (!buf) return undefined;
  const l = JSON.parse(buf.toString('utf8')) as Latest;
  if (!Number.isInteger(l.version) || l.version < 1) throw new Error(`${LATEST_KEY} has no valid version: ${buf.toString('utf8').slice(0, 200)}`);
  return l;
}

export async function runMerge(store: ObjectStore, opts: RunMergeOptions = {}): Promise<Manifest> {
  const options = resolveMergeOptions(opts.options);
  const now = opts.nowUnixMs ?? Date.now;
  const log = opts.log ?? silentLog;
  const started = performance.now();
  const prev = await readLatest(store);
  const previousVersion = prev?.version ?? null;

  let version = (previousVersion ?? 0) + 1;
  while (!(await store.putIfAbsent(`merge/v${version}/claim.json`, Buffer.from(JSON.stringify({ claimedUnixMs: now(), pid: process.pid }))))) version++;
  log.info('merge_start', { version, previousVersion, store: store.describe() });

  // Read and shard every batch.
  const byTile = new Map<string, WireObservation[]>();
  const jobTiles = new Set<string>();
  const boxes = new Map<string, [number, number, number, number]>();
  const batchKeys = (await store.list('batches/')).filter((k) => k.endsWith('.fmb'));
  let skipped = 0;
  let nObs = 0;
  for (const key of batchKeys) {
    const buf = await store.get(key);
    if (!buf) continue;
    let observations: WireObservation[];
    try {
      observations = readStoredBatch(key, buf).observations; // drive ids scoped to the vehicle
    } catch (e) {
      skipped++;
      log.warn('merge_batch_skipped', { key, reason: (e as Error).message });
      continue;
    }
    for (const o of observations) {
      let list = byTile.get(o.tile);
      if (!list) byTile.set(o.tile, (list = []));
      list.push(o);
      for (const t of tilesTouched(o, boxes)) jobTiles.add(t);
      nObs++;
    }
  }
  const shardPrefix = `merge/v${version}/obs`;
  for (const [tile, list] of byTile) await store.put(shardKey(shardPrefix, tile), encodeShard(tile, list));
  if (previousVersion !== null) {
    const pm = await store.get(`tiles/v${previousVersion}/manifest.json`);
    if (pm) for (const t of (JSON.parse(pm.toString('utf8')) as Manifest).tiles) jobTiles.add(t.tile);
  }
  log.info('merge_sharded', { version, batches: batchKeys.length, skipped, observations: nObs, tiles: byTile.size, jobs: jobTiles.size, ms: Math.round(performance.now() - started) });

  // Largest jobs first (observations in the 3x3 neighbourhood), so the last ones to finish are
  // short and the workers end together.
  const cost = (tile: string): number => neighbourhood(parseTileKey(tile)).reduce((a, t) => a + (byTile.get(tileKey(t))?.length ?? 0), 0);
  const jobs: TileJob[] = [...jobTiles]
    .map((tile) => ({ tile, cost: cost(tile) }))
    .sort((a, b) => b.cost - a.cost || (a.tile < b.tile ? -1 : 1))
    .map(({ tile }) => ({ tile, version, store: store.describe(), shardPrefix, previousVersion, options: opts.options ?? {} }));
  const executor = opts.executor ?? new InProcessExecutor({ store, concurrency: 2 });
  const results = await executor.run(jobs, (r) => log.info('merge_tile', { tile: r.tile, features: r.features, ms: sumTimings(r) }));
  if (!opts.executor) await executor.close();

  const manifest: Manifest = {
    version,
    createdUnixMs: now(),
    previousVersion,
    inputBatchCount: batchKeys.length,
    skippedBatchCount: skipped,
    inputObservationCount: nObs,
    tiles: results.map((r) => ({ tile: r.tile, key: r.key, features: r.features, byClass: r.byClass, dropped: { stale: r.stats.stale, shadows: r.stats.shadows } })).sort((a, b) => (a.tile < b.tile ? -1 : 1)),
    changes: summarise(results),
    options,
    elapsedMs: Math.round(performance.now() - started),
  };
  if (!(await store.putIfAbsent(`tiles/v${version}/manifest.json`, Buffer.from(JSON.stringify(manifest, null, 1))))) {
    throw new Error(`tiles/v${version}/manifest.json already exists: versions are immutable`);
  }
  await publishLatest(store, version);
  log.info('merge_published', { version, tiles: results.length, features: results.reduce((a, r) => a + r.features, 0), elapsedMs: manifest.elapsedMs });
  return manifest;
}

/**
 * Point tiles/latest.json at the highest published version, last. The store has no
 * compare-and-swap, so two concurrent merges may both write it; each writer therefore re-reads
 * after writing and writes again while a higher manifest exists than latest names. Manifests are
 * written before latest, so whichever writer writes last sees the highest one: latest never
 * stays on a lower version.
 */
async function publishLatest(store: ObjectStore, version: number): Promise<void> {
  for (;;) {
    let top = version;
    while (await store.exists(`tiles/v${top + 1}/manifest.json`)) top++;
    const cur = await readLatest(store);
    if (cur && cur.version >= top) return;
    const m = JSON.parse((await store.get(`tiles/v${top}/manifest.json`))!.toString('utf8')) as Manifest;
    const latest: Latest = { version: top, manifest: `tiles/v${top}/manifest.json`, createdUnixMs: m.createdUnixMs };
    await store.put(LATEST_KEY, Buffer.from(JSON.stringify(latest)));
  }
}

function summarise(results: readonly TileJobResult[]): Manifest['changes'] {
  const totals: Manifest['changes']['totals'] = { added: {}, removed: {}, moved: {}, lowConfidence: { added: {}, removed: {} } };
  const tiles: Record<string, TileChanges> = {};
  const add = (into: ClassCounts, from: ClassCounts): void => {
    for (const [cls, n] of Object.entries(from)) into[cls as PrimitiveClass] = (into[cls as PrimitiveClass] ?? 0) + (n ?? 0);
  };
  for (const r of results) {
    tiles[r.tile] = r.changes;
    for (const k of ['added', 'removed', 'moved'] as const) add(totals[k], r.changes[k]);
    add(totals.lowConfidence.added, r.changes.lowConfidence.added);
    add(totals.lowConfidence.removed, r.changes.lowConfidence.removed);
  }
  return { totals, tiles };
}

function sumTimings(r: TileJobResult): number {
  return Math.round(Object.values(r.stats.timingsMs).reduce((a, b) => a + b, 0));
}
