/**
 * Where an S3 store is and how to reach it: the `s3://bucket[/prefix]` location, and the
 * connection settings read from the usual AWS environment (overridable by command-line flags).
 *
 * The location is all a tile job carries to a worker (possibly on another machine); each process
 * configures endpoint, region, credentials and the conditional-put mode from its own environment.
 *
 *   AWS_ENDPOINT_URL_S3, else AWS_ENDPOINT_URL   endpoint (MinIO, s3rver, ...); set -> path-style
 *   AWS_REGION, else AWS_DEFAULT_REGION          region: required, there is no silent default
 *   AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY    credentials (+ AWS_SESSION_TOKEN); when absent,
 *                                                the SDK's default chain (profile, SSO, IMDS, ...)
 *   FLEETMAP_S3_CONDITIONAL_PUTS                 if-none-match (default) | check-then-put
 */
import { assertObjectKey } from './object-store.ts';

/**
 * How putIfAbsent keeps a key from being written twice.
 * - 'if-none-match': one conditional PUT (`If-None-Match: *`), atomic on S3 (and servers that
 *   honour the header).
 * - 'check-then-put': HEAD, then PUT when absent. NOT atomic: two writers can both see the key
 *   absent and both write. For servers that ignore If-None-Match (s3rver); safe for fleetmap only
 *   because one coordinator claims each merge version (run one merge at a time on such a server).
 */
export type ConditionalPuts = 'if-none-match' | 'check-then-put';
export const CONDITIONAL_PUTS: readonly ConditionalPuts[] = ['if-none-match', 'check-then-put'];

export const S3_ENV = {
  endpoint: ['AWS_ENDPOINT_URL_S3', 'AWS_ENDPOINT_URL'],
  region: ['AWS_REGION', 'AWS_DEFAULT_REGION'],
  accessKeyId: 'AWS_ACCESS_KEY_ID',
  secretAccessKey: 'AWS_SECRET_ACCESS_KEY',
  sessionToken: 'AWS_SESSION_TOKEN',
  conditionalPuts: 'FLEETMAP_S3_CONDITIONAL_PUTS',
} as const;

export interface S3Location {
  bucket: string;
  /** Key prefix inside the bucket, '' or 'a/b' (no leading or trailing '/'). */
  prefix: string;
}

// S3's bucket naming rules (the common subset: lowercase, digits, '.', '-', 3-63 long).
const BUCKET_RE = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

export function isS3Location(location: string): boolean {
  return location.startsWith('s3://');
}

/** Parses `s3://bucket[/prefix]` (a trailing '/' is allowed); messages name the bad part. */
export function parseS3Location(location: string): S3Location {
  if (!isS3Location(location)) throw new RangeError(`S3 store location must start with s3://, got ${JSON.stringify(location)}`);
  const rest = location.slice('s3://'.length).replace(/\/+$/, '');
  const slash = rest.indexOf('/');
  const bucket = slash < 0 ? rest : rest.slice(0, slash);
  const prefix = slash < 0 ? '' : rest.slice(slash + 1);
  if (!BUCKET_RE.test(bucket) || bucket.includes('..')) throw new RangeError(`S3 bucket name must be 3-63 characters of [a-z0-9.-], got ${JSON.stringify(bucket)} in ${JSON.stringify(location)}`);
  if (prefix) {
    try {
      assertObjectKey(prefix);
    } catch {
      throw new RangeError(`S3 key prefix must be '/'-separated [A-Za-z0-9._-] segments, got ${JSON.stringify(prefix)} in ${JSON.stringify(location)}`);
    }
  }
  return { bucket, prefix };
}

export function formatS3Location(l: S3Location): string {
  return l.prefix ? `s3://${l.bucket}/${l.prefix}` : `s3://${l.bucket}`;
}

/** Settings a caller may give instead of the environment (flags); each wins over its variable. */
export interface S3Settings {
  endpoint?: string;
  region?: string;
  conditionalPuts?: ConditionalPuts;
}

export interface S3Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface ResolvedS3Settings {
  region: string;
  endpoint: string | undefined;
  /** True when an endpoint is set (MinIO, s3rver: no virtual-host buckets). */
  forcePathStyle: boolean;
  /** From the environment; undefined: the SDK's default credential chain. */
  credentials: S3Credentials | undefined;
  conditionalPuts: ConditionalPuts;
}

type Env = Readonly<Record<string, string | undefined>>;

/** Settings from `given` over `env`; throws naming the variable or value that is missing or bad. */
export function resolveS3Settings(given: S3Settings = {}, env: Env = process.env): ResolvedS3Settings {
  const first = (names: readonly string[]): string | undefined => names.map((n) => env[n]).find((v) => v !== undefined && v !== '');
  const region = given.region || first(S3_ENV.region);
  if (!region) throw new RangeError(`S3 needs a region: set AWS_REGION (or pass --s3-region)`);
  const endpoint = given.endpoint || first(S3_ENV.endpoint);
  if (endpoint !== undefined) assertEndpoint(endpoint);
  const cp = given.conditionalPuts ?? (env[S3_ENV.conditionalPuts] || 'if-none-match');
  if (!CONDITIONAL_PUTS.includes(cp as ConditionalPuts)) throw new RangeError(`${S3_ENV.conditionalPuts} must be one of ${CONDITIONAL_PUTS.join(', ')}, got ${JSON.stringify(cp)}`);
  const id = env[S3_ENV.accessKeyId];
  const secret = env[S3_ENV.secretAccessKey];
  if (!!id !== !!secret) throw new RangeError(`set both ${S3_ENV.accessKeyId} and ${S3_ENV.secretAccessKey}, or neither (the SDK's default credential chain)`);
  const token = env[S3_ENV.sessionToken];
  const credentials = id && secret ? { accessKeyId: id, secretAccessKey: secret, ...(token ? { sessionToken: token } : {}) } : undefined;
  return { region, endpoint, forcePathStyle: endpoint !== undefined, credentials, conditionalPuts: cp as ConditionalPuts };
}

// ---- command-line flags ----------------------------------------------------------------------

/** The S3 flags every command with `--store` takes (node:util parseArgs options). */
export const S3_CLI_OPTIONS = {
  's3-endpoint': { type: 'string' },
  's3-region': { type: 'string' },
  's3-conditional-puts': { type: 'string' },
} as const;

/** Help lines for S3_CLI_OPTIONS, aligned like the commands' own. */
export const S3_CLI_HELP = `  --s3-endpoint URL  S3 endpoint (default: AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL, else AWS)
  --s3-region R      S3 region (default: AWS_REGION / AWS_DEFAULT_REGION; required for s3://)
  --s3-conditional-puts if-none-match|check-then-put
                     how putIfAbsent stays single-writer (default: FLEETMAP_S3_CONDITIONAL_PUTS,
                     else if-none-match; check-then-put for servers without If-None-Match)`;

/**
 * The S3 flags as the environment variables they stand for, validated. A command applies them to
 * its own process.env once at start, so the worker threads it starts (which open the store from
 * its location) see the same settings: a flag is the same as setting its variable.
 */
export function s3FlagsAsEnv(values: Readonly<Record<string, unknown>>): Record<string, string> {
  const out: Record<string, string> = {};
  const str = (k: keyof typeof S3_CLI_OPTIONS): string | undefined => {
    const v = values[k];
    if (v === undefined) return undefined;
    if (typeof v !== 'string' || v === '') throw new RangeError(`--${k} needs a value`);
    return v;
  };
  const endpoint = str('s3-endpoint');
  const region = str('s3-region');
  const cp = str('s3-conditional-puts');
  if (endpoint !== undefined) out[S3_ENV.endpoint[0]] = endpoint;
  if (region !== undefined) out[S3_ENV.region[0]] = region;
  if (cp !== undefined) {
    if (!CONDITIONAL_PUTS.includes(cp as ConditionalPuts)) throw new RangeError(`--s3-conditional-puts must be one of ${CONDITIONAL_PUTS.join(', ')}, got ${JSON.stringify(cp)}`);
    out[S3_ENV.conditionalPuts] = cp;
  }
  if (endpoint !== undefined) assertEndpoint(endpoint);
  return out;
}

function assertEndpoint(endpoint: string): void {
  let url: URL | undefined;
  try {
    url = new URL(endpoint);
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) throw new RangeError(`S3 endpoint must be an http:// or https:// URL, got ${JSON.stringify(endpoint)}`);
}
