/**
 * One entry that opens an ObjectStore from a location string, the inverse of `describe()`:
 *
 *   "file:///abs/dir" or a plain path ("./store", "/var/fleetmap")  -> LocalDirStore
 *   "s3://bucket" or "s3://bucket/prefix"                            -> S3Store
 *
 * S3 connection settings come from `o.s3` over the environment (s3-config.ts), never from the
 * location, so a tile job's location opens the same store on any machine configured for it.
 */
import { fileURLToPath } from 'node:url';
import type { Logger } from '../../shared/log.ts';
import { LocalDirStore, type LocalDirStoreOptions } from './local-dir-store.ts';
import type { ObjectStore } from './object-store.ts';
import { isS3Location, parseS3Location, resolveS3Settings, type S3Settings } from './s3-config.ts';
import { S3Store, type S3StoreOptions } from './s3-store.ts';

export interface OpenStoreOptions {
  /** Settings over the environment's (flags). */
  s3?: S3Settings;
  /** Tuning S3Store takes beyond its settings (part size, list page size, retries). */
  s3Tuning?: Omit<S3StoreOptions, 'bucket' | 'prefix' | 'region' | 'endpoint' | 'forcePathStyle' | 'credentials' | 'conditionalPuts' | 'log'>;
  /** Environment read for S3 settings (default process.env). */
  env?: Readonly<Record<string, string | undefined>>;
  log?: Logger;
  /** Options for a directory store (group commit: the ingest's). */
  local?: LocalDirStoreOptions;
}

/** Opens the store at `location`; throws (naming the location or variable) when it cannot. */
export function openStore(location: string, o: OpenStoreOptions = {}): ObjectStore {
  if (isS3Location(location)) {
    const { bucket, prefix } = parseS3Location(location);
    let s;
    try {
      s = resolveS3Settings(o.s3, o.env ?? process.env);
    } catch (e) {
      throw new RangeError(`cannot open ${location}: ${(e as Error).message}`);
    }
    return new S3Store({
      ...o.s3Tuning,
      bucket,
      prefix,
      region: s.region,
      ...(s.endpoint !== undefined ? { endpoint: s.endpoint } : {}),
      forcePathStyle: s.forcePathStyle,
      ...(s.credentials ? { credentials: s.credentials } : {}),
      conditionalPuts: s.conditionalPuts,
      ...(o.log ? { log: o.log } : {}),
    });
  }
  if (location.startsWith('file://')) return new LocalDirStore(fileURLToPath(location), o.local);
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(location)) throw new RangeError(`cannot open object store ${JSON.stringify(location)}: expected a directory, file:///dir or s3://bucket[/prefix]`);
  if (!location) throw new RangeError('cannot open object store "": expected a directory, file:///dir or s3://bucket[/prefix]');
  return new LocalDirStore(location, o.local);
}
