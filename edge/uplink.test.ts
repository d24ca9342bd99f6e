import { describe, expect, it } from 'vitest';
import { backoffDelayMs } from './backoff.ts';
import { Uplink } from './uplink.ts';

const opts = { ackTimeoutMs: 1000, maxKbps: 0, backoff: { baseMs: 100, capMs: 800, jitter: 0 } };
const H5 = Buffer.alloc(32, 5);
const H6 = Buffer.alloc(32, 6);
const head = { seq: 5, sizeBytes: 1000, sha256: H5 };
const head6 = { seq: 6, sizeBytes: 10, sha256: H6 };

describe('backoffDelayMs', () => {
  it('doubles up to the cap, jitter takes up to its fraction away', () => {
    const o = { baseMs: 100, capMs: 800, jitter: 0 };
    expect([1, 2, 3, 4, 5, 50].map((n) => backoffDelayMs(o, n))).toEqual([100, 200, 400, 800, 800, 800]);
    expect(backoffDelayMs({ ...o, jitter: 0.5 }, 4, () => 0.999)).toBe(400);
    expect(backoffDelayMs({ ...o, jitter: 0.5 }, 4, () => 0)).toBe(800);
  });
});

describe('Uplink', () => {
  it('sends, waits for the ack, and on timeout resends the same seq after exponential backoff', () => {
    const u = new Uplink(opts);
    expect(u.step(0, head)).toEqual({ type: 'send', seq: 5, attempt: 1 });
    u.onSent(5, 0);
    expect(u.step(500, head)).toEqual({ type: 'wait', untilMs: 1000, for: 'ack' });
    expect(u.step(1000, head)).toEqual({ type: 'wait', untilMs: 1100, for: 'backoff' });
    expect(u.takeEvents()).toEqual([{ event: 'uplink_timeout', seq: 5, attempt: 1, backoffMs: 100 }]);
    expect(u.step(1100, head)).toEqual({ type: 'send', seq: 5, attempt: 2 });
    u.onSent(5, 1100);
    expect(u.step(2100, head)).toEqual({ type: 'wait', untilMs: 2300, for: 'backoff' });
    u.step(2300, head);
    u.onSent(5, 2300);
    expect(u.step(3300, head)).toEqual({ type: 'wait', untilMs: 3700, for: 'backoff' });
    expect(u.counters).toMatchObject({ sends: 3, resends: 2, timeouts: 3 });
  });

  it('caps the backoff', () => {
    const u = new Uplink(opts);
    let t = 0;
    const waits: number[] = [];
    for (let i = 0; i < 8; i++) {
      const a = u.step(t, head);
      if (a.type !== 'send') throw new Error(`expected send, got ${a.type}`);
      u.onSendFailed(5, t, 'EAGAIN');
      const w = u.step(t, head);
      if (w.type !== 'wait') throw new Error('expected wait');
      waits.push(w.untilMs - t);
      t = w.untilMs;
    }
    expect(waits).toEqual([100, 200, 400, 800, 800, 800, 800, 800]);
    expect(u.takeEvents()).toHaveLength(8);
  });

  it('cuts a backoff short when the connection comes back, but not an ack wait', () => {
    const u = new Uplink({ ...opts, backoff: { baseMs: 10_000, capMs: 10_000, jitter: 0 } });
    u.step(0, head);
    u.onSendFailed(5, 0, 'EAGAIN');
    expect(u.step(1, head)).toMatchObject({ type: 'wait', untilMs: 10_000 });
    u.onConnected(50);
    expect(u.step(50, head)).toEqual({ type: 'send', seq: 5, attempt: 2 });
    u.onSent(5, 50);
    u.onConnected(60);
    expect(u.step(60, head)).toEqual({ type: 'wait', untilMs: 1050, for: 'ack' });
  });

  it('deletes on stored/duplicate, ignores acks for other seqs (late answers)', () => {
    const u = new Uplink(opts);
    u.step(0, head);
    u.onSent(5, 0);
    expect(u.onAck({ seq: 4, status: 'stored', batchSha256: H5 }, 10)).toEqual({ type: 'stale', seq: 4, status: 'stored' });
    expect(u.onAck({ seq: 5, status: 'duplicate', batchSha256: H5 }, 20)).toEqual({ type: 'delivered', seq: 5, status: 'duplicate', attempts: 1, rttMs: 20 });
    expect(u.step(21, head6)).toEqual({ type: 'send', seq: 6, attempt: 1 });
  });

  it('accepts a late ack for the current seq after a timeout', () => {
    const u = new Uplink(opts);
    u.step(0, head);
    u.onSent(5, 0);
    u.step(1000, head); // timed out, in backoff
    expect(u.onAck({ seq: 5, status: 'stored', batchSha256: H5 }, 1050)).toMatchObject({ type: 'delivered', seq: 5, rttMs: undefined });
  });

  it('dead-letters a rejection that names the seq; holds the batch on an unattributed refusal', () => {
    const u = new Uplink(opts);
    u.step(0, head);
    u.onSent(5, 0);
    expect(u.onAck({ seq: 5, status: 'rejected', reason: 'bad_body: x', batchSha256: H5 }, 5)).toEqual({ type: 'dead_letter', seq: 5, reason: 'bad_body: x', attempts: 1 });
    u.step(10, head6);
    u.onSent(6, 10);
    expect(u.onAck({ seq: null, status: 'rejected', reason: 'bad_signature: ...', batchSha256: H6 }, 20)).toEqual({ type: 'refused', seq: 6, reason: 'bad_signature: ...', retryInMs: 800 });
    expect(u.step(20, head6)).toEqual({ type: 'wait', untilMs: 820, for: 'backoff' });
    expect(u.step(820, head6)).toEqual({ type: 'send', seq: 6, attempt: 2 });
  });

  it('acts only on an ack naming the sha256 of the bytes in flight; counts the others', () => {
    const u = new Uplink(opts);
    u.step(0, head);
    u.onSent(5, 0);
    const other = Buffer.alloc(32, 9);
    expect(u.onAck({ seq: 5, status: 'stored', batchSha256: other }, 10)).toEqual({ type: 'mismatch', seq: 5, status: 'stored', ackSha256: other.toString('hex'), inFlightSha256: H5.toString('hex') });
    expect(u.onAck({ seq: 5, status: 'rejected', reason: 'x', batchSha256: other }, 10)).toMatchObject({ type: 'mismatch' });
    expect(u.onAck({ seq: null, status: 'rejected', reason: 'bad_signature: x', batchSha256: other }, 10)).toMatchObject({ type: 'mismatch', seq: null });
    u.onUnverifiedAck();
    expect(u.counters).toMatchObject({ mismatchedAcks: 3, unverifiedAcks: 1, delivered: 0, deadLettered: 0, refused: 0 });
    expect(u.inFlightSeq).toBe(5); // still waiting for its own ack
    expect(u.onAck({ seq: 5, status: 'stored', batchSha256: H5 }, 20)).toMatchObject({ type: 'delivered', seq: 5 });
  });

  it('rate-limits by bytes', () => {
    const u = new Uplink({ ...opts, maxKbps: 8 }); // 1 byte per ms
    u.step(0, head);
    u.onSent(5, 0);
    u.onAck({ seq: 5, status: 'stored', batchSha256: H5 }, 10);
    expect(u.step(10, head6)).toEqual({ type: 'wait', untilMs: 1000, for: 'rate_limit' });
  });

  it('goes idle when the outbox is empty and validates its options', () => {
    expect(new Uplink(opts).step(0, undefined)).toEqual({ type: 'idle' });
    expect(() => new Uplink({ ...opts, ackTimeoutMs: 0 })).toThrow(/ackTimeoutMs must be positive, got 0/);
    expect(() => new Uplink({ ...opts, backoff: { baseMs: 10, capMs: 5, jitter: 0 } })).toThrow(/capMs must be >= baseMs/);
  });
});
