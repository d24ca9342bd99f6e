/** `fleetmap cloud health --store DIR [--json]`: print the fleet upload health table. */
import { parseArgs } from 'node:util';
import { LocalDirStore } from '../store/index.ts';
import { HEALTH_KEY, parseHealth, renderHealthTable } from './health.ts';

const HELP = `usage: fleetmap cloud health --store DIR [--json]

Prints per-vehicle upload health from DIR/health/fleet.json (written by the ingest every
--health-interval-s and on shutdown): last seen, batches stored, duplicates, rejections by code,
MB stored, observations, last reported queue depth, highest seq.

  --store DIR   object store root directory
  --json        print the raw JSON instead of the table
  -h, --help`;

export default async function healthCli(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({ args: argv, strict: true, allowPositionals: false, options: { store: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } }));
  } catch (e) {
    console.error(`fleetmap cloud health: ${(e as Error).message}\n\n${HELP}`);
    return 2;
  }
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  if (!values.store) {
    console.error(`fleetmap cloud health: --store is required\n\n${HELP}`);
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
    console.error(`fleetmap cloud health: ${(e as Error).message}`);
    return 1;
  }
  console.log(values.json ? JSON.stringify(snap, null, 2) : renderHealthTable(snap));
  return 0;
}
