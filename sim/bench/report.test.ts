import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const REPO = fileURLToPath(new URL('../../', import.meta.url));

/** A benchmark with bad flags: its stderr and exit code (it stops at the flags, before any work). */
function runBench(file: string, args: string[]): { status: number | null; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(REPO, 'sim', 'bench', file), ...args], { cwd: REPO, encoding: 'utf8', timeout: 120_000 });
  return { status: r.status, stderr: r.stderr };
}

describe('benchmark flags (benchUsage)', () => {
  it.each([
    ['accuracy.bench.ts', ['--maps', 'nope'], /^bench:accuracy: --maps: unknown nope \(known: karlsruhe, /],
    ['accuracy.bench.ts', ['--quiet'], /^bench:accuracy: Unknown option '--quiet'/],
    ['edge.bench.ts', ['--frames-per-set', 'x'], /^bench:edge: --frames-per-set must be a positive number, got "x"$/],
    ['edge.bench.ts', ['--hw-profile', 'no-such'], /^bench:edge: hw-profile no-such: no such profile file .*no-such\.json \(known profiles: .*x86-64/],
    ['merge.bench.ts', ['--runs', '0'], /^bench:merge: --runs must be an integer in \[1, 1000\], got "0"$/],
  ])('%s %j: one line on stderr, exit 2, no stack trace', (file, args, want) => {
    const r = runBench(file, args);
    const lines = r.stderr.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('npm warn'));
    expect(r.status).toBe(2);
    expect(lines, r.stderr).toHaveLength(1);
    expect(lines[0]).toMatch(want);
  }, 130_000);
});
