/**
 * A tile job: what a worker needs to merge one tile, as plain data (it crosses process and queue
 * boundaries), and the I/O around the pure `mergeTile`: read the 3x3 shards and the previous
 * version of the tile, merge, write `tiles/v<N>/16/<x>/<y>.geojson`, return a summary.
 * The version becomes visible only when the coordinator writes tiles/latest.json.
 */
import { fileURLToPath } from 'node:url';
import type { WireObservation } from '../../shared/batch.ts';
import type { PrimitiveClass } from '../../shared/schema.ts';
import { parseTileKey, tileKey } from '../../shared/tiles.ts';
import { LocalDirStore, type ObjectStore } from '../store/index.ts';
import type { TileChanges } from './changes.ts';
import { parseTileCollection, type MapFeature } from './features.ts';
import { mergeTile, type TileStats } from './merge-tile.ts';
import { resolveMergeOptions, type MergeOptions } from './options.ts';
import { decodeShard, gatherForTile, neighbourhood, shardKey } from './shards.ts';

export interface TileJob {
  /** "16/x/y". */
  tile: string;
  version: number;
  /** Where the store is, as `ObjectStore.describe()` gives it ("file:///var/fleetmap"). */
  store: string;
  /** Key prefix of this run's observation shards ("merge/v3/obs"). */
  shardPrefix: string;
  /** The version to diff against, or null for the first. */
  previousVersion: number | null;
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
}

export function tileObjectKey(version: number, tile: string): string {
  const t = parseTileKey(tile);
  return `tiles/v${version}/${t.z}/${t.x}/${t.y}.geojson`;
}

/** Opens a store from its `describe()` location. Only local directories so far. */
export function openStore(location: string): ObjectStore {
  if (location.startsWith('file://')) return new LocalDirStore(fileURLToPath(location));
  throw new RangeError(`cannot open object store ${JSON.stringify(location)}: only file:// stores are supported`);
}

export async function readPreviousTile(store: ObjectStore, version: number | null, tile: string): Promise<MapFeature[]> {
  if (version === null) return [];
  const key = tileObjectKey(version, tile);
  const buf = await store.get(key);
  return buf ? parseTileCollection(buf, key).features : [];
}

/**
 * Decoded shards by object key. Shards are immutable (their key names the version), so a worker
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

export async function runTileJob(job: TileJob, store: ObjectStore = openStore(job.store), cache: ShardCache = new ShardCache(9)): Promise<TileJobResult> {
  const o = resolveMergeOptions(job.options);
  const t = parseTileKey(job.tile);
  const shards = new Map<string, WireObservation[]>();
  for (const nb of neighbourhood(t)) {
    const obs = await cache.get(store, shardKey(job.shardPrefix, tileKey(nb)));
    if (obs) shards.set(tileKey(nb), obs);
  }
  const previous = await readPreviousTile(store, job.previousVersion, job.tile);
  const res = mergeTile({ tile: job.tile, version: job.version, observations: gatherForTile(t, shards, o.marginM), previous, options: job.options });
  const key = tileObjectKey(job.version, job.tile);
  await store.put(key, Buffer.from(JSON.stringify(res.collection)));
  const byClass: TileJobResult['byClass'] = {};
  for (const f of res.collection.features) byClass[f.properties.class] = (byClass[f.properties.class] ?? 0) + 1;
  const { corrections: _corrections, ...stats } = res.stats;
  return { tile: job.tile, key, features: res.collection.features.length, byClass, changes: res.changes, stats };
}
