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

/**
 * Walk the bytes without building anything; throws MsgpackRefusal naming the offset. The walk
 * keeps its state in locals (no closures over the position) and its open containers in two
 * arrays: it runs once per uplink batch on the ingest's main thread (about 10 ns a value).
 */
export function checkPlainMsgpack(b: Uint8Array, limits: MsgpackLimits): void {
  const n = b.length;
  const maxItems = limits.maxItems;
  const maxDepth = limits.maxDepth;
  // Open containers, innermost last: values still to read, and whether it is a map (keys where
  // the values left are even: a map's count is even).
  const left: number[] = [];
  const isMap: boolean[] = [];
  let depth = 0;
  let pos = 0;
  let items = 0;
  do {
    const at = pos;
    if (++items > maxItems) throw new MsgpackRefusal(`more than ${maxItems} values`);
    let isKey = false;
    if (depth > 0) {
      const l = left[depth - 1]!;
      isKey = isMap[depth - 1]! && l % 2 === 0;
      left[depth - 1] = l - 1;
    }
    if (pos >= n) throw pastEnd('value', pos, n);
    const t = b[pos++]!;
    if (isKey && !((t >= 0xa0 && t <= 0xbf) || t === 0xd9 || t === 0xda || t === 0xdb)) throw new MsgpackRefusal(`map key at byte ${at} is not a string (type byte 0x${t.toString(16)})`);
    let count = -1; // entries of a container opened here
    let map = false;
    let len = -1; // bytes of a string/binary/number to skip
    let what = '';
    if (t <= 0x7f || t >= 0xe0 || t === 0xc0 || t === 0xc2 || t === 0xc3) {
      // fixint, negative fixint, nil, false, true
    } else if (t <= 0x8f) {
      count = t - 0x80;
      map = true;
    } else if (t <= 0x9f) count = t - 0x90;
    else if (t <= 0xbf) {
      len = t - 0xa0;
      what = 'string';
    } else {
      switch (t) {
        case 0xcc: case 0xd0: len = 1; what = 'integer'; break;
        case 0xcd: case 0xd1: len = 2; what = 'integer'; break;
        case 0xce: case 0xd2: case 0xca: len = 4; what = 'number'; break;
        case 0xcf: case 0xd3: case 0xcb: len = 8; what = 'number'; break;
        case 0xd9: case 0xc4: case 0xda: case 0xc5: case 0xdb: case 0xc6: {
          const k = t === 0xd9 || t === 0xc4 ? 1 : t === 0xda || t === 0xc5 ? 2 : 4;
          len = readUint(b, pos, k, n);
          pos += k;
          what = t >= 0xd9 ? 'string' : 'binary';
          break;
        }
        case 0xdc: case 0xde: count = readUint(b, pos, 2, n); pos += 2; map = t === 0xde; break;
        case 0xdd: case 0xdf: count = readUint(b, pos, 4, n); pos += 4; map = t === 0xdf; break;
        case 0xc7: case 0xc8: case 0xc9: case 0xd4: case 0xd5: case 0xd6: case 0xd7: case 0xd8: {
          const extType = t >= 0xd4 ? b[pos] : b[pos + (t === 0xc7 ? 1 : t === 0xc8 ? 2 : 4)];
          throw new MsgpackRefusal(`extension type ${extType === undefined ? '?' : `0x${extType.toString(16).padStart(2, '0')}`} at byte ${at}: extensions (records, structured clones, bundled strings, dates...) are not part of the uplink format`);
        }
        default:
          throw new MsgpackRefusal(`type byte 0x${t.toString(16)} at byte ${at} is not msgpack`);
      }
    }
    if (len >= 0) {
      if (pos + len > n) throw pastEnd(what, pos, n);
      pos += len;
    } else if (count >= 0) {
      // Every element takes at least one byte: a count larger than what is left is a lie.
      const values = map ? count * 2 : count;
      if (values > n - pos) throw new MsgpackRefusal(`${map ? 'map' : 'array'} at byte ${at} announces ${count} entries but only ${n - pos} bytes follow`);
      if (depth + 1 > maxDepth) throw new MsgpackRefusal(`nesting deeper than ${maxDepth} at byte ${at}`);
      if (values > 0) {
        left[depth] = values;
        isMap[depth] = map;
        depth++;
      }
    }
    while (depth > 0 && left[depth - 1] === 0) depth--;
  } while (depth > 0);
  if (pos !== n) throw new MsgpackRefusal(`${n - pos} bytes after the end of the msgpack value`);
}

function pastEnd(what: string, pos: number, n: number): MsgpackRefusal {
  return new MsgpackRefusal(`${what} at byte ${pos} runs past the end of the ${n}-byte body`);
}

/** Big-endian unsigned integer of `bytes` bytes at `pos` (a length or count). */
function readUint(b: Uint8Array, pos: number, bytes: number, n: number): number {
  if (pos + bytes > n) throw pastEnd('length', pos, n);
  let v = 0;
  for (let i = 0; i < bytes; i++) v = v * 256 + b[pos + i]!;
  return v;
}
