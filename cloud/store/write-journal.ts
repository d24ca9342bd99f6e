/**
 * The write journal of a LocalDirStore in group-commit mode (`groupCommit: true`, the ingest's):
 * one fdatasync makes many writes durable instead of two per object.
 *
 * Each write puts its object in place WITHOUT syncing it (page cache only) and appends a frame
 * holding its key and bytes to the journal; every frame appended while the previous fdatasync was
 * running (or in the same turn of the event loop) is written and synced together, and the writes
 * resolve together after that one sync. From then on a power cut cannot lose them: the journal
 * holds their bytes. A checkpoint makes the objects themselves durable in the background (one
 * fdatasync per object, one fsync per directory, all off the writers' path), then deletes the
 * journal file it covered; a journal file is rotated after `maxBytes` or `maxAgeMs`.
 *
 *   <root>/.tmp-journal/<boot id, 32 hex or "x">-<pid>-<counter>.wal
 *   frame: magic u32 LE 0x314A4D46 ("FMJ1") | kind u8 | key length u16 LE | data length u32 LE
 *          | key (ASCII) | data | crc32 u32 LE of everything before it in the frame
 *   kind 1 REPLACED: a put (the object was replaced by these bytes);
 *   kind 2 CREATED: a putIfAbsent that created the object (it did not exist before).
 *
 * Replay (after a crash, by the next process that writes to the store): every frame up to the
 * first torn or corrupt one is re-applied where the object on disk differs (missing, torn,
 * zeroed), durably; then the journal file is deleted. A process replays only journals whose owner
 * is gone: another boot, or a pid that is not running. Replay is idempotent, so replaying the
 * journal of a process that died cleanly after its checkpoint costs reads only.
 *
 * What this guarantees: a write that resolved survives a power cut (its frame was synced). A write
 * that did not resolve may leave its object torn after a power cut (it was in place, unsynced):
 * for putIfAbsent the caller must treat an existing object it cannot read as absent-but-torn (the
 * ingest does: a stored batch that does not decode is replaced by the resend, service.ts).
 */
import { closeSync, constants as fsc, fdatasync, fsync, open, readFileSync, readdirSync, unlinkSync, writeSync, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { crc32 } from 'node:zlib';

export const JOURNAL_DIR = '.tmp-journal';
const MAGIC = 0x314a4d46;
const HEADER_BYTES = 11;

export const JournalKind = { REPLACED: 1, CREATED: 2 } as const;
export type JournalKind = (typeof JournalKind)[keyof typeof JournalKind];

export interface JournalEntry {
  kind: JournalKind;
  key: string;
  data: Buffer;
}

/** One frame's bytes. */
export function encodeJournalFrame(kind: JournalKind, key: string, data: Uint8Array): Buffer {
  const keyBytes = Buffer.from(key, 'latin1');
  if (keyBytes.length > 0xffff) throw new RangeError(`journal key too long (${keyBytes.length} bytes)`);
  const buf = Buffer.allocUnsafe(HEADER_BYTES + keyBytes.length + data.length + 4);
  buf.writeUInt32LE(MAGIC, 0);
  buf.writeUInt8(kind, 4);
  buf.writeUInt16LE(keyBytes.length, 5);
  buf.writeUInt32LE(data.length, 7);
  keyBytes.copy(buf, HEADER_BYTES);
  buf.set(data, HEADER_BYTES + keyBytes.length);
  const end = buf.length - 4;
  buf.writeUInt32LE(crc32(buf.subarray(0, end)), end);
  return buf;
}

/** The frames of a journal file up to the first torn or corrupt one; `tornBytes`: what follows it. */
export function decodeJournal(buf: Buffer): { entries: JournalEntry[]; tornBytes: number } {
  const entries: JournalEntry[] = [];
  let off = 0;
  while (off + HEADER_BYTES + 4 <= buf.length) {
    if (buf.readUInt32LE(off) !== MAGIC) break;
    const kind = buf.readUInt8(off + 4);
    const keyLen = buf.readUInt16LE(off + 5);
    const dataLen = buf.readUInt32LE(off + 7);
    const end = off + HEADER_BYTES + keyLen + dataLen;
    if (end + 4 > buf.length) break;
    if (crc32(buf.subarray(off, end)) !== buf.readUInt32LE(end)) break;
    if (kind !== JournalKind.REPLACED && kind !== JournalKind.CREATED) break;
    const key = buf.toString('latin1', off + HEADER_BYTES, off + HEADER_BYTES + keyLen);
    entries.push({ kind, key, data: Buffer.from(buf.subarray(off + HEADER_BYTES + keyLen, end)) });
    off = end + 4;
  }
  return { entries, tornBytes: buf.length - off };
}

const NAME_RE = /^([0-9a-f]{32}|x)-(\d+)-(\d+)\.wal$/;

/** This machine's boot id (32 hex digits), "x" where the OS does not say (then pids alone tell owners apart). */
export function currentBootId(): string {
  try {
    const id = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim().replace(/-/g, '').toLowerCase();
    return /^[0-9a-f]{32}$/.test(id) ? id : 'x';
  } catch {
    return 'x';
  }
}

export function journalFileName(bootId: string, pid: number, counter: number): string {
  return `${bootId}-${pid}-${counter}.wal`;
}

function pidRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'; // alive, someone else's
  }
}

/**
 * The journal files in `dir` whose owner is gone (another boot, or a pid not running), oldest
 * counter first per owner; names of another form are not journals (left alone).
 */
export function orphanJournals(dir: string, bootId: string, isRunning: (pid: number) => boolean = pidRunning): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  const out: Array<{ name: string; owner: string; counter: number }> = [];
  for (const name of names) {
    const m = NAME_RE.exec(name);
    if (!m) continue;
    const pid = Number(m[2]);
    const otherBoot = m[1] !== bootId && m[1] !== 'x' && bootId !== 'x';
    const gone = otherBoot || (pid !== process.pid && !isRunning(pid));
    if (gone) out.push({ name, owner: `${m[1]}-${m[2]}`, counter: Number(m[3]) });
  }
  out.sort((a, b) => (a.owner < b.owner ? -1 : a.owner > b.owner ? 1 : a.counter - b.counter));
  return out.map((o) => path.join(dir, o.name));
}

interface Waiter {
  frame: Buffer;
  key: string;
  afterSync: (() => void) | undefined;
  resolve: () => void;
  reject: (e: unknown) => void;
}

interface JournalFile {
  file: string;
  fd: number;
  bytes: number;
  openedAtMs: number;
  /** Keys whose frames this file holds durably (what its checkpoint must sync). */
  keys: string[];
  /** Set once a write failed: the file may end in a torn frame, nothing more goes after it. */
  broken: boolean;
}

export interface GroupCommitJournalOptions {
  /** The journal directory (created). */
  dir: string;
  /** Makes the objects named by `keys` durable in place (fdatasync each, fsync their directories). */
  checkpoint: (keys: readonly string[]) => Promise<void>;
  /** Rotate the journal file after this many bytes (default 16 MiB) ... */
  maxBytes?: number;
  /** ... or this long after it was opened (default 2 s). */
  maxAgeMs?: number;
  bootId?: string;
}

/** Counters for metrics and tests. */
export interface JournalStats {
  /** fdatasyncs of the journal (each makes one group durable). */
  commits: number;
  /** Frames made durable. */
  frames: number;
  /** Journal files checkpointed and deleted. */
  checkpoints: number;
  /** Checkpoints that failed (their journal file is kept: the next process that writes replays it). */
  checkpointFailures: number;
}

/**
 * Appends frames, one fdatasync per group. `append` resolves once the frame is durable, rejects
 * when its write or sync failed (the frame may or may not be in the file: a replay of it is
 * harmless, the caller has acknowledged nothing). At most one sync runs at a time; checkpoints
 * run one at a time, in the order their files were rotated.
 */
export class GroupCommitJournal {
  readonly stats: JournalStats = { commits: 0, frames: 0, checkpoints: 0, checkpointFailures: 0 };
  private readonly maxBytes: number;
  private readonly maxAgeMs: number;
  private readonly bootId: string;
  private counter = 0;
  private current: JournalFile | undefined;
  private queue: Waiter[] = [];
  private committing: Promise<void> | undefined;
  private checkpoints: Promise<void> = Promise.resolve();
  private ageTimer: NodeJS.Timeout | undefined;

  constructor(private readonly o: GroupCommitJournalOptions) {
    this.maxBytes = o.maxBytes ?? 16 * 1024 * 1024;
    this.maxAgeMs = o.maxAgeMs ?? 2000;
    this.bootId = o.bootId ?? currentBootId();
  }

  /**
   * Resolves once the frame is durable. `afterSync` runs right after the group's sync, before any
   * checkpoint can cover the frame (a put's rename into place: the object must be in place when its
   * checkpoint syncs it); when it throws, the append rejects with its error.
   */
  append(kind: JournalKind, key: string, data: Uint8Array, afterSync?: () => void): Promise<void> {
    const frame = encodeJournalFrame(kind, key, data);
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ frame, key, afterSync, resolve, reject });
      this.committing ??= Promise.resolve().then(() => this.commitLoop());
    });
  }

  /** Waits for every append so far, then checkpoints every journal file and deletes it. */
  async flush(): Promise<void> {
    while (this.committing) await this.committing;
    this.rotate();
    await this.checkpoints;
  }

  private async commitLoop(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        const group = this.queue;
        this.queue = [];
        await this.commitGroup(group);
        const jf = this.current;
        if (jf && (jf.broken || jf.bytes >= this.maxBytes || Date.now() - jf.openedAtMs >= this.maxAgeMs)) this.rotate();
      }
    } finally {
      this.committing = undefined;
    }
  }

  private async commitGroup(group: Waiter[]): Promise<void> {
    let jf: JournalFile;
    try {
      jf = this.current ?? (await this.open());
      const all = group.length === 1 ? group[0]!.frame : Buffer.concat(group.map((w) => w.frame));
      try {
        let off = 0;
        while (off < all.length) {
          const n = writeSync(jf.fd, all, off, all.length - off);
          if (n <= 0) throw new Error(`journal write made no progress at byte ${off} of ${all.length}`);
          off += n;
        }
        jf.bytes += all.length;
        await syncFd(fdatasync, jf.fd);
      } catch (e) {
        jf.broken = true;
        throw e;
      }
    } catch (e) {
      for (const w of group) w.reject(e);
      return;
    }
    this.stats.commits++;
    this.stats.frames += group.length;
    for (const w of group) {
      jf.keys.push(w.key); // the frame is durable whether or not afterSync works: its checkpoint covers it
      try {
        w.afterSync?.();
      } catch (e) {
        w.reject(e);
        continue;
      }
      w.resolve();
    }
  }

  private async open(): Promise<JournalFile> {
    await fs.mkdir(this.o.dir, { recursive: true });
    const file = path.join(this.o.dir, journalFileName(this.bootId, process.pid, this.counter++));
    const fd = await new Promise<number>((res, rej) => open(file, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL | fsc.O_APPEND, 0o600, (e, f) => (e ? rej(e) : res(f))));
    try {
      await syncDirectory(this.o.dir); // the new file's entry is durable before any frame in it counts
    } catch (e) {
      closeSync(fd);
      unlinkQuiet(file);
      throw e;
    }
    this.current = { file, fd, bytes: 0, openedAtMs: Date.now(), keys: [], broken: false };
    // An idle store still checkpoints: the file is rotated once it is old, between groups.
    this.ageTimer = setTimeout(() => {
      this.ageTimer = undefined;
      if (!this.committing) this.rotate();
    }, this.maxAgeMs);
    this.ageTimer.unref();
    return this.current;
  }

  /** Closes the current file (new frames go to a new one) and checkpoints it in the background. */
  private rotate(): void {
    const jf = this.current;
    if (!jf) return;
    this.current = undefined;
    if (this.ageTimer) clearTimeout(this.ageTimer);
    this.ageTimer = undefined;
    const keys = [...new Set(jf.keys)];
    this.checkpoints = this.checkpoints.then(async () => {
      try {
        closeSync(jf.fd);
        if (keys.length > 0) await this.o.checkpoint(keys);
        unlinkQuiet(jf.file);
        this.stats.checkpoints++;
      } catch {
        this.stats.checkpointFailures++;
      }
    });
  }
}

/** fsync of a directory (its entries durable); filesystems that refuse it (EINVAL) make entries durable by other means. */
export async function syncDirectory(dir: string): Promise<void> {
  const fd = await new Promise<number>((res, rej) => open(dir, fsc.O_RDONLY | fsc.O_DIRECTORY, (e, f) => (e ? rej(e) : res(f))));
  try {
    await syncFd(fsync, fd);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EINVAL') throw e;
  } finally {
    closeSync(fd);
  }
}

/** fsync / fdatasync on the threadpool. */
export function syncFd(op: typeof fsync | typeof fdatasync, fd: number): Promise<void> {
  return new Promise((resolve, reject) => op(fd, (e) => (e ? reject(e) : resolve())));
}

function unlinkQuiet(file: string): void {
  try {
    unlinkSync(file);
  } catch {
    // gone already
  }
}
