/**
 * A tile job: what a worker needs to merge one tile, as plain data (it crosses process and queue
 * boundaries), and the I/O around the pure `mergeTile`: read the observation state of the tile
 * and its neighbours (state.ts) and the tile's previous object, merge, write
 * `tiles/v<N>/16/<x>/<y>.geojson` (publish.ts owns the layout), return a summary. The same job
 * gives the same bytes wherever it runs, and may run twice (a retry, a stalled queue job): it
 * only ever writes its own tile object. The version becomes visible when it is published.
 */
import { crashPoint } from '../../shared/crash-points.ts';
import type { WireObservation } from '../../shared/batch.ts';
import type { PrimitiveClass } from '../../shared/schema.ts';
import { parseTileKey } from '../../shared/tiles.ts';
import { openStore as openObjectStore, type ObjectStore } from '../store/index.ts';
import type { TileChanges } from './changes.ts';
import { newestSighting, parseTileCollection, type MapFeature } from './features.ts';
import { mergeTile, type TileStats } from './merge-tile.ts';
import { resolveMergeOptions, type MergeOptions } from './options.ts';
import { tileObjectKey } from './publish.ts';
import { tileOfStateKey } from './state.ts';
import { decodeShard, gatherForTile } from './shards.ts';

export interface TileJob {
  /** "16/x/y". */
  tile: string;
  version: number;
  /** Where the store is, as `ObjectStore.describe()` gives it ("file:///var/fleetmap"). */
  store: string;
  /** Observation state shards of the tile and its neighbours (those that hold any), object keys. */
  shards: string[];
  /** The tile's object in the previous version (to diff against), or null when it had none. */
  previousKey: string | null;
  /** The previous version's newest sighting (publish.ts newestSeenUnixMs), or null: a tile new in this version splits its drives there. */
  previousNewestSeenUnixMs: number | null;
  options: Partial<MergeOptions>;
}

export interface TileJobResult {
  tile: string;
  /** Key of the written tile. */
  key: string;
  features: number;
  byClass: Partial<Record<PrimitiveClass, number>>;
  changes: TileChanges;
  stats: Omit<TileStats, 'corrections'>;
  /** The newest sighting among the written features (largest lastSeenUnixMs), or null when there are none. */
  newestSeenUnixMs: number | null;
}

export { tileObjectKey };

/** Opens a store from its `describe()` location (file:// or s3://; S3 settings from this process's environment). */
export function openStore(location: string): ObjectStore {
  return openObjectStore(location);
}

export async function readPreviousTile(store: ObjectStore, key: string | null): Promise<MapFeature[]> {
  if (key === null) return [];
  const buf = await store.get(key);
  if (!buf) throw new Error(`previous tile object ${key} is missing`);
  return parseTileCollection(buf, key).features;
}

/**
 * Decoded shards by object key. State shards are immutable (content-addressed keys), so a worker
 * that runs several neighbouring jobs decodes each shard once. Bounded by `maxShards`.
 */
export class ShardCache {
  private readonly entries = new Map<string, WireObservation[] | null>();
  constructor(private readonly maxShards = 32) {}

  async get(store: ObjectStore, key: string): Promise<WireObservation[] | null> {
    const hit = this.entries.get(key);
    if (hit !== undefined) return hit;
    const buf = await store.get(key);
    const obs = buf ? decodeShard(buf, key).observations : null;
    if (this.entries.size >= this.maxShards) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(key, obs);
    return obs;
  }
}

/** Where a running job is, for a queue's progress (fraction 0..1 and the step just done). */
export type JobProgress = (fraction: number, step: 'read' | 'merged' | 'written') => void | Promise<void>;

export async function runTileJob(job: TileJob, store: ObjectStore = openStore(job.store), cache: ShardCache = new ShardCache(9), progress?: JobProgress): Promise<TileJobResult> {
  const o = resolveMergeOptions(job.options);
  const t = parseTileKey(job.tile);
  const shards = new Map<string, WireObservation[]>();
  for (const key of job.shards) {
    const obs = await cache.get(store, key);
    if (!obs) throw new Error(`observation state ${key} of tile job ${job.tile} is missing`);
    shards.set(tileOfStateKey(key), obs);
  }
  const previous = await readPreviousTile(store, job.previousKey);
  await progress?.(0.2, 'read');
  const res = mergeTile({ tile: job.tile, version: job.version, observations: gatherForTile(t, shards, o.marginM), previous, previousNewestSeenUnixMs: job.previousNewestSeenUnixMs, options: job.options });
  await progress?.(0.9, 'merged');
  crashPoint('merge_tile_job');
  const key = tileObjectKey(job.version, job.tile);
  await store.put(key, Buffer.from(JSON.stringify(res.collection)));
  const byClass: TileJobResult['byClass'] = {};
  for (const f of res.collection.features) byClass[f.properties.class] = (byClass[f.properties.class] ?? 0) + 1;
  const { corrections: _corrections, ...stats } = res.stats;
  return { tile: job.tile, key, features: res.collection.features.length, byClass, changes: res.changes, stats, newestSeenUnixMs: newestSighting(res.collection.features) };
}
