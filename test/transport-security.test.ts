/**
 * Transport security of the uplink, with real processes and real sockets (CURVE + the ingest's
 * ZAP handler, test/helpers.ts defaults):
 * - a registered, active vehicle completes the handshake and delivers (the edge daemon);
 * - a vehicle whose CURVE key is not registered, and a revoked vehicle's key, are refused at the
 *   handshake: nothing is stored, the batches stay in the outbox, and the ingest logs
 *   `handshake_refused` with the reason and counts it (fleetmap_ingest_zap_decisions_total);
 *   once registered, the refused daemon reconnects by itself (edge/parts.ts) and delivers;
 * - the daemon and the ingest refuse to start without CURVE unless --insecure-no-curve is given,
 *   and refuse that flag on a non-loopback endpoint (one line, exit 2); with it, on loopback,
 *   they start and warn that transport security is off.
 */
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { KeyRegistry } from '../cloud/ingest/keys.ts';
import { privateKeyFromSeed } from '../shared/index.ts';
import { Outbox } from '../edge/outbox.ts';
import { ACK_PRIVATE_KEY_FILE, ACK_PUBLIC_KEY_FILE, INGEST_CURVE_FILE, INGEST_CURVE_PUBLIC_KEY, KEYS, Proc, vehicleCurve, SensorPusher, TEST_OUTBOX_POLICY, pushDrive, startEdge, startIngest, tempDir, vehicleKeyFile, writeKeys, writeTestProfile } from './helpers.ts';

async function metricsText(address: string): Promise<string> {
  const res = await fetch(`http://${address}/metrics`);
  return res.text();
}

function counter(text: string, name: string, labels: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}}`));
  return line ? Number(line.split(' ').pop()) : 0;
}

/** Run a fleetmap command to its exit; its stderr lines. */
async function run(args: string[]): Promise<{ code: number | null; lines: string[] }> {
  const p = new Proc('cmd', args);
  const { code } = await p.exited;
  return { code, lines: p.rawLines.filter((l) => l.trim() !== '') };
}

describe('uplink transport security (CURVE + ZAP)', () => {
  it('admits a registered vehicle; refuses an unregistered CURVE key (until registered) and a revoked vehicle at the handshake', async () => {
    const dir = tempDir('curve');
    const storeDir = path.join(dir, 'store');
    const keysFile = writeKeys(dir, ['veh-1']);
    const ingest = await startIngest({ storeDir, keysFile, extra: ['--metrics-listen', '127.0.0.1:0', '--keys-poll-s', '0.2'] });
    const metricsAddress = (await ingest.proc.event('metrics_listening')).address as string;
    expect(ingest.proc.named('ingest_listening')[0]).toMatchObject({ transportSecurity: 'curve+zap', curvePublicKey: INGEST_CURVE_PUBLIC_KEY });
    const profile = writeTestProfile(dir);
    const edgeArgs = (vehicleId: 'veh-1' | 'veh-2', outbox: string): string[] => ['--vehicle-id', vehicleId, '--key-file', vehicleKeyFile(vehicleId), '--intake', 'tcp://127.0.0.1:*', '--ingest', ingest.endpoint, '--outbox', path.join(dir, outbox), '--hw-profile', profile];
    const drive = async (intake: string, tag: string): Promise<number> => {
      const p = new SensorPusher(intake);
      const r = await pushDrive(p, { fromS: 0, toS: 2, tag });
      p.close();
      return r.signs.length + r.dividers;
    };
    const storedOf = (vehicleId: string): number => ingest.proc.named('batch_stored').filter((e) => e.vehicleId === vehicleId).length;

    // 1. registered and active: admitted, delivered
    const good = await startEdge([...edgeArgs('veh-1', 'good.sqlite'), '--exit-when-drained']);
    const n1 = await drive(good.intake, 'g');
    expect(await good.proc.exited).toEqual({ code: 0, signal: null });
    expect(good.proc.named('edge_started')[0]).toMatchObject({ uplinkCurve: true });
    expect(good.proc.sum('batch_acked', 'observations')).toBe(n1);

    // 2. veh-2 is not registered: its CURVE key is refused at the handshake, nothing is stored;
    //    once registered, the daemon's next reconnect is admitted and it delivers everything
    const late = await startEdge([...edgeArgs('veh-2', 'late.sqlite'), '--exit-when-drained']);
    const n2 = await drive(late.intake, 'l');
    const unknown = await ingest.proc.until('an unknown CURVE key refused', () => ingest.proc.named('handshake_refused').find((e) => e.code === 'unknown_curve_key'));
    expect(unknown).toMatchObject({ level: 'warn', reason: `CURVE key ${vehicleCurve('veh-2').publicKey} is not registered to any vehicle`, vehicleId: null });
    await late.proc.until('the edge saw the handshake fail and formed batches', () => late.proc.named('uplink_handshake_failed').length > 0 && late.proc.named('batch_formed').length > 0);
    expect(late.proc.named('uplink_handshake_failed')[0]).toMatchObject({ kind: 'handshake:error:auth', refusedHandshakes: 1 });
    expect(storedOf('veh-2')).toBe(0);
    expect(existsSync(path.join(storeDir, 'batches', 'veh-2'))).toBe(false);
    KeyRegistry.fromFile(keysFile).withRegistered('veh-2', privateKeyFromSeed(Buffer.from(KEYS['veh-2'], 'hex')), Date.now(), vehicleCurve('veh-2').publicKey).writeFile(keysFile);
    expect(await late.proc.exited).toEqual({ code: 0, signal: null });
    expect(late.proc.sum('batch_acked', 'observations')).toBe(n2);
    const veh2Stored = storedOf('veh-2');
    expect(veh2Stored).toBe(late.proc.named('batch_acked').length);

    // 3. veh-2 revoked: a new connection with its registered CURVE key is refused, nothing stored
    KeyRegistry.fromFile(keysFile).withRevoked('veh-2', Date.now()).writeFile(keysFile);
    const revoked = await startEdge(edgeArgs('veh-2', 'revoked.sqlite'));
    await drive(revoked.intake, 'r');
    const refusedRevoked = await ingest.proc.until('a revoked vehicle refused', () => ingest.proc.named('handshake_refused').find((e) => e.code === 'revoked_vehicle'));
    expect(refusedRevoked).toMatchObject({ vehicleId: 'veh-2', reason: expect.stringMatching(/belongs to vehicle "veh-2", which is revoked$/) });
    await revoked.proc.until('the edge saw the handshake fail and formed batches', () => revoked.proc.named('uplink_handshake_failed').length > 0 && revoked.proc.named('batch_formed').length > 0);
    revoked.proc.kill('SIGTERM');
    expect((await revoked.proc.exited).code).toBe(0);
    expect(revoked.proc.named('batch_acked')).toEqual([]);
    const kept = new Outbox(path.join(dir, 'revoked.sqlite'), { vehicleId: 'veh-2', maxDiskBytes: 64 << 20, policy: TEST_OUTBOX_POLICY });
    expect(kept.stats().batches).toBeGreaterThan(0); // kept on the vehicle, not delivered
    kept.close();

    // counted on the ingest (metrics), and logged as failed handshakes too
    const text = await metricsText(metricsAddress);
    expect(counter(text, 'fleetmap_ingest_zap_decisions_total', 'result="admitted"')).toBeGreaterThanOrEqual(2);
    expect(counter(text, 'fleetmap_ingest_zap_decisions_total', 'result="unknown_curve_key"')).toBeGreaterThanOrEqual(1);
    expect(counter(text, 'fleetmap_ingest_zap_decisions_total', 'result="revoked_vehicle"')).toBeGreaterThanOrEqual(1);
    expect(counter(text, 'fleetmap_ingest_handshake_failures_total', 'kind="auth"')).toBeGreaterThanOrEqual(2);
    ingest.proc.kill('SIGTERM');
    expect((await ingest.proc.exited).code).toBe(0);
    expect(storedOf('veh-2')).toBe(veh2Stored);
  });

  it('refuses to start without CURVE unless --insecure-no-curve, and refuses that flag off loopback (one line, exit 2)', async () => {
    const dir = tempDir('nocurve');
    const keysFile = writeKeys(dir);
    const ingestBase = ['cloud', 'ingest', '--store', path.join(dir, 'store'), '--keys', keysFile, '--ack-key', ACK_PRIVATE_KEY_FILE];
    const noCurve = await run([...ingestBase, '--bind', 'tcp://127.0.0.1:*']);
    expect(noCurve.code).toBe(2);
    expect(noCurve.lines).toHaveLength(1);
    expect(JSON.parse(noCurve.lines[0]!)).toMatchObject({ level: 'error', event: 'config_invalid', reason: expect.stringMatching(/^transport security is required: give --curve-keypair FILE/) });
    const offLoopback = await run([...ingestBase, '--bind', 'tcp://0.0.0.0:0', '--insecure-no-curve']);
    expect(offLoopback.code).toBe(2);
    expect(offLoopback.lines).toHaveLength(1);
    expect(JSON.parse(offLoopback.lines[0]!)).toMatchObject({ event: 'config_invalid', reason: '--insecure-no-curve is only allowed on a loopback --bind (127.0.0.0/8, ::1, localhost, ipc://, inproc://), got "tcp://0.0.0.0:0"' });
    const both = await run([...ingestBase, '--bind', 'tcp://127.0.0.1:*', '--insecure-no-curve', '--curve-keypair', INGEST_CURVE_FILE]);
    expect(both.code).toBe(2);
    expect(both.lines).toHaveLength(1);

    const edgeBase = ['edge', 'run', '--vehicle-id', 'veh-1', '--key-file', vehicleKeyFile('veh-1'), '--ingest-ack-key', ACK_PUBLIC_KEY_FILE, '--intake', 'tcp://127.0.0.1:*', '--outbox', path.join(dir, 'o.sqlite'), '--hw-profile', writeTestProfile(dir)];
    const edgeNoCurve = await run([...edgeBase, '--ingest', 'tcp://127.0.0.1:5700']);
    expect(edgeNoCurve.code).toBe(2);
    expect(edgeNoCurve.lines).toHaveLength(1);
    expect(JSON.parse(edgeNoCurve.lines[0]!)).toMatchObject({ level: 'error', event: 'config_invalid', reason: expect.stringMatching(/^edge config: transport security is required: missing ingestCurvePublicKey .* and curveKeypairFile .*; or insecureNoCurve \(--insecure-no-curve\) with a loopback ingest/) });
    const edgeOffLoopback = await run([...edgeBase, '--ingest', 'tcp://192.0.2.10:5700', '--insecure-no-curve']);
    expect(edgeOffLoopback.code).toBe(2);
    expect(edgeOffLoopback.lines).toHaveLength(1);
    expect(JSON.parse(edgeOffLoopback.lines[0]!)).toMatchObject({ event: 'config_invalid', reason: 'edge config: insecureNoCurve (--insecure-no-curve) is only allowed with a loopback ingest (127.0.0.0/8, ::1, localhost, ipc://, inproc://), got "tcp://192.0.2.10:5700"' });
    expect(existsSync(path.join(dir, 'o.sqlite'))).toBe(false);

    // on loopback the flag is accepted, and both say transport security is off
    const ingest = await startIngest({ storeDir: path.join(dir, 'store'), keysFile, insecure: true });
    expect(ingest.proc.named('transport_insecure')[0]).toMatchObject({ level: 'warn', reason: expect.stringMatching(/^transport security is off/) });
    expect(ingest.proc.named('ingest_listening')[0]).toMatchObject({ transportSecurity: 'none', curvePublicKey: null });
    const edge = await startEdge([...edgeBase.slice(2), '--ingest', ingest.endpoint, '--insecure-no-curve', '--exit-when-drained']);
    expect(edge.proc.named('transport_insecure')[0]).toMatchObject({ level: 'warn', reason: expect.stringMatching(/^transport security is off/) });
    expect(edge.proc.named('edge_started')[0]).toMatchObject({ uplinkCurve: false });
    const p = new SensorPusher(edge.intake);
    const r = await pushDrive(p, { fromS: 0, toS: 1, tag: 'i' });
    p.close();
    expect(await edge.proc.exited).toEqual({ code: 0, signal: null });
    expect(edge.proc.sum('batch_acked', 'observations')).toBe(r.signs.length + r.dividers);
    ingest.proc.kill('SIGTERM');
    expect((await ingest.proc.exited).code).toBe(0);
  });
});
