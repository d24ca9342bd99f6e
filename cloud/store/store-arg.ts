/**
 * A command's `--store` argument: `s3://bucket[/prefix]` or a directory. Every command that takes
 * `--store` opens it here, so they all accept the same locations and S3 flags (S3_CLI_OPTIONS).
 */
import { statSync } from 'node:fs';
import { UsageError } from '../../shared/cli-errors.ts';
import type { Logger } from '../../shared/log.ts';
import type { LocalDirStoreOptions } from './local-dir-store.ts';
import type { ObjectStore } from './object-store.ts';
import { openStore } from './open-store.ts';
import { isS3Location, s3FlagsAsEnv, S3_CLI_OPTIONS } from './s3-config.ts';

export interface StoreArgOptions {
  /** A directory store must already exist (merge, export: never create an empty store). */
  mustExist?: boolean;
  /** Said after "no such directory" ("a store holds batches/ from fleetmap cloud ingest"). */
  missingHint?: string;
  log?: Logger;
  /** Where the --s3-* flags are applied (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** Options for a directory store (group commit: the ingest's). */
  local?: LocalDirStoreOptions;
}

/**
 * Opens `--store ARG`. The --s3-* flags in `flags` are validated and written into `env` first (a
 * flag is the same as setting its variable, for this command and the worker threads it starts,
 * which reopen the store from its location). Throws UsageError for a bad location, flag or S3
 * setting, and for a missing directory when `mustExist`.
 */
export function openStoreArg(arg: string, flags: Readonly<Record<string, unknown>>, o: StoreArgOptions = {}): ObjectStore {
  const env = o.env ?? process.env;
  try {
    const given = Object.keys(S3_CLI_OPTIONS).filter((k) => flags[k] !== undefined);
    if (given.length > 0 && !isS3Location(arg)) throw new UsageError(`--${given[0]} applies to s3:// stores only, got --store ${arg}`);
    Object.assign(env, s3FlagsAsEnv(flags));
    if (!isS3Location(arg) && o.mustExist && !(statSync(arg, { throwIfNoEntry: false })?.isDirectory() ?? false)) {
      throw new UsageError(`--store ${arg}: no such directory${o.missingHint ? ` (${o.missingHint})` : ''}`);
    }
    return openStore(arg, { env, ...(o.log ? { log: o.log } : {}), ...(o.local ? { local: o.local } : {}) });
  } catch (e) {
    throw e instanceof UsageError ? e : new UsageError(`--store: ${(e as Error).message}`);
  }
}
