/**
 * vitest globalSetup: the temporary files of a test run (everything made under `os.tmpdir()` by
 * the test workers and by the processes they start: stores, outboxes, keys, browser profiles) go
 * into one directory of this run, which is removed when the run ends. A test need not clean up
 * after itself, and a run leaves nothing behind in the machine's /tmp.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

export default function setup(): () => void {
  const dir = mkdtempSync(path.join(tmpdir(), 'fleetmap-test-run-'));
  const previous = process.env.TMPDIR;
  process.env.TMPDIR = dir;
  return () => {
    if (previous === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = previous;
    rmSync(dir, { recursive: true, force: true });
  };
}
