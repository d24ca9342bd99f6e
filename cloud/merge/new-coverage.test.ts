/**
 * New coverage is not a change on the ground: when later drives map a road no earlier drive
 * had passed, the next version counts its features as `newCoverage`, not as `added` changes
 * (which `fleetmap cloud diff` lists and the change evaluation scores). Paint that appears where
 * earlier drives passed and saw none is still an added change.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { LocalDirStore } from '../store/index.ts';
import { formatDiff } from './diff-cli.ts';
import { diffVersions } from './diff.ts';
import { runMerge } from './run.ts';
import { simulateFleet, syntheticWorld, writeBatches } from './synthetic.ts';

const T0 = Date.UTC(2025, 2, 1, 8);
const DAY = 86_400_000;
const sum = (c: Partial<Record<string, number>>): number => Object.values(c).reduce((a: number, n) => a + (n ?? 0), 0);

describe('new coverage against added paint', () => {
  it('a road first driven after v1 is new coverage, not a list of added changes', async () => {
    const store = new LocalDirStore(mkdtempSync(path.join(tmpdir(), 'fm-new-coverage-')));
    await writeBatches(store, simulateFleet(syntheticWorld(), { drives: 8, seed: 21, startUnixMs: T0 }).observations);
    const v1 = await runMerge(store, { nowUnixMs: () => T0 + DAY });
    // The same fleet a month later also drives a road 3 km east: tiles v1 never had.
    const east = syntheticWorld({ lng: 8.4437, lat: 49.0069 });
    const later = simulateFleet(east, { drives: 8, seed: 22, startUnixMs: T0 + 30 * DAY, driveIdPrefix: 'east' });
    await writeBatches(store, later.observations, 200, 1);
    const v2 = await runMerge(store, { nowUnixMs: () => T0 + 31 * DAY });
    const newTiles = v2.tiles.filter((t) => !v1.tiles.some((u) => u.tile === t.tile));
    expect(newTiles.length).toBeGreaterThan(0);
    const grown = newTiles.reduce((a, t) => a + t.features, 0);
    expect(sum(v2.changes.totals.newCoverage)).toBe(grown);
    expect(sum(v2.changes.totals.added)).toBe(0);
    const diff = await diffVersions(store, 1, 2);
    expect(diff.changes).toEqual([]);
    expect(sum(diff.newCoverage)).toBe(grown);
    expect(formatDiff(diff)).toMatch(new RegExp(`^new coverage: ${grown} features where no drive had been before v1's data .*: the map grew, no change$`, 'm'));
  }, 120_000);

  it('a divider painted where earlier drives passed and saw none is an added change', async () => {
    const store = new LocalDirStore(mkdtempSync(path.join(tmpdir(), 'fm-new-paint-')));
    const world = syntheticWorld();
    await writeBatches(store, simulateFleet(world, { drives: 8, seed: 31, startUnixMs: T0, without: ['div_left'] }).observations);
    await runMerge(store, { nowUnixMs: () => T0 + DAY });
    const later = simulateFleet(world, { drives: 8, seed: 32, startUnixMs: T0 + 30 * DAY, driveIdPrefix: 'later' });
    await writeBatches(store, later.observations, 200, 1);
    const v2 = await runMerge(store, { nowUnixMs: () => T0 + 31 * DAY });
    expect(v2.changes.totals.added.lane_divider ?? 0).toBeGreaterThan(0);
    expect(v2.changes.totals.newCoverage).toEqual({});
    const added = (await diffVersions(store, 1, 2)).changes.filter((c) => c.kind === 'added');
    expect(added.map((c) => c.cls)).toContain('lane_divider');
  }, 120_000);
});
