import { describe, expect, it } from 'vitest';
import type { EdgeContext } from './context.ts';
import { MemoryLogger } from '../shared/log.ts';
import { PROCESSES, supervise, type ProcessSpec } from './processes.ts';

/** A part that runs until aborted, recording when it stopped. */
const part = (name: string, order: string[]): ProcessSpec => ({
  name,
  description: name,
  stopDeadlineMs: 1000,
  run: (_ctx, signal) =>
    new Promise<void>((resolve) => {
      signal.addEventListener('abort', () => {
        order.push(name);
        resolve();
      });
    }),
});

describe('supervise', () => {
  const ctx = (log: MemoryLogger) => ({ log }) as unknown as Omit<EdgeContext, 'requestStop'>;

  it('lists the daemon parts once, intake first', () => {
    expect(PROCESSES.map((p) => p.name)).toEqual(['intake', 'perception', 'batcher', 'uplink', 'acks', 'monitor']);
  });

  it('stops every part in table order on the signal, exit 0', async () => {
    const order: string[] = [];
    const ac = new AbortController();
    const log = new MemoryLogger();
    const done = supervise(ctx(log), ac.signal, ['a', 'b', 'c'].map((n) => part(n, order)));
    ac.abort();
    expect(await done).toEqual({ reason: 'signal', exitCode: 0 });
    expect(order).toEqual(['a', 'b', 'c']);
  });

  it('stops everything with exit 1 when a part fails, naming it', async () => {
    const order: string[] = [];
    const log = new MemoryLogger();
    const failing: ProcessSpec = { name: 'bad', description: '', stopDeadlineMs: 1000, run: async () => Promise.reject(new Error('disk I/O error')) };
    const r = await supervise(ctx(log), new AbortController().signal, [part('a', order), failing, part('c', order)]);
    expect(r).toEqual({ reason: 'failed:bad', exitCode: 1 });
    expect(order).toEqual(['a', 'c']);
    expect(log.events('process_failed')).toMatchObject([{ process: 'bad', reason: 'disk I/O error' }]);
  });

  it('lets a part ask for a clean stop (drained)', async () => {
    const order: string[] = [];
    const asker: ProcessSpec = {
      name: 'monitor',
      description: '',
      stopDeadlineMs: 1000,
      run: (c, signal) =>
        new Promise<void>((resolve) => {
          c.requestStop('drained');
          signal.addEventListener('abort', () => resolve());
        }),
    };
    expect(await supervise(ctx(new MemoryLogger()), new AbortController().signal, [part('a', order), asker])).toEqual({ reason: 'drained', exitCode: 0 });
  });

  it('abandons a part that ignores its stop past its deadline, stops the rest, exit 1', async () => {
    const order: string[] = [];
    const log = new MemoryLogger();
    const stuck: ProcessSpec = { name: 'stuck', description: '', stopDeadlineMs: 50, run: () => new Promise<void>(() => undefined) };
    const ac = new AbortController();
    const done = supervise(ctx(log), ac.signal, [part('a', order), stuck, part('c', order)]);
    ac.abort();
    expect(await done).toEqual({ reason: 'signal', exitCode: 1, abandoned: ['stuck'] });
    expect(order).toEqual(['a', 'c']);
    expect(log.events('process_stop_timeout')).toMatchObject([{ process: 'stuck', stopDeadlineMs: 50 }]);
    expect(log.events('process_stopped').map((e) => e.process)).toEqual(['a', 'c']);
  });

  it('refuses a part without a usable stop deadline, naming it, before starting anything', async () => {
    const order: string[] = [];
    const started: string[] = [];
    const noDeadline: ProcessSpec = { name: 'forever', description: '', stopDeadlineMs: 0, run: async () => void started.push('forever') };
    await expect(supervise(ctx(new MemoryLogger()), new AbortController().signal, [part('a', order), noDeadline])).rejects.toThrow(/process forever: stopDeadlineMs must be a positive number/);
    expect(started).toEqual([]);
    // the daemon's own table passes the same check: supervising it on an aborted signal starts and stops nothing of ours
    const stub = PROCESSES.map((p) => ({ ...p, run: part(p.name, order).run }));
    const ac = new AbortController();
    ac.abort();
    expect(await supervise(ctx(new MemoryLogger()), ac.signal, stub)).toEqual({ reason: 'signal', exitCode: 0 });
  });
});
