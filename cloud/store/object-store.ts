/**
 * The object store the cloud keeps batches, fleet health and published tiles in.
 * Keys are '/'-separated relative paths ("batches/veh-001/0000000007.fmb"); no leading '/',
 * no '..' segments. Implementations: LocalDirStore (embedded default), S3Store; `openStore`
 * (open-store.ts) opens either from its describe() location. README.md says more.
 */
export interface ObjectStore {
  /** Write (replace) an object; durable when the promise resolves. */
  put(key: string, data: Uint8Array): Promise<void>;
  /** Write only if absent; resolves false (and writes nothing) when the key already exists. */
  putIfAbsent(key: string, data: Uint8Array): Promise<boolean>;
  /** The object's bytes, or undefined when absent. */
  get(key: string): Promise<Buffer | undefined>;
  exists(key: string): Promise<boolean>;
  /** All keys starting with `prefix`, sorted. */
  list(prefix: string): Promise<string[]>;
  /**
   * The keys starting with `prefix` that sort strictly after `startAfter` (plain string order,
   * which for the ASCII keys the store holds is S3's byte order), sorted. `startAfter` need not
   * be a key. Lets a reader of an append-only, time-ordered prefix (the ingest's `arrivals/`)
   * list only what is new since a mark instead of the whole prefix.
   */
  listAfter(prefix: string, startAfter: string): Promise<string[]>;
  /** Remove the object; resolves when it is gone. An absent key is not an error. */
  delete(key: string): Promise<void>;
  /**
   * Where the store is ("file:///var/fleetmap", "s3://bucket/prefix"): for logs, and what tile
   * jobs carry to workers, which reopen it with `openStore` (settings from their environment).
   */
  describe(): string;
}

const KEY_RE = /^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/;

/** True for a key the store can hold (see assertObjectKey). Segments containing ".tmp-" are the stores' own temp names, never keys. */
export function isObjectKey(key: string): boolean {
  return KEY_RE.test(key) && !key.split('/').some((s) => s === '.' || s === '..' || s.includes('.tmp-'));
}

export function assertObjectKey(key: string): void {
  if (!isObjectKey(key)) {
    throw new RangeError(`object key must be a relative path of [A-Za-z0-9._-] segments (none ".", ".." or containing ".tmp-"), got ${JSON.stringify(key)}`);
  }
}

/** Refuses a startAfter that is not a string (one line, before any I/O). */
export function assertStartAfter(startAfter: unknown): asserts startAfter is string {
  if (typeof startAfter !== 'string') throw new TypeError(`listAfter: startAfter must be a string, got ${typeof startAfter}`);
}
