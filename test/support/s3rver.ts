/**
 * A real S3-protocol server for tests: s3rver, in this process, on a free loopback port, storing
 * under a fresh temp directory that `close()` removes (only that directory: the helper made it).
 *
 *   const s3 = await startS3rver();            // bucket "fleetmap"
 *   const store = openStore('s3://fleetmap/t1', { env: s3.env });
 *   ...
 *   await s3.close();
 *
 * s3rver ignores If-None-Match, so `env` selects check-then-put for putIfAbsent; it accepts the
 * fixed credentials S3RVER / S3RVER.
 *
 * s3rver 3.7 makes ListObjectsV2 continuation tokens with single DES, which OpenSSL 3 (Node >= 17)
 * only has in its legacy provider: every paginated list answers 500. `startS3rver` therefore
 * lets single-DES cipher calls with an 8-byte key run as 3DES with that key three times (the same
 * cipher, since EDE with K1=K2=K3 is single DES), in this process only.
 *
 * s3rver 3.7's FilesystemStore answers a PUT before the object's bytes are in its file: it
 * resolves when the request body has been read (or, for a buffer, when the write is merely
 * queued), not when the file is written and closed. A GET at once may then read the previous
 * object (seen in `npm test` on a busy machine: an overwritten key read back its old bytes), where
 * real S3 reads back what a completed PUT wrote. `startS3rver` therefore makes its putObject
 * return only once the file is closed, in this process only; the bytes, metadata and answers are
 * s3rver's own. Nothing else changes.
 */
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import S3rver from 's3rver';

export const S3RVER_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } as const;

export interface RunningS3rver {
  /** "http://127.0.0.1:<port>". */
  endpoint: string;
  port: number;
  /** Where s3rver keeps the buckets. */
  directory: string;
  buckets: string[];
  /** An environment that points openStore at this server (region us-east-1, check-then-put). */
  env: Record<string, string>;
  /** Stops the server (dropping open connections) and removes its directory. */
  close(): Promise<void>;
}

export async function startS3rver(o: { buckets?: string[] } = {}): Promise<RunningS3rver> {
  allowSingleDes();
  awaitObjectWrites();
  const buckets = o.buckets ?? ['fleetmap'];
  const directory = mkdtempSync(path.join(tmpdir(), 'fm-s3rver-'));
  const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory, configureBuckets: buckets.map((name) => ({ name })) });
  let port: number;
  try {
    port = (await server.run()).port;
  } catch (e) {
    rmSync(directory, { recursive: true, force: true });
    throw e;
  }
  const endpoint = `http://127.0.0.1:${port}`;
  return {
    endpoint,
    port,
    directory,
    buckets,
    env: {
      AWS_ENDPOINT_URL: endpoint,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey,
      FLEETMAP_S3_CONDITIONAL_PUTS: 'check-then-put',
    },
    async close() {
      server.httpServer?.closeAllConnections();
      await server.close();
      rmSync(directory, { recursive: true, force: true });
    },
  };
}

/** See the header: single DES (s3rver's token cipher) as 3DES with K1 = K2 = K3. Idempotent. */
function allowSingleDes(): void {
  const crypto = createRequire(import.meta.url)('node:crypto') as typeof import('node:crypto') & { __fmSingleDes?: true };
  if (crypto.__fmSingleDes) return;
  const asTripleDes = (alg: string, key: unknown): [string, unknown] =>
    alg.toLowerCase() === 'des' && Buffer.isBuffer(key) && key.length === 8 ? ['des-ede3-cbc', Buffer.concat([key, key, key])] : [alg, key];
  const cipheriv = crypto.createCipheriv.bind(crypto);
  const decipheriv = crypto.createDecipheriv.bind(crypto);
  crypto.createCipheriv = ((alg: string, key: unknown, ...rest: unknown[]) => (cipheriv as (...a: unknown[]) => unknown)(...asTripleDes(alg, key), ...rest)) as typeof crypto.createCipheriv;
  crypto.createDecipheriv = ((alg: string, key: unknown, ...rest: unknown[]) => (decipheriv as (...a: unknown[]) => unknown)(...asTripleDes(alg, key), ...rest)) as typeof crypto.createDecipheriv;
  crypto.__fmSingleDes = true;
}

interface S3rverObject {
  bucket: string;
  key: string;
  content: Buffer | Readable;
  metadata: Record<string, string>;
}
interface FilesystemStoreProto {
  getResourcePath(bucket: string, key: string, resource: string): string;
  putMetadata(bucket: string, key: string, metadata: Record<string, string>, md5: string): Promise<void>;
  putObject(object: S3rverObject): Promise<{ size: number; md5: string }>;
  __fmAwaitsWrites?: true;
}

/** See the header: s3rver's putObject, returning once the object's file is written and closed. Idempotent. */
function awaitObjectWrites(): void {
  const Store = createRequire(import.meta.url)('s3rver/lib/stores/filesystem.js') as { prototype: FilesystemStoreProto };
  const proto = Store.prototype;
  if (proto.__fmAwaitsWrites) return;
  proto.putObject = async function (this: FilesystemStoreProto, object: S3rverObject) {
    const objectPath = this.getResourcePath(object.bucket, object.key, 'object');
    await mkdir(path.dirname(objectPath), { recursive: true });
    const md5 = createHash('md5');
    let size = 0;
    if (Buffer.isBuffer(object.content)) {
      await writeFile(objectPath, object.content);
      md5.update(object.content);
      size = object.content.length;
    } else {
      const hashing = new Transform({
        transform(chunk: Buffer, _enc, done) {
          md5.update(chunk);
          size += chunk.length;
          done(null, chunk);
        },
      });
      await pipeline(object.content, hashing, createWriteStream(objectPath));
    }
    const digest = md5.digest('hex');
    await this.putMetadata(object.bucket, object.key, object.metadata, digest);
    return { size, md5: digest };
  };
  proto.__fmAwaitsWrites = true;
}
