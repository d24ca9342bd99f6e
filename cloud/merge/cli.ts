/**
 * `fleetmap cloud merge --store DIR [--workers N]`: merge every stored batch into a new map
 * version and publish it (tiles/latest.json). Prints one JSON line per event on stderr and the
 * manifest summary on stdout.
 */
import { statSync } from 'node:fs';
import { oneLine } from '../../shared/cli-errors.ts';
import { parseCliArgs } from '../../shared/cli-args.ts';
import { LocalDirStore } from '../store/index.ts';
import { InProcessExecutor, WorkerThreadExecutor, type MergeExecutor } from './executor.ts';
import { DEFAULT_MERGE_OPTIONS, type MergeOptions } from './options.ts';
import { runMerge, type MergeLog } from './run.ts';

const HELP = `usage: fleetmap cloud merge --store DIR [options]

Merges every batch under DIR/batches/ into a new immutable map version DIR/tiles/v<N>/
(GeoJSON per z16 tile + manifest.json), then points DIR/tiles/latest.json at it.

options:
  --store DIR        object store root (a local directory)            (required)
  --workers N        tile jobs in parallel; N > 1 uses worker threads  (default 1)
  --min-drives N     distinct drives a primitive needs                 (default ${DEFAULT_MERGE_OPTIONS.minDrives})
  --margin M         neighbour data read around each tile, metres      (default ${DEFAULT_MERGE_OPTIONS.marginM})
  --quiet            no per-tile log lines
  -h, --help         this text`;

export default async function (argv: string[]): Promise<number> {
  let args;
  try {
    args = parseCliArgs({
      args: argv,
      options: {
        store: { type: 'string' },
        workers: { type: 'string', default: '1' },
        'min-drives': { type: 'string' },
        margin: { type: 'string' },
        quiet: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (e) {
    return usageError(e);
  }
  if (args.help) {
    console.log(HELP);
    return 0;
  }
  if (!args.store) {
    return usageError('--store DIR is required');
  }
  if (!isDirectory(args.store)) return usageError(`--store ${args.store}: no such directory (a store holds batches/ from fleetmap cloud ingest)`);
  const workers = Number(args.workers);
  if (!Number.isInteger(workers) || workers < 1) {
    return usageError(`--workers must be an integer >= 1, got ${JSON.stringify(args.workers)}`);
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
  const store = new LocalDirStore(args.store);
  const executor: MergeExecutor = workers > 1 ? new WorkerThreadExecutor({ workers }) : new InProcessExecutor({ store, concurrency: 1 });
  const line = (level: string, event: string, fields: Record<string, unknown>): void => console.error(JSON.stringify({ level, event, ...fields }));
  const log: MergeLog = {
    info: (event, fields) => {
      if (!args.quiet || event !== 'merge_tile') line('info', event, fields);
    },
    warn: (event, fields) => line('warn', event, fields),
  };
  try {
    const m = await runMerge(store, { executor, options, log });
    console.log(
      JSON.stringify({
        version: m.version,
        previousVersion: m.previousVersion,
        batches: m.inputBatchCount,
        observations: m.inputObservationCount,
        tiles: m.tiles.length,
        features: m.tiles.reduce((a, t) => a + t.features, 0),
        changes: m.changes.totals,
        elapsedMs: m.elapsedMs,
      }),
    );
    return 0;
  } finally {
    await executor.close();
  }
}

/** One line on stderr, exit 2. */
function usageError(e: unknown): number {
  console.error(`${oneLine('fleetmap cloud merge', e)} (fleetmap cloud merge --help for usage)`);
  return 2;
}

function isDirectory(p: string): boolean {
  return statSync(p, { throwIfNoEntry: false })?.isDirectory() ?? false;
}
