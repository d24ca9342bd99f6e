/**
 * `fleetmap cloud diff --store LOC [A] [B]`: the changes between two published map versions
 * (diff.ts), most actionable first, as a table or `--json`. B defaults to the latest version,
 * A to B - 1.
 */
import { parseCommand, usageLine } from '../../shared/cli-args.ts';
import { EXIT_RUNTIME, EXIT_USAGE, oneLine } from '../../shared/cli-errors.ts';
import { openStoreArg, S3_CLI_HELP, S3_CLI_OPTIONS, type ObjectStore } from '../store/index.ts';
import { DEFAULT_DIFF_OPTIONS, diffVersions, type VersionDiff } from './diff.ts';
import { readLatest } from './publish.ts';

const NAME = 'fleetmap cloud diff';

const HELP = `usage: ${NAME} --store LOC [A] [B] [--json] [--confirm-drives N]

Lists what changed between published map versions A and B (default: the latest and the one
before it): features added, moved and removed, each with its status (confirmed / candidate),
class, id, tiles and evidence (supporting drives, score, first and last seen). A version may be
written 7 or v7.

options:
  --store LOC          object store: a directory or s3://bucket[/prefix]        (required)
  --json               print the diff as JSON (geometries included, [lng, lat])
  --confirm-drives N   drives that confirm an added or moved feature            (default ${DEFAULT_DIFF_OPTIONS.confirmDrives})
${S3_CLI_HELP}
  -h, --help           this text`;

export default async function (argv: string[]): Promise<number> {
  const parsed = parseCommand(NAME, HELP, {
    args: argv,
    options: {
      store: { type: 'string' },
      ...S3_CLI_OPTIONS,
      json: { type: 'boolean', default: false },
      'confirm-drives': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
    allowPositionals: true,
  });
  if (typeof parsed === 'number') return parsed;
  const args = parsed.values;
  if (!args.store) return usageError('--store LOC is required');
  if (parsed.positionals.length > 2) return usageError(`at most two versions, got ${parsed.positionals.length}`);
  const versions = parsed.positionals.map(parseVersion);
  const bad = versions.findIndex((v) => v === undefined);
  if (bad >= 0) return usageError(`a version is an integer >= 1 (7 or v7), got ${JSON.stringify(parsed.positionals[bad])}`);
  let confirmDrives = DEFAULT_DIFF_OPTIONS.confirmDrives;
  if (args['confirm-drives'] !== undefined) {
    confirmDrives = /^[1-9]\d{0,3}$/.test(args['confirm-drives']) ? Number(args['confirm-drives']) : NaN;
    if (!Number.isInteger(confirmDrives)) return usageError(`--confirm-drives must be an integer >= 1, got ${JSON.stringify(args['confirm-drives'])}`);
  }
  let store: ObjectStore;
  try {
    store = openStoreArg(args.store, args, { mustExist: true });
  } catch (e) {
    return usageError(e);
  }
  try {
    // none: latest vs the one before; one: that version vs the one before; two: A and B.
    let b = versions.length === 2 ? versions[1]! : versions[0];
    if (b === undefined) {
      const latest = await readLatest(store);
      if (!latest) throw new Error(`${store.describe()} has no published map version: run fleetmap cloud merge first`);
      b = latest.version;
    }
    const a = versions.length === 2 ? versions[0]! : b - 1;
    if (a < 1) throw new Error(`v${b} is the first version: there is nothing to diff it against`);
    if (a >= b) return usageError(`A must be older than B, got v${a} and v${b}`);
    const diff = await diffVersions(store, a, b, { confirmDrives });
    console.log(args.json ? JSON.stringify(diff, null, 2) : formatDiff(diff));
    return 0;
  } catch (e) {
    console.error(oneLine(NAME, e));
    return EXIT_RUNTIME;
  }
}

function parseVersion(s: string): number | undefined {
  const m = /^v?([1-9]\d{0,8})$/.exec(s);
  return m ? Number(m[1]) : undefined;
}

/** The diff as a table: one row per change; ids and codes are ours (no vehicle-chosen text). */
export function formatDiff(d: VersionDiff): string {
  const t = d.totals;
  const head = `v${d.from} -> v${d.to}: added ${t.added.confirmed} confirmed + ${t.added.candidate} candidate, moved ${t.moved.confirmed} + ${t.moved.candidate}, removed ${t.removed.confirmed} + ${t.removed.candidate} (confirmed: >= ${d.confirmDrives} drives; added: first seen after v${d.from}'s data)`;
  const grown = Object.values(d.newCoverage).reduce((a: number, n) => a + (n ?? 0), 0);
  const coverage = grown > 0 ? `\nnew coverage: ${grown} features where no drive had been before v${d.from}'s data (${Object.entries(d.newCoverage).map(([c, n]) => `${c} ${n}`).join(', ')}): the map grew, no change` : '';
  if (d.changes.length === 0) return `${head}${coverage}\nno changes`;
  const rows = d.changes.map((c) => [
    c.kind,
    c.status,
    c.cls,
    c.id,
    String(c.evidence.supportDrives),
    c.evidence.score.toFixed(2),
    isoDay(c.evidence.firstSeenUnixMs),
    isoDay(c.evidence.lastSeenUnixMs),
    c.tiles.join(' '),
  ]);
  const header = ['change', 'status', 'class', 'id', 'drives', 'score', 'first seen', 'last seen', 'tiles'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]): string => r.map((v, i) => v.padEnd(widths[i]!)).join('  ').trimEnd();
  return [head + coverage, '', line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

const isoDay = (ms: number): string => new Date(ms).toISOString().slice(0, 16).replace('T', ' ');

function usageError(e: unknown): number {
  console.error(usageLine(NAME, e));
  return EXIT_USAGE;
}
