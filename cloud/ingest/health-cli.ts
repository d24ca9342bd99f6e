/**
 * `fleetmap cloud health --store DIR [--json] [thresholds]`: print the fleet health table, most
 * troubled vehicles first; exit 3 when any vehicle is in trouble (for cron and alerting), 0 when
 * none is, 2 for bad flags, 1 when the health file cannot be read.
 */
import { oneLine } from '../../shared/cli-errors.ts';
import { parseCommand, STD_COMMAND_IO, usageLine, type CommandIo } from '../../shared/cli-args.ts';
import { openStoreArg, S3_CLI_HELP, S3_CLI_OPTIONS, type ObjectStore } from '../store/index.ts';
import { DEFAULT_TROUBLE_THRESHOLDS, HEALTH_KEY, healthReport, parseHealth, renderHealthTable, type TroubleThresholds } from './health.ts';

/** Exit code when at least one vehicle is in trouble (1 and 2 mean the command itself failed). */
export const EXIT_TROUBLE = 3;

const d = DEFAULT_TROUBLE_THRESHOLDS;
const NAME = 'fleetmap cloud health';

const HELP = `usage: fleetmap cloud health --store DIR [--json] [--silent-after-s S] [--max-oldest-unsent-s S]
                             [--recent-s S] [--now-unix-ms MS]

Prints per-vehicle health from DIR/health/fleet.json (written by the ingest), most troubled
first: trouble, last seen, age of the oldest unsent data (as the vehicle reports it), queue
depth, MB stored in the last 24 h, drops on the vehicle by reason, refused batches by code (and
the last refusal's reason), model version, hw-profile, software version, batches stored; then
the refusals nobody authenticated (never charged to a vehicle). Anything a vehicle or a stranger
chose (ids, reasons, versions, claimed senders) is escaped and cut.

A vehicle is in trouble when it is
  silent    never seen, or not heard from for more than --silent-after-s (default ${d.silentAfterS})
  refused   a batch of it was refused within --recent-s (default ${d.recentS})
  drops     a drop count it reports went up within --recent-s
  backlog   its oldest unsent data is older than --max-oldest-unsent-s (default ${d.maxOldestUnsentS})

  --store DIR|S3            object store root directory, or s3://bucket[/prefix]
  --json                    print JSON (fleetmap-health-report v1) instead of the table
  --silent-after-s S        seconds
  --max-oldest-unsent-s S   seconds
  --recent-s S              seconds
  --now-unix-ms MS          judge as of this time (default: now)
  -h, --help
${S3_CLI_HELP}

Exit codes: 0 no vehicle in trouble, ${EXIT_TROUBLE} at least one vehicle in trouble, 1 the health file
cannot be read, 2 bad flags.`;

export interface HealthCliIo extends CommandIo {
  nowUnixMs: () => number;
}

const STD_IO: HealthCliIo = { ...STD_COMMAND_IO, nowUnixMs: () => Date.now() };

export default async function healthCli(argv: string[], io: HealthCliIo = STD_IO): Promise<number> {
  const parsed = parseCommand(NAME, HELP, {
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      store: { type: 'string' },
      ...S3_CLI_OPTIONS,
      json: { type: 'boolean' },
      'silent-after-s': { type: 'string' },
      'max-oldest-unsent-s': { type: 'string' },
      'recent-s': { type: 'string' },
      'now-unix-ms': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  }, io);
  if (typeof parsed === 'number') return parsed;
  const values = parsed.values;
  let thresholds: TroubleThresholds;
  let nowUnixMs: number;
  try {
    thresholds = {
      silentAfterS: seconds('--silent-after-s', values['silent-after-s'], d.silentAfterS),
      maxOldestUnsentS: seconds('--max-oldest-unsent-s', values['max-oldest-unsent-s'], d.maxOldestUnsentS),
      recentS: seconds('--recent-s', values['recent-s'], d.recentS),
    };
    nowUnixMs = values['now-unix-ms'] === undefined ? io.nowUnixMs() : seconds('--now-unix-ms', values['now-unix-ms'], 0);
  } catch (e) {
    io.err(usageLine(NAME, e));
    return 2;
  }
  if (!values.store) {
    io.err(usageLine(NAME, '--store DIR is required'));
    return 2;
  }
  let store: ObjectStore;
  try {
    store = openStoreArg(values.store, values);
  } catch (e) {
    io.err(usageLine(NAME, e));
    return 2;
  }
  const bytes = await store.get(HEALTH_KEY);
  if (!bytes) {
    io.err(`fleetmap cloud health: no ${HEALTH_KEY} in ${store.describe()} (has an ingest run there?)`);
    return 1;
  }
  let snap;
  try {
    snap = parseHealth(bytes);
  } catch (e) {
    io.err(oneLine(NAME, e));
    return 1;
  }
  const report = healthReport(snap, nowUnixMs, thresholds);
  io.out(values.json ? JSON.stringify(report, null, 2) : renderHealthTable(snap, nowUnixMs, thresholds));
  return report.vehiclesInTrouble > 0 ? EXIT_TROUBLE : 0;
}

/** A flag's non-negative number (seconds, or ms for --now-unix-ms), or the default; throws naming the flag. */
function seconds(flag: string, v: string | undefined, dflt: number): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n < 0) throw new Error(`${flag} must be a non-negative number, got ${JSON.stringify(v)}`);
  return n;
}
