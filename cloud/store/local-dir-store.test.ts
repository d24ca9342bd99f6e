import { existsSync, mkdirSync, mkdtempSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { LocalDirStore, TEMP_NAME_RE } from './local-dir-store.ts';

/** Every file under `dir` whose name looks like a temp file, relative paths. */
function temps(dir: string): string[] {
  return (readdirSync(dir, { recursive: true }) as string[]).filter((f) => f.includes('.tmp-')).sort();
}

describe('LocalDirStore', () => {
  it('puts, gets, lists and stores a key once with putIfAbsent', async () => {
    const s = new LocalDirStore(mkdtempSync(path.join(tmpdir(), 'fm-store-')));
    expect(await s.putIfAbsent('batches/v1/0001.fmb', Buffer.from('a'))).toBe(true);
    expect(await s.putIfAbsent('batches/v1/0001.fmb', Buffer.from('b'))).toBe(false);
    expect((await s.get('batches/v1/0001.fmb'))!.toString()).toBe('a');
    await s.put('batches/v2/0001.fmb', Buffer.from('c'));
    await s.put('tiles/v1/16/1/2.geojson', Buffer.from('{}'));
    expect(await s.list('batches/')).toEqual(['batches/v1/0001.fmb', 'batches/v2/0001.fmb']);
    expect(await s.get('nope')).toBeUndefined();
    expect(await s.exists('tiles/v1/16/1/2.geojson')).toBe(true);
  });
  it('refuses keys that escape the root', async () => {
    const s = new LocalDirStore(mkdtempSync(path.join(tmpdir(), 'fm-store-')));
    await expect(s.put('../x', Buffer.from('a'))).rejects.toThrow(/object key must be a relative path/);
    await expect(s.put('/abs', Buffer.from('a'))).rejects.toThrow(/object key/);
  });
  it('sweeps its own stale temp files at the first write, and only those', async () => {
    const root = mkdtempSync(path.join(tmpdir(), 'fm-store-'));
    mkdirSync(path.join(root, 'batches', 'v1'), { recursive: true });
    const file = (rel: string, mtimeUnixS: number): void => {
      writeFileSync(path.join(root, rel), 'x');
      utimesSync(path.join(root, rel), mtimeUnixS, mtimeUnixS);
    };
    const nowUnixS = 2_000_000_000;
    file('batches/v1/0000000001.fmb.tmp-4242-0badcafe', nowUnixS - 3600); // a dead write: old
    file('fleet.json.tmp-17-deadbeef', nowUnixS - 601); // old, at the root
    file('batches/v1/0000000002.fmb.tmp-4243-00c0ffee', nowUnixS - 10); // young: maybe another process's write
    file('batches/v1/notes.tmp-mine', nowUnixS - 3600); // not the store's naming: never touched
    file('batches/v1/0000000003.fmb', nowUnixS - 3600);
    const s = new LocalDirStore(root, { staleTempAfterS: 600, nowUnixMs: () => nowUnixS * 1000 });
    expect(await s.list('batches/')).toEqual(['batches/v1/0000000003.fmb']);
    expect(temps(root)).toHaveLength(4); // reading sweeps nothing
    await s.put('batches/v1/0000000004.fmb', Buffer.from('b'));
    expect(temps(root)).toEqual(['batches/v1/0000000002.fmb.tmp-4243-00c0ffee', 'batches/v1/notes.tmp-mine']);
    expect(existsSync(path.join(root, 'batches/v1/0000000003.fmb'))).toBe(true);
    expect(TEMP_NAME_RE.test('notes.tmp-mine')).toBe(false);
    // once aged, the young one goes too (called directly)
    const later = new LocalDirStore(root, { staleTempAfterS: 600, nowUnixMs: () => (nowUnixS + 3600) * 1000 });
    expect(await later.removeStaleTemps()).toBe(1);
    expect(temps(root)).toEqual(['batches/v1/notes.tmp-mine']);
  });
  it('removes the temp file of a write that fails', async () => {
    const root = mkdtempSync(path.join(tmpdir(), 'fm-store-'));
    const s = new LocalDirStore(root);
    await s.put('tiles/v1/16/1/2.geojson', Buffer.from('{}'));
    // rename onto a directory fails (EISDIR): the temp file must not stay behind
    await expect(s.put('tiles/v1', Buffer.from('x'))).rejects.toThrow(/EISDIR|ENOTEMPTY|EEXIST/);
    await expect(s.putIfAbsent('tiles/v1/16', Buffer.from('x'))).resolves.toBe(false);
    // the write itself fails (not bytes): the temp file was created, then removed
    await expect(s.put('batches/v1/0000000001.fmb', 42 as unknown as Uint8Array)).rejects.toThrow();
    expect(temps(root)).toEqual([]);
    expect(await s.list('')).toEqual(['tiles/v1/16/1/2.geojson']);
  });

  it('listAfter matches list filtered by the mark, for marks inside, between and beside directory names', async () => {
    // Keys chosen so that '-' (0x2d) and '.' (0x2e) sort before '/' (0x2f): "a/b-x" < "a/b/c" <
    // "a/b0", which a walk that skipped directories by name alone would get wrong.
    const s = new LocalDirStore(mkdtempSync(path.join(tmpdir(), 'fm-store-')));
    const keys = ['a/a/z', 'a/b-x', 'a/b.y', 'a/b/c/d', 'a/b/e', 'a/b0', 'a/ba/q', 'b/1', 'ab/x', 'arrivals/1700000000000-aa-0000000001.json', 'arrivals/1700000600000-aa-0000000002.json'];
    for (const k of keys) await s.put(k, Buffer.from(k));
    const all = await s.list('');
    let seed = 12345;
    const rnd = (n: number): number => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 8) % n;
    const alphabet = ['a', 'b', '/', '-', '.', '0', 'c', 'z', 'arrivals/17000', 'arrivals/1700000300000'];
    const marks = ['', 'a', 'a/', 'a/b', 'a/b/', 'a/b-', 'a/b/c', 'a/b/c/d', 'a/b0', 'ab', 'b', 'zzz', 'arrivals/', 'arrivals/1700000300000', 'arrivals/1700000000000-aa-0000000001.json'];
    for (let i = 0; i < 200; i++) marks.push(Array.from({ length: 1 + rnd(5) }, () => alphabet[rnd(alphabet.length)]).join(''));
    for (const prefix of ['', 'a/', 'a/b', 'arrivals/']) {
      for (const mark of marks) {
        expect(await s.listAfter(prefix, mark), `prefix ${JSON.stringify(prefix)} after ${JSON.stringify(mark)}`).toEqual(all.filter((k) => k.startsWith(prefix) && k > mark));
      }
    }
    expect(await s.listAfter('arrivals/', 'arrivals/1700000300000')).toEqual(['arrivals/1700000600000-aa-0000000002.json']);
    expect(await s.listAfter('nothing/', '')).toEqual([]);
    await expect(s.listAfter('a/', undefined as unknown as string)).rejects.toThrow('listAfter: startAfter must be a string, got undefined');
  });
});
