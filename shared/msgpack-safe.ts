/**
 * Safe msgpack decoding of uplink bodies. msgpackr understands more than plain msgpack whatever
 * its options say (record definitions 0x72, structured-clone back-references 0x70, bundled
 * strings 0x62, Sets, RegExps, typed arrays...), so a body is first walked byte by byte here and
 * refused unless it holds only plain msgpack: nil, booleans, integers, floats, strings, binary,
 * arrays and maps with string keys, no extension types at all, within an item and a depth
 * budget, with no trailing bytes. Only then msgpackr builds it (with every extra turned off).
 */
import { Unpackr } from 'msgpackr';

export interface MsgpackLimits {
  /** Most values (every scalar, array, map, key) in one body. */
  maxItems: number;
  /** Deepest nesting of arrays/maps (the top level is depth 1). */
  maxDepth: number;
}

/** Why a body is not acceptable msgpack; the caller turns it into a CodecError. */
export class MsgpackRefusal extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MsgpackRefusal';
  }
}

const unpackr = new Unpackr({
  useRecords: false,
  structuredClone: false,
  moreTypes: false,
  bundleStrings: false,
  mapsAsObjects: true,
  int64AsType: 'number',
});

/** Check `bytes` (checkPlainMsgpack) and unpack them. Throws MsgpackRefusal. */
export function unpackPlain(bytes: Uint8Array, limits: MsgpackLimits): unknown {
  checkPlainMsgpack(bytes, limits);
  try {
    return unpackr.unpack(bytes);
  } catch (e) {
    throw new MsgpackRefusal(`not valid msgpack: ${(e as Error).message}`);
  }
}

/** Walk the bytes without building anything; throws MsgpackRefusal naming the offset. */
export function checkPlainMsgpack(b: Uint8Array, limits: MsgpackLimits): void {
  const n = b.length;
  let pos = 0;
  let items = 0;
  const need = (k: number, what: string): void => {
    if (pos + k > n) throw new MsgpackRefusal(`${what} at byte ${pos} runs past the end of the ${n}-byte body`);
  };
  const u8 = (): number => {
    need(1, 'value');
    return b[pos++]!;
  };
  const uint = (bytes: number, what: string): number => {
    need(bytes, what);
    let v = 0;
    for (let i = 0; i < bytes; i++) v = v * 256 + b[pos++]!;
    return v;
  };
  // Open containers, innermost last: values still to read, and whether it is a map (keys at even indexes).
  const stack: Array<{ left: number; total: number; isMap: boolean }> = [];
  const open = (count: number, isMap: boolean, at: number): void => {
    // Every element takes at least one byte: a count larger than what is left is a lie.
    const values = isMap ? count * 2 : count;
    if (values > n - pos) throw new MsgpackRefusal(`${isMap ? 'map' : 'array'} at byte ${at} announces ${count} entries but only ${n - pos} bytes follow`);
    if (stack.length + 1 > limits.maxDepth) throw new MsgpackRefusal(`nesting deeper than ${limits.maxDepth} at byte ${at}`);
    if (values > 0) stack.push({ left: values, total: values, isMap });
  };
  const skip = (len: number, what: string): void => {
    need(len, what);
    pos += len;
  };
  do {
    const at = pos;
    if (++items > limits.maxItems) throw new MsgpackRefusal(`more than ${limits.maxItems} values`);
    const top = stack[stack.length - 1];
    const isKey = top !== undefined && top.isMap && (top.total - top.left) % 2 === 0;
    if (top) top.left--;
    const t = u8();
    const isStr = (t >= 0xa0 && t <= 0xbf) || t === 0xd9 || t === 0xda || t === 0xdb;
    if (isKey && !isStr) throw new MsgpackRefusal(`map key at byte ${at} is not a string (type byte 0x${t.toString(16)})`);
    if (t <= 0x7f || t >= 0xe0 || t === 0xc0 || t === 0xc2 || t === 0xc3) {
      // fixint, negative fixint, nil, false, true
    } else if (t >= 0x80 && t <= 0x8f) open(t - 0x80, true, at);
    else if (t >= 0x90 && t <= 0x9f) open(t - 0x90, false, at);
    else if (t >= 0xa0 && t <= 0xbf) skip(t - 0xa0, 'string');
    else {
      switch (t) {
        case 0xcc: case 0xd0: skip(1, 'integer'); break;
        case 0xcd: case 0xd1: skip(2, 'integer'); break;
        case 0xce: case 0xd2: case 0xca: skip(4, 'number'); break;
        case 0xcf: case 0xd3: case 0xcb: skip(8, 'number'); break;
        case 0xd9: case 0xc4: skip(uint(1, 'length'), t === 0xd9 ? 'string' : 'binary'); break;
        case 0xda: case 0xc5: skip(uint(2, 'length'), t === 0xda ? 'string' : 'binary'); break;
        case 0xdb: case 0xc6: skip(uint(4, 'length'), t === 0xdb ? 'string' : 'binary'); break;
        case 0xdc: open(uint(2, 'length'), false, at); break;
        case 0xdd: open(uint(4, 'length'), false, at); break;
        case 0xde: open(uint(2, 'length'), true, at); break;
        case 0xdf: open(uint(4, 'length'), true, at); break;
        case 0xc7: case 0xc8: case 0xc9: case 0xd4: case 0xd5: case 0xd6: case 0xd7: case 0xd8: {
          const extType = t >= 0xd4 ? b[pos] : b[pos + (t === 0xc7 ? 1 : t === 0xc8 ? 2 : 4)];
          throw new MsgpackRefusal(`extension type ${extType === undefined ? '?' : `0x${extType.toString(16).padStart(2, '0')}`} at byte ${at}: extensions (records, structured clones, bundled strings, dates...) are not part of the uplink format`);
        }
        default:
          throw new MsgpackRefusal(`type byte 0x${t.toString(16)} at byte ${at} is not msgpack`);
      }
    }
    while (stack.length > 0 && stack[stack.length - 1]!.left === 0) stack.pop();
  } while (stack.length > 0);
  if (pos !== n) throw new MsgpackRefusal(`${n - pos} bytes after the end of the msgpack value`);
}
