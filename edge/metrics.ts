/**
 * The daemon's Prometheus metrics (prom-client), read from the live counters at scrape time: the
 * loops keep counting as they do for `edge_stats`, and a scrape copies the numbers (one reading
 * per scrape). Names are
 * shared with the ingest where they mean the same (`fleetmap_batches_total{outcome}`): the edge
 * counts the acks it got, the ingest the answers it gave. Served by shared/metrics-server.ts on
 * `--metrics-listen` (127.0.0.1 by default).
 */
import { Counter, Gauge, Registry } from 'prom-client';
import type { EdgeContext } from './context.ts';
import type { MetricsSource } from '../shared/metrics-server.ts';

/** One reading of the daemon's numbers (cumulative counts since start, and levels now). */
export interface EdgeMetricsSample {
  pendingObservations: number;
  unackedBatches: number;
  deadLetters: number;
  /** Age of the oldest data not yet acknowledged (pending or in a batch), seconds; 0 when none. */
  oldestUnsentAgeS: number;
  /** Bytes the outbox holds on disk (database, WAL, shared memory). */
  outboxDiskBytes: number;
  /** Wall clock of the last verified ack, Unix seconds; 0 before the first. */
  lastAckUnixS: number;
  sentBytes: number;
  /** Acks by outcome: stored, duplicate, rejected (dead-lettered). */
  batchesByOutcome: Readonly<Record<string, number>>;
  resends: number;
  timeouts: number;
  /** Data dropped on the vehicle, by reason (outbox_full, disk_budget, sensor message codes, ...). */
  dropsByReason: Readonly<Record<string, number>>;
  /** Camera frames by what became of them: inferred, skipped_rate, skipped_behind, stationary, ... */
  framesByResult: Readonly<Record<string, number>>;
  /** Total inference time, seconds. */
  inferenceS: number;
  /** Outbox adds of observations by commit: durable (fsync'd at once), deferred (synced by a later commit; edge/outbox-sync.ts). */
  outboxAddCommits: Readonly<Record<string, number>>;
}

function setAll(c: Counter, label: string, values: Readonly<Record<string, number>>): void {
  c.reset();
  for (const [k, v] of Object.entries(values)) c.inc({ [label]: k }, v);
}

/**
 * The daemon's metrics: each scrape takes ONE reading of the live counters (`read`: a few counter
 * reads and SQLite counts) and renders every metric from it, so the figures of one scrape agree.
 */
export function createEdgeMetrics(read: () => EdgeMetricsSample, labels: { vehicleId: string }): MetricsSource {
  const registry = new Registry();
  registry.setDefaultLabels({ vehicle: labels.vehicleId });
  const updates: Array<(s: EdgeMetricsSample) => void> = [];
  const gauge = (name: string, help: string, pick: (s: EdgeMetricsSample) => number): void => {
    const g = new Gauge({ name, help, registers: [registry] });
    updates.push((s) => g.set(pick(s)));
  };
  const counter = (name: string, help: string, pick: (s: EdgeMetricsSample) => number): void => {
    const c = new Counter({ name, help, registers: [registry] });
    updates.push((s) => {
      c.reset();
      c.inc(pick(s));
    });
  };
  const labelled = (name: string, help: string, label: string, pick: (s: EdgeMetricsSample) => Readonly<Record<string, number>>): void => {
    const c = new Counter({ name, help, labelNames: [label], registers: [registry] });
    updates.push((s) => setAll(c, label, pick(s)));
  };
  gauge('fleetmap_outbox_pending_observations', 'Observations waiting to be batched.', (s) => s.pendingObservations);
  gauge('fleetmap_outbox_unacked_batches', 'Signed batches waiting for an ack.', (s) => s.unackedBatches);
  gauge('fleetmap_outbox_dead_letters', 'Batches the ingest rejected, held for an operator.', (s) => s.deadLetters);
  gauge('fleetmap_outbox_oldest_unsent_age_seconds', 'Age of the oldest data not yet acknowledged.', (s) => s.oldestUnsentAgeS);
  gauge('fleetmap_outbox_disk_bytes', 'Bytes the outbox holds on disk (database, WAL, shared memory).', (s) => s.outboxDiskBytes);
  gauge('fleetmap_uplink_last_ack_timestamp_seconds', 'Unix time of the last verified ack (0: none yet).', (s) => s.lastAckUnixS);
  counter('fleetmap_uplink_sent_bytes_total', 'Envelope bytes sent to the ingest, resends included.', (s) => s.sentBytes);
  counter('fleetmap_uplink_resends_total', 'Batches sent again after a timeout or a failed send.', (s) => s.resends);
  counter('fleetmap_uplink_timeouts_total', 'Sends that got no ack in time.', (s) => s.timeouts);
  labelled('fleetmap_batches_total', 'Batches by the outcome the ingest acknowledged.', 'outcome', (s) => s.batchesByOutcome);
  labelled('fleetmap_drops_total', 'Data dropped on the vehicle, by reason.', 'reason', (s) => s.dropsByReason);
  labelled('fleetmap_perception_frames_total', 'Camera frames by what became of them.', 'result', (s) => s.framesByResult);
  counter('fleetmap_inference_seconds_total', 'Time spent in model inference.', (s) => s.inferenceS);
  labelled('fleetmap_outbox_add_commits_total', "Outbox adds of observations: durable (fsync'd at once) or deferred (synced by a later commit within outbox.syncEveryMs).", 'sync', (s) => s.outboxAddCommits);
  return {
    contentType: registry.contentType,
    metrics: () => {
      const sample = read();
      for (const u of updates) u(sample);
      return registry.metrics();
    },
  };
}

const sum = (c: Partial<Record<string, number>>): number => Object.values(c).reduce<number>((a, v) => a + (v ?? 0), 0);

/** The daemon's live numbers as one sample (the same counters `edge_stats` logs). */
export function sampleEdgeMetrics(ctx: EdgeContext): EdgeMetricsSample {
  const o = ctx.outbox.stats();
  const u = ctx.uplink.counters;
  const s = ctx.state;
  const drops = edgeDropsByReason(ctx);
  const frames: Record<string, number> = {};
  if (ctx.perception) {
    const c = ctx.perception.counters;
    Object.assign(frames, {
      inferred: c.framesProcessed,
      skipped_rate: c.framesSkippedRate,
      skipped_behind: c.framesSkippedBehind,
      stationary: c.framesSkippedStationary,
      without_pose: c.framesWithoutPose,
      wrong_size: c.framesWrongSize,
    });
  }
  return {
    pendingObservations: o.pendingObservations,
    unackedBatches: o.batches,
    deadLetters: o.deadLetters,
    oldestUnsentAgeS: oldestUnsentAgeS(ctx),
    outboxDiskBytes: ctx.outbox.disk().totalBytes,
    lastAckUnixS: s.lastAckUnixMs === undefined ? 0 : s.lastAckUnixMs / 1000,
    sentBytes: s.bytesSent,
    batchesByOutcome: { stored: u.delivered, duplicate: u.duplicates, rejected: u.deadLettered },
    resends: u.resends,
    timeouts: u.timeouts,
    dropsByReason: drops,
    framesByResult: frames,
    inferenceS: ctx.perception ? ctx.perception.counters.inferenceMsTotal / 1000 : 0,
    outboxAddCommits: { ...ctx.outbox.addCommits },
  };
}

/** Age of the oldest data not yet acknowledged (pending at any priority, or in a batch), seconds; 0 when none. */
export function oldestUnsentAgeS(ctx: Pick<EdgeContext, 'outbox' | 'now'>): number {
  const oldestPending = ctx.outbox.oldestPendingUnixMs(0); // every priority (0..9)
  const head = ctx.outbox.head();
  const oldest = Math.min(oldestPending ?? Infinity, head?.createdUnixMs ?? Infinity);
  return Number.isFinite(oldest) ? Math.max(0, (ctx.now() - oldest) / 1000) : 0;
}

/** Data dropped on the vehicle, by reason: the outbox's budget drops and refusals, and bad sensor messages. */
export function edgeDropsByReason(ctx: Pick<EdgeContext, 'outbox' | 'state'>): Record<string, number> {
  const t = ctx.outbox.dropTotals;
  const drops: Record<string, number> = {
    disk_budget_pending: sum(t.observations.pending),
    disk_budget_batches: sum(t.observations.batches),
    disk_budget_dead_letters: sum(t.observations.dead_letters),
    outbox_full: sum(t.observations.refused),
  };
  for (const [code, n] of Object.entries(ctx.state.badMessages)) drops[`sensor_${code}`] = n ?? 0;
  return drops;
}
