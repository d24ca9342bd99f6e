/**
 * The edge trusts only acks signed by the pinned ingest ack key that name exactly the batch it
 * sent (seq AND sha256 of the envelope bytes). A real edge process talks to a fake ingest (a
 * ROUTER in this test) that answers every batch with forged or misdirected acks: `stored` signed
 * with another key, `stored` / `rejected` for other bytes under the same seq, an unauthenticated
 * refusal for other bytes, garbage. The edge deletes and dead-letters nothing, counts and logs
 * them; then the same outbox, answered honestly, delivers everything.
 */
import * as path from 'node:path';
import * as zmq from 'zeromq';
import { describe, expect, it } from 'vitest';
import { decodeBatch, encodeAck, sha256 } from '../shared/index.ts';
import { ACK_KEY_SEED_HEX, SensorPusher, pushDrive, startEdge, tempDir, vehicleKeyFile, writeTestProfile } from './helpers.ts';

const ACK_SEED = Buffer.from(ACK_KEY_SEED_HEX, 'hex');
const WRONG_SEED = Buffer.alloc(32, 0x66);

type Mode = 'forge' | 'honest';

class FakeIngest {
  readonly router = new zmq.Router({ linger: 0 });
  mode: Mode = 'forge';
  received = 0;
  private loop: Promise<void> | undefined;

  async start(): Promise<string> {
    await this.router.bind('tcp://127.0.0.1:*');
    this.loop = this.serve();
    return this.router.lastEndpoint!;
  }

  private async serve(): Promise<void> {
    try {
      for await (const [peer, env] of this.router) {
        this.received++;
        const seq = decodeBatch(env!, 'trusted').seq;
        const h = sha256(env!);
        const other = sha256(Buffer.from(`not batch ${seq}`));
        const replies =
          this.mode === 'honest'
            ? [encodeAck({ seq, status: 'stored', batchSha256: h }, ACK_SEED)]
            : [
                encodeAck({ seq, status: 'stored', batchSha256: h }, WRONG_SEED), // right batch, wrong key
                encodeAck({ seq, status: 'stored', batchSha256: other }, ACK_SEED), // right key, other bytes
                encodeAck({ seq, status: 'rejected', reason: 'bad_body: forged', batchSha256: other }, ACK_SEED),
                encodeAck({ seq: null, status: 'rejected', reason: 'bad_signature: forged', batchSha256: other }, ACK_SEED),
                Buffer.from('not an ack'),
              ];
        for (const r of replies) await this.router.send([peer!, r]);
      }
    } catch {
      // closed
    }
  }

  async close(): Promise<void> {
    this.router.close();
    await this.loop;
  }
}

describe('edge ack trust', () => {
  it('deletes nothing on acks it cannot verify or that name other bytes; delivers on honest acks', async () => {
    const dir = tempDir('acktrust');
    const fake = new FakeIngest();
    const endpoint = await fake.start();
    // a stand-in ingest on loopback without CURVE: this test is about acks, not the transport
    const args = ['--insecure-no-curve', '--vehicle-id', 'veh-1', '--key-file', vehicleKeyFile('veh-1'), '--intake', 'tcp://127.0.0.1:*', '--ingest', endpoint, '--outbox', path.join(dir, 'outbox.sqlite'), '--hw-profile', writeTestProfile(dir), '--stats-interval-s', '0.2'];
    try {
      const edge = await startEdge(args);
      const p = new SensorPusher(edge.intake);
      await pushDrive(p, { fromS: 0, toS: 2, tag: 'f' });
      p.close();
      // Wait until the edge has seen several rounds of forged answers (it resends after its ack timeout).
      await edge.proc.until('forged acks counted', () => edge.proc.named('edge_stats').some((e) => (e.unverifiedAcks as number) >= 4 && (e.mismatchedAcks as number) >= 6));
      expect(edge.proc.named('ack_unverified')[0]).toMatchObject({ code: expect.stringMatching(/^(bad_signature|bad_magic)$/) });
      expect(edge.proc.named('ack_mismatch').length).toBeGreaterThanOrEqual(3);
      edge.proc.kill('SIGTERM');
      expect((await edge.proc.exited).code).toBe(0);
      const last = edge.proc.named('edge_stats').at(-1)!;
      expect(last).toMatchObject({ batchesDelivered: 0, batchesDuplicate: 0, batchesDeadLettered: 0, deadLetters: 0, observationsDelivered: 0 });
      expect(last.unackedBatches).toBe(edge.proc.named('batch_formed').length);
      expect(last.unackedBatches as number).toBeGreaterThan(0);
      expect(edge.proc.named('batch_acked')).toHaveLength(0);
      expect(edge.proc.named('batch_dead_lettered')).toHaveLength(0);
      expect(edge.proc.named('uplink_refused')).toHaveLength(0);
      const formed = edge.proc.sum('batch_formed', 'observations');

      // The same outbox against an honest ingest: everything kept is delivered.
      fake.mode = 'honest';
      const again = await startEdge([...args, '--exit-when-drained']);
      expect((await again.proc.exited).code).toBe(0);
      expect(again.proc.sum('batch_acked', 'observations')).toBe(formed);
    } finally {
      await fake.close();
    }
  });
});
