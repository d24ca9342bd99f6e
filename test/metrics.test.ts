/**
 * Prometheus metrics of the real processes: an edge daemon and the ingest, each with
 * --metrics-listen on a free loopback port, after a short drive was delivered. The two sides
 * share `fleetmap_batches_total{outcome}` and must agree on it.
 */
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { pushWholeDrive, startEdge, startIngest, tempDir, vehicleKeyFile, writeKeys, writeTestProfile } from './helpers.ts';

function metricValue(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const m = /^([a-z_]+)(\{([^}]*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = Object.fromEntries((m[3] ?? '').split(',').filter(Boolean).map((kv) => kv.split('=') as [string, string]).map(([k, v]) => [k, v.replace(/^"|"$/g, '')]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) return Number(m[4]);
  }
  return undefined;
}

describe('metrics endpoints', () => {
  it('the edge and the ingest serve their numbers on loopback, and agree on the batches stored', async () => {
    const dir = tempDir('metrics');
    const ingest = await startIngest({ storeDir: path.join(dir, 'store'), keysFile: writeKeys(dir), extra: ['--metrics-listen', '127.0.0.1:0'] });
    const ingestAt = (await ingest.proc.event('metrics_listening')).address as string;
    const edge = await startEdge(['--vehicle-id', 'veh-1', '--key-file', vehicleKeyFile('veh-1'), '--intake', 'tcp://127.0.0.1:*', '--ingest', ingest.endpoint, '--outbox', path.join(dir, 'outbox.sqlite'), '--hw-profile', writeTestProfile(dir, 4), '--metrics-listen', '0']);
    const edgeAt = (await edge.proc.event('metrics_listening')).address as string;
    expect(edgeAt).toMatch(/^127\.0\.0\.1:\d+$/);
    const n = (await pushWholeDrive(edge.intake, { driveId: 'veh-1-m1', toS: 4, tag: 'm' })).observations;
    await edge.proc.until('all acked', () => edge.proc.sum('batch_acked', 'observations') === n);

    const edgeText = await (await fetch(`http://${edgeAt}/metrics`)).text();
    const ingestText = await (await fetch(`http://${ingestAt}/metrics`)).text();
    const storedEdge = metricValue(edgeText, 'fleetmap_batches_total', { outcome: 'stored', vehicle: 'veh-1' });
    const storedIngest = metricValue(ingestText, 'fleetmap_batches_total', { outcome: 'stored' });
    expect(storedEdge).toBe(edge.proc.named('batch_acked').filter((e) => e.status === 'stored').length);
    expect(storedEdge).toBeGreaterThan(0);
    expect(storedIngest).toBe(storedEdge);
    expect(metricValue(edgeText, 'fleetmap_outbox_pending_observations', { vehicle: 'veh-1' })).toBe(0);
    expect(metricValue(edgeText, 'fleetmap_outbox_unacked_batches', { vehicle: 'veh-1' })).toBe(0);
    expect(metricValue(edgeText, 'fleetmap_uplink_sent_bytes_total', { vehicle: 'veh-1' })).toBeGreaterThan(0);
    expect(metricValue(edgeText, 'fleetmap_uplink_last_ack_timestamp_seconds', { vehicle: 'veh-1' })).toBeGreaterThan(1.7e9);
    expect(metricValue(edgeText, 'fleetmap_outbox_disk_bytes', { vehicle: 'veh-1' })).toBeGreaterThan(0);
    expect(metricValue(ingestText, 'fleetmap_store_seconds_count')).toBe(storedIngest);
    expect(metricValue(ingestText, 'fleetmap_ingest_bytes_total', { outcome: 'stored' })).toBeGreaterThan(0);

    edge.proc.kill('SIGTERM');
    ingest.proc.kill('SIGTERM');
    expect((await edge.proc.exited).code).toBe(0);
    expect((await ingest.proc.exited).code).toBe(0);
  });
});
