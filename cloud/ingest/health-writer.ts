/**
 * Persists fleet health (health/fleet.json) after every change, coalesced, so that a SIGKILL of
 * the ingest loses little: at most one write is in flight and at most one more is queued; the
 * queued write takes whatever changed meanwhile. Each write is the store's atomic put (temp,
 * fsync, rename), so the file on disk is always a whole snapshot.
 *
 * What a kill -9 loses: the changes recorded since the start of the last completed write, i.e.
 * those of the messages handled while one health write was in flight (plus, with minIntervalMs,
 * at most minIntervalMs of changes). The ingest handles one message at a time and each stored
 * batch is itself an fsync'd put, so that is about one or two batches' counts.
 *
 * Cost: one put of the health JSON per change at most; under load, writes run back to back and
 * each covers every change since the previous one. `minIntervalMs` (default 0) spaces writes
 * further when the health file is large.
 */
import type { Logger } from '../../shared/log.ts';
import type { ObjectStore } from '../store/index.ts';
import { HEALTH_KEY, type FleetHealth } from './health.ts';

export interface HealthWriterOptions {
  health: FleetHealth;
  store: ObjectStore;
  log?: Pick<Logger, 'log'>;
  /** Least time from the start of one write to the start of the next, ms (default 0). */
  minIntervalMs?: number;
  /** Clock, ms (default performance.now); timers via setTimeout. */
  nowMs?: () => number;
}

export class HealthWriter {
  /** Completed writes. */
  writes = 0;
  /** Failed writes (logged as health_persist_failed; the next change tries again). */
  failures = 0;
  private inFlight: Promise<void> | undefined;
  private again = false;
  private lastStartMs = Number.NEGATIVE_INFINITY;
  private unsubscribe: (() => void) | undefined;
  /** Set by close(): the last write goes at once, not after minIntervalMs. */
  private closing = false;
  /** Ends the wait for minIntervalMs early (close). */
  private wake: (() => void) | undefined;
  private readonly minIntervalMs: number;
  private readonly nowMs: () => number;

  constructor(private readonly o: HealthWriterOptions) {
    this.minIntervalMs = o.minIntervalMs ?? 0;
    if (!(this.minIntervalMs >= 0)) throw new RangeError(`minIntervalMs must be >= 0, got ${o.minIntervalMs}`);
    this.nowMs = o.nowMs ?? (() => performance.now());
  }

  /** Write after every change of the health from now on. */
  start(): this {
    this.unsubscribe ??= this.o.health.onChange(() => this.schedule());
    return this;
  }

  /** A write soon: now if none is in flight, else right after the one in flight. */
  schedule(): void {
    if (this.inFlight) {
      this.again = true;
      return;
    }
    this.inFlight = this.loop().finally(() => {
      this.inFlight = undefined;
    });
  }

  /** Resolves once every change recorded before the call is on disk (or its write failed). */
  async flush(): Promise<void> {
    if (this.o.health.dirty) this.schedule();
    while (this.inFlight) await this.inFlight;
  }

  /** Stop following changes and write what is left, at once (a stop does not wait out minIntervalMs). */
  async close(): Promise<void> {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    this.closing = true;
    this.wake?.();
    await this.flush();
  }

  private async loop(): Promise<void> {
    do {
      this.again = false;
      const waitMs = this.lastStartMs + this.minIntervalMs - this.nowMs();
      if (waitMs > 0 && !this.closing) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(() => this.wake?.(), waitMs);
          this.wake = () => {
            clearTimeout(timer);
            this.wake = undefined;
            resolve();
          };
        });
      }
      this.lastStartMs = this.nowMs();
      if (!(await this.writeOnce())) return; // failed: the next change tries again, no spinning
    } while (this.again);
  }

  private async writeOnce(): Promise<boolean> {
    const { health, store, log } = this.o;
    if (!health.dirty) return true;
    health.dirty = false;
    try {
      await store.put(HEALTH_KEY, health.toBytes());
      this.writes++;
      return true;
    } catch (e) {
      health.dirty = true;
      this.failures++;
      log?.log('error', 'health_persist_failed', { key: HEALTH_KEY, reason: (e as Error).message, failures: this.failures });
      return false;
    }
  }
}
