/**
 * Shared by the benchmark scripts in sim/bench/ (not part of the test suite): summary statistics
 * of repeated timings and the one place a report is written, `out/bench/<name>.json` under the
 * repository root (out/ is git-ignored).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { oneLine } from '../../shared/cli-errors.ts';

export const BENCH_OUT_DIR = fileURLToPath(new URL('../../out/bench/', import.meta.url));

export interface Summary {
  runs: number;
  min: number;
  median: number;
  max: number;
}

export function summarize(samples: readonly number[]): Summary {
  if (samples.length === 0) throw new RangeError('summarize: no samples');
  const s = [...samples].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return { runs: s.length, min: s[0]!, median: s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2, max: s[s.length - 1]! };
}

/** A figure to three decimals, for the JSON reports. */
export function round3(v: number): number {
  return Math.round(v * 1000) / 1000;
}

/** Where a figure came from: the numbers alone mean little without the machine and its load. */
export function machine(): Record<string, unknown> {
  return { node: process.version, platform: process.platform, arch: process.arch, cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? null, loadAvg1m: os.loadavg()[0] };
}

/** Write `{ name, tUnixMs, machine, ...figures }` to out/bench/<name>.json; returns the path. */
export function writeBenchReport(name: string, figures: Record<string, unknown>): string {
  mkdirSync(BENCH_OUT_DIR, { recursive: true });
  const file = path.join(BENCH_OUT_DIR, `${name}.json`);
  writeFileSync(file, `${JSON.stringify({ name, tUnixMs: Date.now(), machine: machine(), ...figures }, null, 2)}\n`);
  return file;
}

/**
 * A benchmark's flags: `parse` runs them; a bad or unknown flag prints one line on stderr
 * (`bench:<name>: <why>`) and exits 2 (usage), never a stack trace, like every fleetmap command.
 */
export function benchUsage<T>(bench: string, parse: () => T): T {
  try {
    return parse();
  } catch (e) {
    console.error(oneLine(`bench:${bench}`, e));
    process.exit(2);
  }
}

/** Parse `--runs N` (default `fallback`) and `--check` from argv. */
export function benchArgs(argv: readonly string[], fallbackRuns: number): { runs: number; check: boolean } {
  const i = argv.indexOf('--runs');
  const runs = i >= 0 ? Number(argv[i + 1]) : fallbackRuns;
  if (!Number.isInteger(runs) || runs < 1 || runs > 1000) throw new RangeError(`--runs must be an integer in [1, 1000], got ${JSON.stringify(argv[i + 1])}`);
  return { runs, check: argv.includes('--check') };
}
