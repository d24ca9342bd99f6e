/**
 * The ObjectStore contract, one suite run against every backend (LocalDirStore, S3Store): what
 * the merge, the ingest and the exports rely on. Call inside a test file:
 *
 *   describeStoreContract('S3Store on s3rver', { fresh: () => ..., reopen: (loc) => ... });
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { ObjectStore } from '../../cloud/store/index.ts';

export interface ContractBackend {
  /** An empty store of its own (a new directory, a new key prefix). */
  fresh(): ObjectStore | Promise<ObjectStore>;
  /** Opens a location given by describe(), as a worker process would. */
  reopen(location: string): ObjectStore;
}

/** Deterministic pseudo-random bytes (xorshift32), so a failure reproduces. */
export function patternBytes(n: number, seed = 1): Buffer {
  const b = Buffer.allocUnsafe(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = x & 0xff;
  }
  return b;
}

const BAD_KEYS = ['../x', '/abs', 'a//b', '', 'a/../b', 'sp ace', 'trailing/', './x', 'back\\slash'];

export function describeStoreContract(name: string, backend: ContractBackend): void {
  describe(`ObjectStore contract: ${name}`, () => {
    it('reads back exactly the bytes written: text, empty, every byte value, 256 KiB random', async () => {
      const s = await backend.fresh();
      const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
      const cases: Array<[string, Buffer]> = [
        ['small.txt', Buffer.from('hello, fleet\n')],
        ['empty.bin', Buffer.alloc(0)],
        ['bytes/all-256.bin', Buffer.concat([all, all.reverse(), Buffer.from('\r\n0\r\n\r\n')])], // chunk-framing look-alikes too
        ['bytes/random.bin', randomBytes(256 * 1024)],
      ];
      for (const [k, v] of cases) await s.put(k, v);
      for (const [k, v] of cases) {
        const got = await s.get(k);
        expect(got, k).toBeInstanceOf(Buffer);
        expect(got!.length, k).toBe(v.length);
        expect(got!.equals(v), k).toBe(true);
      }
      await s.put('small.txt', Buffer.from('replaced'));
      expect((await s.get('small.txt'))!.toString()).toBe('replaced');
    });

    it('answers absent keys with undefined / false and lists sorted keys relative to the store', async () => {
      const s = await backend.fresh();
      expect(await s.get('batches/nope.fmb')).toBeUndefined();
      expect(await s.exists('batches/nope.fmb')).toBe(false);
      expect(await s.list('')).toEqual([]);
      for (const k of ['batches/veh-2/0000000001.fmb', 'batches/veh-1/0000000002.fmb', 'batches/veh-1/0000000001.fmb', 'batches2/x', 'tiles/latest.json']) await s.put(k, Buffer.from(k));
      expect(await s.exists('tiles/latest.json')).toBe(true);
      expect(await s.exists('tiles')).toBe(false); // a "directory" is not an object
      expect(await s.list('batches/')).toEqual(['batches/veh-1/0000000001.fmb', 'batches/veh-1/0000000002.fmb', 'batches/veh-2/0000000001.fmb']);
      expect(await s.list('batches')).toEqual(['batches/veh-1/0000000001.fmb', 'batches/veh-1/0000000002.fmb', 'batches/veh-2/0000000001.fmb', 'batches2/x']);
      expect(await s.list('batches/veh-1/')).toEqual(['batches/veh-1/0000000001.fmb', 'batches/veh-1/0000000002.fmb']);
      expect(await s.list('nothing/')).toEqual([]);
      expect((await s.list('')).length).toBe(5);
    });

    it('putIfAbsent writes once: false and nothing written when the key exists', async () => {
      const s = await backend.fresh();
      expect(await s.putIfAbsent('merge/v1/claim.json', Buffer.from('first'))).toBe(true);
      expect(await s.putIfAbsent('merge/v1/claim.json', Buffer.from('second'))).toBe(false);
      expect((await s.get('merge/v1/claim.json'))!.toString()).toBe('first');
      await s.put('merge/v2/claim.json', Buffer.from('put'));
      expect(await s.putIfAbsent('merge/v2/claim.json', Buffer.from('late'))).toBe(false);
      expect((await s.get('merge/v2/claim.json'))!.toString()).toBe('put');
    });

    it('deletes an object (and an absent key without error), leaving its neighbours', async () => {
      const s = await backend.fresh();
      await s.put('merge/v1/obs/a', Buffer.from('a'));
      await s.put('merge/v1/obs/b', Buffer.from('b'));
      await s.delete('merge/v1/obs/a');
      expect(await s.get('merge/v1/obs/a')).toBeUndefined();
      expect(await s.exists('merge/v1/obs/a')).toBe(false);
      expect(await s.list('merge/')).toEqual(['merge/v1/obs/b']);
      await s.delete('merge/v1/obs/a'); // again: absent is fine
      await s.delete('never/was');
      expect(await s.putIfAbsent('merge/v1/obs/a', Buffer.from('again'))).toBe(true);
      expect((await s.get('merge/v1/obs/a'))!.toString()).toBe('again');
    });

    it('refuses keys that are not relative [A-Za-z0-9._-] paths, for every operation', async () => {
      const s = await backend.fresh();
      for (const k of BAD_KEYS) {
        await expect(s.put(k, Buffer.from('x')), k).rejects.toThrow(/object key must be a relative path/);
        await expect(s.putIfAbsent(k, Buffer.from('x')), k).rejects.toThrow(/object key/);
        await expect(s.get(k), k).rejects.toThrow(/object key/);
        await expect(s.exists(k), k).rejects.toThrow(/object key/);
        await expect(s.delete(k), k).rejects.toThrow(/object key/);
      }
      expect(await s.list('')).toEqual([]);
    });

    it('reopens from describe(): another process sees the same objects', async () => {
      const s = await backend.fresh();
      await s.put('tiles/v1/manifest.json', Buffer.from('{"version":1}'));
      const again = backend.reopen(s.describe());
      expect(again.describe()).toBe(s.describe());
      expect((await again.get('tiles/v1/manifest.json'))!.toString()).toBe('{"version":1}');
      expect(await again.list('tiles/')).toEqual(['tiles/v1/manifest.json']);
    });
  });
}
