import { describe, expect, it } from 'vitest';
import { Packr, pack } from 'msgpackr';
import { checkPlainMsgpack, MsgpackRefusal, unpackPlain } from './msgpack-safe.ts';

const LIMITS = { maxItems: 1000, maxDepth: 4 };

describe('plain msgpack only', () => {
  it('accepts plain values and unpacks them', () => {
    const v = { a: [1, -1, 300, -70000, 2 ** 40, 1.5, 'x', null, true, false, Buffer.from([1, 2])], b: {}, c: [] };
    expect(unpackPlain(pack(v), LIMITS)).toEqual(v);
  });

  it('refuses structured-clone back-references and records without expanding them', () => {
    const shared = { big: 'x'.repeat(10) };
    const clone = new Packr({ structuredClone: true, useRecords: false }).pack({ a: shared, b: shared });
    expect(() => unpackPlain(clone, LIMITS)).toThrow(/extension type 0x(69|70)/);
    const records = new Packr({ useRecords: true }).pack([{ a: 1 }, { a: 2 }]);
    expect(() => unpackPlain(records, LIMITS)).toThrow(/extension type 0x72/);
    // A hand-made 0x70 pointer (fixext 4, type 0x70), as a structured-clone stream would carry it.
    expect(() => checkPlainMsgpack(Buffer.from([0x92, 0x01, 0xd6, 0x70, 0, 0, 0, 0]), LIMITS)).toThrow('extension type 0x70 at byte 2');
    expect(() => checkPlainMsgpack(Buffer.from([0xc7, 0x01, 0x62, 0x00]), LIMITS)).toThrow('extension type 0x62 at byte 0');
  });

  it('refuses lying lengths, deep nesting, too many values, non-string keys and trailing bytes', () => {
    expect(() => checkPlainMsgpack(Buffer.from([0xdd, 0xff, 0xff, 0xff, 0xff, 0x01]), LIMITS)).toThrow(/announces 4294967295 entries but only 1 bytes follow/);
    expect(() => checkPlainMsgpack(pack([[[[[1]]]]]), LIMITS)).toThrow(/nesting deeper than 4/);
    expect(() => checkPlainMsgpack(pack(new Array(1000).fill(1)), LIMITS)).toThrow(/more than 1000 values/);
    expect(() => checkPlainMsgpack(Buffer.from([0x81, 0x01, 0x02]), LIMITS)).toThrow(/map key at byte 1 is not a string/);
    expect(() => checkPlainMsgpack(Buffer.from([0x01, 0x02]), LIMITS)).toThrow(/1 bytes after the end/);
    expect(() => checkPlainMsgpack(Buffer.from([0xc1]), LIMITS)).toThrow(/type byte 0xc1 at byte 0 is not msgpack/);
    expect(() => checkPlainMsgpack(Buffer.from([0xd9, 0x05, 0x61]), LIMITS)).toThrow(MsgpackRefusal);
    expect(() => checkPlainMsgpack(Buffer.alloc(0), LIMITS)).toThrow(MsgpackRefusal);
  });

  it('counts every value of the long forms exactly, and checks keys at every depth', () => {
    // A map16 of 16 entries: str8/16, bin8/16, ints of every width, floats, an array16 and a map16.
    const long: Record<string, unknown> = { s8: 'x'.repeat(40), s16: 'y'.repeat(300), b8: Buffer.alloc(40), b16: Buffer.alloc(300) };
    const ints = [200, 60_000, 4_000_000_000, 2 ** 40, -100, -30_000, -2_000_000_000, -(2 ** 40), 1.5, 0.1];
    ints.forEach((v, i) => (long[`n${i}`] = v));
    long.a16 = new Array(20).fill(7);
    long.m16 = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`k${i}`, i]));
    const bytes = Buffer.from(pack(long));
    expect(bytes[0]).toBe(0xde);
    const items = 1 + 2 * 16 + 20 + 2 * 20;
    expect(() => checkPlainMsgpack(bytes, { maxItems: items, maxDepth: 2 })).not.toThrow();
    expect(() => checkPlainMsgpack(bytes, { maxItems: items - 1, maxDepth: 2 })).toThrow(`more than ${items - 1} values`);
    expect(() => checkPlainMsgpack(bytes, { maxItems: items, maxDepth: 1 })).toThrow(/nesting deeper than 1/);
    expect(() => checkPlainMsgpack(Buffer.from([0xca, 0x3f, 0xc0, 0, 0]), LIMITS)).not.toThrow(); // float32
    // A map's keys sit at every other value, also after a nested container and in an inner map.
    expect(() => checkPlainMsgpack(Buffer.from([0x82, 0xa1, 0x61, 0x91, 0x01, 0xa1, 0x62, 0x02]), LIMITS)).not.toThrow();
    expect(() => checkPlainMsgpack(Buffer.from([0x82, 0xa1, 0x61, 0x91, 0x01, 0x05, 0x02]), LIMITS)).toThrow('map key at byte 5 is not a string');
    expect(() => checkPlainMsgpack(Buffer.from([0x91, 0x81, 0xa1, 0x61, 0x81, 0x07, 0x01]), LIMITS)).toThrow('map key at byte 5 is not a string');
    expect(() => checkPlainMsgpack(Buffer.from([0xde, 0x00, 0x01, 0xa1, 0x61, 0xc0]), LIMITS)).not.toThrow(); // map16
    expect(() => checkPlainMsgpack(Buffer.from([0xdc, 0x00, 0x02, 0x01]), LIMITS)).toThrow('array at byte 0 announces 2 entries but only 1 bytes follow');
    expect(() => checkPlainMsgpack(Buffer.from([0xda, 0x00]), LIMITS)).toThrow('length at byte 1 runs past the end of the 2-byte body');
    expect(() => checkPlainMsgpack(Buffer.from([0xc5, 0x00, 0x03, 0x01]), LIMITS)).toThrow('binary at byte 3 runs past the end of the 4-byte body');
  });

  it('keeps __proto__ keys harmless', () => {
    const bytes = Buffer.concat([Buffer.from([0x81, 0xa9]), Buffer.from('__proto__'), Buffer.from([0x81, 0xa1, 0x78, 0x01])]);
    const v = unpackPlain(bytes, LIMITS) as Record<string, unknown>;
    expect(Object.getPrototypeOf(v)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).x).toBeUndefined();
  });
});
