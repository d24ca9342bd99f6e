/** `fleetmap cloud health --store DIR [--json]`: print the fleet upload health table. */
import { oneLine } from '../../shared/cli-errors.ts';
import { parseCliArgs } from '../../shared/cli-args.ts';
import { LocalDirStore } from '../store/index.ts';
import { boundedHealth, HEALTH_KEY, parseHealth, renderHealthTable } from './health.ts';

const HELP = `usage: fleetmap cloud health --store DIR [--json]

Prints per-vehicle upload health from DIR/health/fleet.json (written by the ingest): last seen,
batches stored, duplicates, rejections by code, MB stored, observations, last reported queue
depth, highest seq; then the refusals nobody authenticated (never charged to a vehicle).
Anything a vehicle or a stranger chose (ids, claimed senders) is escaped and cut.

  --store DIR   object store root directory
  --json        print the JSON instead of the table (strings cut to a bounded length)
  -h, --help`;

export default async function healthCli(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseCliArgs({ args: argv, strict: true, allowPositionals: false, options: { store: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } }));
  } catch (e) {
    console.error(`${oneLine('fleetmap cloud health', e)} (fleetmap cloud health --help for usage)`);
    return 2;
  }
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  if (!values.store) {
    console.error('fleetmap cloud health: --store DIR is required (fleetmap cloud health --help for usage)');
    return 2;
  }
  const store = new LocalDirStore(values.store);
  const bytes = await store.get(HEALTH_KEY);
  if (!bytes) {
    console.error(`fleetmap cloud health: no ${HEALTH_KEY} in ${store.describe()} (has an ingest run there?)`);
    return 1;
  }
  let snap;
  try {
    snap = parseHealth(bytes);
  } catch (e) {
    console.error(oneLine('fleetmap cloud health', e));
    return 1;
  }
  console.log(values.json ? JSON.stringify(boundedHealth(snap), null, 2) : renderHealthTable(snap));
  return 0;
}
