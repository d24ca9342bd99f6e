/**
 * The ingest as a real process on a real loopback socket, driven by test DEALERs acting as
 * vehicles over CURVE (admitted by the ingest's ZAP handler): (1) an acknowledged batch is on disk and decodes to what was sent; (2) a batch sent
 * twice is stored once; (3) malformed batches are refused with a clear reason while other
 * vehicles keep being served, and fleet health counts the refusals (persisted on SIGTERM).
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import * as zmq from 'zeromq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeAck, decodeBatch, encodeBatch, readPublicKeyFile, sha256, type Ack, type ObservationBatch } from '../shared/index.ts';
import { ACK_PUBLIC_KEY_FILE, KEYS, Proc, curveClientOptions, startIngest, tempDir, writeKeys } from './helpers.ts';

const key = (v: keyof typeof KEYS): Buffer => Buffer.from(KEYS[v], 'hex');
const ackKey = readPublicKeyFile(ACK_PUBLIC_KEY_FILE);
const T0 = Math.floor(Date.now() / 1000) * 1000 - 60_000;
/** What an ack for `bytes` looks like (the ingest signs it; Vehicle.send verifies the signature). */
const acked = (bytes: Buffer, seq: number | null, status: Ack['status'], reason?: string): Ack => ({ seq, status, batchSha256: sha256(bytes), ...(reason === undefined ? {} : { reason }) });

function batch(vehicleId: string, seq: number, n = 3): ObservationBatch {
  return {
    vehicleId,
    seq,
    createdUnixMs: T0,
    queueDepth: 10 - seq,
    observations: Array.from({ length: n }, (_, i) => ({
      tile: '16/34297/22504',
      driveId: `${vehicleId}-d1`,
      tUnixMs: T0 - 1000 + i,
      cls: 'traffic_sign' as const,
      signCode: `s${seq}-${i}`,
      score: 1,
      poseSigmaCm: 25,
      pointsCm: [[100 * i, -50 * i]] as Array<[number, number]>,
    })),
  };
}

class Vehicle {
  readonly sock: zmq.Dealer;
  constructor(endpoint: string, vehicleId: string) {
    this.sock = new zmq.Dealer({ linger: 0, receiveTimeout: 10_000, ...curveClientOptions(vehicleId) });
    this.sock.connect(endpoint);
  }
  async send(bytes: Buffer): Promise<Ack> {
    await this.sock.send(bytes);
    const [reply] = await this.sock.receive();
    return decodeAck(reply!, ackKey);
  }
}

describe('ingest process', () => {
  let dir: string;
  let storeDir: string;
  let ingest: Proc;
  let v1: Vehicle;
  let v2: Vehicle;

  beforeAll(async () => {
    dir = tempDir('ingest');
    storeDir = path.join(dir, 'store');
    const started = await startIngest({ storeDir, keysFile: writeKeys(dir) });
    ingest = started.proc;
    v1 = new Vehicle(started.endpoint, 'veh-1');
    v2 = new Vehicle(started.endpoint, 'veh-2');
  });

  afterAll(() => {
    v1?.sock.close();
    v2?.sock.close();
    ingest?.kill('SIGKILL');
  });

  it('(1) stores an acknowledged batch durably: the file exists and decodes to the sent observations', async () => {
    const b = batch('veh-1', 1);
    const bytes = encodeBatch(b, key('veh-1'));
    expect(await v1.send(bytes)).toEqual(acked(bytes, 1, 'stored'));
    const file = path.join(storeDir, 'batches', 'veh-1', '0000000001.fmb');
    expect(existsSync(file)).toBe(true);
    const onDisk = readFileSync(file);
    expect(onDisk.equals(bytes)).toBe(true);
    expect(decodeBatch(onDisk, 'trusted')).toEqual(decodeBatch(bytes, 'trusted'));
    expect(decodeBatch(onDisk, 'trusted').observations.map((o) => o.signCode)).toEqual(['s1-0', 's1-1', 's1-2']);
  });

  it('(2) stores a batch sent twice once; the second answer is duplicate', async () => {
    const bytes = encodeBatch(batch('veh-1', 2), key('veh-1'));
    expect(await v1.send(bytes)).toEqual(acked(bytes, 2, 'stored'));
    expect(await v1.send(bytes)).toEqual(acked(bytes, 2, 'duplicate'));
    expect(readdirSync(path.join(storeDir, 'batches', 'veh-1')).filter((f) => f.endsWith('.fmb')).sort()).toEqual(['0000000001.fmb', '0000000002.fmb']);
  });

  it('(3) refuses malformed batches with a clear reason, keeps serving other vehicles, and counts them in health', async () => {
    const good = encodeBatch(batch('veh-1', 3), key('veh-1'));
    const v9 = Buffer.from(good);
    v9[2] = 9; // envelope version
    const garbage = Buffer.from('this is not an envelope at all');
    const badSig = encodeBatch(batch('veh-1', 3), key('veh-2'));
    const unknown = encodeBatch(batch('veh-77', 1), key('veh-1'));
    const answers = {
      garbage: await v1.send(garbage),
      ok1: await v2.send(encodeBatch(batch('veh-2', 1), key('veh-2'))),
      version: await v1.send(v9),
      badSig: await v1.send(badSig),
      ok2: await v2.send(encodeBatch(batch('veh-2', 2), key('veh-2'))),
      unknown: await v1.send(unknown),
      ok3: await v2.send(encodeBatch(batch('veh-2', 3), key('veh-2'))),
    };
    expect(answers.garbage).toEqual(acked(garbage, null, 'rejected', 'bad_magic: not a fleetmap envelope: magic 0x7468, expected 0x464d ("FM")'));
    expect(answers.version).toEqual(acked(v9, null, 'rejected', 'bad_version: got v9 data, expected v2'));
    expect(answers.badSig).toEqual(acked(badSig, null, 'rejected', `bad_signature: signature does not match vehicle "veh-1"'s key`));
    expect(answers.unknown).toEqual(acked(unknown, null, 'rejected', 'unknown_sender: unknown vehicle "veh-77"'));
    for (const [i, ok] of [answers.ok1, answers.ok2, answers.ok3].entries()) expect(ok).toMatchObject({ seq: i + 1, status: 'stored' });
    // a wrongly framed ZeroMQ message (two body frames) is answered too
    await v1.sock.send([Buffer.from('a'), Buffer.from('b')]);
    const [reply] = await v1.sock.receive();
    expect(decodeAck(reply!, ackKey)).toMatchObject({ seq: null, status: 'rejected', reason: expect.stringMatching(/^bad_frames: /) });
    // and veh-1 itself is still served
    expect(await v1.send(good)).toEqual(acked(good, 3, 'stored'));
    await ingest.until('5 rejections logged', () => ingest.named('batch_rejected').length >= 5);
    expect(ingest.named('batch_rejected').map((e) => e.code)).toEqual(['bad_magic', 'bad_version', 'bad_signature', 'unknown_sender', 'bad_frames']);

    ingest.kill('SIGTERM');
    expect(await ingest.exited).toEqual({ code: 0, signal: null });
    const health = JSON.parse(readFileSync(path.join(storeDir, 'health', 'fleet.json'), 'utf8'));
    // the bad signature was not authenticated: charged to nobody, veh-1 only named as the claimed sender
    expect(health.vehicles['veh-1']).toMatchObject({ batchesStored: 3, duplicates: 1, rejected: {}, observationsStored: 9, lastQueueDepth: 7, lastSeq: 3 });
    expect(health.vehicles['veh-2']).toMatchObject({ batchesStored: 3, duplicates: 0, rejected: {}, observationsStored: 9 });
    expect(health.unattributed.rejected).toEqual({ bad_magic: 1, bad_version: 1, bad_signature: 1, unknown_sender: 1, bad_frames: 1 });
    expect(health.unattributed.recentUnknownSenders).toEqual(['veh-77', 'veh-1']);

    const table = new Proc('health', ['cloud', 'health', '--store', storeDir]);
    expect((await table.exited).code).toBe(0);
    // vehicle, trouble, last seen, oldest unsent, queue, MB/24h, drops, refused, model, hw-profile, software, stored
    expect(table.stdout).toMatch(/veh-1\s+-\s+\S+ ago\s+-\s+7\s+[\d.]+\s+-\s+-\s+-\s+-\s+-\s+3\n/);
    expect(table.stdout).toMatch(/unattributed rejections: bad_frames:1,bad_magic:1,bad_signature:1,bad_version:1,unknown_sender:1; recent unauthenticated senders: "veh-77", "veh-1"/);
  });
});
