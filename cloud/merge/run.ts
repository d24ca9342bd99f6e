/**
 * The coordinator of a merge: one new immutable map version, touching only what changed.
 *
 *  1. claim version N = latest + 1 (`merge/v<N>/claim.json`, putIfAbsent: two merges never
 *     build the same version);
 *  2. plan (plan.ts): read the batches new since v<N-1> (all with `rebuild`), update the
 *     observation state of the tiles they touch (state.ts; `windowDays` ages old observations
 *     out), and pick the tiles to recompute: those whose jobs gather an observation that changed (plan.ts).
 *     A state object v<N-1> lists that is gone (gc raced a merge) makes it plan again with
 *     `rebuild`: the state is derived from the batches, so the version is the same;
 *  3. one job per such tile, run by the executor; each writes `tiles/v<N>/16/<x>/<y>.geojson`;
 *  4. publish (publish.ts): manifest (recomputed tiles + the others carried by reference), then
 *     LAST `tiles/latest.json`. A queue executor publishes from its own publish job.
 * The same inputs give byte-identical tiles and manifest whatever the executor and mode; timings
 * go to the log and `merge/v<N>/report.json`, never into the manifest.
 */
import { randomBytes } from 'node:crypto';
import type { ObjectStore } from '../store/index.ts';
import { InProcessExecutor, isVersionExecutor, type MergeExecutor } from './executor.ts';
import type { TileJobResult } from './job.ts';
import { resolveMergeOptions, type MergeOptions } from './options.ts';
import { planMerge, type MergePlan } from './plan.ts';
import { StateMissingError } from './state.ts';
import { claimVersion, planKey, publishVersion, readLatest, readManifest, reportKey, type Manifest } from './publish.ts';

export { LATEST_KEY, readLatest, type Latest, type Manifest } from './publish.ts';

export interface MergeLog {
  info(event: string, fields: Record<string, unknown>): void;
  warn(event: string, fields: Record<string, unknown>): void;
}

export const silentLog: MergeLog = { info: () => undefined, warn: () => undefined };

export interface RunMergeOptions {
  executor?: MergeExecutor;
  options?: Partial<MergeOptions>;
  /** Clock for createdUnixMs and the window (tests pass a fixed one). */
  nowUnixMs?: () => number;
  log?: MergeLog;
  /** Age out observations older than this many days (default: keep all). */
  windowDays?: number;
  /** Read every batch and rebuild every tile's state instead of starting from v<N-1>'s. */
  rebuild?: boolean;
  /** Recompute every tile, not only those whose inputs changed (after a change of the merge code). */
  recomputeAll?: boolean;
}

export async function runMerge(store: ObjectStore, opts: RunMergeOptions = {}): Promise<Manifest> {
  const options = resolveMergeOptions(opts.options);
  const windowDays = opts.windowDays ?? null;
  if (windowDays !== null && !(Number.isFinite(windowDays) && windowDays > 0)) throw new RangeError(`windowDays must be a number > 0, got ${windowDays}`);
  const nowUnixMs = (opts.nowUnixMs ?? Date.now)();
  const log = opts.log ?? silentLog;
  const started = performance.now();
  const prevLatest = await readLatest(store);
  const previous = prevLatest ? await readManifest(store, prevLatest.version) : undefined;
  if (prevLatest && !previous) throw new Error(`tiles/latest.json names v${prevLatest.version}, whose manifest is missing`);
  const runId = randomBytes(6).toString('hex');
  const version = await claimVersion(store, (prevLatest?.version ?? 0) + 1, { claimedUnixMs: nowUnixMs, runId });
  log.info('merge_start', { version, previousVersion: prevLatest?.version ?? null, store: store.describe(), runId });

  const planInput = { store, version, nowUnixMs, previous, options, jobOptions: opts.options ?? {}, windowDays, rebuild: opts.rebuild ?? false, recomputeAll: opts.recomputeAll ?? false, warn: (e: string, f: Record<string, unknown>) => log.warn(e, f) };
  let plan: MergePlan;
  try {
    plan = await planMerge(planInput);
  } catch (e) {
    // The state is derived from the batches: a missing object costs a rebuild, not the merge.
    if (!(e instanceof StateMissingError) || planInput.rebuild) throw e;
    log.warn('merge_state_missing', { version, key: e.key, action: 'rebuilding every tile state from the batches' });
    plan = await planMerge({ ...planInput, rebuild: true });
  }
  log.info('merge_planned', { version, ...plan.stats, ms: Math.round(performance.now() - started) });

  const executor = opts.executor ?? new InProcessExecutor({ store, concurrency: 2 });
  const onResult = (r: TileJobResult): void => log.info('merge_tile', { tile: r.tile, features: r.features, ms: sumTimings(r) });
  let manifest: Manifest;
  try {
    if (isVersionExecutor(executor)) {
      await store.put(planKey(version), Buffer.from(JSON.stringify(plan.publish)));
      manifest = await executor.runVersion({ store, version, runId, planKey: planKey(version), jobs: plan.jobs, onResult });
    } else {
      const results = await executor.run(plan.jobs, onResult);
      manifest = await publishVersion(store, plan.publish, results);
    }
  } finally {
    if (!opts.executor) await executor.close();
  }
  const elapsedMs = Math.round(performance.now() - started);
  await store.put(reportKey(version), Buffer.from(JSON.stringify({ version, runId, elapsedMs, ...plan.stats })));
  log.info('merge_published', { version, tiles: manifest.tiles.length, recomputed: plan.jobs.length, features: manifest.tiles.reduce((a, t) => a + t.features, 0), elapsedMs });
  return manifest;
}

function sumTimings(r: TileJobResult): number {
  return Math.round(Object.values(r.stats.timingsMs).reduce((a, b) => a + b, 0));
}
