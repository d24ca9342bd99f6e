/**
 * `fleetmap edge outbox` on real outbox files: show / requeue / purge, and its error exits
 * (usage 2, run time 1, one line, no stack trace), including a daemon holding the file.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { encodeBatch, type WireObservation } from '../shared/index.ts';
import { diskUsage } from './outbox-db.ts';
import edgeOutbox from './outbox-cli.ts';
import { Outbox, type BatchToEncode } from './outbox.ts';
import type { OutboxPolicy } from './outbox-policy.ts';

const REPO = fileURLToPath(new URL('..', import.meta.url));
const KEY = Buffer.alloc(32, 7);
const POLICY: OutboxPolicy = { dropWhenFull: [], dropToPercent: 90, classPriority: { lane_divider: 4, road_boundary: 4, stop_line: 7, crosswalk: 6, traffic_sign: 8, traffic_light: 8 } };
const open = (file: string): Outbox => new Outbox(file, { vehicleId: 'veh-1', maxDiskBytes: 64 << 20, policy: POLICY });
const divider = (i: number): WireObservation => ({
  tile: '16/34297/22504',
  driveId: 'd1',
  tUnixMs: 1_700_000_000_000 + i,
  cls: 'lane_divider',
  score: 0.5,
  poseSigmaCm: 30,
  pointsCm: Array.from({ length: 200 }, (_, k) => [i + k * 13, -k * 7] as [number, number]),
});
const encode = (b: BatchToEncode): Buffer => encodeBatch({ vehicleId: 'veh-1', ...b }, KEY, { compress: false });

/** An outbox with 5 pending, batch 3 unacked, batches 1 and 2 dead letters (about 1 MiB each). */
function fixture(): { file: string; envelopes: Map<number, Buffer> } {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'fm-obcli-')), 'outbox.sqlite');
  const o = open(file);
  const envelopes = new Map<number, Buffer>();
  for (let b = 0; b < 3; b++) {
    o.add(Array.from({ length: 600 }, (_, k) => divider(b * 1000 + k)), 1);
    const f = o.formBatch({ maxObservations: 600, maxBytes: 4 << 20, minPriority: 0, nowUnixMs: 2, encode })!;
    envelopes.set(f.seq, Buffer.from(o.head()!.seq === f.seq ? o.head()!.envelope : Buffer.alloc(0)));
    if (b < 2) o.deadLetter(f.seq, b === 0 ? 'bad_body: observation 3 has 0 points' : 'seq_conflict: batch 2 of veh-1 is already stored with different contents', 1_700_000_000_000);
  }
  o.add([0, 1, 2, 3, 4].map(divider), 3);
  o.close();
  return { file, envelopes };
}

async function cli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
  vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void err.push(a.join(' ')));
  const code = await edgeOutbox(args);
  vi.restoreAllMocks();
  return { code, out: out.join('\n'), err: err.join('\n') };
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('fleetmap edge outbox', () => {
  it('shows counts, dead letters by reason, and disk bytes by file', async () => {
    const { file } = fixture();
    const r = await cli('--outbox', file, 'show', '--json');
    expect(r).toMatchObject({ code: 0, err: '' });
    const j = JSON.parse(r.out);
    expect(j).toMatchObject({
      vehicleId: 'veh-1',
      schemaVersion: 2,
      nextSeq: 4,
      pending: { observations: 5, byClass: { lane_divider: 5 } },
      batches: { count: 1, observations: 600, firstSeq: 3, lastSeq: 3 },
      deadLetters: { count: 2, observations: 1200, byReason: { bad_body: 1, seq_conflict: 1 } },
      dropTotals: { applied: 0 },
    });
    expect(j.deadLetters.list).toBeUndefined();
    const d = diskUsage(file);
    expect(j.disk).toMatchObject({ dbBytes: d.dbBytes, walBytes: 0, shmBytes: 0, totalBytes: d.totalBytes });
    const text = await cli('--outbox', file, 'show', '--dead-letters');
    expect(text.code).toBe(0);
    expect(text.out).toMatch(/dead letters {2}2, 1200 observations/);
    expect(text.out).toMatch(/seq 2: 600 observations, \d+ bytes, dead since 2023-11-14T22:13:20.000Z: seq_conflict: batch 2 of veh-1/);
    expect(text.out).toMatch(/disk {10}\d+ bytes: db \d+, wal 0, shm 0, journal 0/);
  });

  it('requeues dead letters with their seq and exact bytes; the daemon sends them first', async () => {
    const { file, envelopes } = fixture();
    const r = await cli('--outbox', file, 'requeue', '--seq', '1');
    expect(r).toMatchObject({ code: 0, err: '' });
    expect(r.out).toMatch(/requeued 1 dead letter\(s\) \(seq 1, 600 observations\)/);
    const o = open(file);
    expect(o.head()!.seq).toBe(1);
    expect(o.head()!.envelope.equals(envelopes.get(1)!)).toBe(true);
    expect(o.deadLetters().map((d) => d.seq)).toEqual([2]);
    expect(o.stats().nextSeq).toBe(4); // nothing renumbered
    o.close();
    expect((await cli('--outbox', file, 'requeue', '--json')).out).toMatch(/"requeued":\[\{"seq":2,/);
    expect((await cli('--outbox', file, 'requeue')).out).toBe(`no dead letters to requeue in ${file}`);
  });

  it('purges dead letters and the file shrinks', async () => {
    const { file } = fixture();
    const before = diskUsage(file).totalBytes;
    const r = await cli('--outbox', file, 'purge', '--dead-letters', '--json');
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out);
    expect(j.purged.map((d: { seq: number }) => d.seq)).toEqual([1, 2]);
    expect(j.diskBytesBefore).toBe(before);
    const after = diskUsage(file).totalBytes;
    expect(j.diskBytesAfter).toBe(after);
    expect(after).toBeLessThan(before * 0.5); // two of the three big batches gone from disk
    const o = open(file);
    expect(o.stats()).toMatchObject({ deadLetters: 0, batches: 1, pendingObservations: 5 });
    o.close();
  });

  it('usage errors exit 2, run-time errors exit 1, one line each, nothing created or changed', async () => {
    const { file } = fixture();
    const oneLine = (s: string): void => {
      expect(s.split('\n')).toHaveLength(1);
      expect(s).toMatch(/^fleetmap edge outbox: /);
    };
    for (const args of [['show'], ['--outbox', file], ['--outbox', file, 'frobnicate'], ['--outbox', file, 'purge'], ['--outbox', file, 'show', '--seq', '1'], ['--outbox', file, 'requeue', '--seq', 'x'], ['--outbox', file, 'show', '--bogus']]) {
      const r = await cli(...args);
      expect(r.code, args.join(' ')).toBe(2);
      oneLine(r.err);
    }
    const missing = path.join(path.dirname(file), 'nope.sqlite');
    const r1 = await cli('--outbox', missing, 'show');
    expect(r1).toMatchObject({ code: 1, err: `fleetmap edge outbox: no outbox file ${missing}` });
    expect(existsSync(missing)).toBe(false);
    const notDb = path.join(path.dirname(file), 'notes.txt');
    writeFileSync(notDb, 'hello, this is not a database at all, just some text that is long enough'.repeat(20));
    const r2 = await cli('--outbox', notDb, 'show');
    expect(r2.code).toBe(1);
    oneLine(r2.err);
    const r3 = await cli('--outbox', file, 'purge', '--dead-letters', '--seq', '1', '--seq', '7');
    expect(r3).toMatchObject({ code: 1, err: 'fleetmap edge outbox: no dead letter with seq 7 (dead letters: 1, 2); nothing changed' });
    expect(JSON.parse((await cli('--outbox', file, 'show', '--json')).out).deadLetters.count).toBe(2);
  });

  it('refuses, at once and in one line, while a daemon holds the outbox', () => {
    const { file } = fixture();
    const daemon = open(file); // the same lock a running daemon holds
    try {
      const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(REPO, 'cli', 'main.ts'), 'edge', 'outbox', '--outbox', file, 'purge', '--dead-letters'], { cwd: REPO, encoding: 'utf8' });
      expect(r.status).toBe(1);
      expect(r.stdout).toBe('');
      expect(r.stderr.trim()).toBe(`fleetmap edge outbox: outbox ${file} is in use by another process (a running edge daemon holds it; stop it first)`);
      expect(daemon.stats().deadLetters).toBe(2);
    } finally {
      daemon.close();
    }
  });
});
