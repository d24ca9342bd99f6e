import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { Progress } from '../../shared/progress.ts';
import { LocalDirStore } from '../store/index.ts';
import mergeCli from './cli.ts';
import { mergeMetricsText, parseMergeSamples, recordMergeRun, watchMergeLog } from './metrics.ts';
import { simulateFleet, syntheticWorld, writeBatches } from './synthetic.ts';

describe('merge metrics text file', () => {
  it('accumulates the duration histogram and run counts across runs; gauges follow the last good run', () => {
    const first = mergeMetricsText(undefined, { ok: true, durationS: 12.5, finishedUnixMs: 1_790_000_000_000, version: 3, tilesPublished: 120, tilesRecomputed: 7, batches: { read: 40, missing: 2, undecodable: 1 } });
    expect(first).toContain('# TYPE fleetmap_merge_batches gauge\nfleetmap_merge_batches{outcome="missing"} 2\nfleetmap_merge_batches{outcome="read"} 40\nfleetmap_merge_batches{outcome="undecodable"} 1\n');
    expect(first).toContain('# TYPE fleetmap_merge_duration_seconds histogram\n');
    expect(first).toContain('fleetmap_merge_duration_seconds_bucket{le="5"} 0\nfleetmap_merge_duration_seconds_bucket{le="15"} 1\n');
    expect(first).toContain('fleetmap_merge_tiles_published 120\n');
    expect(first).toContain('fleetmap_merge_tiles_recomputed 7\n');
    expect(first).toContain('fleetmap_merge_last_success_timestamp_seconds 1790000000\n');
    const second = mergeMetricsText(first, { ok: false, durationS: 2, finishedUnixMs: 1_790_000_100_000 });
    const s = parseMergeSamples(second);
    expect(s.get('fleetmap_merge_duration_seconds_count')).toBe(2);
    expect(s.get('fleetmap_merge_duration_seconds_sum')).toBe(14.5);
    expect(s.get('fleetmap_merge_duration_seconds_bucket{le="5"}')).toBe(1);
    expect(s.get('fleetmap_merge_duration_seconds_bucket{le="+Inf"}')).toBe(2);
    expect(s.get('fleetmap_merge_runs_total{result="ok"}')).toBe(1);
    expect(s.get('fleetmap_merge_runs_total{result="failed"}')).toBe(1);
    expect(s.get('fleetmap_merge_version')).toBe(3); // a failed run publishes nothing
    // buckets in order, +Inf, then sum and count (what the exposition format asks)
    const hist = second.split('\n').filter((l) => l.startsWith('fleetmap_merge_duration_seconds'));
    expect(hist.at(-3)).toMatch(/le="\+Inf"/);
    expect(hist.at(-2)).toMatch(/_sum /);
    expect(hist.at(-1)).toMatch(/_count /);
  });

  it('writes atomically beside the file and keeps only its own lines from a previous file', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'fm-merge-metrics-'));
    const f = path.join(dir, 'fleetmap_merge.prom');
    writeFileSync(f, 'something_else 1\nfleetmap_merge_runs_total{result="ok"} 41\ngarbage\n');
    await recordMergeRun(f, { ok: true, durationS: 0.5, finishedUnixMs: 1, version: 1, tilesPublished: 2, tilesRecomputed: 2 });
    const text = readFileSync(f, 'utf8');
    expect(text).toContain('fleetmap_merge_runs_total{result="ok"} 42\n');
    expect(text).not.toContain('something_else');
    expect(readdirSync(dir)).toEqual(['fleetmap_merge.prom']); // no temp file left
  });
});

describe('merge progress and metrics from the run', () => {
  it('drives the progress display from the run\'s log events and passes every event on', () => {
    let now = 0;
    let text = '';
    const progress = new Progress({ stream: { isTTY: true, write: (t: string) => (text += t) }, nowMs: () => now, minIntervalMs: 0, redrawEveryMs: 0 });
    const seen: string[] = [];
    const w = watchMergeLog({ info: (e) => seen.push(e), warn: (e) => seen.push(e) }, progress);
    w.log.info('merge_start', { version: 1 });
    now = 1000;
    w.log.info('merge_planned', { version: 1, tilesRecomputed: 2, batchesRead: 9, batchesMissing: 1, batchesUndecodable: 0 });
    now = 2000;
    w.log.info('merge_tile', { tile: '16/1/1' });
    expect(progress.state()).toMatchObject({ stage: 'merge: tiles', done: 1, total: 2 });
    expect(text).toContain('merge: tiles  [##########----------]  1/2  50%  1.0 tiles/s  elapsed 1.0s  left 1.0s');
    w.log.warn('merge_slow', {});
    w.log.info('merge_tile', { tile: '16/1/2' });
    w.log.info('merge_published', { version: 1, tiles: 5, recomputed: 2 });
    expect(progress.state()).toBeUndefined();
    expect(w.tilesRecomputed()).toBe(2);
    expect(w.batches()).toEqual({ read: 9, missing: 1, undecodable: 0 });
    expect(seen).toEqual(['merge_start', 'merge_planned', 'merge_tile', 'merge_slow', 'merge_tile', 'merge_published']);
  });

  it('fleetmap cloud merge --metrics-file: each run is added to the file', async () => {
    const root = mkdtempSync(path.join(tmpdir(), 'fm-merge-cli-'));
    await writeBatches(new LocalDirStore(root), simulateFleet(syntheticWorld(), { drives: 2, seed: 5, startUnixMs: Date.UTC(2025, 0, 1) }).observations);
    const f = path.join(root, 'merge.prom');
    const quiet = [vi.spyOn(console, 'log').mockImplementation(() => undefined), vi.spyOn(console, 'error').mockImplementation(() => undefined)];
    try {
      expect(await mergeCli(['--store', root, '--quiet', '--metrics-file', f])).toBe(0);
      const once = parseMergeSamples(readFileSync(f, 'utf8'));
      expect(once.get('fleetmap_merge_runs_total{result="ok"}')).toBe(1);
      expect(once.get('fleetmap_merge_version')).toBe(1);
      expect(once.get('fleetmap_merge_tiles_published')).toBeGreaterThan(0);
      expect(once.get('fleetmap_merge_tiles_recomputed')).toBe(once.get('fleetmap_merge_tiles_published'));
      expect(once.get('fleetmap_merge_batches{outcome="read"}')).toBeGreaterThan(0);
      expect(once.get('fleetmap_merge_batches{outcome="missing"}')).toBe(0);
      expect(once.get('fleetmap_merge_batches{outcome="undecodable"}')).toBe(0);
      expect(await mergeCli(['--store', root, '--quiet', '--metrics-file', f])).toBe(0);
      const twice = parseMergeSamples(readFileSync(f, 'utf8'));
      expect(twice.get('fleetmap_merge_duration_seconds_count')).toBe(2);
      expect(twice.get('fleetmap_merge_version')).toBe(2);
      expect(twice.get('fleetmap_merge_tiles_recomputed')).toBe(0); // nothing new: every tile carried over
      expect(await mergeCli(['--store', root, '--metrics-file', path.join(root, 'no-such-dir', 'm.prom')])).toBe(2);
    } finally {
      for (const q of quiet) q.mockRestore();
    }
  }, 60_000);
});
