import { existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { UsageError } from './errors.ts';
import { OUT_DIR_MARKER, OutDirError, prepareOutDir } from './out-dir.ts';

const scratch = (): string => mkdtempSync(path.join(tmpdir(), 'fm-outdir-'));

describe('prepareOutDir', () => {
  it('creates a missing directory and marks it; marks an empty one', () => {
    const root = scratch();
    const made = prepareOutDir(path.join(root, 'a', 'b'));
    expect(readdirSync(made)).toEqual([OUT_DIR_MARKER]);
    const empty = path.join(root, 'empty');
    mkdirSync(empty);
    prepareOutDir(empty, { clear: true });
    expect(readdirSync(empty)).toEqual([OUT_DIR_MARKER]);
  });
  it('refuses a non-empty directory it did not make, and touches nothing in it', () => {
    const mine = scratch();
    writeFileSync(path.join(mine, 'thesis.tex'), 'years of work');
    mkdirSync(path.join(mine, '.git'));
    const e = (() => {
      try {
        prepareOutDir(mine, { clear: true });
      } catch (err) {
        return err;
      }
      return undefined;
    })();
    expect(e).toBeInstanceOf(OutDirError);
    expect(e).toBeInstanceOf(UsageError); // exit 2
    expect((e as Error).message).toMatch(/refusing to write into .*: it is not empty and fleetmap did not create it \(no \.fleetmap-out file\)/);
    expect(readdirSync(mine).sort()).toEqual(['.git', 'thesis.tex']);
    const file = path.join(mine, 'thesis.tex');
    expect(() => prepareOutDir(file)).toThrow(/is not a directory/);
  });
  it('clears a directory it made (clear: true), or keeps its contents', () => {
    const dir = prepareOutDir(path.join(scratch(), 'out'));
    mkdirSync(path.join(dir, 'store', 'batches'), { recursive: true });
    writeFileSync(path.join(dir, 'report.json'), '{}');
    prepareOutDir(dir);
    expect(readdirSync(dir).sort()).toEqual([OUT_DIR_MARKER, 'report.json', 'store']);
    prepareOutDir(dir, { clear: true });
    expect(readdirSync(dir)).toEqual([OUT_DIR_MARKER]);
    expect(existsSync(path.join(dir, 'store'))).toBe(false);
  });
});
