/**
 * Where tile jobs run. The coordinator hands a list of plain-data jobs to a `MergeExecutor`
 * and gets plain-data results back, so a queue-backed executor (BullMQ on Redis) can replace
 * these without touching the merge.
 *
 * - `InProcessExecutor`: runs jobs in this thread, at most `concurrency` at a time (their I/O
 *   overlaps; the merge itself is synchronous CPU work).
 * - `WorkerThreadExecutor`: a pool of worker threads, one job per worker at a time: real
 *   parallelism on several cores.
 * - `QueueExecutor` (queue-executor.ts): BullMQ on Redis, workers on any machine (a VersionExecutor).
 */
import type { Worker } from 'node:worker_threads';
import { startTsWorker } from '../../shared/ts-worker.ts';
import type { ObjectStore } from '../store/index.ts';
import { ShardCache, openStore, runTileJob, type TileJob, type TileJobResult } from './job.ts';
import type { Manifest } from './publish.ts';

export interface MergeExecutor {
  /** Runs every job; results in job order. Rejects with the first failure once running jobs settle. */
  run(jobs: readonly TileJob[], onResult?: (r: TileJobResult) => void): Promise<TileJobResult[]>;
  /** Releases workers / connections. */
  close(): Promise<void>;
}

/**
 * An executor that publishes the version itself once every tile job succeeded (a BullMQ flow:
 * the publish job is the tile jobs' parent). It reads the publish plan from the store.
 */
export interface VersionExecutor extends MergeExecutor {
  runVersion(run: { store: ObjectStore; version: number; runId: string; planKey: string; jobs: readonly TileJob[]; onResult?: (r: TileJobResult) => void }): Promise<Manifest>;
}

export function isVersionExecutor(e: MergeExecutor): e is VersionExecutor {
  return typeof (e as Partial<VersionExecutor>).runVersion === 'function';
}

export interface InProcessOptions {
  /** Jobs in flight at once. */
  concurrency?: number;
  /** Use this store for jobs whose `store` equals its describe() (else jobs open their own). */
  store?: ObjectStore;
}

export class InProcessExecutor implements MergeExecutor {
  private readonly concurrency: number;
  private readonly store: ObjectStore | undefined;

  constructor(opts: InProcessOptions = {}) {
    const c = opts.concurrency ?? 2;
    if (!Number.isInteger(c) || c < 1) throw new RangeError(`concurrency must be an integer >= 1, got ${c}`);
    this.concurrency = c;
    this.store = opts.store;
  }

  run(jobs: readonly TileJob[], onResult?: (r: TileJobResult) => void): Promise<TileJobResult[]> {
    const cache = new ShardCache();
    return runPool(jobs, this.concurrency, async (job) => {
      const r = await runTileJob(job, this.store && this.store.describe() === job.store ? this.store : openStore(job.store), cache);
      onResult?.(r);
      return r;
    });
  }

  async close(): Promise<void> {}
}

/** Runs `work` over `items` with at most `limit` in flight; results in item order. */
export async function runPool<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  let failure: unknown;
  const lane = async (): Promise<void> => {
    while (failure === undefined && next < items.length) {
      const i = next++;
      try {
        out[i] = await work(items[i]!);
      } catch (e) {
        failure ??= e;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  if (failure !== undefined) throw failure;
  return out;
}

export class WorkerThreadExecutor implements MergeExecutor {
  private readonly workers: Worker[] = [];
  private readonly size: number;

  constructor(opts: { workers: number }) {
    if (!Number.isInteger(opts.workers) || opts.workers < 1) throw new RangeError(`workers must be an integer >= 1, got ${opts.workers}`);
    this.size = opts.workers;
  }

  private worker(i: number): Worker {
    let w = this.workers[i];
    if (!w) {
      w = startTsWorker(new URL('./worker-entry.ts', import.meta.url));
      this.workers[i] = w;
    }
    return w;
  }

  async run(jobs: readonly TileJob[], onResult?: (r: TileJobResult) => void): Promise<TileJobResult[]> {
    const free = Array.from({ length: Math.min(this.size, jobs.length) }, (_, i) => i);
    return runPool(jobs, free.length, async (job) => {
      const wi = free.pop()!;
      try {
        const r = await this.call(this.worker(wi), job);
        onResult?.(r);
        return r;
      } finally {
        free.push(wi);
      }
    });
  }

  private call(w: Worker, job: TileJob): Promise<TileJobResult> {
    return new Promise((resolve, reject) => {
      const cleanup = (): void => {
        w.off('message', onMessage);
        w.off('error', onError);
      };
      const onMessage = (m: { ok: true; result: TileJobResult } | { ok: false; error: string }): void => {
        cleanup();
        if (m.ok) resolve(m.result);
        else reject(new Error(`tile job ${job.tile} failed in a worker: ${m.error}`));
      };
      const onError = (e: Error): void => {
        cleanup();
        reject(e);
      };
      w.on('message', onMessage);
      w.on('error', onError);
      w.postMessage(job);
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
    this.workers.length = 0;
  }
}
