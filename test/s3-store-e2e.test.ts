/**
 * The S3 backend end to end, against a real s3rver started here:
 * - the same stored batches merged from a local directory and from S3 give byte-identical
 *   published objects (every tile, the manifest, latest.json); the S3 merge's tile jobs open the
 *   store from its location string, as workers on other machines do (settings from the env);
 * - `fleetmap cloud merge --store s3://...` runs on it (settings from the environment);
 * - the ingest service stores batches into S3 (stored, then duplicate on a resend).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { FleetHealth } from '../cloud/ingest/health.ts';
import { KeyRegistry } from '../cloud/ingest/keys.ts';
import { IngestService, batchObjectKey } from '../cloud/ingest/service.ts';
import mergeCli from '../cloud/merge/cli.ts';
import { InProcessExecutor } from '../cloud/merge/executor.ts';
import { runMerge } from '../cloud/merge/run.ts';
import { simulateFleet, syntheticWorld, writeBatches } from '../cloud/merge/synthetic.ts';
import { LocalDirStore, openStore, S3Store, type ObjectStore } from '../cloud/store/index.ts';
import { encodeBatch, privateKeyFromSeed, sha256, type ObservationBatch } from '../shared/index.ts';
import { startS3rver, type RunningS3rver } from './support/s3rver.ts';

const T0 = Date.UTC(2025, 2, 1, 8);
let s3: RunningS3rver;
const opened: S3Store[] = [];

beforeAll(async () => {
  s3 = await startS3rver();
  // What a worker machine would have in its environment; openStore(job.store) reads it.
  for (const [k, v] of Object.entries(s3.env)) vi.stubEnv(k, v);
});
afterAll(async () => {
  vi.unstubAllEnvs();
  for (const s of opened) s.destroy();
  await s3?.close();
});

function s3Store(location: string): S3Store {
  const s = openStore(location) as S3Store;
  opened.push(s);
  return s;
}

async function snapshot(store: ObjectStore, prefix: string): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  for (const k of await store.list(prefix)) out.set(k, (await store.get(k))!);
  return out;
}

describe('S3 store end to end', () => {
  it('merges the same batches from a local directory and from S3 into byte-identical tiles and manifest', async () => {
    const local = new LocalDirStore(mkdtempSync(path.join(tmpdir(), 'fm-s3e2e-')));
    await writeBatches(local, simulateFleet(syntheticWorld(), { drives: 4, seed: 3, startUnixMs: T0 }).observations);
    const remote = s3Store('s3://fleetmap/e2e/merge');
    expect(remote.conditionalPuts).toBe('check-then-put'); // from FLEETMAP_S3_CONDITIONAL_PUTS
    const batches = await local.list('batches/');
    expect(batches.length).toBe(4);
    for (const k of batches) await remote.put(k, (await local.get(k))!);
    expect(await remote.list('batches/')).toEqual(batches);

    const now = (): number => T0 + 86_400_000;
    // No store given to the executors: each tile job opens its store from the location string.
    const a = await runMerge(local, { nowUnixMs: now, executor: new InProcessExecutor({ concurrency: 2 }) });
    const b = await runMerge(remote, { nowUnixMs: now, executor: new InProcessExecutor({ concurrency: 2 }) });
    expect(b.version).toBe(1);
    expect(a.tiles.length).toBeGreaterThan(0);

    const fromLocal = await snapshot(local, 'tiles/');
    const fromS3 = await snapshot(remote, 'tiles/');
    expect([...fromS3.keys()]).toEqual([...fromLocal.keys()]);
    expect([...fromS3.keys()]).toEqual(expect.arrayContaining(['tiles/latest.json', 'tiles/v1/manifest.json', ...a.tiles.map((t) => t.key)]));
    for (const [k, bytes] of fromLocal) expect(fromS3.get(k)!.equals(bytes), k).toBe(true);
    expect((await local.list('merge/')).length).toBe((await remote.list('merge/')).length);
    // A second merge on S3 sees v1 (its claim is not re-taken) and publishes v2.
    const c = await runMerge(remote, { nowUnixMs: now, executor: new InProcessExecutor({ concurrency: 1 }) });
    expect(c.version).toBe(2);
  });

  it('runs fleetmap cloud merge --store s3://bucket/prefix; a bad S3 flag is a one-line usage error', async () => {
    const remote = s3Store('s3://fleetmap/e2e/cli');
    await writeBatches(remote, simulateFleet(syntheticWorld(), { drives: 3, seed: 9, startUnixMs: T0 }).observations);
    const out: string[] = [];
    const err: string[] = [];
    const logSpy = vi.spyOn(console, 'log').mockImplementation((t: string) => void out.push(t));
    const errSpy = vi.spyOn(console, 'error').mockImplementation((t: string) => void err.push(t));
    try {
      expect(await mergeCli(['--store', 's3://fleetmap/e2e/cli', '--quiet'])).toBe(0);
      expect(JSON.parse(out.at(-1)!)).toMatchObject({ version: 1, batches: 3 });
      expect(JSON.parse((await remote.get('tiles/latest.json'))!.toString())).toMatchObject({ version: 1 });
      err.length = 0;
      expect(await mergeCli(['--store', 's3://fleetmap/e2e/cli', '--s3-conditional-puts', 'sometimes'])).toBe(2);
      expect(err).toEqual(['fleetmap cloud merge: --store: --s3-conditional-puts must be one of if-none-match, check-then-put, got "sometimes" (fleetmap cloud merge --help for usage)']);
    } finally {
      logSpy.mockRestore();
      errSpy.mockRestore();
    }
  });

  it('ingests batches into S3: stored once, a resend answered duplicate, bytes intact', async () => {
    const seed = 'c'.repeat(64);
    const keys = KeyRegistry.empty().withRegistered('veh-1', privateKeyFromSeed(Buffer.from(seed, 'hex')), 1);
    const store = s3Store('s3://fleetmap/e2e/ingest');
    const svc = new IngestService({ keys, store, health: new FleetHealth(undefined, keys.vehicles()), now: () => 1_700_000_001_000 });
    const batch: ObservationBatch = {
      vehicleId: 'veh-1',
      seq: 7,
      createdUnixMs: 1_700_000_000_000,
      queueDepth: 0,
      observations: [{ tile: '16/34297/22504', driveId: 'd1', tUnixMs: 1_699_999_999_000, cls: 'lane_divider', style: 'solid', score: 1, poseSigmaCm: 20, pointsCm: [[0, 0], [500, 10]] }],
    };
    const bytes = encodeBatch(batch, Buffer.from(seed, 'hex'));
    expect((await svc.handle(bytes)).ack).toEqual({ seq: 7, status: 'stored', batchSha256: sha256(bytes) });
    expect((await svc.handle(bytes)).ack).toEqual({ seq: 7, status: 'duplicate', batchSha256: sha256(bytes) });
    expect((await store.get(batchObjectKey('veh-1', 7)))!.equals(bytes)).toBe(true);
    expect(await store.list('batches/')).toEqual([batchObjectKey('veh-1', 7)]);
  });
});
