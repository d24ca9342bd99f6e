import { describe, expect, it, vi } from 'vitest';
import { etaMs, formatDurationMs, formatProgress, Progress, type ProgressStream } from './progress.ts';

/** A fake terminal (or not) that records what was written. */
function stream(isTTY: boolean, columns?: number): ProgressStream & { text: string; writes: number } {
  const s = {
    isTTY,
    columns,
    text: '',
    writes: 0,
    write(t: string) {
      s.text += t;
      s.writes++;
      return true;
    },
  };
  return s;
}

describe('progress formatting (pure)', () => {
  it('estimates the time left at the average rate so far', () => {
    expect(etaMs(25, 100, 5000)).toBe(15_000);
    expect(etaMs(100, 100, 5000)).toBe(0);
    expect(etaMs(0, 100, 5000)).toBeUndefined(); // no rate yet
    expect(etaMs(10, undefined, 5000)).toBeUndefined(); // no total
  });

  it('formats stage, bar, count, percentage, rate, elapsed and time left', () => {
    expect(formatProgress({ stage: 'merge tiles', done: 412, total: 1030, elapsedMs: 7500, unit: 'tiles' })).toBe('merge tiles  [########------------]  412/1030  40%  54.9 tiles/s  elapsed 7.5s  left 11s');
    expect(formatProgress({ stage: 'plan', done: 0, elapsedMs: 300 })).toBe('plan  elapsed 300ms');
    expect(formatProgress({ stage: 'drive', done: 3, elapsedMs: 65_000 })).toBe('drive  3  0.0/s  elapsed 1m05s');
    expect(formatProgress({ stage: 'x', done: 4, total: 4, elapsedMs: 2000 })).toBe('x  [####################]  4/4  100%  2.0/s  elapsed 2.0s');
    expect(formatProgress({ stage: 'x', done: 0, total: 0, elapsedMs: 1 })).toBe('x  nothing to do  elapsed 1ms');
    expect(formatProgress({ stage: 'merge tiles', done: 412, total: 1030, elapsedMs: 7500 }, 20)).toHaveLength(19);
    expect(formatDurationMs(3_725_000)).toBe('1h02m');
  });
});

describe('Progress', () => {
  it('redraws in place on a terminal at most every minIntervalMs, and ends the stage with a newline', () => {
    let now = 0;
    const out = stream(true);
    const p = new Progress({ stream: out, nowMs: () => now, minIntervalMs: 250, redrawEveryMs: 0 });
    p.stage('merge tiles', 10, 'tiles');
    for (let i = 1; i <= 9; i++) {
      now += 100;
      p.tick();
    }
    // drawn at the start, then at 300 ms, 600 ms, 900 ms: not once per tick
    expect(out.writes).toBe(4);
    expect(out.text.split('\r\u001b[2K').at(-1)).toBe('merge tiles  [##################--]  9/10  90%  10.0 tiles/s  elapsed 900ms  left 100ms');
    now += 100;
    p.tick(); // the last one is always drawn
    expect(out.writes).toBe(5);
    p.stage('publish');
    expect(out.text).toContain('10/10  100%  10.0 tiles/s  elapsed 1.0s\n\r\u001b[2Kpublish  elapsed 0ms'); // redrawn, ended, next stage
    p.interrupt(() => out.write('{"event":"log line"}\n'));
    expect(out.text.endsWith('\r\u001b[2K{"event":"log line"}\n\r\u001b[2Kpublish  elapsed 0ms')).toBe(true);
    p.end();
    expect(out.text.endsWith('\n')).toBe(true);
  });

  it('redraws a stage without news every redrawEveryMs (its elapsed time moves), and stops at its end', () => {
    vi.useFakeTimers();
    try {
      let now = 0;
      const out = stream(true);
      const p = new Progress({ stream: out, nowMs: () => now, redrawEveryMs: 1000 });
      p.stage('demo: merge');
      now = 3000;
      vi.advanceTimersByTime(3000);
      expect(out.writes).toBe(4);
      expect(out.text.endsWith('demo: merge  elapsed 3.0s')).toBe(true);
      p.end();
      vi.advanceTimersByTime(5000);
      expect(out.writes).toBe(6); // the last draw and its newline, nothing after
    } finally {
      vi.useRealTimers();
    }
  });

  it('writes nothing when not on a terminal, or with quiet', () => {
    for (const [out, quiet] of [[stream(false), false], [stream(true), true]] as const) {
      const p = new Progress({ stream: out, quiet, nowMs: () => 0 });
      expect(p.enabled).toBe(false);
      p.stage('drive', 3);
      p.tick();
      p.interrupt(() => undefined);
      p.end();
      expect(out.writes).toBe(0);
      expect(p.state()).toBeUndefined();
    }
  });
});
