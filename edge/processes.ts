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
 */
import type { EdgeContext } from './context.ts';
import { runAcks, runBatcher, runIntake, runMonitor, runPerception, runUplink } from './parts.ts';

export interface ProcessSpec {
  name: string;
  description: string;
  run: (ctx: EdgeContext, signal: AbortSignal) => Promise<void>;
}

export const PROCESSES: readonly ProcessSpec[] = [
  { name: 'intake', description: 'PULL sensor bus -> decode -> pose + georeference -> outbox.pending', run: runIntake },
  { name: 'perception', description: 'camera frames -> ONNX segmentation -> local map -> finished stretches of road -> outbox', run: runPerception },
  { name: 'batcher', description: 'outbox.pending -> signed batches (size, age, drive end, intake idle)', run: runBatcher },
  { name: 'uplink', description: 'send the oldest unacked batch to the ingest, stop-and-wait with backoff', run: runUplink },
  { name: 'acks', description: 'ingest acks -> delete (stored/duplicate) or dead-letter (rejected)', run: runAcks },
  { name: 'monitor', description: 'edge_stats every statsIntervalS; drained detection', run: runMonitor },
];

export interface SuperviseResult {
  reason: string; // 'signal' | 'drained' | 'failed:<part>'
  exitCode: number;
}

/**
 * Start every part; on `signal` abort, a requestStop, or a part failing, stop them in table
 * order, each awaited before the next. Resolves when all parts have ended.
 */
export async function supervise(ctx: Omit<EdgeContext, 'requestStop'>, signal: AbortSignal, processes: readonly ProcessSpec[] = PROCESSES): Promise<SuperviseResult> {
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
  for (const r of running) {
    r.ac.abort();
    await r.done;
    ctx.log.info('process_stopped', { process: r.p.name });
  }
  return result!;
}
