/**
 * Exponential backoff with a cap and jitter (AWS "equal jitter" style):
 * delay(n) = d * (1 - jitter * U[0,1)), d = min(capMs, baseMs * 2^(n-1)), n = 1, 2, ...
 * With jitter 0.5 a fleet that lost the ingest at the same moment spreads its retries over
 * [d/2, d) instead of all coming back in the same millisecond.
 */
export interface BackoffOptions {
  baseMs: number; // first delay, milliseconds
  capMs: number; // largest delay, milliseconds
  jitter: number; // fraction of the delay randomised away, in [0, 1]
}

export function validateBackoff(o: BackoffOptions, where = 'backoff'): void {
  if (!Number.isFinite(o.baseMs) || o.baseMs <= 0) throw new RangeError(`${where}.baseMs must be a positive number, got ${o.baseMs}`);
  if (!Number.isFinite(o.capMs) || o.capMs < o.baseMs) throw new RangeError(`${where}.capMs must be >= baseMs (${o.baseMs}), got ${o.capMs}`);
  if (!Number.isFinite(o.jitter) || o.jitter < 0 || o.jitter > 1) throw new RangeError(`${where}.jitter must be in [0, 1], got ${o.jitter}`);
}

/** Delay before retry number `attempt` (1-based), milliseconds. */
export function backoffDelayMs(o: BackoffOptions, attempt: number, random: () => number = Math.random): number {
  const n = Math.max(1, Math.floor(attempt));
  const d = Math.min(o.capMs, o.baseMs * 2 ** Math.min(n - 1, 52));
  return Math.round(d * (1 - o.jitter * random()));
}
