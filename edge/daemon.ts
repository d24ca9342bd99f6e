/**
 * The edge daemon's `main`: wires the pure parts to the given sockets and runs the supervisor
 * until `signal` aborts (SIGTERM/SIGINT in cli.ts) or the daemon is drained with
 * exitWhenDrained. Integration tests drive this with real sockets; cli.ts only parses flags.
 */
import type { EdgeConfig } from './config.ts';
import type { EdgeSockets } from './context.ts';
import { Georeferencer } from './georef.ts';
import { ObservationCompactor } from './compact.ts';
import { RateLimitedLog, type Logger } from './log.ts';
import { Outbox } from './outbox.ts';
import { supervise, type SuperviseResult } from './processes.ts';
import { Uplink } from './uplink.ts';
import { Wakeup } from './wakeup.ts';

export interface EdgeMainOptions {
  cfg: EdgeConfig;
  sockets: EdgeSockets;
  signal: AbortSignal;
  log: Logger;
  now?: () => number;
}

export async function main({ cfg, sockets, signal, log, now = Date.now }: EdgeMainOptions): Promise<SuperviseResult> {
  const outbox = new Outbox(cfg.outboxPath, { vehicleId: cfg.vehicleId, maxContentBytes: cfg.hwProfile.outbox.maxDiskMb * 1024 * 1024 });
  try {
    const start = outbox.stats();
    log.info('outbox_opened', { ...start, path: cfg.outboxPath });
    const up = cfg.hwProfile.uplink;
    const uplink = new Uplink({
      ackTimeoutMs: up.ackTimeoutMs,
      maxKbps: up.maxKbps,
      backoff: { baseMs: up.backoffBaseMs, capMs: up.backoffCapMs, jitter: up.backoffJitter },
    });
    return await supervise(
      {
        cfg,
        log,
        limited: new RateLimitedLog(log, 1000, now),
        outbox,
        georef: new Georeferencer(
          cfg.vehicleId,
          undefined,
          savedDrive(outbox.getMeta('drive')),
          cfg.keyframeSpacingM > 0 ? new ObservationCompactor({ keyframeSpacingM: cfg.keyframeSpacingM, maxWindowM: Math.max(30, cfg.keyframeSpacingM) }) : undefined,
        ),
        uplink,
        sockets,
        wake: { batcher: new Wakeup(), uplink: new Wakeup(), monitor: new Wakeup() },
        state: {
          messagesIn: 0,
          startedAtMs: now(),
          lastMessageAtMs: undefined,
          badMessages: {},
          observationsQueued: 0,
          observationsRefused: 0,
          batchesFormed: 0,
          observationsDelivered: 0,
          flushRequested: start.pendingObservations > 0, // leftovers from the last run go out now
          hadWork: start.pendingObservations > 0 || start.batches > 0,
          drained: false,
        },
        now,
      },
      signal,
    );
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
