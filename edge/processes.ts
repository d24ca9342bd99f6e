/**
 * The edge daemon's parts, in one table, and the one supervisor that starts and stops them
 * (after openpilot's system/manager/process_config.py + manager.py).
 *
 * All parts run in one Node process as async loops sharing the outbox; the table order is the
 * start order, and stopping goes down the same order: the intake first (no new data), then the
 * batcher, the uplink and the ack receiver, the monitor last (it logs the final numbers). SQLite
 * transactions are synchronous, so a stop never lands inside one.
 *
 * A part that throws stops the whole daemon with exit code 1 (`process_failed` event); the
 * service manager (systemd on the vehicle) restarts it, and the outbox makes that safe.
 *
 * Each part has a stop deadline: a part still running `stopDeadlineMs` after its abort is
 * abandoned (`process_stop_timeout`, exit code 1) and the stop goes on with the next, so one
 * stuck part (a hung inference, a blocked socket) cannot keep the daemon from exiting; systemd's
 * own TimeoutStopSec stays the last resort. Abandoning is safe for the same reason a kill -9 is.
 */
import type { EdgeContext } from './context.ts';
import { runAcks, runBatcher, runIntake, runMonitor, runPerception, runUplink } from './parts.ts';

export interface ProcessSpec {
  name: string;
  description: string;
  run: (ctx: EdgeContext, signal: AbortSignal) => Promise<void>;
  /** How long the part may take to end after its abort, milliseconds. */
  stopDeadlineMs: number;
}

export const PROCESSES: readonly ProcessSpec[] = [
  { name: 'intake', description: 'PULL sensor bus -> decode -> pose + georeference -> outbox.pending', run: runIntake, stopDeadlineMs: 2000 },
  { name: 'perception', description: 'camera frames -> ONNX segmentation -> local map -> finished stretches of road -> outbox', run: runPerception, stopDeadlineMs: 10_000 },
  { name: 'batcher', description: 'outbox.pending -> signed batches (size, age, drive end, intake idle)', run: runBatcher, stopDeadlineMs: 5000 },
  { name: 'uplink', description: 'send the oldest unacked batch to the ingest, stop-and-wait with backoff', run: runUplink, stopDeadlineMs: 2000 },
  { name: 'acks', description: 'ingest acks -> delete (stored/duplicate) or dead-letter (rejected)', run: runAcks, stopDeadlineMs: 2000 },
  { name: 'monitor', description: 'edge_stats every statsIntervalS; drained detection', run: runMonitor, stopDeadlineMs: 2000 },
];

export interface SuperviseResult {
  reason: string; // 'signal' | 'drained' | 'failed:<part>'
  exitCode: number;
  /** Parts that did not end within their stop deadline (present only when some did not). */
  abandoned?: string[];
}

/**
 * Start every part; on `signal` abort, a requestStop, or a part failing, stop them in table
 * order, each awaited before the next. Resolves when all parts have ended.
 */
export async function supervise(ctx: Omit<EdgeContext, 'requestStop'>, signal: AbortSignal, processes: readonly ProcessSpec[] = PROCESSES): Promise<SuperviseResult> {
  for (const p of processes) {
    if (!(Number.isFinite(p.stopDeadlineMs) && p.stopDeadlineMs > 0)) throw new RangeError(`process ${p.name}: stopDeadlineMs must be a positive number of milliseconds, got ${p.stopDeadlineMs}`);
  }
  let result: SuperviseResult | undefined;
  let stopNow: () => void = () => undefined;
  const stopped = new Promise<void>((resolve) => {
    stopNow = resolve;
  });
  const stop = (r: SuperviseResult): void => {
    if (result) return;
    result = r;
    stopNow();
  };
  const full: EdgeContext = { ...ctx, requestStop: (reason) => stop({ reason, exitCode: 0 }) };
  const onSignal = (): void => stop({ reason: 'signal', exitCode: 0 });
  signal.addEventListener('abort', onSignal, { once: true });
  if (signal.aborted) onSignal();

  const running = processes.map((p) => {
    const ac = new AbortController();
    const done = p.run(full, ac.signal).then(
      () => {
        if (!ac.signal.aborted) {
          ctx.log.error('process_failed', { process: p.name, reason: 'exited unexpectedly' });
          stop({ reason: `failed:${p.name}`, exitCode: 1 });
        }
      },
      (e: unknown) => {
        ctx.log.error('process_failed', { process: p.name, reason: e instanceof Error ? e.message : String(e) });
        stop({ reason: `failed:${p.name}`, exitCode: 1 });
      },
    );
    ctx.log.info('process_started', { process: p.name });
    return { p, ac, done };
  });

  await stopped;
  signal.removeEventListener('abort', onSignal);
  ctx.log.info('stopping', { reason: result!.reason });
  const abandoned: string[] = [];
  for (const r of running) {
    r.ac.abort();
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), r.p.stopDeadlineMs);
    });
    const ended = await Promise.race([r.done.then(() => 'ended' as const), deadline]);
    clearTimeout(timer);
    if (ended === 'timeout') {
      abandoned.push(r.p.name);
      ctx.log.error('process_stop_timeout', { process: r.p.name, stopDeadlineMs: r.p.stopDeadlineMs });
    } else ctx.log.info('process_stopped', { process: r.p.name });
  }
  if (abandoned.length === 0) return result!;
  return { reason: result!.reason, exitCode: 1, abandoned };
}
