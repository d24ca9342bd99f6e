import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { LocalDirStore } from '../store/index.ts';
import { InProcessExecutor, WorkerThreadExecutor, runPool } from './executor.ts';
import { runMerge } from './run.ts';
import { simulateFleet, syntheticWorld, writeBatches } from './synthetic.ts';

describe('runPool', () => {
  it('keeps at most `limit` jobs in flight and returns results in order', async () => {
    let inFlight = 0;
    let peak = 0;
    const out = await runPool([5, 1, 4, 2, 3], 2, async (v) => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      await new Promise((r) => setImmediate(r));
      inFlight--;
      return v * 10;
    });
    expect(out).toEqual([50, 10, 40, 20, 30]);
    expect(peak).toBe(2);
  });
  it('rejects with the first failure', async () => {
    await expect(runPool([1, 2, 3], 2, async (v) => { if (v === 2) throw new Error('boom 2'); return v; })).rejects.toThrow('boom 2');
  });
});

describe('executors', () => {
  it('worker threads publish exactly what the in-process executor does', async () => {
    const world = syntheticWorld();
    const fleet = simulateFleet(world, { drives: 4, seed: 3, startUnixMs: Date.UTC(2025, 0, 1) });
    const read = async (s: LocalDirStore, v: number): Promise<string[]> => Promise.all((await s.list(`tiles/v${v}/16/`)).map(async (k) => (await s.get(k))!.toString('utf8')));
    const a = new LocalDirStore(mkdtempSync(path.join(tmpdir(), 'fm-exec-a-')));
    const b = new LocalDirStore(mkdtempSync(path.join(tmpdir(), 'fm-exec-b-')));
    await writeBatches(a, fleet.observations);
    await writeBatches(b, fleet.observations);
    await runMerge(a, { executor: new InProcessExecutor({ store: a, concurrency: 2 }) });
    const workers = new WorkerThreadExecutor({ workers: 2 });
    try {
      await runMerge(b, { executor: workers });
    } finally {
      await workers.close();
    }
    const ta = await read(a, 1);
    expect(ta.length).toBe(2);
    expect(await read(b, 1)).toEqual(ta);
  }, 60_000);
});
