/**
 * The merge reading the ingest's arrival log (new-batches.ts): batches stored through the real
 * IngestService (which writes the records), then merged.
 *
 * - an incremental merge after new arrivals reads only the new records and never lists batches/;
 * - the same inputs rebuilt from every batch give byte-identical manifest (watermark included),
 *   inputs and tiles;
 * - a store with no arrival records (an older ingest) merges by listing, watermark null; so does
 *   a previous manifest without a watermark, and a watermark whose records are gone;
 * - a batch stored without a record (the ingest died between the two writes) is merged once its
 *   vehicle resends it; a record naming a batch not yet stored, or torn, consumes nothing, and the
 *   next merge reads the batch once it is whole;
 * - gc deletes the records older than the next merge reads, and that merge still reads the log.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ObservationBatch, WireObservation } from '../../shared/batch.ts';
import { encodeBatch, privateKeyFromSeed } from '../../shared/index.ts';
import { ARRIVALS_PREFIX, ArrivalLog } from '../ingest/arrivals.ts';
import { FleetHealth } from '../ingest/health.ts';
import { KeyRegistry } from '../ingest/keys.ts';
import { IngestService, batchObjectKey } from '../ingest/service.ts';
import { LocalDirStore, type ObjectStore } from '../store/index.ts';
import { collectGarbage } from './gc.ts';
import { buildManifest, encodeManifest, manifestKey, readManifest, reportKey, type Manifest, type PublishPlan } from './publish.ts';
import { runMerge, type RunMergeOptions } from './run.ts';
import { planMerge } from './plan.ts';
import { resolveMergeOptions } from './options.ts';
import { simulateFleet, syntheticWorld, TEST_KEY } from './synthetic.ts';

const T0 = Date.UTC(2025, 4, 1, 8);
const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;
const world = syntheticWorld();
const day1 = simulateFleet(world, { drives: 3, seed: 31, startUnixMs: T0, driveIdPrefix: 'p1' }).observations;
const day2 = simulateFleet(world, { drives: 2, seed: 32, startUnixMs: T0 + DAY_MS, driveIdPrefix: 'p2' }).observations;

/** Batches of <= 40 observations per drive, vehicle `veh-<driveId>`, as writeBatches (synthetic.ts) makes them. */
function batchesOf(obs: readonly WireObservation[]): Array<{ key: string; bytes: Buffer; vehicleId: string }> {
  const byDrive = new Map<string, WireObservation[]>();
  for (const o of obs) byDrive.set(o.driveId, [...(byDrive.get(o.driveId) ?? []), o]);
  const out = [];
  for (const [driveId, list] of byDrive) {
    const vehicleId = `veh-${driveId}`;
    for (let i = 0, seq = 1; i < list.length; i += 40, seq++) {
      const chunk = list.slice(i, i + 40);
      const b: ObservationBatch = { vehicleId, seq, createdUnixMs: Math.max(...chunk.map((c) => c.tUnixMs)) + 1000, queueDepth: 0, observations: chunk };
      out.push({ key: batchObjectKey(vehicleId, seq), bytes: encodeBatch(b, TEST_KEY), vehicleId });
    }
  }
  return out;
}
const batches1 = batchesOf(day1);
const batches2 = batchesOf(day2);

let registry = KeyRegistry.empty();
for (const v of new Set([...batches1, ...batches2].map((b) => b.vehicleId))) registry = registry.withRegistered(v, privateKeyFromSeed(Buffer.from(TEST_KEY)), 1);

/** Sends the batches through an ingest whose clock reads `clockUnixMs`; every one must be acked. */
async function ingest(store: ObjectStore, list: ReadonlyArray<{ bytes: Buffer }>, clockUnixMs: number, expected: 'stored' | 'duplicate' = 'stored'): Promise<void> {
  // A fixed instance id (a real ingest draws one per process): keys the tests can predict.
  const svc = new IngestService({ keys: registry, store, health: new FleetHealth(undefined, registry.vehicles()), now: () => clockUnixMs, arrivalInstanceId: 'test' });
  // Several at once, as the socket loop hands them over (group commit): records hold several batches.
  for (let i = 0; i < list.length; i += 8) {
    const rs = await Promise.all(list.slice(i, i + 8).map((b) => svc.handle(b.bytes)));
    expect(rs.map((r) => r.ack?.status)).toEqual(rs.map(() => expected));
  }
}

/** The store, counting list calls by prefix. */
function counted(inner: ObjectStore): { store: ObjectStore; lists: string[]; listsAfter: Array<[string, string]> } {
  const c = {
    lists: [] as string[],
    listsAfter: [] as Array<[string, string]>,
    store: Object.assign(Object.create(inner) as ObjectStore, {
      list: (prefix: string) => {
        c.lists.push(prefix);
        return inner.list(prefix);
      },
      listAfter: (prefix: string, after: string) => {
        c.listsAfter.push([prefix, after]);
        return inner.listAfter(prefix, after);
      },
    }),
  };
  return c;
}

/** Everything a reader of version v sees, as bytes. */
async function versionBytes(store: ObjectStore, v: number): Promise<Record<string, string>> {
  const m = (await readManifest(store, v))!;
  const out: Record<string, string> = {};
  for (const key of [manifestKey(v), m.inputs, ...m.tiles.map((t) => t.key)]) out[key] = (await store.get(key))!.toString('utf8');
  return out;
}

/** Copies the batches and arrival records `from` holds into `to`. */
async function copyInputs(from: ObjectStore, to: ObjectStore): Promise<void> {
  for (const k of [...(await from.list('batches/')), ...(await from.list(ARRIVALS_PREFIX))]) await to.putIfAbsent(k, (await from.get(k))!);
}

type Report = { mode: string; newBatchesFrom: string; arrivalRecordsRead: number; batchesRead: number; batchesMissing: number; batchesUndecodable: number };
const report = async (store: ObjectStore, v: number): Promise<Report> => JSON.parse((await store.get(reportKey(v)))!.toString('utf8')) as Report;
const at = (days: number): RunMergeOptions['nowUnixMs'] => () => T0 + days * DAY_MS;
const fresh = (name: string): LocalDirStore => new LocalDirStore(mkdtempSync(path.join(tmpdir(), `fm-arr-${name}-`)));
const arrivalKeys = (store: ObjectStore): Promise<string[]> => store.list(ARRIVALS_PREFIX);

describe('merge from the arrival log', () => {
  const INGEST1 = T0 + DAY_MS - 2 * HOUR_MS;
  const INGEST2 = T0 + 2 * DAY_MS - 2 * HOUR_MS; // a day later: far beyond the 10-minute margin
  let inc: LocalDirStore; // ingested, merged incrementally
  let reb: LocalDirStore; // the same ingests, v2 rebuilt from every batch
  let incV2: Manifest;
  let v2Lists: ReturnType<typeof counted>;
  let day2Records: string[];

  beforeAll(async () => {
    [inc, reb] = [fresh('inc'), fresh('reb')];
    // Which batches share a record depends on timing, so `reb` gets a copy of what the ingest
    // wrote into `inc` (the same inputs), not an ingest of its own.
    await ingest(inc, batches1, INGEST1);
    await copyInputs(inc, reb);
    for (const s of [inc, reb]) await runMerge(s, { nowUnixMs: at(1) });
    const before = new Set(await arrivalKeys(inc));
    await ingest(inc, batches2, INGEST2);
    await copyInputs(inc, reb);
    day2Records = (await arrivalKeys(inc)).filter((k) => !before.has(k));
    v2Lists = counted(inc);
    incV2 = await runMerge(v2Lists.store, { nowUnixMs: at(2) });
    await runMerge(reb, { nowUnixMs: at(2), rebuild: true });
  }, 120_000);

  it('v1 (first merge) lists batches/ and records the largest arrival key as its watermark', async () => {
    const v1 = (await readManifest(inc, 1))!;
    expect((await report(inc, 1)).newBatchesFrom).toBe('listing');
    expect(v1.arrivalWatermark).toMatch(new RegExp(`^arrivals/${INGEST1}-test-\\d{10}\\.json$`));
    expect(v1.inputBatchCount).toBe(batches1.length);
  });

  it('an incremental merge after new arrivals reads only the new records and never lists batches/', async () => {
    // No listing at all while planning and publishing v2: not batches/, not all of arrivals/.
    expect(v2Lists.lists).toEqual([]);
    const v1 = (await readManifest(inc, 1))!;
    expect(v2Lists.listsAfter).toEqual([[ARRIVALS_PREFIX, `arrivals/${INGEST1 - 600_000}`]]);
    const r = await report(inc, 2);
    expect(r).toMatchObject({ mode: 'incremental', newBatchesFrom: 'arrivals', batchesRead: batches2.length });
    // The listing starts 10 minutes before v1's watermark time, so it re-reads day 1's records
    // (written at that very time; their batches are consumed already, so none is read twice)
    // besides day 2's; the day 2 records' batches are the only ones read.
    const day1Records = (await arrivalKeys(inc)).filter((k) => !day2Records.includes(k));
    expect(r.arrivalRecordsRead).toBe(day1Records.length + day2Records.length);
    expect(day2Records.length).toBeGreaterThan(0);
    expect(day2Records.length).toBeLessThan(batches2.length); // group commit: several batches a record
    expect(incV2.arrivalWatermark).toBe(day2Records.at(-1));
    expect(incV2.arrivalWatermark! > v1.arrivalWatermark!).toBe(true);
    expect(incV2.inputBatchCount).toBe(batches1.length + batches2.length);
  });

  it('gives byte-identical manifest (watermark included), inputs and tiles when v2 is rebuilt from every batch', async () => {
    expect((await report(reb, 2)).mode).toBe('rebuild');
    expect((await report(reb, 2)).newBatchesFrom).toBe('listing');
    expect(await arrivalKeys(reb)).toEqual(await arrivalKeys(inc));
    expect(await versionBytes(reb, 2)).toEqual(await versionBytes(inc, 2));
    expect((await readManifest(reb, 2))!.arrivalWatermark).toBe((await arrivalKeys(reb)).at(-1));
    expect(incV2.arrivalWatermark).toBe((await arrivalKeys(inc)).at(-1));
  });

  it('the same store planned incrementally and rebuilt records the same watermark and consumes the same batches', async () => {
    const prev = (await readManifest(inc, 2))!;
    const base = { store: inc, version: 99, nowUnixMs: T0 + 3 * DAY_MS, previous: prev, options: resolveMergeOptions({}), jobOptions: {}, windowDays: null, recomputeAll: false, warn: () => undefined };
    const a = await planMerge({ ...base, rebuild: false });
    const b = await planMerge({ ...base, rebuild: true });
    expect(a.stats.newBatchesFrom).toBe('arrivals');
    expect(b.stats.newBatchesFrom).toBe('listing');
    expect(a.publish.arrivalWatermark).toBe(prev.arrivalWatermark);
    expect(b.publish.arrivalWatermark).toBe(prev.arrivalWatermark);
    expect(JSON.stringify(a.publish.inputs)).toBe(JSON.stringify(b.publish.inputs));
    // A queue's publish job reads the plan back as JSON: the watermark survives the trip.
    const plan = JSON.parse(JSON.stringify({ ...a.publish, carried: [], states: {} })) as PublishPlan;
    expect(encodeManifest(buildManifest(plan, [])).toString()).toContain(`"arrivalWatermark": "${prev.arrivalWatermark}"`);
  });

  it('a batch stored without an arrival record is merged after its vehicle resends it', async () => {
    // The ingest stored it and died before writing its record: no ack, so the vehicle resends.
    const late = batchesOf(simulateFleet(world, { drives: 1, seed: 33, startUnixMs: T0 + 2 * DAY_MS, driveIdPrefix: 'p3' }).observations).slice(0, 1);
    registry = registry.withRegistered(late[0]!.vehicleId, privateKeyFromSeed(Buffer.from(TEST_KEY)), 1);
    expect(await inc.putIfAbsent(late[0]!.key, late[0]!.bytes)).toBe(true);
    const v3 = await runMerge(inc, { nowUnixMs: at(3) });
    expect((await report(inc, 3)).batchesRead).toBe(0); // not in the log: not seen yet
    expect(v3.inputBatchCount).toBe(incV2.inputBatchCount);
    await ingest(inc, late, T0 + 3 * DAY_MS, 'duplicate'); // the resend: a duplicate, recorded now
    const v4 = await runMerge(inc, { nowUnixMs: at(3.5) });
    expect(await report(inc, 4)).toMatchObject({ newBatchesFrom: 'arrivals', batchesRead: 1 });
    expect(v4.inputBatchCount).toBe(incV2.inputBatchCount + 1);
    expect(v4.tiles.some((t) => t.key.startsWith('tiles/v4/'))).toBe(true);
  });

  it('gc deletes the records the next incremental merge would not read, and that merge still reads the log', async () => {
    // After v4 (watermark: the resend's record at day 3), records of days 1 and 2 lie before where
    // the next merge starts listing; the day-3 record does not.
    const keysBefore = await arrivalKeys(inc);
    const mark = (await readManifest(inc, 4))!.arrivalWatermark!;
    const dry = await collectGarbage(inc, { dryRun: true, nowUnixMs: () => T0 + 4 * DAY_MS });
    expect(dry.deleted.arrivals).toEqual(keysBefore.filter((k) => k < `arrivals/${T0 + 3 * DAY_MS - 600_000}`));
    expect(dry.deleted.arrivals.length).toBeGreaterThan(day2Records.length);
    expect(await arrivalKeys(inc)).toEqual(keysBefore);
    const r = await collectGarbage(inc, { nowUnixMs: () => T0 + 4 * DAY_MS });
    expect(r.deleted.arrivals).toEqual(dry.deleted.arrivals);
    expect(await arrivalKeys(inc)).toEqual(keysBefore.filter((k) => !r.deleted.arrivals.includes(k)));
    expect(await arrivalKeys(inc)).toContain(mark);
    // New batches a day later: read from the log, nothing listed by the fallback.
    const more = batchesOf(simulateFleet(world, { drives: 1, seed: 35, startUnixMs: T0 + 4 * DAY_MS, driveIdPrefix: 'p5' }).observations).slice(0, 3);
    registry = registry.withRegistered(more[0]!.vehicleId, privateKeyFromSeed(Buffer.from(TEST_KEY)), 1);
    await ingest(inc, more, T0 + 4 * DAY_MS);
    const warnings: string[] = [];
    const v5 = await runMerge(inc, { nowUnixMs: at(4.5), log: { info: () => undefined, warn: (e) => void warnings.push(e) } });
    expect(warnings).toEqual([]);
    expect(await report(inc, 5)).toMatchObject({ newBatchesFrom: 'arrivals', batchesRead: more.length });
    expect(v5.inputBatchCount).toBe((await readManifest(inc, 4))!.inputBatchCount + more.length);
    // v5 read the day-3 record; its watermark is a day later, so the next gc deletes that record too.
    expect((await collectGarbage(inc, { dryRun: true, nowUnixMs: () => T0 + 5 * DAY_MS })).deleted.arrivals).toEqual([mark]);
  });

  it('a record naming a batch not yet stored, or torn, consumes neither: the next merge reads them once they are whole', async () => {
    // The ingest writes a batch and its record at once (service.ts): the record can be durable
    // while its batch is still being written, failed, or was torn by a power cut.
    const s = fresh('ahead');
    await ingest(s, batches1.slice(0, 4), INGEST1);
    await runMerge(s, { nowUnixMs: at(1) });
    const [late, torn] = batches2.slice(0, 2);
    await s.put(torn!.key, torn!.bytes.subarray(0, 40)); // a torn write: the start of the batch
    await new ArrivalLog({ store: s, nowUnixMs: () => INGEST2, instanceId: 'ahead' }).record(late!.key);
    await new ArrivalLog({ store: s, nowUnixMs: () => INGEST2, instanceId: 'ahead2' }).record(torn!.key);
    const warnings: string[] = [];
    const v2 = await runMerge(s, { nowUnixMs: at(2), log: { info: () => undefined, warn: (e) => void warnings.push(e) } });
    expect(await report(s, 2)).toMatchObject({ newBatchesFrom: 'arrivals', batchesRead: 1, batchesMissing: 1, batchesUndecodable: 1 });
    expect(warnings).toEqual(['merge_batch_skipped']);
    expect(v2.inputBatchCount).toBe(4);
    // The batch lands, the torn one is replaced by the resend: the records (within the margin of
    // v2's watermark) bring both in, with no new record needed.
    await s.putIfAbsent(late!.key, late!.bytes);
    await s.put(torn!.key, torn!.bytes);
    const v3 = await runMerge(s, { nowUnixMs: at(2.1) });
    expect(await report(s, 3)).toMatchObject({ newBatchesFrom: 'arrivals', batchesRead: 2, batchesMissing: 0, batchesUndecodable: 0 });
    expect(v3.inputBatchCount).toBe(6);
    // And the same inputs rebuilt consume the same batches.
    const reb = fresh('ahead-reb');
    await copyInputs(s, reb);
    expect((await runMerge(reb, { nowUnixMs: at(2.1) })).inputBatchCount).toBe(6);
  });

  it('a watermark whose records are gone (removed by hand) falls back to listing batches/', async () => {
    const s = fresh('gone');
    await ingest(s, batches1.slice(0, 4), INGEST1);
    await runMerge(s, { nowUnixMs: at(1) });
    for (const k of await arrivalKeys(s)) await s.delete(k);
    const warnings: string[] = [];
    await runMerge(s, { nowUnixMs: at(1.5), log: { info: () => undefined, warn: (e) => void warnings.push(e) } });
    expect(warnings).toEqual(['merge_arrivals_missing']);
    expect((await report(s, 2)).newBatchesFrom).toBe('listing');
    expect((await readManifest(s, 2))!.arrivalWatermark).toBeNull();
  });
});

describe('merge of a store without arrival records (written by an older ingest)', () => {
  it('lists batches/ on every run, watermark null; a manifest without a watermark is listed after too', async () => {
    const s = fresh('old');
    for (const b of batches1) await s.put(b.key, b.bytes);
    const v1 = await runMerge(s, { nowUnixMs: at(1) });
    expect(v1.arrivalWatermark).toBeNull();
    for (const b of batches2) await s.put(b.key, b.bytes);
    const c = counted(s);
    const v2 = await runMerge(c.store, { nowUnixMs: at(2) });
    expect(c.lists).toContain('batches/');
    expect(await report(s, 2)).toMatchObject({ mode: 'incremental', newBatchesFrom: 'listing', batchesRead: batches2.length });
    expect(v2.arrivalWatermark).toBeNull();
    expect(v2.inputBatchCount).toBe(batches1.length + batches2.length);

    // A manifest from before the arrival log (no field at all), in a store the new ingest now
    // writes to: the next merge lists batches/ and starts the watermark.
    const old = JSON.parse((await s.get(manifestKey(2)))!.toString('utf8')) as Record<string, unknown>;
    delete old.arrivalWatermark;
    await s.put(manifestKey(2), Buffer.from(JSON.stringify(old, null, 1)));
    const extra = batchesOf(simulateFleet(world, { drives: 1, seed: 34, startUnixMs: T0 + 2 * DAY_MS, driveIdPrefix: 'p4' }).observations).slice(0, 2);
    registry = registry.withRegistered(extra[0]!.vehicleId, privateKeyFromSeed(Buffer.from(TEST_KEY)), 1);
    await ingest(s, extra, T0 + 2 * DAY_MS);
    const v3 = await runMerge(s, { nowUnixMs: at(2.5) });
    expect(await report(s, 3)).toMatchObject({ newBatchesFrom: 'listing', batchesRead: 2 });
    expect(v3.arrivalWatermark).toBe((await arrivalKeys(s)).at(-1));
  });
});
