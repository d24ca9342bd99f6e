/**
 * The outbox: an SQLite file (better-sqlite3, WAL) that holds every observation from the moment
 * the georeferencer produces it until the ingest has stored it, within a disk budget.
 *
 * Tables (schema and file handling in outbox-db.ts):
 * - `pending`: observations not yet in a batch (msgpack of WireObservation), in arrival order,
 *   with their class, score and class priority.
 * - `batches`: formed batches, `seq` -> the EXACT envelope bytes sent. A row is deleted when the
 *   ingest acks 'stored' or 'duplicate' for that seq, or when the disk-budget policy drops it.
 *   After a crash the same bytes are resent under the same seq, so the ingest's (vehicleId, seq)
 *   dedupe makes delivery exactly-once.
 * - `dead_letters`: batches the ingest rejected, with the reason; kept (bytes included) for an
 *   operator (`fleetmap edge outbox`), never resent automatically.
 * - `meta`: `next_seq` (survives restarts; never reused even when every row is gone),
 *   `vehicle_id` (an outbox belongs to one vehicle), `schema_version`, and small daemon state
 *   that must survive a restart (`drive`: the current drive id, see setMeta).
 *
 * Batch formation is one transaction: take the oldest pending rows whose class priority is at
 * least `minPriority` (up to N observations and a byte budget), encode with seq = next_seq,
 * insert the batch, delete those rows, bump next_seq.
 *
 * Disk budget (`maxDiskBytes`): counts the database file, its WAL and everything else the
 * outbox has on disk, measured with stat (outbox-db.ts). A write that would go over it first
 * reclaims free pages and checkpoints the WAL; if still over, the policy (outbox-policy.ts)
 * drops the lowest-value data down to `dropToPercent` of the budget, and counts what it dropped
 * per reason and class (`dropTotals`, `takeBudgetEvents`); if nothing droppable is left, new
 * observations are refused (counted as well). After each write the budget is checked again, so
 * between calls the outbox stays within the budget (the test states the slack).
 *
 * Durability: journal_mode=WAL with synchronous=FULL. With NORMAL a power cut (the usual way a
 * car computer stops) can roll back the last commits: a batch already sent and stored could be
 * rolled back to `pending` with next_seq back too, then be re-formed with DIFFERENT contents under
 * the SAME seq; the ingest would answer 'duplicate' and the difference would be lost or doubled.
 * FULL makes every commit durable before the batch can be sent. The one exception is queueing
 * observations (`add`): within `syncEveryMs` of the last durable commit it commits with NORMAL,
 * and the next FULL commit (an add, a batch) syncs it too; outbox-sync.ts bounds what a power cut
 * can then lose (observations of the last syncEveryMs, never a batch or a seq). So the cost is one
 * WAL fsync per batch and at most one per syncEveryMs of perception output.
 *
 * locking_mode=EXCLUSIVE: a second daemon (or the operator tool) on the same file fails at open
 * (two senders on one seq space would break the dedupe). The lock dies with the process.
 */
import { crashPoint } from '../shared/crash-points.ts';
import type Database from 'better-sqlite3';
import { PRIMITIVE_CLASSES, classCode, type PrimitiveClass, type WireObservation } from '../shared/index.ts';
import { MAX_SYNC_EVERY_MS, addMustSync } from './outbox-sync.ts';
import { OutboxError, className, diskUsage, freeBytes, getMetaValue, obsPackr, openOutboxDb, reclaim, walLimitBytes, type DiskUsage, type OpenedOutboxDb } from './outbox-db.ts';
import {
  ROW_OVERHEAD_BYTES,
  addCounts,
  addDropTotals,
  budgetCheck,
  emptyDropTotals,
  prioritySql,
  type ClassCounts,
  type DropKind,
  type DropTotals,
  type OutboxPolicy,
} from './outbox-policy.ts';

export { OUTBOX_SCHEMA_VERSION, OutboxError, diskUsage, type DiskUsage } from './outbox-db.ts';

export interface OutboxOptions {
  vehicleId: string;
  /** Everything the outbox may take on disk (database, WAL, shm), bytes. */
  maxDiskBytes: number;
  /** What to drop when the budget is reached, and the class priorities (hw-profile `outbox`). */
  policy: OutboxPolicy;
  /**
   * Queued observations may wait this long for a durable commit, milliseconds (hw-profile
   * `outbox.syncEveryMs`; outbox-sync.ts). Default 0: every add is durable.
   */
  syncEveryMs?: number;
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
  /** Only observations whose class priority is at least this (0 = all; see link.ts). */
  minPriority: number;
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
  /** Summed sizes of the stored observations and envelopes, bytes (what the rows hold). */
  contentBytes: number;
  /** What the outbox takes on disk (all files), bytes. */
  diskBytes: number;
}

/** One application of the disk-budget policy (something was dropped), for a warn log event. */
export interface BudgetEvent {
  /** The call that met the budget: a write projected over it, or any write that left it over (the WAL grows on deletes too). */
  trigger: 'add' | 'form_batch' | 'ack' | 'dead_letter' | 'meta';
  maxDiskBytes: number;
  targetBytes: number;
  needBytes: number;
  diskBytesBefore: number;
  diskBytesAfter: number;
  droppedPending: number;
  droppedBatches: number;
  droppedBatchObservations: number;
  droppedDeadLetters: number;
  droppedDeadLetterObservations: number;
  droppedByClass: ClassCounts;
  /** Observations of this write refused even so (nothing droppable was left). */
  refusedObservations: number;
}

export class Outbox {
  readonly path: string;
  readonly maxDiskBytes: number;
  readonly policy: OutboxPolicy;
  /** What opening did to the file: a one-time VACUUM (auto_vacuum was off), a schema migration. */
  readonly opened: Pick<OpenedOutboxDb, 'vacuumed' | 'migratedFrom'>;
  private readonly db: Database.Database;
  private contentBytes = 0;
  /** The WAL's share of the budget (outbox-db.ts walLimitBytes); also the free space that triggers a reclaim. */
  private readonly walLimitBytes: number;
  private readonly st: ReturnType<Outbox['prepare']>;
  /** Drops and refusals in this run. */
  private readonly totals: DropTotals = emptyDropTotals();
  /** Refusals not yet written to meta.drop_totals (written at close, and with the next drop). */
  private unsavedRefused: ClassCounts = {};
  private readonly events: BudgetEvent[] = [];
  private readonly syncEveryMs: number;
  /** Adds in this run that committed durably (FULL) and that left the fsync to a later commit (NORMAL). */
  readonly addCommits = { durable: 0, deferred: 0 };
  /** When the last durable add or batch formation committed (the caller's clock), Unix ms. */
  private lastDurableUnixMs: number | undefined;

  constructor(file: string, opts: OutboxOptions) {
    if (!opts.vehicleId) throw new TypeError(`OutboxOptions.vehicleId must be non-empty, got ${JSON.stringify(opts.vehicleId)}`);
    if (!(opts.maxDiskBytes > 0)) throw new RangeError(`OutboxOptions.maxDiskBytes must be positive, got ${opts.maxDiskBytes}`);
    if (!(opts.policy.dropToPercent >= 50 && opts.policy.dropToPercent <= 99)) throw new RangeError(`OutboxOptions.policy.dropToPercent must be in [50, 99], got ${opts.policy.dropToPercent}`);
    for (const c of PRIMITIVE_CLASSES) {
      if (!Number.isInteger(opts.policy.classPriority[c])) throw new RangeError(`OutboxOptions.policy.classPriority.${c} must be an integer, got ${String(opts.policy.classPriority[c])}`);
    }
    const syncEveryMs = opts.syncEveryMs ?? 0;
    if (!(syncEveryMs >= 0 && syncEveryMs <= MAX_SYNC_EVERY_MS)) throw new RangeError(`OutboxOptions.syncEveryMs must be in [0, ${MAX_SYNC_EVERY_MS}], got ${opts.syncEveryMs}`);
    this.syncEveryMs = syncEveryMs;
    this.path = file;
    this.maxDiskBytes = opts.maxDiskBytes;
    this.policy = opts.policy;
    this.walLimitBytes = walLimitBytes(opts.maxDiskBytes);
    const o = openOutboxDb(file, { create: true, migrate: true, walLimitBytes: this.walLimitBytes });
    this.db = o.db;
    this.opened = { vacuumed: o.vacuumed, migratedFrom: o.migratedFrom };
    try {
      this.claim(opts.vehicleId);
      this.applyClassPriority();
      reclaim(this.db);
    } catch (e) {
      this.db.close();
      throw e;
    }
    this.st = this.prepare();
    this.contentBytes = (this.db.prepare('SELECT (SELECT COALESCE(SUM(length(obs)), 0) FROM pending) + (SELECT COALESCE(SUM(length(envelope)), 0) FROM batches) + (SELECT COALESCE(SUM(length(envelope)), 0) FROM dead_letters) AS n').get() as { n: number }).n;
  }

  private claim(vehicleId: string): void {
    this.db.transaction(() => {
      const ins = this.db.prepare('INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?)');
      ins.run('vehicle_id', vehicleId);
      ins.run('next_seq', 1);
    })();
    const owner = getMetaValue(this.db, 'vehicle_id');
    if (owner !== vehicleId) throw new OutboxError('wrong_vehicle', `outbox ${this.path} belongs to vehicle ${JSON.stringify(owner)}, not ${JSON.stringify(vehicleId)}`);
  }

  /** pending.prio follows the profile's class priorities; re-derived when they changed. */
  private applyClassPriority(): void {
    const want = JSON.stringify(PRIMITIVE_CLASSES.map((c) => this.policy.classPriority[c]));
    if (getMetaValue(this.db, 'class_priority') === want) return;
    this.db.transaction(() => {
      this.db.exec(`UPDATE pending SET prio = ${prioritySql(this.policy.classPriority, 'cls')}`);
      this.db.prepare("INSERT INTO meta (key, value) VALUES ('class_priority', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value").run(want);
    })();
  }

  private prepare() {
    const db = this.db;
    return {
      insertPending: db.prepare('INSERT INTO pending (queued_unix_ms, obs, cls, score, prio) VALUES (?, ?, ?, ?, ?)'),
      takePending: db.prepare('SELECT id, obs FROM pending WHERE prio >= ? ORDER BY id LIMIT ?'),
      deletePending: db.prepare('DELETE FROM pending WHERE id = ?'),
      countPending: db.prepare('SELECT COUNT(*) AS n FROM pending'),
      countPendingFrom: db.prepare('SELECT COUNT(*) AS n FROM pending WHERE prio >= ?'),
      oldestPendingFrom: db.prepare('SELECT queued_unix_ms AS t FROM pending WHERE prio >= ? ORDER BY id LIMIT 1'),
      pendingByValue: db.prepare('SELECT id, cls, length(obs) AS bytes FROM pending ORDER BY prio, score, id LIMIT ?'),
      batchTotals: db.prepare('SELECT COUNT(*) AS n, COALESCE(SUM(observations), 0) AS o FROM batches'),
      nextSeq: db.prepare("SELECT value FROM meta WHERE key = 'next_seq'"),
      setNextSeq: db.prepare("UPDATE meta SET value = ? WHERE key = 'next_seq'"),
      insertBatch: db.prepare('INSERT INTO batches (seq, created_unix_ms, observations, envelope, class_counts) VALUES (?, ?, ?, ?, ?)'),
      head: db.prepare('SELECT seq, envelope, observations, created_unix_ms FROM batches ORDER BY seq LIMIT 1'),
      getBatch: db.prepare('SELECT seq, envelope, observations, created_unix_ms, class_counts FROM batches WHERE seq = ?'),
      deleteBatch: db.prepare('DELETE FROM batches WHERE seq = ?'),
      oldestBatches: db.prepare('SELECT seq, observations, length(envelope) AS bytes, class_counts FROM batches ORDER BY seq LIMIT ?'),
      insertDead: db.prepare('INSERT OR REPLACE INTO dead_letters (seq, created_unix_ms, observations, envelope, reason, dead_unix_ms, class_counts) VALUES (?, ?, ?, ?, ?, ?, ?)'),
      countDead: db.prepare('SELECT COUNT(*) AS n FROM dead_letters'),
      listDead: db.prepare('SELECT seq, observations, reason, dead_unix_ms FROM dead_letters ORDER BY seq'),
      oldestDead: db.prepare('SELECT seq, observations, length(envelope) AS bytes, class_counts FROM dead_letters ORDER BY seq LIMIT ?'),
      deleteDead: db.prepare('DELETE FROM dead_letters WHERE seq = ?'),
      setMeta: db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value'),
    };
  }

  /**
   * Queue observations (one perception frame) in one transaction. At the disk budget the policy
   * makes room first (dropping lower-value data, see outbox-policy.ts); what still does not fit is
   * refused whole and counted. `budget` says what the policy dropped for this write, if anything.
   */
  add(observations: readonly WireObservation[], nowUnixMs: number): { accepted: number; refused: number; budget: BudgetEvent | undefined } {
    if (observations.length === 0) return { accepted: 0, refused: 0, budget: undefined };
    const blobs = observations.map((o) => obsPackr.pack(o));
    const size = blobs.reduce((a, b) => a + b.length, 0);
    const needBytes = size + blobs.length * ROW_OVERHEAD_BYTES;
    const room = this.makeRoom(needBytes, 'add');
    if (!room.fits) {
      const refused: ClassCounts = {};
      for (const o of observations) refused[o.cls] = (refused[o.cls] ?? 0) + 1;
      addCounts(this.totals.observations.refused, refused);
      addCounts(this.unsavedRefused, refused);
      if (room.event) room.event.refusedObservations = observations.length;
      return { accepted: 0, refused: observations.length, budget: room.event };
    }
    const prio = this.policy.classPriority;
    // The connection commits with synchronous=FULL; an add within syncEveryMs of the last durable
    // commit skips the fsync (outbox-sync.ts says what a power cut can then lose).
    const durable = addMustSync(this.lastDurableUnixMs, nowUnixMs, this.syncEveryMs);
    // db.pragma each time, not a statement prepared once: SQLite applies `PRAGMA synchronous = X`
    // when the statement is compiled, so re-running a prepared one changes nothing (checked).
    if (!durable) this.db.pragma('synchronous = NORMAL');
    try {
      this.db.transaction(() => {
        observations.forEach((o, i) => this.st.insertPending.run(Math.round(nowUnixMs), blobs[i]!, classCode(o.cls), o.score, prio[o.cls]));
        crashPoint('outbox_append');
      })();
    } finally {
      if (!durable) this.db.pragma('synchronous = FULL');
    }
    if (durable) {
      this.lastDurableUnixMs = nowUnixMs;
      this.addCommits.durable++;
    } else this.addCommits.deferred++;
    this.contentBytes += size;
    this.afterWrite('add');
    return { accepted: observations.length, refused: 0, budget: room.event };
  }

  /**
   * Move the oldest pending observations of priority >= minPriority into a new batch; undefined
   * when none is pending. Rows held back (lower priority) keep their place.
   */
  formBatch(o: FormBatchOptions): FormedBatch | undefined {
    if (!(o.maxObservations >= 1)) throw new RangeError(`maxObservations must be >= 1, got ${o.maxObservations}`);
    if (!Number.isInteger(o.minPriority)) throw new RangeError(`minPriority must be an integer, got ${o.minPriority}`);
    const formed = this.db.transaction((): FormedBatch | undefined => {
      const rows = this.st.takePending.all(o.minPriority, o.maxObservations) as Array<{ id: number; obs: Buffer }>;
      if (rows.length === 0) return undefined;
      const taken: WireObservation[] = [];
      const ids: number[] = [];
      let bytes = 0;
      for (const r of rows) {
        if (taken.length > 0 && bytes + r.obs.length > o.maxBytes) break;
        taken.push(obsPackr.unpack(r.obs) as WireObservation);
        ids.push(r.id);
        bytes += r.obs.length;
      }
      const seq = (this.st.nextSeq.get() as { value: number }).value;
      // The backlog behind this batch (shared/batch.ts): earlier batches still awaiting their ack
      // are reported by their own queueDepth, so the last batch of a drained vehicle says 0.
      const queueDepth = (this.st.countPending.get() as { n: number }).n - taken.length;
      const createdUnixMs = Math.round(o.nowUnixMs);
      const envelope = o.encode({ seq, createdUnixMs, queueDepth, observations: taken });
      const counts: ClassCounts = {};
      for (const x of taken) counts[x.cls] = (counts[x.cls] ?? 0) + 1;
      this.st.insertBatch.run(seq, createdUnixMs, taken.length, envelope, JSON.stringify(counts));
      for (const id of ids) this.st.deletePending.run(id);
      this.st.setNextSeq.run(seq + 1);
      crashPoint('outbox_form_batch');
      this.contentBytes += envelope.length - bytes;
      return { seq, observations: taken.length, envelopeBytes: envelope.length, queueDepth };
    }).immediate();
    if (formed) {
      this.lastDurableUnixMs = o.nowUnixMs;
      this.afterWrite('form_batch');
    }
    return formed;
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
    this.maybeReclaim();
    this.afterWrite('ack');
    return true;
  }

  /** The ingest rejected this batch: move it to dead_letters with the reason. */
  deadLetter(seq: number, reason: string, nowUnixMs: number): boolean {
    const moved = this.db.transaction(() => {
      const r = this.st.getBatch.get(seq) as { seq: number; envelope: Buffer; observations: number; created_unix_ms: number; class_counts: string | null } | undefined;
      if (!r) return false;
      this.st.insertDead.run(r.seq, r.created_unix_ms, r.observations, r.envelope, reason, Math.round(nowUnixMs), r.class_counts);
      this.st.deleteBatch.run(seq);
      return true;
    }).immediate();
    if (moved) this.afterWrite('dead_letter');
    return moved;
  }

  deadLetters(): Array<{ seq: number; observations: number; reason: string; deadUnixMs: number }> {
    return (this.st.listDead.all() as Array<{ seq: number; observations: number; reason: string; dead_unix_ms: number }>).map((r) => ({
      seq: r.seq,
      observations: r.observations,
      reason: r.reason,
      deadUnixMs: r.dead_unix_ms,
    }));
  }

  /** Small daemon state that must survive a restart (string values; outbox keys are reserved). */
  setMeta(key: string, value: string): void {
    if (RESERVED_META.includes(key)) throw new RangeError(`meta key ${key} is reserved`);
    this.st.setMeta.run(key, value);
    this.afterWrite('meta');
  }

  getMeta(key: string): string | undefined {
    const v = getMetaValue(this.db, key);
    return typeof v === 'string' ? v : undefined;
  }

  /** Pending observations of priority >= minPriority (those formBatch would take). */
  pendingCount(minPriority: number): number {
    return (this.st.countPendingFrom.get(minPriority) as { n: number }).n;
  }

  /** Queue time of the oldest pending observation of priority >= minPriority. */
  oldestPendingUnixMs(minPriority: number): number | undefined {
    return (this.st.oldestPendingFrom.get(minPriority) as { t: number } | undefined)?.t;
  }

  disk(): DiskUsage {
    return diskUsage(this.path);
  }

  /** Drops and refusals in this run (the file's lifetime totals: `fleetmap edge outbox show`). */
  get dropTotals(): Readonly<DropTotals> {
    return this.totals;
  }

  /** Applications of the budget policy since the last call, for the caller to log. */
  takeBudgetEvents(): BudgetEvent[] {
    return this.events.splice(0, this.events.length);
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
      diskBytes: this.disk().totalBytes,
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
      this.saveTotals(emptyDropTotals());
      reclaim(this.db); // leave the file compact, the WAL empty
    } finally {
      this.db.close();
    }
  }

  // --- the disk budget ---------------------------------------------------------------------

  /**
   * Make room for a write of `needBytes`: fits as is; or after reclaiming free pages and the WAL;
   * or after the policy dropped lower-value data (then `event` says what). `fits` false: refuse.
   */
  private makeRoom(needBytes: number, trigger: BudgetEvent['trigger']): { fits: boolean; event: BudgetEvent | undefined } {
    const max = this.maxDiskBytes;
    const pct = this.policy.dropToPercent;
    // The WAL is counted at its limit at least (it grows to that before SQLite checkpoints it):
    // planning with what it holds right now would checkpoint after every few writes near the budget.
    const planned = (x: DiskUsage): number => x.totalBytes - x.walBytes + Math.max(x.walBytes, this.walLimitBytes);
    let u = this.disk();
    if (budgetCheck({ diskBytes: planned(u), needBytes, maxDiskBytes: max, dropToPercent: pct }).fits) return { fits: true, event: undefined };
    if (u.walBytes > this.walLimitBytes || freeBytes(this.db) > 0) {
      reclaim(this.db);
      u = this.disk();
    }
    let check = budgetCheck({ diskBytes: planned(u), needBytes, maxDiskBytes: max, dropToPercent: pct });
    if (check.fits) return { fits: true, event: undefined };
    const before = u.totalBytes;
    const dropped = emptyDropTotals();
    for (let round = 0; round < 16 && !check.fits; round++) {
      const remaining: number = check.mustFreeBytes;
      if (remaining <= 0 || this.dropSome(remaining, dropped, round === 0) === 0) break;
      reclaim(this.db);
      u = this.disk();
      // Keep dropping until the hysteresis target is met, not just the budget.
      const target = Math.floor((max * pct) / 100);
      check = planned(u) + needBytes <= target ? { fits: true } : { fits: false, mustFreeBytes: planned(u) + needBytes - target };
    }
    const fits = planned(u) + needBytes <= max;
    if (dropped.batches + dropped.deadLetters === 0 && Object.keys(dropped.observations.pending).length === 0) return { fits, event: undefined };
    dropped.applied = 1;
    this.totals.applied++;
    const sum = (c: ClassCounts): number => Object.values(c).reduce((a, n) => a + (n ?? 0), 0);
    const byClass: ClassCounts = {};
    for (const k of ['pending', 'batches', 'dead_letters'] as const) addCounts(byClass, dropped.observations[k]);
    const event: BudgetEvent = {
      trigger,
      maxDiskBytes: max,
      targetBytes: Math.floor((max * pct) / 100),
      needBytes,
      diskBytesBefore: before,
      diskBytesAfter: u.totalBytes,
      droppedPending: sum(dropped.observations.pending),
      droppedBatches: dropped.batches,
      droppedBatchObservations: sum(dropped.observations.batches),
      droppedDeadLetters: dropped.deadLetters,
      droppedDeadLetterObservations: sum(dropped.observations.dead_letters),
      droppedByClass: byClass,
      refusedObservations: 0,
    };
    this.events.push(event);
    return { fits, event };
  }

  /**
   * Drop rows in the policy's order until their estimated size reaches `bytes`, in one
   * transaction with the totals in meta (`firstRound`: this application of the policy is counted
   * there once). Returns the estimated bytes freed (0: nothing droppable).
   */
  private dropSome(bytes: number, dropped: DropTotals, firstRound: boolean): number {
    return this.db.transaction((): number => {
      let freed = 0;
      const run = emptyDropTotals();
      for (const kind of this.policy.dropWhenFull) {
        while (freed < bytes) {
          const n = this.dropRowsOf(kind, bytes - freed, run);
          if (n === 0) break;
          freed += n;
        }
        if (freed >= bytes) break;
      }
      if (freed > 0) {
        addDropTotals(dropped, run);
        addDropTotals(this.totals, { ...run, observations: { ...run.observations, refused: {} } });
        this.saveTotals({ ...run, applied: firstRound ? 1 : 0 });
      }
      return freed;
    }).immediate();
  }

  /** One chunk of rows of one kind, lowest value first; returns estimated bytes freed. */
  private dropRowsOf(kind: DropKind, bytes: number, run: DropTotals): number {
    let freed = 0;
    if (kind === 'pending') {
      const rows = this.st.pendingByValue.all(512) as Array<{ id: number; cls: number; bytes: number }>;
      for (const r of rows) {
        if (freed >= bytes) break;
        this.st.deletePending.run(r.id);
        freed += r.bytes + ROW_OVERHEAD_BYTES;
        this.contentBytes -= r.bytes;
        const c = className(r.cls) as PrimitiveClass | 'unknown';
        run.observations.pending[c] = (run.observations.pending[c] ?? 0) + 1;
      }
      return freed;
    }
    const rows = (kind === 'batches' ? this.st.oldestBatches : this.st.oldestDead).all(64) as Array<{ seq: number; observations: number; bytes: number; class_counts: string | null }>;
    for (const r of rows) {
      if (freed >= bytes) break;
      (kind === 'batches' ? this.st.deleteBatch : this.st.deleteDead).run(r.seq);
      freed += r.bytes + ROW_OVERHEAD_BYTES;
      this.contentBytes -= r.bytes;
      if (kind === 'batches') run.batches++;
      else run.deadLetters++;
      addCounts(run.observations[kind], r.class_counts ? (JSON.parse(r.class_counts) as ClassCounts) : { unknown: r.observations });
    }
    return freed;
  }

  /** After a write: over the budget (the projection was short, or the WAL grew) -> reclaim, then the policy. */
  private afterWrite(trigger: BudgetEvent['trigger']): void {
    if (this.disk().totalBytes <= this.maxDiskBytes) return;
    this.makeRoom(0, trigger);
  }

  /** After deletes: give the pages back once enough are free (cheap: one header read). */
  private maybeReclaim(): void {
    if (freeBytes(this.db) >= this.walLimitBytes) reclaim(this.db);
  }

  /** Add `add` (and the refusals not yet saved) to meta.drop_totals. */
  private saveTotals(add: DropTotals): void {
    const all = readDropTotals(this.db);
    addDropTotals(all, add);
    addCounts(all.observations.refused, this.unsavedRefused);
    this.unsavedRefused = {};
    this.st.setMeta.run('drop_totals', JSON.stringify(all));
  }
}

const RESERVED_META = ['next_seq', 'vehicle_id', 'schema_version', 'class_priority', 'drop_totals'];

/** The file's lifetime drop and refusal totals (meta.drop_totals). */
export function readDropTotals(db: Database.Database): DropTotals {
  const v = getMetaValue(db, 'drop_totals');
  const t = emptyDropTotals();
  if (typeof v === 'string') addDropTotals(t, JSON.parse(v) as DropTotals);
  return t;
}

function toBatch(row: unknown): OutboxBatch | undefined {
  if (!row) return undefined;
  const r = row as { seq: number; envelope: Buffer; observations: number; created_unix_ms: number };
  return { seq: r.seq, envelope: r.envelope, observations: r.observations, createdUnixMs: r.created_unix_ms };
}
