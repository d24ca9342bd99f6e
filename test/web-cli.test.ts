/**
 * `fleetmap cloud web` as a user runs it (a real process on loopback): refuses a non-loopback bind
 * without a token (exit 2, one line), and with a token refuses requests without it.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Proc, REPO } from './helpers.ts';

const cli = (args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', 'cli/main.ts', 'cloud', 'web', ...args], { cwd: REPO, encoding: 'utf8', timeout: 60_000 });

describe('fleetmap cloud web', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'fm-web-cli-'));
  const store = path.join(dir, 'store');
  const tokenFile = path.join(dir, 'token');
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('refuses to listen beyond loopback without a token, and bad flags, with one line and exit 2', () => {
    const open = cli(['--store', dir, '--listen', '0.0.0.0:0']);
    expect(open.status).toBe(2);
    expect(open.stderr.trim().split('\n')).toHaveLength(1);
    expect(open.stderr).toMatch(/^fleetmap cloud web: refusing to listen on 0\.0\.0\.0 without --token-file/);
    writeFileSync(tokenFile, 'short\n');
    const weak = cli(['--store', dir, '--token-file', tokenFile]);
    expect(weak.status).toBe(2);
    expect(weak.stderr).toMatch(/--token-file .*16-256 characters/);
    const missing = cli(['--store', path.join(dir, 'nope')]);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/no such directory/);
    expect(missing.stderr).not.toMatch(/\n\s+at /); // never a stack trace
  });

  it('with --token-file: 401 without the token, 200 with it; stops on SIGTERM', async () => {
    const token = 'cli-token-abcdefghijklmnop';
    writeFileSync(tokenFile, `${token}\n`);
    mkdirSync(store, { recursive: true });
    const p = new Proc('web', ['cloud', 'web', '--store', store, '--listen', '127.0.0.1:0', '--token-file', tokenFile]);
    try {
      const ev = await p.event('web_listening');
      const url = String(ev.url);
      expect(ev.tokenRequired).toBe(true);
      expect(p.stdout).not.toContain(token);
      expect((await fetch(`${url}api/health`)).status).toBe(401);
      expect((await fetch(url)).status).toBe(401);
      const ok = await fetch(`${url}api/health`, { headers: { authorization: `Bearer ${token}` } });
      expect(ok.status).toBe(200);
      expect(ok.headers.get('content-security-policy')).toContain("default-src 'self'");
      expect(await ok.json()).toMatchObject({ available: false, vehicles: [] }); // an empty store says so
      // read-only: nothing but GET (and HEAD)
      const post = await fetch(`${url}api/health`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: '{}' });
      expect(post.status).toBe(404);
    } finally {
      p.kill('SIGTERM');
    }
    expect((await p.exited).code).toBe(0);
    expect(p.named('web_stopped')).toHaveLength(1);
  });
});
