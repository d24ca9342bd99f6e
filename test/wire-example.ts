/**
 * The worked example of docs/WIRE.md, generated: a batch of two observations signed by an example
 * vehicle key, and the ingest's signed ack for it. Both keys are fixed seeds (Ed25519 signatures
 * are deterministic) and the batch body is not compressed, so the bytes are the same on every run.
 * `npx tsx test/wire-example.ts` prints the section; test/wire-doc.test.ts checks the doc holds it.
 */
import { createPublicKey } from 'node:crypto';
import { Unpackr } from 'msgpackr';
import {
  ENVELOPE_HEADER_BYTES,
  SIGNATURE_BYTES,
  encodeAck,
  encodeBatch,
  privateKeyFromSeed,
  rawPublicKey,
  sha256,
  type ObservationBatch,
} from '../shared/index.ts';

export const EXAMPLE_VEHICLE_SEED_HEX = Buffer.from(Array.from({ length: 32 }, (_, i) => i)).toString('hex');
export const EXAMPLE_INGEST_SEED_HEX = Buffer.from(Array.from({ length: 32 }, (_, i) => 0x20 + i)).toString('hex');

export const EXAMPLE_BATCH: ObservationBatch = {
  vehicleId: 'veh-001',
  seq: 1,
  createdUnixMs: 1_790_000_000_000,
  queueDepth: 0,
  observations: [
    { tile: '16/34303/22474', driveId: 'd7', tUnixMs: 1_789_999_999_500, cls: 'traffic_sign', signCode: 'de205', score: 1, poseSigmaCm: 50, pointsCm: [[120, -340]] },
    { tile: '16/34303/22474', driveId: 'd7', tUnixMs: 1_789_999_999_750, cls: 'lane_divider', style: 'dashed', score: 0.8, poseSigmaCm: 50, pointsCm: [[-1000, 200], [500, 210]] },
  ],
};

export interface WireExample {
  vehiclePublicKeyHex: string;
  ingestPublicKeyHex: string;
  batch: Buffer;
  ack: Buffer;
}

export function wireExample(): WireExample {
  const vehicle = privateKeyFromSeed(Buffer.from(EXAMPLE_VEHICLE_SEED_HEX, 'hex'));
  const ingest = privateKeyFromSeed(Buffer.from(EXAMPLE_INGEST_SEED_HEX, 'hex'));
  const batch = encodeBatch(EXAMPLE_BATCH, vehicle, { compress: false });
  const ack = encodeAck({ seq: 1, status: 'stored', batchSha256: sha256(batch) }, ingest);
  return {
    vehiclePublicKeyHex: rawPublicKey(createPublicKey(vehicle)).toString('hex'),
    ingestPublicKeyHex: rawPublicKey(createPublicKey(ingest)).toString('hex'),
    batch,
    ack,
  };
}

/** The markdown of the example section (between the markers in docs/WIRE.md). */
export function renderWireExample(): string {
  const x = wireExample();
  const unpack = (b: Buffer): unknown => new Unpackr({ useRecords: false, mapsAsObjects: true, int64AsType: 'number' }).unpack(b);
  const out: string[] = [];
  out.push(`Vehicle \`veh-001\`, private key seed \`${EXAMPLE_VEHICLE_SEED_HEX}\`, public key \`${x.vehiclePublicKeyHex}\`.`);
  out.push(`Ingest ack key seed \`${EXAMPLE_INGEST_SEED_HEX}\`, public key \`${x.ingestPublicKeyHex}\`.`, '');
  out.push(`**Batch envelope** (${x.batch.length} bytes, body not compressed so it can be read here):`, '');
  out.push(...fieldTable(x.batch, 'batch'));
  const bBody = bodyOf(x.batch);
  out.push('', 'The body, decoded (msgpackr writes integers beyond 32 bits as float 64, as `u` here):', '', '```json', JSON.stringify(unpack(bBody)), '```', '');
  out.push(`sha256 of the whole envelope (what the ack names): \`${sha256(x.batch).toString('hex')}\``, '');
  out.push(`**Ack envelope** (${x.ack.length} bytes):`, '');
  out.push(...fieldTable(x.ack, 'ack'));
  const a = unpack(bodyOf(x.ack)) as Record<string, unknown>;
  out.push('', 'The body, decoded (`h` is msgpack bin 8, shown as hex):', '', '```json', JSON.stringify({ ...a, h: Buffer.from(a.h as Uint8Array).toString('hex') }), '```', '');
  out.push('Whole envelopes, hex (what test/wire-doc.test.ts decodes):', '', '```text', `batch ${x.batch.toString('hex')}`, `ack ${x.ack.toString('hex')}`, '```');
  return out.join('\n');
}

function bodyOf(env: Buffer): Buffer {
  const l = env[5]!;
  return env.subarray(ENVELOPE_HEADER_BYTES + l, ENVELOPE_HEADER_BYTES + l + env.readUInt32BE(6 + l));
}

function fieldTable(env: Buffer, what: 'batch' | 'ack'): string[] {
  const l = env[5]!;
  const bodyLen = env.readUInt32BE(6 + l);
  const rows: Array<[number, number, string]> = [
    [0, 2, 'magic "FM"'],
    [2, 1, `version ${env[2]}`],
    [3, 1, `kind ${env[3]} (${what})`],
    [4, 1, `flags ${env[4]} (${env[4] === 1 ? 'brotli' : 'not compressed'})`],
    [5, 1, `sender id length ${l}`],
    ...(l > 0 ? [[6, l, `sender id "${env.subarray(6, 6 + l).toString('latin1')}"`] as [number, number, string]] : []),
    [6 + l, 4, `body length ${bodyLen} (big-endian)`],
    [ENVELOPE_HEADER_BYTES + l, bodyLen, 'body (msgpack)'],
    [ENVELOPE_HEADER_BYTES + l + bodyLen, SIGNATURE_BYTES, `Ed25519 signature over bytes [0, ${ENVELOPE_HEADER_BYTES + l + bodyLen})`],
  ];
  return ['| offset | size | bytes (hex) | field |', '| ---: | ---: | --- | --- |', ...rows.map(([o, n, f]) => `| ${o} | ${n} | \`${env.subarray(o, o + n).toString('hex')}\` | ${f} |`)];
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(renderWireExample());
