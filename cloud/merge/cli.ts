/**
 * `fleetmap cloud merge --store DIR [--workers N | --redis URL] [--window-days D] [--rebuild]`:
 * merge the batches stored since the last version into a new map version (incremental) and
 * publish it (tiles/latest.json). Prints one JSON line per event on stderr and the manifest
 * summary on stdout.
 */
import { statSync } from 'node:fs';
import * as path from 'node:path';
import { parseCommand, usageLine } from '../../shared/cli-args.ts';
import { openStoreArg, S3_CLI_HELP, S3_CLI_OPTIONS, type ObjectStore } from '../store/index.ts';
import { InProcessExecutor, WorkerThreadExecutor, type MergeExecutor } from './executor.ts';
import { DEFAULT_MERGE_OPTIONS, type MergeOptions } from './options.ts';
import { QueueExecutor } from './queue-executor.ts';
import { redisSettings } from './queue-connection.ts';
import { runMerge, type MergeLog } from './run.ts';
import { Progress } from '../../shared/progress.ts';
import { recordMergeRun, watchMergeLog } from './metrics.ts';

const HELP = `usage: fleetmap cloud merge --store DIR|s3://BUCKET[/PREFIX] [options]

Merges the batches stored under DIR/batches/ since the latest version into a new immutable map
version DIR/tiles/v<N>/ (GeoJSON per recomputed z16 tile + manifest.json; unchanged tiles are
carried by reference), then points DIR/tiles/latest.json at it.

options:
  --store DIR|S3     object store: an existing directory, or s3://bucket[/prefix] (required)
  --workers N        tile jobs in parallel; N > 1 uses worker threads  (default 1)
  --redis URL        run the tile jobs as a BullMQ flow on redis://host:port[/db]: workers
                     (fleetmap cloud worker) do the work and publish; this waits
  --window-days D    age out observations older than D days            (default: keep all)
  --rebuild          read every batch and rebuild every tile's state (not only new batches)
  --recompute-all    recompute every tile, not only those whose inputs changed (after an
                     upgrade of the merge code)
  --min-drives N     distinct drives a primitive needs                 (default ${DEFAULT_MERGE_OPTIONS.minDrives})
  --margin M         neighbour data read around each tile, metres      (default ${DEFAULT_MERGE_OPTIONS.marginM})
  --metrics-file F   after the run, add it to the Prometheus text file F (node_exporter
                     textfile collector: F ends in .prom): fleetmap_merge_duration_seconds,
                     fleetmap_merge_runs_total, fleetmap_merge_tiles_published, ..._recomputed
  --quiet            no per-tile log lines, no progress display (shown only on a terminal)
  -h, --help         this text

S3 (cloud/store/README.md; credentials from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY or the
SDK's default chain):
${S3_CLI_HELP}`;

export default async function (argv: string[]): Promise<number> {
  const parsed = parseCommand('fleetmap cloud merge', HELP, {
    args: argv,
    options: {
      store: { type: 'string' },
      ...S3_CLI_OPTIONS,
      workers: { type: 'string', default: '1' },
      redis: { type: 'string' },
      'window-days': { type: 'string' },
      rebuild: { type: 'boolean', default: false },
      'recompute-all': { type: 'boolean', default: false },
      'min-drives': { type: 'string' },
      margin: { type: 'string' },
      quiet: { type: 'boolean', default: false },
      'metrics-file': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  if (typeof parsed === 'number') return parsed;
  const args = parsed.values;
  if (!args.store) {
    return usageError('--store DIR is required');
  }
  let store: ObjectStore;
  try {
    store = openStoreArg(args.store, args, { mustExist: true, missingHint: 'a store holds batches/ from fleetmap cloud ingest' });
  } catch (e) {
    return usageError(e);
  }
  const metricsDir = args['metrics-file'] === undefined ? undefined : path.dirname(path.resolve(args['metrics-file']));
  if (metricsDir !== undefined && !statSync(metricsDir, { throwIfNoEntry: false })?.isDirectory()) return usageError(`--metrics-file ${args['metrics-file']}: no such directory ${metricsDir}`);
  const workers = Number(args.workers);
  if (!Number.isInteger(workers) || workers < 1) {
    return usageError(`--workers must be an integer >= 1, got ${JSON.stringify(args.workers)}`);
  }
  if (args.redis !== undefined && argv.some((a) => a === '--workers' || a.startsWith('--workers='))) return usageError('--workers and --redis exclude each other (with --redis, workers are fleetmap cloud worker processes)');
  if (args.redis !== undefined) {
    try {
      redisSettings(args.redis);
    } catch (e) {
      return usageError(`--redis: ${(e as Error).message}`);
    }
  }
  let windowDays: number | undefined;
  if (args['window-days'] !== undefined) {
    windowDays = Number(args['window-days']);
    if (!Number.isFinite(windowDays) || windowDays <= 0) return usageError(`--window-days must be a number > 0, got ${JSON.stringify(args['window-days'])}`);
  }
  const options: Partial<MergeOptions> = {};
  for (const [flag, key] of [['min-drives', 'minDrives'], ['margin', 'marginM']] as const) {
    const raw = args[flag];
    if (raw === undefined) continue;
    const v = Number(raw);
    if (!Number.isFinite(v) || v < 0) {
      return usageError(`--${flag} must be a number >= 0, got ${JSON.stringify(raw)}`);
    }
    options[key] = v;
  }
  const executor: MergeExecutor =
    args.redis !== undefined ? new QueueExecutor({ redisUrl: args.redis }) : workers > 1 ? new WorkerThreadExecutor({ workers }) : new InProcessExecutor({ store, concurrency: 1 });
  const started = performance.now();
  const line = (level: string, event: string, fields: Record<string, unknown>): void => console.error(JSON.stringify({ level, event, ...fields }));
  const plainLog: MergeLog = {
    info: (event, fields) => {
      if (!args.quiet || event !== 'merge_tile') line('info', event, fields);
    },
    warn: (event, fields) => line('warn', event, fields),
  };
  const watch = watchMergeLog(plainLog, new Progress({ quiet: args.quiet }));
  const log = watch.log;
  const metricsFile = args['metrics-file'];
  const finished = (): { durationS: number; finishedUnixMs: number } => ({ durationS: (performance.now() - started) / 1000, finishedUnixMs: Date.now() });
  try {
    let m;
    try {
      m = await runMerge(store, { executor, options, log, rebuild: args.rebuild, recomputeAll: args['recompute-all'], ...(windowDays !== undefined ? { windowDays } : {}) });
    } catch (e) {
      if (metricsFile !== undefined) await recordMergeRun(metricsFile, { ok: false, ...finished() }).catch((w: unknown) => line('warn', 'metrics_file_failed', { file: metricsFile, reason: (w as Error).message }));
      throw e;
    }
    if (metricsFile !== undefined) {
      await recordMergeRun(metricsFile, { ok: true, ...finished(), version: m.version, tilesPublished: m.tiles.length, tilesRecomputed: watch.tilesRecomputed() ?? m.tiles.length, batches: watch.batches() });
    }
    console.log(
      JSON.stringify({
        version: m.version,
        previousVersion: m.previousVersion,
        batches: m.inputBatchCount,
        observations: m.inputObservationCount,
        tiles: m.tiles.length,
        features: m.tiles.reduce((a, t) => a + t.features, 0),
        changes: m.changes.totals,
        elapsedMs: Math.round(performance.now() - started),
      }),
    );
    return 0;
  } finally {
    await executor.close();
  }
}

/** One line on stderr, exit 2. */
function usageError(e: unknown): number {
  console.error(usageLine('fleetmap cloud merge', e));
  return 2;
}
