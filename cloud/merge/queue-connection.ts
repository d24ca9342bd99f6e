/**
 * Redis connection settings for BullMQ from a `redis://[user:password@]host[:port][/db]` URL (one
 * parser for the coordinator and the workers). BullMQ opens its own connections from these;
 * `maxRetriesPerRequest: null` is what its blocking worker connections require.
 */
export interface RedisConnectionSettings {
  host: string;
  port: number;
  db: number;
  username?: string;
  password?: string;
  maxRetriesPerRequest: null;
}

export function redisSettings(url: string): RedisConnectionSettings {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new RangeError(`redis URL must look like redis://host:port[/db], got ${JSON.stringify(url)}`);
  }
  if (u.protocol !== 'redis:') throw new RangeError(`redis URL must start with redis://, got ${JSON.stringify(url)}`);
  const port = u.port ? Number(u.port) : 6379;
  const db = u.pathname && u.pathname !== '/' ? Number(u.pathname.slice(1)) : 0;
  if (!u.hostname || !Number.isInteger(port) || !Number.isInteger(db) || db < 0) throw new RangeError(`redis URL must look like redis://host:port[/db], got ${JSON.stringify(url)}`);
  const s: RedisConnectionSettings = { host: u.hostname, port, db, maxRetriesPerRequest: null };
  if (u.username) s.username = decodeURIComponent(u.username);
  if (u.password) s.password = decodeURIComponent(u.password);
  return s;
}
