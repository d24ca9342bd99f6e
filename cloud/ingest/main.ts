/**
 * The ingest's thin socket loop: ROUTER in, each message through IngestService, the signed ack
 * back to the same peer. Frames: [peer, envelope] from a DEALER, or [peer, "", envelope] from a
 * REQ (the reply keeps the empty delimiter). Anything else is rejected as bad_frames (to a REQ
 * peer, one whose first frame is empty, with the delimiter kept, so that it receives the answer).
 *
 * Group commit: up to `maxInFlight` messages are handled at once, so the durable writes of many
 * vehicles (each an fsync'd file and directory) overlap and the file system commits them
 * together; each ack is still sent only after its own batch is durable. A vehicle has one batch
 * in flight at a time (stop-and-wait), and two copies of one batch (a resend racing the
 * original) are settled by the store's putIfAbsent: one `stored`, the other `duplicate`.
 * When `maxInFlight` messages are in hand the loop stops reading, and ZeroMQ's receive
 * high-water mark (set by the caller) bounds what waits in the socket: inbound memory is bounded.
 *
 * Health is written after every change, coalesced (health-writer.ts), so a kill -9 loses at most
 * the last write's worth of counts. Every ack is signed with the ingest's ack key (shared/ack.ts).
 * Before each message `beforeMessage` runs (the key registry's freshness check: registry-watch.ts).
 *
 * Stop (signal abort): no new message is taken; the messages in hand are finished and answered,
 * then the socket closes and health is written.
 */
import type { KeyObject } from 'node:crypto';
import type * as zmq from 'zeromq';
import type { ObjectStore } from '../store/index.ts';
import { encodeAckAsync } from '../../shared/index.ts';
import { crashPoint } from '../../shared/crash-points.ts';
import { HEALTH_KEY, type FleetHealth } from './health.ts';
import { HealthWriter } from './health-writer.ts';
import type { IngestMetrics } from './metrics.ts';
import type { Logger } from '../../shared/log.ts';
import type { IngestResult, IngestService } from './service.ts';

export interface IngestMainOptions {
  sockets: { router: zmq.Router };
  signal: AbortSignal;
  service: IngestService;
  health: FleetHealth;
  store: ObjectStore;
  log: Logger;
  /** Least time between two health writes, ms (0: after every change, coalesced). */
  healthMinIntervalMs: number;
  /** The ingest's Ed25519 ack key (private). */
  ackKey: KeyObject;
  /** Messages handled at once at most (group commit), >= 1. */
  maxInFlight: number;
  metrics?: IngestMetrics;
  beforeMessage?: () => void;
}

export interface IngestCounters {
  messages: number;
  stored: number;
  duplicates: number;
  rejected: number;
  storeFailures: number;
  /** Messages that arrived after the stop began (not answered: the edge resends them). */
  droppedAtStop: number;
}

export async function main(o: IngestMainOptions): Promise<IngestCounters> {
  const { router } = o.sockets;
  const { log, signal } = o;
  if (!(Number.isInteger(o.maxInFlight) && o.maxInFlight >= 1)) throw new RangeError(`maxInFlight must be an integer >= 1, got ${o.maxInFlight}`);
  const counters: IngestCounters = { messages: 0, stored: 0, duplicates: 0, rejected: 0, storeFailures: 0, droppedAtStop: 0 };
  const writer = new HealthWriter({ health: o.health, store: o.store, log, minIntervalMs: o.healthMinIntervalMs }).start();
  const inFlight = new InFlight();
  const send = serialSender(router);
  const settle = (): Promise<void> => inFlight.drained();
  const onAbort = (): void => {
    // Finish and answer what is in hand, then close (which ends the receive loop).
    void settle().then(() => {
      if (!router.closed) router.close();
    });
  };
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    for await (const frames of router) {
      if (signal.aborted) {
        counters.droppedAtStop++;
        continue;
      }
      inFlight.track(handleMessage(o, frames, counters, send));
      await inFlight.below(o.maxInFlight);
    }
  } catch (e) {
    if (!signal.aborted) throw e;
  } finally {
    signal.removeEventListener('abort', onAbort);
    await settle();
    if (!router.closed) router.close();
    await writer.close();
    log.log('info', 'health_persisted', { key: HEALTH_KEY, store: o.store.describe(), writes: writer.writes, failures: writer.failures });
  }
  return counters;
}

/**
 * The messages in hand: a count, and the few waiters (the receive loop, the stop) woken when it
 * falls below their mark. Promise.race over the set of promises in hand did the same but added a
 * reaction to each of up to maxInFlight promises for every message received. A message whose
 * handling throws (a bug: handleMessage logs its failures) fails the waiters, as the race did.
 */
class InFlight {
  private count = 0;
  private failure: { error: unknown } | undefined;
  private waiters: Array<{ mark: number; resolve: () => void; reject: ((e: unknown) => void) | undefined }> = [];

  track(p: Promise<void>): void {
    this.count++;
    p.then(
      () => this.settled(),
      (e: unknown) => {
        this.failure ??= { error: e };
        this.settled();
      },
    );
  }

  /** Resolves once fewer than `mark` messages are in hand (at once if so already). */
  below(mark: number): Promise<void> {
    if (this.failure) return Promise.reject(this.failure.error);
    if (this.count < mark) return Promise.resolve();
    return new Promise((resolve, reject) => this.waiters.push({ mark, resolve, reject }));
  }

  /** Resolves once no message is in hand, whether or not one failed (the stop). */
  drained(): Promise<void> {
    if (this.count === 0) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ mark: 1, resolve, reject: undefined }));
  }

  private settled(): void {
    this.count--;
    if (this.waiters.length === 0) return;
    const waiting = this.waiters;
    this.waiters = [];
    for (const w of waiting) {
      if (this.failure && w.reject) w.reject(this.failure.error);
      else if (this.count < w.mark) w.resolve();
      else this.waiters.push(w);
    }
  }
}

/**
 * A zeromq.js socket allows one send in progress at a time (a second one fails with EBUSY), and
 * the messages in hand finish in any order: their acks queue here, per socket.
 */
function serialSender(router: zmq.Router): (frames: Buffer[]) => Promise<void> {
  let last: Promise<void> = Promise.resolve();
  return (frames) => {
    const next = last.then(() => router.send(frames));
    last = next.catch(() => undefined);
    return next;
  };
}

async function handleMessage(o: IngestMainOptions, frames: Buffer[], counters: IngestCounters, send: (frames: Buffer[]) => Promise<void>): Promise<void> {
  counters.messages++;
  o.beforeMessage?.();
  const peer = frames[0]!;
  // A REQ peer starts every message with an empty delimiter frame and takes only replies that
  // keep it: kept whenever it is there, so a REQ that sent bad framing still hears bad_frames.
  const delimiter = frames.length >= 3 && frames[1]!.length === 0;
  const envelope: Buffer | undefined = delimiter ? (frames.length === 3 ? frames[2] : undefined) : frames.length === 2 ? frames[1] : undefined;
  let r: IngestResult;
  const t0 = performance.now();
  if (envelope === undefined) {
    r = o.service.rejectFraming(`expected [envelope] from a DEALER or ["", envelope] from a REQ, got ${frames.length - 1} frames`, frames.slice(1));
  } else {
    try {
      r = await o.service.handle(envelope);
    } catch (e) {
      // A bug, not a bad message: answer nothing (the edge retries), keep serving.
      o.log.log('error', 'handle_failed', { reason: e instanceof Error ? e.message : String(e), bytes: envelope.length });
      return;
    }
  }
  o.metrics?.observe(r.effects, (performance.now() - t0) / 1000);
  for (const ef of r.effects) {
    const { event, ...fields } = ef;
    if (event === 'batch_stored') crashPoint('ingest_after_store');
    if (event === 'batch_stored') counters.stored++;
    else if (event === 'batch_duplicate') counters.duplicates++;
    else if (event === 'batch_rejected') counters.rejected++;
    else counters.storeFailures++;
    o.log.log(event === 'batch_rejected' || event === 'store_failed' ? 'warn' : 'info', event, fields);
  }
  if (!r.ack) return;
  try {
    const ack = await encodeAckAsync(r.ack, o.ackKey);
    await send(delimiter ? [peer, Buffer.alloc(0), ack] : [peer, ack]);
  } catch (e) {
    o.log.log('warn', 'ack_send_failed', { reason: (e as Error).message, seq: r.ack.seq, status: r.ack.status });
  }
}
