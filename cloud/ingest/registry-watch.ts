/**
 * Keeps the ingest's key registry current without a restart: the file is re-read when it changes
 * (fs.watch on its directory, since `fleetmap keys` replaces it by rename; a periodic stat as a
 * fallback where watching is unreliable, e.g. network filesystems), on SIGHUP (`reload('sighup')`),
 * and before each message (`checkNow()`: one stat, so a revocation written to disk applies from the
 * next message on, whatever the watcher's latency). A file that does not parse keeps the previous
 * registry in force (logged); connections are never touched.
 */
import { statSync, watch, type FSWatcher } from 'node:fs';
import * as path from 'node:path';
import { KeyRegistry, KeyRegistryError } from './keys.ts';

export interface RegistryWatchEvents {
  reloaded(r: { why: string; vehicles: number; active: number }): void;
  failed(r: { why: string; reason: string }): void;
}

export class RegistryWatcher {
  private current: KeyRegistry;
  private signature: string;
  private watcher: FSWatcher | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    readonly file: string,
    private readonly events: RegistryWatchEvents,
    initial?: KeyRegistry,
  ) {
    this.signature = statSignature(file);
    this.current = initial ?? KeyRegistry.fromFile(file);
  }

  get registry(): KeyRegistry {
    return this.current;
  }

  /** Start watching; `pollMs` is the stat fallback period. */
  start(pollMs: number): void {
    const dir = path.dirname(path.resolve(this.file));
    const base = path.basename(this.file);
    try {
      this.watcher = watch(dir, { persistent: false }, (_type, name) => {
        if (name === null || name === base) this.checkNow('watch');
      });
      this.watcher.on('error', () => this.watcher?.close());
    } catch {
      // no fs.watch here: the poll below does the job
    }
    this.timer = setInterval(() => this.checkNow('poll'), pollMs);
    this.timer.unref();
  }

  /** Re-read the file if its stat (inode, size, mtime) changed since the last read. */
  checkNow(why = 'message'): void {
    const sig = statSignature(this.file);
    if (sig !== this.signature) this.reload(why, sig);
  }

  /** Re-read the file now. */
  reload(why: string, sig: string = statSignature(this.file)): void {
    this.signature = sig;
    try {
      this.current = KeyRegistry.fromFile(this.file);
    } catch (e) {
      this.events.failed({ why, reason: e instanceof KeyRegistryError ? e.message : (e as Error).message });
      return;
    }
    this.events.reloaded({ why, vehicles: this.current.vehicles().length, active: this.current.activeCount() });
  }

  close(): void {
    this.watcher?.close();
    if (this.timer) clearInterval(this.timer);
  }
}

function statSignature(file: string): string {
  try {
    const s = statSync(file, { bigint: true });
    return `${s.ino}:${s.size}:${s.mtimeNs}:${s.ctimeNs}`;
  } catch (e) {
    return `missing:${(e as NodeJS.ErrnoException).code ?? ''}`;
  }
}
