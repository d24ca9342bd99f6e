import { describe, expect, it } from 'vitest';
import { parseListenAddress, startMetricsEndpoint } from '../shared/metrics-server.ts';
import { createEdgeMetrics, type EdgeMetricsSample } from './metrics.ts';

const sample = (): EdgeMetricsSample => ({
  pendingObservations: 12,
  unackedBatches: 2,
  deadLetters: 1,
  oldestUnsentAgeS: 42.5,
  outboxDiskBytes: 123_456,
  lastAckUnixS: 1_732_900_000,
  sentBytes: 9000,
  batchesByOutcome: { stored: 7, duplicate: 1, rejected: 1 },
  resends: 3,
  timeouts: 2,
  dropsByReason: { disk_budget: 5 },
  framesByResult: { inferred: 100, skipped_rate: 20 },
  inferenceS: 1.25,
  outboxAddCommits: { durable: 4, deferred: 30 },
});

describe('edge metrics on a real HTTP endpoint', () => {
  it('serves the live numbers in the Prometheus text format on 127.0.0.1, and 404 elsewhere', async () => {
    let s = sample();
    const registry = createEdgeMetrics(() => s, { vehicleId: 'veh-1' });
    const ep = await startMetricsEndpoint(registry, parseListenAddress('0'));
    try {
      expect(ep.address).toMatch(/^127\.0\.0\.1:\d+$/);
      const res = await fetch(`http://${ep.address}/metrics`);
      expect(res.status).toBe(200);
      const text = await res.text();
      expect(text).toContain('fleetmap_outbox_pending_observations{vehicle="veh-1"} 12');
      expect(text).toContain('fleetmap_outbox_oldest_unsent_age_seconds{vehicle="veh-1"} 42.5');
      expect(text).toContain('fleetmap_batches_total{outcome="stored",vehicle="veh-1"} 7');
      expect(text).toContain('fleetmap_drops_total{reason="disk_budget",vehicle="veh-1"} 5');
      expect(text).toContain('fleetmap_perception_frames_total{result="skipped_rate",vehicle="veh-1"} 20');
      expect(text).toContain('fleetmap_outbox_add_commits_total{sync="deferred",vehicle="veh-1"} 30');
      // the next scrape sees the new numbers
      s = { ...sample(), pendingObservations: 0, batchesByOutcome: { stored: 9 } };
      const text2 = await (await fetch(`http://${ep.address}/metrics`)).text();
      expect(text2).toContain('fleetmap_outbox_pending_observations{vehicle="veh-1"} 0');
      expect(text2).toContain('fleetmap_batches_total{outcome="stored",vehicle="veh-1"} 9');
      expect(text2).not.toContain('outcome="duplicate"');
      expect((await fetch(`http://${ep.address}/`)).status).toBe(404);
    } finally {
      await ep.close();
    }
  });

  it('parses listen addresses and refuses bad ones with the value named', () => {
    expect(parseListenAddress('9464')).toEqual({ host: '127.0.0.1', port: 9464 });
    expect(parseListenAddress('0.0.0.0:9464')).toEqual({ host: '0.0.0.0', port: 9464 });
    expect(parseListenAddress('[::1]:9')).toEqual({ host: '::1', port: 9 });
    expect(() => parseListenAddress('host:99999')).toThrow(/"host:99999"/);
    expect(() => parseListenAddress('a b')).toThrow(RangeError);
  });
});
