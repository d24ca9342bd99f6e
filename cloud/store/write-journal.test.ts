import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { platform, release, tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { LocalDirStore } from './local-dir-store.ts';
import { syncFilesystem, syncfsReportsErrors } from './syncfs.ts';
import { currentBootId, decodeJournal, encodeJournalFrame, GroupCommitJournal, JOURNAL_DIR, journalFileName, JournalKind, orphanJournals } from './write-journal.ts';

const root = (): string => mkdtempSync(path.join(tmpdir(), 'fm-journal-'));
const bytes = (n: number, fill: number): Buffer => Buffer.alloc(n, fill);

describe('journal frames', () => {
  it('round-trip, and reading stops at a torn or corrupt frame', () => {
    const a = encodeJournalFrame(JournalKind.CREATED, 'batches/v1/0000000001.fmb', bytes(300, 1));
    const b = encodeJournalFrame(JournalKind.REPLACED, 'health/fleet.json', Buffer.from('{"x":1}'));
    const whole = Buffer.concat([a, b]);
    expect(decodeJournal(whole)).toEqual({
      entries: [
        { kind: JournalKind.CREATED, key: 'batches/v1/0000000001.fmb', data: bytes(300, 1) },
        { kind: JournalKind.REPLACED, key: 'health/fleet.json', data: Buffer.from('{"x":1}') },
      ],
      tornBytes: 0,
    });
    for (const cut of [a.length + 1, a.length + 11, whole.length - 1]) {
      const r = decodeJournal(whole.subarray(0, cut));
      expect(r.entries.map((e) => e.key)).toEqual(['batches/v1/0000000001.fmb']);
      expect(r.tornBytes).toBe(cut - a.length);
    }
    const flipped = Buffer.from(whole);
    flipped[a.length + 20]! ^= 0x40; // a bit of the second frame's key
    expect(decodeJournal(flipped).entries).toHaveLength(1);
    expect(decodeJournal(Buffer.alloc(64)).entries).toHaveLength(0); // zeroed by a power cut
  });

  it('names the journals whose writer is gone: another boot, or a pid not running', () => {
    const dir = root();
    const boot = 'a'.repeat(32);
    for (const n of [journalFileName(boot, process.pid, 0), journalFileName(boot, 4242, 3), journalFileName(boot, 4242, 1), journalFileName('b'.repeat(32), process.pid, 0), 'notes.wal', `${boot}-1-1.wal.bak`]) writeFileSync(path.join(dir, n), '');
    const running = (pid: number): boolean => pid === process.pid;
    expect(orphanJournals(dir, boot, running).map((f) => path.basename(f))).toEqual([journalFileName(boot, 4242, 1), journalFileName(boot, 4242, 3), journalFileName('b'.repeat(32), process.pid, 0)]);
    expect(orphanJournals(path.join(dir, 'none'), boot, running)).toEqual([]);
  });
});

describe('GroupCommitJournal', () => {
  it('makes the appends of one turn durable with one fdatasync, and checkpoints them at flush', async () => {
    const dir = path.join(root(), JOURNAL_DIR);
    const checkpointed: string[][] = [];
    const j = new GroupCommitJournal({ dir, checkpoint: async (keys) => void checkpointed.push([...keys]) });
    const keys = Array.from({ length: 10 }, (_, i) => `k/${i}`);
    await Promise.all(keys.map((k, i) => j.append(JournalKind.CREATED, k, bytes(100, i))));
    expect(j.stats).toMatchObject({ commits: 1, frames: 10 });
    const files = readdirSync(dir);
    expect(files).toHaveLength(1);
    expect(decodeJournal(readFileSync(path.join(dir, files[0]!))).entries.map((e) => e.key)).toEqual(keys);
    await j.append(JournalKind.REPLACED, 'k/0', bytes(5, 9)); // a later group, the same file
    expect(j.stats).toMatchObject({ commits: 2, frames: 11 });
    await j.flush();
    expect(checkpointed).toEqual([keys]); // each key once
    expect(readdirSync(dir)).toEqual([]);
    expect(j.stats).toMatchObject({ checkpoints: 1, checkpointFailures: 0 });
  });

  it('rotates a full journal file and keeps one whose checkpoint failed, for replay', async () => {
    const dir = path.join(root(), JOURNAL_DIR);
    let fail = false;
    const j = new GroupCommitJournal({ dir, maxBytes: 1000, checkpoint: async () => { if (fail) throw new Error('EIO'); } });
    await j.append(JournalKind.CREATED, 'a', bytes(2000, 1)); // over maxBytes: rotated after its group
    await j.flush();
    expect(j.stats).toMatchObject({ checkpoints: 1, checkpointFailures: 0 });
    fail = true;
    await j.append(JournalKind.CREATED, 'b', bytes(10, 2));
    await j.flush();
    expect(j.stats).toMatchObject({ checkpoints: 1, checkpointFailures: 1 });
    const left = readdirSync(dir);
    expect(left).toHaveLength(1);
    expect(decodeJournal(readFileSync(path.join(dir, left[0]!))).entries.map((e) => e.key)).toEqual(['b']);
  });
});

describe('LocalDirStore with group commit', () => {
  it('stores concurrent writes once each, answers a second create of a pending key only once it is durable, and leaves no journal after flush', async () => {
    const dir = root();
    const s = new LocalDirStore(dir, { groupCommit: true });
    const keys = Array.from({ length: 40 }, (_, i) => `batches/v${i % 4}/${String(i).padStart(10, '0')}.fmb`);
    const created = await Promise.all(keys.map((k, i) => s.putIfAbsent(k, bytes(2800, i))));
    expect(created.every(Boolean)).toBe(true);
    expect(s.journalStats!.frames).toBe(40);
    expect(s.journalStats!.commits).toBeLessThanOrEqual(40);
    for (const [i, k] of keys.entries()) expect((await s.get(k))!.equals(bytes(2800, i))).toBe(true);
    expect(await s.list('batches/')).toEqual([...keys].sort());

    const framesBefore = s.journalStats!.frames;
    const race = await Promise.all([1, 2].map((fill) => s.putIfAbsent('batches/v9/0000000001.fmb', bytes(10, fill)).then((made) => ({ fill, made, framesAtAnswer: s.journalStats!.frames }))));
    expect(race.map((r) => r.made).sort()).toEqual([false, true]);
    const winner = race.find((r) => r.made)!;
    expect(race.find((r) => !r.made)!.framesAtAnswer).toBe(framesBefore + 1); // "exists" only once the winner was durable
    expect((await s.get('batches/v9/0000000001.fmb'))!.equals(bytes(10, winner.fill))).toBe(true);

    await s.put('health/fleet.json', Buffer.from('{"v":1}'));
    await s.put('health/fleet.json', Buffer.from('{"v":2}'));
    expect((await s.get('health/fleet.json'))!.toString()).toBe('{"v":2}');
    // A delete first checkpoints every journalled write: no journal is left to bring the key back.
    await s.put('health/gone.json', Buffer.from('{}'));
    await s.delete('health/gone.json');
    expect(readdirSync(path.join(dir, JOURNAL_DIR))).toEqual([]);
    expect(await s.exists('health/gone.json')).toBe(false);
    await s.flush();
    expect(readdirSync(path.join(dir, JOURNAL_DIR))).toEqual([]);
    expect((readdirSync(dir, { recursive: true }) as string[]).filter((f) => /\.tmp-\d/.test(f))).toEqual([]);
    expect(await s.list('')).not.toContain(JOURNAL_DIR);
  });

  it('checkpoints with one syncfs of the store filesystem, and object by object for a few objects or where that fails', async () => {
    // the real `sync -f` on this machine (Linux 5.8 or later, coreutils)
    expect(syncfsReportsErrors(platform(), release())).toBe(true);
    expect(await syncFilesystem(root())).toBe(true);
    expect([['linux', '5.8.0'], ['linux', '6.1.0-28-amd64'], ['linux', '5.7.19'], ['linux', '4.19.0'], ['darwin', '23.1.0'], ['linux', 'x']].map(([os, r]) => syncfsReportsErrors(os!, r!))).toEqual([true, true, false, false, false, false]);
    for (const [works, objects] of [[true, 64], [false, 64], [true, 63]] as const) {
      const dir = root();
      const asked: string[] = [];
      const s = new LocalDirStore(dir, {
        groupCommit: true,
        journalMaxAgeMs: 600_000, // one journal file, one checkpoint at flush, however slow the machine
        syncFilesystem: async (d) => {
          asked.push(d);
          return works;
        },
      });
      const keys = Array.from({ length: objects }, (_, i) => `batches/v${i % 3}/${String(i).padStart(10, '0')}.fmb`);
      expect((await Promise.all(keys.map((k, i) => s.putIfAbsent(k, bytes(700, i))))).every(Boolean)).toBe(true);
      await s.flush();
      const bySyncfs = works && objects >= 64; // the default least count
      // one filesystem under the store: one call, naming a directory of its objects (none below the least count)
      expect(asked).toHaveLength(objects >= 64 ? 1 : 0);
      if (objects >= 64) expect(asked[0]!.startsWith(path.join(dir, 'batches'))).toBe(true);
      expect(s.journalStats).toMatchObject({ checkpoints: 1, checkpointFailures: 0, filesystemSyncs: bySyncfs ? 1 : 0, perObjectSyncs: bySyncfs ? 0 : 1 });
      expect(readdirSync(path.join(dir, JOURNAL_DIR))).toEqual([]);
      for (const [i, k] of keys.entries()) expect((await new LocalDirStore(dir).get(k))!.equals(bytes(700, i))).toBe(true);
    }
  });

  it('replays a dead writer journal at the first write: torn and missing objects rewritten, the torn tail ignored, a live writer journal left alone', async () => {
    const dir = root();
    const jdir = path.join(dir, JOURNAL_DIR);
    mkdirSync(path.join(dir, 'batches', 'v1'), { recursive: true });
    const a = bytes(500, 7);
    const h = Buffer.from('{"v":3}');
    writeFileSync(path.join(dir, 'batches', 'v1', '0000000001.fmb'), Buffer.alloc(500)); // zeroed by the power cut
    writeFileSync(path.join(dir, 'batches', 'v1', '0000000002.fmb'), bytes(40, 2)); // intact
    const journal = Buffer.concat([
      encodeJournalFrame(JournalKind.CREATED, 'batches/v1/0000000001.fmb', a),
      encodeJournalFrame(JournalKind.CREATED, 'batches/v1/0000000002.fmb', bytes(40, 2)),
      encodeJournalFrame(JournalKind.REPLACED, 'health/fleet.json', Buffer.from('{"v":2}')),
      encodeJournalFrame(JournalKind.REPLACED, 'health/fleet.json', h),
      encodeJournalFrame(JournalKind.CREATED, 'batches/v1/0000000003.fmb', bytes(900, 3)).subarray(0, 300), // torn: never acknowledged
    ]);
    mkdirSync(jdir);
    const dead = journalFileName('f'.repeat(32) === currentBootId() ? 'e'.repeat(32) : 'f'.repeat(32), 1, 0);
    writeFileSync(path.join(jdir, dead), journal);
    const live = journalFileName(currentBootId(), process.pid, 99);
    writeFileSync(path.join(jdir, live), encodeJournalFrame(JournalKind.CREATED, 'batches/v1/0000000004.fmb', bytes(10, 4)));

    const s = new LocalDirStore(dir);
    expect(await s.putIfAbsent('batches/v2/0000000001.fmb', bytes(3, 1))).toBe(true);
    expect(await s.recover()).toEqual({ journals: 1, frames: 4, repaired: 2, tornBytes: 300 }); // the last frame per key counts
    expect((await s.get('batches/v1/0000000001.fmb'))!.equals(a)).toBe(true);
    expect((await s.get('health/fleet.json'))!.equals(h)).toBe(true);
    expect(await s.exists('batches/v1/0000000003.fmb')).toBe(false);
    expect(await s.exists('batches/v1/0000000004.fmb')).toBe(false);
    expect(readdirSync(jdir)).toEqual([live]);
    expect(existsSync(path.join(jdir, dead))).toBe(false);
  });

  it('refuses keys with a temp-name segment (the journal and temp files are never objects)', async () => {
    const s = new LocalDirStore(root(), { groupCommit: true });
    await expect(s.put(`${JOURNAL_DIR}/x.wal`, Buffer.from('a'))).rejects.toThrow(/containing ".tmp-"/);
    await expect(s.putIfAbsent('batches/v1/1.fmb.tmp-1-00000000', Buffer.from('a'))).rejects.toThrow(/object key/);
  });
});
