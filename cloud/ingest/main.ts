/**
 * The ingest's thin socket loop: ROUTER in, one message at a time through IngestService, ack
 * back to the same peer. Frames: [peer, envelope] from a DEALER, or [peer, "", envelope] from a
 * REQ (the reply keeps the empty delimiter). Anything else is rejected as bad_frames. Health is
 * persisted every healthIntervalS (when changed) and once more on stop.
 *
 * Stop (signal abort): the message being handled is finished and answered, then the socket
 * closes and health is written.
 */
import type * as zmq from 'zeromq';
import type { ObjectStore } from '../store/index.ts';
import { encodeAck } from '../../shared/index.ts';
import { HEALTH_KEY, type FleetHealth } from './health.ts';
import type { Logger } from '../../shared/log.ts';
import type { IngestResult, IngestService } from './service.ts';

export interface IngestMainOptions {
  sockets: { router: zmq.Router };
  signal: AbortSignal;
  service: IngestService;
  health: FleetHealth;
  store: ObjectStore;
  log: Logger;
  healthIntervalS: number;
}

export interface IngestCounters {
  messages: number;
  stored: number;
  duplicates: number;
  rejected: number;
  storeFailures: number;
}

export async function main(o: IngestMainOptions): Promise<IngestCounters> {
  const { router } = o.sockets;
  const { log, signal } = o;
  const counters: IngestCounters = { messages: 0, stored: 0, duplicates: 0, rejected: 0, storeFailures: 0 };
  let writing: Promise<void> = Promise.resolve();
  const persistHealth = (why: string): Promise<void> => {
    writing = writing.then(async () => {
      if (!o.health.dirty && why === 'periodic') return;
      o.health.dirty = false;
      try {
        await o.store.put(HEALTH_KEY, o.health.toBytes());
      } catch (e) {
        o.health.dirty = true;
        log.log('error', 'health_persist_failed', { reason: (e as Error).message, why });
      }
    });
    return writing;
  };
  const timer = setInterval(() => void persistHealth('periodic'), Math.max(100, o.healthIntervalS * 1000));

  let busy = false;
  const onAbort = (): void => {
    if (!busy) router.close();
  };
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    for await (const frames of router) {
      busy = true;
      try {
        await handleMessage(o, frames, counters);
      } finally {
        busy = false;
      }
      if (signal.aborted) break;
    }
  } catch (e) {
    if (!signal.aborted) throw e;
  } finally {
    signal.removeEventListener('abort', onAbort);
    clearInterval(timer);
    if (!router.closed) router.close();
    await persistHealth('shutdown');
    log.log('info', 'health_persisted', { key: HEALTH_KEY, store: o.store.describe() });
  }
  return counters;
}

async function handleMessage(o: IngestMainOptions, frames: Buffer[], counters: IngestCounters): Promise<void> {
  counters.messages++;
  const peer = frames[0]!;
  let envelope: Buffer | undefined;
  let delimiter = false;
  if (frames.length === 2) envelope = frames[1];
  else if (frames.length === 3 && frames[1]!.length === 0) {
    envelope = frames[2];
    delimiter = true;
  }
  let r: IngestResult;
  if (envelope === undefined) {
    r = o.service.rejectFraming(`expected [envelope] from a DEALER or ["", envelope] from a REQ, got ${frames.length - 1} frames`, frames.reduce((a, f) => a + f.length, 0));
  } else {
    try {
      r = await o.service.handle(envelope);
    } catch (e) {
      // A bug, not a bad message: answer nothing (the edge retries), keep serving.
      o.log.log('error', 'handle_failed', { reason: e instanceof Error ? e.message : String(e), bytes: envelope.length });
      return;
    }
  }
  for (const ef of r.effects) {
    const { event, ...fields } = ef;
    if (event === 'batch_stored') counters.stored++;
    else if (event === 'batch_duplicate') counters.duplicates++;
    else if (event === 'batch_rejected') counters.rejected++;
    else counters.storeFailures++;
    o.log.log(event === 'batch_rejected' || event === 'store_failed' ? 'warn' : 'info', event, fields);
  }
  if (!r.ack) return;
  try {
    await o.sockets.router.send(delimiter ? [peer, Buffer.alloc(0), encodeAck(r.ack)] : [peer, encodeAck(r.ack)]);
  } catch (e) {
    o.log.log('warn', 'ack_send_failed', { reason: (e as Error).message, seq: r.ack.seq, status: r.ack.status });
  }
}
