/**
 * The `fleetmap` command: one entry, subcommands listed in one table. Each subcommand lives in
 * the module that owns it and exports `default async function (argv: string[]): Promise<number>`
 * (the exit code). Modules load lazily so `fleetmap edge run` on a vehicle never loads cloud code.
 * Failures are one line on stderr, exit 2 for usage and 1 at run time (cli/errors.ts).
 */
import { COMPILED } from '../shared/ts-worker.ts';
import { EXIT_RUNTIME, EXIT_USAGE, exitCodeOf, oneLine } from './errors.ts';

interface CommandSpec {
  module: string;
  summary: string;
}

const COMMANDS: Record<string, CommandSpec> = {
  'edge run': { module: '../edge/cli.ts', summary: 'run the on-vehicle daemon (intake, georeference, outbox, uplink)' },
  'edge outbox': { module: '../edge/outbox-cli.ts', summary: "show a stopped daemon's outbox, requeue or purge its dead letters" },
  'cloud ingest': { module: '../cloud/ingest/cli.ts', summary: 'run the ingest service (authenticate, validate, store, ack)' },
  'cloud health': { module: '../cloud/ingest/health-cli.ts', summary: 'print the fleet upload health table' },
  keys: { module: '../cloud/ingest/keys-cli.ts', summary: 'vehicle and ingest Ed25519 keys; the vehicle key registry' },
  'cloud merge': { module: '../cloud/merge/cli.ts', summary: 'merge stored batches into a new versioned set of map tiles' },
  'cloud diff': { module: '../cloud/merge/diff-cli.ts', summary: 'list what changed between two published map versions, with evidence and status' },
  'cloud worker': { module: '../cloud/merge/worker-cli.ts', summary: 'run merge jobs from a BullMQ queue on Redis (distributed merge)' },
  'cloud gc': { module: '../cloud/merge/gc-cli.ts', summary: 'delete merge leftovers no published map version uses' },
  'cloud export': { module: '../cloud/merge/export-cli.ts', summary: 'write a published map version as a standard file (MBTiles vector tiles)' },
  'cloud web': { module: '../cloud/web/cli.ts', summary: 'serve the read-only web page: fleet health, charts, the published map and its changes' },
  eval: { module: '../sim/eval/cli.ts', summary: 'score published tiles against a Lanelet2 ground truth' },
  demo: { module: '../sim/demo.ts', summary: 'the whole chain on a simulated fleet: sim -> edge -> ingest -> merge -> eval' },
};

/**
 * A module path of the table as this build names it: the sources' `.ts`, or `.js` when running
 * the compiled build (`npm run build` -> dist/, what a vehicle runs).
 */
function compiledPath(module: string): string {
  return COMPILED ? module.replace(/\.ts$/, '.js') : module;
}

function usage(): string {
  const rows = Object.entries(COMMANDS).map(([name, c]) => `  fleetmap ${name.padEnd(14)} ${c.summary}`);
  return ['usage: fleetmap <command> [options]   (each command takes --help)', '', ...rows].join('\n');
}

/** The command named by argv (two words, then one), and its own arguments. */
function resolve(argv: readonly string[]): { name: string | undefined; rest: string[] } {
  const two = argv.slice(0, 2).join(' ');
  if (COMMANDS[two]) return { name: two, rest: argv.slice(2) };
  if (COMMANDS[argv[0] ?? '']) return { name: argv[0]!, rest: argv.slice(1) };
  return { name: undefined, rest: [...argv] };
}

/** Run one command; its exit code. Errors a command throws reach the caller (see `run`). */
export async function main(argv: string[]): Promise<number> {
  const { name, rest } = resolve(argv);
  if (!name) {
    const asked = argv[0] === undefined || argv[0] === '--help' || argv[0] === '-h';
    if (asked) console.log(usage());
    else console.error(oneLine('fleetmap', `unknown command ${JSON.stringify(argv.join(' '))} (fleetmap --help lists the commands)`));
    return asked ? 0 : EXIT_USAGE;
  }
  const spec = COMMANDS[name]!;
  const mod = (await import(new URL(compiledPath(spec.module), import.meta.url).href)) as { default: (argv: string[]) => Promise<number> };
  return mod.default(rest);
}

/**
 * The top-level guard: `main`, with any error a command throws turned into one line on stderr,
 * `fleetmap <command>: <message>`, and exit 2 for a UsageError, 1 for anything else. Never a
 * stack trace (set FLEETMAP_DEBUG=1 to get one).
 */
export async function run(argv: string[]): Promise<number> {
  try {
    return await main(argv);
  } catch (e) {
    reportFatal(argv, e);
    return exitCodeOf(e);
  }
}

function reportFatal(argv: readonly string[], e: unknown): void {
  const { name } = resolve(argv);
  console.error(oneLine(name ? `fleetmap ${name}` : 'fleetmap', e));
  if (process.env.FLEETMAP_DEBUG === '1' && e instanceof Error && e.stack) console.error(e.stack);
}

/** Errors outside the awaited chain (a callback, a forgotten promise): one line, exit 1. */
export function installProcessGuards(argv: readonly string[]): void {
  const fatal = (e: unknown): void => {
    reportFatal(argv, e);
    process.exit(EXIT_RUNTIME);
  };
  process.on('uncaughtException', fatal);
  process.on('unhandledRejection', fatal);
}

const isEntry = process.argv[1] !== undefined && import.meta.url === new URL(`file://${process.argv[1]}`).href;
if (isEntry) {
  const argv = process.argv.slice(2);
  installProcessGuards(argv);
  process.exitCode = await run(argv);
}
