/**
 * Determinism and scale-out of the merge (cloud/merge README "Distributed and incremental"):
 * the same batches give byte-identical tiles and manifests whether merged by one in-process
 * executor, by two worker threads, by two BullMQ worker processes, with a worker SIGKILLed in the
 * middle of a tile job (another one takes the stalled job over), incrementally or rebuilt from
 * every batch, with and without a time window. Then gc removes leftovers and nothing in use.
 *
 * Two synthetic roads ~7 km apart: day 2 adds drives on road A only, so road B's tiles must be
 * carried into v2 by reference. Real Redis (test/support/redis.ts), real `fleetmap cloud worker`
 * processes; waits are on their log events.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalDirStore } from '../cloud/store/index.ts';
import { WorkerThreadExecutor, InProcessExecutor } from '../cloud/merge/executor.ts';
import { collectGarbage } from '../cloud/merge/gc.ts';
import { claimKey, readManifest, reportKey, type Manifest } from '../cloud/merge/publish.ts';
import { readPublishedVersion } from '../cloud/merge/published-version.ts';
import { QueueExecutor } from '../cloud/merge/queue-executor.ts';
import { startQueueWorker } from '../cloud/merge/queue-worker.ts';
import { runMerge, type RunMergeOptions } from '../cloud/merge/run.ts';
import type { ObjectStore } from '../cloud/store/index.ts';
import { MemoryLogger } from '../shared/log.ts';
import { simulateFleet, syntheticWorld, writeBatches } from '../cloud/merge/synthetic.ts';
import { Proc, tempDir } from './helpers.ts';
import { startRedis, type RunningRedis } from './support/redis.ts';

const T0 = Date.UTC(2025, 4, 1, 8);
const DAY_MS = 86_400_000;
const roadA = syntheticWorld({ lng: 8.4037, lat: 49.0069 });
const roadB = syntheticWorld({ lng: 8.5037, lat: 49.0069 });
const day1 = [
  ...simulateFleet(roadA, { drives: 3, seed: 21, startUnixMs: T0, driveIdPrefix: 'a1' }).observations,
  ...simulateFleet(roadB, { drives: 3, seed: 22, startUnixMs: T0, driveIdPrefix: 'b1' }).observations,
];
const day2 = simulateFleet(roadA, { drives: 2, seed: 23, startUnixMs: T0 + DAY_MS, driveIdPrefix: 'a2' }).observations;

/** Everything a reader of version v sees, as bytes: manifest, inputs and every tile it lists. */
async function versionBytes(store: LocalDirStore, v: number): Promise<Record<string, string>> {
  const m = (await readManifest(store, v))!;
  const out: Record<string, string> = {};
  for (const key of [`tiles/v${v}/manifest.json`, m.inputs, ...m.tiles.map((t) => t.key)]) out[key] = (await store.get(key))!.toString('utf8');
  return out;
}

async function newStore(name: string): Promise<LocalDirStore> {
  const s = new LocalDirStore(tempDir(name));
  await writeBatches(s, day1, 40);
  return s;
}

const at = (days: number): RunMergeOptions['nowUnixMs'] => () => T0 + days * DAY_MS;

function startWorker(name: string, redis: RunningRedis, store: LocalDirStore, env: Record<string, string> = {}): Proc {
  return new Proc(name, ['cloud', 'worker', '--redis', redis.url, '--store', store.rootDir, '--lock-ms', '3000', '--stalled-interval-ms', '500'], env);
}

describe('merge determinism across executors, incremental and distributed', () => {
  let redis: RunningRedis;
  let ref: LocalDirStore; // in-process, 1 job at a time, incremental
  let threads: LocalDirStore; // 2 worker threads, v2 rebuilt from every batch
  let queued: LocalDirStore; // BullMQ: 2 workers, then a worker killed mid-job
  let refV2: Manifest;
  const procs: Proc[] = [];

  beforeAll(async () => {
    redis = await startRedis();
    [ref, threads, queued] = await Promise.all([newStore('ref'), newStore('threads'), newStore('queued')]);
    const one = new InProcessExecutor({ store: ref, concurrency: 1 });
    await runMerge(ref, { executor: one, nowUnixMs: at(1) });
    await writeBatches(ref, day2, 40);
    refV2 = await runMerge(ref, { executor: one, nowUnixMs: at(2) });
  }, 120_000);

  afterAll(async () => {
    for (const p of procs) p.kill('SIGKILL');
    await Promise.all(procs.map((p) => p.exited));
    await redis?.stop();
  });

  it('carries the tiles day 2 did not touch into v2 by reference, recomputing the others', async () => {
    const v1 = (await readManifest(ref, 1))!;
    const carried = refV2.tiles.filter((t) => t.key.startsWith('tiles/v1/'));
    const recomputed = refV2.tiles.filter((t) => t.key.startsWith('tiles/v2/'));
    expect(carried.length).toBeGreaterThan(0);
    expect(recomputed.length).toBeGreaterThan(0);
    // road B's tiles are carried (same entry as in v1), and no copy of them exists under v2
    for (const t of carried) {
      expect(t).toEqual(v1.tiles.find((u) => u.tile === t.tile));
      expect(await ref.exists(`tiles/v2/${t.tile}.geojson`)).toBe(false);
    }
    expect(Object.keys(refV2.changes.tiles).sort()).toEqual(recomputed.map((t) => t.tile).sort());
    const report = JSON.parse((await ref.get(reportKey(2)))!.toString('utf8')) as { mode: string; batchesRead: number; tilesCarried: number };
    expect(report.mode).toBe('incremental');
    expect(report.batchesRead).toBe(await writeBatches(new LocalDirStore(tempDir('count')), day2, 40));
    expect(report.tilesCarried).toBe(carried.length);
    expect(refV2.inputBatchCount).toBe((await ref.list('batches/')).length);
    // the readers follow the manifest into v1's objects
    const pub = await readPublishedVersion(ref, 2);
    expect(pub.collections.reduce((a, c) => a + c.features.length, 0)).toBe(refV2.tiles.reduce((a, t) => a + t.features, 0));
  });

  it('gives the same bytes with 2 worker threads and v2 rebuilt from every batch', async () => {
    const workers = new WorkerThreadExecutor({ workers: 2 });
    try {
      await runMerge(threads, { executor: workers, nowUnixMs: at(1) });
      await writeBatches(threads, day2, 40);
      await runMerge(threads, { executor: workers, nowUnixMs: at(2), rebuild: true });
    } finally {
      await workers.close();
    }
    const report = JSON.parse((await threads.get(reportKey(2)))!.toString('utf8')) as { mode: string };
    expect(report.mode).toBe('rebuild');
    expect(await versionBytes(threads, 1)).toEqual(await versionBytes(ref, 1));
    expect(await versionBytes(threads, 2)).toEqual(await versionBytes(ref, 2));
  }, 120_000);

  it('gives the same bytes through BullMQ with 2 workers, and with a worker killed mid-job', async () => {
    const executor = new QueueExecutor({ redisUrl: redis.url, backoffMs: 100 });
    const w1 = startWorker('worker-1', redis, queued);
    const w2 = startWorker('worker-2', redis, queued);
    procs.push(w1, w2);
    await Promise.all([w1.event('worker_ready'), w2.event('worker_ready')]);
    // v1 through the command line (its clock is the wall clock: createdUnixMs aside, same bytes)
    const cli = new Proc('merge', ['cloud', 'merge', '--redis', redis.url, '--store', queued.rootDir]);
    procs.push(cli);
    expect((await cli.exited).code).toBe(0);
    expect(JSON.parse(cli.stdout)).toMatchObject({ version: 1, tiles: (await readManifest(ref, 1))!.tiles.length });
    expect(w1.named('merge_job_done').length + w2.named('merge_job_done').length).toBe((await readManifest(queued, 1))!.tiles.length + 1);
    const [got, want] = [await versionBytes(queued, 1), await versionBytes(ref, 1)];
    const clockless = (m: string): unknown => ({ ...(JSON.parse(m) as Manifest), createdUnixMs: 0 });
    expect(clockless(got['tiles/v1/manifest.json']!)).toEqual(clockless(want['tiles/v1/manifest.json']!));
    delete got['tiles/v1/manifest.json'];
    delete want['tiles/v1/manifest.json'];
    expect(got).toEqual(want);
    w1.kill('SIGTERM');
    w2.kill('SIGTERM');
    expect((await w1.exited).code).toBe(0);
    expect((await w2.exited).code).toBe(0);

    // v2: the only worker dies (SIGKILL) inside its first tile job; a worker started afterwards
    // finds the job stalled (its lock lapsed), runs it again, and the version completes.
    await writeBatches(queued, day2, 40);
    const doomed = startWorker('doomed', redis, queued, { FLEETMAP_CRASH_AT: 'merge_tile_job:1' });
    procs.push(doomed);
    await doomed.event('worker_ready');
    const merged = runMerge(queued, { executor, nowUnixMs: at(2) });
    expect((await doomed.exited).signal).toBe('SIGKILL');
    const rescuer = startWorker('rescuer', redis, queued);
    procs.push(rescuer);
    const v2 = await merged;
    expect(v2.version).toBe(2);
    expect(rescuer.named('merge_job_stalled').length).toBe(1);
    expect(await versionBytes(queued, 2)).toEqual(await versionBytes(ref, 2));
    rescuer.kill('SIGTERM');
    await rescuer.exited;
  }, 120_000);

  it('ages observations out of a window identically, incrementally and rebuilt', async () => {
    // 11 days after T0 with a 10.5-day window: day 1 (T0 + minutes) is out, day 2 (T0 + 1 day) stays.
    const inc = await runMerge(ref, { nowUnixMs: at(11), windowDays: 10.5 });
    const reb = await runMerge(threads, { nowUnixMs: at(11), windowDays: 10.5, rebuild: true });
    expect(await versionBytes(threads, 3)).toEqual(await versionBytes(ref, 3));
    expect(reb.version).toBe(3);
    const v2 = (await readManifest(ref, 2))!;
    // road B had only day-1 observations: its tiles are recomputed, empty, without state
    const roadBTiles = v2.tiles.filter((t) => t.key.startsWith('tiles/v1/')).map((t) => t.tile);
    for (const tile of roadBTiles) {
      const t = inc.tiles.find((u) => u.tile === tile)!;
      expect(t.key.startsWith('tiles/v3/')).toBe(true);
      expect(t.features).toBe(0);
      expect(t.obs).toBeNull();
    }
    expect(inc.inputObservationCount).toBeLessThan(v2.inputObservationCount);
    expect(inc.inputObservationCount).toBe(day2.length);
  }, 120_000);

  it('retries a failed job after a backoff, and fails the merge once a job has used its attempts', async () => {
    const base = new LocalDirStore(tempDir('retry'));
    await writeBatches(base, day1.filter((o) => o.driveId.startsWith('b1')), 40);
    // a store whose manifest writes fail `failures` times: the publish job fails, then is retried
    let failures = 1;
    const flaky: ObjectStore = Object.assign(Object.create(base) as ObjectStore, {
      putIfAbsent: async (key: string, data: Uint8Array): Promise<boolean> => {
        if (key.endsWith('/manifest.json') && failures-- > 0) throw new Error('injected store failure');
        return base.putIfAbsent(key, data);
      },
    });
    const log = new MemoryLogger();
    const worker = startQueueWorker({ redisUrl: redis.url, store: flaky, log, lockDurationMs: 3000, stalledIntervalMs: 500 });
    try {
      await worker.ready;
      const m = await runMerge(flaky, { executor: new QueueExecutor({ redisUrl: redis.url, backoffMs: 50 }), nowUnixMs: at(1) });
      expect(m.version).toBe(1);
      expect(log.events('merge_job_failed').map((e) => [e.queue, e.reason])).toEqual([['publish', 'injected store failure']]);
      expect(log.events('merge_job_done').filter((e) => e.queue === 'publish').map((e) => e.attempt)).toEqual([2]);
      failures = 2;
      await writeBatches(base, day2, 40);
      await expect(runMerge(flaky, { executor: new QueueExecutor({ redisUrl: redis.url, attempts: 2, backoffMs: 50 }), nowUnixMs: at(2) })).rejects.toThrow(/injected store failure/);
      expect(await readManifest(base, 2)).toBeUndefined();
    } finally {
      await worker.close();
    }
  }, 120_000);

  it('refuses bad worker, merge and gc command lines with one line and exit 2; gc --dry-run deletes nothing', async () => {
    const runs = [
      new Proc('worker-no-redis', ['cloud', 'worker', '--store', ref.rootDir]),
      new Proc('worker-bad-redis', ['cloud', 'worker', '--redis', 'http://x', '--store', ref.rootDir]),
      new Proc('merge-both', ['cloud', 'merge', '--store', ref.rootDir, '--redis', redis.url, '--workers', '2']),
      new Proc('merge-window', ['cloud', 'merge', '--store', ref.rootDir, '--window-days', '0']),
      new Proc('gc-dry', ['cloud', 'gc', '--store', ref.rootDir, '--dry-run']),
    ];
    procs.push(...runs);
    const before = await ref.list('');
    const done = await Promise.all(runs.map(async (p) => ({ code: (await p.exited).code, err: p.rawLines.filter((l) => l.trim()) })));
    for (const [i, want] of [/--redis URL is required/, /redis URL must start with redis:\/\//, /--workers and --redis exclude each other/, /--window-days must be a number > 0/].entries()) {
      expect(done[i]!.code, runs[i]!.name).toBe(2);
      expect(done[i]!.err).toHaveLength(1);
      expect(done[i]!.err[0]).toMatch(want);
    }
    expect(done[4]!.code).toBe(0);
    expect(JSON.parse(runs[4]!.stdout)).toMatchObject({ dryRun: true, published: 3 });
    expect(await ref.list('')).toEqual(before);
  }, 120_000);

  it('gc removes crashed merges, scratch and old state, and nothing a published version uses; the next merge goes on from what it kept', async () => {
    // a crashed merge (old claim, a tile, a plan) and one in flight (young claim)
    const nowMs = T0 + 30 * DAY_MS;
    await ref.put(claimKey(8), Buffer.from(JSON.stringify({ claimedUnixMs: nowMs - 2 * DAY_MS, runId: 'dead' })));
    await ref.put('tiles/v8/16/1/1.geojson', Buffer.from('{}'));
    await ref.put('merge/v8/plan.json', Buffer.from('{}'));
    await ref.put(claimKey(9), Buffer.from(JSON.stringify({ claimedUnixMs: nowMs - 60_000, runId: 'live' })));
    await ref.put('tiles/v9/16/1/1.geojson', Buffer.from('{}'));
    const before = await ref.list('');
    const dry = await collectGarbage(ref, { dryRun: true, nowUnixMs: () => nowMs });
    expect(await ref.list('')).toEqual(before);
    expect(dry.crashedVersions).toEqual([8]);
    expect(dry.inFlightVersions).toEqual([9]);
    expect(dry.deleted.tiles).toEqual(['tiles/v8/16/1/1.geojson']);
    expect(dry.deleted.mergeScratch).toEqual(['merge/v8/plan.json']);
    expect(dry.stateSkipped).toMatch(/in flight/);

    await ref.delete(claimKey(9));
    await ref.delete('tiles/v9/16/1/1.geojson');
    const r = await collectGarbage(ref, { nowUnixMs: () => nowMs });
    expect(r.stateSkipped).toBeNull();
    expect(r.deleted.state.length).toBeGreaterThan(0);
    expect(await ref.exists(claimKey(8))).toBe(true); // the number is never reused
    expect(await ref.exists('tiles/v8/16/1/1.geojson')).toBe(false);
    for (const v of [1, 2, 3]) {
      const m = (await readManifest(ref, v))!;
      for (const t of m.tiles) expect(await ref.exists(t.key), t.key).toBe(true);
      await readPublishedVersion(ref, v);
    }
    const latestState = (await readManifest(ref, 3))!.tiles.map((t) => t.obs).filter((k): k is string => k !== null);
    expect((await ref.list('state/')).sort()).toEqual([...new Set(latestState)].sort());
    // the next merge starts from what gc kept: nothing new, every tile carried
    const v4 = await runMerge(ref, { nowUnixMs: at(11), windowDays: 10.5 });
    expect(v4.version).toBe(4);
    expect(Object.keys(v4.changes.tiles)).toEqual([]);
    expect(v4.tiles).toEqual((await readManifest(ref, 3))!.tiles);
    // unless asked to recompute every tile (a new merge code): new objects, same inputs and states
    const v5 = await runMerge(ref, { nowUnixMs: at(11), windowDays: 10.5, recomputeAll: true });
    expect(v5.tiles.map((t) => t.key)).toEqual(v4.tiles.map((t) => `tiles/v5/${t.tile}.geojson`));
    expect(v5.tiles.map((t) => [t.obs, t.features])).toEqual(v4.tiles.map((t) => [t.obs, t.features]));
  }, 120_000);
});
