/**
 * `fleetmap demo --serve` ends by printing the review page's address and keeps serving it until
 * Ctrl-C (SIGINT), then exits 0. A tiny fleet (ring road, oracle perception) keeps it short; the
 * demo without --serve (not a terminal) exits on its own: test/demo.test.ts.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { get } from 'node:http';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ringRoadOsm } from './fixtures/ring-road.ts';
import { REPO } from './helpers.ts';

describe('fleetmap demo --serve', () => {
  it('prints the page address last, serves the published map and the upload history until SIGINT', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'fm-web-demo-'));
    const mapFile = path.join(dir, 'ring-road.osm');
    writeFileSync(mapFile, ringRoadOsm());
    const out = path.join(dir, 'demo');
    const child = spawn(process.execPath, ['--import', 'tsx', 'cli/main.ts', 'demo', '--map', mapFile, '--vehicles', '2', '--drives', '1', '--drive-length-m', '600', '--perception', 'oracle', '--change-drives', '0', '--quiet', '--serve', '--out', out], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    try {
      const url = await new Promise<string>((resolve, reject) => {
        child.stdout.setEncoding('utf8').on('data', (c: string) => {
          stdout += c;
          const m = /^map review: (http:\/\/127\.0\.0\.1:\d+\/)  \(serving until Ctrl-C\)$/m.exec(stdout);
          if (m) resolve(m[1]!);
        });
        void exited.then((code) => reject(new Error(`demo exited (${code}) before printing the page address:\n${stdout}\n${stderr}`)));
      });
      expect(stdout.trimEnd().split('\n').at(-1)).toMatch(/^map review: /); // the last thing it says
      const page = await fetch(url);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('<script type="module" src="/app.js">');
      const versions = (await (await fetch(`${url}api/versions`)).json()) as { latest: number; versions: Array<{ features: number }> };
      expect(versions.latest).toBe(1);
      expect(versions.versions[0]!.features).toBeGreaterThan(0);
      const health = (await (await fetch(`${url}api/health`)).json()) as { vehicles: Array<{ batchesStored: number }> };
      expect(health.vehicles).toHaveLength(2);
      // the history is sampled from the start of the demo on (every 2 s) and goes on while it
      // serves: within a few intervals it holds several samples, the last at the fleet's totals
      // (a fast machine finishes this small demo within one interval, so wait for them)
      const total = health.vehicles.reduce((a, v) => a + v.batchesStored, 0);
      type History = { intervalS: number; samples: Array<{ batchesStored: number }> };
      let history = (await (await fetch(`${url}api/history`)).json()) as History;
      for (let i = 0; i < 30 && !(history.samples.length > 1 && history.samples.at(-1)!.batchesStored === total); i++) {
        await new Promise((r) => setTimeout(r, 500));
        history = (await (await fetch(`${url}api/history`)).json()) as History;
      }
      expect(history.intervalS).toBe(2);
      expect(history.samples.length).toBeGreaterThan(1);
      expect(history.samples.at(-1)!.batchesStored).toBe(total);
      // a request naming another host (DNS rebinding) is refused (fetch cannot set Host: node:http can)
      const rebound = await new Promise<number | undefined>((resolve, reject) => get(`${url}api/health`, { headers: { host: 'evil.example' } }, (r) => (r.resume(), resolve(r.statusCode))).on('error', reject));
      expect(rebound).toBe(403);
    } finally {
      child.kill('SIGINT');
    }
    expect(await exited).toBe(0);
    const log = readFileSync(path.join(out, 'logs', 'web.log'), 'utf8');
    expect(log).toMatch(/"event":"web_stopped"/);
    rmSync(dir, { recursive: true, force: true }); // kept for reading when the test fails
  });
});
