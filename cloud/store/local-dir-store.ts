/**
 * ObjectStore on a local directory: the embedded default. Writes are atomic and durable:
 * temp file, fsync, rename, fsync of the directory. putIfAbsent uses link(2), which fails if the
 * target exists, so two writers racing on one key store it once.
 *
 * Temp files are `<target>.tmp-<pid>-<8 hex>` beside their target (TEMP_NAME_RE), never listed.
 * A write that fails removes its temp file. One a process could not remove (SIGKILL, power loss)
 * is swept by the next process that writes: at its first put/putIfAbsent the store walks the tree
 * once and removes temp files older than `staleTempAfterS` (default 10 min). Assumption: no write
 * takes that long, so an older temp file belongs to no live write, while a younger one may belong
 * to another process writing the same store (the ingest and a merge share one). Readers never
 * sweep. The sweep costs one directory walk per writing process.
 */
import { crashPoint } from '../../shared/crash-points.ts';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { assertObjectKey, type ObjectStore } from './object-store.ts';

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
    const tmp = `${target}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
    let fh: import('node:fs/promises').FileHandle;
    try {
      fh = await fs.open(tmp, 'wx');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      // The directory went away since we saw it (removed by an operator): make it again.
      this.knownDirs.delete(dir);
      await fs.mkdir(dir, { recursive: true });
      this.rememberDir(dir);
      fh = await fs.open(tmp, 'wx');
    }
    try {
      try {
        await fh.writeFile(data);
        await fh.datasync(); // a new file: its size is data too, so fdatasync makes it durable
        crashPoint('ingest_store_temp_written');
      } finally {
        await fh.close();
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
    const dh = await fs.open(dir, 'r');
    try {
      await dh.sync();
    } finally {
      await dh.close();
    }
  }

  async put(key: string, data: Uint8Array): Promise<void> {
    const target = this.pathOf(key);
    const tmp = await this.writeTemp(target, data);
    try {
      await fs.rename(tmp, target);
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
      await fs.link(tmp, target);
      await this.syncDir(path.dirname(target));
      return true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw e;
    } finally {
      await fs.unlink(tmp).catch(() => undefined);
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
    const out: string[] = [];
    const walk = async (dir: string, rel: string): Promise<void> => {
      const entries = await readDirIfExists(dir);
      for (const ent of entries) {
        if (ent.name.includes('.tmp-')) continue;
        const r = rel ? `${rel}/${ent.name}` : ent.name;
        if (ent.isDirectory()) {
          if (r.startsWith(prefix) || prefix.startsWith(`${r}/`)) await walk(path.join(dir, ent.name), r);
        } else if (r.startsWith(prefix)) out.push(r);
      }
    };
    await walk(this.rootDir, '');
    return out.sort();
  }
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
