import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../shared/cli-errors.ts';
import { LocalDirStore } from './local-dir-store.ts';
import { S3Store } from './s3-store.ts';
import { openStoreArg } from './store-arg.ts';

describe('openStoreArg (--store)', () => {
  it('opens an existing directory; a missing one is a usage error only where it must exist', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'fm-arg-'));
    expect(openStoreArg(dir, {}, { mustExist: true })).toBeInstanceOf(LocalDirStore);
    const missing = path.join(dir, 'nope');
    expect(() => openStoreArg(missing, {}, { mustExist: true, missingHint: 'a store holds batches/' })).toThrow(new UsageError(`--store ${missing}: no such directory (a store holds batches/)`));
    expect(openStoreArg(missing, {})).toBeInstanceOf(LocalDirStore); // the ingest creates its store
  });

  it('opens s3:// with the --s3-* flags, writing them into the environment it is given', () => {
    const env: NodeJS.ProcessEnv = {};
    const s = openStoreArg('s3://fleetmap/prod', { 's3-endpoint': 'http://127.0.0.1:4568', 's3-region': 'us-east-1', 's3-conditional-puts': 'check-then-put', quiet: true }, { env }) as S3Store;
    expect(s).toBeInstanceOf(S3Store);
    expect([s.describe(), s.conditionalPuts]).toEqual(['s3://fleetmap/prod', 'check-then-put']);
    expect(env).toEqual({ AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:4568', AWS_REGION: 'us-east-1', FLEETMAP_S3_CONDITIONAL_PUTS: 'check-then-put' });
    s.destroy();
  });

  it('turns every S3 problem into a one-line usage error', () => {
    const env: NodeJS.ProcessEnv = {};
    const usage = (arg: string, flags: Record<string, unknown>): string => {
      try {
        openStoreArg(arg, flags, { env });
      } catch (e) {
        expect(e).toBeInstanceOf(UsageError);
        return (e as Error).message;
      }
      throw new Error('expected a usage error');
    };
    expect(usage('s3://fleetmap', {})).toBe('--store: cannot open s3://fleetmap: S3 needs a region: set AWS_REGION (or pass --s3-region)');
    expect(usage('s3://No_Such', { 's3-region': 'r' })).toMatch(/^--store: S3 bucket name must be 3-63 characters/);
    expect(usage('s3://fleetmap', { 's3-region': 'r', 's3-conditional-puts': 'yes' })).toMatch(/^--store: --s3-conditional-puts must be one of if-none-match, check-then-put/);
    expect(usage('/tmp', { 's3-endpoint': 'http://x:1' })).toBe('--s3-endpoint applies to s3:// stores only, got --store /tmp');
  });
});
