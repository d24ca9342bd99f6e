/**
 * Group commit at the real ingest: 64 vehicles each pipeline 8 batches of 120 observations (sent without waiting),
 * so many messages are handled at once; every batch gets its signed ack and is stored once. The
 * acks of messages handled together leave the one socket one at a time (a zeromq.js socket
 * refuses a second send in progress; before that was handled, acks were lost under load).
 */
import { readdirSync } from 'node:fs';
import * as path from 'node:path';
import * as zmq from 'zeromq';
import { describe, expect, it } from 'vitest';
import { KeyRegistry } from '../cloud/ingest/keys.ts';
import { newCurveKeypair } from '../shared/curve.ts';
import { decodeAck, encodeBatch, generateSigningKeyPair, readPublicKeyFile } from '../shared/index.ts';
import { ACK_PUBLIC_KEY_FILE, INGEST_CURVE_PUBLIC_KEY, startIngest, tempDir } from './helpers.ts';

const VEHICLES = 64;
const BATCHES = 8;
/** Observations per batch: enough work per message that many are in hand at once. */
const OBSERVATIONS = 120;

describe('ingest group commit', () => {
  it(`answers every one of ${VEHICLES} x ${BATCHES} pipelined batches, each stored once`, async () => {
    const dir = tempDir('group');
    const storeDir = path.join(dir, 'store');
    let registry = KeyRegistry.empty();
    const fleet = Array.from({ length: VEHICLES }, (_, i) => ({ id: `gc-${i}`, sign: generateSigningKeyPair(), curve: newCurveKeypair() }));
    for (const v of fleet) registry = registry.withRegistered(v.id, v.sign.publicKey, Date.now(), v.curve.publicKey);
    const keysFile = path.join(dir, 'keys.json');
    registry.writeFile(keysFile);
    const ingest = await startIngest({ storeDir, keysFile, extra: ['--max-in-flight', '16'] });
    const ackKey = readPublicKeyFile(ACK_PUBLIC_KEY_FILE);
    const socks = fleet.map((v) => {
      // A lost ack shows as this timeout. It is generous: on a busy machine (CI with two
      // benchmarks beside it) the 512 fsync'd batches took over 30 s, and a 30 s timeout failed.
      const s = new zmq.Dealer({ linger: 0, receiveTimeout: 240_000, curveServerKey: INGEST_CURVE_PUBLIC_KEY, curvePublicKey: v.curve.publicKey, curveSecretKey: v.curve.secretKey });
      s.connect(ingest.endpoint);
      return s;
    });
    try {
      const t0 = Date.now() - 60_000;
      await Promise.all(
        fleet.map(async (v, k) => {
          const sock = socks[k]!;
          for (let seq = 1; seq <= BATCHES; seq++) {
            await sock.send(encodeBatch({ vehicleId: v.id, seq, createdUnixMs: t0, queueDepth: BATCHES - seq, observations: Array.from({ length: OBSERVATIONS }, (_, j) => ({ tile: '16/34297/22504', driveId: `${v.id}-d`, tUnixMs: t0, cls: 'traffic_sign' as const, signCode: `g${seq}-${j}`, score: 1, poseSigmaCm: 20, pointsCm: [[seq * 1000 + j, k] as [number, number]] })) }, v.sign.privateKey));
          }
          const seen: number[] = [];
          for (let i = 0; i < BATCHES; i++) {
            const [reply] = await sock.receive();
            const ack = decodeAck(reply!, ackKey);
            expect(ack.status).toBe('stored');
            seen.push(ack.seq!);
          }
          expect(seen.sort((a, b) => a - b)).toEqual(Array.from({ length: BATCHES }, (_, i) => i + 1));
          expect(readdirSync(path.join(storeDir, 'batches', v.id)).filter((f) => f.endsWith('.fmb'))).toHaveLength(BATCHES);
        }),
      );
      expect(ingest.proc.named('ack_send_failed')).toEqual([]);
    } finally {
      for (const s of socks) s.close();
      ingest.proc.kill('SIGTERM');
      await ingest.proc.exited;
    }
  }, 360_000);
});
