/**
 * ObjectStore on a local directory: the embedded default. Writes are atomic and durable:
 * temp file, fsync, rename, fsync of the directory. putIfAbsent uses link(2), which fails if the
 * target exists, so two writers racing on one key store it once.
 *
 * Temp files are `<target>.tmp-<pid>-<8 hex>` beside their target (TEMP_NAME_RE), never listed;
 * the 8 hex digits count up from a random start per store (unique within the process, and the
 * pid tells processes apart), which costs nothing per write, unlike drawing random bytes.
 * A write that fails removes its temp file. One a process could not remove (SIGKILL, power loss)
 * is swept by the next process that writes: at its first put/putIfAbsent the store walks the tree
 * once and removes temp files older than `staleTempAfterS` (default 10 min). Assumption: no write
 * takes that long, so an older temp file belongs to no live write, while a younger one may belong
 * to another process writing the same store (the ingest and a merge share one). Readers never
 * sweep. The sweep costs one directory walk per writing process.
 *
 * Cost of a write (the ingest does one per batch): three steps go to the libuv threadpool, the
 * exclusive create of the temp file (creating an inode can wait for the journal while other
 * writes commit), its fdatasync and the directory fsync; write, close, link/rename, unlink and the
 * directory open are synchronous calls on the caller's thread (page cache only, microseconds),
 * sparing a threadpool round trip each (a thread hand-off both ways plus promise work on the main
 * thread). With 32 writes in flight (2.8 kB, 64 directories) this takes about a quarter less CPU
 * than all nine steps through fs.promises, at the same or a higher rate. Durability is unchanged:
 * the same syscalls in the same order.
 */
import { crashPoint } from '../../shared/crash-points.ts';
import { closeSync, constants as fsc, fdatasync, fsync, linkSync, open, openSync, promises as fs, renameSync, unlinkSync, writeSync } from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { assertObjectKey, assertStartAfter, type ObjectStore } from './object-store.ts';

/** The store's own temp names: `<name>.tmp-<pid>-<8 hex digits>`; nothing else is ever swept. */
export const TEMP_NAME_RE = /\.tmp-\d+-[0-9a-f]{8}$/;

export interface LocalDirStoreOptions {
  /** Temp files older than this are left-overs of a dead write, seconds (default 600). */
  staleTempAfterS?: number;
  /** Clock for the sweep, Unix ms (default Date.now). */
  nowUnixMs?: () => number;
}

export class LocalDirStore implements ObjectStore {
  readonly rootDir: string;
  private readonly staleTempAfterS: number;
  private readonly nowUnixMs: () => number;
  /** The sweep of stale temp files, started by the first write. */
  private sweep: Promise<number> | undefined;
  /** The last temp name's number (uint32, wraps). */
  private tempSeq = randomBytes(4).readUInt32BE(0);

  constructor(rootDir: string, o: LocalDirStoreOptions = {}) {
    if (!rootDir) throw new TypeError('LocalDirStore needs a root directory');
    this.rootDir = path.resolve(rootDir);
    this.staleTempAfterS = o.staleTempAfterS ?? 600;
    if (!(this.staleTempAfterS >= 0)) throw new RangeError(`staleTempAfterS must be >= 0, got ${this.staleTempAfterS}`);
    this.nowUnixMs = o.nowUnixMs ?? Date.now;
  }

  /** Directories this store made or saw (no mkdir per write); bounded, forgotten wholesale when full. */
  private readonly knownDirs = new Set<string>();

  private rememberDir(dir: string): void {
    if (this.knownDirs.size >= 65_536) this.knownDirs.clear();
    this.knownDirs.add(dir);
  }

  describe(): string {
    return `file://${this.rootDir}`;
  }

  private pathOf(key: string): string {
    assertObjectKey(key);
    return path.join(this.rootDir, ...key.split('/'));
  }

  private async writeTemp(target: string, data: Uint8Array): Promise<string> {
    await (this.sweep ??= this.removeStaleTemps().catch(() => 0));
    const dir = path.dirname(target);
    if (!this.knownDirs.has(dir)) {
      await fs.mkdir(dir, { recursive: true });
      this.rememberDir(dir);
    }
    this.tempSeq = (this.tempSeq + 1) >>> 0;
    const tmp = `${target}.tmp-${process.pid}-${this.tempSeq.toString(16).padStart(8, '0')}`;
    let fd: number;
    try {
      fd = await createExclusive(tmp);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      // The directory went away since we saw it (removed by an operator): make it again.
      this.knownDirs.delete(dir);
      await fs.mkdir(dir, { recursive: true });
      this.rememberDir(dir);
      fd = await createExclusive(tmp);
    }
    try {
      try {
        writeAllSync(fd, data);
        await syncFd(fdatasync, fd); // a new file: its size is data too, so fdatasync makes it durable
        crashPoint('ingest_store_temp_written');
      } finally {
        closeSync(fd);
      }
    } catch (e) {
      await removeQuietly(tmp);
      throw e;
    }
    return tmp;
  }

  /**
   * Remove this store's temp files (TEMP_NAME_RE) last modified more than staleTempAfterS ago;
   * returns how many. Runs by itself at the first write; callable directly (tests, tools).
   */
  async removeStaleTemps(): Promise<number> {
    const cutoffMs = this.nowUnixMs() - this.staleTempAfterS * 1000;
    let removed = 0;
    const walk = async (dir: string): Promise<void> => {
      const entries = await readDirIfExists(dir);
      for (const ent of entries) {
        const p = path.join(dir, ent.name);
        if (ent.isDirectory()) await walk(p);
        else if (ent.isFile() && TEMP_NAME_RE.test(ent.name)) {
          const st = await fs.stat(p).catch(() => undefined);
          if (st && st.mtimeMs < cutoffMs && (await removeQuietly(p))) removed++;
        }
      }
    };
    await walk(this.rootDir);
    return removed;
  }

  private async syncDir(dir: string): Promise<void> {
    const fd = openSync(dir, fsc.O_RDONLY | fsc.O_DIRECTORY);
    try {
      await syncFd(fsync, fd);
    } finally {
      closeSync(fd);
    }
  }

  async put(key: string, data: Uint8Array): Promise<void> {
    const target = this.pathOf(key);
    const tmp = await this.writeTemp(target, data);
    try {
      renameSync(tmp, target);
    } catch (e) {
      await removeQuietly(tmp);
      throw e;
    }
    await this.syncDir(path.dirname(target));
  }

  async putIfAbsent(key: string, data: Uint8Array): Promise<boolean> {
    const target = this.pathOf(key);
    const tmp = await this.writeTemp(target, data);
    try {
      linkSync(tmp, target);
      await this.syncDir(path.dirname(target));
      return true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw e;
    } finally {
      try {
        unlinkSync(tmp);
      } catch {
        // gone already, or not removable now: the sweep of a later process removes it
      }
    }
  }

  async get(key: string): Promise<Buffer | undefined> {
    try {
      return await fs.readFile(this.pathOf(key));
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'EISDIR' || code === 'ENOTDIR') return undefined; // a directory is not an object
      throw e;
    }
  }

  async exists(key: string): Promise<boolean> {
    const st = await fs.stat(this.pathOf(key)).catch(() => undefined);
    return st?.isFile() ?? false;
  }

  /** Unlinks the key's file (a key naming a directory, or nothing, is absent: no error). Directories stay. */
  async delete(key: string): Promise<void> {
    const target = this.pathOf(key);
    try {
      await fs.unlink(target);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return;
      if ((await fs.lstat(target).catch(() => undefined))?.isDirectory()) return;
      throw e;
    }
    await this.syncDir(path.dirname(target));
  }

  async list(prefix: string): Promise<string[]> {
    return this.walkKeys(prefix, undefined);
  }

  /**
   * Same semantics as S3's ListObjectsV2 StartAfter. A directory whose keys all sort at or
   * before `startAfter` is not read at all; the entries of a directory that is read are all
   * looked at (readdir has no "start after"), so a flat prefix costs one readdir whatever the mark.
   */
  async listAfter(prefix: string, startAfter: string): Promise<string[]> {
    assertStartAfter(startAfter);
    return this.walkKeys(prefix, startAfter);
  }

  /** Keys under `prefix` (and after `startAfter` when given), sorted; temp files are never keys. */
  private async walkKeys(prefix: string, startAfter: string | undefined): Promise<string[]> {
    const out: string[] = [];
    // Every key in directory `rel` starts with `rel/`; when that sorts before startAfter without
    // being a prefix of it, the two differ at a character inside `rel/` where the key is smaller:
    // every key in the directory sorts before startAfter.
    const allBefore = (rel: string): boolean => startAfter !== undefined && !startAfter.startsWith(`${rel}/`) && `${rel}/` < startAfter;
    const walk = async (dir: string, rel: string): Promise<void> => {
      const entries = await readDirIfExists(dir);
      for (const ent of entries) {
        if (ent.name.includes('.tmp-')) continue;
        const r = rel ? `${rel}/${ent.name}` : ent.name;
        if (ent.isDirectory()) {
          if ((r.startsWith(prefix) || prefix.startsWith(`${r}/`)) && !allBefore(r)) await walk(path.join(dir, ent.name), r);
        } else if (r.startsWith(prefix) && (startAfter === undefined || r > startAfter)) out.push(r);
      }
    };
    await walk(this.rootDir, '');
    return out.sort();
  }
}

/** Write all of `data` at the file's offset (writeSync may write less than asked). */
function writeAllSync(fd: number, data: Uint8Array): void {
  if (!(data instanceof Uint8Array)) throw new TypeError(`object data must be a Uint8Array, got ${typeof data}`);
  let off = 0;
  while (off < data.length) {
    const n = writeSync(fd, data, off, data.length - off);
    if (n <= 0) throw new Error(`write made no progress at byte ${off} of ${data.length}`);
    off += n;
  }
}

/**
 * Create `file` (it must not exist) for writing, on the threadpool: creating an inode can wait
 * for the journal while other writes commit (profiled: ~0.5 ms per batch on the main thread
 * when done synchronously under group commit), unlike the other metadata steps.
 */
function createExclusive(file: string): Promise<number> {
  return new Promise((resolve, reject) => open(file, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL, 0o666, (e, fd) => (e ? reject(e) : resolve(fd))));
}

/** fsync / fdatasync on the threadpool (the only steps of a write that wait for the disk). */
function syncFd(op: typeof fsync | typeof fdatasync, fd: number): Promise<void> {
  return new Promise((resolve, reject) => op(fd, (e) => (e ? reject(e) : resolve())));
}

/** unlink, true when it removed the file; a file already gone is not an error. */
async function removeQuietly(file: string): Promise<boolean> {
  try {
    await fs.unlink(file);
    return true;
  } catch {
    return false;
  }
}

/** The entries of `dir`, none when it does not exist. */
async function readDirIfExists(dir: string): Promise<import('node:fs').Dirent[]> {
  try {
    return await fs.readdir(dir, { withFileTypes: true });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
}
