/**
 * Command-line flags for every `fleetmap` command: node:util `parseArgs`, except that a
 * value-taking flag always takes the next argument as its value, even when that value starts
 * with '-' (a Z85 CURVE key, a negative number, a file named "-x"). Plain `parseArgs` refuses
 * `--flag -value` as ambiguous, which made about one CURVE public key in 85 unusable.
 *
 *   --ingest-curve-public-key -Kx...   and   --ingest-curve-public-key=-Kx...   both work.
 *
 * The rule is getopt's: `--store --json` gives --store the value "--json". Arguments after a
 * bare `--` are left alone. A value-taking flag that is the last argument is still an error
 * ("argument missing"), reported by parseArgs.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { EXIT_USAGE, oneLine } from './cli-errors.ts';

/** Where a command writes: its output (stdout) and its one-line errors (stderr). */
export interface CommandIo {
  out: (text: string) => void;
  err: (text: string) => void;
}

export const STD_COMMAND_IO: CommandIo = { out: (t) => console.log(t), err: (t) => console.error(t) };

/** The line a usage error prints: `<command>: <message> (<command> --help for usage)`. */
export function usageLine(command: string, e: unknown): string {
  return `${oneLine(command, e)} (${command} --help for usage)`;
}

/**
 * A command's flags (parseCliArgs), with the two answers every command gives before it runs:
 * `--help` prints `help` on `io.out` (exit 0); flags that parseArgs refuses (unknown, a value
 * missing, a positional where none is allowed) print the usage line on `io.err` (exit 2).
 * Returns the parsed flags, or the exit code when the command is already done.
 */
export function parseCommand<T extends ParseArgsConfig>(command: string, help: string, config: T, io: CommandIo = STD_COMMAND_IO): ReturnType<typeof parseArgs<T>> | number {
  let parsed: ReturnType<typeof parseArgs<T>>;
  try {
    parsed = parseCliArgs(config);
  } catch (e) {
    io.err(usageLine(command, e));
    return EXIT_USAGE;
  }
  if ((parsed.values as Record<string, unknown>).help === true) {
    io.out(help);
    return 0;
  }
  return parsed;
}

export function parseCliArgs<T extends ParseArgsConfig>(config: T): ReturnType<typeof parseArgs<T>> {
  const args = config.args ?? process.argv.slice(2);
  // Same config with only `args` rewritten, so the result type is parseArgs's own for T.
  return parseArgs({ ...config, args: joinDashValues(args, config.options ?? {}) } as T);
}

/**
 * Rewrite `--name VALUE` and `-n VALUE` into `--name=VALUE` where `name` takes a string and VALUE
 * starts with '-'. Everything else passes through unchanged.
 */
export function joinDashValues(args: readonly string[], options: NonNullable<ParseArgsConfig['options']>): string[] {
  const stringLong = new Set<string>();
  const longOfShort = new Map<string, string>();
  for (const [name, o] of Object.entries(options)) {
    if (o.type !== 'string') continue;
    stringLong.add(name);
    if (o.short !== undefined) longOfShort.set(o.short, name);
  }
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--') {
      out.push(...args.slice(i));
      break;
    }
    const next = args[i + 1];
    const name = a.startsWith('--') ? a.slice(2) : /^-[^-]$/.test(a) ? longOfShort.get(a.slice(1)) : undefined;
    if (name !== undefined && stringLong.has(name) && next !== undefined && next.startsWith('-')) {
      out.push(`--${name}=${next}`);
      i++;
    } else out.push(a);
  }
  return out;
}
