/**
 * The daemon's flush and drain rules as pure functions of numbers (no sockets, no timers): the
 * loops in parts.ts read the clock and the outbox, ask these, and act. Tests drive them with a
 * fake clock.
 */

export interface FlushRuleConfig {
  /** A full batch: form it without waiting. */
  batchMaxObservations: number;
  /** The oldest pending observation may wait this long before it is batched, seconds. */
  batchMaxAgeS: number;
  /** No intake message for this long flushes what is pending, seconds. */
  idleFlushS: number;
}

export interface FlushInput {
  nowUnixMs: number;
  pendingObservations: number;
  /** Wall clock of the last intake message; undefined when none came in this run. */
  lastMessageAtMs: number | undefined;
  /** Creation time of the oldest pending observation; undefined when nothing is pending. */
  oldestPendingUnixMs: number | undefined;
  /** A drive end (or leftovers at start-up) asked for everything to go out. */
  flushRequested: boolean;
}

export type FlushDecision =
  | { action: 'none' }
  /** Form only full batches (`flushAll` false) or everything pending (`flushAll` true). */
  | { action: 'form'; flushAll: boolean; why: 'full' | 'flush_requested' | 'intake_idle' | 'max_age' };

/** When the batcher forms batches, and whether it batches a partial tail too. */
export function flushDecision(cfg: FlushRuleConfig, i: FlushInput): FlushDecision {
  if (i.pendingObservations <= 0) return { action: 'none' };
  const idle = i.lastMessageAtMs !== undefined && i.nowUnixMs - i.lastMessageAtMs >= cfg.idleFlushS * 1000;
  const old = i.oldestPendingUnixMs !== undefined && i.nowUnixMs - i.oldestPendingUnixMs >= cfg.batchMaxAgeS * 1000;
  const why = i.flushRequested ? 'flush_requested' : idle ? 'intake_idle' : old ? 'max_age' : undefined;
  if (why) return { action: 'form', flushAll: true, why };
  if (i.pendingObservations >= cfg.batchMaxObservations) return { action: 'form', flushAll: false, why: 'full' };
  return { action: 'none' };
}

export interface DrainInput {
  nowUnixMs: number;
  startedAtMs: number;
  lastMessageAtMs: number | undefined;
  idleFlushS: number;
  /** A drive is open (its end marker has not come yet). */
  driveOpen: boolean;
  /** Drive end markers seen in this run. */
  drivesEnded: number;
  /** Perception holds nothing: no frame in flight, nothing in the local map. */
  perceptionIdle: boolean;
  /** Nothing pending, no batch waiting for an ack. */
  outboxEmpty: boolean;
  /** There was something to deliver in this run. */
  hadWork: boolean;
}

/**
 * The daemon is drained when the intake is quiet and everything it had was delivered. While a
 * drive is open only its end marker makes the intake quiet (a pause in the sensor stream is not
 * the end of the drive); without an open drive, a drive end in this run or idleFlushS of silence
 * (counted from start-up when no message came) does.
 */
export function isDrained(i: DrainInput): boolean {
  const silentMs = i.nowUnixMs - (i.lastMessageAtMs ?? i.startedAtMs);
  const quiet = !i.driveOpen && (i.drivesEnded > 0 || silentMs >= i.idleFlushS * 1000);
  return i.hadWork && quiet && i.perceptionIdle && i.outboxEmpty;
}
