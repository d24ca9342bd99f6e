import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { LocalDirStore, type ObjectStore } from '../store/index.ts';
import { decodeBatch, encodeBatch, privateKeyFromSeed, sha256, type ObservationBatch } from '../../shared/index.ts';
import { FleetHealth, parseHealth, renderHealthTable } from './health.ts';
import { KeyRegistry } from './keys.ts';
import { IngestService, batchObjectKey } from './service.ts';

const K1 = 'a'.repeat(64);
const K2 = 'b'.repeat(64);
const keys = KeyRegistry.empty()
  .withRegistered('veh-1', privateKeyFromSeed(Buffer.from(K1, 'hex')), 1)
  .withRegistered('veh-2', privateKeyFromSeed(Buffer.from(K2, 'hex')), 1);
const batch = (seq: number, vehicleId = 'veh-1'): ObservationBatch => ({
  vehicleId,
  seq,
  createdUnixMs: 1_700_000_000_000,
  queueDepth: 4,
  observations: [{ tile: '16/34297/22504', driveId: 'd1', tUnixMs: 1_699_999_999_000, cls: 'lane_divider', style: 'solid', score: 1, poseSigmaCm: 20, pointsCm: [[0, 0], [500, 10]] }],
});
const sign = (b: ObservationBatch, hex = K1): Buffer => encodeBatch(b, Buffer.from(hex, 'hex'));

function setup(store?: ObjectStore) {
  const s = store ?? new LocalDirStore(mkdtempSync(path.join(tmpdir(), 'fm-ingest-')));
  const health = new FleetHealth(undefined, keys.vehicles());
  return { store: s, health, svc: new IngestService({ keys, store: s, health, now: () => 1_700_000_001_000 }) };
}

describe('IngestService', () => {
  it('stores the raw envelope once and answers duplicate to a resend', async () => {
    const { svc, store, health } = setup();
    const bytes = sign(batch(7));
    const r1 = await svc.handle(bytes);
    expect(r1.ack).toEqual({ seq: 7, status: 'stored', batchSha256: sha256(bytes) });
    expect(r1.effects[0]).toMatchObject({ event: 'batch_stored', key: 'batches/veh-1/0000000007.fmb', observations: 1, queueDepth: 4 });
    const onDisk = (await store.get(batchObjectKey('veh-1', 7)))!;
    expect(onDisk.equals(bytes)).toBe(true);
    expect(decodeBatch(onDisk, 'trusted')).toEqual(decodeBatch(bytes, keys.keyFor));
    expect((await svc.handle(bytes)).ack).toEqual({ seq: 7, status: 'duplicate', batchSha256: sha256(bytes) });
    expect(health.snapshot().vehicles['veh-1']).toMatchObject({ batchesStored: 1, duplicates: 1, observationsStored: 1, lastQueueDepth: 4, lastSeq: 7, bytesStored: bytes.length });
  });

  it('rejects a different batch under a stored seq as seq_conflict, not duplicate', async () => {
    const { svc } = setup();
    await svc.handle(sign(batch(1)));
    const other = sign({ ...batch(1), queueDepth: 99 });
    const r = await svc.handle(other);
    expect(r.ack).toMatchObject({ seq: 1, status: 'rejected' });
    expect(r.ack!.reason).toMatch(/^seq_conflict: batch 1 of veh-1 is already stored with different contents/);
  });

  it('replaces what a power cut tore under a stored seq (truncated, zeroed) with the resend: stored, not seq_conflict', async () => {
    for (const torn of [(b: Buffer) => b.subarray(0, b.length >> 1), (b: Buffer) => Buffer.alloc(b.length)]) {
      const { svc, store, health } = setup();
      const bytes = sign(batch(3));
      await store.put(batchObjectKey('veh-1', 3), torn(bytes)); // what the page cache had not written back
      const r = await svc.handle(bytes);
      expect(r.ack).toEqual({ seq: 3, status: 'stored', batchSha256: sha256(bytes) });
      expect(r.effects[0]).toMatchObject({ event: 'batch_stored', replacedTorn: torn(bytes).length });
      expect(Buffer.compare((await store.get(batchObjectKey('veh-1', 3)))!, bytes)).toBe(0);
      expect(health.snapshot().vehicles['veh-1']).toMatchObject({ batchesStored: 1, duplicates: 0 });
      expect((await svc.handle(bytes)).ack!.status).toBe('duplicate');
    }
    // A whole batch of this seq with other contents is no tear: seq_conflict (the test above).
  });

  it('rejects garbage, bad versions, bad signatures and unknown vehicles with exact reasons, counted', async () => {
    const { svc, health } = setup();
    const good = sign(batch(1));
    const v2 = Buffer.from(good);
    v2[2] = 1;
    const r = {
      garbage: await svc.handle(Buffer.from('hello, world')),
      version: await svc.handle(v2),
      mac: await svc.handle(sign(batch(1), K2)),
      unknown: await svc.handle(sign(batch(1, 'veh-9'))),
    };
    expect(r.garbage.ack).toEqual({ seq: null, status: 'rejected', reason: 'bad_magic: not a fleetmap envelope: magic 0x6865, expected 0x464d ("FM")', batchSha256: sha256(Buffer.from('hello, world')) });
    expect(r.version.ack!.reason).toBe('bad_version: got v1 data, expected v2');
    expect(r.mac.ack).toMatchObject({ seq: null, status: 'rejected', reason: `bad_signature: signature does not match vehicle "veh-1"'s key` });
    expect(r.unknown.ack!.reason).toBe('unknown_sender: unknown vehicle "veh-9"');
    const h = health.snapshot();
    // nothing was authenticated: nothing is charged to veh-1 (a forger cannot add to its counts)
    expect(h.vehicles['veh-1']!.rejected).toEqual({});
    expect(h.vehicles['veh-1']!.lastSeenUnixMs).toBeNull();
    expect(h.unattributed.rejected).toEqual({ bad_magic: 1, bad_version: 1, bad_signature: 1, unknown_sender: 1 });
    expect(h.unattributed.recentUnknownSenders).toEqual(['veh-9', 'veh-1']);
    expect(h.vehicles['veh-9']).toBeUndefined();
    // and it goes on serving
    expect((await svc.handle(sign(batch(1, 'veh-2'), K2))).ack).toMatchObject({ seq: 1, status: 'stored' });
  });

  it('names the seq when an authenticated batch has an invalid body', async () => {
    const { svc } = setup();
    // A valid envelope signed with the right key around a body that is not a batch.
    const { encodeEnvelope, KIND_BATCH } = await import('../../shared/index.ts');
    const { pack } = await import('msgpackr');
    const bytes = encodeEnvelope({ kind: KIND_BATCH, senderId: 'veh-1', body: pack({ s: 12, u: 'yesterday', q: 0, d: [], t: [] }), key: Buffer.from(K1, 'hex') });
    const r = await svc.handle(bytes);
    expect(r.ack).toEqual({ seq: 12, status: 'rejected', reason: 'bad_range: batch.createdUnixMs must be a non-negative integer, got "yesterday"', batchSha256: sha256(bytes) });
  });

  it('refuses an ack-kind envelope (even one signed by a vehicle) before decompressing or parsing it', async () => {
    const { svc, health } = setup();
    const { encodeEnvelope, KIND_ACK } = await import('../../shared/index.ts');
    const bytes = encodeEnvelope({ kind: KIND_ACK, senderId: 'veh-1', body: Buffer.from('neither msgpack nor brotli'), key: Buffer.from(K1, 'hex'), compress: false });
    const r = await svc.handle(bytes);
    expect(r.ack).toEqual({ seq: null, status: 'rejected', reason: 'bad_kind: expected a batch (kind 1), got kind 2', batchSha256: sha256(bytes) });
    expect(health.snapshot().unattributed.rejected).toEqual({ bad_kind: 1 });
  });

  it('names the seq of an authenticated batch refused for its contents, never of an unauthenticated one', async () => {
    const { svc } = setup();
    const { encodeEnvelope, KIND_BATCH } = await import('../../shared/index.ts');
    const { pack } = await import('msgpackr');
    const body = pack({ s: 44, u: 1_700_000_000_000, q: 0, d: ['d1'], t: [{ k: '16/034297/22504', o: [] }] });
    const signed = encodeEnvelope({ kind: KIND_BATCH, senderId: 'veh-1', body, key: Buffer.from(K1, 'hex') });
    expect((await svc.handle(signed)).ack).toMatchObject({ seq: 44, status: 'rejected', reason: expect.stringMatching(/^bad_tile_key: tiles\[0\]: tile key must be canonical/) });
    const forged = encodeEnvelope({ kind: KIND_BATCH, senderId: 'veh-1', body, key: Buffer.from(K2, 'hex') });
    expect((await svc.handle(forged)).ack).toMatchObject({ seq: null, status: 'rejected', reason: expect.stringMatching(/^bad_signature: /) });
    const old = encodeEnvelope({ kind: KIND_BATCH, senderId: 'veh-1', body: pack({ s: 45, u: 1_600_000_000_000, q: 0, d: [], t: [] }), key: Buffer.from(K1, 'hex') });
    expect((await svc.handle(old)).ack).toMatchObject({ seq: 45, status: 'rejected', reason: expect.stringMatching(/^bad_time: batch.createdUnixMs 1600000000000 is outside the accepted window/) });
  });

  it('answers nothing when the store fails, so the edge retries', async () => {
    const broken: ObjectStore = {
      put: async () => undefined,
      putIfAbsent: async () => {
        throw Object.assign(new Error('no space'), { code: 'ENOSPC' });
      },
      get: async () => undefined,
      exists: async () => false,
      list: async () => [],
      listAfter: async () => [],
      delete: async () => undefined,
      describe: () => 'broken://',
    };
    const { svc } = setup(broken);
    const r = await svc.handle(sign(batch(1)));
    expect(r.ack).toBeNull();
    expect(r.effects).toEqual([{ event: 'store_failed', vehicleId: 'veh-1', seq: 1, key: 'batches/veh-1/0000000001.fmb', reason: 'ENOSPC' }]);
  });
});

describe('FleetHealth', () => {
  it('round-trips through JSON and renders a table', () => {
    const h = new FleetHealth(undefined, ['veh-1', 'veh-2']);
    h.recordStored('veh-1', { seq: 3, bytes: 2_500_000, observations: 120, queueDepth: 7 }, 1_000_000);
    h.recordRejected('bad_body', { vehicleId: 'veh-2', authenticated: true }, 1_000_000);
    h.recordRejected('bad_magic', {}, 1_000_000);
    const back = parseHealth(h.toBytes());
    expect(back).toEqual(h.snapshot());
    const table = renderHealthTable(back, 1_060_000);
    // vehicle, trouble, last seen, oldest unsent, queue, MB/24h, drops, refused, model, hw-profile, software, stored
    expect(table).toMatch(/veh-1\s+-\s+60s ago\s+-\s+7\s+2\.50\s+-\s+-\s+-\s+-\s+-\s+1/);
    expect(table).toMatch(/veh-2\s+refused\s+60s ago\s+-\s+-\s+0\.00\s+-\s+bad_body:1/);
    expect(table).toMatch(/unattributed rejections: bad_magic:1/);
  });
  it('refuses a key registry with bad entries, naming the vehicle but not the key', () => {
    const entry = (hex: string) => ({ ed25519PublicKeyHex: hex, curvePublicKeyZ85: null, status: 'active' as const, registeredUnixMs: 1, revokedUnixMs: null });
    expect(() => new KeyRegistry([['veh 1', entry('a'.repeat(64))], ['veh-2', entry('abc')]])).toThrow(/vehicle id must match .* got "veh 1".*vehicle "veh-2": ed25519PublicKeyHex must be 64 lowercase hex digits/);
  });
});
