import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { LocalDirStore } from '../store/index.ts';
import type { ObjectStore } from '../store/index.ts';
import { displaySafe } from './display-safe.ts';
import { boundedHealth, bytesLast24h, FleetHealth, HEALTH_KEY, parseHealth, renderHealthTable, sortByTrouble, troubleOf, type FleetHealthSnapshot } from './health.ts';
import { HealthWriter } from './health-writer.ts';

describe('FleetHealth attribution', () => {
  it('charges a vehicle only for authenticated refusals; a stranger cannot add bad_mac to it', () => {
    const h = new FleetHealth(undefined, ['veh-1']);
    // a stranger claims veh-1 without its key (what service.ts passes today: authenticated false)
    h.recordRejected('bad_mac', { vehicleId: 'veh-1', authenticated: false }, 1_000);
    h.recordRejected('bad_mac', { vehicleId: 'veh-1' }, 1_000); // authenticated not said: not authenticated
    h.recordRejected('unknown_sender', { claimedSender: 'veh-9' }, 1_000);
    h.recordRejected('bad_frames', {}, 1_000);
    // the vehicle's own signed batch that conflicts: its own doing
    h.recordRejected('seq_conflict', { vehicleId: 'veh-1', authenticated: true }, 2_000);
    const s = h.snapshot();
    expect(s.vehicles['veh-1']).toMatchObject({ rejected: { seq_conflict: 1 }, lastSeenUnixMs: 2_000 });
    expect(s.unattributed.rejected).toEqual({ bad_mac: 2, unknown_sender: 1, bad_frames: 1 });
    expect(s.unattributed.recentUnknownSenders).toEqual(['veh-9', 'veh-1']);
    expect(Object.keys(s.vehicles)).toEqual(['veh-1']);
  });
  it('keeps the claimed senders bounded: the last 10, each cut to 64 chars', () => {
    const h = new FleetHealth();
    for (let i = 0; i < 50; i++) h.recordRejected('unknown_sender', { claimedSender: `x${i}`.padEnd(500, 'y') }, i);
    const u = h.snapshot().unattributed;
    expect(u.recentUnknownSenders).toHaveLength(10);
    expect(u.recentUnknownSenders.every((x) => x.length === 64)).toBe(true);
    expect(u.rejected).toEqual({ unknown_sender: 50 });
  });
});

describe('health output', () => {
  const hostile = [
    'veh-9\nveh-1  0s ago  999  0  -  9.99  999  0  999', // a forged row
    '\u001b[2J\u001b[Hall good', // ANSI: clear the screen
    'evil\u202etxt.exe', // bidi override
    'a'.repeat(5000),
  ];
  const snapshot = () => {
    const h = new FleetHealth(undefined, ['veh-1']);
    for (const c of hostile) h.recordRejected('unknown_sender', { claimedSender: c }, 1_000);
    h.recordStored('veh-1', { seq: 1, bytes: 10, observations: 1, queueDepth: 0 }, 1_000);
    return parseHealth(h.toBytes());
  };
  it('escapes everything outsiders chose in the table: one line per row, no escape sequences, bounded', () => {
    const table = renderHealthTable(snapshot(), 2_000);
    // eslint-disable-next-line no-control-regex
    expect(table).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202e]/); // only \n between lines
    const lines = table.split('\n');
    expect(lines.filter((l) => l.startsWith('veh-1'))).toHaveLength(1); // no forged row
    const last = lines.find((l) => l.startsWith('unattributed'))!;
    expect(last).toContain('"veh-9\\x0aveh-1  0s ago');
    expect(last).toContain('"\\x1b[2J\\x1b[Hall good"');
    expect(last).toContain('"evil\\u{202e}txt.exe"');
    expect(last).toContain(`"${'a'.repeat(64)}"`); // cut to 64 when recorded
    expect(Math.max(...lines.map((l) => l.length))).toBeLessThan(1000);
  });
  it('escapes a vehicle id read from a file, and cuts lengths in the JSON output', () => {
    const s = snapshot();
    s.vehicles['x\u001b]0;pwned\u0007'.padEnd(300, 'z')] = s.vehicles['veh-1']!;
    const table = renderHealthTable(s, 2_000);
    expect(table).toContain('x\\x1b]0;pwned\\x07zz');
    // eslint-disable-next-line no-control-regex
    expect(table).not.toMatch(/[\u0000-\u0009\u000b-\u001f]/);
    const json = JSON.stringify(boundedHealth(s));
    expect(Object.keys(boundedHealth(s).vehicles).every((id) => id.length <= 64 + '...(300 chars)'.length)).toBe(true);
    expect(json.length).toBeLessThan(4000);
    expect(JSON.parse(json).unattributed.recentUnknownSenders).toContain(hostile[0]); // JSON escapes the newline itself
    expect(json).not.toContain('\n');
  });
  it('displaySafe: escapes, never cuts an escape in half, marks the cut', () => {
    expect(displaySafe('ok-id_1.2')).toBe('ok-id_1.2');
    expect(displaySafe('a\\b')).toBe('a\\\\b');
    expect(displaySafe('\u0000\u007f\u0085\u200b\ufeff')).toBe('\\x00\\x7f\\x85\\u{200b}\\u{feff}');
    const cut = displaySafe('\u001b'.repeat(100), 30);
    expect(cut).toBe(`${'\\x1b'.repeat(4)}...(100 chars)`);
    expect(cut.length).toBeLessThanOrEqual(30);
  });
});

describe('HealthWriter', () => {
  /** A real directory store whose first put waits for `release()`, to hold a write in flight. */
  function gatedStore(dir: string): { store: ObjectStore; release: () => void; puts: () => number } {
    const inner = new LocalDirStore(dir);
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let puts = 0;
    const store: ObjectStore = {
      put: async (k, d) => {
        if (++puts === 1) await gate;
        await inner.put(k, d);
      },
      putIfAbsent: (k, d) => inner.putIfAbsent(k, d),
      get: (k) => inner.get(k),
      exists: (k) => inner.exists(k),
      list: (p) => inner.list(p),
      listAfter: (p, a) => inner.listAfter(p, a),
      delete: (k) => inner.delete(k),
      describe: () => inner.describe(),
    };
    return { store, release, puts: () => puts };
  }

  it('writes health to disk after each change, coalescing changes made while a write is in flight', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'fm-health-'));
    const g = gatedStore(dir);
    const health = new FleetHealth(undefined, ['veh-1']);
    const w = new HealthWriter({ health, store: g.store }).start();
    health.recordStored('veh-1', { seq: 1, bytes: 100, observations: 2, queueDepth: 5 }, 1_000);
    expect(g.puts()).toBe(1); // started at once, held in flight
    for (let seq = 2; seq <= 6; seq++) health.recordStored('veh-1', { seq, bytes: 100, observations: 2, queueDepth: 5 }, 1_000 + seq);
    expect(g.puts()).toBe(1); // coalesced behind the one in flight
    g.release();
    await w.flush();
    expect(g.puts()).toBe(2); // two writes for six changes
    // What a process killed now (no shutdown) leaves on disk: every change, read by a fresh store.
    const onDisk = parseHealth((await new LocalDirStore(dir).get(HEALTH_KEY))!);
    expect(onDisk.vehicles['veh-1']).toMatchObject({ batchesStored: 6, lastSeq: 6, observationsStored: 12 });
    expect(JSON.parse(readFileSync(path.join(dir, 'health', 'fleet.json'), 'utf8')).vehicles['veh-1'].batchesStored).toBe(6);
    expect(health.dirty).toBe(false);
    await w.close();
    health.recordStored('veh-1', { seq: 7, bytes: 1, observations: 1, queueDepth: 0 }, 9_000);
    expect(g.puts()).toBe(2); // closed: no longer following changes
  });

  it('spaces writes by minIntervalMs, but close() writes what is left at once', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'fm-health-'));
    const store = new LocalDirStore(dir);
    const health = new FleetHealth(undefined, ['veh-1']);
    let nowMs = 0; // a clock that stands still: the second write would wait the whole hour
    const w = new HealthWriter({ health, store, minIntervalMs: 3_600_000, nowMs: () => nowMs }).start();
    health.recordStored('veh-1', { seq: 1, bytes: 100, observations: 2, queueDepth: 5 }, 1_000);
    await w.flush();
    expect(w.writes).toBe(1);
    health.recordStored('veh-1', { seq: 2, bytes: 100, observations: 2, queueDepth: 4 }, 2_000);
    await new Promise((r) => setTimeout(r, 20));
    expect(w.writes).toBe(1); // waiting out the interval
    nowMs = 10; // still well inside it
    await w.close(); // would hang for an hour without the wake-up
    expect(w.writes).toBe(2);
    expect(parseHealth((await new LocalDirStore(dir).get(HEALTH_KEY))!).vehicles['veh-1']).toMatchObject({ batchesStored: 2, lastSeq: 2 });
  });

  it('a failed write is logged and retried by the next change, without spinning', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'fm-health-'));
    const inner = new LocalDirStore(dir);
    let fail = true;
    let puts = 0;
    const store: ObjectStore = {
      ...Object.fromEntries((['putIfAbsent', 'get', 'exists', 'list', 'describe'] as const).map((k) => [k, inner[k].bind(inner)])),
      put: async (k: string, d: Uint8Array) => {
        puts++;
        if (fail) throw Object.assign(new Error('no space left on device'), { code: 'ENOSPC' });
        await inner.put(k, d);
      },
    } as ObjectStore;
    const events: Array<{ event: string; fields?: Record<string, unknown> }> = [];
    const health = new FleetHealth();
    const w = new HealthWriter({ health, store, log: { log: (_level, event, fields) => events.push({ event, fields: fields as Record<string, unknown> }) } }).start();
    health.recordRejected('bad_magic', {}, 1);
    await w.flush();
    expect(puts).toBe(1);
    expect(w.failures).toBe(1);
    expect(health.dirty).toBe(true);
    expect(events).toEqual([{ event: 'health_persist_failed', fields: { key: HEALTH_KEY, reason: 'no space left on device', failures: 1 } }]);
    fail = false;
    health.recordRejected('bad_magic', {}, 2);
    await w.flush();
    expect(parseHealth((await inner.get(HEALTH_KEY))!).unattributed.rejected).toEqual({ bad_magic: 2 });
  });
});

describe('vehicle status and trouble', () => {
  const T = { silentAfterS: 1800, maxOldestUnsentS: 3600, recentS: 86_400 };
  const H = 3_600_000;
  const base = 1_790_000_000_000;

  it('reads a snapshot written before status and trouble fields existed, as unknown', () => {
    const old = { schemaVersion: 1, updatedUnixMs: 5, vehicles: { 'veh-1': { lastSeenUnixMs: 5, batchesStored: 1, duplicates: 0, rejected: { bad_body: 2 }, bytesStored: 9, observationsStored: 1, lastQueueDepth: 0, lastSeq: 1 } }, unattributed: { rejected: {}, lastSeenUnixMs: null, recentUnknownSenders: [] } };
    const v = parseHealth(Buffer.from(JSON.stringify(old))).vehicles['veh-1']!;
    expect(v).toMatchObject({ rejected: { bad_body: 2 }, bytesByHour: {}, lastRejectedUnixMs: null, statusUnixMs: null, oldestUnsentAgeS: null, dropsByReason: {}, modelVersion: null });
    // old refusals of unknown time are shown, not judged: only the silence counts
    expect(troubleOf(v, 5 + 60_000, T)).toEqual([]);
    expect(troubleOf(v, 5 + 3_600_000, T).map((t) => t.code)).toEqual(['silent']);
    // the same old snapshot handed straight to FleetHealth (not parsed) keeps counting
    const h = new FleetHealth(old as unknown as FleetHealthSnapshot);
    h.recordStored('veh-1', { seq: 2, bytes: 10, observations: 1, queueDepth: 0, status: { oldestUnsentAgeS: 3, dropsByReason: { outbox_full: 1 } } }, 7_200_000);
    expect(h.snapshot().vehicles['veh-1']).toMatchObject({ batchesStored: 2, bytesStored: 19, oldestUnsentAgeS: 3, dropsByReason: { outbox_full: 1 }, dropsIncreasedUnixMs: 7_200_000, bytesByHour: { '2': 10 } });
  });

  it('drops: trouble when a reported count goes up (or restarts above 0), for recentS after', () => {
    const h = new FleetHealth();
    const report = (atMs: number, drops: Record<string, number>): void => h.recordStored('v', { seq: atMs, bytes: 1, observations: 1, queueDepth: 0, status: { oldestUnsentAgeS: 1, dropsByReason: drops } }, atMs);
    report(base, {});
    expect(h.snapshot().vehicles.v!.dropsIncreasedUnixMs).toBeNull();
    report(base + H, { outbox_full: 3 });
    report(base + 2 * H, { outbox_full: 3 }); // unchanged: still the first time
    expect(h.snapshot().vehicles.v!.dropsIncreasedUnixMs).toBe(base + H);
    report(base + 3 * H, { outbox_full: 1 }); // the daemon restarted and dropped again
    const v = h.snapshot().vehicles.v!;
    expect(v.dropsIncreasedUnixMs).toBe(base + 3 * H);
    expect(troubleOf(v, base + 3 * H + 60_000, T).map((t) => t.code)).toEqual(['drops']);
    expect(troubleOf(v, base + 3 * H + 86_400_000 + 1, { ...T, silentAfterS: 1e9 })).toEqual([]);
    // a hostile reason name is a plain own key, not the prototype
    report(base + 4 * H, { __proto__: 1 } as unknown as Record<string, number>);
    report(base + 5 * H, JSON.parse('{"__proto__": 2}') as Record<string, number>);
    expect(Object.getPrototypeOf(h.snapshot().vehicles.v!.dropsByReason)).toBe(Object.prototype);
    expect(parseHealth(h.toBytes()).vehicles.v!.dropsByReason).toEqual(JSON.parse('{"__proto__": 2}'));
  });

  it('refused, backlog and silent, most severe first; sortByTrouble ranks by them', () => {
    const h = new FleetHealth(undefined, ['never']);
    h.recordStored('all', { seq: 1, bytes: 1, observations: 1, queueDepth: 9, status: { oldestUnsentAgeS: 4000 } }, base);
    h.recordRejected('bad_time', { vehicleId: 'all', authenticated: true }, base, 'bad_time: too old');
    h.recordStored('backlog', { seq: 1, bytes: 1, observations: 1, queueDepth: 9, status: { oldestUnsentAgeS: 3601 } }, base + 3 * H - 1000);
    h.recordStored('fine-a', { seq: 1, bytes: 1, observations: 1, queueDepth: 0, status: { oldestUnsentAgeS: 3600 } }, base + 3 * H - 2000);
    h.recordStored('fine-b', { seq: 1, bytes: 1, observations: 1, queueDepth: 0 }, base + 3 * H - 2000);
    const now = base + 3 * H;
    const s = h.snapshot();
    expect(troubleOf(s.vehicles.all!, now, T)).toEqual([
      { code: 'silent', detail: 'last seen 3h ago (over 30m)' },
      { code: 'refused', detail: '1 refused in all, the last 3h ago' },
      { code: 'backlog', detail: 'oldest unsent data 67m old (over 60m)' },
    ]);
    expect(sortByTrouble(s.vehicles, now, T).map((r) => [r.vehicleId, r.trouble.length])).toEqual([
      ['all', 3],
      ['never', 1],
      ['backlog', 1],
      ['fine-a', 0],
      ['fine-b', 0],
    ]);
  });

  it('bytes per day: the last 24 hours, hour by hour', () => {
    const h = new FleetHealth();
    for (let hour = 0; hour < 30; hour++) h.recordStored('v', { seq: hour + 1, bytes: 1000, observations: 1, queueDepth: 0 }, base + hour * H);
    const v = h.snapshot().vehicles.v!;
    expect(Object.keys(v.bytesByHour)).toHaveLength(24); // older hours are not kept
    expect(bytesLast24h(v, base + 29 * H)).toBe(24_000);
    expect(bytesLast24h(v, base + 40 * H)).toBe(13_000);
    expect(v.bytesStored).toBe(30_000);
  });
});
