/**
 * The arrival log: what the ingest stored, in the order it stored it, so that an incremental merge
 * lists only what arrived since its last run instead of every key under `batches/`.
 *
 *   arrivals/<ingest clock, Unix ms, 13 digits>-<instance id>-<counter, 10 digits>.json
 *   body: {"batches": ["batches/<vehicleId>/<seq:10>.fmb", ...]}   (sorted, no repeats)
 *
 * One record per commit group: the batches whose durable writes finished while the previous
 * record was being written (or in the same turn of the event loop) share one record, so under load
 * the log costs one small write per group, not per batch. A batch is acked only after a record
 * naming it is durable (putIfAbsent); the ingest writes the record at the same time as the batch
 * (service.ts), so a durable record may name a batch not (yet) stored or torn: the merge consumes
 * only what it reads and decodes (cloud/merge/plan.ts). A resent batch that is already stored
 * gets a record too, which repairs a crash between storing a batch and writing its record (the vehicle, never acked,
 * resends). Records are never rewritten; `fleetmap cloud gc` deletes those older than the next
 * incremental merge lists (the latest version's watermark time minus the margin).
 *
 * Key order is time order, per ingest clock: the merge keeps the largest key it has seen (the
 * watermark, in the manifest) and next time lists keys after the watermark's time minus
 * ARRIVAL_SKEW_MARGIN_MS, which covers records that became visible late (a slow or retried write
 * whose time was taken before a later record's) and ingest clocks that disagree by less than the
 * margin. An instance never goes back in time (a clock stepped back keeps the last time used).
 * Assumption: ingest clocks are within the margin of each other (NTP), no record takes longer
 * than the margin from taking its time to being listable, and no batch longer than the margin to
 * be stored after its record's time (the two are written at once; the ingest writes a second
 * record for a batch stored more than half the margin after the first, service.ts).
 */
import { randomBytes } from 'node:crypto';
import { isObjectKey, type ObjectStore } from '../store/index.ts';

export const ARRIVALS_PREFIX = 'arrivals/';
/** How far before the watermark's time a merge lists again, ms (10 min). */
export const ARRIVAL_SKEW_MARGIN_MS = 10 * 60_000;
/** Largest time a 13-digit key can hold, Unix ms (year 2286). */
const MAX_KEY_UNIX_MS = 9_999_999_999_999;

const ARRIVAL_KEY_RE = /^arrivals\/(\d{13})-([A-Za-z0-9]{1,32})-(\d{10,})\.json$/;
const BATCH_KEY_RE = /^batches\/[^/]+\/\d{10}\.fmb$/;

/** The record key for time `unixMs` written by `instanceId` as its `counter`-th record. */
export function arrivalKey(unixMs: number, instanceId: string, counter: number): string {
  if (!Number.isInteger(unixMs) || unixMs < 0 || unixMs > MAX_KEY_UNIX_MS) throw new RangeError(`arrival time must be an integer Unix ms in 0..${MAX_KEY_UNIX_MS}, got ${unixMs}`);
  if (!/^[A-Za-z0-9]{1,32}$/.test(instanceId)) throw new RangeError(`arrival instance id must be 1-32 letters or digits, got ${JSON.stringify(instanceId)}`);
  if (!Number.isInteger(counter) || counter < 0) throw new RangeError(`arrival counter must be an integer >= 0, got ${counter}`);
  return `${ARRIVALS_PREFIX}${timePrefix(unixMs)}-${instanceId}-${String(counter).padStart(10, '0')}.json`;
}

/** True for a key of this format (other keys under `arrivals/` are not records: skipped). */
export function isArrivalKey(key: string): boolean {
  return ARRIVAL_KEY_RE.test(key);
}

/** The ingest time in an arrival key, Unix ms; a RangeError naming `where` for another key. */
export function arrivalTimeOf(key: string, where: string): number {
  const m = ARRIVAL_KEY_RE.exec(key);
  if (!m) throw new RangeError(`${where}: ${JSON.stringify(key)} is not an arrival key (arrivals/<13-digit Unix ms>-<id>-<counter>.json)`);
  return Number(m[1]);
}

/**
 * Where a merge whose watermark is `watermark` starts listing (exclusive): the key prefix of the
 * watermark's time minus the margin. Every record at or after that time sorts after it (a record
 * key continues the time with "-").
 */
export function arrivalListStart(watermark: string, where: string): string {
  return ARRIVALS_PREFIX + timePrefix(Math.max(0, arrivalTimeOf(watermark, where) - ARRIVAL_SKEW_MARGIN_MS));
}

function timePrefix(unixMs: number): string {
  return String(unixMs).padStart(13, '0');
}

export function encodeArrivalRecord(batchKeys: readonly string[]): Buffer {
  return Buffer.from(JSON.stringify({ batches: [...new Set(batchKeys)].sort() }));
}

/** The batch keys of a record; an Error naming the key for anything else (never a silent skip: batches would go unmerged). */
export function parseArrivalRecord(buf: Buffer, key: string): string[] {
  let j: unknown;
  try {
    j = JSON.parse(buf.toString('utf8'));
  } catch (e) {
    throw new Error(`${key} is not an arrival record: ${(e as Error).message}`);
  }
  const batches = (j as { batches?: unknown } | null)?.batches;
  if (!Array.isArray(batches)) throw new Error(`${key} is not an arrival record: expected {"batches": [...]}`);
  for (const b of batches) {
    if (typeof b !== 'string' || !isObjectKey(b) || !BATCH_KEY_RE.test(b)) throw new Error(`${key}: ${JSON.stringify(b)} is not a batch key (batches/<vehicleId>/<seq:10>.fmb)`);
  }
  return batches as string[];
}

/** A record write that failed: the key it was for, the store's error as `cause`. */
export class ArrivalWriteError extends Error {
  override name = 'ArrivalWriteError';
  constructor(
    readonly key: string,
    cause: unknown,
  ) {
    super(`arrival record ${key} not written: ${(cause as Error)?.message ?? String(cause)}`, { cause });
  }
}

export interface ArrivalLogOptions {
  store: ObjectStore;
  /** The ingest clock, Unix ms. */
  nowUnixMs: () => number;
  /** Tells this process's records apart from other ingest instances' (default: 8 random hex digits). */
  instanceId?: string;
}

interface Waiter {
  resolve: () => void;
  reject: (e: unknown) => void;
}

/**
 * Writes arrival records for the ingest, one per commit group: `record(batchKey)` resolves once a
 * durable record names the key, and rejects (ArrivalWriteError) when the write failed, so the
 * caller does not ack. At most one record write is in flight; keys recorded meanwhile wait and go
 * into the next record together.
 */
export class ArrivalLog {
  readonly instanceId: string;
  private readonly store: ObjectStore;
  private readonly nowUnixMs: () => number;
  private counter = 0;
  /** The last time used in a key: keys of one instance never go back in time. */
  private lastUnixMs = 0;
  private queued: { keys: Set<string>; waiters: Waiter[] } | undefined;
  private draining = false;

  constructor(o: ArrivalLogOptions) {
    this.store = o.store;
    this.nowUnixMs = o.nowUnixMs;
    this.instanceId = o.instanceId ?? randomBytes(4).toString('hex');
    arrivalKey(0, this.instanceId, 0); // validates the id now, not at the first batch
  }

  record(batchKey: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.queued ??= { keys: new Set(), waiters: [] };
      this.queued.keys.add(batchKey);
      this.queued.waiters.push({ resolve, reject });
      if (!this.draining) {
        this.draining = true;
        // One turn of the event loop first: writes completing in the same poll phase (the group
        // commit of main.ts) join this record instead of waiting for the next one.
        setImmediate(() => void this.drain());
      }
    });
  }

  private async drain(): Promise<void> {
    while (this.queued) {
      const group = this.queued;
      this.queued = undefined;
      let failure: { error: unknown } | undefined;
      try {
        await this.write([...group.keys]);
      } catch (e) {
        failure = { error: e };
      }
      for (const w of group.waiters) failure ? w.reject(failure.error) : w.resolve();
    }
    this.draining = false;
  }

  private async write(batchKeys: string[]): Promise<void> {
    let key: string;
    try {
      const t = Math.max(this.nowUnixMs(), this.lastUnixMs);
      key = arrivalKey(t, this.instanceId, ++this.counter);
      this.lastUnixMs = t;
    } catch (e) {
      throw new ArrivalWriteError(`${ARRIVALS_PREFIX}?`, e);
    }
    try {
      // A fresh key per record, so false ("already there") cannot happen short of a reused
      // instance id and counter in the same millisecond; then the batches are not yet named by a
      // durable record of ours, so it is a failure like any other (the vehicle resends).
      if (!(await this.store.putIfAbsent(key, encodeArrivalRecord(batchKeys)))) throw new Error('the key already exists');
    } catch (e) {
      throw new ArrivalWriteError(key, e);
    }
  }
}
