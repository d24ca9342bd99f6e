import { describe, expect, it } from 'vitest';
import { createPublicKey } from 'node:crypto';
import { BatchRefusal, decodeBatch, decodeBatchAsync, encodeBatch, type ObservationBatch } from './batch.ts';
import { brotliWindowBits, CodecError, ENVELOPE_VERSION, encodeEnvelope, KIND_ACK, KIND_BATCH, type KeyLookup } from './envelope.ts';
import { privateKeyFromSeed } from './signing.ts';
import { Packr } from 'msgpackr';

/** The vehicle's Ed25519 private key as its seed; the ingest knows only the public half. */
const key = Buffer.from('0123456789abcdef0123456789abcdef');
const vehiclePublicKey = createPublicKey(privateKeyFromSeed(key));
const keyFor = (id: string) => (id === 'veh-001' ? vehiclePublicKey : undefined);

function sampleBatch(): ObservationBatch {
  return {
    vehicleId: 'veh-001',
    seq: 7,
    createdUnixMs: 1_790_000_000_000,
    queueDepth: 12,
    observations: [
      { tile: '16/34303/22474', driveId: 'veh-001-d1', tUnixMs: 1_789_999_999_500, cls: 'lane_divider', style: 'dashed', score: 0.8, poseSigmaCm: 120, pointsCm: [[100, -250], [1100, -240], [2100, -260]] },
      { tile: '16/34303/22474', driveId: 'veh-001-d1', tUnixMs: 1_789_999_999_600, cls: 'road_boundary', kind: 'curb', score: 1, poseSigmaCm: 90, pointsCm: [[-5000, 300], [-4000, 310]] },
      { tile: '16/34304/22474', driveId: 'veh-001-d2', tUnixMs: 1_789_999_999_700, cls: 'traffic_sign', signCode: 'de205', score: 0.5, poseSigmaCm: 100, pointsCm: [[12, 34]] },
      { tile: '16/34304/22474', driveId: 'veh-001-d2', tUnixMs: 1_789_999_999_800, cls: 'crosswalk', score: 0.6, poseSigmaCm: 100, pointsCm: [[0, 0], [400, 0], [400, 300], [0, 300]] },
    ],
  };
}

function corrupt(buf: Buffer, at: number, value: number): Buffer {
  const b = Buffer.from(buf);
  b[at] = value;
  return b;
}

describe('batch codec', () => {
  it('round-trips a batch to whole centimetres and 1/255 scores', () => {
    const b = sampleBatch();
    const out = decodeBatch(encodeBatch(b, key), keyFor);
    expect(out.vehicleId).toBe('veh-001');
    expect(out.seq).toBe(7);
    expect(out.queueDepth).toBe(12);
    expect(out.observations).toHaveLength(4);
    for (let i = 0; i < 4; i++) {
      const a = b.observations[i]!;
      const o = out.observations[i]!;
      expect(o.pointsCm).toEqual(a.pointsCm);
      expect(o.cls).toBe(a.cls);
      expect(o.tile).toBe(a.tile);
      expect(o.driveId).toBe(a.driveId);
      expect(o.tUnixMs).toBe(a.tUnixMs);
      expect(Math.abs(o.score - a.score)).toBeLessThanOrEqual(0.5 / 255);
    }
    expect(out.observations[0]!.style).toBe('dashed');
    expect(out.observations[1]!.kind).toBe('curb');
    expect(out.observations[2]!.signCode).toBe('de205');
  });

  it('compresses: a batch of long polylines is smaller than its JSON', () => {
    const b = sampleBatch();
    b.observations = Array.from({ length: 200 }, (_, i) => ({
      tile: '16/34303/22474', driveId: 'veh-001-d1', tUnixMs: b.createdUnixMs - i * 100, cls: 'lane_divider' as const, style: 'solid' as const,
      score: 0.9, poseSigmaCm: 100, pointsCm: Array.from({ length: 20 }, (_, k) => [i * 37 + k * 100, 350 + (k % 3)] as [number, number]),
    }));
    const bytes = encodeBatch(b, key).length;
    expect(bytes).toBeLessThan(JSON.stringify(b).length / 10);
  });

  it("fits brotli's window to the body, and bodies of any size round-trip", () => {
    // the window holds (1 << bits) - 16 bytes
    expect([0, 1008, 1009, 5_000, 65_520, 65_521, 100_000_000].map(brotliWindowBits)).toEqual([10, 10, 11, 13, 16, 17, 24]);
    for (const n of [1, 60, 2_000, 20_000]) {
      const b = sampleBatch();
      b.observations = Array.from({ length: n }, (_, i) => ({ ...b.observations[i % 4]!, tUnixMs: b.createdUnixMs - i }));
      expect(decodeBatch(encodeBatch(b, key), keyFor).observations).toHaveLength(n);
    }
  });

  it('refuses another version with an exact message', () => {
    const buf = corrupt(encodeBatch(sampleBatch(), key), 2, 1);
    expect(() => decodeBatch(buf, keyFor)).toThrow(`got v1 data, expected v${ENVELOPE_VERSION}`);
  });

  it('refuses bad magic, truncation, unknown or revoked vehicles and forged signatures', () => {
    const good = encodeBatch(sampleBatch(), key);
    expect(codeOf(() => decodeBatch(corrupt(good, 0, 0), keyFor))).toBe('bad_magic');
    expect(codeOf(() => decodeBatch(good.subarray(0, good.length - 5), keyFor))).toBe('truncated');
    expect(codeOf(() => decodeBatch(Buffer.from([1, 2, 3]), keyFor))).toBe('too_short');
    expect(codeOf(() => decodeBatch(good, () => undefined))).toBe('unknown_sender');
    expect(codeOf(() => decodeBatch(good, () => 'revoked'))).toBe('revoked_sender');
    expect(codeOf(() => decodeBatch(good, () => pubOf(otherSeed)))).toBe('bad_signature');
    expect(codeOf(() => decodeBatch(corrupt(good, 20, good[20]! ^ 0xff), keyFor))).toBe('bad_signature');
    expect(codeOf(() => decodeBatch(corrupt(good, good.length - 1, good[good.length - 1]! ^ 1), keyFor))).toBe('bad_signature');
    // signed with another vehicle's key, under this vehicle's id: refused
    expect(codeOf(() => decodeBatch(encodeBatch(sampleBatch(), otherSeed), keyFor))).toBe('bad_signature');
  });

  it('decodeBatchAsync (the signature checked on the thread pool) answers exactly as decodeBatch', async () => {
    const good = encodeBatch(sampleBatch(), key);
    const junk = Buffer.from('not brotli, not msgpack');
    const unsigned = Buffer.from(encodeEnvelope({ kind: KIND_BATCH, senderId: 'veh-001', body: junk, key: otherSeed, compress: false }));
    unsigned[4] = 1; // claims brotli: refused for its signature, never decompressed
    const badBody = encodeEnvelope({ kind: KIND_BATCH, senderId: 'veh-001', body: new Packr({ useRecords: false }).pack({ s: 3, u: 1, q: 0, d: [], t: 'x' }), key, compress: false });
    const cases: Array<[Buffer, (id: string) => KeyLookup]> = [
      [good, keyFor],
      [corrupt(good, 0, 0), keyFor],
      [good.subarray(0, good.length - 5), keyFor],
      [good, () => undefined],
      [good, () => 'revoked'],
      [good, () => pubOf(otherSeed)],
      [corrupt(good, 20, good[20]! ^ 0xff), keyFor],
      [corrupt(good, good.length - 1, good[good.length - 1]! ^ 1), keyFor],
      [encodeBatch(sampleBatch(), otherSeed), keyFor],
      [unsigned, keyFor],
      [badBody, keyFor],
      [good, () => Buffer.alloc(32, 7)], // a raw key that is not this vehicle's
      [good, () => Buffer.alloc(5)], // a malformed raw key: refused, never a crash
    ];
    const outcome = async (f: () => unknown): Promise<string> => {
      try {
        const b = (await f()) as ObservationBatch;
        return `ok ${b.vehicleId} ${b.seq} ${b.observations.length}`;
      } catch (e) {
        if (e instanceof BatchRefusal) return `${e.code} ${e.authenticated} ${e.seq} ${e.message}`;
        return `threw ${(e as Error).message}`;
      }
    };
    const seen: string[] = [];
    for (const [buf, kf] of cases) {
      const sync = await outcome(() => decodeBatch(buf, kf));
      expect(await outcome(() => decodeBatchAsync(buf, kf))).toBe(sync);
      seen.push(sync.split(' ')[0]!);
    }
    expect(seen).toEqual(['ok', 'bad_magic', 'truncated', 'unknown_sender', 'revoked_sender', 'bad_signature', 'bad_signature', 'bad_signature', 'bad_signature', 'bad_signature', 'bad_body', 'bad_signature', 'bad_signature']);
  });

  it('refuses an ack-kind (or any non-batch) envelope before decompressing or parsing it', () => {
    // A body that is neither brotli nor msgpack: were it decompressed or parsed, the code would differ.
    const junk = Buffer.from('not brotli, not msgpack');
    const ackKind = encodeEnvelope({ kind: KIND_ACK, senderId: 'veh-001', body: junk, key, compress: false });
    expect(() => decodeBatch(ackKind, keyFor)).toThrow('expected a batch (kind 1), got kind 2');
    expect(codeOf(() => decodeBatch(ackKind, keyFor))).toBe('bad_kind');
    const compressedFlag = corrupt(ackKind, 4, 1);
    expect(codeOf(() => decodeBatch(compressedFlag, keyFor))).toBe('bad_flags');
    // and a batch whose signature fails is never decompressed either
    const unsigned = Buffer.from(encodeEnvelope({ kind: KIND_BATCH, senderId: 'veh-001', body: junk, key: otherSeed, compress: false }));
    unsigned[4] = 1; // claims brotli
    expect(codeOf(() => decodeBatch(unsigned, keyFor))).toBe('bad_signature');
  });

  it('refuses a well-signed body that breaks the model, naming the field', () => {
    expect(() => decodeBatch(raw({ ...okBody(), t: [{ k: TILE, o: [[0, 9, '', 255, 0, -10, 10, 1, 2, 3, 4]] }] }), keyFor)).toThrow(/lane_divider style code 9 is not one of 0 \(solid\), 1 \(dashed\), 2 \(mixed\)/);
    expect(() => decodeBatch(raw({ ...okBody(), t: [{ k: TILE, o: [[1, 0, '', 255, 0, -10, 10, 1, 2]] }] }), keyFor)).toThrow(/road_boundary needs at least 2 vertices, got 1/);
    expect(() => decodeBatch(raw({ ...okBody(), s: 0 }), keyFor)).toThrow(/batch.seq must be a positive integer <= 9007199254740991, got 0/);
    expect(() => decodeBatch(encodeEnvelope({ kind: KIND_BATCH, senderId: 'veh-001', body: Buffer.from([0xc1, 0xc1, 0xc1]), key, compress: false }), keyFor)).toThrow(CodecError);
    expect(codeOf(() => decodeBatch(raw({ ...okBody(), x: 1 }), keyFor))).toBe('bad_body');
  });

  it('decodes a raw body within every limit (the baseline for the refusals below)', () => {
    const b = decodeBatch(raw(okBody()), keyFor, { nowUnixMs: NOW });
    expect(b.observations).toHaveLength(1);
    expect(b.observations[0]).toMatchObject({ cls: 'traffic_sign', signCode: 'de205', driveId: 'd1', tUnixMs: NOW - 1000 });
  });

  it('refuses each value out of its range, with a stable code and an exact reason', () => {
    const row = (f: Partial<Record<number, unknown>>): unknown[] => {
      const r: unknown[] = [4, -1, 'de205', 255, 0, -1000, 50, 10, 20];
      for (const [i, v] of Object.entries(f)) r[Number(i)] = v;
      return r;
    };
    const cases: Array<[string, Record<string, unknown>, string, RegExp]> = [
      ['seq 2^53', { s: 2 ** 53 }, 'bad_range', /batch.seq must be a positive integer <= 9007199254740991, got 9007199254740992/],
      ['seq 1e21', { s: 1e21 }, 'bad_range', /batch.seq must be a positive integer/],
      ['seq 1.5', { s: 1.5 }, 'bad_range', /batch.seq/],
      ['seq -1', { s: -1 }, 'bad_range', /batch.seq/],
      ['queueDepth -1', { q: -1 }, 'bad_range', /batch.queueDepth/],
      ['created too old', { u: NOW - 31 * 86_400_000 }, 'bad_time', /batch.createdUnixMs \d+ is outside the accepted window/],
      ['created ahead', { u: NOW + 11 * 60_000 }, 'bad_time', /batch.createdUnixMs/],
      ['observed too old', { t: [{ k: TILE, o: [row({ 5: -31 * 86_400_000 })] }] }, 'bad_time', /observed at \d+, outside the accepted window/],
      ['observed ahead', { t: [{ k: TILE, o: [row({ 5: 11 * 60_000 })] }] }, 'bad_time', /observed at/],
      ['poseSigmaCm huge', { t: [{ k: TILE, o: [row({ 6: 100_001 })] }] }, 'bad_range', /poseSigmaCm 100001 outside 0..100000/],
      ['poseSigmaCm negative', { t: [{ k: TILE, o: [row({ 6: -1 })] }] }, 'bad_range', /poseSigmaCm -1/],
      ['score 256', { t: [{ k: TILE, o: [row({ 3: 256 })] }] }, 'bad_range', /score 256 outside 0..255/],
      ['drive index', { t: [{ k: TILE, o: [row({ 4: 1 })] }] }, 'bad_range', /drive index 1 outside the 1 drive ids/],
      ['sign code long', { t: [{ k: TILE, o: [row({ 2: 'x'.repeat(33) })] }] }, 'bad_body', /sign code must be at most 32 printable ASCII characters/],
      ['sign code control char', { t: [{ k: TILE, o: [row({ 2: 'de\u0000205' })] }] }, 'bad_body', /sign code/],
      ['sign code non-ascii', { t: [{ k: TILE, o: [row({ 2: 'dé205' })] }] }, 'bad_body', /sign code/],
      ['coordinate', { t: [{ k: TILE, o: [row({ 7: 200_001 })] }] }, 'bad_range', /more than 200000 cm from the tile centre/],
      ['class code', { t: [{ k: TILE, o: [row({ 0: 6 })] }] }, 'bad_body', /unknown class code 6/],
      ['float field', { t: [{ k: TILE, o: [row({ 6: 1.5 })] }] }, 'bad_body', /field 6 must be an integer, got 1.5/],
      ['drive id long', { d: ['d'.repeat(65)] }, 'bad_body', /batch.driveIds\[0\] must be 1..64 printable ASCII characters/],
      ['drive id space', { d: ['a b'] }, 'bad_body', /batch.driveIds\[0\]/],
      ['drive id repeated', { d: ['d1', 'd1'] }, 'bad_body', /the same id twice/],
      ['too many drive ids', { d: Array.from({ length: 9 }, (_, i) => `d${i}`) }, 'over_limit', /batch has 9 drive ids, the limit is 8/],
      ['tile key leading zero', { t: [{ k: '16/034297/22504', o: [row({})] }] }, 'bad_tile_key', /tile key must be canonical/],
      ['tile key plus', { t: [{ k: '16/+34297/22504', o: [row({})] }] }, 'bad_tile_key', /canonical/],
      ['tile key out of range', { t: [{ k: '16/65536/22504', o: [row({})] }] }, 'bad_tile_key', /tile x must be an integer in \[0, 65535\] at z16, got 65536/],
      ['tile key zoom', { t: [{ k: '15/1/2', o: [row({})] }] }, 'bad_tile_key', /is not at zoom 16/],
      ['tile twice', { t: [{ k: TILE, o: [row({})] }, { k: TILE, o: [row({})] }] }, 'bad_body', /appears twice/],
      ['vertices per observation', { t: [{ k: TILE, o: [[0, 0, '', 255, 0, -1, 10, ...new Array(2002).fill(1)]] }] }, 'over_limit', /1001 vertices, the limit is 1000/],
    ];
    for (const [name, patch, code, reason] of cases) {
      let err: unknown;
      try {
        decodeBatch(raw({ ...okBody(), ...patch }), keyFor, { nowUnixMs: NOW });
      } catch (e) {
        err = e;
      }
      expect(err, name).toBeInstanceOf(CodecError);
      expect((err as CodecError).code, name).toBe(code);
      expect((err as CodecError).message, name).toMatch(reason);
    }
  });

  it('counts before it builds: too many observations or vertices are refused from the counts alone', () => {
    const many = Array.from({ length: 20_001 }, () => [4, -1, '', 1, 0, 0, 0, 0, 0]);
    expect(() => decodeBatch(raw({ ...okBody(), t: [{ k: TILE, o: many }] }), keyFor)).toThrow(/more than 20000 observations/);
    const longRow = [0, 0, '', 255, 0, -1, 10, ...new Array(2 * 1000).fill(1)];
    const heavy = Array.from({ length: 501 }, () => longRow);
    expect(() => decodeBatch(raw({ ...okBody(), t: [{ k: TILE, o: heavy }] }), keyFor)).toThrow('batch has more than 500000 vertices');
    expect(codeOf(() => decodeBatch(raw({ ...okBody(), t: [{ k: TILE, o: heavy }] }), keyFor))).toBe('over_limit');
  });

  it('refuses msgpack extensions: structured-clone references, records, bundled strings, dates', () => {
    const shared = { k: TILE, o: [[4, -1, 'de205', 255, 0, -1000, 50, 10, 20]] };
    const variants: Array<[string, Buffer]> = [
      ['structured clone', new Packr({ structuredClone: true, useRecords: false }).pack({ ...okBody(), t: [shared, shared] })],
      ['records', new Packr({ useRecords: true }).pack(okBody())],
      ['bundled strings', new Packr({ bundleStrings: true, useRecords: false }).pack({ ...okBody(), d: ['x'.repeat(100)] })],
      ['date', new Packr({ useRecords: false }).pack({ ...okBody(), u: new Date(NOW) })],
    ];
    for (const [name, body] of variants) {
      let err: unknown;
      try {
        decodeBatch(encodeEnvelope({ kind: KIND_BATCH, senderId: 'veh-001', body, key }), keyFor, { nowUnixMs: NOW });
      } catch (e) {
        err = e;
      }
      expect((err as CodecError).code, name).toBe('bad_msgpack');
      expect((err as CodecError).message, name).toMatch(/extension type 0x[0-9a-f]{2} at byte \d+/);
    }
  });

  it('refuses to encode what the wire cannot carry', () => {
    const b = sampleBatch();
    expect(() => encodeBatch({ ...b, vehicleId: '__proto__' }, key)).toThrow(/reserved/);
    expect(() => encodeBatch({ ...b, seq: 2 ** 53 }, key)).toThrow(/seq must be a positive safe integer/);
    expect(() => encodeBatch({ ...b, observations: [{ ...b.observations[2]!, signCode: 'x'.repeat(33) }] }, key)).toThrow(/signCode must be at most 32/);
    expect(() => encodeBatch({ ...b, observations: [{ ...b.observations[2]!, tile: '16/034303/22474' }] }, key)).toThrow(/canonical/);
    const nine = Array.from({ length: 9 }, (_, i) => ({ ...b.observations[2]!, driveId: `d${i}` }));
    expect(() => encodeBatch({ ...b, observations: nine }, key)).toThrow(/at most 8 drive ids/);
  });
});

const NOW = 1_790_000_000_000;
const TILE = '16/34303/22474';
const otherSeed = Buffer.alloc(32, 0x55);

function pubOf(seed: Uint8Array) {
  return createPublicKey(privateKeyFromSeed(seed));
}

function okBody(): Record<string, unknown> {
  return { s: 3, u: NOW, q: 0, d: ['d1'], t: [{ k: TILE, o: [[4, -1, 'de205', 255, 0, -1000, 50, 10, 20]] }] };
}

/** A body signed correctly but built by hand, bypassing encodeBatch's checks. */
function raw(body: Record<string, unknown>): Buffer {
  return encodeEnvelope({ kind: KIND_BATCH, senderId: 'veh-001', body: new Packr({ useRecords: false }).pack(body), key });
}

function codeOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    return (e as CodecError).code;
  }
  return 'no error';
}

describe('vehicle status (optional `h`)', () => {
  it('round-trips every field, and a batch without one decodes without one', () => {
    const status = { oldestUnsentAgeS: 93, dropsByReason: { outbox_full: 4, sensor_bad_msgpack: 1 }, modelVersion: '1.0.0', hwProfile: 'x86-64', softwareVersion: '0.1.0' };
    expect(decodeBatch(encodeBatch({ ...sampleBatch(), status }, key), keyFor).status).toEqual(status);
    expect(decodeBatch(encodeBatch(sampleBatch(), key), keyFor)).not.toHaveProperty('status');
    expect(decodeBatch(raw({ ...okBody(), h: {} }), keyFor).status).toEqual({});
  });

  it('refuses a status the model does not allow, with a stable code', () => {
    const reasons = Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`r${i}`, 1]));
    expect(codeOf(() => decodeBatch(raw({ ...okBody(), h: { z: 1 } }), keyFor))).toBe('bad_body');
    expect(codeOf(() => decodeBatch(raw({ ...okBody(), h: [] }), keyFor))).toBe('bad_body');
    expect(codeOf(() => decodeBatch(raw({ ...okBody(), h: { a: -1 } }), keyFor))).toBe('bad_range');
    expect(codeOf(() => decodeBatch(raw({ ...okBody(), h: { x: { outbox_full: 1.5 } } }), keyFor))).toBe('bad_range');
    expect(codeOf(() => decodeBatch(raw({ ...okBody(), h: { x: reasons } }), keyFor))).toBe('over_limit');
    expect(codeOf(() => decodeBatch(raw({ ...okBody(), h: { m: 'v1\u001b[2J' } }), keyFor))).toBe('bad_body');
    expect(codeOf(() => decodeBatch(raw({ ...okBody(), h: { x: { 'has space': 1 } } }), keyFor))).toBe('bad_body');
    expect(() => encodeBatch({ ...sampleBatch(), status: { hwProfile: 'x'.repeat(65) } }, key)).toThrow(/hwProfile must be 1..64 printable ASCII/);
  });
});
