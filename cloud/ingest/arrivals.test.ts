/**
 * The ingest's arrival log (arrivals.ts): one durable record per commit group before any ack, a
 * failed record write withholds the ack like a failed batch write, and a resent batch that is
 * already stored gets a record (the repair of a crash between the two writes).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { LocalDirStore, type ObjectStore } from '../store/index.ts';
import { encodeBatch, privateKeyFromSeed, type ObservationBatch } from '../../shared/index.ts';
import { ARRIVALS_PREFIX, ArrivalLog, arrivalKey, arrivalListStart, arrivalTimeOf, isArrivalKey, parseArrivalRecord } from './arrivals.ts';
import { FleetHealth } from './health.ts';
import { KeyRegistry } from './keys.ts';
import { IngestService, batchObjectKey } from './service.ts';

const K1 = 'a'.repeat(64);
const keys = KeyRegistry.empty().withRegistered('veh-1', privateKeyFromSeed(Buffer.from(K1, 'hex')), 1);
const NOW_MS = 1_700_000_001_000;
const batch = (seq: number): ObservationBatch => ({
  vehicleId: 'veh-1',
  seq,
  createdUnixMs: 1_700_000_000_000,
  queueDepth: 0,
  observations: [{ tile: '16/34297/22504', driveId: 'd1', tUnixMs: 1_699_999_999_000, cls: 'lane_divider', style: 'solid', score: 1, poseSigmaCm: 20, pointsCm: [[0, 0], [500, 10 + seq]] }],
});
const sign = (b: ObservationBatch): Buffer => encodeBatch(b, Buffer.from(K1, 'hex'));
const tempStore = (): LocalDirStore => new LocalDirStore(mkdtempSync(path.join(tmpdir(), 'fm-arrivals-')));

/** A store whose arrival writes fail while `failArrivals` is set; counts arrival writes. */
function arrivalFaults(inner: ObjectStore): { store: ObjectStore; failArrivals: boolean; arrivalWrites: number } {
  const ctl = {
    failArrivals: false,
    arrivalWrites: 0,
    store: Object.assign(Object.create(inner) as ObjectStore, {
      putIfAbsent: async (key: string, data: Uint8Array): Promise<boolean> => {
        if (key.startsWith(ARRIVALS_PREFIX)) {
          ctl.arrivalWrites++;
          if (ctl.failArrivals) throw Object.assign(new Error('no space left on device'), { code: 'ENOSPC' });
        }
        return inner.putIfAbsent(key, data);
      },
    }),
  };
  return ctl;
}

async function records(store: ObjectStore): Promise<Array<{ key: string; batches: string[] }>> {
  const out = [];
  for (const key of await store.list(ARRIVALS_PREFIX)) out.push({ key, batches: parseArrivalRecord((await store.get(key))!, key) });
  return out;
}

describe('arrival keys', () => {
  it('sort in time order and carry the ingest time; the merge lists from the time minus 10 minutes', () => {
    const k = arrivalKey(NOW_MS, 'ab12', 7);
    expect(k).toBe('arrivals/1700000001000-ab12-0000000007.json');
    expect(isArrivalKey(k)).toBe(true);
    expect(arrivalTimeOf(k, 'test')).toBe(NOW_MS);
    expect(arrivalKey(5, 'x', 0)).toBe('arrivals/0000000000005-x-0000000000.json');
    expect(arrivalKey(999, 'zz', 1) < arrivalKey(1000, 'aa', 1)).toBe(true);
    expect(arrivalListStart(k, 'test')).toBe(`arrivals/${NOW_MS - 600_000}`);
    expect(arrivalListStart(arrivalKey(5, 'x', 0), 'test')).toBe('arrivals/0000000000000');
    expect(() => arrivalTimeOf('arrivals/oops.json', 'v3 manifest arrivalWatermark')).toThrow('v3 manifest arrivalWatermark: "arrivals/oops.json" is not an arrival key');
    expect(() => arrivalKey(-1, 'x', 0)).toThrow('arrival time must be an integer Unix ms');
    expect(() => arrivalKey(1, 'a-b', 0)).toThrow('arrival instance id must be 1-32 letters or digits, got "a-b"');
  });

  it('records refuse what is not a list of batch keys, naming the record', () => {
    expect(parseArrivalRecord(Buffer.from('{"batches":["batches/veh-1/0000000001.fmb"]}'), 'r')).toEqual(['batches/veh-1/0000000001.fmb']);
    expect(() => parseArrivalRecord(Buffer.from('{'), 'arrivals/x.json')).toThrow(/^arrivals\/x.json is not an arrival record: /);
    expect(() => parseArrivalRecord(Buffer.from('{"batch":[]}'), 'arrivals/x.json')).toThrow('arrivals/x.json is not an arrival record: expected {"batches": [...]}');
    expect(() => parseArrivalRecord(Buffer.from('{"batches":["tiles/latest.json"]}'), 'arrivals/x.json')).toThrow('arrivals/x.json: "tiles/latest.json" is not a batch key');
  });
});

describe('ArrivalLog', () => {
  it('writes one record for the keys recorded together, and the next group into the next record', async () => {
    const store = tempStore();
    let now = NOW_MS;
    const log = new ArrivalLog({ store, nowUnixMs: () => now, instanceId: 'i1' });
    await Promise.all(['batches/v/0000000002.fmb', 'batches/v/0000000001.fmb', 'batches/v/0000000001.fmb'].map((k) => log.record(k)));
    now -= 5_000; // the clock steps back: keys of one instance never do
    await log.record('batches/v/0000000003.fmb');
    expect(await records(store)).toEqual([
      { key: 'arrivals/1700000001000-i1-0000000001.json', batches: ['batches/v/0000000001.fmb', 'batches/v/0000000002.fmb'] },
      { key: 'arrivals/1700000001000-i1-0000000002.json', batches: ['batches/v/0000000003.fmb'] },
    ]);
  });
});

describe('IngestService arrival records', () => {
  it('writes a record naming each stored batch before acking it, one per commit group under load', async () => {
    const f = arrivalFaults(tempStore());
    const svc = new IngestService({ keys, store: f.store, health: new FleetHealth(undefined, keys.vehicles()), now: () => NOW_MS });
    const results = await Promise.all(Array.from({ length: 24 }, (_, i) => svc.handle(sign(batch(i + 1)))));
    expect(results.map((r) => r.ack?.status)).toEqual(Array(24).fill('stored'));
    const recs = await records(f.store);
    expect(recs.flatMap((r) => r.batches).sort()).toEqual(Array.from({ length: 24 }, (_, i) => batchObjectKey('veh-1', i + 1)));
    // Handled at once, the batches share records (the group commit): far fewer records than batches.
    expect(recs.length).toBeLessThan(24);
    expect(f.arrivalWrites).toBe(recs.length);
    for (const r of recs) expect(arrivalTimeOf(r.key, 'test')).toBe(NOW_MS);
  });

  it('a failed record write fails the message like a failed batch write; the resend is recorded and acked duplicate', async () => {
    const f = arrivalFaults(tempStore());
    const health = new FleetHealth(undefined, keys.vehicles());
    const svc = new IngestService({ keys, store: f.store, health, now: () => NOW_MS, arrivalInstanceId: 'ing1' });
    const bytes = sign(batch(5));
    f.failArrivals = true;
    const r1 = await svc.handle(bytes);
    expect(r1.ack).toBeNull();
    expect(r1.effects).toEqual([{ event: 'store_failed', vehicleId: 'veh-1', seq: 5, key: 'arrivals/1700000001000-ing1-0000000001.json', reason: 'ENOSPC' }]);
    // The batch itself is stored (the crash-between-writes case): no record names it yet.
    expect(await f.store.exists(batchObjectKey('veh-1', 5))).toBe(true);
    expect(await records(f.store)).toEqual([]);
    expect(health.snapshot().vehicles['veh-1']).toMatchObject({ batchesStored: 0 });
    // The vehicle, never acked, resends: the record is written and the ack is `duplicate`.
    f.failArrivals = false;
    const r2 = await svc.handle(bytes);
    expect(r2.ack).toMatchObject({ seq: 5, status: 'duplicate' });
    expect(await records(f.store)).toEqual([{ key: 'arrivals/1700000001000-ing1-0000000002.json', batches: [batchObjectKey('veh-1', 5)] }]);
    // A resend whose record write fails again gets no ack either.
    f.failArrivals = true;
    expect((await svc.handle(bytes)).ack).toBeNull();
  });

  it('a new ingest process (fresh service) repairs a batch an earlier one stored without a record', async () => {
    const store = tempStore();
    const bytes = sign(batch(9));
    await store.putIfAbsent(batchObjectKey('veh-1', 9), bytes); // stored, then the process died
    const svc = new IngestService({ keys, store, health: new FleetHealth(undefined, keys.vehicles()), now: () => NOW_MS });
    expect((await svc.handle(bytes)).ack).toMatchObject({ seq: 9, status: 'duplicate' });
    expect((await records(store)).map((r) => r.batches)).toEqual([[batchObjectKey('veh-1', 9)]]);
  });

  it('a batch stored more than half the margin after its record gets a second record before its ack', async () => {
    const inner = tempStore();
    let clockMs = NOW_MS;
    let openGate!: () => void;
    const gate = new Promise<void>((r) => (openGate = r));
    const store = Object.assign(Object.create(inner) as ObjectStore, {
      putIfAbsent: async (key: string, data: Uint8Array): Promise<boolean> => {
        if (key.startsWith('batches/')) await gate;
        return inner.putIfAbsent(key, data);
      },
    });
    const svc = new IngestService({ keys, store, health: new FleetHealth(undefined, keys.vehicles()), now: () => clockMs, arrivalInstanceId: 'slow' });
    const quick = svc.handle(sign(batch(7)));
    for (let i = 0; i < 500 && (await records(inner)).length === 0; i++) await new Promise((r) => setTimeout(r, 2));
    clockMs += 5 * 60_000 + 1; // the store hung for just over half the margin
    openGate();
    expect((await quick).ack).toMatchObject({ seq: 7, status: 'stored' });
    expect(await records(inner)).toEqual([
      { key: `arrivals/${NOW_MS}-slow-0000000001.json`, batches: [batchObjectKey('veh-1', 7)] },
      { key: `arrivals/${NOW_MS + 5 * 60_000 + 1}-slow-0000000002.json`, batches: [batchObjectKey('veh-1', 7)] },
    ]);
    // Within half the margin, one record.
    const svc2 = new IngestService({ keys, store: inner, health: new FleetHealth(undefined, keys.vehicles()), now: () => clockMs, arrivalInstanceId: 'fast' });
    await svc2.handle(sign(batch(8)));
    expect((await records(inner)).filter((r) => r.key.includes('-fast-'))).toHaveLength(1);
  });

  it('a failed batch write answers only once its record has settled: no write outlives the answer', async () => {
    const inner = tempStore();
    let openGate!: () => void;
    const gate = new Promise<void>((r) => (openGate = r));
    let recordDone = false;
    const store = Object.assign(Object.create(inner) as ObjectStore, {
      putIfAbsent: async (key: string, data: Uint8Array): Promise<boolean> => {
        if (key.startsWith('batches/')) throw Object.assign(new Error('file too large'), { code: 'EFBIG' });
        await gate;
        const r = await inner.putIfAbsent(key, data);
        recordDone = true;
        return r;
      },
    });
    const svc = new IngestService({ keys, store, health: new FleetHealth(undefined, keys.vehicles()), now: () => NOW_MS });
    let answered = false;
    const handled = svc.handle(sign(batch(4))).then((r) => ((answered = true), r));
    await new Promise((r) => setTimeout(r, 50));
    expect(answered).toBe(false);
    openGate();
    const r = await handled;
    expect(recordDone).toBe(true);
    expect(r).toEqual({ ack: null, effects: [expect.objectContaining({ event: 'store_failed', reason: 'EFBIG', key: batchObjectKey('veh-1', 4) })] });
  });

  it('a rejected batch (seq conflict) leaves the stored batch as it was; a record written with the attempt names only that key', async () => {
    const store = tempStore();
    const svc = new IngestService({ keys, store, health: new FleetHealth(undefined, keys.vehicles()), now: () => NOW_MS });
    const first = sign(batch(1));
    await svc.handle(first);
    const other = sign({ ...batch(1), queueDepth: 7 });
    expect((await svc.handle(other)).ack).toMatchObject({ status: 'rejected' });
    expect(await store.get(batchObjectKey('veh-1', 1))).toEqual(first);
    // The record is written at once with the batch (before the conflict is known): it names the
    // key that holds the first batch, which a merge reads (or has consumed) either way.
    expect(new Set((await records(store)).flatMap((r) => r.batches))).toEqual(new Set([batchObjectKey('veh-1', 1)]));
  });

  it('writes the record at the same time as the batch, not after it, and acks only once both are durable', async () => {
    // A store whose batch writes wait for a gate: the record's write must start while the
    // batch's is still pending (in sequence, it would wait for it: two syncs on the ack path).
    const inner = tempStore();
    let openGate!: () => void;
    const gate = new Promise<void>((r) => (openGate = r));
    const order: string[] = [];
    const store = Object.assign(Object.create(inner) as ObjectStore, {
      putIfAbsent: async (key: string, data: Uint8Array): Promise<boolean> => {
        order.push(`start ${key.split('/')[0]}`);
        if (key.startsWith('batches/')) await gate;
        const r = await inner.putIfAbsent(key, data);
        order.push(`done ${key.split('/')[0]}`);
        return r;
      },
    });
    const svc = new IngestService({ keys, store, health: new FleetHealth(undefined, keys.vehicles()), now: () => NOW_MS });
    let settled = false;
    const handled = svc.handle(sign(batch(3))).then((r) => ((settled = true), r));
    for (let i = 0; i < 500 && !order.includes('done arrivals'); i++) await new Promise((r) => setTimeout(r, 2));
    expect(order).toEqual(['start batches', 'start arrivals', 'done arrivals']);
    expect(settled).toBe(false); // the batch is not durable yet: no ack
    openGate();
    expect((await handled).ack).toMatchObject({ seq: 3, status: 'stored' });
    expect(order.at(-1)).toBe('done batches');
  });
});
