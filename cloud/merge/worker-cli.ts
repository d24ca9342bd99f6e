/**
 * `fleetmap cloud worker --redis URL --store LOC [--concurrency N]`: a merge worker on this
 * machine (queue-worker.ts). Runs tile and publish jobs of `fleetmap cloud merge --redis URL`
 * until SIGINT / SIGTERM, then lets running jobs finish and exits 0. Logs JSON lines on stderr.
 */
import { parseCommand, usageLine } from '../../shared/cli-args.ts';
import { JsonLogger } from '../../shared/log.ts';
import { openStoreArg, S3_CLI_HELP, S3_CLI_OPTIONS } from '../store/index.ts';
import { redisSettings } from './queue-connection.ts';
import { startQueueWorker } from './queue-worker.ts';

const HELP = `usage: fleetmap cloud worker --redis URL --store LOC [options]

Runs merge jobs (one tile each, and the publish job of each version) from the BullMQ queues on
Redis, for the store LOC. Start one or more on any machine that reaches Redis and the store; then
run fleetmap cloud merge --redis URL --store LOC to merge through them.

options:
  --redis URL              redis://host:port[/db]                                   (required)
  --store LOC              the store the merges write (same location as the merge's) (required)
  --concurrency N          tile jobs at once in this process                        (default 1)
  --lock-ms N              a job's lock without renewal lasts this long; a killed worker's job
                           is taken over after about this long                      (default 30000)
  --stalled-interval-ms N  how often to look for stalled jobs                       (default 15000)
  -h, --help               this text

S3 (cloud/store/README.md):
${S3_CLI_HELP}`;

export default async function (argv: string[]): Promise<number> {
  const parsed = parseCommand('fleetmap cloud worker', HELP, {
    args: argv,
    options: {
      redis: { type: 'string' },
      store: { type: 'string' },
      ...S3_CLI_OPTIONS,
      concurrency: { type: 'string', default: '1' },
      'lock-ms': { type: 'string', default: '30000' },
      'stalled-interval-ms': { type: 'string', default: '15000' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  if (typeof parsed === 'number') return parsed;
  const args = parsed.values;
  if (!args.redis) return usageError('--redis URL is required');
  if (!args.store) return usageError('--store LOC is required');
  try {
    redisSettings(args.redis);
  } catch (e) {
    return usageError(`--redis: ${(e as Error).message}`);
  }
  const ints: Record<string, number> = {};
  for (const [flag, min] of [['concurrency', 1], ['lock-ms', 100], ['stalled-interval-ms', 100]] as const) {
    const v = Number(args[flag]);
    if (!Number.isInteger(v) || v < min) return usageError(`--${flag} must be an integer >= ${min}, got ${JSON.stringify(args[flag])}`);
    ints[flag] = v;
  }
  let store;
  try {
    store = openStoreArg(args.store, args, { mustExist: true, missingHint: 'a store holds batches/ from fleetmap cloud ingest' });
  } catch (e) {
    return usageError(e);
  }
  const log = new JsonLogger('merge-worker');
  const worker = startQueueWorker({ redisUrl: args.redis, store, concurrency: ints.concurrency!, lockDurationMs: ints['lock-ms']!, stalledIntervalMs: ints['stalled-interval-ms']!, log });
  await worker.ready;
  log.info('worker_ready', { store: store.describe(), redis: args.redis, concurrency: ints.concurrency!, pid: process.pid });
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  log.info('worker_stopping', {});
  await worker.close();
  return 0;
}

function usageError(e: unknown): number {
  console.error(usageLine('fleetmap cloud worker', e));
  return 2;
}
