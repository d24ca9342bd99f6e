/**
 * The one home of a map version's layout in the object store, for every executor (in-process,
 * worker threads, BullMQ) and every reader (exporters, eval):
 *
 *   tiles/v<N>/16/<x>/<y>.geojson   tiles computed by merge N (immutable)
 *   tiles/v<N>/inputs.json          the batches every version up to N consumed (ranges per vehicle)
 *   tiles/v<N>/manifest.json        per tile: the object key (maybe of an older version: carried by
 *                                   reference), counts, observation state; changes; options
 *   tiles/latest.json               { version, manifest, createdUnixMs }: written LAST
 *   state/obs/16/<x>/<y>/<sha256:16>.obs  a tile's observations, content-addressed (state.ts)
 *   arrivals/<ms:13>-<id>-<n:10>.json  the ingest's arrival log, {"batches": [...]} (written by the
 *                                   ingest, cloud/ingest/arrivals.ts; read by the plan after the
 *                                   previous manifest's arrivalWatermark, new-batches.ts)
 *   merge/v<N>/claim.json           the version claim (putIfAbsent); merge/v<N>/plan.json (queue
 *                                   runs), merge/v<N>/report.json (timings: never in the manifest)
 *
 * `publishVersion` turns tile job results and the coordinator's plan into the manifest, and is
 * idempotent: a retried publish (a queue job) writes the same bytes or finds them written.
 */
import type { PrimitiveClass } from '../../shared/schema.ts';
import { parseTileKey } from '../../shared/tiles.ts';
import type { ObjectStore } from '../store/index.ts';
import type { ClassCounts, TileChanges } from './changes.ts';
import { parseTileCollection, type TileFeatureCollection } from './features.ts';
import type { TileJobResult } from './job.ts';
import type { MergeOptions } from './options.ts';

export const LATEST_KEY = 'tiles/latest.json';
export const manifestKey = (version: number): string => `tiles/v${version}/manifest.json`;
export const inputsKey = (version: number): string => `tiles/v${version}/inputs.json`;
export const claimKey = (version: number): string => `merge/v${version}/claim.json`;
export const planKey = (version: number): string => `merge/v${version}/plan.json`;
export const reportKey = (version: number): string => `merge/v${version}/report.json`;

/** Where merge N writes tile `tile` ("16/x/y"). */
export function tileObjectKey(version: number, tile: string): string {
  const t = parseTileKey(tile);
  return `tiles/v${version}/${t.z}/${t.x}/${t.y}.geojson`;
}

/** A tile's observation state in version N (state.ts): what the next incremental merge starts from. */
export interface TileState {
  /** Key of the content-addressed observation shard, null when the tile holds none. */
  obs: string | null;
  obsCount: number;
  /** Oldest observation in the state (for the time window), null when none. */
  oldestObsUnixMs: number | null;
}

export interface ManifestTile extends TileState {
  tile: string;
  /** The tile object: tiles/v<M>/..., M <= N (M < N: carried unchanged from version M). */
  key: string;
  features: number;
  byClass: ClassCounts;
  dropped: { stale: number; shadows: number };
  /**
   * The newest sighting among the tile's features (largest lastSeenUnixMs), or null when it has
   * none; absent in manifests written before it was recorded. The next version splits its
   * drives into earlier and recent at the newest of these (new tiles included).
   */
  newestSeenUnixMs?: number | null;
}

export interface Manifest {
  version: number;
  createdUnixMs: number;
  previousVersion: number | null;
  /** Key of the consumed-batch set (tiles/v<N>/inputs.json). */
  inputs: string;
  /** Batches consumed by versions 1..N (read and decoded; one missing or undecodable is read again when a record names it). */
  inputBatchCount: number;
  /** Observations in the tiles' state (inside the window). */
  inputObservationCount: number;
  /**
   * The largest arrival record key in the store when N was planned (arrivals/...json), null when
   * there was none; merge N+1 reads arrival records from shortly before it instead of listing
   * batches/. Always written now; absent in manifests written before the arrival log (merge N+1
   * then lists batches/), hence optional.
   */
  arrivalWatermark?: string | null;
  /** Observations older than this many days before createdUnixMs were aged out; null: none. */
  windowDays: number | null;
  /** Every tile of the version, sorted by tile key. */
  tiles: ManifestTile[];
  /** Change summary vs v<N-1>: the tiles merge N recomputed (carried tiles did not change). */
  changes: {
    totals: { added: ClassCounts; removed: ClassCounts; moved: ClassCounts; lowConfidence: { added: ClassCounts; removed: ClassCounts }; newCoverage: ClassCounts };
    tiles: Record<string, TileChanges>;
  };
  options: MergeOptions;
}

export interface Latest {
  version: number;
  manifest: string;
  createdUnixMs: number;
}

/** What the coordinator decided, as plain data (a queue's publish job reads it from planKey). */
export interface PublishPlan {
  version: number;
  createdUnixMs: number;
  previousVersion: number | null;
  windowDays: number | null;
  options: MergeOptions;
  /** The consumed-batch set written to inputs.json (batch-set.ts). */
  inputs: unknown;
  inputBatchCount: number;
  inputObservationCount: number;
  /** Manifest.arrivalWatermark; optional so that a plan written before the arrival log still publishes (as null). */
  arrivalWatermark?: string | null;
  /** Manifest entries of the tiles carried from v<N-1> by reference. */
  carried: ManifestTile[];
  /** State of each recomputed tile. */
  states: Record<string, TileState>;
}

// ---------------------------------------------------------------------------------------------
// Readers

export async function readLatest(store: ObjectStore): Promise<Latest | undefined> {
  const buf = await store.get(LATEST_KEY);
  if (!buf) return undefined;
  const l = JSON.parse(buf.toString('utf8')) as Latest;
  if (!Number.isInteger(l.version) || l.version < 1) throw new Error(`${LATEST_KEY} has no valid version: ${buf.toString('utf8').slice(0, 200)}`);
  return l;
}

/** Version `version`'s manifest, or undefined when it is not published. */
export async function readManifest(store: ObjectStore, version: number): Promise<Manifest | undefined> {
  const buf = await store.get(manifestKey(version));
  return buf ? (JSON.parse(buf.toString('utf8')) as Manifest) : undefined;
}

/** The manifest of `version` (default: the one tiles/latest.json names); errors name what is missing. */
export async function resolvePublished(store: ObjectStore, version?: number): Promise<{ version: number; manifest: Manifest }> {
  let v = version;
  if (v === undefined) {
    const latest = await readLatest(store);
    if (!latest) throw new Error(`${store.describe()} has no published map version (no ${LATEST_KEY}): run fleetmap cloud merge first`);
    v = latest.version;
  }
  const manifest = await readManifest(store, v);
  if (!manifest) throw new Error(`map version ${v} is not published in ${store.describe()} (no ${manifestKey(v)})`);
  return { version: v, manifest };
}

/** One tile object the manifest lists, parsed. */
export async function readTileObject(store: ObjectStore, key: string, listedBy: string): Promise<TileFeatureCollection> {
  const buf = await store.get(key);
  if (!buf) throw new Error(`${listedBy} lists ${key}, which is missing`);
  return parseTileCollection(buf, key);
}

/** Published versions (those with a manifest), ascending. */
export async function listPublishedVersions(store: ObjectStore): Promise<number[]> {
  const out: number[] = [];
  for (const k of await store.list('tiles/v')) {
    const m = /^tiles\/v(\d+)\/manifest\.json$/.exec(k);
    if (m) out.push(Number(m[1]));
  }
  return out.sort((a, b) => a - b);
}

// ---------------------------------------------------------------------------------------------
// Writers

/** Claims the first free version >= `from` (putIfAbsent on its claim): two merges never share one. */
export async function claimVersion(store: ObjectStore, from: number, claim: { claimedUnixMs: number; runId: string }): Promise<number> {
  let version = from;
  while (!(await store.putIfAbsent(claimKey(version), Buffer.from(JSON.stringify({ ...claim, pid: process.pid }))))) version++;
  return version;
}

/** The manifest the plan and the tile results make; pure. */
export function buildManifest(plan: PublishPlan, results: readonly TileJobResult[]): Manifest {
  const computed: ManifestTile[] = results.map((r) => {
    const s = plan.states[r.tile];
    if (!s) throw new Error(`tile job result for ${r.tile}, which the plan of v${plan.version} does not recompute`);
    return { tile: r.tile, key: r.key, features: r.features, byClass: r.byClass, dropped: { stale: r.stats.stale, shadows: r.stats.shadows }, newestSeenUnixMs: r.newestSeenUnixMs, obs: s.obs, obsCount: s.obsCount, oldestObsUnixMs: s.oldestObsUnixMs };
  });
  if (computed.length !== Object.keys(plan.states).length) throw new Error(`v${plan.version}: ${computed.length} tile results for ${Object.keys(plan.states).length} planned tiles`);
  const tiles = [...plan.carried.map(canonicalTile), ...computed.map(canonicalTile)].sort((a, b) => (a.tile < b.tile ? -1 : a.tile > b.tile ? 1 : 0));
  return {
    version: plan.version,
    createdUnixMs: plan.createdUnixMs,
    previousVersion: plan.previousVersion,
    inputs: inputsKey(plan.version),
    inputBatchCount: plan.inputBatchCount,
    inputObservationCount: plan.inputObservationCount,
    arrivalWatermark: plan.arrivalWatermark ?? null,
    windowDays: plan.windowDays,
    tiles,
    changes: summarise([...results].sort((a, b) => (a.tile < b.tile ? -1 : 1))),
    options: plan.options,
  };
}

/** Manifest bytes: one canonical serialisation. */
export function encodeManifest(m: Manifest): Buffer {
  return Buffer.from(JSON.stringify(m, null, 1));
}

/**
 * Publishes version N: inputs.json, manifest.json (never rewritten with other bytes), then LAST
 * tiles/latest.json. Safe to repeat (a retried queue job): equal bytes already there are fine.
 */
export async function publishVersion(store: ObjectStore, plan: PublishPlan, results: readonly TileJobResult[]): Promise<Manifest> {
  const manifest = buildManifest(plan, results);
  await putOnce(store, inputsKey(plan.version), Buffer.from(JSON.stringify(plan.inputs)));
  await putOnce(store, manifestKey(plan.version), encodeManifest(manifest));
  await publishLatest(store, plan.version);
  return manifest;
}

/** putIfAbsent; an existing object must hold the same bytes (versions are immutable). */
async function putOnce(store: ObjectStore, key: string, bytes: Buffer): Promise<void> {
  if (await store.putIfAbsent(key, bytes)) return;
  const cur = await store.get(key);
  if (!cur || !cur.equals(bytes)) throw new Error(`${key} already exists with other content: versions are immutable`);
}

/**
 * Point tiles/latest.json at the highest published version, last. The store has no
 * compare-and-swap, so two concurrent merges may both write it; each writer therefore re-reads
 * after writing and writes again while a higher manifest exists than latest names. Manifests are
 * written before latest, so whichever writer writes last sees the highest one: latest never
 * stays on a lower version.
 */
export async function publishLatest(store: ObjectStore, version: number): Promise<void> {
  for (;;) {
    let top = version;
    while (await store.exists(manifestKey(top + 1))) top++;
    const cur = await readLatest(store);
    if (cur && cur.version >= top) return;
    const m = (await readManifest(store, top))!;
    const latest: Latest = { version: top, manifest: manifestKey(top), createdUnixMs: m.createdUnixMs };
    await store.put(LATEST_KEY, Buffer.from(JSON.stringify(latest)));
  }
}

/** Same key order whatever the entry came through (a queue's JSON, a previous manifest). */
function canonicalTile(t: ManifestTile): ManifestTile {
  const newest = t.newestSeenUnixMs === undefined ? {} : { newestSeenUnixMs: t.newestSeenUnixMs };
  return { tile: t.tile, key: t.key, features: t.features, byClass: t.byClass, dropped: { stale: t.dropped.stale, shadows: t.dropped.shadows }, ...newest, obs: t.obs, obsCount: t.obsCount, oldestObsUnixMs: t.oldestObsUnixMs };
}

/** The newest sighting a published version holds (its tiles' newestSeenUnixMs), or null when none is recorded. */
export function newestSeenUnixMs(tiles: readonly ManifestTile[]): number | null {
  let newest: number | null = null;
  for (const t of tiles) if (typeof t.newestSeenUnixMs === 'number' && (newest === null || t.newestSeenUnixMs > newest)) newest = t.newestSeenUnixMs;
  return newest;
}

function summarise(results: readonly TileJobResult[]): Manifest['changes'] {
  const totals: Manifest['changes']['totals'] = { added: {}, removed: {}, moved: {}, lowConfidence: { added: {}, removed: {} }, newCoverage: {} };
  const tiles: Record<string, TileChanges> = {};
  const add = (into: ClassCounts, from: ClassCounts): void => {
    for (const [cls, n] of Object.entries(from)) into[cls as PrimitiveClass] = (into[cls as PrimitiveClass] ?? 0) + (n ?? 0);
  };
  for (const r of results) {
    tiles[r.tile] = r.changes;
    for (const k of ['added', 'removed', 'moved'] as const) add(totals[k], r.changes[k]);
    add(totals.lowConfidence.added, r.changes.lowConfidence.added);
    add(totals.lowConfidence.removed, r.changes.lowConfidence.removed);
    add(totals.newCoverage, r.changes.newCoverage);
  }
  return { totals, tiles };
}
