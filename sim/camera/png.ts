/** A minimal PNG encoder (RGB8, no interlace) on node:zlib, for sample images. */
import { deflateSync } from 'node:zlib';

export function encodePngRgb(rgb: Uint8Array, widthPx: number, heightPx: number): Buffer {
  if (rgb.length !== widthPx * heightPx * 3) throw new RangeError(`encodePngRgb: ${widthPx}x${heightPx} needs ${widthPx * heightPx * 3} bytes, got ${rgb.length}`);
  const raw = Buffer.alloc((widthPx * 3 + 1) * heightPx);
  for (let y = 0; y < heightPx; y++) {
    raw[y * (widthPx * 3 + 1)] = 0;
    raw.set(rgb.subarray(y * widthPx * 3, (y + 1) * widthPx * 3), y * (widthPx * 3 + 1) + 1);
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(widthPx, 0);
  ihdr.writeUInt32BE(heightPx, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // colour type RGB
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}

function chunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length, 0);
  const td = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(td), 0);
  return Buffer.concat([len, td, crc]);
}

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function crc32(buf: Buffer): number {
  let c = 0xffffffff;
  for (let i = 0; i < buf.length; i++) c = CRC_TABLE[(c ^ buf[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
