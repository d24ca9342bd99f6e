/**
 * The uplink stepper: stop-and-wait delivery of the outbox's oldest batch, as pure logic (no
 * sockets, no timers; the thin loop in parts.ts drives it with the wall clock, tests with numbers).
 *
 * One batch is in flight at a time. The loop asks `step(nowMs, head)` what to do:
 * - 'send': send head's bytes now, then call `onSent` (or `onSendFailed` if the socket refused);
 * - 'wait': nothing to do before `untilMs` (waiting for the ack, a backoff, or the rate limit);
 * - 'idle': the outbox is empty.
 * No ack within ackTimeoutMs -> the attempt timed out; the same bytes are resent after an
 * exponential backoff with cap and jitter (backoff.ts). Acks go to `onAck`, which says what the
 * outbox must do: delete the batch ('stored'/'duplicate'), dead-letter it ('rejected' for its seq),
 * or nothing (an ack for another seq: a late answer to an earlier attempt; or an ack whose sha256
 * is not that of the bytes in flight: 'mismatch'). Only acks whose signature the loop verified
 * with the pinned ingest ack key reach `onAck`; the others are only counted (`onUnverifiedAck`).
 *
 * A rejection without a seq means the ingest could not authenticate the envelope at all
 * (unknown vehicle, bad signature): that is the vehicle's key or registration, not this batch,
 * so the batch is kept and retried at the backoff cap ('refused'); dead-lettering would throw away
 * the whole drive one batch at a time. Rejections that name the seq dead-letter that batch.
 *
 * Rate limit: after a send of B bytes the next send waits B * 8 / maxKbps milliseconds.
 */
import type { Ack } from '../shared/index.ts';
import { backoffDelayMs, validateBackoff, type BackoffOptions } from './backoff.ts';

export interface UplinkOptions {
  ackTimeoutMs: number;
  backoff: BackoffOptions;
  /** Uplink rate limit, kilobits per second; 0 = unlimited. */
  maxKbps: number;
}

export interface UplinkHead {
  seq: number;
  sizeBytes: number;
  /** sha256 of the envelope bytes: an ack must name exactly these. */
  sha256: Buffer;
}

export type UplinkAction =
  | { type: 'send'; seq: number; attempt: number }
  | { type: 'wait'; untilMs: number; for: 'ack' | 'backoff' | 'rate_limit' }
  | { type: 'idle' };

export type AckOutcome =
  | { type: 'delivered'; seq: number; status: 'stored' | 'duplicate'; attempts: number; rttMs: number | undefined }
  | { type: 'dead_letter'; seq: number; reason: string; attempts: number }
  | { type: 'refused'; seq: number; reason: string; retryInMs: number }
  | { type: 'stale'; seq: number | null; status: Ack['status'] }
  | { type: 'mismatch'; seq: number | null; status: Ack['status']; ackSha256: string; inFlightSha256: string };

/** Something the loop should log, with numbers. */
export interface UplinkEvent {
  event: 'uplink_timeout' | 'uplink_send_failed';
  seq: number;
  attempt: number;
  backoffMs: number;
  reason?: string;
}

interface InFlight {
  seq: number;
  sizeBytes: number;
  sha256: Buffer;
  attempts: number; // sends so far (including failed ones)
  sentAtMs: number | undefined; // awaiting an ack since then
  nextSendMs: number; // earliest time for the next send when not awaiting an ack
}

export interface UplinkCounters {
  sends: number;
  resends: number;
  timeouts: number;
  sendFailures: number;
  delivered: number;
  duplicates: number;
  deadLettered: number;
  refused: number;
  staleAcks: number;
  /** Acks for the seq in flight that named other bytes (ignored). */
  mismatchedAcks: number;
  /** Acks whose signature did not verify with the pinned ingest key, or that did not decode (ignored). */
  unverifiedAcks: number;
}

export class Uplink {
  readonly counters: UplinkCounters = { sends: 0, resends: 0, timeouts: 0, sendFailures: 0, delivered: 0, duplicates: 0, deadLettered: 0, refused: 0, staleAcks: 0, mismatchedAcks: 0, unverifiedAcks: 0 };
  private cur: InFlight | undefined;
  private rateFreeAtMs = 0;
  private readonly events: UplinkEvent[] = [];

  constructor(
    readonly opts: UplinkOptions,
    private readonly random: () => number = Math.random,
  ) {
    if (!Number.isFinite(opts.ackTimeoutMs) || opts.ackTimeoutMs <= 0) throw new RangeError(`UplinkOptions.ackTimeoutMs must be positive, got ${opts.ackTimeoutMs}`);
    if (!Number.isFinite(opts.maxKbps) || opts.maxKbps < 0) throw new RangeError(`UplinkOptions.maxKbps must be >= 0, got ${opts.maxKbps}`);
    validateBackoff(opts.backoff, 'UplinkOptions.backoff');
  }

  /** The seq currently being delivered, if any. */
  get inFlightSeq(): number | undefined {
    return this.cur?.seq;
  }

  step(nowMs: number, head: UplinkHead | undefined): UplinkAction {
    if (!head) {
      this.cur = undefined;
      return { type: 'idle' };
    }
    if (!this.cur || this.cur.seq !== head.seq || !this.cur.sha256.equals(head.sha256)) {
      this.cur = { seq: head.seq, sizeBytes: head.sizeBytes, sha256: head.sha256, attempts: 0, sentAtMs: undefined, nextSendMs: nowMs };
    }
    const c = this.cur;
    if (c.sentAtMs !== undefined) {
      const deadline = c.sentAtMs + this.opts.ackTimeoutMs;
      if (nowMs < deadline) return { type: 'wait', untilMs: deadline, for: 'ack' };
      const backoffMs = backoffDelayMs(this.opts.backoff, c.attempts, this.random);
      c.sentAtMs = undefined;
      c.nextSendMs = nowMs + backoffMs;
      this.counters.timeouts++;
      this.events.push({ event: 'uplink_timeout', seq: c.seq, attempt: c.attempts, backoffMs });
    }
    if (nowMs < c.nextSendMs) return { type: 'wait', untilMs: c.nextSendMs, for: 'backoff' };
    if (nowMs < this.rateFreeAtMs) return { type: 'wait', untilMs: this.rateFreeAtMs, for: 'rate_limit' };
    return { type: 'send', seq: c.seq, attempt: c.attempts + 1 };
  }

  onSent(seq: number, nowMs: number): void {
    const c = this.cur;
    if (!c || c.seq !== seq) return;
    c.attempts++;
    c.sentAtMs = nowMs;
    this.counters.sends++;
    if (c.attempts > 1) this.counters.resends++;
    if (this.opts.maxKbps > 0) this.rateFreeAtMs = nowMs + (c.sizeBytes * 8) / this.opts.maxKbps;
  }

  onSendFailed(seq: number, nowMs: number, reason: string): void {
    const c = this.cur;
    if (!c || c.seq !== seq) return;
    c.attempts++;
    c.sentAtMs = undefined;
    const backoffMs = backoffDelayMs(this.opts.backoff, c.attempts, this.random);
    c.nextSendMs = nowMs + backoffMs;
    this.counters.sendFailures++;
    this.events.push({ event: 'uplink_send_failed', seq, attempt: c.attempts, backoffMs, reason });
  }

  /**
   * The connection to the ingest (re-)established: a batch waiting out a backoff (not one
   * awaiting its ack) may go now, instead of up to backoffCapMs after the ingest came back.
   */
  onConnected(nowMs: number): void {
    const c = this.cur;
    if (c && c.sentAtMs === undefined && c.nextSendMs > nowMs) c.nextSendMs = nowMs;
  }

  /** An ack that did not verify or decode: counted, never acted on. */
  onUnverifiedAck(): void {
    this.counters.unverifiedAcks++;
  }

  /** A verified ack (signature checked by the caller with the pinned ingest ack key). */
  onAck(ack: Ack, nowMs: number): AckOutcome {
    const c = this.cur;
    if (c && (ack.seq === null || ack.seq === c.seq) && !ack.batchSha256.equals(c.sha256)) {
      this.counters.mismatchedAcks++;
      return { type: 'mismatch', seq: ack.seq, status: ack.status, ackSha256: ack.batchSha256.toString('hex'), inFlightSha256: c.sha256.toString('hex') };
    }
    if (c && ack.status === 'rejected' && ack.seq === null) {
      const retryInMs = backoffDelayMs(this.opts.backoff, Number.MAX_SAFE_INTEGER, this.random);
      c.sentAtMs = undefined;
      c.nextSendMs = nowMs + retryInMs;
      this.counters.refused++;
      return { type: 'refused', seq: c.seq, reason: ack.reason ?? 'no reason given', retryInMs };
    }
    if (!c || ack.seq !== c.seq) {
      this.counters.staleAcks++;
      return { type: 'stale', seq: ack.seq, status: ack.status };
    }
    this.cur = undefined;
    if (ack.status === 'rejected') {
      this.counters.deadLettered++;
      return { type: 'dead_letter', seq: c.seq, reason: ack.reason ?? 'no reason given', attempts: c.attempts };
    }
    if (ack.status === 'duplicate') this.counters.duplicates++;
    else this.counters.delivered++;
    return { type: 'delivered', seq: c.seq, status: ack.status, attempts: c.attempts, rttMs: c.sentAtMs === undefined ? undefined : nowMs - c.sentAtMs };
  }

  /** Events since the last call (timeouts, send failures), for the loop to log. */
  takeEvents(): UplinkEvent[] {
    return this.events.splice(0, this.events.length);
  }
}
