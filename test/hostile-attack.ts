/**
 * The hostile-message attack on a real ingest, shared by test/hostile.test.ts (what is refused,
 * what is lost, memory) and sim/bench/hostile.bench.ts (how long the honest vehicle waits):
 * 10,000-odd malformed and hostile messages from an insider holding a registered vehicle's keys,
 * while an honest vehicle uploads stop-and-wait throughout.
 *
 * The messages: random bytes, truncations, bit flips, wrong magic / version / kind / flags,
 * unsigned ack-kind messages, bodies with msgpack extensions (records, structured-clone
 * back-references), arrays that claim billions of elements, NaN and out-of-range numbers (seq
 * above 2^53, 1e21, times of 0 and 95 years ahead, pose sigma 1e12), 100 kB sign codes,
 * non-canonical tile keys, too many drive ids, another vehicle's id, prototype-named senders, a
 * seq reused with other contents, brotli bombs that inflate past the body limit, and at the end
 * one message above the size limit.
 */
import { readFileSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import { brotliCompressSync } from 'node:zlib';
import { Packr } from 'msgpackr';
import * as zmq from 'zeromq';
import { MAX_ENVELOPE_BYTES, CODEC_ERROR_CODES, decodeAck, decodeBatch, encodeBatch, encodeEnvelope, ENVELOPE_HEADER_BYTES, ENVELOPE_MAGIC, ENVELOPE_VERSION, KIND_ACK, KIND_BATCH, privateKeyFromSeed, readPublicKeyFile, signEd25519, type Ack, type ObservationBatch } from '../shared/index.ts';
import { Rng } from '../sim/rng.ts';
import { ACK_PUBLIC_KEY_FILE, KEYS, curveClientOptions, startIngest, tempDir, writeKeys } from './helpers.ts';


export const ackKey = readPublicKeyFile(ACK_PUBLIC_KEY_FILE);
const attackerKey = privateKeyFromSeed(Buffer.from(KEYS['veh-2'], 'hex'));
const honestKey = privateKeyFromSeed(Buffer.from(KEYS['veh-1'], 'hex'));
const plain = new Packr({ useRecords: false, mapsAsObjects: true });
const withRecords = new Packr({ useRecords: true, structuredClone: true });
const T0 = Date.now() - 60_000;

function batch(vehicleId: string, seq: number, over: Partial<ObservationBatch> = {}): ObservationBatch {
  return {
    vehicleId,
    seq,
    createdUnixMs: T0,
    queueDepth: 0,
    observations: [{ tile: '16/34297/22504', driveId: `${vehicleId}-d1`, tUnixMs: T0 - 500, cls: 'traffic_sign', signCode: `s${seq}`, score: 1, poseSigmaCm: 25, pointsCm: [[100, -50]] }],
    ...over,
  };
}

/** A batch body as the wire spec lays it out (docs/WIRE.md), with `patch` applied, signed by the attacker. */
function signedBody(patch: (b: Record<string, unknown>) => void, packr: Packr = plain, senderId = 'veh-2'): Buffer {
  const row = [4, -1, 's', 255, 0, -500, 25, 100, -50];
  const body: Record<string, unknown> = { s: 1, u: T0, q: 0, d: ['veh-2-d1'], t: [{ k: '16/34297/22504', o: [row] }] };
  patch(body);
  return encodeEnvelope({ kind: KIND_BATCH, senderId, body: packr.pack(body), key: attackerKey });
}

/** msgpack bytes spliced by hand where no encoder would write them. */
function rawBody(bytes: number[] | Buffer): Buffer {
  return encodeEnvelope({ kind: KIND_BATCH, senderId: 'veh-2', body: Buffer.from(bytes), key: attackerKey, compress: false });
}

export function hostileMessages(n: number): Buffer[] {
  const rng = new Rng('hostile-ingest');
  const valid = encodeBatch(batch('veh-2', 1), attackerKey);
  // 40 MB of zeros compress to a few hundred bytes; the body limit is 32 MB.
  const bomb = handEnvelope(KIND_BATCH, 1, 'veh-2', brotliCompressSync(Buffer.alloc(40 * 1024 * 1024)));
  const fixed: Buffer[] = [
    signedBody((b) => (b.u = NaN)),
    signedBody((b) => (b.s = 2 ** 53 + 2)),
    signedBody((b) => (b.s = 1e21)),
    signedBody((b) => (b.s = 0)),
    signedBody((b) => (b.u = 0)),
    signedBody((b) => (b.u = Date.now() + 95 * 365.25 * 86_400_000)),
    signedBody((b) => ((b.t as Array<{ o: unknown[][] }>)[0]!.o[0]![2] = 'x'.repeat(100_000))),
    signedBody((b) => ((b.t as Array<{ o: unknown[][] }>)[0]!.o[0]![6] = 1e12)),
    signedBody((b) => ((b.t as Array<{ k: string }>)[0]!.k = '16/034297/022504')),
    signedBody((b) => ((b.t as Array<{ k: string }>)[0]!.k = '16/+34297/22504')),
    signedBody((b) => (b.d = Array.from({ length: 9 }, (_, i) => `d${i}`))),
    signedBody((b) => (b.t = Array.from({ length: 5000 }, () => ({ k: '16/34297/22504', o: Array.from({ length: 5 }, () => [4, -1, 's', 255, 0, 0, 25, ...Array(200).fill(1)]) })))),
    signedBody(() => undefined, withRecords),
    signedBody(() => undefined, plain, 'veh-1'), // another vehicle's id, the attacker's signature
    signedBody(() => undefined, plain, '__proto__'),
    rawBody([0xdf, 0x7f, 0xff, 0xff, 0xff]), // a map claiming 2^31 entries
    rawBody([0x85, 0xa1, 0x73, 0xdd, 0x7f, 0xff, 0xff, 0xff]), // an array claiming 2^31 items
    rawBody([0xd4, 0x72, 0x00]), // record extension
    rawBody([0xd6, 0x70, 0x00, 0x00, 0x00, 0x01]), // structured-clone reference extension
    encodeBatch({ ...batch('veh-2', 1), observations: [{ ...batch('veh-2', 1).observations[0]!, signCode: 'other' }] }, attackerKey), // seq 1 reused, other contents
  ];
  const ackBomb = handEnvelope(KIND_ACK, 1, '', brotliCompressSync(Buffer.alloc(1 << 20)));
  const out: Buffer[] = [valid];
  for (let i = 0; out.length < n; i++) {
    const r = rng.next();
    if (i % 500 === 0) out.push(bomb);
    else if (i % 10 === 0) out.push(fixed[(i / 10) % fixed.length]!);
    else if (r < 0.2) out.push(Buffer.from(Array.from({ length: Math.floor(rng.uniform(0, 400)) }, () => Math.floor(rng.uniform(0, 256)))));
    else if (r < 0.4) out.push(valid.subarray(0, Math.floor(rng.uniform(0, valid.length - 1))));
    else if (r < 0.6) {
      const b = Buffer.from(valid);
      const bit = Math.floor(rng.uniform(0, b.length * 8));
      b[bit >> 3]! ^= 1 << (bit & 7);
      out.push(b);
    } else if (r < 0.75) {
      const b = Buffer.from(valid);
      const at = [0, 1, 2, 3, 4][Math.floor(rng.uniform(0, 5))]!;
      const v = Math.floor(rng.uniform(0, 256));
      b[at] = v === b[at] ? v ^ 0xff : v; // always a different byte
      out.push(b);
    } else if (r < 0.9) {
      // ack-kind envelopes from a vehicle with compressed bodies: refused before any decompression or parsing
      out.push(ackBomb);
    } else {
      out.push(signedBody((b) => (b.s = Math.floor(rng.uniform(-1e6, 1e6)) + 0.5)));
    }
  }
  return out.slice(0, n);
}

/** An envelope laid out by hand (docs/WIRE.md), any flags, signed by the attacker. */
function handEnvelope(kind: number, flags: number, senderId: string, body: Buffer): Buffer {
  const sender = Buffer.from(senderId, 'utf8');
  const head = Buffer.alloc(ENVELOPE_HEADER_BYTES + sender.length);
  head.writeUInt16BE(ENVELOPE_MAGIC, 0);
  head.writeUInt8(ENVELOPE_VERSION, 2);
  head.writeUInt8(kind, 3);
  head.writeUInt8(flags, 4);
  head.writeUInt8(sender.length, 5);
  sender.copy(head, 6);
  head.writeUInt32BE(body.length, 6 + sender.length);
  const unsigned = Buffer.concat([head, body]);
  return Buffer.concat([unsigned, signEd25519(unsigned, attackerKey)]);
}

export interface HostileRun {
  /** Acks to the attacker by refusal code ("accepted:<status>" for what was accepted). */
  codes: Map<string, number>;
  /** The honest vehicle's acks, in order, and how long each took, ms. */
  honestAcks: Ack[];
  honestWaitsMs: number[];
  /** Seqs of the honest vehicle's batches found in the store. */
  storedSeqs: number[];
  peakRssMb: number;
  /** batch_rejected events the ingest logged; disconnects it logged for the oversized message. */
  rejectedLogged: number;
  oversizedDisconnectSeen: boolean;
  ingestExitCode: number | null;
}

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : 0;
}

export async function runHostileAttack(messageCount: number): Promise<HostileRun> {
  const dir = tempDir('hostile');
  const storeDir = path.join(dir, 'store');
  const ingest = await startIngest({ storeDir, keysFile: writeKeys(dir) });
  const pid = ingest.proc.child.pid!;
  let peakRssMb = rssMb(pid);
  const sampler = setInterval(() => {
    peakRssMb = Math.max(peakRssMb, rssMb(pid));
  }, 100);
  const attacker = new zmq.Dealer({ linger: 0, receiveTimeout: 60_000, ...curveClientOptions('veh-2') });
  attacker.connect(ingest.endpoint);
  const honest = new zmq.Dealer({ linger: 0, receiveTimeout: 60_000, ...curveClientOptions('veh-1') });
  honest.connect(ingest.endpoint);
  try {
    const messages = hostileMessages(messageCount);
    let attackDone = false;
    const codes = new Map<string, number>();
    const attack = (async () => {
      try {
        for (const m of messages) {
          await attacker.send(m);
          const [reply] = await attacker.receive();
          const ack: Ack = decodeAck(reply!, ackKey);
          const code = ack.status === 'rejected' ? (/^([a-z_]+): ./.exec(ack.reason ?? '')?.[1] ?? `no code: ${ack.reason}`) : `accepted:${ack.status}`;
          codes.set(code, (codes.get(code) ?? 0) + 1);
        }
      } finally {
        attackDone = true;
      }
    })();
    const honestAcks: Ack[] = [];
    const honestWaitsMs: number[] = [];
    const upload = async (seq: number): Promise<void> => {
      const t0 = performance.now();
      await honest.send(encodeBatch(batch('veh-1', seq), honestKey));
      const [reply] = await honest.receive();
      honestWaitsMs.push(performance.now() - t0);
      honestAcks.push(decodeAck(reply!, ackKey));
    };
    let seq = 0;
    while (!attackDone || seq < 20) await upload(++seq);
    await attack;
    // A message above the size limit: libzmq closes that connection without a reply; the ingest
    // logs and counts it as a disconnect and goes on serving.
    const big = new zmq.Dealer({ linger: 0, ...curveClientOptions('veh-2') });
    big.connect(ingest.endpoint);
    const disconnectsBefore = ingest.proc.named('peer_disconnected').length;
    await big.send(Buffer.alloc(MAX_ENVELOPE_BYTES + 64 * 1024));
    const oversizedDisconnectSeen = await ingest.proc
      .until('the oversized message closed its connection', () => ingest.proc.named('peer_disconnected').length > disconnectsBefore)
      .then(() => true, () => false);
    big.close();
    await upload(++seq);
    clearInterval(sampler);
    ingest.proc.kill('SIGTERM');
    const { code } = await ingest.proc.exited;
    const vdir = path.join(storeDir, 'batches', 'veh-1');
    const storedSeqs = readdirSync(vdir).filter((f) => f.endsWith('.fmb')).sort().map((f) => decodeBatch(readFileSync(path.join(vdir, f)), 'trusted').seq);
    return { codes, honestAcks, honestWaitsMs, storedSeqs, peakRssMb, rejectedLogged: ingest.proc.named('batch_rejected').length, oversizedDisconnectSeen, ingestExitCode: code };
  } finally {
    clearInterval(sampler);
    attacker.close();
    honest.close();
    ingest.proc.kill('SIGKILL'); // a no-op once it has exited
  }
}
