/**
 * A reader of published map versions written from the docs alone (test/clients/map_reader.py,
 * Python standard library; its author read README.md, docs/ and the cloud READMEs, never this
 * code) reads what the merge publishes and agrees with the product: tiles and features per
 * class as the manifests count them, tiles carried by reference into a later version, and the
 * changes `fleetmap cloud diff` lists. If the published layout drifts from its docs, this fails.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { diffVersions } from '../cloud/merge/diff.ts';
import { runMerge, type Manifest } from '../cloud/merge/run.ts';
import { simulateFleet, syntheticWorld, writeBatches } from '../cloud/merge/synthetic.ts';
import { LocalDirStore } from '../cloud/store/index.ts';
import { REPO } from './helpers.ts';

const run = promisify(execFile);
const PYTHON = process.env.FLEETMAP_PYTHON ?? '/usr/bin/python3';
const READER = path.join(REPO, 'test', 'clients', 'map_reader.py');
const T0 = Date.UTC(2025, 2, 1, 8);
const DAY = 86_400_000;

interface ReaderOut {
  version: number;
  tiles: number;
  carriedTiles: number;
  features: number;
  featuresByClass: Record<string, number>;
  changes?: { byKind: Record<string, Record<string, number>>; total: number };
}

async function reader(args: string[]): Promise<{ code: number; out?: ReaderOut; stderr: string }> {
  try {
    const r = await run(PYTHON, [READER, ...args], { cwd: REPO, encoding: 'utf8', timeout: 60_000 });
    return { code: 0, out: JSON.parse(r.stdout) as ReaderOut, stderr: r.stderr };
  } catch (e) {
    const x = e as { code?: number; stderr?: string };
    return { code: typeof x.code === 'number' ? x.code : -1, stderr: x.stderr ?? '' };
  }
}

function byClass(m: Manifest): Record<string, number> {
  const out: Record<string, number> = {};
  for (const t of m.tiles) for (const [c, n] of Object.entries(t.byClass)) out[c] = (out[c] ?? 0) + (n ?? 0);
  return out;
}

describe('a map reader written from the docs alone', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'fm-map-reader-'));
  const store = new LocalDirStore(dir);
  const world = syntheticWorld();
  const versions: Manifest[] = [];

  beforeAll(async () => {
    await writeBatches(store, simulateFleet(world, { drives: 10, seed: 11, startUnixMs: T0 }).observations);
    versions.push(await runMerge(store, { nowUnixMs: () => T0 + DAY }));
    // A month later the left divider's paint is gone and ten more drives pass.
    const later = simulateFleet(world, { drives: 10, seed: 12, startUnixMs: T0 + 30 * DAY, without: ['div_left'], driveIdPrefix: 'later' });
    await writeBatches(store, later.observations, 200, 1);
    versions.push(await runMerge(store, { nowUnixMs: () => T0 + 31 * DAY }));
    // Nothing new: every tile of v3 is carried from v2 by reference.
    versions.push(await runMerge(store, { nowUnixMs: () => T0 + 32 * DAY }));
  }, 120_000);

  it('reads every version as its manifest counts it, following carried tiles', async () => {
    for (const m of versions) {
      const r = await reader(['--store', dir, '--version', String(m.version)]);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.out!.version).toBe(m.version);
      expect(r.out!.tiles).toBe(m.tiles.length);
      expect(r.out!.features).toBe(m.tiles.reduce((a, t) => a + t.features, 0));
      expect(r.out!.featuresByClass).toEqual(byClass(m));
    }
    const v3 = await reader(['--store', dir]);
    expect(v3.out!.version).toBe(3);
    expect(v3.out!.carriedTiles).toBe(versions[2]!.tiles.length);
  });

  it('lists the changes `fleetmap cloud diff` lists (the removed divider)', async () => {
    const r = await reader(['--store', dir, '--version', '2', '--changes']);
    expect(r.code).toBe(0);
    const diff = await diffVersions(store, 1, 2);
    const product: Record<string, Record<string, number>> = {};
    for (const c of diff.changes) {
      product[c.kind] ??= {};
      product[c.kind]![c.cls] = (product[c.kind]![c.cls] ?? 0) + 1;
    }
    expect(product).toEqual({ removed: { lane_divider: 2 } });
    expect(r.out!.changes!.byKind).toEqual(product);
    expect(r.out!.changes!.total).toBe(diff.changes.length);
  });

  it('says no version is there (one line, exit 1) and refuses bad usage (exit 2)', async () => {
    const missing = await reader(['--store', dir, '--version', '9']);
    expect(missing.code).toBe(1);
    expect(missing.stderr.trim().split('\n')).toHaveLength(1);
    expect((await reader(['--store', dir, '--bbox', '1,2,3'])).code).toBe(2);
  });
});
