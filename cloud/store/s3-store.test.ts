/**
 * S3Store against a real S3-protocol server (s3rver, started here on a loopback port), with a
 * fault-injecting proxy in front where a test needs one. The ObjectStore contract runs against
 * both backends (test/support/store-contract.ts).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryLogger } from '../../shared/log.ts';
import { failFirst, s3ErrorXml, SLOW_DOWN, startFlakyProxy, type FlakyProxy } from '../../test/support/flaky-proxy.ts';
import { startS3rver, S3RVER_CREDENTIALS, type RunningS3rver } from '../../test/support/s3rver.ts';
import { describeStoreContract, patternBytes } from '../../test/support/store-contract.ts';
import { LocalDirStore } from './local-dir-store.ts';
import { openStore } from './open-store.ts';
import { RetriesExhaustedError } from './retry.ts';
import { S3Store, type S3StoreOptions } from './s3-store.ts';

const MiB = 1024 * 1024;
let s3: RunningS3rver;
let proxy: FlakyProxy;
let n = 0;
const stores: S3Store[] = [];

beforeAll(async () => {
  s3 = await startS3rver();
  proxy = await startFlakyProxy(s3.endpoint);
});
afterAll(async () => {
  for (const s of stores) s.destroy();
  await proxy?.close();
  await s3?.close();
});

/** A store on a prefix of its own; through the proxy unless `direct`. */
function s3Store(o: Partial<S3StoreOptions> & { direct?: boolean } = {}): S3Store {
  const { direct, ...rest } = o;
  const s = new S3Store({
    bucket: 'fleetmap',
    prefix: `t${++n}`,
    region: 'us-east-1',
    endpoint: direct ? s3.endpoint : proxy.endpoint,
    credentials: S3RVER_CREDENTIALS,
    conditionalPuts: 'check-then-put',
    retry: { maxAttempts: 4, baseDelayMs: 1, maxDelayMs: 4 },
    ...rest,
  });
  stores.push(s);
  return s;
}

/** Requests the proxy sees while `fn` runs. */
async function watch<T>(fn: () => Promise<T>): Promise<{ value: T; seen: FlakyProxy['seen'] }> {
  const from = proxy.seen.length;
  const value = await fn();
  return { value, seen: proxy.seen.slice(from) };
}

describeStoreContract('LocalDirStore', {
  fresh: () => new LocalDirStore(mkdtempSync(path.join(tmpdir(), 'fm-contract-'))),
  reopen: (loc) => openStore(loc),
});

describeStoreContract('S3Store on s3rver', {
  fresh: () => s3Store({ direct: true }),
  reopen: (loc) => {
    const s = openStore(loc, { env: s3.env });
    stores.push(s as S3Store);
    return s;
  },
});

describe('listAfter on both backends', () => {
  const backends: Array<[string, () => LocalDirStore | S3Store]> = [
    ['LocalDirStore', () => new LocalDirStore(mkdtempSync(path.join(tmpdir(), 'fm-after-')))],
    ['S3Store on s3rver', () => s3Store({ direct: true })],
  ];
  for (const [name, fresh] of backends) {
    it(`${name}: only keys under the prefix strictly after the mark, sorted; the mark need not be a key`, async () => {
      const s = fresh();
      const keys = ['arrivals/1700000000000-aa-0000000001.json', 'arrivals/1700000000000-bb-0000000001.json', 'arrivals/1700000600000-aa-0000000002.json', 'arrivals/1700001200000-aa-0000000003.json', 'arrivalsX/1', 'batches/veh-1/0000000001.fmb', 'a/b-x', 'a/b/c', 'a/b0'];
      for (const k of keys) await s.put(k, Buffer.from(k));
      expect(await s.listAfter('arrivals/', '')).toEqual(keys.slice(0, 4));
      expect(await s.listAfter('arrivals/', 'arrivals/1700000000000-aa-0000000001.json')).toEqual(keys.slice(1, 4)); // strictly after
      expect(await s.listAfter('arrivals/', 'arrivals/1700000600000')).toEqual(keys.slice(2, 4)); // a time prefix, not a key
      expect(await s.listAfter('arrivals/', 'arrivals/1700001200001')).toEqual([]);
      expect(await s.listAfter('arrivals/', 'a')).toEqual(keys.slice(0, 4)); // a mark before the prefix
      expect(await s.listAfter('arrivals/', 'b')).toEqual([]); // one after it
      expect(await s.listAfter('a/', 'a/b-x')).toEqual(['a/b/c', 'a/b0']); // '-' < '/' < '0', as S3 orders bytes
      expect(await s.listAfter('', 'arrivalsX/0')).toEqual(['arrivalsX/1', 'batches/veh-1/0000000001.fmb']);
      await expect(s.listAfter('a/', 7 as unknown as string)).rejects.toThrow('listAfter: startAfter must be a string, got number');
    });
  }

  it('S3Store: sends StartAfter (under its prefix) on the first page only and pages through the rest', async () => {
    const s = s3Store({ listPageSize: 4 });
    const keys = Array.from({ length: 23 }, (_, i) => `arrivals/${String(1_700_000_000_000 + i * 1000).padStart(13, '0')}-aa-${String(i).padStart(10, '0')}.json`);
    for (const k of keys) await s.put(k, Buffer.from('{"batches":[]}'));
    const mark = keys[8]!;
    const { value, seen } = await watch(() => s.listAfter('arrivals/', mark));
    expect(value).toEqual(keys.slice(9));
    const lists = seen.filter((r) => r.method === 'GET' && /list-type=2/.test(r.url));
    expect(lists.length).toBe(4); // ceil(14 / 4): the 9 keys up to the mark are never sent
    expect(decodeURIComponent(/[?&]start-after=([^&]*)/.exec(lists[0]!.url)![1]!)).toBe(`${s.prefix}/${mark}`);
    expect(lists.slice(1).every((r) => /continuation-token=/.test(r.url))).toBe(true);
  });
});

describe('S3Store', () => {
  it('uploads a large object in parts and reads back the same bytes (no aws-chunked framing)', async () => {
    const s = s3Store({ multipartThresholdBytes: 6 * MiB, partSizeBytes: 5 * MiB });
    const data = patternBytes(12 * MiB + 123, 7);
    const { seen } = await watch(() => s.put('merge/v1/obs/big.bin', data));
    const parts = seen.filter((r) => r.method === 'PUT' && /[?&]partNumber=\d+/.test(r.url));
    expect(parts.map((r) => Number(/partNumber=(\d+)/.exec(r.url)![1]))).toEqual([1, 2, 3]);
    expect(seen.filter((r) => r.method === 'POST').length).toBe(2); // create + complete
    const got = await watch(() => s.get('merge/v1/obs/big.bin'));
    const back = got.value;
    // WHEN_REQUIRED: no aws-chunked framing, no checksum headers asked for or sent.
    for (const r of [...seen, ...got.seen]) {
      expect(r.headers['content-encoding'] ?? '', r.url).not.toMatch(/aws-chunked/);
      expect(Object.keys(r.headers).filter((h) => /^x-amz-(checksum|sdk-checksum|trailer)/.test(h)), r.url).toEqual([]);
    }
    expect(back!.length).toBe(data.length);
    expect(back!.equals(data)).toBe(true);
    // Just under the threshold: one PUT.
    const small = patternBytes(6 * MiB, 8);
    const one = await watch(() => s.put('merge/v1/obs/six.bin', small));
    expect(one.seen.map((r) => r.method)).toEqual(['PUT']);
    expect((await s.get('merge/v1/obs/six.bin'))!.equals(small)).toBe(true);
  });

  it('aborts a multipart upload whose part keeps failing, leaving no object', async () => {
    const s = s3Store({ multipartThresholdBytes: 5 * MiB, partSizeBytes: 5 * MiB, retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 1 } });
    proxy.setFault((r) => (/[?&]partNumber=2/.test(r.url) ? { status: 500, body: s3ErrorXml('InternalError', 'part store down') } : undefined));
    try {
      const { seen } = await watch(() => s.put('big.bin', patternBytes(11 * MiB)).then(() => 'stored', (e: Error) => e.message));
      expect(seen.at(-1)).toMatchObject({ method: 'DELETE' });
      expect(seen.at(-1)!.url).toMatch(/[?&]uploadId=/);
      expect(seen.filter((r) => r.faulted).length).toBe(2);
    } finally {
      proxy.setFault(undefined);
    }
    await expect(s.put('big2.bin', Buffer.alloc(0))).resolves.toBeUndefined();
    expect(await s.exists('big.bin')).toBe(false);
  });

  it('lists over several pages, sorted, relative to its prefix', async () => {
    const s = s3Store({ listPageSize: 5 });
    const keys = Array.from({ length: 37 }, (_, i) => `batches/veh-${i % 3}/${String(1000 - i).padStart(10, '0')}.fmb`);
    for (const k of keys) await s.put(k, Buffer.from(k));
    await s.put('tiles/latest.json', Buffer.from('{}'));
    const { value, seen } = await watch(() => s.list('batches/'));
    expect(value).toEqual([...keys].sort());
    expect(seen.filter((r) => r.method === 'GET' && /list-type=2/.test(r.url)).length).toBe(8); // ceil(37 / 5)
    expect(seen.filter((r) => /continuation-token=/.test(r.url)).length).toBe(7);
  });

  it('keeps stores on different prefixes apart; the bucket root sees them all', async () => {
    const mk = (prefix: string): S3Store => s3Store({ prefix, direct: true });
    const a = mk('iso/a');
    const ab = mk('iso/ab');
    const root = mk('');
    await a.put('k', Buffer.from('a'));
    await ab.put('k', Buffer.from('ab'));
    expect(await a.list('')).toEqual(['k']);
    expect(await ab.list('')).toEqual(['k']);
    expect((await a.get('k'))!.toString()).toBe('a');
    expect(await root.list('iso/')).toEqual(['iso/a/k', 'iso/ab/k']);
    expect(root.describe()).toBe('s3://fleetmap');
    expect(a.describe()).toBe('s3://fleetmap/iso/a');
    await a.delete('k');
    expect((await ab.get('k'))!.toString()).toBe('ab');
  });

  it('retries throttling with backoff, logging each retry, and recovers', async () => {
    const log = new MemoryLogger();
    // The jitter pinned at 0.75: the logged backoff is the policy's number, exactly.
    const s = s3Store({ log, jitter: () => 0.75 });
    proxy.setFault(failFirst(3));
    const put = await watch(() => s.put('health/fleet.json', Buffer.from('{"ok":true}')));
    expect(put.seen.map((r) => r.faulted)).toEqual([true, true, true, false]);
    // round(0.75 * min(maxDelayMs 4, baseDelayMs 1 * 2^(attempt - 1))): 1, 2, 3
    expect(log.records.map((r) => [r.event, r.attempt, r.status, r.backoffMs])).toEqual([
      ['store_retry', 1, 503, 1],
      ['store_retry', 2, 503, 2],
      ['store_retry', 3, 503, 3],
    ]);
    proxy.setFault(failFirst(2));
    expect((await s.get('health/fleet.json'))!.toString()).toBe('{"ok":true}');
    proxy.setFault(failFirst(1));
    expect(await s.list('health/')).toEqual(['health/fleet.json']);
    proxy.setFault(undefined);
  });

  it('retries a dropped connection', async () => {
    const s = s3Store();
    await s.put('k', Buffer.from('v'));
    let left = 2;
    proxy.setFault(() => (left-- > 0 ? { status: 0, drop: true } : undefined));
    try {
      const { value, seen } = await watch(() => s.get('k'));
      expect(value!.toString()).toBe('v');
      expect(seen.map((r) => r.faulted)).toEqual([true, true, false]);
    } finally {
      proxy.setFault(undefined);
    }
  });

  it('gives up after maxAttempts with an error naming the operation, attempts and status', async () => {
    const log = new MemoryLogger();
    const s = s3Store({ log, retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 2 } });
    proxy.setFault(() => SLOW_DOWN);
    try {
      const { value, seen } = await watch(() => s.get('tiles/latest.json').then(() => undefined, (e: unknown) => e));
      expect(value).toBeInstanceOf(RetriesExhaustedError);
      expect((value as Error).message).toMatch(/^S3 GetObject s3:\/\/fleetmap\/t\d+\/tiles\/latest\.json failed after 3 attempts: SlowDown: Please reduce your request rate\. \(HTTP 503\)$/);
      expect(seen.length).toBe(3);
      expect(log.records.map((r) => r.event)).toEqual(['store_retry', 'store_retry', 'store_retries_exhausted']);
    } finally {
      proxy.setFault(undefined);
    }
  });

  it('does not retry a refusal (403): one request, the error as the server said it', async () => {
    const s = s3Store();
    proxy.setFault(() => ({ status: 403, body: s3ErrorXml('AccessDenied', 'Access Denied') }));
    try {
      const { value, seen } = await watch(() => s.put('x', Buffer.from('x')).then(() => undefined, (e: unknown) => e));
      expect((value as Error).name).toBe('AccessDenied');
      expect(seen.length).toBe(1);
    } finally {
      proxy.setFault(undefined);
    }
  });

  it('refuses a bad key before sending anything', async () => {
    const s = s3Store();
    const { seen } = await watch(async () => {
      await expect(s.put('../escape', Buffer.from('x'))).rejects.toThrow(/object key must be a relative path/);
      await expect(s.get('a//b')).rejects.toThrow(/object key/);
    });
    expect(seen).toEqual([]);
  });

  it('with if-none-match: sends If-None-Match: *, reads 412 as "exists", and a 412 after a lost reply as its own write', async () => {
    const s = s3Store({ conditionalPuts: 'if-none-match' });
    const claim = Buffer.from('{"claimedUnixMs":1,"pid":42}');
    const first = await watch(() => s.putIfAbsent('merge/v1/claim.json', claim));
    expect(first.value).toBe(true);
    expect(first.seen.map((r) => [r.method, r.headers['if-none-match']])).toEqual([['PUT', '*']]);
    // The server said 412 (as S3 does for an existing key): not written.
    proxy.setFault((r) => (r.method === 'PUT' ? { status: 412, body: s3ErrorXml('PreconditionFailed', 'At least one of the pre-conditions you specified did not hold') } : undefined));
    expect(await s.putIfAbsent('merge/v1/claim.json', Buffer.from('other'))).toBe(false);
    // First attempt stored, its reply lost (503); the retry gets 412: the bytes there are ours.
    let puts = 0;
    const lostReply = (other: boolean): void => {
      puts = 0;
      proxy.setFault((r) => (r.method !== 'PUT' ? undefined : ++puts === 1 ? { ...SLOW_DOWN, afterForward: true } : { status: 412, body: s3ErrorXml('PreconditionFailed', other ? 'x' : 'y') }));
    };
    try {
      lostReply(false);
      expect(await s.putIfAbsent('merge/v2/claim.json', claim)).toBe(true);
      expect((await s.get('merge/v2/claim.json'))!.equals(claim)).toBe(true);
      // ...but a 412 on a retry where someone else's bytes are stored is a loss.
      proxy.setFault(undefined);
      await s.put('merge/v3/claim.json', Buffer.from('theirs'));
      puts = 1; // skip the forwarded attempt: straight to 503 then 412
      proxy.setFault((r) => (r.method !== 'PUT' ? undefined : ++puts === 2 ? SLOW_DOWN : { status: 412, body: s3ErrorXml('PreconditionFailed', 'z') }));
      expect(await s.putIfAbsent('merge/v3/claim.json', claim)).toBe(false);
    } finally {
      proxy.setFault(undefined);
    }
  });

  it('with check-then-put: HEAD then PUT, no conditional header (s3rver ignores it)', async () => {
    const s = s3Store({ conditionalPuts: 'check-then-put' });
    const { value, seen } = await watch(() => s.putIfAbsent('merge/v1/claim.json', Buffer.from('a')));
    expect(value).toBe(true);
    expect(seen.map((r) => r.method)).toEqual(['HEAD', 'PUT']);
    expect(seen[1]!.headers['if-none-match']).toBeUndefined();
    const again = await watch(() => s.putIfAbsent('merge/v1/claim.json', Buffer.from('b')));
    expect(again.value).toBe(false);
    expect(again.seen.map((r) => r.method)).toEqual(['HEAD']);
  });

  it('validates its options, naming the field', () => {
    const base = { bucket: 'fleetmap', region: 'us-east-1', endpoint: s3.endpoint };
    expect(() => new S3Store({ ...base, partSizeBytes: 1 * MiB })).toThrow(/partSizeBytes must be an integer >= 5242880/);
    expect(() => new S3Store({ ...base, multipartThresholdBytes: 6 * MiB, partSizeBytes: 8 * MiB })).toThrow(/multipartThresholdBytes must be >= partSizeBytes/);
    expect(() => new S3Store({ ...base, listPageSize: 0 })).toThrow(/listPageSize must be an integer in 1..1000/);
    expect(() => new S3Store({ ...base, prefix: 'a/../b' })).toThrow(/object key/);
    expect(() => new S3Store({ ...base, retry: { maxAttempts: 0 } })).toThrow(/retry.maxAttempts must be an integer >= 1/);
  });
});
