/**
 * Operator actions on an outbox file while the daemon is stopped (`fleetmap edge outbox`, see
 * outbox-cli.ts): what it holds, moving dead letters back to be sent, deleting them.
 *
 * The file is opened with the same exclusive lock as the daemon, with a busy timeout of 0: while
 * a daemon runs this fails at once with OutboxError 'locked' (nothing is read or changed), and a
 * daemon started while this runs fails the same way (exit 2) and is restarted by its service
 * manager. It never creates a file and never migrates one (the daemon does that).
 *
 * Requeue keeps a dead letter's seq and exact bytes and puts it back into `batches`: the uplink
 * sends batches in seq order, so it goes out next. The ingest dedupes on (vehicleId, seq): it
 * rejected this seq before, so it has not stored it, and will now store it once or reject it
 * again (back to the dead letters). Never re-encoded: new bytes under an old seq would break the
 * exactly-once guarantee. Requeue only after fixing what the reason says (an ingest that could
 * not read the batch); a `seq_conflict` will be rejected again.
 */
import type Database from 'better-sqlite3';
import { type ClassCounts, type DropTotals, addCounts } from './outbox-policy.ts';
import { className, diskUsage, freeBytes, getMetaValue, openOutboxDb, reclaim, type DiskUsage } from './outbox-db.ts';
import { readDropTotals } from './outbox.ts';

/** The WAL limit while the operator tool has the file open, bytes (it writes little). */
const ADMIN_WAL_LIMIT_BYTES = 64 * 1024;

export interface DeadLetterInfo {
  seq: number;
  observations: number;
  envelopeBytes: number;
  reason: string;
  deadUnixMs: number;
}

export interface OutboxReport {
  file: string;
  vehicleId: string;
  schemaVersion: number;
  nextSeq: number;
  pending: { observations: number; bytes: number; byClass: ClassCounts };
  batches: { count: number; observations: number; bytes: number; firstSeq: number | null; lastSeq: number | null };
  deadLetters: { count: number; observations: number; bytes: number; byReason: Record<string, number>; list: DeadLetterInfo[] | undefined };
  disk: DiskUsage & { freePagesBytes: number };
  /** Lifetime totals of the disk-budget policy (meta.drop_totals). */
  dropTotals: DropTotals;
}

/** Open the file (lock held, no create, no migration), run `fn`, close (WAL checkpointed). */
export function withOutboxFile<T>(file: string, fn: (db: Database.Database) => T): T {
  const { db } = openOutboxDb(file, { create: false, migrate: false, walLimitBytes: ADMIN_WAL_LIMIT_BYTES });
  try {
    return fn(db);
  } finally {
    try {
      db.pragma('wal_checkpoint(TRUNCATE)');
    } finally {
      db.close();
    }
  }
}

export function showOutbox(db: Database.Database, file: string, o: { listDeadLetters: boolean }): OutboxReport {
  const byClass: ClassCounts = {};
  let pendingObs = 0;
  let pendingBytes = 0;
  for (const r of db.prepare('SELECT cls, COUNT(*) AS n, SUM(length(obs)) AS bytes FROM pending GROUP BY cls').all() as Array<{ cls: number; n: number; bytes: number }>) {
    addCounts(byClass, { [className(r.cls)]: r.n });
    pendingObs += r.n;
    pendingBytes += r.bytes;
  }
  const b = db.prepare('SELECT COUNT(*) AS n, COALESCE(SUM(observations), 0) AS o, COALESCE(SUM(length(envelope)), 0) AS bytes, MIN(seq) AS lo, MAX(seq) AS hi FROM batches').get() as {
    n: number;
    o: number;
    bytes: number;
    lo: number | null;
    hi: number | null;
  };
  const dead = listDeadLetters(db);
  const byReason: Record<string, number> = {};
  for (const d of dead) byReason[reasonCode(d.reason)] = (byReason[reasonCode(d.reason)] ?? 0) + 1;
  return {
    file,
    vehicleId: String(getMetaValue(db, 'vehicle_id')),
    schemaVersion: Number(getMetaValue(db, 'schema_version')),
    nextSeq: Number(getMetaValue(db, 'next_seq')),
    pending: { observations: pendingObs, bytes: pendingBytes, byClass },
    batches: { count: b.n, observations: b.o, bytes: b.bytes, firstSeq: b.lo, lastSeq: b.hi },
    deadLetters: {
      count: dead.length,
      observations: dead.reduce((a, d) => a + d.observations, 0),
      bytes: dead.reduce((a, d) => a + d.envelopeBytes, 0),
      byReason,
      list: o.listDeadLetters ? dead : undefined,
    },
    disk: { ...diskUsage(file), freePagesBytes: freeBytes(db) },
    dropTotals: readDropTotals(db),
  };
}

/** Move dead letters (all, or those seqs) back into the send queue, same seq and bytes. */
export function requeueDeadLetters(db: Database.Database, seqs: readonly number[] | undefined): { requeued: DeadLetterInfo[] } {
  return db.transaction(() => {
    const chosen = pick(listDeadLetters(db), seqs);
    const clash = db.prepare('SELECT seq FROM batches WHERE seq = ?');
    const move = db.prepare('INSERT INTO batches (seq, created_unix_ms, observations, envelope, class_counts) SELECT seq, created_unix_ms, observations, envelope, class_counts FROM dead_letters WHERE seq = ?');
    const del = db.prepare('DELETE FROM dead_letters WHERE seq = ?');
    for (const d of chosen) {
      // Cannot happen (a seq is in one table at a time); refuse rather than overwrite bytes that may have been sent.
      if (clash.get(d.seq)) throw new Error(`seq ${d.seq} is both a dead letter and an unsent batch; nothing requeued`);
      move.run(d.seq);
      del.run(d.seq);
    }
    return { requeued: chosen };
  }).immediate();
}

/** Delete dead letters (all, or those seqs) and give the space back to the file system. */
export function purgeDeadLetters(db: Database.Database, file: string, seqs: readonly number[] | undefined): { purged: DeadLetterInfo[]; diskBytesBefore: number; diskBytesAfter: number } {
  const diskBytesBefore = diskUsage(file).totalBytes;
  const purged = db.transaction(() => {
    const chosen = pick(listDeadLetters(db), seqs);
    const del = db.prepare('DELETE FROM dead_letters WHERE seq = ?');
    for (const d of chosen) del.run(d.seq);
    return chosen;
  }).immediate();
  reclaim(db);
  return { purged, diskBytesBefore, diskBytesAfter: diskUsage(file).totalBytes };
}

function listDeadLetters(db: Database.Database): DeadLetterInfo[] {
  return (
    db.prepare('SELECT seq, observations, length(envelope) AS bytes, reason, dead_unix_ms FROM dead_letters ORDER BY seq').all() as Array<{
      seq: number;
      observations: number;
      bytes: number;
      reason: string;
      dead_unix_ms: number;
    }>
  ).map((r) => ({ seq: r.seq, observations: r.observations, envelopeBytes: r.bytes, reason: r.reason, deadUnixMs: r.dead_unix_ms }));
}

/** The given seqs must all be dead letters (an operator's typo must not pass silently). */
function pick(dead: DeadLetterInfo[], seqs: readonly number[] | undefined): DeadLetterInfo[] {
  if (seqs === undefined) return dead;
  const bySeq = new Map(dead.map((d) => [d.seq, d]));
  const missing = seqs.filter((s) => !bySeq.has(s));
  if (missing.length > 0) throw new NoSuchDeadLetter(missing, dead.map((d) => d.seq));
  return seqs.map((s) => bySeq.get(s)!);
}

export class NoSuchDeadLetter extends Error {
  constructor(missing: number[], have: number[]) {
    super(`no dead letter with seq ${missing.join(', ')} (dead letters: ${have.length > 0 ? have.join(', ') : 'none'}); nothing changed`);
    this.name = 'NoSuchDeadLetter';
  }
}

/** "bad_body: observation 3 ..." -> "bad_body" (the ingest's reasons start with their code). */
export function reasonCode(reason: string): string {
  const m = /^([a-z_]+):/.exec(reason);
  return m ? m[1]! : reason;
}
