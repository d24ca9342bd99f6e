import { createPublicKey } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { decodeAck, encodeAck, encodeAckAsync, sha256 } from './ack.ts';
import { CodecError, KIND_ACK, encodeEnvelope } from './envelope.ts';
import { privateKeyFromSeed, rawPublicKey } from './signing.ts';
import { Packr } from 'msgpackr';

const ingestSeed = Buffer.alloc(32, 0xac);
const ingestPublic = createPublicKey(privateKeyFromSeed(ingestSeed));
const h = sha256(Buffer.from('the batch envelope'));

const codeOf = (f: () => unknown): string => {
  try {
    f();
  } catch (e) {
    return (e as CodecError).code;
  }
  return 'no error';
};

describe('signed acks', () => {
  it('round-trip with the pinned ingest key, naming seq and the batch sha256', () => {
    expect(decodeAck(encodeAck({ seq: 5, status: 'stored', batchSha256: h }, ingestSeed), ingestPublic)).toEqual({ seq: 5, status: 'stored', batchSha256: h });
    expect(decodeAck(encodeAck({ seq: null, status: 'rejected', reason: 'bad_magic: x', batchSha256: h }, ingestSeed), ingestPublic)).toEqual({ seq: null, status: 'rejected', reason: 'bad_magic: x', batchSha256: h });
    // the raw 32-byte public key works as well as a KeyObject
    expect(decodeAck(encodeAck({ seq: 1, status: 'duplicate', batchSha256: h }, ingestSeed), rawPublicKey(ingestPublic)).status).toBe('duplicate');
  });

  it('encodeAckAsync (signed on the thread pool) writes the same bytes as encodeAck', async () => {
    for (const ack of [{ seq: 5, status: 'stored' as const, batchSha256: h }, { seq: null, status: 'rejected' as const, reason: 'bad_magic: x', batchSha256: h }]) {
      const a = await encodeAckAsync(ack, ingestSeed);
      expect(a.equals(encodeAck(ack, ingestSeed))).toBe(true);
      expect(decodeAck(a, ingestPublic)).toEqual(ack);
    }
  });

  it('refuses an ack signed with another key, or altered after signing', () => {
    const forged = encodeAck({ seq: 5, status: 'stored', batchSha256: h }, Buffer.alloc(32, 0x66));
    expect(() => decodeAck(forged, ingestPublic)).toThrow('signature does not match the pinned ingest ack key');
    const good = encodeAck({ seq: 5, status: 'stored', batchSha256: h }, ingestSeed);
    const altered = Buffer.from(good);
    altered[altered.length - 70] = altered[altered.length - 70]! ^ 1; // inside the body
    expect(codeOf(() => decodeAck(altered, ingestPublic))).toBe('bad_signature');
    const unsigned = Buffer.from(good);
    unsigned.fill(0, unsigned.length - 64);
    expect(codeOf(() => decodeAck(unsigned, ingestPublic))).toBe('bad_signature');
  });

  it('refuses well-signed acks that break the format', () => {
    const signed = (body: Record<string, unknown>): Buffer => encodeEnvelope({ kind: KIND_ACK, senderId: '', body: new Packr({ useRecords: false }).pack(body), key: ingestSeed });
    expect(() => decodeAck(signed({ s: 5, st: 9, h }), ingestPublic)).toThrow(/ack.status must be 1 \(stored\), 2 \(duplicate\) or 3 \(rejected\), got 9/);
    expect(() => decodeAck(signed({ s: 5, st: 1, h: h.subarray(0, 31) }), ingestPublic)).toThrow(/ack.batchSha256 must be 32 bytes/);
    expect(() => decodeAck(signed({ s: null, st: 1, h }), ingestPublic)).toThrow(/a stored ack must name the seq/);
    expect(() => decodeAck(signed({ s: 2 ** 53, st: 1, h }), ingestPublic)).toThrow(/ack.seq must be a positive integer/);
    expect(codeOf(() => decodeAck(signed({ s: 5, st: 1, h, x: 1 }), ingestPublic))).toBe('bad_body');
    expect(codeOf(() => decodeAck(encodeEnvelope({ kind: KIND_ACK, senderId: 'someone', body: Buffer.from([0x80]), key: ingestSeed }), ingestPublic))).toBe('unknown_sender');
  });
});
