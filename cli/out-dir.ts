/**
 * Output directories of fleetmap commands (`fleetmap demo --out DIR`, the benchmarks, the
 * dataset renderer). A command never deletes or overwrites what it did not create:
 *
 * - DIR missing or empty: created, and marked with the file `.fleetmap-out`.
 * - DIR holds `.fleetmap-out`: fleetmap made it; it may be cleared (`clear: true`) and reused.
 * - DIR not empty and unmarked (`--out .`, `--out ~`, a directory of the user's): refused with
 *   an OutDirError (a UsageError: exit 2), nothing touched.
 */
import { existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { UsageError } from './errors.ts';

export const OUT_DIR_MARKER = '.fleetmap-out';

export class OutDirError extends UsageError {
  override name = 'OutDirError';
}

export interface PrepareOutDirOptions {
  /** Remove everything in a fleetmap-made directory first (default false: keep what is there). */
  clear?: boolean;
}

/** Make `dir` ready for output (see the module comment); returns its absolute path. */
export function prepareOutDir(dir: string, o: PrepareOutDirOptions = {}): string {
  const abs = path.resolve(dir);
  if (existsSync(abs)) {
    if (!statSync(abs).isDirectory()) throw new OutDirError(`output directory ${abs} is not a directory`);
    const entries = readdirSync(abs);
    if (entries.length > 0 && !entries.includes(OUT_DIR_MARKER)) {
      throw new OutDirError(`refusing to write into ${abs}: it is not empty and fleetmap did not create it (no ${OUT_DIR_MARKER} file); choose a new or empty directory`);
    }
    if (o.clear) for (const e of entries) if (e !== OUT_DIR_MARKER) rmSync(path.join(abs, e), { recursive: true, force: true });
  } else mkdirSync(abs, { recursive: true });
  writeFileSync(path.join(abs, OUT_DIR_MARKER), 'made by fleetmap: a fleetmap command may clear this directory and write into it again\n');
  return abs;
}
