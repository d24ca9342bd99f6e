/**
 * ObjectStore on a local directory: the embedded default. Writes are atomic and durable:
 * temp file, fsync, rename, fsync of the directory. putIfAbsent uses link(2), which fails if the
 * target exists, so two writers racing on one key store it once.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { assertObjectKey, type ObjectStore } from './object-store.ts';

export class LocalDirStore implements ObjectStore {
  readonly rootDir: string;

  constructor(rootDir: string) {
    if (!rootDir) throw new TypeError('LocalDirStore needs a root directory');
    this.rootDir = path.resolve(rootDir);
  }

  describe(): string {
    return `file://${this.rootDir}`;
  }

  private pathOf(key: string): string {
    assertObjectKey(key);
    return path.join(this.rootDir, ...key.split('/'));
  }

  private async writeTemp(target: string, data: Uint8Array): Promise<string> {
    await fs.mkdir(path.dirname(target), { recursive: true });
    const tmp = `${target}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
    const fh = await fs.open(tmp, 'wx');
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    return tmp;
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
    await fs.rename(tmp, target);
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
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
  }

  async exists(key: string): Promise<boolean> {
    try {
      await fs.access(this.pathOf(key));
      return true;
    } catch {
      return false;
    }
  }

  async list(prefix: string): Promise<string[]> {
    const out: string[] = [];
    const walk = async (dir: string, rel: string): Promise<void> => {
      let entries: import('node:fs').Dirent[];
      try {
        entries = await fs.readdir(dir, { withFileTypes: true });
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
        throw e;
      }
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
