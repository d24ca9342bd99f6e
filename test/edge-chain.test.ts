/**
 * The edge daemon and the ingest as real processes on loopback TCP, with a real SQLite outbox
 * and a store directory: sensor messages in, signed batches out, observations on disk.
 *
 * - happy path (intake over ipc, uplink CURVE with the ingest's ZAP handler admitting the vehicle's
 *   registered key, as in production): observations pushed into the intake
 *   land in the store at the right place (a sign seen 10 m ahead, 3 m left is stored within
 *   0.5 m of where it is), tagged with the drive id; bad sensor messages are counted and do not
 *   stop the daemon; `drained` is logged; SIGTERM exits 0.
 * - a vehicle whose key the ingest does not accept keeps its batches (refused, retried at the
 *   backoff cap), never dead-letters them; a batch the ingest rejects by seq (an outbox that was
 *   wiped, reusing seqs) is dead-lettered with the reason, kept on disk, not resent.
 * - (4) crash safety: the edge is SIGKILLed twice mid-upload (once while the ingest is frozen with
 *   SIGSTOP and the edge is resending, once while the ingest is down) and restarted; the set of
 *   observations in the store equals the set pushed, each exactly once.
 */
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Outbox } from '../edge/outbox.ts';
import { decodeBatch, distanceM, parseTileKey, tileFrame, type ObservationBatch } from '../shared/index.ts';
import { INGEST_CURVE_PUBLIC_KEY, KEYS, SensorPusher, TEST_OUTBOX_POLICY, pushDrive, vehicleKeyFile, startEdge, startIngest, tempDir, writeKeys, writeTestProfile, type PushedSign, REPO } from './helpers.ts';

function readStore(storeDir: string): { files: string[]; batches: ObservationBatch[] } {
  const dir = path.join(storeDir, 'batches', 'veh-1');
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.fmb'))
    .sort();
  return { files, batches: files.map((f) => decodeBatch(readFileSync(path.join(dir, f)), 'trusted')) };
}

function checkPositions(batches: ObservationBatch[], pushed: PushedSign[]): void {
  const truth = new Map(pushed.map((s) => [s.signCode, s.truth]));
  for (const b of batches) {
    for (const o of b.observations) {
      if (o.cls !== 'traffic_sign') continue;
      const [xCm, yCm] = o.pointsCm[0]!;
      const at = tileFrame(parseTileKey(o.tile)).toLngLat([xCm / 100, yCm / 100]);
      expect(distanceM(at, truth.get(o.signCode!)!), o.signCode).toBeLessThan(0.5);
    }
  }
}

describe('edge daemon -> ingest', () => {
  it('delivers georeferenced observations, survives bad sensor messages, logs drained, exits 0 on SIGTERM', async () => {
    const dir = tempDir('edge');
    const storeDir = path.join(dir, 'store');
    // CURVE on by default (test/helpers.ts): the ingest's keypair, the vehicle's registered keypair
    const ingest = await startIngest({ storeDir, keysFile: writeKeys(dir) });
    const edge = await startEdge([
      '--vehicle-id', 'veh-1', '--key-file', vehicleKeyFile('veh-1'),
      '--intake', `ipc://${path.join(dir, 'intake.sock')}`,
      '--ingest', ingest.endpoint,
      '--outbox', path.join(dir, 'outbox.sqlite'),
      '--hw-profile', writeTestProfile(dir),
    ]);
    expect(ingest.proc.named('ingest_listening')[0]).toMatchObject({ transportSecurity: 'curve+zap', curvePublicKey: INGEST_CURVE_PUBLIC_KEY });
    expect(edge.proc.named('edge_started')[0]).toMatchObject({ uplinkCurve: true });
    expect(ingest.proc.named('transport_insecure')).toEqual([]);
    const push = new SensorPusher(edge.intake);
    await push.raw(['lidar', 'x']);
    await push.raw(['gnss', Buffer.from([0x92, 0x01])]);
    await push.raw(['perception']);
    await push.push('drive', { tMonoNs: 0, event: 'start', driveId: 'veh-1-d1' });
    const { signs, dividers } = await pushDrive(push, { fromS: 0, toS: 4, tag: 'a' });
    await push.push('drive', { tMonoNs: 4e9, event: 'end', driveId: 'veh-1-d1' });
    // (an idle pause mid-push may log an earlier `drained`: wait for the one after everything)
    const drained = await edge.proc.event('drained', (e) => e.observationsDelivered === signs.length + dividers);
    expect(drained).toMatchObject({ pendingObservations: 0, unackedBatches: 0, badMessages: { unknown_topic: 1, bad_msgpack: 1, bad_frames: 1 } });
    edge.proc.kill('SIGTERM');
    expect(await edge.proc.exited).toEqual({ code: 0, signal: null });
    push.close();
    ingest.proc.kill('SIGTERM');
    expect((await ingest.proc.exited).code).toBe(0);
    expect(ingest.proc.named('handshake_refused')).toEqual([]);

    const { batches } = readStore(storeDir);
    const obs = batches.flatMap((b) => b.observations);
    expect(obs.filter((o) => o.cls === 'traffic_sign').map((o) => o.signCode).sort()).toEqual(signs.map((s) => s.signCode).sort());
    expect(obs.filter((o) => o.cls === 'lane_divider')).toHaveLength(dividers);
    expect(new Set(obs.map((o) => o.driveId))).toEqual(new Set(['veh-1-d1']));
    checkPositions(batches, signs);
  });

  it('holds batches the ingest cannot authenticate; dead-letters batches it rejects by seq', async () => {
    const dir = tempDir('reject');
    const storeDir = path.join(dir, 'store');
    const ingest = await startIngest({ storeDir, keysFile: writeKeys(dir) });
    const common = ['--vehicle-id', 'veh-1', '--intake', 'tcp://127.0.0.1:*', '--ingest', ingest.endpoint, '--hw-profile', writeTestProfile(dir)];
    const drive = async (intake: string, tag: string): Promise<void> => {
      const p = new SensorPusher(intake);
      await pushDrive(p, { fromS: 0, toS: 2, tag });
      p.close();
    };

    // 1. A wrong key: refused without a seq -> kept and retried, never dead-lettered.
    writeFileSync(path.join(dir, 'wrong.key'), `${'33'.repeat(32)}\n`); // a raw seed in hex: a key file format the edge reads too
    const wrongKey = await startEdge([...common, '--key-file', path.join(dir, 'wrong.key'), '--outbox', path.join(dir, 'wrong.sqlite')]);
    await drive(wrongKey.intake, 'w');
    await wrongKey.proc.until('refused twice', () => wrongKey.proc.named('uplink_refused').length >= 2);
    expect(wrongKey.proc.named('uplink_refused')[0]).toMatchObject({ seq: 1, reason: `bad_signature: signature does not match vehicle "veh-1"'s key` });
    wrongKey.proc.kill('SIGTERM');
    expect((await wrongKey.proc.exited).code).toBe(0);
    const kept = new Outbox(path.join(dir, 'wrong.sqlite'), { vehicleId: 'veh-1', maxDiskBytes: 64 << 20, policy: TEST_OUTBOX_POLICY });
    expect(kept.stats()).toMatchObject({ deadLetters: 0 });
    expect(kept.stats().batches).toBeGreaterThan(0);
    kept.close();

    // 2. The right key, then the same vehicle with a wiped outbox: its seqs restart at 1, the
    //    ingest already holds different batches there -> rejected with the seq -> dead letters.
    const first = await startEdge([...common, '--key-file', vehicleKeyFile('veh-1'), '--outbox', path.join(dir, 'a.sqlite'), '--exit-when-drained']);
    await drive(first.intake, 'a');
    expect((await first.proc.exited).code).toBe(0);
    const wiped = await startEdge([...common, '--key-file', vehicleKeyFile('veh-1'), '--outbox', path.join(dir, 'b.sqlite'), '--exit-when-drained']);
    await drive(wiped.intake, 'b');
    expect((await wiped.proc.exited).code).toBe(0); // dead letters wait for an operator, they do not block draining
    const dead = wiped.proc.named('batch_dead_lettered');
    expect(dead.length).toBe(wiped.proc.named('batch_formed').length);
    expect(dead[0]).toMatchObject({ seq: 1, reason: expect.stringMatching(/^seq_conflict: batch 1 of veh-1 is already stored with different contents/) });
    expect(wiped.proc.named('batch_sent').filter((e) => e.seq === 1)).toHaveLength(1); // not resent
    const b = new Outbox(path.join(dir, 'b.sqlite'), { vehicleId: 'veh-1', maxDiskBytes: 64 << 20, policy: TEST_OUTBOX_POLICY });
    expect(b.deadLetters().map((d) => d.seq)).toEqual(dead.map((d) => d.seq));
    b.close();

    ingest.proc.kill('SIGTERM');
    expect((await ingest.proc.exited).code).toBe(0);
    const health = JSON.parse(readFileSync(path.join(storeDir, 'health', 'fleet.json'), 'utf8'));
    // wrong-key batches were never authenticated: counted, but not charged to veh-1
    expect(health.unattributed.rejected.bad_signature).toBeGreaterThanOrEqual(2);
    expect(health.vehicles['veh-1'].rejected.bad_signature).toBeUndefined();
    expect(health.vehicles['veh-1'].rejected.seq_conflict).toBe(dead.length);
  });

  it('(4) SIGKILLed mid-upload and restarted, delivers every observation exactly once', async () => {
    const dir = tempDir('crash');
    const storeDir = path.join(dir, 'store');
    const keysFile = writeKeys(dir);
    writeFileSync(path.join(dir, 'veh-1.key'), `${KEYS['veh-1']}\n`);
    const config = path.join(dir, 'edge.json');
    writeFileSync(config, JSON.stringify({ vehicleId: 'veh-1', keyFile: 'veh-1.key', intake: 'tcp://127.0.0.1:*', outbox: 'outbox.sqlite', hwProfile: writeTestProfile(dir, 5) }));
    const pushed: PushedSign[] = [];
    let dividers = 0;
    const pushPhase = async (intake: string, fromS: number, toS: number, tag: string, markers: { start?: boolean; end?: boolean } = {}): Promise<number> => {
      const p = new SensorPusher(intake);
      if (markers.start) await p.push('drive', { tMonoNs: fromS * 1e9, event: 'start', driveId: 'veh-1-d7' });
      const r = await pushDrive(p, { fromS, toS, tag });
      if (markers.end) await p.push('drive', { tMonoNs: toS * 1e9, event: 'end', driveId: 'veh-1-d7' });
      p.close();
      pushed.push(...r.signs);
      dividers += r.dividers;
      return r.signs.length + r.dividers;
    };

    // Phase A: all up; everything delivered.
    let ingest = await startIngest({ storeDir, keysFile });
    const ingestEndpoint = ingest.endpoint;
    const e1 = await startEdge(['--config', config, '--ingest', ingestEndpoint]);
    const nA = await pushPhase(e1.intake, 0, 3, 'a', { start: true });
    await e1.proc.until('phase A acked', () => e1.proc.sum('batch_acked', 'observations') === nA);

    // Phase B: the ingest is frozen (SIGSTOP): batches go out, no acks come back, the edge times
    // out and resends the same bytes; then the edge is SIGKILLed with batches unacknowledged.
    ingest.proc.kill('SIGSTOP');
    const nB = await pushPhase(e1.intake, 3, 6, 'b');
    await e1.proc.until('phase B in batches', () => e1.proc.sum('batch_formed', 'observations') === nA + nB);
    const resent = await e1.proc.event('batch_sent', (e) => (e.attempt as number) >= 2);
    e1.proc.kill('SIGKILL');
    expect((await e1.proc.exited).signal).toBe('SIGKILL');
    ingest.proc.kill('SIGCONT'); // it now stores what was queued (acks go to a dead peer)
    await ingest.proc.event('batch_stored', (e) => e.seq === resent.seq);
    ingest.proc.kill('SIGTERM');
    expect((await ingest.proc.exited).code).toBe(0);

    // Phase C: the ingest is down; a restarted edge takes in more data, cannot deliver, and is
    // SIGKILLed again with everything pending.
    const e2 = await startEdge(['--config', config, '--ingest', ingestEndpoint]);
    const nC = await pushPhase(e2.intake, 6, 9, 'c', { end: true });
    await e2.proc.until('phase C in batches', () => e2.proc.sum('batch_formed', 'observations') === nC);
    await e2.proc.event('uplink_send_failed');
    e2.proc.kill('SIGKILL');
    await e2.proc.exited;

    // Phase D: the ingest is back on the same endpoint and store; a restarted edge delivers the
    // leftovers (resending the same seqs) and exits 0 once drained.
    ingest = await startIngest({ storeDir, keysFile, bind: ingestEndpoint });
    const e3 = await startEdge(['--config', config, '--ingest', ingestEndpoint, '--exit-when-drained']);
    expect(await e3.proc.exited).toEqual({ code: 0, signal: null });
    expect(e3.proc.named('drained')).toHaveLength(1);
    expect(e2.proc.named('uplink_connected')).toHaveLength(0); // the ingest was down throughout
    expect(e3.proc.named('uplink_connected').length).toBeGreaterThan(0);
    expect(e3.proc.named('batch_acked').some((e) => e.status === 'duplicate')).toBe(true);
    ingest.proc.kill('SIGTERM');
    expect((await ingest.proc.exited).code).toBe(0);

    const { files, batches } = readStore(storeDir);
    expect(files).toEqual(batches.map((b) => `${String(b.seq).padStart(10, '0')}.fmb`));
    expect(batches.map((b) => b.seq)).toEqual(batches.map((_, i) => i + 1)); // no seq skipped or reused
    const obs = batches.flatMap((b) => b.observations);
    const signCodes = obs.filter((o) => o.cls === 'traffic_sign').map((o) => o.signCode!);
    expect(signCodes.length).toBe(new Set(signCodes).size); // no duplicates
    expect([...signCodes].sort()).toEqual(pushed.map((s) => s.signCode).sort()); // nothing lost
    expect(obs.filter((o) => o.cls === 'lane_divider')).toHaveLength(dividers);
    expect(obs).toHaveLength(nA + nB + nC);
    expect(new Set(obs.map((o) => o.driveId))).toEqual(new Set(['veh-1-d7'])); // the drive survives restarts
    checkPositions(batches, pushed);

    const health = JSON.parse(readFileSync(path.join(storeDir, 'health', 'fleet.json'), 'utf8'));
    expect(health.vehicles['veh-1']).toMatchObject({ batchesStored: batches.length, observationsStored: nA + nB + nC, rejected: {} });
    expect(health.vehicles['veh-1'].duplicates).toBeGreaterThanOrEqual(1);
    // what the daemon reports about itself in its batches (docs/WIRE.md 3.4) reached fleet health
    const pkg = JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { version: string };
    expect(health.vehicles['veh-1']).toMatchObject({ softwareVersion: pkg.version, hwProfile: expect.any(String), oldestUnsentAgeS: expect.any(Number), statusUnixMs: expect.any(Number) });
  });
});
