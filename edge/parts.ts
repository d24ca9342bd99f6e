/**
 * The daemon's parts as thin loops: each drives one pure class (intake.ts, georef.ts, outbox.ts,
 * uplink.ts) with sockets and the clock, and turns what happened into log events. They are
 * listed, started and stopped by edge/processes.ts.
 */
import { CodecError, decodeAck, encodeBatch, sha256, wireObservationProblem, type LocalFrame, type VehicleStatus, type WireObservation } from '../shared/index.ts';
import type { EdgeContext } from './context.ts';
import { georeferenceLocal } from './georef.ts';
import { bufferView, decodeSensorMessage } from './intake.ts';
import { flushDecision, isDrained } from './rules.ts';
import { logBudgetEvents, outboxStatsFields } from './outbox-events.ts';
import { refreshLink } from './link-watch.ts';
import { crashPoint } from '../shared/crash-points.ts';
import { backoffDelayMs } from './backoff.ts';
import { framePoseOf, type PerceptionOutput } from './perception/camera-perception.ts';
import { vehicleStatusOf } from './vehicle-status.ts';

const TICK_MS = 250;

/** intake: PULL -> decode -> georeference -> outbox (one transaction per message). */
export async function runIntake(ctx: EdgeContext, signal: AbortSignal): Promise<void> {
  const { intake } = ctx.sockets;
  const onAbort = (): void => intake.close();
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    for await (const frames of intake) {
      const topic = frames.length === 2 ? bufferView(frames[0]!).toString('utf8') : '';
      // A drive marker waits until the local map has been flushed, so every stretch of road is
      // tagged with the drive (and pose frame) that saw it.
      if (topic === 'drive' && ctx.perception) await flushPerception(ctx, signal);
      handleIntakeMessage(ctx, frames);
      // Replayed data: hold the bus (ZeroMQ backpressure) while a frame waits behind the one in flight.
      if (topic === 'camera' && ctx.cfg.replay && ctx.perception) {
        while (ctx.perception.depth >= 2 && !signal.aborted) await ctx.wake.intake.wait(TICK_MS, signal);
      }
      if (signal.aborted) break;
    }
  } catch (e) {
    if (!signal.aborted) throw e; // closing the socket ends a pending receive
  } finally {
    signal.removeEventListener('abort', onAbort);
    if (!intake.closed) intake.close();
  }
}

export function handleIntakeMessage(ctx: EdgeContext, frames: readonly Uint8Array[]): void {
  const { state, log, limited } = ctx;
  state.messagesIn++;
  state.hadWork = true;
  state.lastMessageAtMs = ctx.now();
  const m = decodeSensorMessage(frames);
  if (!m.ok) {
    state.badMessages[m.code] = (state.badMessages[m.code] ?? 0) + 1;
    limited.warn(`bad:${m.code}`, 'intake_bad_message', { code: m.code, reason: m.message, count: state.badMessages[m.code] });
    return;
  }
  if (m.topic === 'camera') {
    if (!ctx.perception) {
      state.badMessages.no_camera_calibration = (state.badMessages.no_camera_calibration ?? 0) + 1;
      limited.warn('bad:no_camera_calibration', 'intake_bad_message', { code: 'no_camera_calibration', reason: 'camera frame but no --camera-calibration: perception is off', count: state.badMessages.no_camera_calibration });
      return;
    }
    ctx.perception.offer(m.payload);
    ctx.wake.perception.notify();
    return;
  }
  if (m.topic === 'vehicle') ctx.perception?.onVehicle(m.payload);
  if (m.topic === 'radar') {
    // The radar places poles for the camera's perception; without a camera it has no use here.
    ctx.perception?.onRadar(m.payload);
    return;
  }
  let r;
  try {
    r = ctx.georef.handle(m);
  } catch (e) {
    // Pure logic on untrusted input (e.g. a pose pushed past the map projection's range): count
    // and go on; the message is gone either way, so crashing would only lose the daemon's state.
    state.badMessages.georef_failed = (state.badMessages.georef_failed ?? 0) + 1;
    limited.warn('bad:georef_failed', 'intake_bad_message', { code: 'georef_failed', topic: m.topic, reason: (e as Error).message, count: state.badMessages.georef_failed });
    return;
  }
  if (r.driveStarted || r.driveEnded) ctx.outbox.setMeta('drive', JSON.stringify(ctx.georef.drive));
  if (r.driveStarted) log.info('drive_started', { driveId: r.driveStarted });
  if (r.driveEnded) {
    log.info('drive_ended', { driveId: r.driveEnded });
    state.flushRequested = true;
    ctx.wake.batcher.notify();
  }
  if (r.gnss === 'rejected') limited.warn('gnss_rejected', 'gnss_rejected', { fixesRejected: ctx.georef.pose.counters.fixesRejected });
  if (r.gnss === 'reacquired') log.warn('gnss_reacquired', { reacquisitions: ctx.georef.pose.counters.reacquisitions, poseSigmaCm: Math.round((ctx.georef.pose.current()?.sigmaM ?? 0) * 100) });
  if (r.dropped) {
    const c = ctx.georef.counters;
    limited.warn(`drop:${r.dropped}`, 'frame_dropped', { reason: r.dropped, framesBeforePose: c.framesBeforePose, framesPoseTooOld: c.framesPoseTooOld, framesPoseTooNew: c.framesPoseTooNew });
  }
  if (r.observations.length > 0) queueObservations(ctx, r.observations);
}

/**
 * Observations into the outbox (one transaction); refusals (outbox full) counted and logged.
 * One the wire cannot carry (a sign code or drive id beyond the wire limits...) is refused here,
 * counted as badMessages.not_wire_encodable, so it can never make a whole batch unencodable.
 */
function queueObservations(ctx: EdgeContext, all: WireObservation[]): void {
  const { state, limited } = ctx;
  const observations = all.filter((o) => {
    const problem = wireObservationProblem(o);
    if (problem === undefined) return true;
    state.badMessages.not_wire_encodable = (state.badMessages.not_wire_encodable ?? 0) + 1;
    limited.warn('bad:not_wire_encodable', 'observation_refused', { code: 'not_wire_encodable', reason: problem, count: state.badMessages.not_wire_encodable });
    return false;
  });
  if (observations.length === 0) return;
  const { accepted, refused } = ctx.outbox.add(observations, ctx.now());
  logBudgetEvents(ctx);
  state.observationsQueued += accepted;
  if (refused > 0) {
    state.observationsRefused += refused;
    limited.warn('outbox_full', 'outbox_full', {
      refusedObservations: refused,
      totalRefused: state.observationsRefused,
      contentBytes: ctx.outbox.stats().contentBytes,
      diskBytes: ctx.outbox.disk().totalBytes,
      maxDiskMb: ctx.cfg.hwProfile.outbox.maxDiskMb,
    });
  }
  ctx.wake.batcher.notify();
}

/** Ask the perception part to flush its local map once idle; resolves when done (or on stop). */
async function flushPerception(ctx: EdgeContext, signal: AbortSignal): Promise<void> {
  if (!ctx.perception || signal.aborted) return;
  const done = new Promise<void>((resolve) => {
    ctx.state.perceptionFlushWaiters.push(resolve);
    signal.addEventListener('abort', () => resolve(), { once: true });
  });
  ctx.wake.perception.notify();
  await done;
}

/**
 * perception: camera frames (taken from the gate) -> segmentation -> local map -> finished
 * stretches of road -> georeference -> outbox. Flushes the local map when a drive marker asks
 * (the intake waits for it) and at stop, so nothing seen is left behind.
 */
export async function runPerception(ctx: EdgeContext, signal: AbortSignal): Promise<void> {
  const p = ctx.perception;
  if (!p) {
    await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
    return;
  }
  const poseOf = framePoseOf(ctx.georef.pose);
  const emit = (out: PerceptionOutput): void => {
    if (out.primitives.length === 0 || !out.frame) return;
    const driveId = ctx.georef.drive.driveId ?? `${ctx.cfg.vehicleId}-nodrive`;
    queueObservations(ctx, out.primitives.map((q) => georeferenceLocal(q, out.frame as LocalFrame, driveId)));
  };
  while (!signal.aborted) {
    const frame = p.take();
    if (frame) {
      ctx.state.perceptionBusy = true;
      try {
        for (const out of await p.process(frame, poseOf)) emit(out);
      } finally {
        ctx.state.perceptionBusy = false;
      }
      ctx.wake.intake.notify();
      continue;
    }
    if (ctx.state.perceptionFlushWaiters.length > 0 && p.idle) {
      emit(p.flush());
      ctx.state.flushRequested = true;
      for (const w of ctx.state.perceptionFlushWaiters.splice(0)) w();
      ctx.wake.batcher.notify();
      continue;
    }
    await ctx.wake.perception.wait(TICK_MS, signal);
  }
  // Stopping: what the local map holds is still worth uploading on the next run.
  if (p.holding) emit(p.flush());
}

/**
 * batcher: forms batches as rules.ts flushDecision says (a full batch; everything pending on a
 * drive end, the intake idle for idleFlushS, or the oldest pending observation batchMaxAgeS old).
 */
export async function runBatcher(ctx: EdgeContext, signal: AbortSignal): Promise<void> {
  const { cfg, outbox, state } = ctx;
  while (!signal.aborted) {
    refreshLink(ctx);
    // Only what formBatch would take: classes held back on a metered link wait (link.ts).
    const pending = outbox.pendingCount(state.link.minPriority);
    const d = flushDecision(cfg, {
      nowUnixMs: ctx.now(),
      pendingObservations: pending,
      lastMessageAtMs: state.lastMessageAtMs,
      oldestPendingUnixMs: outbox.oldestPendingUnixMs(state.link.minPriority),
      flushRequested: state.flushRequested,
    });
    if (d.action === 'form') {
      formBatches(ctx, d.flushAll);
      logBudgetEvents(ctx);
      if (state.flushRequested && outbox.pendingCount(state.link.minPriority) === 0) state.flushRequested = false;
      ctx.wake.uplink.notify();
      ctx.wake.monitor.notify();
    } else if (pending === 0) state.flushRequested = false;
    await ctx.wake.batcher.wait(TICK_MS, signal);
  }
}

function formBatches(ctx: EdgeContext, flushAll: boolean): void {
  const { cfg, outbox, log, state } = ctx;
  // What the vehicle reports about itself (vehicle-status.ts), read once before the first batch:
  // forming batches changes neither the oldest unsent data nor the drops.
  let status: VehicleStatus | undefined;
  for (;;) {
    const pending = outbox.pendingCount(state.link.minPriority);
    if (pending === 0 || (!flushAll && pending < cfg.batchMaxObservations)) return;
    status ??= vehicleStatusOf(ctx);
    const b = outbox.formBatch({
      maxObservations: cfg.batchMaxObservations,
      maxBytes: cfg.batchMaxBytes,
      minPriority: state.link.minPriority,
      nowUnixMs: ctx.now(),
      encode: (x) => encodeBatch({ vehicleId: cfg.vehicleId, ...x, status }, cfg.key),
    });
    if (!b) return;
    state.batchesFormed++;
    log.info('batch_formed', { seq: b.seq, observations: b.observations, bytes: b.envelopeBytes, queueDepth: b.queueDepth });
  }
}

/** uplink: stop-and-wait sending of the outbox head, as the Uplink stepper says. */
export async function runUplink(ctx: EdgeContext, signal: AbortSignal): Promise<void> {
  const { outbox, uplink, log } = ctx;
  const sock = ctx.sockets.uplink;
  // Connection events (libzmq monitor): a completed handshake ends a backoff early.
  sock.events.on('handshake', (e) => {
    uplink.onConnected(ctx.now());
    log.info('uplink_connected', { endpoint: e.address });
    ctx.wake.uplink.notify();
  });
  sock.events.on('disconnect', (e) => log.warn('uplink_disconnected', { endpoint: e.address, inFlightSeq: uplink.inFlightSeq ?? null }));
  // A refused handshake (the ingest's ZAP handler does not admit our CURVE key: not registered
  // yet, revoked; or a wrong pinned server key) ends the connection for good in libzmq: it does
  // not reconnect by itself. So reconnect here, backing off (the profile's uplink backoff), until
  // a handshake completes.
  const endpoint = ctx.cfg.ingestEndpoint;
  const up = ctx.cfg.hwProfile.uplink;
  let refusedHandshakes = 0;
  let reconnectTimer: NodeJS.Timeout | undefined;
  sock.events.on('handshake', () => {
    refusedHandshakes = 0;
  });
  for (const t of ['handshake:error:auth', 'handshake:error:protocol', 'handshake:error:other'] as const) {
    sock.events.on(t, (e) => {
      refusedHandshakes++;
      const retryInMs = backoffDelayMs({ baseMs: up.backoffBaseMs, capMs: up.backoffCapMs, jitter: up.backoffJitter }, refusedHandshakes);
      ctx.limited.warn(t, 'uplink_handshake_failed', { endpoint: e.address, kind: t, reason: e.error.message, refusedHandshakes, retryInMs });
      if (reconnectTimer || signal.aborted) return;
      reconnectTimer = setTimeout(() => {
        reconnectTimer = undefined;
        if (signal.aborted || sock.closed) return;
        try {
          sock.disconnect(endpoint);
        } catch {
          // already gone
        }
        sock.connect(endpoint);
      }, retryInMs);
    });
  }
  signal.addEventListener('abort', () => clearTimeout(reconnectTimer), { once: true });
  sock.connect(endpoint); // after the monitor is attached, so the first handshake is seen
  let hashed: { seq: number; envelope: Buffer; sha256: Buffer } | undefined;
  while (!signal.aborted) {
    const head = outbox.head();
    const now = ctx.now();
    if (head && (hashed?.seq !== head.seq || !hashed.envelope.equals(head.envelope))) hashed = { seq: head.seq, envelope: head.envelope, sha256: sha256(head.envelope) };
    const act = uplink.step(now, head && { seq: head.seq, sizeBytes: head.envelope.length, sha256: hashed!.sha256 });
    let waitMs = TICK_MS * 4;
    if (act.type === 'send' && head) {
      try {
        await ctx.sockets.uplink.send(head.envelope);
        crashPoint('uplink_after_send');
        ctx.state.bytesSent += head.envelope.length;
        uplink.onSent(act.seq, ctx.now());
        log.info('batch_sent', { seq: act.seq, attempt: act.attempt, bytes: head.envelope.length, observations: head.observations });
      } catch (e) {
        uplink.onSendFailed(act.seq, ctx.now(), (e as NodeJS.ErrnoException).code ?? (e as Error).message);
      }
      waitMs = 0;
    } else if (act.type === 'wait') waitMs = act.untilMs - now;
    for (const ev of uplink.takeEvents()) log.warn(ev.event, { ...ev });
    if (waitMs > 0) await ctx.wake.uplink.wait(waitMs, signal);
  }
}

/**
 * acks: DEALER replies -> verify with the pinned ingest ack key -> Uplink.onAck -> delete or
 * dead-letter the batch in the outbox. An ack that does not verify or decode is counted
 * (unverifiedAcks), logged (rate-limited) and ignored; one naming other bytes than the batch in
 * flight is counted (mismatchedAcks) and ignored.
 */
export async function runAcks(ctx: EdgeContext, signal: AbortSignal): Promise<void> {
  const { uplink: sock } = ctx.sockets;
  const { outbox, uplink, log, state } = ctx;
  const onAbort = (): void => sock.close();
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    for await (const frames of sock) {
      const last = frames[frames.length - 1];
      let ack;
      try {
        ack = decodeAck(last ?? Buffer.alloc(0), ctx.cfg.ingestAckKey);
      } catch (e) {
        uplink.onUnverifiedAck();
        ctx.limited.warn('ack_unverified', 'ack_unverified', { code: e instanceof CodecError ? e.code : 'error', reason: (e as Error).message, frames: frames.length, unverifiedAcks: uplink.counters.unverifiedAcks });
        continue;
      }
      const now = ctx.now();
      const out = uplink.onAck(ack, now);
      switch (out.type) {
        case 'delivered': {
          const head = outbox.head();
          const n = head?.seq === out.seq ? head.observations : 0;
          crashPoint('acks_before_delete');
          outbox.ack(out.seq);
          state.observationsDelivered += n;
          state.lastAckUnixMs = now;
          log.info('batch_acked', { seq: out.seq, status: out.status, attempts: out.attempts, rttMs: out.rttMs ?? null, observations: n });
          break;
        }
        case 'dead_letter':
          outbox.deadLetter(out.seq, out.reason, now);
          state.lastAckUnixMs = now;
          log.error('batch_dead_lettered', { seq: out.seq, reason: out.reason, attempts: out.attempts, deadLetters: outbox.stats().deadLetters });
          break;
        case 'refused':
          log.error('uplink_refused', { seq: out.seq, reason: out.reason, retryInMs: out.retryInMs, refusals: uplink.counters.refused });
          break;
        case 'stale':
          log.info('ack_stale', { seq: out.seq, status: out.status });
          break;
        case 'mismatch':
          log.warn('ack_mismatch', { seq: out.seq, status: out.status, ackSha256: out.ackSha256, inFlightSha256: out.inFlightSha256, mismatchedAcks: uplink.counters.mismatchedAcks });
          break;
      }
      logBudgetEvents(ctx);
      ctx.wake.uplink.notify();
      ctx.wake.monitor.notify();
    }
  } catch (e) {
    if (!signal.aborted) throw e;
  } finally {
    signal.removeEventListener('abort', onAbort);
    if (!sock.closed) sock.close();
  }
}

/**
 * monitor: periodic `edge_stats`, and the drained protocol (rules.ts isDrained: the intake is
 * quiet and everything this run had was delivered). Each transition into drained logs one
 * `drained` event; with --exit-when-drained the daemon then stops and exits 0.
 */
export async function runMonitor(ctx: EdgeContext, signal: AbortSignal): Promise<void> {
  const { cfg, state } = ctx;
  let nextStatsMs = ctx.now() + cfg.statsIntervalS * 1000;
  while (!signal.aborted) {
    const now = ctx.now();
    const drained = isDrained({
      nowUnixMs: now,
      startedAtMs: state.startedAtMs,
      lastMessageAtMs: state.lastMessageAtMs,
      idleFlushS: cfg.idleFlushS,
      driveOpen: ctx.georef.drive.open,
      drivesEnded: ctx.georef.counters.drivesEnded,
      perceptionIdle: !ctx.perception || (ctx.perception.idle && !ctx.perception.holding && !state.perceptionBusy),
      outboxEmpty: ctx.outbox.isEmpty(),
      hadWork: state.hadWork,
    });
    if (drained && !state.drained) {
      ctx.log.info('drained', { ...statsFields(ctx), exitWhenDrained: cfg.exitWhenDrained });
      if (cfg.exitWhenDrained) ctx.requestStop('drained');
    }
    state.drained = drained;
    if (now >= nextStatsMs) {
      ctx.log.info('edge_stats', statsFields(ctx));
      nextStatsMs = now + cfg.statsIntervalS * 1000;
    }
    await ctx.wake.monitor.wait(TICK_MS, signal);
  }
  ctx.log.info('edge_stats', statsFields(ctx));
}

export function statsFields(ctx: EdgeContext): Record<string, number | Record<string, number>> {
  const o = ctx.outbox.stats();
  const g = ctx.georef.counters;
  const p = ctx.georef.pose.counters;
  const u = ctx.uplink.counters;
  return {
    messagesIn: ctx.state.messagesIn,
    badMessages: ctx.state.badMessages as Record<string, number>,
    framesIn: g.framesIn,
    framesBeforePose: g.framesBeforePose,
    framesNotKeyframes: g.framesNotKeyframes,
    framesPoseTooOld: g.framesPoseTooOld,
    framesPoseTooNew: g.framesPoseTooNew,
    fixesAccepted: p.fixesAccepted,
    fixesRejected: p.fixesRejected,
    reacquisitions: p.reacquisitions,
    observationsQueued: ctx.state.observationsQueued,
    observationsRefused: ctx.state.observationsRefused,
    observationsDelivered: ctx.state.observationsDelivered,
    batchesFormed: ctx.state.batchesFormed,
    batchesDelivered: u.delivered,
    batchesDuplicate: u.duplicates,
    batchesDeadLettered: u.deadLettered,
    sends: u.sends,
    resends: u.resends,
    timeouts: u.timeouts,
    sendFailures: u.sendFailures,
    unverifiedAcks: u.unverifiedAcks,
    mismatchedAcks: u.mismatchedAcks,
    pendingObservations: o.pendingObservations,
    unackedBatches: o.batches,
    deadLetters: o.deadLetters,
    nextSeq: o.nextSeq,
    outboxContentBytes: o.contentBytes,
    outboxAddCommits: { ...ctx.outbox.addCommits },
    ...outboxStatsFields(ctx, o.pendingObservations),
    ...(ctx.perception ? perceptionStats(ctx.perception.counters) : {}),
  };
}

function perceptionStats(c: NonNullable<EdgeContext['perception']>['counters']): Record<string, number> {
  return {
    cameraFramesIn: c.framesIn,
    cameraFramesProcessed: c.framesProcessed,
    cameraFramesSkippedRate: c.framesSkippedRate,
    cameraFramesSkippedBehind: c.framesSkippedBehind,
    cameraFramesWithoutPose: c.framesWithoutPose,
    cameraFramesWrongSize: c.framesWrongSize,
    cameraFramesSkippedStationary: c.framesSkippedStationary,
    cameraSensorClockRestarts: c.sensorClockRestarts,
    perceptionPrimitives: c.primitivesOut,
    perceptionRevisitDropped: c.primitivesRevisitDropped,
    perceptionRevisitTrimmed: c.primitivesRevisitTrimmed,
    radarScansIn: c.radarScansIn,
    radarScansPlaced: c.radarScansPlaced,
    radarScansDropped: c.radarScansDropped,
    radarScansWithoutPose: c.radarScansWithoutPose,
    radarScansSkippedSlow: c.radarScansSkippedSlow,
    radarPoles: c.radarPoles,
    slopePairs: c.slopePairs,
    roadCurvaturePerM: Math.round(c.roadCurvaturePerM * 1e6) / 1e6,
    groundTableBuilds: c.groundTableBuilds,
    inferenceMsMean: c.framesProcessed > 0 ? Math.round((c.inferenceMsTotal / c.framesProcessed) * 100) / 100 : 0,
  };
}
