import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { LocalDirStore } from '../store/index.ts';
import diffCli from './diff-cli.ts';
import { diffVersions, type VersionDiff } from './diff.ts';
import { runMerge } from './run.ts';
import { simulateFleet, syntheticWorld, writeBatches } from './synthetic.ts';

const T0 = Date.UTC(2025, 2, 1, 8);
const DAY = 86_400_000;
let dir: string;
/** The observation times of the first fleet (simulated data, not the clock). */
let firstFleetObservedAt: Set<number>;
let store: LocalDirStore;

/** Runs the command; its exit code and what it printed. */
async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
  const error = vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void err.push(a.join(' ')));
  try {
    const code = await diffCli(args);
    return { code, out: out.join('\n'), err: err.join('\n') };
  } finally {
    log.mockRestore();
    error.mockRestore();
  }
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'fm-diff-'));
  store = new LocalDirStore(dir);
  const world = syntheticWorld();
  const first = simulateFleet(world, { drives: 6, seed: 11, startUnixMs: T0 }).observations;
  firstFleetObservedAt = new Set(first.map((o) => o.tUnixMs));
  await writeBatches(store, first);
  await runMerge(store, { nowUnixMs: () => T0 + DAY });
  // A month later the left divider has been burnt off.
  await writeBatches(store, simulateFleet(world, { drives: 10, seed: 12, startUnixMs: T0 + 30 * DAY, without: ['div_left'], driveIdPrefix: 'later' }).observations, 200, 1);
  await runMerge(store, { nowUnixMs: () => T0 + 31 * DAY });
}, 120_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('diffVersions', () => {
  it('lists the removed divider once, confirmed, with its evidence from v1', async () => {
    const d = await diffVersions(store, 1, 2);
    expect(d.totals.added).toEqual({ candidate: 0, confirmed: 0 });
    const removed = d.changes.filter((c) => c.kind === 'removed');
    expect(removed).toHaveLength(2); // the divider crosses a tile border: one feature per tile
    for (const c of removed) {
      expect(c).toMatchObject({ cls: 'lane_divider', status: 'confirmed' });
      expect(c.evidence.reportedIn).toEqual([2]);
      expect(c.evidence.supportDrives).toBeGreaterThanOrEqual(3);
      // last seen by the first fleet (the second, 30 days later, no longer saw it)
      expect(firstFleetObservedAt.has(c.evidence.lastSeenUnixMs)).toBe(true);
      expect(c.geometries[0]!.type).toBe('LineString');
    }
  });

  it('refuses a diff that does not go forwards', async () => {
    await expect(diffVersions(store, 2, 2)).rejects.toThrow(/older/);
    await expect(diffVersions(store, 1, 3)).rejects.toThrow(/not published/);
  });
});

describe('fleetmap cloud diff', () => {
  it('prints the table for the latest version by default, and the JSON with --json', async () => {
    const t = await cli(['--store', dir]);
    expect(t.code).toBe(0);
    expect(t.out).toMatch(/^v1 -> v2: added 0 confirmed \+ 0 candidate, moved 0 \+ 0, removed 2 \+ 0/);
    expect(t.out.split('\n').filter((l) => /^removed\s+confirmed\s+lane_divider/.test(l))).toHaveLength(2);
    const j = await cli(['--store', dir, 'v1', 'v2', '--json']);
    expect(j.code).toBe(0);
    const parsed = JSON.parse(j.out) as VersionDiff;
    expect(parsed).toMatchObject({ from: 1, to: 2, confirmDrives: 3 });
    expect(parsed.changes).toHaveLength(2);
  });

  it('says what is wrong in one line: exit 2 for usage, 1 at run time', async () => {
    for (const args of [[], ['--store', dir, 'x7'], ['--store', dir, '2', '1'], ['--store', path.join(dir, 'nope')], ['--store', dir, '--confirm-drives', '0'], ['--store', dir, '1', '2', '3']]) {
      const r = await cli(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.err.split('\n'), args.join(' ')).toHaveLength(1);
    }
    const first = await cli(['--store', dir, '1']);
    expect(first.code).toBe(1);
    expect(first.err).toMatch(/first version/);
    const missing = await cli(['--store', dir, '1', '5']);
    expect(missing.code).toBe(1);
    expect(missing.err).toMatch(/version 5 is not published/);
  });
});
