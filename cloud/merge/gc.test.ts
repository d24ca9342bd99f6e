/**
 * gc against a merge that starts while it runs, and a merge that finds a state object gone: the
 * merge's objects are left alone, and a missing state costs a rebuild, not the version.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LocalDirStore } from '../store/index.ts';
import { InProcessExecutor } from './executor.ts';
import { collectGarbage } from './gc.ts';
import { claimKey, readManifest } from './publish.ts';
import { runMerge, type MergeLog } from './run.ts';
import { simulateFleet, syntheticWorld, writeBatches } from './synthetic.ts';

const T0 = Date.UTC(2025, 4, 1, 8);
const DAY_MS = 86_400_000;
const road = syntheticWorld();
const day1 = simulateFleet(road, { drives: 3, seed: 31, startUnixMs: T0, driveIdPrefix: 'g1' }).observations;
const day2 = simulateFleet(road, { drives: 2, seed: 32, startUnixMs: T0 + DAY_MS, driveIdPrefix: 'g2' }).observations;
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function storeWithV1(name: string): Promise<LocalDirStore> {
  const dir = mkdtempSync(path.join(tmpdir(), `fm-gc-${name}-`));
  dirs.push(dir);
  const store = new LocalDirStore(dir);
  await writeBatches(store, day1, 40);
  await runMerge(store, { executor: new InProcessExecutor({ store, concurrency: 1 }), nowUnixMs: () => T0 + DAY_MS });
  return store;
}

/**
 * A store in which a merge claims v2 and writes a tile just before gc lists the tile objects to
 * sweep (its second listing of tiles/v: the first finds the published versions, before the claims).
 */
class MergeStartsDuringGc extends LocalDirStore {
  private tileListings = 0;
  override async list(prefix: string): Promise<string[]> {
    if (prefix === 'tiles/v' && ++this.tileListings === 2) {
      await this.put(claimKey(2), Buffer.from(JSON.stringify({ claimedUnixMs: T0 + 2 * DAY_MS, runId: 'late' })));
      await this.put('tiles/v2/16/1/1.geojson', Buffer.from('{}'));
    }
    return super.list(prefix);
  }
}

describe('gc and merges that overlap it', () => {
  it('leaves alone what a merge claimed after gc read the claims, and skips the state sweep', async () => {
    const base = await storeWithV1('late');
    const store = new MergeStartsDuringGc(base.rootDir);
    // an old state object v1 does not list: what the sweep would remove
    await store.put('state/obs/16/1/1/0123456789abcdef.obs', Buffer.from('old'));
    const r = await collectGarbage(store, { nowUnixMs: () => T0 + 2 * DAY_MS });
    expect(r.deleted.tiles).toEqual([]);
    expect(await store.exists('tiles/v2/16/1/1.geojson')).toBe(true);
    expect(r.stateSkipped).toBe('a merge started while gc ran (v2)');
    expect(await store.exists('state/obs/16/1/1/0123456789abcdef.obs')).toBe(true);
    // once no merge starts, the sweep runs and keeps what v1 lists
    await store.delete(claimKey(2));
    await store.delete('tiles/v2/16/1/1.geojson');
    const again = await collectGarbage(store, { nowUnixMs: () => T0 + 2 * DAY_MS });
    expect(again.stateSkipped).toBeNull();
    expect(again.deleted.state).toEqual(['state/obs/16/1/1/0123456789abcdef.obs']);
    for (const t of (await readManifest(store, 1))!.tiles) if (t.obs) expect(await store.exists(t.obs), t.obs).toBe(true);
  });

  it('a merge whose previous state object is gone plans again from the batches and publishes the same version', async () => {
    const ref = await storeWithV1('ref');
    const hurt = await storeWithV1('hurt');
    for (const s of [ref, hurt]) await writeBatches(s, day2, 40, 1000);
    const lost = (await readManifest(hurt, 1))!.tiles.find((t) => t.obs !== null)!.obs!;
    await hurt.delete(lost);
    const warned: Array<[string, Record<string, unknown>]> = [];
    const log: MergeLog = { info: () => undefined, warn: (event, fields) => void warned.push([event, fields]) };
    const refV2 = await runMerge(ref, { executor: new InProcessExecutor({ store: ref, concurrency: 1 }), nowUnixMs: () => T0 + 3 * DAY_MS });
    const hurtV2 = await runMerge(hurt, { executor: new InProcessExecutor({ store: hurt, concurrency: 1 }), nowUnixMs: () => T0 + 3 * DAY_MS, log });
    expect(warned.filter(([e]) => e === 'merge_state_missing').map(([, f]) => f)).toEqual([expect.objectContaining({ version: 2, key: lost })]);
    expect(hurtV2).toEqual(refV2);
    for (const t of refV2.tiles) expect((await hurt.get(t.key))!.equals((await ref.get(t.key))!), t.key).toBe(true);
  });
});
