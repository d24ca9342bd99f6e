import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { LocalDirStore } from './local-dir-store.ts';

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
});
