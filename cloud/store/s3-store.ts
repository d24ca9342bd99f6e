/**
 * ObjectStore on S3 (or any S3-protocol server: MinIO, s3rver) through @aws-sdk/client-s3.
 * Keys live under an optional prefix of one bucket: `s3://bucket/prefix` + `/` + key.
 *
 * - Checksums: requestChecksumCalculation and responseChecksumValidation are WHEN_REQUIRED. With
 *   the SDK's default (WHEN_SUPPORTED) streamed uploads are sent aws-chunked with a trailing CRC
 *   (buffers get a CRC header), and servers that do not speak that encoding (s3rver) store the
 *   chunk framing inside the object.
 * - Large objects (> multipartThresholdBytes) go up as a multipart upload (parts >= 5 MiB,
 *   sequentially); an upload that fails is aborted, so no parts are left billed.
 * - Every call is retried with exponential backoff and jitter on throttling, 5xx and network
 *   errors (retry.ts); the SDK's own retries are off (maxAttempts 1) so there is one policy.
 * - putIfAbsent: see ConditionalPuts (s3-config.ts). With 'if-none-match' a 412 means the key
 *   exists; a 412 on a *retried* request may be the answer to our own earlier attempt that
 *   succeeded unseen, so then the stored bytes decide.
 */
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import type { Logger } from '../../shared/log.ts';
import { assertObjectKey, assertStartAfter, isObjectKey, type ObjectStore } from './object-store.ts';
import { describeError, httpStatusOf, resolveRetry, withRetry, type RetryContext, type RetryOptions } from './retry.ts';
import { formatS3Location, type ConditionalPuts, type S3Credentials } from './s3-config.ts';

const MiB = 1024 * 1024;
/** S3's smallest part (all but the last), bytes. */
export const MIN_PART_BYTES = 5 * MiB;
const MAX_PARTS = 10_000;

export interface S3StoreOptions {
  bucket: string;
  /** Key prefix in the bucket, '' or 'a/b' (default ''). */
  prefix?: string;
  region: string;
  /** Non-AWS endpoint ("http://127.0.0.1:4568"); default: AWS's. */
  endpoint?: string;
  /** Path-style bucket addressing (default: true when an endpoint is set). */
  forcePathStyle?: boolean;
  /** Default: the SDK's default credential chain. */
  credentials?: S3Credentials;
  /** Default 'if-none-match' (atomic on S3); see ConditionalPuts. */
  conditionalPuts?: ConditionalPuts;
  /** Objects larger than this go up in parts, bytes (default 16 MiB). */
  multipartThresholdBytes?: number;
  /** Part size, bytes, >= 5 MiB (default 8 MiB; grown when an object would need > 10 000 parts). */
  partSizeBytes?: number;
  /** Keys per ListObjectsV2 page, 1..1000 (default 1000). */
  listPageSize?: number;
  retry?: RetryOptions;
  /** The retry jitter's random source in [0, 1) (default Math.random; tests pin it). */
  jitter?: () => number;
  /** Connecting may take this long, ms (default 5 000). */
  connectTimeoutMs?: number;
  /** A socket may idle this long mid-request, ms (default 60 000). */
  socketTimeoutMs?: number;
  /** Retry and abort events go here (default: none). */
  log?: Logger;
}

export class S3Store implements ObjectStore {
  readonly bucket: string;
  readonly prefix: string;
  readonly conditionalPuts: ConditionalPuts;
  readonly multipartThresholdBytes: number;
  readonly partSizeBytes: number;
  readonly listPageSize: number;
  private readonly keyPrefix: string;
  private readonly retry: Required<RetryOptions>;
  private readonly jitter: () => number;
  private readonly client: S3Client;
  private readonly log: Logger | undefined;

  constructor(o: S3StoreOptions) {
    this.bucket = o.bucket;
    this.prefix = o.prefix ?? '';
    if (!o.bucket) throw new TypeError('S3Store needs a bucket');
    if (!o.region) throw new TypeError('S3Store needs a region (AWS_REGION)');
    if (this.prefix) assertObjectKey(this.prefix);
    this.keyPrefix = this.prefix ? `${this.prefix}/` : '';
    this.conditionalPuts = o.conditionalPuts ?? 'if-none-match';
    if (this.conditionalPuts !== 'if-none-match' && this.conditionalPuts !== 'check-then-put') throw new RangeError(`conditionalPuts must be if-none-match or check-then-put, got ${JSON.stringify(this.conditionalPuts)}`);
    this.multipartThresholdBytes = o.multipartThresholdBytes ?? 16 * MiB;
    this.partSizeBytes = o.partSizeBytes ?? 8 * MiB;
    this.listPageSize = o.listPageSize ?? 1000;
    if (!Number.isInteger(this.partSizeBytes) || this.partSizeBytes < MIN_PART_BYTES) throw new RangeError(`partSizeBytes must be an integer >= ${MIN_PART_BYTES} (5 MiB), got ${this.partSizeBytes}`);
    if (!(this.multipartThresholdBytes >= this.partSizeBytes)) throw new RangeError(`multipartThresholdBytes must be >= partSizeBytes (${this.partSizeBytes}), got ${this.multipartThresholdBytes}`);
    if (!Number.isInteger(this.listPageSize) || this.listPageSize < 1 || this.listPageSize > 1000) throw new RangeError(`listPageSize must be an integer in 1..1000, got ${this.listPageSize}`);
    this.retry = resolveRetry(o.retry);
    this.jitter = o.jitter ?? Math.random;
    this.log = o.log;
    quietSdkNodeVersionWarning();
    this.client = new S3Client({
      region: o.region,
      ...(o.endpoint ? { endpoint: o.endpoint } : {}),
      forcePathStyle: o.forcePathStyle ?? o.endpoint !== undefined,
      ...(o.credentials ? { credentials: o.credentials } : {}),
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      maxAttempts: 1, // retries are ours (withRetry): one policy, logged
      requestHandler: { connectionTimeout: o.connectTimeoutMs ?? 5_000, socketTimeout: o.socketTimeoutMs ?? 60_000 },
    });
  }

  describe(): string {
    return formatS3Location({ bucket: this.bucket, prefix: this.prefix });
  }

  /** Closes the client's sockets; the store is unusable afterwards. */
  destroy(): void {
    this.client.destroy();
  }

  private objectKey(key: string): string {
    assertObjectKey(key);
    return this.keyPrefix + key;
  }

  private run<T>(op: string, key: string, fn: (ctx: RetryContext) => Promise<T>): Promise<T> {
    return withRetry(`S3 ${op} s3://${this.bucket}/${key}`, this.retry, fn, this.log, this.jitter);
  }

  async put(key: string, data: Uint8Array): Promise<void> {
    await this.write(this.objectKey(key), data, false);
  }

  async putIfAbsent(key: string, data: Uint8Array): Promise<boolean> {
    const k = this.objectKey(key);
    if (this.conditionalPuts === 'check-then-put') {
      // NOT ATOMIC: another writer may put between the HEAD and the PUT (both then "win").
      // Used only where the server ignores If-None-Match; fleetmap's one putIfAbsent race that
      // matters (two merges claiming one version) cannot happen while one coordinator runs.
      if (await this.head(k)) return false;
      await this.write(k, data, false);
      return true;
    }
    return this.write(k, data, true);
  }

  /** PUT (or multipart); with `ifNoneMatch`, false when the key exists. */
  private async write(k: string, data: Uint8Array, ifNoneMatch: boolean): Promise<boolean> {
    if (data.byteLength > this.multipartThresholdBytes) return this.writeMultipart(k, data, ifNoneMatch);
    return this.run('PutObject', k, async (ctx) => {
      try {
        await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: k, Body: data, ContentLength: data.byteLength, ...(ifNoneMatch ? { IfNoneMatch: '*' } : {}) }));
        return true;
      } catch (e) {
        if (ifNoneMatch && isPreconditionFailed(e)) return this.ownEarlierWrite(k, data, ctx);
        throw e;
      }
    });
  }

  private async writeMultipart(k: string, data: Uint8Array, ifNoneMatch: boolean): Promise<boolean> {
    const partBytes = Math.max(this.partSizeBytes, Math.ceil(data.byteLength / MAX_PARTS));
    const created = await this.run('CreateMultipartUpload', k, () => this.client.send(new CreateMultipartUploadCommand({ Bucket: this.bucket, Key: k })));
    const uploadId = created.UploadId;
    if (!uploadId) throw new Error(`S3 CreateMultipartUpload s3://${this.bucket}/${k} returned no UploadId`);
    let completed = false;
    try {
      const parts: Array<{ ETag: string; PartNumber: number }> = [];
      for (let at = 0, n = 1; at < data.byteLength; at += partBytes, n++) {
        const body = data.subarray(at, at + partBytes);
        const r = await this.run(`UploadPart ${n}`, k, () =>
          this.client.send(new UploadPartCommand({ Bucket: this.bucket, Key: k, UploadId: uploadId, PartNumber: n, Body: body, ContentLength: body.byteLength })),
        );
        if (!r.ETag) throw new Error(`S3 UploadPart ${n} s3://${this.bucket}/${k} returned no ETag`);
        parts.push({ ETag: r.ETag, PartNumber: n });
      }
      const written = await this.run('CompleteMultipartUpload', k, async (ctx) => {
        try {
          await this.client.send(
            new CompleteMultipartUploadCommand({ Bucket: this.bucket, Key: k, UploadId: uploadId, MultipartUpload: { Parts: parts }, ...(ifNoneMatch ? { IfNoneMatch: '*' } : {}) }),
          );
          return true;
        } catch (e) {
          if (ifNoneMatch && isPreconditionFailed(e)) return this.ownEarlierWrite(k, data, ctx);
          throw e;
        }
      });
      completed = written;
      return written;
    } finally {
      if (!completed) await this.abortUpload(k, uploadId);
    }
  }

  /** Best effort: a failed abort is logged (a bucket lifecycle rule reaps what is left). */
  private async abortUpload(k: string, uploadId: string): Promise<void> {
    try {
      await this.client.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: k, UploadId: uploadId }));
    } catch (e) {
      this.log?.warn('store_multipart_abort_failed', { key: k, bucket: this.bucket, uploadId, error: describeError(e) });
    }
  }

  /**
   * A 412 to a conditional write. On the first attempt: the key existed. On a retry the first
   * attempt may have been stored with its answer lost: the key is ours iff it holds our bytes.
   */
  private async ownEarlierWrite(k: string, data: Uint8Array, ctx: RetryContext): Promise<boolean> {
    if (ctx.attempt === 1) return false;
    const cur = await this.getObject(k);
    return cur !== undefined && Buffer.compare(cur, data) === 0;
  }

  async get(key: string): Promise<Buffer | undefined> {
    return this.getObject(this.objectKey(key));
  }

  private getObject(k: string): Promise<Buffer | undefined> {
    return this.run('GetObject', k, async () => {
      try {
        const r = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: k }));
        if (!r.Body) return Buffer.alloc(0);
        const bytes = await r.Body.transformToByteArray(); // inside the retry: a body cut off mid-way is retried too
        return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      } catch (e) {
        if (isNotFound(e)) return undefined;
        throw e;
      }
    });
  }

  async exists(key: string): Promise<boolean> {
    return this.head(this.objectKey(key));
  }

  private head(k: string): Promise<boolean> {
    return this.run('HeadObject', k, async () => {
      try {
        await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: k }));
        return true;
      } catch (e) {
        if (isNotFound(e)) return false;
        throw e;
      }
    });
  }

  /** Keys under `prefix` relative to the store's prefix, sorted; keys the interface cannot name (folder markers "a/") are left out. */
  async list(prefix: string): Promise<string[]> {
    return this.listPages(prefix, undefined);
  }

  /**
   * ListObjectsV2 with StartAfter (sent on the first page only: continuation tokens carry it on),
   * so S3 returns only keys after the mark and the pages cost what is new, not the whole prefix.
   */
  async listAfter(prefix: string, startAfter: string): Promise<string[]> {
    assertStartAfter(startAfter);
    return this.listPages(prefix, startAfter);
  }

  private async listPages(prefix: string, startAfter: string | undefined): Promise<string[]> {
    const full = this.keyPrefix + prefix;
    // StartAfter is a bucket key: the store's prefix goes in front, as for every key.
    const after = startAfter === undefined ? undefined : this.keyPrefix + startAfter;
    const out: string[] = [];
    let token: string | undefined;
    let page = 0;
    do {
      page++;
      const r = await this.run(`ListObjectsV2 page ${page}`, `${full}*`, () =>
        this.client.send(
          new ListObjectsV2Command({ Bucket: this.bucket, Prefix: full, MaxKeys: this.listPageSize, ...(token ? { ContinuationToken: token } : after !== undefined ? { StartAfter: after } : {}) }),
        ),
      );
      for (const c of r.Contents ?? []) {
        if (!c.Key?.startsWith(this.keyPrefix)) continue;
        const rel = c.Key.slice(this.keyPrefix.length);
        // The filter repeats StartAfter for servers that ignore it: the result is the same either way.
        if (isObjectKey(rel) && (startAfter === undefined || rel > startAfter)) out.push(rel);
      }
      token = r.IsTruncated ? r.NextContinuationToken : undefined;
      if (r.IsTruncated && !token) throw new Error(`S3 ListObjectsV2 s3://${this.bucket}/${full}*: truncated page ${page} without a continuation token`);
    } while (token);
    return out.sort();
  }

  /** Removes the object; an absent key is not an error. */
  async delete(key: string): Promise<void> {
    const k = this.objectKey(key);
    await this.run('DeleteObject', k, async () => {
      try {
        await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: k }));
      } catch (e) {
        if (!isNotFound(e)) throw e;
      }
    });
  }
}

/**
 * On Node < 22 the SDK prints a multi-line NodeVersionSupportWarning to stderr at its first
 * request, which breaks our one-JSON-object-per-line logs. It concerns which future SDK releases
 * the project can upgrade to (package.json), not this process, so it is switched off unless the
 * operator set AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED themselves.
 */
function quietSdkNodeVersionWarning(): void {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
}

function isNotFound(e: unknown): boolean {
  const name = (e as Error | undefined)?.name;
  if (name === 'NoSuchBucket') return false; // a wrong bucket is an error, not an empty store
  return name === 'NoSuchKey' || name === 'NotFound' || httpStatusOf(e) === 404;
}

function isPreconditionFailed(e: unknown): boolean {
  return httpStatusOf(e) === 412 || (e as Error | undefined)?.name === 'PreconditionFailed';
}
