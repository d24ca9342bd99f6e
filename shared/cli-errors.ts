/**
 * How a `fleetmap` command fails: one line on stderr, never a stack trace.
 *
 *   exit 2  UsageError: a bad or missing flag, or an argument the command refuses (e.g. an --out
 *           directory it did not create). The user fixes the command line.
 *   exit 1  anything else thrown while running (a missing file, a store without tiles, a bug).
 *
 * `oneLine` is what the top-level guard in cli/main.ts prints; subcommands that catch their own
 * errors use it too, so every message looks the same.
 */
export class UsageError extends Error {
  override name = 'UsageError';
}

export const EXIT_RUNTIME = 1;
export const EXIT_USAGE = 2;

/** The exit code for an error thrown by a command. */
export function exitCodeOf(e: unknown): number {
  return e instanceof UsageError ? EXIT_USAGE : EXIT_RUNTIME;
}

/** `<prefix>: <message>` on one line: newlines and other control characters shown escaped. */
export function oneLine(prefix: string, e: unknown): string {
  const msg = e instanceof Error ? e.message || e.name : String(e);
  // eslint-disable-next-line no-control-regex
  const flat = msg.trim().replace(/\r?\n\s*/g, ' ').replace(/[\u0000-\u001f\u007f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
  return `${prefix}: ${flat}`;
}
