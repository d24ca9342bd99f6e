import { describe, expect, it } from 'vitest';
import { emptyVehicleHealth, DEFAULT_TROUBLE_THRESHOLDS, type FleetHealthSnapshot } from '../ingest/health.ts';
import type { ObjectStore } from '../store/index.ts';
import { MemoryLogger } from '../../shared/log.ts';
import { healthView } from './health-view.ts';
import { decodeHistoryFile, HealthHistory, HISTORY_KEY, sampleOf } from './history.ts';
import { HistoryKeeper } from './history-keeper.ts';

const NOW = 1_800_000_000_000;

function snapshot(): FleetHealthSnapshot {
  const v = (over: Partial<ReturnType<typeof emptyVehicleHealth>>) => ({ ...emptyVehicleHealth(), ...over });
  return {
    schemaVersion: 1,
    updatedUnixMs: NOW - 5_000,
    vehicles: {
      a: v({ lastSeenUnixMs: NOW - 10_000, batchesStored: 3, bytesStored: 300, observationsStored: 30, lastQueueDepth: 2, rejected: { bad_body: 1 }, dropsByReason: { budget: 4 }, oldestUnsentAgeS: 50 }),
      b: v({ lastSeenUnixMs: NOW - 4 * 3_600_000, batchesStored: 5, bytesStored: 500, observationsStored: 50, duplicates: 2 }),
      c: v({}),
    },
    unattributed: { rejected: { bad_signature: 7 }, lastSeenUnixMs: null, recentUnknownSenders: [] },
  };
}

/** A store in memory (the keeper's I/O). */
function memoryStore(initial: Record<string, Buffer> = {}): ObjectStore & { data: Map<string, Buffer> } {
  const data = new Map(Object.entries(initial));
  return {
    data,
    put: async (k, d) => void data.set(k, Buffer.from(d)),
    putIfAbsent: async (k, d) => (data.has(k) ? false : (data.set(k, Buffer.from(d)), true)),
    get: async (k) => data.get(k),
    exists: async (k) => data.has(k),
    list: async (p) => [...data.keys()].filter((k) => k.startsWith(p)).sort(),
    listAfter: async (p, a) => [...data.keys()].filter((k) => k.startsWith(p) && k > a).sort(),
    delete: async (k: string) => void data.delete(k),
    describe: () => 'memory://',
  } as ObjectStore & { data: Map<string, Buffer> };
}

describe('health view and history', () => {
  it('flags silent vehicles with the ingest rules and sums the fleet into one sample', () => {
    const view = healthView(snapshot(), NOW, DEFAULT_TROUBLE_THRESHOLDS);
    expect(view.vehicles.map((v) => [v.vehicleId, v.silent])).toEqual([
      ['c', true], // never seen, most troubled first
      ['b', true],
      ['a', false],
    ]);
    expect(view.vehicles.find((v) => v.vehicleId === 'a')).toMatchObject({ lagS: 10, rejectedTotal: 1, dropsTotal: 4 });
    const s = sampleOf(view)!;
    expect(s).toEqual({
      tUnixMs: NOW,
      vehicles: 3,
      silentVehicles: 2,
      batchesStored: 8,
      bytesStored: 800,
      observationsStored: 80,
      duplicates: 2,
      rejected: 8,
      drops: 4,
      maxLagS: 4 * 3600,
      medianLagS: 10,
      queueDepthTotal: 2,
      maxOldestUnsentS: 50,
    });
    expect(sampleOf(healthView(undefined, NOW, DEFAULT_TROUBLE_THRESHOLDS))).toBeUndefined();
  });

  it('keeps a bounded ring in time order', () => {
    const h = new HealthHistory(10, 3);
    const base = sampleOf(healthView(snapshot(), NOW, DEFAULT_TROUBLE_THRESHOLDS))!;
    for (let i = 0; i < 5; i++) expect(h.add({ ...base, tUnixMs: NOW + i * 10_000 })).toBe(true);
    expect(h.add({ ...base, tUnixMs: NOW })).toBe(false); // a clock step back
    expect(h.list().map((s) => s.tUnixMs)).toEqual([NOW + 20_000, NOW + 30_000, NOW + 40_000]);
    expect(() => new HealthHistory(0, 3)).toThrow(/intervalS/);
  });

  it('samples the store, persists every N samples and on close, and loads it back', async () => {
    const store = memoryStore({ 'health/fleet.json': Buffer.from(JSON.stringify(snapshot())) });
    let now = NOW;
    const mk = (): HistoryKeeper => new HistoryKeeper({ store, history: new HealthHistory(10, 100), thresholds: DEFAULT_TROUBLE_THRESHOLDS, persistEvery: 2, now: () => now, log: new MemoryLogger() });
    const k = mk();
    await k.tick();
    expect(store.data.has(HISTORY_KEY)).toBe(false);
    now += 10_000;
    await k.tick();
    expect(decodeHistoryFile(store.data.get(HISTORY_KEY)!).samples.length).toBe(2);
    now += 10_000;
    await k.tick();
    await k.close();
    const again = mk();
    await again.load();
    now += 10_000;
    await again.tick();
    expect(decodeHistoryFile(store.data.get(HISTORY_KEY)!).samples.length).toBe(3); // not yet persisted: every 2
    await again.close();
    expect(decodeHistoryFile(store.data.get(HISTORY_KEY)!).samples.map((s) => s.tUnixMs)).toEqual([NOW, NOW + 10_000, NOW + 20_000, NOW + 30_000]);
  });

  it('never writes over a health/history.json it did not make', async () => {
    const foreign = Buffer.from('{"format":"something-else"}');
    const store = memoryStore({ 'health/fleet.json': Buffer.from(JSON.stringify(snapshot())), [HISTORY_KEY]: foreign });
    const log = new MemoryLogger();
    const k = new HistoryKeeper({ store, history: new HealthHistory(10, 100), thresholds: DEFAULT_TROUBLE_THRESHOLDS, persistEvery: 1, now: () => NOW, log });
    await k.load();
    await k.tick();
    await k.close();
    expect(store.data.get(HISTORY_KEY)).toEqual(foreign);
    expect(log.records.map((r) => r.event)).toEqual(['history_not_persisted']);
    expect(() => decodeHistoryFile(Buffer.from('{"format":"fleetmap-health-history","version":2,"samples":[]}'))).toThrow('got v2 data, expected v1');
  });
});
