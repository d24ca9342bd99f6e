/**
 * `fleetmap edge outbox --outbox FILE <show|requeue|purge> [--dead-letters] [--seq N]... [--json]`:
 * the operator's view of a vehicle's outbox while its daemon is stopped (outbox-admin.ts).
 * Exit codes: 0 done, 1 at run time (no such file, the daemon holds it, not an outbox, no such
 * dead letter), 2 usage. Failures are one line on stderr.
 */
import { EXIT_RUNTIME, EXIT_USAGE, UsageError, oneLine } from '../cli/errors.ts';
import { parseCliArgs } from '../shared/cli-args.ts';
import { purgeDeadLetters, requeueDeadLetters, showOutbox, withOutboxFile, type OutboxReport } from './outbox-admin.ts';
import type { ClassCounts } from './outbox-policy.ts';

const HELP = `usage: fleetmap edge outbox --outbox FILE <show|requeue|purge> [--dead-letters] [--seq N]... [--json]

Inspect or repair an edge outbox (SQLite) while its daemon is stopped; refused while it runs.

  show                 counts and sizes: pending observations (by class), unacked batches,
                       dead letters (by reason), disk bytes by file, lifetime drops
                       (--dead-letters: list every dead letter with its full reason)
  requeue              move dead letters back into the send queue with their seq and exact
                       bytes (all, or --seq N ...); the daemon sends them next
  purge --dead-letters delete dead letters (all, or --seq N ...) and shrink the file

  --outbox FILE        the outbox file (never created)
  --dead-letters       show: list them; purge: required (what to delete)
  --seq N              only this dead letter (repeatable)
  --json               machine-readable output on stdout
  -h, --help`;

const ACTIONS = ['show', 'requeue', 'purge'] as const;
type Action = (typeof ACTIONS)[number];

export default async function edgeOutbox(argv: string[]): Promise<number> {
  try {
    return run(argv);
  } catch (e) {
    console.error(oneLine('fleetmap edge outbox', e));
    return e instanceof UsageError ? EXIT_USAGE : EXIT_RUNTIME;
  }
}

function run(argv: string[]): number {
  let parsed;
  try {
    parsed = parseCliArgs({
      args: argv,
      strict: true,
      allowPositionals: true,
      options: {
        outbox: { type: 'string' },
        'dead-letters': { type: 'boolean' },
        seq: { type: 'string', multiple: true },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (e) {
    throw new UsageError(`${(e as Error).message} (--help for usage)`);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  if (positionals.length !== 1 || !(ACTIONS as readonly string[]).includes(positionals[0]!)) {
    throw new UsageError(`expected one action, ${ACTIONS.join(' | ')}; got ${positionals.length === 0 ? 'none' : JSON.stringify(positionals.join(' '))} (--help for usage)`);
  }
  const action = positionals[0] as Action;
  const file = values.outbox;
  if (file === undefined || file === '') throw new UsageError('--outbox FILE is required');
  const seqs = values.seq?.map((s) => {
    const n = Number(s);
    if (!/^\d+$/.test(s) || !Number.isSafeInteger(n) || n < 1) throw new UsageError(`--seq must be a batch seq (a positive integer), got ${JSON.stringify(s)}`);
    return n;
  });
  if (action === 'purge' && !values['dead-letters']) throw new UsageError('purge deletes dead letters only: say so with --dead-letters');
  if (action === 'show' && seqs) throw new UsageError('--seq is for requeue and purge');
  const json = values.json === true;
  const out = (text: string, data: unknown): void => console.log(json ? JSON.stringify(data) : text);

  return withOutboxFile(file, (db) => {
    if (action === 'show') {
      const r = showOutbox(db, file, { listDeadLetters: values['dead-letters'] === true });
      out(formatReport(r), r);
    } else if (action === 'requeue') {
      const { requeued } = requeueDeadLetters(db, seqs);
      const text = requeued.length === 0 ? `no dead letters to requeue in ${file}` : `requeued ${requeued.length} dead letter(s) (seq ${requeued.map((d) => d.seq).join(', ')}, ${requeued.reduce((a, d) => a + d.observations, 0)} observations): sent next, same seq and bytes`;
      out(text, { action, file, requeued });
    } else {
      const r = purgeDeadLetters(db, file, seqs);
      const text = `purged ${r.purged.length} dead letter(s) (${r.purged.reduce((a, d) => a + d.observations, 0)} observations); disk ${r.diskBytesBefore} -> ${r.diskBytesAfter} bytes`;
      out(text, { action, file, ...r });
    }
    return 0;
  });
}

function formatReport(r: OutboxReport): string {
  const counts = (c: ClassCounts): string =>
    Object.entries(c)
      .map(([k, n]) => `${k} ${n}`)
      .join(', ') || '-';
  const d = r.disk;
  const t = r.dropTotals;
  const lines = [
    `outbox ${r.file}: vehicle ${r.vehicleId}, schema v${r.schemaVersion}, next seq ${r.nextSeq}`,
    `pending       ${r.pending.observations} observations, ${r.pending.bytes} bytes (${counts(r.pending.byClass)})`,
    `batches       ${r.batches.count} unacked, ${r.batches.observations} observations, ${r.batches.bytes} bytes${r.batches.count > 0 ? ` (seq ${r.batches.firstSeq}..${r.batches.lastSeq})` : ''}`,
    `dead letters  ${r.deadLetters.count}, ${r.deadLetters.observations} observations, ${r.deadLetters.bytes} bytes (${counts(r.deadLetters.byReason as ClassCounts)})`,
    ...(r.deadLetters.list ?? []).map((x) => `  seq ${x.seq}: ${x.observations} observations, ${x.envelopeBytes} bytes, dead since ${new Date(x.deadUnixMs).toISOString()}: ${x.reason}`),
    `disk          ${d.totalBytes} bytes: db ${d.dbBytes}, wal ${d.walBytes}, shm ${d.shmBytes}, journal ${d.journalBytes} (free pages inside: ${d.freePagesBytes})`,
    `dropped       budget reached ${t.applied} time(s); pending ${counts(t.observations.pending)}; batches ${t.batches} (${counts(t.observations.batches)}); dead letters ${t.deadLetters} (${counts(t.observations.dead_letters)}); refused ${counts(t.observations.refused)}`,
  ];
  return lines.join('\n');
}
