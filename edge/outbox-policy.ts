/**
 * What the outbox does when its disk budget is reached: the policy (from the hw-profile's
 * `outbox` section) and the pure numbers behind it. No SQLite here; outbox.ts applies it.
 *
 * Value of unsent data, lowest first (the order things are dropped in):
 * 1. the kinds in `dropWhenFull`, in that order: `dead_letters` (batches the ingest rejected, kept
 *    for an operator), `pending` (observations not yet in a batch), `batches` (formed, signed,
 *    waiting for an ack). A kind not listed is never dropped; when nothing listed is left, new
 *    observations are refused (counted as `refused`). The shipped profiles list
 *    `["dead_letters", "pending", "batches"]`: a formed batch is worth more than a raw observation.
 * 2. within `pending`: the lowest class priority (`classPriority`, 0..9, higher = more valuable),
 *    then the lowest score (confidence), then the oldest;
 * 3. within `batches` and `dead_letters`: the oldest (lowest seq) first. A dropped batch is
 *    deleted, never renumbered or re-formed, and its seq is never reused, so a batch that was
 *    already sent can at worst still be stored once by the ingest: exactly-once holds.
 *
 * Hysteresis: when a write would take the outbox over `maxDiskBytes`, enough is dropped to bring
 * it down to `dropToPercent` of the budget, so the next drop comes only after that much new data.
 */
import { PRIMITIVE_CLASSES, classCode, type PrimitiveClass } from '../shared/index.ts';

export const DROP_KINDS = ['dead_letters', 'pending', 'batches'] as const;
export type DropKind = (typeof DROP_KINDS)[number];

/** Class priority, 0 (dropped first, held back first on a metered link) .. 9 (most valuable). */
export const MAX_CLASS_PRIORITY = 9;
export type ClassPriority = Readonly<Record<PrimitiveClass, number>>;

export interface OutboxPolicy {
  /** What may be dropped when the budget is reached, in this order; [] = refuse new data only. */
  dropWhenFull: readonly DropKind[];
  /** After a drop the outbox is at most this percentage of maxDiskBytes (50..99). */
  dropToPercent: number;
  classPriority: ClassPriority;
}

export type BudgetCheck = { fits: true } | { fits: false; mustFreeBytes: number };

/**
 * Does a write of `needBytes` fit? If not, how much must go so that after it the outbox is at
 * dropToPercent of the budget.
 */
export function budgetCheck(i: { diskBytes: number; needBytes: number; maxDiskBytes: number; dropToPercent: number }): BudgetCheck {
  if (i.diskBytes + i.needBytes <= i.maxDiskBytes) return { fits: true };
  const target = Math.floor((i.maxDiskBytes * i.dropToPercent) / 100);
  return { fits: false, mustFreeBytes: i.diskBytes + i.needBytes - target };
}

/**
 * Bytes a row takes beyond its blob (record header, rowid, its entry in pending_by_value, page
 * slack), for projecting the growth of a write before it is made. Deliberately on the high side.
 */
export const ROW_OVERHEAD_BYTES = 64;

/** Observations counted per class; "unknown" for batches formed before outbox schema v2. */
export type ClassCounts = Partial<Record<PrimitiveClass | 'unknown', number>>;

export function addCounts(into: ClassCounts, add: ClassCounts): void {
  for (const [k, n] of Object.entries(add) as Array<[keyof ClassCounts, number]>) into[k] = (into[k] ?? 0) + n;
}

/** Drop and refusal totals: observations per reason (what was dropped or refused) and class. */
export interface DropTotals {
  /** Times the policy was applied (the budget was reached). */
  applied: number;
  batches: number;
  deadLetters: number;
  observations: Record<DropKind | 'refused', ClassCounts>;
}

export function emptyDropTotals(): DropTotals {
  return { applied: 0, batches: 0, deadLetters: 0, observations: { dead_letters: {}, pending: {}, batches: {}, refused: {} } };
}

export function addDropTotals(into: DropTotals, add: DropTotals): void {
  into.applied += add.applied;
  into.batches += add.batches;
  into.deadLetters += add.deadLetters;
  for (const k of Object.keys(into.observations) as Array<keyof DropTotals['observations']>) addCounts(into.observations[k], add.observations[k]);
}

/** A SQL expression giving a class code's priority (integers only, so it is safe to inline). */
export function prioritySql(p: ClassPriority, column: string): string {
  const arms = PRIMITIVE_CLASSES.map((c) => `WHEN ${classCode(c)} THEN ${Math.trunc(p[c])}`).join(' ');
  return `CASE ${column} ${arms} ELSE 0 END`;
}

/** The classes whose priority is below `minPriority` (held back on a metered link). */
export function classesBelow(p: ClassPriority, minPriority: number): PrimitiveClass[] {
  return PRIMITIVE_CLASSES.filter((c) => p[c] < minPriority);
}
