/**
 * The outbox's SQLite file: opening it (lock, WAL, durability, auto_vacuum), its schema and
 * migrations, measuring what it really takes on disk, and giving freed pages back to the file
 * system. Shared by the daemon's `Outbox` (outbox.ts) and the operator tool (outbox-admin.ts);
 * knows nothing of observations or policies.
 *
 * Disk: everything the outbox puts on disk counts — the database file, its `-wal`, its `-shm`
 * (absent here: EXCLUSIVE locking before WAL keeps the wal-index in memory) and a `-journal`
 * left by an older rollback-journal file. Sizes are measured with stat, never estimated.
 *
 * Keeping the files small (hot path stays cheap: a stat of four names and a header read):
 * - `wal_autocheckpoint` and `journal_size_limit` are derived from the disk budget
 *   (`walLimitBytes`), so the WAL is checkpointed and cut back long before it matters;
 * - `auto_vacuum = INCREMENTAL` is set when the file is created; deleted rows leave free pages
 *   that `reclaim()` hands back (`incremental_vacuum`, then `wal_checkpoint(TRUNCATE)`, which is
 *   when the database file really shrinks in WAL mode). A file created without it (schema v1
 *   outboxes) is rebuilt once with VACUUM at open; that needs free space about the size of the
 *   file once.
 *
 * Schema v2 (v1 is migrated in place at open by the daemon):
 * - `pending (id, queued_unix_ms, obs, cls, score, prio)`: `cls` is the class code
 *   (shared/schema.ts classCode, the wire code), `score` the confidence, `prio` the profile's class
 *   priority when the row was written (re-derived at open if the profile's priorities changed);
 *   index `pending_by_value (prio, score, id)` orders rows by value for the disk-budget policy.
 * - `batches (seq, created_unix_ms, observations, envelope, class_counts)` and
 *   `dead_letters (..., reason, dead_unix_ms, class_counts)`: `class_counts` is JSON
 *   `{cls: n}` written when the batch is formed (NULL for batches formed before v2).
 * - `meta`: next_seq, vehicle_id, schema_version, and small state (`drive`, `class_priority`,
 *   `drop_totals`).
 */
import { statSync } from 'node:fs';
import Database from 'better-sqlite3';
import { Packr } from 'msgpackr';
import { PRIMITIVE_CLASSES, classCode, type WireObservation } from '../shared/index.ts';

export const OUTBOX_SCHEMA_VERSION = 2;

/** auto_vacuum modes as PRAGMA auto_vacuum reports them. */
const AUTO_VACUUM_INCREMENTAL = 2;

export class OutboxError extends Error {
  constructor(
    readonly code: 'locked' | 'wrong_vehicle' | 'schema' | 'not_found' | 'not_an_outbox',
    message: string,
  ) {
    super(message);
    this.name = 'OutboxError';
  }
}

export const obsPackr = new Packr({ useRecords: false, mapsAsObjects: true });

export interface DiskUsage {
  dbBytes: number;
  walBytes: number;
  shmBytes: number;
  journalBytes: number;
  totalBytes: number;
}

/** What the outbox takes on disk right now: stat of the file and its companions (missing = 0). */
export function diskUsage(file: string): DiskUsage {
  const size = (f: string): number => {
    try {
      return statSync(f).size;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return 0;
      throw e;
    }
  };
  const dbBytes = size(file);
  const walBytes = size(`${file}-wal`);
  const shmBytes = size(`${file}-shm`);
  const journalBytes = size(`${file}-journal`);
  return { dbBytes, walBytes, shmBytes, journalBytes, totalBytes: dbBytes + walBytes + shmBytes + journalBytes };
}

/**
 * The WAL's share of a disk budget, bytes: 1/16 of it, at least 64 KiB, at most 4 MiB (SQLite's
 * own default checkpoint size). Used as journal_size_limit and, in pages, wal_autocheckpoint.
 */
export function walLimitBytes(maxDiskBytes: number): number {
  return Math.min(4 * 1024 * 1024, Math.max(64 * 1024, Math.floor(maxDiskBytes / 16)));
}

export interface OpenOptions {
  /** Create the file when missing (the daemon) or refuse (the operator tool). */
  create: boolean;
  /** Migrate an older schema (the daemon) or refuse it (the operator tool). */
  migrate: boolean;
  /** journal_size_limit, and wal_autocheckpoint in pages (see walLimitBytes), bytes. */
  walLimitBytes: number;
}

export interface OpenedOutboxDb {
  db: Database.Database;
  /** The file had no auto_vacuum and was rebuilt once with VACUUM (bytes before and after). */
  vacuumed: { beforeBytes: number; afterBytes: number } | undefined;
  /** Migrated from this schema version at open; undefined when it was already current. */
  migratedFrom: number | undefined;
}

/**
 * Open (or create) an outbox file with the exclusive lock. A second process on the same file —
 * a running daemon, or an operator tool — gets OutboxError 'locked' at once (busy timeout 0).
 */
export function openOutboxDb(file: string, o: OpenOptions): OpenedOutboxDb {
  let db: Database.Database;
  try {
    db = new Database(file, { timeout: 0, fileMustExist: !o.create });
  } catch (e) {
    if (!o.create && (e as { code?: string }).code === 'SQLITE_CANTOPEN') throw new OutboxError('not_found', `no outbox file ${file}`);
    throw e;
  }
  try {
    db.pragma('locking_mode = EXCLUSIVE');
    // Only for a new file (set before its first table); older files are rebuilt below. Not set on
    // an existing file: that would rewrite its header page on every open.
    if ((db.pragma('page_count', { simple: true }) as number) === 0) db.pragma('auto_vacuum = INCREMENTAL');
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    const walLimit = o.walLimitBytes;
    const pageSize = db.pragma('page_size', { simple: true }) as number;
    db.pragma(`journal_size_limit = ${walLimit}`);
    db.pragma(`wal_autocheckpoint = ${Math.max(16, Math.floor(walLimit / pageSize))}`);
    db.exec('BEGIN IMMEDIATE; COMMIT;'); // take the exclusive lock now
  } catch (e) {
    db.close();
    if ((e as { code?: string }).code === 'SQLITE_BUSY') throw new OutboxError('locked', `outbox ${file} is in use by another process (a running edge daemon holds it; stop it first)`);
    if ((e as { code?: string }).code === 'SQLITE_NOTADB') throw new OutboxError('not_an_outbox', `${file} is not an SQLite file`);
    throw e;
  }
  try {
    const migratedFrom = schema(db, file, o);
    let vacuumed: OpenedOutboxDb['vacuumed'];
    if ((db.pragma('auto_vacuum', { simple: true }) as number) !== AUTO_VACUUM_INCREMENTAL) {
      if (!o.migrate) throw new OutboxError('schema', `outbox ${file} was created without auto_vacuum; start the edge daemon once to rebuild it`);
      const beforeBytes = diskUsage(file).totalBytes;
      db.pragma('auto_vacuum = INCREMENTAL');
      db.exec('VACUUM');
      db.pragma('wal_checkpoint(TRUNCATE)');
      vacuumed = { beforeBytes, afterBytes: diskUsage(file).totalBytes };
    }
    return { db, vacuumed, migratedFrom };
  } catch (e) {
    db.close();
    throw e;
  }
}

const V2_TABLES = `
  CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value ANY NOT NULL) STRICT;
  CREATE TABLE IF NOT EXISTS pending (id INTEGER PRIMARY KEY AUTOINCREMENT, queued_unix_ms INTEGER NOT NULL, obs BLOB NOT NULL,
    cls INTEGER NOT NULL, score REAL NOT NULL, prio INTEGER NOT NULL) STRICT;
  CREATE INDEX IF NOT EXISTS pending_by_value ON pending (prio, score, id);
  CREATE TABLE IF NOT EXISTS batches (seq INTEGER PRIMARY KEY, created_unix_ms INTEGER NOT NULL, observations INTEGER NOT NULL, envelope BLOB NOT NULL,
    class_counts TEXT) STRICT;
  CREATE TABLE IF NOT EXISTS dead_letters (seq INTEGER PRIMARY KEY, created_unix_ms INTEGER NOT NULL, observations INTEGER NOT NULL, envelope BLOB NOT NULL,
    reason TEXT NOT NULL, dead_unix_ms INTEGER NOT NULL, class_counts TEXT) STRICT;
`;

/** Create or check (and, when allowed, migrate) the schema; returns the version migrated from. */
function schema(db: Database.Database, file: string, o: OpenOptions): number | undefined {
  const hasMeta = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'").get() !== undefined;
  if (!hasMeta) {
    if (!o.create) throw new OutboxError('not_an_outbox', `${file} is not a fleetmap outbox (no meta table)`);
    db.transaction(() => {
      db.exec(V2_TABLES);
      db.prepare("INSERT INTO meta (key, value) VALUES ('schema_version', ?)").run(OUTBOX_SCHEMA_VERSION);
    })();
    return undefined;
  }
  const v = (db.prepare("SELECT value FROM meta WHERE key = 'schema_version'").get() as { value: unknown } | undefined)?.value;
  if (v === OUTBOX_SCHEMA_VERSION) return undefined;
  if (v === 1 && o.migrate) {
    db.transaction(() => migrateV1(db))();
    return 1;
  }
  const hint = v === 1 ? '; start the edge daemon once to migrate it' : '';
  throw new OutboxError('schema', `outbox ${file} has schema v${String(v)}, expected v${OUTBOX_SCHEMA_VERSION}${hint}`);
}

/** v1 -> v2: class, score and priority columns on pending (filled from the rows), class_counts on batches. */
function migrateV1(db: Database.Database): void {
  db.exec(`
    ALTER TABLE pending ADD COLUMN cls INTEGER NOT NULL DEFAULT -1;
    ALTER TABLE pending ADD COLUMN score REAL NOT NULL DEFAULT 0;
    ALTER TABLE pending ADD COLUMN prio INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE batches ADD COLUMN class_counts TEXT;
    ALTER TABLE dead_letters ADD COLUMN class_counts TEXT;
  `);
  const upd = db.prepare('UPDATE pending SET cls = ?, score = ? WHERE id = ?');
  const chunk = db.prepare('SELECT id, obs FROM pending WHERE id > ? ORDER BY id LIMIT 1000');
  for (let last = 0, rows: Array<{ id: number; obs: Buffer }>; (rows = chunk.all(last) as typeof rows).length > 0; last = rows[rows.length - 1]!.id) {
    for (const r of rows) {
      const o = obsPackr.unpack(r.obs) as WireObservation;
      upd.run(classCode(o.cls), o.score, r.id);
    }
  }
  db.exec('CREATE INDEX IF NOT EXISTS pending_by_value ON pending (prio, score, id)');
  db.prepare("UPDATE meta SET value = ? WHERE key = 'schema_version'").run(OUTBOX_SCHEMA_VERSION);
  db.prepare("DELETE FROM meta WHERE key = 'class_priority'").run(); // priorities are derived again at open
}

/**
 * Give free pages back to the file system: incremental_vacuum moves them to the end and cuts
 * them off (in the WAL), the TRUNCATE checkpoint writes that into the database file and empties
 * the WAL. Needs the exclusive lock (held by the opener).
 */
export function reclaim(db: Database.Database): void {
  if ((db.pragma('freelist_count', { simple: true }) as number) > 0) db.pragma('incremental_vacuum');
  db.pragma('wal_checkpoint(TRUNCATE)');
}

/** Free pages inside the database file, bytes (space SQLite will reuse before it grows the file). */
export function freeBytes(db: Database.Database): number {
  return (db.pragma('freelist_count', { simple: true }) as number) * (db.pragma('page_size', { simple: true }) as number);
}

export function getMetaValue(db: Database.Database, key: string): unknown {
  return (db.prepare('SELECT value FROM meta WHERE key = ?').get(key) as { value: unknown } | undefined)?.value;
}

/** Class names by class code, for counts read back from the file ("unknown" for -1 / NULL). */
export function className(code: number | null): string {
  return PRIMITIVE_CLASSES.find((c) => classCode(c) === code) ?? 'unknown';
}
