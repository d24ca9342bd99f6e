/**
 * The history the web service keeps for its charts: one sample of the fleet's health every
 * `intervalS`, in a bounded ring (the oldest samples drop out), persisted in the object store as
 * `health/history.json` = `{ format: "fleetmap-health-history", version: 1, intervalS, samples }`.
 *
 * A sample holds cumulative totals (the page charts their differences: uploads per interval) and
 * the lag figures at that instant. Pure: no clock, no I/O (history-keeper.ts does those).
 */
import type { HealthView } from './health-view.ts';

export const HISTORY_KEY = 'health/history.json';
export const HISTORY_FORMAT = 'fleetmap-health-history';
export const HISTORY_VERSION = 1;

export interface HistorySample {
  tUnixMs: number;
  vehicles: number;
  silentVehicles: number;
  /** Cumulative over the fleet, as in health/fleet.json. */
  batchesStored: number;
  bytesStored: number;
  observationsStored: number;
  duplicates: number;
  /** Refused batches: authenticated (charged to vehicles) plus unattributed. */
  rejected: number;
  /** Data the vehicles report they dropped (sum of their last reported counts, all reasons). */
  drops: number;
  /** Seconds since each vehicle was last seen: the largest and the median (null: no vehicle seen). */
  maxLagS: number | null;
  medianLagS: number | null;
  /** Sum of the vehicles' last reported outbox queue depths (batches). */
  queueDepthTotal: number;
  /** The oldest unsent data any vehicle last reported, seconds (null: none reported). */
  maxOldestUnsentS: number | null;
}

export interface HistoryFile {
  format: typeof HISTORY_FORMAT;
  version: typeof HISTORY_VERSION;
  intervalS: number;
  samples: HistorySample[];
}

/** One sample of a health view (taken at view.nowUnixMs). Undefined when there is no health yet. */
export function sampleOf(view: HealthView): HistorySample | undefined {
  if (!view.available) return undefined;
  const lags = view.vehicles.map((v) => v.lagS).filter((x): x is number => x !== null).sort((a, b) => a - b);
  const sum = (f: (v: HealthView['vehicles'][number]) => number): number => view.vehicles.reduce((a, v) => a + f(v), 0);
  return {
    tUnixMs: view.nowUnixMs,
    vehicles: view.vehicles.length,
    silentVehicles: view.vehicles.filter((v) => v.silent).length,
    batchesStored: sum((v) => v.batchesStored),
    bytesStored: sum((v) => v.bytesStored),
    observationsStored: sum((v) => v.observationsStored),
    duplicates: sum((v) => v.duplicates),
    rejected: sum((v) => v.rejectedTotal) + view.unattributed.rejectedTotal,
    drops: sum((v) => v.dropsTotal),
    maxLagS: lags.length ? lags[lags.length - 1]! : null,
    medianLagS: lags.length ? lags[(lags.length - 1) >> 1]! : null,
    queueDepthTotal: sum((v) => v.lastQueueDepth ?? 0),
    maxOldestUnsentS: maxOrNull(view.vehicles.map((v) => v.oldestUnsentAgeS)),
  };
}

/** A bounded ring of samples in time order. */
export class HealthHistory {
  private samples: HistorySample[] = [];

  constructor(
    readonly intervalS: number, // seconds between samples
    readonly maxSamples: number, // ring size
  ) {
    if (!(intervalS > 0)) throw new RangeError(`intervalS must be > 0, got ${intervalS}`);
    if (!Number.isInteger(maxSamples) || maxSamples < 2) throw new RangeError(`maxSamples must be an integer >= 2, got ${maxSamples}`);
  }

  /** Appends a sample; one older than the last is ignored (a clock step back). Returns whether it was kept. */
  add(s: HistorySample): boolean {
    const last = this.samples[this.samples.length - 1];
    if (last && s.tUnixMs <= last.tUnixMs) return false;
    this.samples.push(s);
    if (this.samples.length > this.maxSamples) this.samples.splice(0, this.samples.length - this.maxSamples);
    return true;
  }

  /** Samples in time order (a copy). */
  list(): HistorySample[] {
    return this.samples.slice();
  }

  get size(): number {
    return this.samples.length;
  }

  toFile(): HistoryFile {
    return { format: HISTORY_FORMAT, version: HISTORY_VERSION, intervalS: this.intervalS, samples: this.samples.slice() };
  }

  /** Loads a persisted ring (kept: its newest maxSamples). */
  load(file: HistoryFile): void {
    this.samples = [];
    for (const s of file.samples) this.add(s);
  }
}

/** Parses health/history.json; throws naming the problem (another format or version is refused). */
export function decodeHistoryFile(bytes: Uint8Array): HistoryFile {
  let raw: unknown;
  try {
    raw = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch (e) {
    throw new Error(`${HISTORY_KEY}: not JSON (${(e as Error).message})`);
  }
  const f = raw as Record<string, unknown> | null;
  if (f === null || typeof f !== 'object' || f.format !== HISTORY_FORMAT) throw new Error(`${HISTORY_KEY}: format must be ${JSON.stringify(HISTORY_FORMAT)}, got ${JSON.stringify(f?.format)}`);
  if (f.version !== HISTORY_VERSION) throw new Error(`${HISTORY_KEY}: got v${String(f.version)} data, expected v${HISTORY_VERSION}`);
  if (!Array.isArray(f.samples) || !f.samples.every((s: unknown) => typeof s === 'object' && s !== null && Number.isFinite((s as HistorySample).tUnixMs))) {
    throw new Error(`${HISTORY_KEY}: samples must be an array of {tUnixMs, ...}`);
  }
  return f as unknown as HistoryFile;
}

export function encodeHistoryFile(f: HistoryFile): Buffer {
  return Buffer.from(`${JSON.stringify(f)}\n`);
}

function maxOrNull(xs: ReadonlyArray<number | null>): number | null {
  const v = xs.filter((x): x is number => x !== null);
  return v.length ? Math.max(...v) : null;
}
