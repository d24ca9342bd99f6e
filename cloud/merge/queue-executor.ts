/**
 * The distributed executor: a version's tile jobs as one BullMQ flow on Redis. Children: one job
 * per tile (queue TILE_QUEUE, data = TileJob); parent: the publish job (queue PUBLISH_QUEUE), which
 * BullMQ starts only once every child succeeded, and which publishes the version from the
 * children's results (getChildrenValues) and the plan the coordinator stored (publish.ts). A tile
 * job that fails `attempts` times (exponential backoff with jitter) fails the parent, and the
 * merge. A worker that dies mid-job stops renewing its lock; another worker's stalled-job check
 * puts the job back and runs it (the job only writes its own tile object, so a re-run is safe).
 *
 * Workers (`fleetmap cloud worker --redis URL --store LOC`, queue-worker.ts) run on any machine
 * that reaches Redis and the store. The coordinator only enqueues and waits.
 */
import { FlowProducer, QueueEvents } from 'bullmq';
import type { ObjectStore } from '../store/index.ts';
import type { VersionExecutor } from './executor.ts';
import type { TileJob, TileJobResult } from './job.ts';
import { readManifest, type Manifest } from './publish.ts';
import { redisSettings } from './queue-connection.ts';

export const TILE_QUEUE = 'fleetmap-merge-tile';
export const PUBLISH_QUEUE = 'fleetmap-merge-publish';

export interface QueueExecutorOptions {
  /** redis://host:port[/db]. */
  redisUrl: string;
  /** Tries per job, first included (default 3). */
  attempts?: number;
  /** First retry delay, doubled each retry, milliseconds (default 1000). */
  backoffMs?: number;
  /** Completed / failed jobs are kept this long for inspection, seconds (default 7 days). */
  keepJobsS?: number;
  /** Called with (done, total) as tile jobs complete. */
  onProgress?: (done: number, total: number) => void;
}

/** The job data of the parent. */
export interface PublishJobData {
  store: string;
  version: number;
  planKey: string;
}

export class QueueExecutor implements VersionExecutor {
  private readonly connection: ReturnType<typeof redisSettings>;
  private readonly attempts: number;
  private readonly backoffMs: number;
  private readonly keepJobsS: number;
  private readonly onProgress: ((done: number, total: number) => void) | undefined;

  constructor(o: QueueExecutorOptions) {
    this.connection = redisSettings(o.redisUrl);
    this.attempts = o.attempts ?? 3;
    if (!Number.isInteger(this.attempts) || this.attempts < 1) throw new RangeError(`attempts must be an integer >= 1, got ${this.attempts}`);
    this.backoffMs = o.backoffMs ?? 1000;
    if (!(this.backoffMs >= 0)) throw new RangeError(`backoffMs must be >= 0, got ${this.backoffMs}`);
    this.keepJobsS = o.keepJobsS ?? 7 * 86_400;
    this.onProgress = o.onProgress;
  }

  run(): Promise<TileJobResult[]> {
    return Promise.reject(new Error('QueueExecutor publishes whole versions: use runMerge (runVersion)'));
  }

  async runVersion(run: { store: ObjectStore; version: number; runId: string; planKey: string; jobs: readonly TileJob[]; onResult?: (r: TileJobResult) => void }): Promise<Manifest> {
    const connection = this.connection;
    const publishEvents = new QueueEvents(PUBLISH_QUEUE, { connection });
    const tileEvents = new QueueEvents(TILE_QUEUE, { connection });
    const flow = new FlowProducer({ connection });
    try {
      await Promise.all([publishEvents.waitUntilReady(), tileEvents.waitUntilReady()]);
      const childPrefix = `${run.runId}-t-`;
      let done = 0;
      tileEvents.on('completed', ({ jobId, returnvalue }) => {
        if (!jobId.startsWith(childPrefix)) return;
        done++;
        const r = (typeof returnvalue === 'string' ? JSON.parse(returnvalue) : returnvalue) as TileJobResult;
        run.onResult?.(r);
        this.onProgress?.(done, run.jobs.length);
      });
      const keep = { age: this.keepJobsS };
      const retry = { attempts: this.attempts, backoff: { type: 'exponential' as const, delay: this.backoffMs, jitter: 0.5 }, removeOnComplete: keep, removeOnFail: keep };
      const data: PublishJobData = { store: run.store.describe(), version: run.version, planKey: run.planKey };
      const node = await flow.add({
        name: `publish v${run.version}`,
        queueName: PUBLISH_QUEUE,
        data,
        opts: { ...retry, jobId: `${run.runId}-publish` },
        children: run.jobs.map((job) => ({
          name: `tile ${job.tile}`,
          queueName: TILE_QUEUE,
          data: job,
          opts: { ...retry, jobId: `${childPrefix}${job.tile.replaceAll('/', '_')}`, failParentOnFailure: true },
        })),
      });
      await node.job.waitUntilFinished(publishEvents);
      const manifest = await readManifest(run.store, run.version);
      if (!manifest) throw new Error(`the publish job of v${run.version} finished, but ${run.store.describe()} has no manifest for it`);
      return manifest;
    } finally {
      await Promise.allSettled([flow.close(), publishEvents.close(), tileEvents.close()]);
    }
  }

  async close(): Promise<void> {}
}
