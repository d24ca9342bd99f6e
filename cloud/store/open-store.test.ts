import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { LocalDirStore } from './local-dir-store.ts';
import { openStore } from './open-store.ts';
import { parseS3Location, resolveS3Settings, s3FlagsAsEnv } from './s3-config.ts';
import { S3Store } from './s3-store.ts';

const ENV = { AWS_REGION: 'eu-central-1' };

describe('openStore', () => {
  it('opens a plain path or file:// URL as a LocalDirStore whose describe() reopens it', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'fm-open-'));
    const a = openStore(dir);
    expect(a).toBeInstanceOf(LocalDirStore);
    expect(a.describe()).toBe(`file://${dir}`);
    const b = openStore(a.describe());
    expect((b as LocalDirStore).rootDir).toBe(dir);
    expect((openStore(pathToFileURL(dir).href) as LocalDirStore).rootDir).toBe(dir);
    expect((openStore('relative/store') as LocalDirStore).rootDir).toBe(path.resolve('relative/store'));
  });

  it('opens s3://bucket[/prefix] as an S3Store whose describe() reopens it', () => {
    for (const [loc, bucket, prefix, described] of [
      ['s3://fleetmap', 'fleetmap', '', 's3://fleetmap'],
      ['s3://fleetmap/', 'fleetmap', '', 's3://fleetmap'],
      ['s3://my.bucket-1/prod/eu', 'my.bucket-1', 'prod/eu', 's3://my.bucket-1/prod/eu'],
      ['s3://fleetmap/prod/', 'fleetmap', 'prod', 's3://fleetmap/prod'],
    ] as const) {
      const s = openStore(loc, { env: ENV }) as S3Store;
      expect(s, loc).toBeInstanceOf(S3Store);
      expect([s.bucket, s.prefix, s.describe()], loc).toEqual([bucket, prefix, described]);
      const again = openStore(s.describe(), { env: ENV }) as S3Store;
      expect(again.describe()).toBe(described);
      s.destroy();
      again.destroy();
    }
  });

  it('refuses unknown schemes, bad buckets and bad prefixes, naming them', () => {
    expect(() => openStore('gs://bucket/x')).toThrow(/cannot open object store "gs:\/\/bucket\/x": expected a directory, file:\/\/\/dir or s3:\/\/bucket\[\/prefix\]/);
    expect(() => openStore('')).toThrow(/cannot open object store ""/);
    expect(() => openStore('s3://Upper/x', { env: ENV })).toThrow(/S3 bucket name must be 3-63 characters of \[a-z0-9.-\], got "Upper"/);
    expect(() => openStore('s3://ab', { env: ENV })).toThrow(/bucket name/);
    expect(() => openStore('s3://fleetmap/a/../b', { env: ENV })).toThrow(/S3 key prefix must be '\/'-separated \[A-Za-z0-9._-\] segments, got "a\/..\/b"/);
    expect(() => openStore('s3://fleetmap/a//b', { env: ENV })).toThrow(/S3 key prefix/);
  });

  it('has no silent default region: the error names AWS_REGION', () => {
    expect(() => openStore('s3://fleetmap/x', { env: {} })).toThrow(/^cannot open s3:\/\/fleetmap\/x: S3 needs a region: set AWS_REGION \(or pass --s3-region\)$/);
    const s = openStore('s3://fleetmap/x', { env: { AWS_DEFAULT_REGION: 'us-west-2' } }) as S3Store;
    s.destroy();
    const t = openStore('s3://fleetmap/x', { env: {}, s3: { region: 'us-west-2' } }) as S3Store;
    t.destroy();
  });
});

describe('S3 settings', () => {
  it('reads endpoint, region, credentials and conditional puts from the environment; flags win', () => {
    const env = {
      AWS_ENDPOINT_URL: 'http://generic:1',
      AWS_ENDPOINT_URL_S3: 'http://s3-specific:2',
      AWS_REGION: 'eu-west-1',
      AWS_DEFAULT_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'AK',
      AWS_SECRET_ACCESS_KEY: 'SK',
      AWS_SESSION_TOKEN: 'TK',
      FLEETMAP_S3_CONDITIONAL_PUTS: 'check-then-put',
    };
    expect(resolveS3Settings({}, env)).toEqual({
      region: 'eu-west-1',
      endpoint: 'http://s3-specific:2',
      forcePathStyle: true,
      credentials: { accessKeyId: 'AK', secretAccessKey: 'SK', sessionToken: 'TK' },
      conditionalPuts: 'check-then-put',
    });
    expect(resolveS3Settings({ endpoint: 'https://minio:9000', region: 'x-1', conditionalPuts: 'if-none-match' }, env)).toMatchObject({ endpoint: 'https://minio:9000', region: 'x-1', conditionalPuts: 'if-none-match' });
    // AWS itself: virtual-host style, SDK credential chain, atomic conditional puts
    expect(resolveS3Settings({}, { AWS_REGION: 'eu-west-1' })).toEqual({ region: 'eu-west-1', endpoint: undefined, forcePathStyle: false, credentials: undefined, conditionalPuts: 'if-none-match' });
  });

  it('refuses bad settings, naming the variable or flag', () => {
    expect(() => resolveS3Settings({}, { AWS_REGION: 'r', FLEETMAP_S3_CONDITIONAL_PUTS: 'maybe' })).toThrow(/FLEETMAP_S3_CONDITIONAL_PUTS must be one of if-none-match, check-then-put, got "maybe"/);
    expect(() => resolveS3Settings({}, { AWS_REGION: 'r', AWS_ENDPOINT_URL: 'localhost:4568' })).toThrow(/S3 endpoint must be an http:\/\/ or https:\/\/ URL, got "localhost:4568"/);
    expect(() => resolveS3Settings({}, { AWS_REGION: 'r', AWS_ACCESS_KEY_ID: 'AK' })).toThrow(/set both AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or neither/);
    expect(() => s3FlagsAsEnv({ 's3-conditional-puts': 'always' })).toThrow(/--s3-conditional-puts must be one of if-none-match, check-then-put, got "always"/);
    expect(() => s3FlagsAsEnv({ 's3-endpoint': 'ftp://x' })).toThrow(/S3 endpoint must be an http/);
    expect(() => s3FlagsAsEnv({ 's3-region': '' })).toThrow(/--s3-region needs a value/);
  });

  it('turns flags into the variables they stand for', () => {
    expect(s3FlagsAsEnv({})).toEqual({});
    expect(s3FlagsAsEnv({ 's3-endpoint': 'http://127.0.0.1:4568', 's3-region': 'us-east-1', 's3-conditional-puts': 'check-then-put', store: 'x' })).toEqual({
      AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:4568',
      AWS_REGION: 'us-east-1',
      FLEETMAP_S3_CONDITIONAL_PUTS: 'check-then-put',
    });
    expect(parseS3Location('s3://fleetmap/a/b')).toEqual({ bucket: 'fleetmap', prefix: 'a/b' });
  });
});
