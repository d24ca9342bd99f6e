/**
 * `fleetmap cloud gc --store LOC [--dry-run] [--grace-hours H]`: remove merge leftovers (gc.ts).
 * Prints one JSON summary line on stdout.
 */
import { parseCommand, usageLine } from '../../shared/cli-args.ts';
import { openStoreArg, S3_CLI_HELP, S3_CLI_OPTIONS } from '../store/index.ts';
import { collectGarbage } from './gc.ts';

const HELP = `usage: fleetmap cloud gc --store LOC [--dry-run] [--grace-hours H]

Deletes what no published map version uses: tile objects of crashed merges, merge scratch
(publish plans, old shards), observation state the latest version does not list, arrival
records older than the next incremental merge reads (the latest watermark less 10 minutes). Never batches,
manifests, tiles/latest.json or the tiles of any published version, nor a merge in flight.

options:
  --store LOC        object store (a directory, file:///dir, s3://bucket[/prefix])  (required)
  --dry-run          list what would go, delete nothing
  --grace-hours H    a claim without a manifest younger than this is a merge in flight (default 24)
  -h, --help         this text

S3 (cloud/store/README.md):
${S3_CLI_HELP}`;

export default async function (argv: string[]): Promise<number> {
  const parsed = parseCommand('fleetmap cloud gc', HELP, {
    args: argv,
    options: { store: { type: 'string' }, ...S3_CLI_OPTIONS, 'dry-run': { type: 'boolean', default: false }, 'grace-hours': { type: 'string', default: '24' }, help: { type: 'boolean', short: 'h', default: false } },
    strict: true,
    allowPositionals: false,
  });
  if (typeof parsed === 'number') return parsed;
  const args = parsed.values;
  if (!args.store) return usageError('--store LOC is required');
  const graceHours = Number(args['grace-hours']);
  if (!Number.isFinite(graceHours) || graceHours < 0) return usageError(`--grace-hours must be a number >= 0, got ${JSON.stringify(args['grace-hours'])}`);
  let store;
  try {
    store = openStoreArg(args.store, args, { mustExist: true, missingHint: 'a store holds batches/ from fleetmap cloud ingest' });
  } catch (e) {
    return usageError(e);
  }
  const r = await collectGarbage(store, { dryRun: args['dry-run'], graceMs: graceHours * 3_600_000 });
  console.log(
    JSON.stringify({
      dryRun: r.dryRun,
      published: r.publishedVersions.length,
      inFlight: r.inFlightVersions,
      crashed: r.crashedVersions,
      deleted: { tiles: r.deleted.tiles.length, mergeScratch: r.deleted.mergeScratch.length, state: r.deleted.state.length, arrivals: r.deleted.arrivals.length },
      stateSkipped: r.stateSkipped,
    }),
  );
  return 0;
}

function usageError(e: unknown): number {
  console.error(usageLine('fleetmap cloud gc', e));
  return 2;
}
