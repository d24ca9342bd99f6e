/**
 * The edge daemon's `main`: wires the pure parts to the given sockets and runs the supervisor
 * until `signal` aborts (SIGTERM/SIGINT in cli.ts) or the daemon is drained with
 * exitWhenDrained. Integration tests drive this with real sockets; cli.ts only parses flags.
 */
import { startMetricsEndpoint } from '../shared/metrics-server.ts';
import type { EdgeContext } from './context.ts';
import { createEdgeMetrics, sampleEdgeMetrics } from './metrics.ts';
import type { EdgeConfig } from './config.ts';
import type { EdgeSockets } from './context.ts';
import { PoseEstimator } from './pose.ts';
import { Georeferencer } from './georef.ts';
import { ObservationCompactor } from './compact.ts';
import { RateLimitedLog, type Logger } from '../shared/log.ts';
import { Outbox } from './outbox.ts';
import { DEFAULT_SYNC_EVERY_MS } from './outbox-sync.ts';
import { applyLinkToUplink, linkStatus, logLink } from './link-watch.ts';
import { supervise, type SuperviseResult } from './processes.ts';
import { Uplink } from './uplink.ts';
import { Wakeup } from './wakeup.ts';
import { executionProviderNames, onnxruntimeSessionOptions } from './hw-profile.ts';
import { CameraPerception } from './perception/camera-perception.ts';
import { Segmenter } from './perception/model.ts';
import { WorkerSegmenter } from './perception/worker-segmenter.ts';

export interface EdgeMainOptions {
  cfg: EdgeConfig;
  sockets: EdgeSockets;
  signal: AbortSignal;
  log: Logger;
  now?: () => number;
}

/** The perception stage, when the vehicle has a calibrated camera; the model is loaded and checked here. */
export async function startPerception(cfg: EdgeConfig, log: Logger): Promise<{ perception: CameraPerception; modelVersion: string; close: () => Promise<void> } | undefined> {
  if (!cfg.cameraCalibration) {
    log.info('perception_off', { reason: 'no camera calibration (--camera-calibration): camera frames are refused and counted' });
    return undefined;
  }
  const inf = cfg.hwProfile.inference;
  const providerOptions = Object.fromEntries(onnxruntimeSessionOptions(cfg.hwProfile).executionProviders.map(({ name, ...rest }) => [name, rest]));
  // In a worker thread where the profile says so (worker-segmenter.ts): inference never holds the daemon's thread.
  const thread = inf.thread ?? 'main';
  const segmenter = await (thread === 'worker' ? WorkerSegmenter : Segmenter).create({
    modelPath: cfg.modelPath,
    executionProviders: executionProviderNames(cfg.hwProfile),
    providerOptions,
    intraOpThreads: inf.intraOpThreads,
    interOpThreads: inf.interOpThreads,
    onWarn: (event, fields) => log.warn(event, fields),
  });
  const md = segmenter.model.metadata;
  log.info('perception_started', {
    model: md.name,
    modelVersion: md.version,
    sha256: md.sha256,
    provider: segmenter.provider,
    requestedProviders: executionProviderNames(cfg.hwProfile),
    fallbacks: segmenter.fallbacks.length,
    inferenceThread: thread,
    maxHz: cfg.hwProfile.perception.maxHz,
    skipPolicy: cfg.replay ? 'backpressure (replay)' : cfg.hwProfile.perception.skipPolicy,
    camera: `${cfg.cameraCalibration.widthPx}x${cfg.cameraCalibration.heightPx}`,
    // The training's class weighting taken back out of the arg-max (decode.ts), or 'none'.
    classPrior: segmenter.classPriorAlpha > 0 ? `alpha ${segmenter.classPriorAlpha}` : 'none',
  });
  return { perception: new CameraPerception(segmenter, cfg.cameraCalibration, { maxRateHz: cfg.hwProfile.perception.maxHz, slope: cfg.hwProfile.perception.roadSlope === true ? {} : false }), modelVersion: md.version, close: () => segmenter.close() };
}

export async function main({ cfg, sockets, signal, log, now = Date.now }: EdgeMainOptions): Promise<SuperviseResult> {
  const started = await startPerception(cfg, log);
  try {
    return await runWithPerception({ cfg, sockets, signal, log, now }, started);
  } finally {
    await started?.close();
  }
}

async function runWithPerception({ cfg, sockets, signal, log, now = Date.now }: EdgeMainOptions, started: Awaited<ReturnType<typeof startPerception>>): Promise<SuperviseResult> {
  const perception = started?.perception;
  const ob = cfg.hwProfile.outbox;
  const syncEveryMs = ob.syncEveryMs ?? DEFAULT_SYNC_EVERY_MS;
  const outbox = new Outbox(cfg.outboxPath, {
    vehicleId: cfg.vehicleId,
    maxDiskBytes: ob.maxDiskMb * 1024 * 1024,
    policy: { dropWhenFull: ob.dropWhenFull, dropToPercent: ob.dropToPercent, classPriority: ob.classPriority },
    syncEveryMs,
  });
  try {
    const start = outbox.stats();
    const disk = outbox.disk();
    log.info('outbox_opened', {
      ...start,
      path: cfg.outboxPath,
      maxDiskBytes: outbox.maxDiskBytes,
      dbBytes: disk.dbBytes,
      walBytes: disk.walBytes,
      dropWhenFull: ob.dropWhenFull,
      syncEveryMs,
      migratedFromSchema: outbox.opened.migratedFrom ?? null,
      vacuumedBytes: outbox.opened.vacuumed ? [outbox.opened.vacuumed.beforeBytes, outbox.opened.vacuumed.afterBytes] : null,
    });
    const up = cfg.hwProfile.uplink;
    const uplink = new Uplink({
      ackTimeoutMs: up.ackTimeoutMs,
      maxKbps: up.maxKbps,
      backoff: { baseMs: up.backoffBaseMs, capMs: up.backoffCapMs, jitter: up.backoffJitter },
    });
    const link = linkStatus(cfg, now());
    applyLinkToUplink(uplink, link);
    logLink({ log }, link, null);
    const ctx: Omit<EdgeContext, 'requestStop'> = {
      cfg,
      log,
      limited: new RateLimitedLog(log, 1000, now),
      outbox,
      georef: new Georeferencer(
        cfg.vehicleId,
        new PoseEstimator({ minGnssSigmaM: cfg.gnssMinSigmaM }),
        savedDrive(outbox.getMeta('drive')),
        cfg.keyframeSpacingM > 0 ? new ObservationCompactor({ keyframeSpacingM: cfg.keyframeSpacingM, maxWindowM: Math.max(30, cfg.keyframeSpacingM) }) : undefined,
      ),
      perception,
      modelVersion: started?.modelVersion,
      uplink,
      sockets,
      wake: { batcher: new Wakeup(), uplink: new Wakeup(), monitor: new Wakeup(), intake: new Wakeup(), perception: new Wakeup() },
      state: {
        messagesIn: 0,
        startedAtMs: now(),
        lastMessageAtMs: undefined,
        badMessages: {},
        observationsQueued: 0,
        observationsRefused: 0,
        batchesFormed: 0,
        observationsDelivered: 0,
        bytesSent: 0,
        lastAckUnixMs: undefined,
        flushRequested: start.pendingObservations > 0, // leftovers from the last run go out now
        hadWork: start.pendingObservations > 0 || start.batches > 0,
        drained: false,
        perceptionBusy: false,
        perceptionFlushWaiters: [],
        link,
      },
      now,
    };
    // Prometheus metrics: read from the live counters at each scrape (edge/metrics.ts).
    const metrics = cfg.metricsListen
      ? await startMetricsEndpoint(createEdgeMetrics(() => sampleEdgeMetrics({ ...ctx, requestStop: () => undefined }), { vehicleId: cfg.vehicleId }), cfg.metricsListen)
      : undefined;
    if (metrics) log.info('metrics_listening', { address: metrics.address });
    try {
      return await supervise(ctx, signal);
    } finally {
      await metrics?.close();
    }
  } finally {
    outbox.close();
    log.info('outbox_closed', { path: cfg.outboxPath });
  }
}

function savedDrive(json: string | undefined): { driveId: string | undefined; open: boolean } | undefined {
  if (json === undefined) return undefined;
  try {
    const d = JSON.parse(json) as { driveId?: unknown; open?: unknown };
    return { driveId: typeof d.driveId === 'string' ? d.driveId : undefined, open: d.open === true };
  } catch {
    return undefined;
  }
}
