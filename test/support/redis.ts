/**
 * A real Redis for tests: Debian's /usr/bin/redis-server on a free loopback port, no persistence
 * (`--save '' --appendonly no`), working directory a fresh temp dir that `stop()` removes (only
 * that directory: the helper made it).
 *
 *   const redis = await startRedis();   // redis.url = "redis://127.0.0.1:<port>"
 *   ...
 *   await redis.stop();
 *
 * Without the binary it fails with one line naming the Debian package (never skips).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

export const REDIS_SERVER = '/usr/bin/redis-server';

export interface RunningRedis {
  url: string;
  port: number;
  stop(): Promise<void>;
}

export async function startRedis(): Promise<RunningRedis> {
  if (!existsSync(REDIS_SERVER)) throw new Error(`${REDIS_SERVER} is missing: install the Debian package redis-server (apt-get install redis-server)`);
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const dir = mkdtempSync(path.join(tmpdir(), 'fm-redis-'));
    try {
      const child = await spawnRedis(port, dir);
      return {
        url: `redis://127.0.0.1:${port}`,
        port,
        stop: async () => {
          if (child.exitCode === null && child.signalCode === null) {
            const gone = new Promise((r) => child.once('close', r));
            child.kill('SIGTERM');
            await gone;
          }
          rmSync(dir, { recursive: true, force: true });
        },
      };
    } catch (e) {
      rmSync(dir, { recursive: true, force: true });
      lastError = e; // most likely the port was taken between freePort() and the bind: try another
    }
  }
  throw lastError;
}

function spawnRedis(port: number, dir: string): Promise<ChildProcess> {
  const child = spawn(REDIS_SERVER, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let out = '';
    const onData = (c: Buffer): void => {
      out += c.toString('utf8');
      if (out.includes('Ready to accept connections')) {
        child.stdout!.off('data', onData);
        child.stdout!.resume();
        child.stderr!.resume();
        resolve(child);
      }
    };
    child.stdout!.on('data', onData);
    child.once('close', (code, signal) => reject(new Error(`redis-server on port ${port} exited (${code ?? signal}) before it was ready: ${out.trim().split('\n').slice(-3).join(' | ')}`)));
    child.once('error', reject);
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}
