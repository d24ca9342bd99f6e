import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeBatch, encodeBatch, type WireObservation } from '../shared/index.ts';
import { Outbox, OutboxError, type BatchToEncode } from './outbox.ts';

const KEY = Buffer.alloc(32, 7);
const tmp = (): string => path.join(mkdtempSync(path.join(tmpdir(), 'fm-outbox-')), 'outbox.sqlite');
const open = (file: string, maxContentBytes = 1 << 20): Outbox => new Outbox(file, { vehicleId: 'veh-1', maxContentBytes });
const obs = (i: number): WireObservation => ({ tile: '16/34297/22504', driveId: 'd1', tUnixMs: 1_700_000_000_000 + i, cls: 'traffic_sign', signCode: `s${i}`, score: 1, poseSigmaCm: 30, pointsCm: [[i, -i]] });
const encode = (b: BatchToEncode): Buffer => encodeBatch({ vehicleId: 'veh-1', ...b }, KEY);
const form = (o: Outbox, maxObservations = 3, maxBytes = 1 << 20) => o.formBatch({ maxObservations, maxBytes, nowUnixMs: 1_700_000_000_500, encode });

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
    const decoded = decodeBatch(head.envelope, () => KEY);
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

  it('refuses observations beyond its disk budget', () => {
    const o = open(tmp(), 200);
    expect(o.add([obs(0)], 1)).toEqual({ accepted: 1, refused: 0 });
    expect(o.add([1, 2, 3, 4].map(obs), 1)).toEqual({ accepted: 0, refused: 4 });
    o.close();
  });

  it('belongs to one vehicle and one process', () => {
    const file = tmp();
    const o = open(file);
    expect(() => open(file)).toThrow(OutboxError);
    o.close();
    expect(() => new Outbox(file, { vehicleId: 'veh-2', maxContentBytes: 1000 })).toThrow(/belongs to vehicle "veh-1"/);
  });
});
