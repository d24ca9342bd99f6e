/**
 * Every `fleetmap` command, run as a user runs it (a real process), with missing and bad flags:
 * one line on stderr, no stack trace, exit 2 for usage and 1 for run-time failures. Also: --out
 * never touches a directory fleetmap did not make, and flag values may start with '-'.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runMerge } from '../cloud/merge/run.ts';
import { simulateFleet, syntheticWorld, writeBatches } from '../cloud/merge/synthetic.ts';
import { LocalDirStore } from '../cloud/store/index.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CLI = path.join(ROOT, 'cli', 'main.ts');
const BIN = path.join(ROOT, 'bin', 'fleetmap.mjs');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `fleetmap ARGS` through tsx (or bin/fleetmap.mjs, which works from any cwd), in `cwd`. */
function fleetmap(args: string[], o: { cwd?: string; bin?: boolean } = {}): Promise<Run> {
  const argv = o.bin || o.cwd ? [BIN, ...args] : ['--import', 'tsx', CLI, ...args];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, argv, { cwd: o.cwd ?? ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, FLEETMAP_DEBUG: '' } });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** The lines a command wrote on stderr, without Node's own warnings (e.g. ExperimentalWarning). */
const errorLines = (r: Run): string[] => r.stderr.split('\n').filter((l) => l.trim() !== '' && !/^\(node:\d+\)|--trace-warnings/.test(l));

function expectOneLine(r: Run, code: 1 | 2, pattern: RegExp): void {
  const lines = errorLines(r);
  expect(lines, r.stderr).toHaveLength(1);
  expect(r.stderr).not.toMatch(/^\s+at /m);
  expect(lines[0]).toMatch(pattern);
  expect(r.code, r.stderr).toBe(code);
}

const scratch = (): string => mkdtempSync(path.join(tmpdir(), 'fm-cli-'));

describe('fleetmap: every error is one line, exit 2 (usage) or 1 (run time)', () => {
  const empty = scratch();
  const missing = path.join(empty, 'nothing-here');
  const corrupt = scratch();
  mkdirSync(path.join(corrupt, 'health'));
  writeFileSync(path.join(corrupt, 'health', 'fleet.json'), '{"schemaVersion": 1');
  /** A Z85 CURVE public key starting with '-' (valid Z85: each group below 2^32). */
  const dashKey = `-${'K'.repeat(39)}`;

  const cases: Array<[string, string[], 1 | 2, RegExp]> = [
    ['unknown command', ['nope'], 2, /^fleetmap: unknown command "nope"/],
    ['demo: bad number', ['demo', '--vehicles', 'x'], 2, /^fleetmap demo: --vehicles must be a positive integer, got "x"/],
    ['demo: unknown flag', ['demo', '--bogus'], 2, /^fleetmap demo: Unknown option '--bogus'/],
    ['demo: flag without its value', ['demo', '--out'], 2, /^fleetmap demo: Option '--out <value>' argument missing/],
    ['demo: missing --map file', ['demo', '--map', missing], 2, /^fleetmap demo: --map .*nothing-here: no such file/],
    ['demo: more RTK vehicles than vehicles', ['demo', '--vehicles', '2', '--rtk-vehicles', '3'], 2, /^fleetmap demo: --rtk-vehicles must be at most --vehicles \(2\), got 3/],
    ['demo: unknown terrain', ['demo', '--terrain', 'alps'], 2, /^fleetmap demo: --terrain must be one of none, rolling, got "alps"/],
    ['demo: terrain without the camera', ['demo', '--terrain', 'rolling', '--perception', 'oracle'], 2, /^fleetmap demo: --terrain needs --perception model/],
    ['demo: missing --hw-profile file', ['demo', '--hw-profile', missing], 2, /^fleetmap demo: --hw-profile .*nothing-here: no such file/],
    ['eval: no --store', ['eval'], 2, /^fleetmap eval: --store DIR is required/],
    ['eval: missing --map file', ['eval', '--store', empty, '--map', missing], 2, /^fleetmap eval: --map .*: no such file/],
    ['eval: bad --version', ['eval', '--store', empty, '--version', '0'], 2, /^fleetmap eval: --version must be a positive integer/],
    ['eval: a store without tiles (run time)', ['eval', '--store', empty], 1, /^fleetmap eval: no published map in file:\/\//],
    ['cloud merge: no --store', ['cloud', 'merge'], 2, /^fleetmap cloud merge: --store DIR is required/],
    ['cloud merge: missing store', ['cloud', 'merge', '--store', missing], 2, /^fleetmap cloud merge: --store .*: no such directory/],
    ['cloud merge: bad --workers', ['cloud', 'merge', '--store', empty, '--workers', '0'], 2, /^fleetmap cloud merge: --workers must be an integer >= 1/],
    ['cloud health: no --store', ['cloud', 'health'], 2, /^fleetmap cloud health: --store DIR is required/],
    ['cloud health: nothing there (run time)', ['cloud', 'health', '--store', empty], 1, /^fleetmap cloud health: no health\/fleet.json in file:\/\//],
    ['cloud health: corrupt file (run time)', ['cloud', 'health', '--store', corrupt], 1, /^fleetmap cloud health: health\/fleet.json: not JSON/],
    ['cloud ingest: missing flags', ['cloud', 'ingest', '--bind', 'tcp://127.0.0.1:*'], 2, /"event":"config_invalid".*--store/],
    ['edge run: unknown flag', ['edge', 'run', '--bogus'], 2, /^fleetmap edge run: Unknown option '--bogus'/],
    ['edge run: missing settings', ['edge', 'run'], 2, /"event":"config_invalid"/],
    ['edge outbox: unknown flag', ['edge', 'outbox', '--bogus'], 2, /^fleetmap edge outbox: Unknown option '--bogus'/],
    ['keys: unknown subcommand', ['keys', 'nope'], 2, /^fleetmap keys: unknown subcommand "nope"/],
    ['keys generate: unknown flag', ['keys', 'generate', '--bogus'], 2, /^fleetmap keys generate: Unknown option '--bogus'/],
    // The commands that parse their flags with shared/cli-args.ts parseCommand: one line each.
    ...(['eval', 'cloud merge', 'cloud gc', 'cloud export', 'cloud diff', 'cloud worker', 'cloud web', 'cloud ingest', 'cloud health'] as const).map(
      (c): [string, string[], 1 | 2, RegExp] => [`${c}: unknown flag`, [...c.split(' '), '--bogus'], 2, new RegExp(`^fleetmap ${c}: Unknown option '--bogus'.* \\(fleetmap ${c} --help for usage\\)$`)],
    ),
  ];
  it.each(cases)('%s', async (_name, args, code, pattern) => {
    expectOneLine(await fleetmap(args), code, pattern);
  });

  it('eval refuses a published map of another place (no --map given: the bundled Karlsruhe map)', async () => {
    // A map version merged from drives near Tokyo.
    const store = scratch();
    const local = new LocalDirStore(store);
    const t0 = Date.UTC(2025, 4, 1, 8);
    await writeBatches(local, simulateFleet(syntheticWorld({ lng: 139.9, lat: 35.24 }), { drives: 3, seed: 5, startUnixMs: t0 }).observations);
    await runMerge(local, { nowUnixMs: () => t0 + 86_400_000 });
    expectOneLine(await fleetmap(['eval', '--store', store]), 2, /^fleetmap eval: map v1 \(\d+ primitives\) lies nowhere near the ground truth of mapping_example\.osm .*pass the map it was made on with --map/);
  }, 60_000);

  it('bin/fleetmap.mjs goes through the same guard', async () => {
    expectOneLine(await fleetmap(['eval', '--store', empty], { bin: true }), 1, /^fleetmap eval: no published map/);
    expectOneLine(await fleetmap(['demo', '--drives', '-1'], { bin: true }), 2, /^fleetmap demo: --drives must be a positive integer, got "-1"/);
  });

  it('demo --out refuses a non-empty directory fleetmap did not make, and leaves it as it was', async () => {
    const mine = scratch();
    writeFileSync(path.join(mine, 'notes.txt'), 'mine');
    mkdirSync(path.join(mine, 'src'));
    expectOneLine(await fleetmap(['demo', '--out', mine]), 2, /^fleetmap demo: refusing to write into .*: it is not empty and fleetmap did not create it/);
    expect(readdirSync(mine).sort()).toEqual(['notes.txt', 'src']);
    expect(readFileSync(path.join(mine, 'notes.txt'), 'utf8')).toBe('mine');
    // `--out .` in a directory with anything in it: refused, nothing deleted
    expectOneLine(await fleetmap(['demo', '--out', '.'], { cwd: mine }), 2, /refusing to write into/);
    expect(readdirSync(mine).sort()).toEqual(['notes.txt', 'src']);
  });

  it('takes flag values that start with "-": a CURVE key, a directory named -odd', async () => {
    const r = await fleetmap(['edge', 'run', '--ingest-curve-public-key', dashKey]);
    expect(r.stderr).not.toMatch(/ambiguous/);
    expect(r.stderr).not.toMatch(/ingestCurvePublicKey must be/); // the key itself was accepted
    expect(r.stderr).not.toMatch(/missing ingestCurvePublicKey/);
    expectOneLine(r, 2, /"event":"config_invalid"/);
    const cwd = scratch();
    mkdirSync(path.join(cwd, '-odd'));
    expectOneLine(await fleetmap(['cloud', 'health', '--store', '-odd'], { cwd }), 1, /^fleetmap cloud health: no health\/fleet.json in file:\/\/.*\/-odd /);
  });
});
