/**
 * Which stored batches merge N may not have seen yet, and the arrival watermark it records.
 *
 * - Incremental, with v<N-1>'s manifest naming a watermark (the largest arrival key it saw): list
 *   `arrivals/` after the watermark's time minus ARRIVAL_SKEW_MARGIN_MS (cloud/ingest/arrivals.ts),
 *   read those records and take the batch keys they name that are not in the consumed set. No
 *   listing of `batches/`: the cost follows what arrived, not what is stored.
 * - Otherwise (first merge, --rebuild, a manifest without a watermark or with null: a store whose
 *   ingest wrote no arrival records, or an older merge) list every key under `batches/`, as before
 *   the arrival log. So does an incremental merge whose watermark record is no longer listed
 *   (arrival records removed by hand): the log cannot be trusted then, the listing can.
 *
 * The new watermark is the largest arrival key in the store, null when there is none, whichever
 * way the batches were found: a rebuild and an incremental merge of the same store record the
 * same one (the manifest must come out byte-identical). The incremental listing already ends at
 * that key; the other ways find it by listing after the previous watermark when there is one
 * (gc removes only keys before that time less the margin, so the largest is at or after it), else
 * by listing `arrivals/` whole.
 *
 * A record may name a batch that is not in the store (the ingest writes a batch and its record at
 * once: the batch's write may be late, may have failed, or may be torn); plan.ts consumes a batch
 * only once it has read and decoded it, so such a key comes back with the next record naming it
 * or the next listing within the margin.
 *
 * What the log cannot see: a batch stored without a record (the ingest died between the two
 * writes) until its vehicle resends it (it was never acked) and the duplicate gets a record; and a
 * batch stored by an ingest that predates the log, while a watermark exists (run every ingest
 * instance with the log before the first merge that records one, or merge with --rebuild).
 */
import { ARRIVALS_PREFIX, arrivalListStart, isArrivalKey, parseArrivalRecord } from '../ingest/arrivals.ts';
import type { ObjectStore } from '../store/index.ts';
import type { BatchSet } from './batch-set.ts';
import { runPool } from './executor.ts';

/** Arrival records read at once. */
const RECORD_READS_IN_FLIGHT = 16;

export interface NewBatches {
  /** Batch keys (`batches/...fmb`) to consider, sorted, no repeats; with `arrivals` none is in the consumed set. */
  keys: string[];
  /** The largest arrival key in the store, null when there is none: recorded in the manifest. */
  watermark: string | null;
  /** Where the keys came from. */
  source: 'arrivals' | 'listing';
  /** Arrival records read (0 when listing). */
  arrivalRecordsRead: number;
}

export interface FindNewBatchesInput {
  store: ObjectStore;
  incremental: boolean;
  /** v<N-1>'s watermark: undefined when there is no v<N-1> or its manifest predates the log. */
  previousWatermark: string | null | undefined;
  /** For messages: "v<N-1>". */
  previousName: string;
  consumed: BatchSet;
  warn: (event: string, fields: Record<string, unknown>) => void;
}

export async function findNewBatches(p: FindNewBatchesInput): Promise<NewBatches> {
  const { store } = p;
  const mark = typeof p.previousWatermark === 'string' ? p.previousWatermark : undefined;
  const where = `${p.previousName} manifest arrivalWatermark`;
  if (p.incremental && mark !== undefined) {
    let start: string | undefined;
    try {
      start = arrivalListStart(mark, where);
    } catch (e) {
      p.warn('merge_arrivals_unusable', { watermark: mark, reason: (e as Error).message, action: 'listing batches/' });
    }
    if (start !== undefined) {
      const records = (await store.listAfter(ARRIVALS_PREFIX, start)).filter(isArrivalKey);
      const top = records.at(-1);
      if (top !== undefined && top >= mark) {
        // Reads overlap (small objects: on S3 the round trip is the cost); the result is a
        // sorted set, so the order they finish in does not matter.
        const named = await runPool(records, RECORD_READS_IN_FLIGHT, async (r) => {
          const buf = await store.get(r);
          // gc deletes only records before this listing's start: one listed a moment ago and gone now would hide batches.
          if (!buf) throw new Error(`arrival record ${r} was listed but cannot be read; merge with --rebuild to list batches/ instead`);
          return parseArrivalRecord(buf, r);
        });
        const keys = new Set<string>();
        for (const list of named) for (const b of list) if (!p.consumed.has(b)) keys.add(b);
        return { keys: [...keys].sort(), watermark: top, source: 'arrivals', arrivalRecordsRead: records.length };
      }
      p.warn('merge_arrivals_missing', { watermark: mark, listedAfter: start, listed: records.length, action: 'listing batches/' });
    }
  }
  const keys = (await store.list('batches/')).filter((k) => k.endsWith('.fmb'));
  return { keys, watermark: await latestArrival(store, mark), source: 'listing', arrivalRecordsRead: 0 };
}

/** The largest arrival key, null when none; `hint` (a previous watermark) spares listing them all. */
async function latestArrival(store: ObjectStore, hint: string | undefined): Promise<string | null> {
  if (hint !== undefined && isArrivalKey(hint)) {
    const top = (await store.listAfter(ARRIVALS_PREFIX, arrivalListStart(hint, 'watermark'))).filter(isArrivalKey).at(-1);
    if (top !== undefined && top >= hint) return top;
  }
  return (await store.list(ARRIVALS_PREFIX)).filter(isArrivalKey).at(-1) ?? null;
}
