/**
 * The ingest's Prometheus metrics (prom-client): batches by outcome, refusals by code, bytes,
 * how long each message and each store write took, failed handshakes; and, read from fleet health
 * at scrape time (`watchFleet`), the vehicles in trouble (health.ts troubleOf) and what each
 * vehicle last reported (oldest unsent age, pending observations, drops by reason). Names are
 * shared with the edge's where they mean the same (`fleetmap_batches_total{outcome}`,
 * `fleetmap_outbox_oldest_unsent_age_seconds{vehicle}`, `fleetmap_outbox_pending_observations{vehicle}`,
 * `fleetmap_drops_total{vehicle,reason}`: here as the vehicle last reported them). Served by
 * shared/metrics-server.ts on `--metrics-listen` (127.0.0.1 by default).
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { DEFAULT_TROUBLE_THRESHOLDS, TROUBLE_CODES, troubleOf, type TroubleCode, type TroubleThresholds, type VehicleHealth } from './health.ts';
import type { IngestEffect } from './service.ts';

/** One reading of the fleet for a scrape. */
interface FleetReading {
  vehicles: number;
  inTrouble: number;
  byTrouble: Record<TroubleCode, number>;
  reported: Array<{ vehicle: string; oldestUnsentAgeS: number | null; pending: number | null; drops: Readonly<Record<string, number>> }>;
}

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
  private fleet: FleetReading | undefined;

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

  /**
   * Fleet gauges, read at each scrape from `vehicles` (fleet health) with the clock and thresholds:
   * fleetmap_vehicles, fleetmap_vehicles_in_trouble, fleetmap_vehicle_troubles{trouble}, and per
   * vehicle what it last reported. Call once.
   */
  watchFleet(vehicles: () => Readonly<Record<string, VehicleHealth>>, nowUnixMs: () => number = Date.now, thresholds: Readonly<TroubleThresholds> = DEFAULT_TROUBLE_THRESHOLDS): void {
    const r = [this.registry];
    const self = this;
    // The first fleet metric takes the reading; the others, rendered after it in the same scrape, use it.
    new Gauge({
      name: 'fleetmap_vehicles',
      help: 'Vehicles in fleet health (registered or heard from).',
      registers: r,
      collect() {
        self.fleet = fleetReading(vehicles(), nowUnixMs(), thresholds);
        this.set(self.fleet.vehicles);
      },
    });
    const reading = (): FleetReading => (self.fleet ??= fleetReading(vehicles(), nowUnixMs(), thresholds));
    new Gauge({
      name: 'fleetmap_vehicles_in_trouble',
      help: 'Vehicles with at least one trouble (silent, refused, drops, backlog; `fleetmap cloud health`).',
      registers: r,
      collect() {
        this.set(reading().inTrouble);
      },
    });
    new Gauge({
      name: 'fleetmap_vehicle_troubles',
      help: 'Vehicles with this trouble (a vehicle may have several).',
      labelNames: ['trouble'],
      registers: r,
      collect() {
        for (const code of TROUBLE_CODES) this.set({ trouble: code }, reading().byTrouble[code]);
      },
    });
    new Gauge({
      name: 'fleetmap_outbox_oldest_unsent_age_seconds',
      help: 'Age of the oldest data not yet acknowledged, as each vehicle last reported it.',
      labelNames: ['vehicle'],
      registers: r,
      collect() {
        this.reset();
        for (const v of reading().reported) if (v.oldestUnsentAgeS !== null) this.set({ vehicle: v.vehicle }, v.oldestUnsentAgeS);
      },
    });
    new Gauge({
      name: 'fleetmap_outbox_pending_observations',
      help: 'Observations waiting on the vehicle after its last stored batch (its queue depth), as it reported it.',
      labelNames: ['vehicle'],
      registers: r,
      collect() {
        this.reset();
        for (const v of reading().reported) if (v.pending !== null) this.set({ vehicle: v.vehicle }, v.pending);
      },
    });
    new Counter({
      name: 'fleetmap_drops_total',
      help: 'Data dropped on the vehicle, by reason, as each vehicle last reported it.',
      labelNames: ['vehicle', 'reason'],
      registers: r,
      collect() {
        this.reset();
        for (const v of reading().reported) for (const [reason, n] of Object.entries(v.drops)) this.inc({ vehicle: v.vehicle, reason }, n);
        self.fleet = undefined; // the last fleet metric of the scrape: the next scrape reads afresh
      },
    });
  }

  /** ZAP refusals since start. */
  zapRefusals(): number {
    return this.zapRefused;
  }
}

function fleetReading(vehicles: Readonly<Record<string, VehicleHealth>>, nowUnixMs: number, t: Readonly<TroubleThresholds>): FleetReading {
  const byTrouble = Object.fromEntries(TROUBLE_CODES.map((c) => [c, 0])) as Record<TroubleCode, number>;
  let inTrouble = 0;
  const reported: FleetReading['reported'] = [];
  for (const [vehicle, v] of Object.entries(vehicles)) {
    const trouble = troubleOf(v, nowUnixMs, t);
    if (trouble.length > 0) inTrouble++;
    for (const x of trouble) byTrouble[x.code]++;
    reported.push({ vehicle, oldestUnsentAgeS: v.oldestUnsentAgeS, pending: v.lastQueueDepth, drops: v.dropsByReason });
  }
  return { vehicles: Object.keys(vehicles).length, inTrouble, byTrouble, reported };
}
