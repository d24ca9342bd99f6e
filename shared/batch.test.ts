import { describe, expect, it } from 'vitest';
import { decodeAck, decodeBatch, encodeAck, encodeBatch, type ObservationBatch } from './batch.ts';
import { CodecError, ENVELOPE_VERSION, encodeEnvelope, KIND_BATCH } from './envelope.ts';
import { Packr } from 'msgpackr';

const key = Buffer.from('0123456789abcdef0123456789abcdef');
const keyFor = (id: string) => (id === 'veh-001' ? key : undefined);

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

  it('refuses another version with an exact message', () => {
    const buf = corrupt(encodeBatch(sampleBatch(), key), 2, 2);
    expect(() => decodeBatch(buf, keyFor)).toThrow(`got v2 data, expected v${ENVELOPE_VERSION}`);
  });

  it('refuses bad magic, truncation, unknown vehicles and forged signatures', () => {
    const good = encodeBatch(sampleBatch(), key);
    const codeOf = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return (e as CodecError).code;
      }
      return 'no error';
    };
    expect(codeOf(() => decodeBatch(corrupt(good, 0, 0), keyFor))).toBe('bad_magic');
    expect(codeOf(() => decodeBatch(good.subarray(0, good.length - 5), keyFor))).toBe('truncated');
    expect(codeOf(() => decodeBatch(Buffer.from([1, 2, 3]), keyFor))).toBe('too_short');
    expect(codeOf(() => decodeBatch(good, () => undefined))).toBe('unknown_sender');
    expect(codeOf(() => decodeBatch(good, () => Buffer.from('another key of 32 bytes.........')))).toBe('bad_mac');
    expect(codeOf(() => decodeBatch(corrupt(good, 20, good[20]! ^ 0xff), keyFor))).toBe('bad_mac');
  });

  it('refuses a well-signed body that breaks the model, naming the field', () => {
    const packr = new Packr({ useRecords: false });
    const body = packr.pack({ s: 3, u: 1, q: 0, d: ['d1'], t: [{ k: '16/1/2', o: [[0, 9, '', 255, 0, 0, 10, 1, 2, 3, 4]] }] });
    const buf = encodeEnvelope({ kind: KIND_BATCH, senderId: 'veh-001', body, key });
    expect(() => decodeBatch(buf, keyFor)).toThrow(/lane_divider style code 9/);
    const one = packr.pack({ s: 3, u: 1, q: 0, d: ['d1'], t: [{ k: '16/1/2', o: [[1, 0, '', 255, 0, 0, 10, 1, 2]] }] });
    expect(() => decodeBatch(encodeEnvelope({ kind: KIND_BATCH, senderId: 'veh-001', body: one, key }), keyFor)).toThrow(/road_boundary needs at least 2 vertices, got 1/);
    const seq0 = packr.pack({ s: 0, u: 1, q: 0, d: [], t: [] });
    expect(() => decodeBatch(encodeEnvelope({ kind: KIND_BATCH, senderId: 'veh-001', body: seq0, key }), keyFor)).toThrow(/batch.seq must be a positive integer, got 0/);
    const notMsgpack = Buffer.from([0xc1, 0xc1, 0xc1]);
    expect(() => decodeBatch(encodeEnvelope({ kind: KIND_BATCH, senderId: 'veh-001', body: notMsgpack, key, compress: false }), keyFor)).toThrow(CodecError);
  });

  it('round-trips acks', () => {
    expect(decodeAck(encodeAck({ seq: 5, status: 'stored' }))).toEqual({ seq: 5, status: 'stored' });
    expect(decodeAck(encodeAck({ seq: null, status: 'rejected', reason: 'bad_magic: x' }))).toEqual({ seq: null, status: 'rejected', reason: 'bad_magic: x' });
  });
});
