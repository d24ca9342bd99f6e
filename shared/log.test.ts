import { closeSync, mkdtempSync, openSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { JsonLogger, MemoryLogger, RateLimitedLog } from './log.ts';

describe('JsonLogger (pino)', () => {
  it('writes one JSON object per line with level label, tUnixMs, svc, event and the fields, synchronously', () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'fm-log-')), 'log.jsonl');
    const fd = openSync(file, 'w');
    const log = new JsonLogger('edge', { fd, now: () => 1_732_900_000_123 });
    log.warn('uplink_timeout', { seq: 7, attempt: 3, backoffMs: 1800, reason: 'line\nbreak "quoted"' });
    log.info('edge_stats', { drops: { outbox_full: 2 } });
    // no flush, no close: a SIGKILL right now must find both lines on disk
    const lines = readFileSync(file, 'utf8').split('\n').filter(Boolean);
    closeSync(fd);
    expect(lines).toHaveLength(2);
    expect(JSON.parse(lines[0]!)).toEqual({ level: 'warn', tUnixMs: 1_732_900_000_123, svc: 'edge', event: 'uplink_timeout', seq: 7, attempt: 3, backoffMs: 1800, reason: 'line\nbreak "quoted"' });
    expect(JSON.parse(lines[1]!)).toMatchObject({ level: 'info', svc: 'edge', event: 'edge_stats', drops: { outbox_full: 2 } });
  });

  it('drops lines below its level', () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'fm-log-')), 'log.jsonl');
    const fd = openSync(file, 'w');
    const log = new JsonLogger('ingest', { fd, level: 'warn' });
    log.info('noise');
    log.error('store_failed', { reason: 'ENOSPC' });
    closeSync(fd);
    const lines = readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.map((l) => l.event)).toEqual(['store_failed']);
  });
});

describe('RateLimitedLog', () => {
  it('logs a flood once per interval with the count it held back', () => {
    let t = 0;
    const mem = new MemoryLogger();
    const rl = new RateLimitedLog(mem, 1000, () => t);
    for (let i = 0; i < 5; i++) rl.warn('k', 'bad_message', { i });
    t = 1000;
    rl.warn('k', 'bad_message', { i: 5 });
    expect(mem.events('bad_message').map((e) => [e.i, e.suppressedSinceLast])).toEqual([
      [0, 0],
      [5, 4],
    ]);
  });
});
