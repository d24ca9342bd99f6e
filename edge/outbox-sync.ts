/**
 * When an outbox write waits for the disk (SQLite `synchronous=FULL`: the WAL is fsync'd before
 * the commit returns) and when it does not (`NORMAL`: the commit is in the OS's page cache, safe
 * from a crash of the process, not from a power cut). Pure; outbox.ts applies it.
 *
 * Every write that changes what was or will be sent is durable: forming a batch (its seq and bytes
 * are fixed before it can go out), the ack's delete, dead-lettering, drops, metadata. Only queueing
 * observations (`add`, once per perception output, several times a second) may skip the fsync, and
 * only while the last durable commit is less than `syncEveryMs` old. A FULL commit syncs every WAL
 * frame before it, so it also makes the NORMAL adds before it durable; a power cut can therefore
 * lose at most the observations queued within one `syncEveryMs` after the last durable commit,
 * never a batch, never a seq. A kill -9 loses nothing either way.
 *
 * Why: one fsync per perception output blocks the daemon's thread (better-sqlite3 is synchronous)
 * for 0.3-0.5 ms on this development machine's SSD and far longer on a vehicle computer's eMMC;
 * an earlier demo profile measured the adds' waits as long as inference itself.
 */

/** syncEveryMs of a hw-profile that does not give one, milliseconds. */
export const DEFAULT_SYNC_EVERY_MS = 1000;

/** Largest syncEveryMs (OutboxOptions, hw-profile outbox.syncEveryMs), milliseconds. */
export const MAX_SYNC_EVERY_MS = 10_000;

/**
 * Must the add at `nowUnixMs` be a durable commit, given the last durable commit's time? Yes when
 * there was none yet, when syncEveryMs is 0 (every add durable), when it is syncEveryMs or more
 * ago, and when the clock went backwards (a stepped clock must not postpone durability).
 */
export function addMustSync(lastDurableUnixMs: number | undefined, nowUnixMs: number, syncEveryMs: number): boolean {
  if (!(syncEveryMs > 0) || lastDurableUnixMs === undefined) return true;
  const sinceMs = nowUnixMs - lastDurableUnixMs;
  return !(sinceMs >= 0 && sinceMs < syncEveryMs);
}
