/**
 * Keeps the health history (history.ts) going: `tick()` reads health/fleet.json, appends one
 * sample and persists the ring to health/history.json every `persistEvery` samples and on
 * `close()`. The caller owns the timer (server.ts calls tick every intervalS); tests call tick.
 *
 * An existing health/history.json that is not this format is left alone: the history is then kept
 * in memory only (logged once as `history_not_persisted`), never written over.
 */
import type { Logger } from '../../shared/log.ts';
import type { TroubleThresholds } from '../ingest/health.ts';
import type { ObjectStore } from '../store/index.ts';
import { readHealthView } from './health-source.ts';
import { decodeHistoryFile, encodeHistoryFile, HealthHistory, HISTORY_KEY, sampleOf } from './history.ts';

export interface HistoryKeeperOptions {
  store: ObjectStore;
  history: HealthHistory;
  thresholds: TroubleThresholds; // when a vehicle counts as silent
  /** Persist every this many samples (and on close). */
  persistEvery: number;
  now: () => number; // Unix ms
  log: Logger;
}

export class HistoryKeeper {
  private persistable = true;
  private sinceWrite = 0;
  private writing: Promise<void> | undefined;

  constructor(private readonly o: HistoryKeeperOptions) {}

  /** Loads a persisted history, if there is one of ours. */
  async load(): Promise<void> {
    const buf = await this.o.store.get(HISTORY_KEY);
    if (!buf) return;
    try {
      this.o.history.load(decodeHistoryFile(buf));
    } catch (e) {
      this.persistable = false;
      this.o.log.warn('history_not_persisted', { key: HISTORY_KEY, reason: (e as Error).message });
    }
  }

  /** One sample now; resolves once it is kept (and written, when it is time to). */
  async tick(): Promise<void> {
    const view = await readHealthView(this.o.store, this.o.now(), this.o.thresholds);
    const s = sampleOf(view);
    if (!s || !this.o.history.add(s)) return;
    if (++this.sinceWrite >= this.o.persistEvery) await this.persist();
  }

  async persist(): Promise<void> {
    if (!this.persistable || this.sinceWrite === 0) return;
    if (this.writing) return this.writing; // one write in flight; the next tick writes again
    this.sinceWrite = 0;
    this.writing = this.o.store
      .put(HISTORY_KEY, encodeHistoryFile(this.o.history.toFile()))
      .catch((e: unknown) => this.o.log.warn('history_persist_failed', { key: HISTORY_KEY, reason: (e as Error).message }))
      .finally(() => {
        this.writing = undefined;
      });
    return this.writing;
  }

  async close(): Promise<void> {
    await this.writing;
    await this.persist();
  }
}
