/**
 * Garbage collection of a store's merge outputs. Never touches batches, their index, manifests,
 * tiles/latest.json, the tile objects any published manifest lists, nor anything of a merge in
 * flight. Removes:
 *
 *  - tile objects (tiles/v<M>/...geojson) no published manifest lists, and inputs.json of versions
 *    that were never published: the leftovers of crashed merges;
 *  - merge/v<M>/* but claim.json and report.json: publish plans, old-layout shards
 *    (merge/v<M>/obs/...). Claims stay, so a version number is never reused;
 *  - observation state (state/obs/...) the latest version does not list: only the latest's state is
 *    needed (the next merge starts from it); older versions stay readable (tiles + manifest);
 *  - arrival records (arrivals/, cloud/ingest/arrivals.ts) that the next incremental merge will not
 *    list: those older than the latest version's watermark time minus ARRIVAL_SKEW_MARGIN_MS (it
 *    lists from there). Their batches are merged already; a rebuild lists batches/, not the log.
 *
 * A merge is in flight when its claim has no manifest and is younger than `graceMs` (default one
 * day); while one is, its versions' objects, all of state/ and all of arrivals/ are left alone. A merge that claims
 * while gc runs is left alone too: gc reads the claims first and never touches a version above the
 * highest it saw, and it reads them again before the state and arrival sweeps and skips both when
 * one was added. What remains, a merge claiming during the state deletions themselves, may find a state
 * object it planned to reuse (content-addressed) gone; the merge then plans again from the
 * batches (run.ts, StateMissingError): a rebuild's cost, the same version.
 */
import { ARRIVALS_PREFIX, arrivalListStart, isArrivalKey } from '../ingest/arrivals.ts';
import type { ObjectStore } from '../store/index.ts';
import { claimKey, listPublishedVersions, readLatest, readManifest, reportKey } from './publish.ts';

export interface GcOptions {
  /** Report only; delete nothing. */
  dryRun?: boolean;
  /** A claim without a manifest younger than this is a merge in flight, milliseconds (default 1 day). */
  graceMs?: number;
  nowUnixMs?: () => number;
}

export interface GcReport {
  dryRun: boolean;
  publishedVersions: number[];
  inFlightVersions: number[];
  crashedVersions: number[];
  /** Keys deleted (or that would be, with dryRun), by kind. */
  deleted: { tiles: string[]; mergeScratch: string[]; state: string[]; arrivals: string[] };
  /** Why the state and arrival sweeps did not run, when they did not. */
  stateSkipped: string | null;
}

export async function collectGarbage(store: ObjectStore, o: GcOptions = {}): Promise<GcReport> {
  const dryRun = o.dryRun ?? false;
  const graceMs = o.graceMs ?? 86_400_000;
  const now = (o.nowUnixMs ?? Date.now)();
  const stateKeys = await store.list('state/');
  const published = await listPublishedVersions(store);
  const referenced = new Set<string>();
  for (const v of published) for (const t of (await readManifest(store, v))!.tiles) referenced.add(t.key);
  const latest = await readLatest(store);
  const latestManifest = latest ? await readManifest(store, latest.version) : undefined;
  const liveState = new Set<string>((latestManifest?.tiles ?? []).map((t) => t.obs).filter((k): k is string => typeof k === 'string'));

  const claimed = await listClaims(store);
  const highestClaimed = Math.max(0, ...claimed);
  const isPublished = new Set(published);
  const inFlight: number[] = [];
  const crashed: number[] = [];
  for (const v of [...claimed].sort((a, b) => a - b)) {
    if (isPublished.has(v)) continue;
    const buf = await store.get(claimKey(v));
    const at = buf ? Number((JSON.parse(buf.toString('utf8')) as { claimedUnixMs?: unknown }).claimedUnixMs) : NaN;
    if (Number.isFinite(at) && now - at < graceMs) inFlight.push(v);
    else crashed.push(v);
  }
  // Versions in flight, and any a merge claimed after the claims were read.
  const busy = (v: number): boolean => v > highestClaimed || inFlight.includes(v);
  const versionOf = (key: string): number => Number(/^(?:tiles|merge)\/v(\d+)\//.exec(key)?.[1] ?? NaN);

  const deleted: GcReport['deleted'] = { tiles: [], mergeScratch: [], state: [], arrivals: [] };
  for (const k of await store.list('tiles/v')) {
    const v = versionOf(k);
    if (!Number.isInteger(v) || busy(v)) continue;
    if (k.endsWith('.geojson') && !referenced.has(k)) deleted.tiles.push(k);
    else if (k.endsWith('/inputs.json') && !isPublished.has(v)) deleted.tiles.push(k);
  }
  for (const k of await store.list('merge/v')) {
    const v = versionOf(k);
    if (!Number.isInteger(v) || busy(v) || k === claimKey(v) || k === reportKey(v)) continue;
    deleted.mergeScratch.push(k);
  }
  let stateSkipped: string | null = null;
  const claimedSince = [...(await listClaims(store))].filter((v) => !claimed.has(v)).sort((a, b) => a - b);
  if (inFlight.length) stateSkipped = `merge in flight (v${inFlight.join(', v')})`;
  else if (claimedSince.length) stateSkipped = `a merge started while gc ran (v${claimedSince.join(', v')})`;
  else if (!latestManifest) stateSkipped = 'no published version';
  else {
    for (const k of stateKeys) if (!liveState.has(k)) deleted.state.push(k);
    deleted.arrivals.push(...(await arrivalsBefore(store, latestManifest.arrivalWatermark, latest!.version)));
  }

  if (!dryRun) for (const k of [...deleted.tiles, ...deleted.mergeScratch, ...deleted.state, ...deleted.arrivals]) await store.delete(k);
  return { dryRun, publishedVersions: published, inFlightVersions: inFlight, crashedVersions: crashed, deleted, stateSkipped };
}

/**
 * Arrival records the next incremental merge will not read: keys before where it starts listing
 * (`arrivalListStart` of the latest watermark; a record at or after that time sorts after it).
 * None without a watermark (the next merge lists batches/ and needs no record), nor with one that
 * is not an arrival key (the merge then lists batches/ too; leave the log to the operator).
 */
async function arrivalsBefore(store: ObjectStore, watermark: string | null | undefined, version: number): Promise<string[]> {
  if (typeof watermark !== 'string' || !isArrivalKey(watermark)) return [];
  const start = arrivalListStart(watermark, `v${version} manifest arrivalWatermark`);
  return (await store.list(ARRIVALS_PREFIX)).filter((k) => isArrivalKey(k) && k < start);
}

/** Version numbers with a claim (merge/v<N>/claim.json). */
async function listClaims(store: ObjectStore): Promise<Set<number>> {
  const claimed = new Set<number>();
  for (const k of await store.list('merge/v')) {
    const m = /^merge\/v(\d+)\/claim\.json$/.exec(k);
    if (m) claimed.add(Number(m[1]));
  }
  return claimed;
}
