/**
 * The outbox's disk budget on real SQLite files: everything on disk counted (database, WAL,
 * shm, measured with stat), the drop policy applied in its stated order and counted, the file
 * shrinking back after deletes, and old (v1, no auto_vacuum) files migrated.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import Database from 'better-sqlite3';
import { Packr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { CLASS_GEOMETRY, encodeBatch, type PrimitiveClass, type WireObservation } from '../shared/index.ts';
import { showOutbox, withOutboxFile } from './outbox-admin.ts';
import { diskUsage } from './outbox-db.ts';
import { Outbox, type BatchToEncode } from './outbox.ts';
import type { DropKind, OutboxPolicy } from './outbox-policy.ts';

const KEY = Buffer.alloc(32, 7);
const MIB = 1024 * 1024;
/**
 * Disk may exceed the budget by this much between calls: none. (Inside one call the WAL can
 * briefly hold one transaction more; the check after each write brings it back under.)
 */
const SLACK_BYTES = 0;
const PRIORITY = { lane_divider: 4, road_boundary: 4, stop_line: 7, crosswalk: 6, traffic_sign: 8, traffic_light: 8 } as const;
const policy = (dropWhenFull: DropKind[], dropToPercent = 90): OutboxPolicy => ({ dropWhenFull, dropToPercent, classPriority: PRIORITY });
const tmp = (): string => path.join(mkdtempSync(path.join(tmpdir(), 'fm-budget-')), 'outbox.sqlite');
const open = (file: string, maxDiskBytes: number, p: OutboxPolicy): Outbox => new Outbox(file, { vehicleId: 'veh-1', maxDiskBytes, policy: p });
/** An observation of about 700 bytes packed (120 vertices), or a small one for point classes (1 vertex). */
const big = (i: number, cls: PrimitiveClass = 'lane_divider', score = 0.5): WireObservation => ({
  tile: '16/34297/22504',
  driveId: 'd1',
  tUnixMs: 1_700_000_000_000 + i,
  cls,
  score,
  poseSigmaCm: 30,
  pointsCm: Array.from({ length: CLASS_GEOMETRY[cls] === 'point' ? 1 : 120 }, (_, k) => [i * 7 + k * 13, -k * 11 - i] as [number, number]),
});
const encode = (b: BatchToEncode): Buffer => encodeBatch({ vehicleId: 'veh-1', ...b }, KEY, { compress: false });
const form = (o: Outbox, maxObservations = 50, minPriority = 0) => o.formBatch({ maxObservations, maxBytes: 1 << 20, minPriority, nowUnixMs: 1_700_000_000_500, encode });
const sum = (c: Partial<Record<string, number>>): number => Object.values(c).reduce((a: number, n) => a + (n ?? 0), 0);

describe('outbox disk budget', () => {
  it('keeps a 1 MiB budget on disk, WAL included, while data comes in, batches form, acks and rejections come back', () => {
    const file = tmp();
    const o = open(file, MIB, policy(['dead_letters', 'pending', 'batches']));
    let maxSeenBytes = 0;
    let maxWalBytes = 0;
    const measure = (): void => {
      const u = diskUsage(file);
      maxSeenBytes = Math.max(maxSeenBytes, u.totalBytes);
      maxWalBytes = Math.max(maxWalBytes, u.walBytes);
    };
    let accepted = 0;
    let delivered = 0;
    for (let frame = 0; frame < 1500; frame++) {
      accepted += o.add([0, 1, 2, 3, 4].map((k) => big(frame * 5 + k, k === 0 ? 'traffic_sign' : 'lane_divider', (k % 3) / 3)), frame).accepted;
      measure();
      if (frame % 20 === 19) {
        form(o);
        measure();
      }
      if (frame % 60 === 59) {
        const h = o.head();
        if (h) {
          delivered += h.observations;
          o.ack(h.seq);
        }
        measure();
      }
      if (frame % 150 === 149) {
        const h = o.head();
        if (h) o.deadLetter(h.seq, 'bad_body: test', frame);
        measure();
      }
    }
    const events = o.takeBudgetEvents();
    const t = structuredClone(o.dropTotals);
    const s = o.stats();
    const deadObs = o.deadLetters().reduce((a, d) => a + d.observations, 0);
    o.close();
    measure();

    expect(maxSeenBytes).toBeLessThanOrEqual(MIB + SLACK_BYTES);
    expect(maxWalBytes).toBeGreaterThan(0); // the WAL was there, and counted
    expect(events.length).toBeGreaterThan(0);
    expect(t.applied).toBe(events.length);
    for (const e of events) {
      expect(e.diskBytesAfter + e.needBytes).toBeLessThanOrEqual(e.targetBytes); // hysteresis: down to dropToPercent
      expect(e.maxDiskBytes).toBe(MIB);
    }
    // Every accepted observation is accounted for: still held, delivered, or dropped and counted.
    const dropped = sum(t.observations.pending) + sum(t.observations.batches) + sum(t.observations.dead_letters);
    expect(s.pendingObservations + s.batchObservations + deadObs + delivered + dropped).toBe(accepted);
    expect(dropped).toBeGreaterThan(0);
    expect(sum(t.observations.refused)).toBe(0); // there was always something lower to drop
    // The file keeps the same totals (what `fleetmap edge outbox show` reports).
    expect(withOutboxFile(file, (db) => showOutbox(db, file, { listDeadLetters: false }).dropTotals)).toEqual(t);
  });

  it('drops dead letters first, then pending by class priority, score and age, then batches oldest first; counts them', () => {
    const file = tmp();
    const o = open(file, MIB, policy(['dead_letters', 'pending', 'batches'], 95));
    // Two dead letters (seq 1, 2), two unacked batches (seq 3, 4), then pending of mixed value.
    for (let i = 0; i < 40; i++) o.add([big(i, 'stop_line')], 1);
    for (let b = 0; b < 4; b++) form(o, 10);
    o.deadLetter(1, 'bad_body: x', 2);
    o.deadLetter(2, 'bad_body: y', 2);
    let i = 1000;
    const add = (cls: PrimitiveClass, score: number): void => void o.add([big(i++, cls, score)], 3);
    for (let k = 0; k < 150; k++) add('lane_divider', 0.2); // lowest value: priority 4, low score
    for (let k = 0; k < 150; k++) add('lane_divider', 0.9); // priority 4, high score
    for (let k = 0; k < 150; k++) add('traffic_sign', 0.1); // priority 8: kept although its score is low
    expect(o.dropTotals.applied).toBe(0);
    while (o.dropTotals.applied === 0) add('traffic_sign', 0.1);
    const t = o.dropTotals;
    expect(o.stats().deadLetters).toBe(0);
    expect(t.deadLetters).toBe(2);
    expect(t.observations.dead_letters).toEqual({ stop_line: 20 });
    expect(Object.keys(t.observations.pending)).toEqual(['lane_divider']);
    const droppedDividers = t.observations.pending.lane_divider!;
    expect(droppedDividers).toBeGreaterThan(0);
    expect(droppedDividers).toBeLessThan(150); // only low-score dividers went...
    expect(t.batches).toBe(0); // ...and no batch
    expect(o.head()!.seq).toBe(3);
    const ev = o.takeBudgetEvents();
    expect(ev).toHaveLength(1);
    expect(ev[0]).toMatchObject({ trigger: 'add', droppedDeadLetters: 2, droppedDeadLetterObservations: 20, droppedPending: droppedDividers, droppedBatches: 0, refusedObservations: 0 });
    o.close();
    const db = new Database(file, { readonly: true });
    const left = db.prepare('SELECT score, COUNT(*) AS n, MIN(id) AS firstId FROM pending WHERE cls = 0 GROUP BY score ORDER BY score').all() as Array<{ score: number; n: number; firstId: number }>;
    db.close();
    // Pending ids 1..40 were the stop lines, 41..190 the low-score dividers: the oldest went first.
    expect(left).toEqual([
      { score: 0.2, n: 150 - droppedDividers, firstId: 41 + droppedDividers },
      { score: 0.9, n: 150, firstId: 191 },
    ]);
  });

  it('drops formed batches (oldest first, never renumbered) only when the policy lists them, else refuses', () => {
    for (const dropWhenFull of [['pending'], ['pending', 'batches']] as DropKind[][]) {
      const file = tmp();
      const max = 256 * 1024;
      const o = open(file, max, policy(dropWhenFull));
      let refused = 0;
      for (let i = 0; i < 2000 && refused === 0 && o.dropTotals.batches === 0; i++) {
        refused += o.add([big(i)], 1).refused;
        form(o, 5); // everything goes into batches: nothing pending to drop
      }
      const nextSeq = o.stats().nextSeq;
      if (dropWhenFull.includes('batches')) {
        expect(refused).toBe(0);
        expect(o.dropTotals.batches).toBeGreaterThan(0);
        expect(o.head()!.seq).toBe(o.dropTotals.batches + 1); // the oldest went
        expect(form(o, 5)).toBeUndefined();
        o.add([big(99_999)], 1);
        expect(form(o, 5)!.seq).toBe(nextSeq); // seqs go on, none reused
      } else {
        expect(refused).toBe(1);
        expect(o.dropTotals.batches).toBe(0);
        expect(o.head()!.seq).toBe(1);
        expect(o.dropTotals.observations.refused).toEqual({ lane_divider: 1 });
      }
      expect(diskUsage(file).totalBytes).toBeLessThanOrEqual(max + SLACK_BYTES);
      o.close();
    }
  });

  it('shrinks the file once delivered batches are deleted', () => {
    const file = tmp();
    const o = open(file, 16 * MIB, policy([]));
    for (let i = 0; i < 600; i++) o.add(Array.from({ length: 10 }, (_, k) => big(i * 10 + k)), 1);
    while (form(o, 100));
    const full = diskUsage(file).totalBytes;
    expect(full).toBeGreaterThan(4 * MIB);
    for (let h = o.head(); h; h = o.head()) o.ack(h.seq);
    // Pages are handed back whenever 1 MiB (the reclaim threshold at a 16 MiB budget) is free;
    // the WAL may hold up to its 1 MiB limit.
    expect(diskUsage(file).totalBytes).toBeLessThan(2.1 * MIB);
    o.close();
    expect(diskUsage(file).totalBytes).toBeLessThan(64 * 1024); // and all of them at a clean stop
  });

  it('migrates a v1 outbox without auto_vacuum: VACUUM once, rows kept with their class', () => {
    const file = tmp();
    const v1 = new Database(file);
    v1.pragma('journal_mode = WAL');
    v1.exec(`
      CREATE TABLE meta (key TEXT PRIMARY KEY, value ANY NOT NULL) STRICT;
      CREATE TABLE pending (id INTEGER PRIMARY KEY AUTOINCREMENT, queued_unix_ms INTEGER NOT NULL, obs BLOB NOT NULL) STRICT;
      CREATE TABLE batches (seq INTEGER PRIMARY KEY, created_unix_ms INTEGER NOT NULL, observations INTEGER NOT NULL, envelope BLOB NOT NULL) STRICT;
      CREATE TABLE dead_letters (seq INTEGER PRIMARY KEY, created_unix_ms INTEGER NOT NULL, observations INTEGER NOT NULL, envelope BLOB NOT NULL, reason TEXT NOT NULL, dead_unix_ms INTEGER NOT NULL) STRICT;
      INSERT INTO meta VALUES ('schema_version', 1), ('vehicle_id', 'veh-1'), ('next_seq', 7);
    `);
    const packr = new Packr({ useRecords: false, mapsAsObjects: true });
    const ins = v1.prepare('INSERT INTO pending (queued_unix_ms, obs) VALUES (?, ?)');
    for (let i = 0; i < 400; i++) ins.run(1, packr.pack(big(i, i % 2 ? 'traffic_light' : 'road_boundary')));
    v1.exec('DELETE FROM pending WHERE id > 200'); // free pages a file without auto_vacuum keeps forever
    expect(v1.pragma('auto_vacuum', { simple: true })).toBe(0);
    v1.close();
    const before = diskUsage(file).totalBytes;

    const o = open(file, 8 * MIB, policy(['pending']));
    expect(o.opened.migratedFrom).toBe(1);
    expect(o.opened.vacuumed!.afterBytes).toBeLessThan(before);
    expect(o.stats()).toMatchObject({ pendingObservations: 200, nextSeq: 7 });
    expect(o.pendingCount(8)).toBe(100); // traffic lights (priority 8) by their class, read back from the rows
    expect(form(o, 500, 8)).toMatchObject({ seq: 7, observations: 100 });
    o.close();
    const db = new Database(file, { readonly: true });
    expect(db.pragma('auto_vacuum', { simple: true })).toBe(2);
    db.close();
  });
});
