/**
 * Per-batch tile index: `index/batches/<vehicleId>/<seq:10>.json` records, once, what a stored
 * batch holds: the tiles its observations are keyed to, the count and the time span. Written by
 * the first merge that reads and decodes the batch (putIfAbsent: batches are immutable, so is
 * their index). A rebuilding merge with a time window skips, without reading them, batches whose
 * newest observation has aged out.
 */
import type { WireObservation } from '../../shared/batch.ts';
import type { ObjectStore } from '../store/index.ts';

export interface BatchIndex {
  /** Tile keys ("16/x/y") the observations are keyed to, sorted. */
  tiles: string[];
  observations: number;
  minTUnixMs: number | null;
  maxTUnixMs: number | null;
  /**
   * Set by merges before 2026-12-06 when the batch could not be decoded; no longer written (an
   * undecodable batch is not consumed: its resend may replace it), and ignored when read.
   */
  error?: string;
}

export function batchIndexKey(batchKey: string): string {
  return `index/${batchKey.replace(/\.fmb$/, '.json')}`;
}

export function indexOf(observations: readonly WireObservation[]): BatchIndex {
  const tiles = new Set<string>();
  let lo = Infinity;
  let hi = -Infinity;
  for (const o of observations) {
    tiles.add(o.tile);
    if (o.tUnixMs < lo) lo = o.tUnixMs;
    if (o.tUnixMs > hi) hi = o.tUnixMs;
  }
  return { tiles: [...tiles].sort(), observations: observations.length, minTUnixMs: observations.length ? lo : null, maxTUnixMs: observations.length ? hi : null };
}

export async function readBatchIndex(store: ObjectStore, batchKey: string): Promise<BatchIndex | undefined> {
  const buf = await store.get(batchIndexKey(batchKey));
  return buf ? (JSON.parse(buf.toString('utf8')) as BatchIndex) : undefined;
}

export async function writeBatchIndex(store: ObjectStore, batchKey: string, index: BatchIndex): Promise<void> {
  const key = batchIndexKey(batchKey);
  if (!(await store.exists(key))) await store.putIfAbsent(key, Buffer.from(JSON.stringify(index)));
}
