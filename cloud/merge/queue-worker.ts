/**
 * A BullMQ worker for merges: runs tile jobs (runTileJob) and publish jobs (publishVersion from
 * the children's results) of any version of one store. Jobs naming another store are refused
 * without retry. Tile jobs run in worker threads (`concurrency` of them, WorkerThreadExecutor), so
 * this thread stays free to renew job locks while a long merge computes. Stalled-job recovery: a job whose worker stops renewing its lock (killed, hung)
 * for `lockDurationMs` is put back by the stalled check (every `stalledIntervalMs`) of any worker
 * and runs again (at most `maxStalledCount` times).
 */
import { UnrecoverableError, Worker, type Job } from 'bullmq';
import type { Logger } from '../../shared/log.ts';
import type { ObjectStore } from '../store/index.ts';
import { WorkerThreadExecutor } from './executor.ts';
import type { TileJob, TileJobResult } from './job.ts';
import { publishVersion, type PublishPlan } from './publish.ts';
import { redisSettings } from './queue-connection.ts';
import { PUBLISH_QUEUE, TILE_QUEUE, type PublishJobData } from './queue-executor.ts';

export interface QueueWorkerOptions {
  redisUrl: string;
  store: ObjectStore;
  /** Tile jobs in flight in this process (default 1: a tile job is CPU-bound). */
  concurrency?: number;
  /** A job's lock lasts this long without renewal, milliseconds (default 30000). */
  lockDurationMs?: number;
  /** How often this worker looks for stalled jobs, milliseconds (default 15000). */
  stalledIntervalMs?: number;
  /** Times a job may stall before it fails (default 2). */
  maxStalledCount?: number;
  log: Logger;
}

export interface QueueWorkerHandle {
  /** Stop taking jobs, let running ones finish, disconnect. */
  close(): Promise<void>;
  /** Resolves once both workers are connected and polling. */
  ready: Promise<void>;
}

export function startQueueWorker(o: QueueWorkerOptions): QueueWorkerHandle {
  const connection = redisSettings(o.redisUrl);
  const lockDuration = o.lockDurationMs ?? 30_000;
  const common = { connection, lockDuration, stalledInterval: o.stalledIntervalMs ?? 15_000, maxStalledCount: o.maxStalledCount ?? 2 };
  const where = o.store.describe();
  const threads = Array.from({ length: o.concurrency ?? 1 }, () => new WorkerThreadExecutor({ workers: 1 }));
  const idle = [...threads];
  const checkStore = (store: string, job: Job): void => {
    if (store !== where) throw new UnrecoverableError(`job ${job.id} is for store ${store}; this worker serves ${where}`);
  };

  const tiles = new Worker<TileJob, TileJobResult>(
    TILE_QUEUE,
    async (job) => {
      checkStore(job.data.store, job);
      const thread = idle.pop();
      if (!thread) throw new Error('no idle merge thread (concurrency exceeded)');
      try {
        await job.updateProgress({ fraction: 0, step: 'started' });
        const [r] = await thread.run([job.data]);
        await job.updateProgress({ fraction: 1, step: 'written' });
        return r!;
      } finally {
        idle.push(thread);
      }
    },
    { ...common, concurrency: o.concurrency ?? 1 },
  );
  const publish = new Worker<PublishJobData, { version: number; tiles: number }>(
    PUBLISH_QUEUE,
    async (job) => {
      checkStore(job.data.store, job);
      const buf = await o.store.get(job.data.planKey);
      if (!buf) throw new UnrecoverableError(`publish plan ${job.data.planKey} is missing in ${where}`);
      const plan = JSON.parse(buf.toString('utf8')) as PublishPlan;
      const results = Object.values(await job.getChildrenValues<TileJobResult>());
      const m = await publishVersion(o.store, plan, results);
      return { version: m.version, tiles: m.tiles.length };
    },
    { ...common, concurrency: 1 },
  );

  for (const [name, w] of [['tile', tiles], ['publish', publish]] as const) {
    w.on('completed', (job) => o.log.info('merge_job_done', { queue: name, jobId: job.id ?? null, attempt: job.attemptsMade }));
    w.on('failed', (job, err) => o.log.warn('merge_job_failed', { queue: name, jobId: job?.id ?? null, attempt: job?.attemptsMade ?? null, reason: err.message }));
    w.on('stalled', (jobId) => o.log.warn('merge_job_stalled', { queue: name, jobId }));
    w.on('error', (err) => o.log.error('merge_worker_error', { queue: name, reason: err.message }));
  }
  return {
    ready: Promise.all([tiles.waitUntilReady(), publish.waitUntilReady()]).then(() => undefined),
    close: async () => {
      await Promise.all([tiles.close(), publish.close()]);
      await Promise.all(threads.map((t) => t.close()));
    },
  };
}
