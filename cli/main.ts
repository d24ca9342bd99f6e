/**
 * The `fleetmap` command: one entry, subcommands listed in one table. Each subcommand lives in
 * the module that owns it and exports `default async function (argv: string[]): Promise<number>`
 * (the exit code). Modules load lazily so `fleetmap edge run` on a vehicle never loads cloud code.
 */
interface CommandSpec {
  module: string;
  summary: string;
}

const COMMANDS: Record<string, CommandSpec> = {
  'edge run': { module: '../edge/cli.ts', summary: 'run the on-vehicle daemon (intake, georeference, outbox, uplink)' },
  'cloud ingest': { module: '../cloud/ingest/cli.ts', summary: 'run the ingest service (authenticate, validate, store, ack)' },
  'cloud health': { module: '../cloud/ingest/health-cli.ts', summary: 'print the fleet upload health table' },
  'cloud merge': { module: '../cloud/merge/cli.ts', summary: 'merge stored batches into a new versioned set of map tiles' },
  eval: { module: '../sim/eval/cli.ts', summary: 'score published tiles against a Lanelet2 ground truth' },
  demo: { module: '../sim/demo.ts', summary: 'the whole chain on a simulated fleet: sim -> edge -> ingest -> merge -> eval' },
};

function usage(): string {
  const rows = Object.entries(COMMANDS).map(([name, c]) => `  fleetmap ${name.padEnd(14)} ${c.summary}`);
  return ['usage: fleetmap <command> [options]   (each command takes --help)', '', ...rows].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const two = argv.slice(0, 2).join(' ');
  const [name, rest] = COMMANDS[two] ? [two, argv.slice(2)] : COMMANDS[argv[0] ?? ''] ? [argv[0]!, argv.slice(1)] : [undefined, argv];
  if (!name) {
    const asked = argv[0] === undefined || argv[0] === '--help' || argv[0] === '-h';
    (asked ? console.log : console.error)(asked ? usage() : `fleetmap: unknown command ${JSON.stringify(argv.join(' '))}\n\n${usage()}`);
    return asked ? 0 : 2;
  }
  const spec = COMMANDS[name]!;
  const mod = (await import(new URL(spec.module, import.meta.url).href)) as { default: (argv: string[]) => Promise<number> };
  return mod.default(rest);
}

const isEntry = process.argv[1] !== undefined && import.meta.url === new URL(`file://${process.argv[1]}`).href;
if (isEntry) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      console.error(e instanceof Error ? (e.stack ?? e.message) : e);
      process.exitCode = 1;
    },
  );
}
