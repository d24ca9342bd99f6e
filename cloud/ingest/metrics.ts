/**
 * The ingest's Prometheus metrics (prom-client): batches by outcome, refusals by code, bytes,
 * how long each message and each store write took, failed handshakes. Names are shared with the
 * edge's where they mean the same (`fleetmap_batches_total{outcome}`). Served by
 * shared/metrics-server.ts on `--metrics-listen` (127.0.0.1 by default).
 */
import { Counter, Histogram, Registry } from 'prom-client';
import type { IngestEffect } from './service.ts';

const SECONDS_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

export class IngestMetrics {
  readonly registry = new Registry();
  private readonly batches = new Counter({ name: 'fleetmap_batches_total', help: 'Batches by the outcome the ingest acknowledged (stored, duplicate, rejected) or store_failed (no ack).', labelNames: ['outcome'], registers: [this.registry] });
  private readonly refusals = new Counter({ name: 'fleetmap_refusals_total', help: 'Refused messages by refusal code.', labelNames: ['code'], registers: [this.registry] });
  private readonly bytes = new Counter({ name: 'fleetmap_ingest_bytes_total', help: 'Envelope bytes received, by outcome.', labelNames: ['outcome'], registers: [this.registry] });
  private readonly handle = new Histogram({ name: 'fleetmap_ingest_handle_seconds', help: 'Time to answer one message (authenticate, validate, store).', buckets: SECONDS_BUCKETS, registers: [this.registry] });
  private readonly store = new Histogram({ name: 'fleetmap_store_seconds', help: 'Time to store one batch durably (before its ack).', buckets: SECONDS_BUCKETS, registers: [this.registry] });
  private readonly disconnects = new Counter({ name: 'fleetmap_ingest_disconnects_total', help: 'Connections that ended, including those libzmq closed because the peer sent a message above the size limit.', registers: [this.registry] });
  private readonly handshakes = new Counter({ name: 'fleetmap_ingest_handshake_failures_total', help: 'Failed transport handshakes (CURVE/ZAP), by kind.', labelNames: ['kind'], registers: [this.registry] });
  private readonly zap = new Counter({ name: 'fleetmap_ingest_zap_decisions_total', help: 'ZAP decisions on CURVE handshakes: admitted, or the refusal code (unknown_curve_key, revoked_vehicle, bad_mechanism, bad_request, lookup_failed).', labelNames: ['result'], registers: [this.registry] });
  private zapRefused = 0;

  constructor() {
    // Outcomes and codes that have not happened yet still appear (as 0) once known.
    for (const outcome of ['stored', 'duplicate', 'rejected', 'store_failed']) {
      this.batches.inc({ outcome }, 0);
      this.bytes.inc({ outcome }, 0);
    }
  }

  /** Count what one message did; `handleS` is how long it took to answer. */
  observe(effects: readonly IngestEffect[], handleS: number): void {
    this.handle.observe(handleS);
    for (const e of effects) {
      switch (e.event) {
        case 'batch_stored':
          this.batches.inc({ outcome: 'stored' });
          this.store.observe(e.storeMs / 1000);
          this.bytes.inc({ outcome: 'stored' }, e.bytes);
          break;
        case 'batch_duplicate':
          this.batches.inc({ outcome: 'duplicate' });
          this.bytes.inc({ outcome: 'duplicate' }, e.bytes);
          break;
        case 'batch_rejected':
          this.batches.inc({ outcome: 'rejected' });
          this.bytes.inc({ outcome: 'rejected' }, e.bytes);
          this.refusals.inc({ code: e.code });
          break;
        case 'store_failed':
          this.batches.inc({ outcome: 'store_failed' });
          break;
      }
    }
  }

  /** A message refused before the service saw it (oversized, bad framing, queue full). */
  refused(code: string): void {
    this.refusals.inc({ code });
  }

  /** A connection ended (a vehicle went away, or libzmq closed it for an oversized message). */
  disconnected(): void {
    this.disconnects.inc();
  }

  handshakeFailed(kind: string): void {
    this.handshakes.inc({ kind });
  }

  /** One ZAP decision: 'admitted' or a refusal code. */
  zapDecision(result: string): void {
    this.zap.inc({ result });
    if (result !== 'admitted') this.zapRefused++;
  }

  /** ZAP refusals since start. */
  zapRefusals(): number {
    return this.zapRefused;
  }
}
