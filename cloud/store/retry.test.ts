import { describe, expect, it } from 'vitest';
import { MemoryLogger } from '../../shared/log.ts';
import { describeError, isRetryable, resolveRetry, RetriesExhaustedError, withRetry } from './retry.ts';

const sdkError = (name: string, status: number): Error => Object.assign(new Error(`${name} happened`), { name, $metadata: { httpStatusCode: status } });

describe('retry', () => {
  it('retries throttling, 5xx, 408/429 and network failures; not other 4xx', () => {
    for (const e of [sdkError('SlowDown', 503), sdkError('InternalError', 500), sdkError('Unknown', 502), sdkError('RequestTimeout', 408), sdkError('TooManyRequests', 429), sdkError('ConditionalRequestConflict', 409)]) {
      expect(isRetryable(e), e.name).toBe(true);
    }
    for (const code of ['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE']) expect(isRetryable(Object.assign(new Error('x'), { code })), code).toBe(true);
    expect(isRetryable(Object.assign(new Error('socket hang up'), {}))).toBe(true);
    expect(isRetryable(Object.assign(new Error('t'), { name: 'TimeoutError' }))).toBe(true);
    for (const e of [sdkError('AccessDenied', 403), sdkError('NoSuchKey', 404), sdkError('PreconditionFailed', 412), sdkError('InvalidRequest', 400)]) {
      expect(isRetryable(e), e.name).toBe(false);
    }
    expect(isRetryable(new RangeError('object key must be ...'))).toBe(false);
    expect(isRetryable('a string')).toBe(false);
  });

  it('backs off exponentially with full jitter under the cap, logging each retry', async () => {
    const log = new MemoryLogger();
    let calls = 0;
    const o = resolveRetry({ maxAttempts: 6, baseDelayMs: 1, maxDelayMs: 4 });
    const r = await withRetry('op', o, async ({ attempt }) => {
      calls++;
      if (attempt < 6) throw sdkError('SlowDown', 503);
      return 'ok';
    }, log, () => 0.999);
    expect([r, calls]).toEqual(['ok', 6]);
    expect(log.records.map((x) => x.backoffMs)).toEqual([1, 2, 4, 4, 4]); // 1, 2, 4, then capped
    const zero = new MemoryLogger();
    await expect(withRetry('op', resolveRetry({ maxAttempts: 2, baseDelayMs: 1000, maxDelayMs: 1000 }), async () => { throw sdkError('SlowDown', 503); }, zero, () => 0)).rejects.toThrow(RetriesExhaustedError);
    expect(zero.records.map((x) => [x.event, x.backoffMs ?? null])).toEqual([['store_retry', 0], ['store_retries_exhausted', null]]);
  });

  it('rethrows a final error at once, untouched', async () => {
    const e = sdkError('AccessDenied', 403);
    let calls = 0;
    await expect(withRetry('op', resolveRetry(), async () => { calls++; throw e; })).rejects.toBe(e);
    expect(calls).toBe(1);
  });

  it('describes errors on one line with the status; validates its options', () => {
    expect(describeError(sdkError('SlowDown', 503))).toBe('SlowDown: SlowDown happened (HTTP 503)');
    expect(describeError(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }))).toBe('Error: read ECONNRESET (ECONNRESET)');
    expect(() => resolveRetry({ baseDelayMs: -1 })).toThrow(/retry.baseDelayMs must be >= 0, got -1/);
    expect(() => resolveRetry({ baseDelayMs: 10, maxDelayMs: 5 })).toThrow(/retry.maxDelayMs must be >= baseDelayMs \(10\), got 5/);
  });
});
