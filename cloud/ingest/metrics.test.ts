import { describe, expect, it } from 'vitest';
import { startMetricsEndpoint } from '../../shared/metrics-server.ts';
import { FleetHealth } from './health.ts';
import { IngestMetrics } from './metrics.ts';

describe('ingest metrics on a real HTTP endpoint', () => {
  it('counts batches by outcome and refusals by code, and times handling and storing', async () => {
    const m = new IngestMetrics();
    m.observe([{ event: 'batch_stored', vehicleId: 'v', seq: 1, bytes: 100, observations: 3, queueDepth: 0, key: 'k', storeMs: 4 }], 0.002);
    m.observe([{ event: 'batch_duplicate', vehicleId: 'v', seq: 1, bytes: 100 }], 0.001);
    m.observe([{ event: 'batch_rejected', code: 'bad_signature', reason: 'x', vehicleId: null, seq: null, bytes: 75 }], 0.0001);
    m.refused('too_large');
    m.handshakeFailed('auth');
    m.zapDecision('admitted');
    m.zapDecision('unknown_curve_key');
    m.zapDecision('unknown_curve_key');
    expect(m.zapRefusals()).toBe(2);
    const ep = await startMetricsEndpoint(m.registry, { host: '127.0.0.1', port: 0 });
    try {
      const text = await (await fetch(`http://${ep.address}/metrics`)).text();
      expect(text).toContain('fleetmap_batches_total{outcome="stored"} 1');
      expect(text).toContain('fleetmap_batches_total{outcome="duplicate"} 1');
      expect(text).toContain('fleetmap_batches_total{outcome="rejected"} 1');
      expect(text).toContain('fleetmap_batches_total{outcome="store_failed"} 0');
      expect(text).toContain('fleetmap_refusals_total{code="bad_signature"} 1');
      expect(text).toContain('fleetmap_refusals_total{code="too_large"} 1');
      expect(text).toContain('fleetmap_ingest_bytes_total{outcome="stored"} 100');
      expect(text).toContain('fleetmap_ingest_handle_seconds_count 3');
      expect(text).toContain('fleetmap_store_seconds_count 1');
      expect(text).toContain('fleetmap_ingest_handshake_failures_total{kind="auth"} 1');
      expect(text).toContain('fleetmap_ingest_zap_decisions_total{result="admitted"} 1');
      expect(text).toContain('fleetmap_ingest_zap_decisions_total{result="unknown_curve_key"} 2');
    } finally {
      await ep.close();
    }
  });
});

describe('fleet gauges, read from fleet health at each scrape', () => {
  it('counts vehicles in trouble by trouble, and exports what vehicles reported under the edge names', async () => {
    const now = 1_790_000_000_000;
    const health = new FleetHealth(undefined, ['veh-never']);
    health.recordStored('veh-ok', { seq: 1, bytes: 10, observations: 1, queueDepth: 4, status: { oldestUnsentAgeS: 30, dropsByReason: {} } }, now - 1000);
    health.recordStored('veh-drops', { seq: 1, bytes: 10, observations: 1, queueDepth: 0, status: { oldestUnsentAgeS: 7200, dropsByReason: { outbox_full: 5 } } }, now - 1000);
    let clock = now;
    const m = new IngestMetrics();
    m.watchFleet(() => health.snapshot().vehicles, () => clock);
    const ep = await startMetricsEndpoint(m.registry, { host: '127.0.0.1', port: 0 });
    try {
      const scrape = async (): Promise<string> => (await fetch(`http://${ep.address}/metrics`)).text();
      let text = await scrape();
      expect(text).toContain('fleetmap_vehicles 3');
      expect(text).toContain('fleetmap_vehicles_in_trouble 2');
      expect(text).toContain('fleetmap_vehicle_troubles{trouble="silent"} 1');
      expect(text).toContain('fleetmap_vehicle_troubles{trouble="drops"} 1');
      expect(text).toContain('fleetmap_vehicle_troubles{trouble="backlog"} 1');
      expect(text).toContain('fleetmap_vehicle_troubles{trouble="refused"} 0');
      expect(text).toContain('fleetmap_outbox_oldest_unsent_age_seconds{vehicle="veh-drops"} 7200');
      expect(text).toContain('fleetmap_outbox_pending_observations{vehicle="veh-ok"} 4');
      expect(text).toContain('fleetmap_drops_total{vehicle="veh-drops",reason="outbox_full"} 5');
      expect(text).not.toContain('vehicle="veh-never"');
      // two days later every vehicle is silent, and the drops are old news
      clock = now + 2 * 86_400_000;
      text = await scrape();
      expect(text).toContain('fleetmap_vehicles_in_trouble 3');
      expect(text).toContain('fleetmap_vehicle_troubles{trouble="drops"} 0');
    } finally {
      await ep.close();
    }
  });
});
