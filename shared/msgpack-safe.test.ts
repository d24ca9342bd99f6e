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

  it('keeps __proto__ keys harmless', () => {
    const bytes = Buffer.concat([Buffer.from([0x81, 0xa9]), Buffer.from('__proto__'), Buffer.from([0x81, 0xa1, 0x78, 0x01])]);
    const v = unpackPlain(bytes, LIMITS) as Record<string, unknown>;
    expect(Object.getPrototypeOf(v)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).x).toBeUndefined();
  });
});
