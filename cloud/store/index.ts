export type { ObjectStore } from './object-store.ts';
export { assertObjectKey, isObjectKey } from './object-store.ts';
export { LocalDirStore } from './local-dir-store.ts';
export { S3Store, type S3StoreOptions } from './s3-store.ts';
export { openStore, type OpenStoreOptions } from './open-store.ts';
export { isS3Location, parseS3Location, formatS3Location, resolveS3Settings, s3FlagsAsEnv, S3_CLI_OPTIONS, S3_CLI_HELP, S3_ENV, type ConditionalPuts, type S3Settings } from './s3-config.ts';
export { RetriesExhaustedError, type RetryOptions } from './retry.ts';
export { openStoreArg, type StoreArgOptions } from './store-arg.ts';
