/**
 * A tile's observation state: every observation keyed to the tile (inside the time window), as one
 * content-addressed shard `state/obs/16/<x>/<y>/<sha256 of the bytes, 16 hex>.obs` (shards.ts
 * format). Canonical: observations normalised through the shard encoding and sorted, so the same
 * set of observations gives the same bytes and the same key whether it was rebuilt from every
 * batch or updated from the previous state plus new batches. A tile whose key did not change has
 * the same inputs as before; a merge recomputes only tiles with a changed key in their 3x3
 * neighbourhood (their jobs read these shards).
 */
import { createHash } from 'node:crypto';
import type { WireObservation } from '../../shared/batch.ts';
import { parseTileKey } from '../../shared/tiles.ts';
import type { ObjectStore } from '../store/index.ts';
import type { TileState } from './publish.ts';
import { decodeShard, encodeShard } from './shards.ts';

export const EMPTY_STATE: TileState = { obs: null, obsCount: 0, oldestObsUnixMs: null };

export function stateKey(tile: string, bytes: Uint8Array): string {
  const t = parseTileKey(tile);
  return `state/obs/${t.z}/${t.x}/${t.y}/${createHash('sha256').update(bytes).digest('hex').slice(0, 16)}.obs`;
}

/** The tile ("16/x/y") a state key belongs to. */
export function tileOfStateKey(key: string): string {
  const m = /^state\/obs\/(\d+\/\d+\/\d+)\/[0-9a-f]{16}\.obs$/.exec(key);
  if (!m) throw new RangeError(`not an observation state key: ${JSON.stringify(key)}`);
  return m[1]!;
}

/** Observations as a shard would give them back (rounded score, only the class's attributes). */
export function normalise(tile: string, obs: readonly WireObservation[]): WireObservation[] {
  return obs.length ? decodeShard(encodeShard(tile, obs), tile).observations : [];
}

/** The state's shard bytes: observations (already normalised) in one canonical order. */
export function canonicalShard(tile: string, obs: readonly WireObservation[]): Buffer {
  const keyed = obs.map((o) => ({ o, k: JSON.stringify([o.driveId, o.tUnixMs, o.cls, o.style ?? '', o.kind ?? '', o.signCode ?? '', o.score, o.poseSigmaCm, o.pointsCm]) }));
  keyed.sort((a, b) => (a.k < b.k ? -1 : a.k > b.k ? 1 : 0));
  return encodeShard(tile, keyed.map((e) => e.o));
}

/** Writes the tile's state (if not already there: content-addressed) and describes it. */
export async function writeState(store: ObjectStore, tile: string, obs: readonly WireObservation[]): Promise<TileState> {
  if (!obs.length) return EMPTY_STATE;
  const bytes = canonicalShard(tile, obs);
  const key = stateKey(tile, bytes);
  if (!(await store.exists(key))) await store.putIfAbsent(key, bytes);
  let oldest = Infinity;
  for (const o of obs) if (o.tUnixMs < oldest) oldest = o.tUnixMs;
  return { obs: key, obsCount: obs.length, oldestObsUnixMs: oldest };
}

/** An observation state the previous version lists is gone (gc raced a merge, or a hand deleted it). */
export class StateMissingError extends Error {
  constructor(readonly key: string) {
    super(`observation state ${key} is missing (the latest version's manifest lists it): merge with --rebuild to rebuild the state from the batches`);
    this.name = 'StateMissingError';
  }
}

/** The observations of a state shard; a missing one throws StateMissingError (run.ts then rebuilds). */
export async function readState(store: ObjectStore, key: string): Promise<WireObservation[]> {
  const buf = await store.get(key);
  if (!buf) throw new StateMissingError(key);
  return decodeShard(buf, key).observations;
}
