import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeBatch, encodeBatch, type WireObservation } from '../shared/index.ts';
import { Outbox, OutboxError, type BatchToEncode } from './outbox.ts';
import type { OutboxPolicy } from './outbox-policy.ts';

const KEY = Buffer.alloc(32, 7);
const tmp = (): string => path.join(mkdtempSync(path.join(tmpdir(), 'fm-outbox-')), 'outbox.sqlite');
const POLICY: OutboxPolicy = {
  dropWhenFull: [],
  dropToPercent: 90,
  classPriority: { lane_divider: 4, road_boundary: 4, stop_line: 7, crosswalk: 6, traffic_sign: 8, traffic_light: 8 },
};
const open = (file: string, maxDiskBytes = 4 << 20): Outbox => new Outbox(file, { vehicleId: 'veh-1', maxDiskBytes, policy: POLICY });
const obs = (i: number): WireObservation => ({ tile: '16/34297/22504', driveId: 'd1', tUnixMs: 1_700_000_000_000 + i, cls: 'traffic_sign', signCode: `s${i}`, score: 1, poseSigmaCm: 30, pointsCm: [[i, -i]] });
const encode = (b: BatchToEncode): Buffer => encodeBatch({ vehicleId: 'veh-1', ...b }, KEY);
const form = (o: Outbox, maxObservations = 3, maxBytes = 1 << 20) => o.formBatch({ maxObservations, maxBytes, minPriority: 0, nowUnixMs: 1_700_000_000_500, encode });

describe('Outbox', () => {
  it('forms batches in order with consecutive seqs, exact bytes and queueDepth', () => {
    const o = open(tmp());
    o.add([0, 1, 2, 3, 4].map(obs), 1);
    const b1 = form(o)!;
    expect(b1).toMatchObject({ seq: 1, observations: 3, queueDepth: 2 });
    const b2 = form(o)!;
    expect(b2).toMatchObject({ seq: 2, observations: 2, queueDepth: 0 }); // nothing behind batch 2
    expect(form(o)).toBeUndefined();
    const head = o.head()!;
    expect(head.seq).toBe(1);
    const decoded = decodeBatch(head.envelope, 'trusted');
    expect(decoded.observations.map((x) => x.signCode)).toEqual(['s0', 's1', 's2']);
    o.close();
  });

  it('respects the byte budget but always takes at least one observation', () => {
    const o = open(tmp());
    o.add([0, 1, 2].map(obs), 1);
    expect(form(o, 10, 1)!.observations).toBe(1);
    o.close();
  });

  it('keeps next seq and unacked batches (same bytes) across a restart', () => {
    const file = tmp();
    let o = open(file);
    o.add([0, 1, 2, 3].map(obs), 1);
    form(o);
    const before = Buffer.from(o.head()!.envelope);
    o.close();
    o = open(file);
    expect(o.head()!.seq).toBe(1);
    expect(o.head()!.envelope.equals(before)).toBe(true);
    expect(o.stats()).toMatchObject({ pendingObservations: 1, batches: 1, nextSeq: 2 });
    o.close();
  });

  it('deletes a batch on ack and never reuses its seq, even with every row gone', () => {
    const file = tmp();
    let o = open(file);
    o.add([obs(0)], 1);
    form(o);
    expect(o.ack(1)).toBe(true);
    expect(o.ack(1)).toBe(false);
    expect(o.isEmpty()).toBe(true);
    o.close();
    o = open(file);
    o.add([obs(1)], 1);
    expect(form(o)!.seq).toBe(2);
    o.close();
  });

  it('moves a rejected batch to dead letters with its reason, out of the send queue', () => {
    const o = open(tmp());
    o.add([0, 1].map(obs), 1);
    form(o, 1);
    form(o, 1);
    expect(o.deadLetter(1, 'bad_body: nope', 99)).toBe(true);
    expect(o.head()!.seq).toBe(2);
    expect(o.deadLetters()).toEqual([{ seq: 1, observations: 1, reason: 'bad_body: nope', deadUnixMs: 99 }]);
    expect(o.stats().deadLetters).toBe(1);
    o.close();
  });

  it('refuses observations beyond its disk budget when the policy drops nothing', () => {
    const file = tmp();
    const o = open(file, 256 * 1024);
    let accepted = 0;
    let refused = 0;
    for (let i = 0; i < 2000 && refused === 0; i++) {
      const r = o.add(Array.from({ length: 20 }, (_, k) => obs(i * 20 + k)), 1);
      accepted += r.accepted;
      refused += r.refused;
    }
    expect(accepted).toBeGreaterThan(0);
    expect(refused).toBe(20); // a frame is refused whole
    expect(o.dropTotals.observations.refused).toEqual({ traffic_sign: 20 });
    expect(o.dropTotals.applied).toBe(0);
    expect(o.disk().totalBytes).toBeLessThanOrEqual(256 * 1024);
    o.close();
  });

  it('holds back classes below minPriority (a metered link) in their order, and sends them later', () => {
    const o = open(tmp());
    const divider = (i: number): WireObservation => ({ ...obs(i), cls: 'lane_divider', signCode: undefined, pointsCm: [[i, 0], [i + 100, 0]] });
    o.add([divider(0), obs(1), divider(2), obs(3)], 1);
    expect(o.pendingCount(5)).toBe(2);
    expect(o.oldestPendingUnixMs(5)).toBe(1);
    const metered = o.formBatch({ maxObservations: 10, maxBytes: 1 << 20, minPriority: 5, nowUnixMs: 2, encode })!;
    expect(metered).toMatchObject({ seq: 1, observations: 2, queueDepth: 2 }); // the two signs; two dividers wait
    expect(decodeBatch(o.head()!.envelope, 'trusted').observations.map((x) => x.signCode)).toEqual(['s1', 's3']);
    expect(o.formBatch({ maxObservations: 10, maxBytes: 1 << 20, minPriority: 5, nowUnixMs: 2, encode })).toBeUndefined();
    expect(o.stats().pendingObservations).toBe(2);
    const later = form(o, 10)!; // unmetered again
    expect(later).toMatchObject({ seq: 2, observations: 2, queueDepth: 0 });
    o.close();
  });

  it('defers the fsync of adds within syncEveryMs of the last durable commit; batch formation is always durable', () => {
    const o = new Outbox(tmp(), { vehicleId: 'veh-1', maxDiskBytes: 4 << 20, policy: POLICY, syncEveryMs: 1000 });
    const t0 = 1_700_000_000_000;
    o.add([obs(1)], t0); // the first add: durable
    o.add([obs(2)], t0 + 400);
    o.add([obs(3)], t0 + 999);
    expect(o.addCommits).toEqual({ durable: 1, deferred: 2 });
    o.add([obs(4)], t0 + 1000); // a second after the last durable commit
    expect(o.addCommits).toEqual({ durable: 2, deferred: 2 });
    expect(o.formBatch({ maxObservations: 10, maxBytes: 1 << 20, minPriority: 0, nowUnixMs: t0 + 1500, encode })?.observations).toBe(4);
    o.add([obs(5)], t0 + 2100); // within a second of the batch's durable commit
    expect(o.addCommits).toEqual({ durable: 2, deferred: 3 });
    o.add([obs(6)], t0 + 100); // the clock stepped back: durable
    expect(o.addCommits).toEqual({ durable: 3, deferred: 3 });
    o.close();
    expect(() => new Outbox(tmp(), { vehicleId: 'veh-1', maxDiskBytes: 4 << 20, policy: POLICY, syncEveryMs: 10_001 })).toThrow(/syncEveryMs must be in \[0, 10000\]/);
  });

  it('loses no deferred add when its process is killed (SIGKILL right after the adds)', () => {
    const file = tmp();
    const script = [
      "import { Outbox } from './edge/outbox.ts';",
      `const o = new Outbox(${JSON.stringify(file)}, { vehicleId: 'veh-1', maxDiskBytes: 4 << 20, policy: ${JSON.stringify(POLICY)}, syncEveryMs: 10000 });`,
      "for (let i = 0; i < 50; i++) o.add([{ tile: '16/34297/22504', driveId: 'd1', tUnixMs: 1700000000000 + i, cls: 'traffic_sign', signCode: 's' + i, score: 1, poseSigmaCm: 30, pointsCm: [[i, -i]] }], 1700000000000 + i);",
      "if (o.addCommits.deferred !== 49) throw new Error('expected 49 deferred adds, got ' + o.addCommits.deferred);",
      "process.kill(process.pid, 'SIGKILL');",
    ].join('\n');
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: path.join(import.meta.dirname, '..'), encoding: 'utf8' });
    expect(r.signal, r.stderr).toBe('SIGKILL');
    const o = open(file);
    expect(o.stats().pendingObservations).toBe(50);
    o.close();
  });

  it('belongs to one vehicle and one process', () => {
    const file = tmp();
    const o = open(file);
    expect(() => open(file)).toThrow(OutboxError);
    o.close();
    expect(() => new Outbox(file, { vehicleId: 'veh-2', maxDiskBytes: 1 << 20, policy: POLICY })).toThrow(/belongs to vehicle "veh-1"/);
  });
});
