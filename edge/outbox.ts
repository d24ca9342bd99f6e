/**
 * The outbox: an SQLite file (better-sqlite3, WAL) that holds every observation from the moment
 * the georeferencer produces it until the ingest has stored it.
 *
 * Tables:
 * - `pending`: observations not yet in a batch (msgpack of WireObservation), in arrival order.
 * - `batches`: formed batches, `seq` -> the EXACT envelope bytes sent. A row is deleted only
 *   when the ingest acks 'stored' or 'duplicate' for that seq. After a crash the same bytes are
 *   resent under the same seq, so the ingest's (vehicleId, seq) dedupe makes delivery exactly-once.
 * - `dead_letters`: batches the ingest rejected, with the reason; kept (bytes included) for an
 *   operator, never resent automatically.
 * - `meta`: `next_seq` (survives restarts; never reused even when every row is gone),
 *   `vehicle_id` (an outbox belongs to one vehicle), `schema_version`, and small daemon state
 *   that must survive a restart (`drive`: the current drive id, see setMeta).
 *
 * Batch formation is one transaction: take the oldest pending rows (up to N observations and a
 * byte budget), encode with seq = next_seq, insert the batch, delete the rows, bump next_seq.
 *
 * Durability: journal_mode=WAL with synchronous=FULL. With NORMAL a power cut (the usual way a
 * car computer stops) can roll back the last commits: a batch already sent and stored could be
 * rolled back to `pending` with next_seq back too, then be re-formed with DIFFERENT contents under
 * the SAME seq; the ingest would answer 'duplicate' and the difference would be lost or doubled.
 * FULL makes every commit durable before the batch can be sent; the cost is one WAL fsync per
 * perception frame and per batch, a few per second.
 *
 * locking_mode=EXCLUSIVE: a second daemon on the same file fails at open (two senders on one
 * seq space would break the dedupe). The lock dies with the process, SIGKILL included.
 */
import Database from 'better-sqlite3';
import { Packr } from 'msgpackr';
import type { WireObservation } from '../shared/index.ts';

export const OUTBOX_SCHEMA_VERSION = 1;

export interface OutboxOptions {
  vehicleId: string;
  /** Refuse new observations once stored content reaches this, bytes. */
  maxContentBytes: number;
}

export interface BatchToEncode {
  seq: number;
  createdUnixMs: number;
  queueDepth: number;
  observations: WireObservation[];
}

export interface FormBatchOptions {
  maxObservations: number;
  /** Budget on the summed (uncompressed) observation sizes, bytes; at least one is always taken. */
  maxBytes: number;
  nowUnixMs: number;
  /** Encodes and signs a batch (encodeBatch with the vehicle key). */
  encode: (b: BatchToEncode) => Buffer;
}

export interface FormedBatch {
  seq: number;
  observations: number;
  envelopeBytes: number;
  queueDepth: number;
}

export interface OutboxBatch {
  seq: number;
  envelope: Buffer;
  observations: number;
  createdUnixMs: number;
}

export interface OutboxStats {
  pendingObservations: number;
  batches: number;
  batchObservations: number;
  deadLetters: number;
  nextSeq: number;
  contentBytes: number;
}

export class OutboxError extends Error {
  constructor(
    readonly code: 'locked' | 'wrong_vehicle' | 'schema',
    message: string,
  ) {
    super(message);
    this.name = 'OutboxError';
  }
}

const packr = new Packr({ useRecords: false, mapsAsObjects: true });

export class Outbox {
  readonly path: string;
  private readonly db: Database.Database;
  private contentBytes = 0;
  private readonly maxContentBytes: number;
  private readonly st: ReturnType<Outbox['prepare']>;

  constructor(file: string, opts: OutboxOptions) {
    if (!opts.vehicleId) throw new TypeError(`OutboxOptions.vehicleId must be non-empty, got ${JSON.stringify(opts.vehicleId)}`);
    if (!(opts.maxContentBytes > 0)) throw new RangeError(`OutboxOptions.maxContentBytes must be positive, got ${opts.maxContentBytes}`);
    this.path = file;
    this.maxContentBytes = opts.maxContentBytes;
    this.db = new Database(file, { timeout: 0 });
    try {
      this.db.pragma('locking_mode = EXCLUSIVE');
      this.db.pragma('journal_mode = WAL');
      this.db.pragma('synchronous = FULL');
      this.db.exec('BEGIN IMMEDIATE; COMMIT;'); // take the exclusive lock now
    } catch (e) {
      this.db.close();
      if ((e as { code?: string }).code === 'SQLITE_BUSY') throw new OutboxError('locked', `outbox ${file} is in use by another process`);
      throw e;
    }
    this.migrate(opts.vehicleId);
    this.st = this.prepare();
    this.contentBytes = (this.db.prepare('SELECT (SELECT COALESCE(SUM(length(obs)), 0) FROM pending) + (SELECT COALESCE(SUM(length(envelope)), 0) FROM batches) + (SELECT COALESCE(SUM(length(envelope)), 0) FROM dead_letters) AS n').get() as { n: number }).n;
  }

  private migrate(vehicleId: string): void {
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value ANY NOT NULL) STRICT;
      CREATE TABLE IF NOT EXISTS pending (id INTEGER PRIMARY KEY AUTOINCREMENT, queued_unix_ms INTEGER NOT NULL, obs BLOB NOT NULL) STRICT;
      CREATE TABLE IF NOT EXISTS batches (seq INTEGER PRIMARY KEY, created_unix_ms INTEGER NOT NULL, observations INTEGER NOT NULL, envelope BLOB NOT NULL) STRICT;
      CREATE TABLE IF NOT EXISTS dead_letters (seq INTEGER PRIMARY KEY, created_unix_ms INTEGER NOT NULL, observations INTEGER NOT NULL, envelope BLOB NOT NULL, reason TEXT NOT NULL, dead_unix_ms INTEGER NOT NULL) STRICT;
    `);
    const get = (k: string): unknown => (this.db.prepare('SELECT value FROM meta WHERE key = ?').get(k) as { value: unknown } | undefined)?.value;
    this.db.transaction(() => {
      const ins = this.db.prepare('INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?)');
      ins.run('schema_version', OUTBOX_SCHEMA_VERSION);
      ins.run('vehicle_id', vehicleId);
      ins.run('next_seq', 1);
    })();
    const v = get('schema_version');
    if (v !== OUTBOX_SCHEMA_VERSION) throw new OutboxError('schema', `outbox ${this.path} has schema v${String(v)}, expected v${OUTBOX_SCHEMA_VERSION}`);
    const owner = get('vehicle_id');
    if (owner !== vehicleId) throw new OutboxError('wrong_vehicle', `outbox ${this.path} belongs to vehicle ${JSON.stringify(owner)}, not ${JSON.stringify(vehicleId)}`);
  }

  private prepare() {
    const db = this.db;
    return {
      insertPending: db.prepare('INSERT INTO pending (queued_unix_ms, obs) VALUES (?, ?)'),
      takePending: db.prepare('SELECT id, obs FROM pending ORDER BY id LIMIT ?'),
      deletePendingUpTo: db.prepare('DELETE FROM pending WHERE id <= ?'),
      countPending: db.prepare('SELECT COUNT(*) AS n FROM pending'),
      oldestPending: db.prepare('SELECT MIN(queued_unix_ms) AS t FROM pending'),
      batchTotals: db.prepare('SELECT COUNT(*) AS n, COALESCE(SUM(observations), 0) AS o FROM batches'),
      nextSeq: db.prepare("SELECT value FROM meta WHERE key = 'next_seq'"),
      setNextSeq: db.prepare("UPDATE meta SET value = ? WHERE key = 'next_seq'"),
      insertBatch: db.prepare('INSERT INTO batches (seq, created_unix_ms, observations, envelope) VALUES (?, ?, ?, ?)'),
      head: db.prepare('SELECT seq, envelope, observations, created_unix_ms FROM batches ORDER BY seq LIMIT 1'),
      getBatch: db.prepare('SELECT seq, envelope, observations, created_unix_ms FROM batches WHERE seq = ?'),
      deleteBatch: db.prepare('DELETE FROM batches WHERE seq = ?'),
      insertDead: db.prepare('INSERT OR REPLACE INTO dead_letters (seq, created_unix_ms, observations, envelope, reason, dead_unix_ms) VALUES (?, ?, ?, ?, ?, ?)'),
      countDead: db.prepare('SELECT COUNT(*) AS n FROM dead_letters'),
      listDead: db.prepare('SELECT seq, observations, reason, dead_unix_ms FROM dead_letters ORDER BY seq'),
    };
  }

  /**
   * Queue observations (one perception frame) in one transaction. Refuses all of them when the
   * outbox is at its disk limit (the only place the edge drops data; the caller logs it).
   */
  add(observations: readonly WireObservation[], nowUnixMs: number): { accepted: number; refused: number } {
    if (observations.length === 0) return { accepted: 0, refused: 0 };
    const blobs = observations.map((o) => packr.pack(o));
    const size = blobs.reduce((a, b) => a + b.length, 0);
    if (this.contentBytes + size > this.maxContentBytes) return { accepted: 0, refused: observations.length };
    this.db.transaction(() => {
      for (const b of blobs) this.st.insertPending.run(Math.round(nowUnixMs), b);
    })();
    this.contentBytes += size;
    return { accepted: observations.length, refused: 0 };
  }

  /** Move the oldest pending observations into a new batch; undefined when nothing is pending. */
  formBatch(o: FormBatchOptions): FormedBatch | undefined {
    if (!(o.maxObservations >= 1)) throw new RangeError(`maxObservations must be >= 1, got ${o.maxObservations}`);
    return this.db.transaction((): FormedBatch | undefined => {
      const rows = this.st.takePending.all(o.maxObservations) as Array<{ id: number; obs: Buffer }>;
      if (rows.length === 0) return undefined;
      const taken: WireObservation[] = [];
      let bytes = 0;
      let lastId = 0;
      for (const r of rows) {
        if (taken.length > 0 && bytes + r.obs.length > o.maxBytes) break;
        taken.push(packr.unpack(r.obs) as WireObservation);
        bytes += r.obs.length;
        lastId = r.id;
      }
      const seq = (this.st.nextSeq.get() as { value: number }).value;
      const pendingLeft = (this.st.countPending.get() as { n: number }).n - taken.length;
      // The backlog behind this batch (shared/batch.ts): earlier batches still awaiting their ack
      // are reported by their own queueDepth, so the last batch of a drained vehicle says 0.
      const queueDepth = pendingLeft;
      const createdUnixMs = Math.round(o.nowUnixMs);
      const envelope = o.encode({ seq, createdUnixMs, queueDepth, observations: taken });
      this.st.insertBatch.run(seq, createdUnixMs, taken.length, envelope);
      this.st.deletePendingUpTo.run(lastId);
      this.st.setNextSeq.run(seq + 1);
      this.contentBytes += envelope.length - bytes;
      return { seq, observations: taken.length, envelopeBytes: envelope.length, queueDepth };
    }).immediate();
  }

  /** The oldest batch not yet acknowledged (the one the uplink sends). */
  head(): OutboxBatch | undefined {
    return toBatch(this.st.head.get());
  }

  /** The ingest stored (or already had) this batch: forget it. False if no such batch. */
  ack(seq: number): boolean {
    const b = this.st.getBatch.get(seq) as { envelope: Buffer } | undefined;
    if (!b) return false;
    this.st.deleteBatch.run(seq);
    this.contentBytes -= b.envelope.length;
    return true;
  }

  /** The ingest rejected this batch: move it to dead_letters with the reason. */
  deadLetter(seq: number, reason: string, nowUnixMs: number): boolean {
    return this.db.transaction(() => {
      const b = toBatch(this.st.getBatch.get(seq));
      if (!b) return false;
      this.st.insertDead.run(b.seq, b.createdUnixMs, b.observations, b.envelope, reason, Math.round(nowUnixMs));
      this.st.deleteBatch.run(seq);
      return true;
    }).immediate();
  }

  deadLetters(): Array<{ seq: number; observations: number; reason: string; deadUnixMs: number }> {
    return (this.st.listDead.all() as Array<{ seq: number; observations: number; reason: string; dead_unix_ms: number }>).map((r) => ({
      seq: r.seq,
      observations: r.observations,
      reason: r.reason,
      deadUnixMs: r.dead_unix_ms,
    }));
  }

  /** Small daemon state that must survive a restart (string values, keys not starting with next_seq/vehicle_id/schema_version). */
  setMeta(key: string, value: string): void {
    if (key === 'next_seq' || key === 'vehicle_id' || key === 'schema_version') throw new RangeError(`meta key ${key} is reserved`);
    this.db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value').run(key, value);
  }

  getMeta(key: string): string | undefined {
    const v = (this.db.prepare('SELECT value FROM meta WHERE key = ?').get(key) as { value: unknown } | undefined)?.value;
    return typeof v === 'string' ? v : undefined;
  }

  oldestPendingUnixMs(): number | undefined {
    return (this.st.oldestPending.get() as { t: number | null }).t ?? undefined;
  }

  stats(): OutboxStats {
    const bt = this.st.batchTotals.get() as { n: number; o: number };
    return {
      pendingObservations: (this.st.countPending.get() as { n: number }).n,
      batches: bt.n,
      batchObservations: bt.o,
      deadLetters: (this.st.countDead.get() as { n: number }).n,
      nextSeq: (this.st.nextSeq.get() as { value: number }).value,
      contentBytes: this.contentBytes,
    };
  }

  /** Nothing pending and nothing unacknowledged (dead letters do not count: they wait for an operator). */
  isEmpty(): boolean {
    const s = this.stats();
    return s.pendingObservations === 0 && s.batches === 0;
  }

  close(): void {
    if (!this.db.open) return;
    try {
      this.db.pragma('wal_checkpoint(TRUNCATE)');
    } finally {
      this.db.close();
    }
  }
}

function toBatch(row: unknown): OutboxBatch | undefined {
  if (!row) return undefined;
  const r = row as { seq: number; envelope: Buffer; observations: number; created_unix_ms: number };
  return { seq: r.seq, envelope: r.envelope, observations: r.observations, createdUnixMs: r.created_unix_ms };
}
