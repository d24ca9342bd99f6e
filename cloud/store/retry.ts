/**
 * Retries for remote object-store calls: exponential backoff with a cap and full jitter, a fixed
 * number of attempts, every retry a log event with the numbers that explain it. Only transient
 * failures are retried (throttling, 5xx, dropped connections, timeouts); a 4xx answer is final.
 */
import type { Logger } from '../../shared/log.ts';

export interface RetryOptions {
  /** Tries in all, the first included (default 5); 1 = no retry. */
  maxAttempts?: number;
  /** Backoff before the 2nd try, ms; doubles per try (default 100). */
  baseDelayMs?: number;
  /** Backoff cap, ms (default 5000). */
  maxDelayMs?: number;
}

export const DEFAULT_RETRY: Required<RetryOptions> = {
  maxAttempts: 5, // tries
  baseDelayMs: 100, // ms
  maxDelayMs: 5_000, // ms
};

/** Validated retry options, defaults filled in; messages name the field. */
export function resolveRetry(o: RetryOptions = {}): Required<RetryOptions> {
  const r = { ...DEFAULT_RETRY, ...stripUndefined(o) };
  if (!Number.isInteger(r.maxAttempts) || r.maxAttempts < 1) throw new RangeError(`retry.maxAttempts must be an integer >= 1, got ${r.maxAttempts}`);
  if (!(r.baseDelayMs >= 0)) throw new RangeError(`retry.baseDelayMs must be >= 0, got ${r.baseDelayMs}`);
  if (!(r.maxDelayMs >= r.baseDelayMs)) throw new RangeError(`retry.maxDelayMs must be >= baseDelayMs (${r.baseDelayMs}), got ${r.maxDelayMs}`);
  return r;
}

/** Raised when the last attempt failed with a retryable error; `cause` is that error. */
export class RetriesExhaustedError extends Error {
  override name = 'RetriesExhaustedError';
  constructor(
    readonly op: string,
    readonly attempts: number,
    cause: unknown,
  ) {
    super(`${op} failed after ${attempts} attempt${attempts === 1 ? '' : 's'}: ${describeError(cause)}`, { cause });
  }
}

export interface RetryContext {
  /** 1 for the first try. */
  attempt: number;
}

/**
 * Runs `fn` until it succeeds, fails with a non-retryable error (rethrown as is), or has been
 * tried `maxAttempts` times (RetriesExhaustedError). Between tries it waits a random time in
 * [0, min(maxDelayMs, baseDelayMs * 2^(attempt-1))] ("full jitter").
 */
export async function withRetry<T>(op: string, o: Required<RetryOptions>, fn: (ctx: RetryContext) => Promise<T>, log?: Logger, random: () => number = Math.random): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn({ attempt });
    } catch (e) {
      if (!isRetryable(e)) throw e;
      if (attempt >= o.maxAttempts) {
        log?.warn('store_retries_exhausted', { op, attempts: attempt, error: describeError(e) });
        throw new RetriesExhaustedError(op, attempt, e);
      }
      const backoffMs = Math.round(random() * Math.min(o.maxDelayMs, o.baseDelayMs * 2 ** (attempt - 1)));
      log?.warn('store_retry', { op, attempt, backoffMs, status: httpStatusOf(e) ?? null, error: describeError(e) });
      await new Promise((r) => setTimeout(r, backoffMs));
    }
  }
}

// 409 ConditionalRequestConflict: a concurrent conditional write on the key; S3 says retry.
const RETRYABLE_STATUS = new Set([408, 429, 500, 502, 503, 504]);
const RETRYABLE_NAMES = new Set(['SlowDown', 'Throttling', 'ThrottlingException', 'RequestTimeout', 'RequestTimeoutException', 'InternalError', 'ServiceUnavailable', 'TimeoutError', 'RequestLimitExceeded', 'ConditionalRequestConflict']);
const RETRYABLE_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN', 'ENOTFOUND', 'ENETUNREACH', 'EHOSTUNREACH', 'UND_ERR_SOCKET', 'ECONNABORTED']);

/** Throttling, 5xx, 408/429, dropped or refused connections and timeouts: worth another try. */
export function isRetryable(e: unknown): boolean {
  if (!(e instanceof Error)) return false;
  const status = httpStatusOf(e);
  if (status !== undefined) return RETRYABLE_STATUS.has(status) || RETRYABLE_NAMES.has(e.name);
  const code = (e as NodeJS.ErrnoException).code;
  if (code && RETRYABLE_CODES.has(code)) return true;
  if (RETRYABLE_NAMES.has(e.name)) return true;
  return /socket hang up|ECONNRESET|ECONNREFUSED|EPIPE|ETIMEDOUT/.test(e.message);
}

/** The HTTP status of an AWS SDK error (`$metadata.httpStatusCode`), if it got an answer. */
export function httpStatusOf(e: unknown): number | undefined {
  const m = (e as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata;
  return typeof m?.httpStatusCode === 'number' ? m.httpStatusCode : undefined;
}

/** `Name: message (HTTP 503)`, one line. */
export function describeError(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  const status = httpStatusOf(e);
  const code = (e as NodeJS.ErrnoException).code;
  const msg = e.message && e.message !== e.name ? `${e.name}: ${e.message}` : e.name;
  return `${msg}${status !== undefined ? ` (HTTP ${status})` : code ? ` (${code})` : ''}`;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
