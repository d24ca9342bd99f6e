import { describe, expect, it } from 'vitest';
import { FrameGate } from './gate.ts';

describe('FrameGate', () => {
  it('skips frames arriving faster than inference, counts them, and holds at most two', () => {
    const gate = new FrameGate<number>({ maxRateHz: 5 });
    const inferenceMs = 120;
    let inFlightUntil = -1;
    let current: number | undefined;
    const started: number[] = [];
    let maxDepth = 0;
    // 30 Hz camera for 10 s; inference takes 120 ms; the cap is 5 Hz.
    for (let f = 0; f < 300; f++) {
      const now = f * (1000 / 30);
      if (current !== undefined && now >= inFlightUntil) {
        current = gate.done(inFlightUntil);
        if (current !== undefined) {
          started.push(current);
          inFlightUntil = Math.max(now, inFlightUntil) + inferenceMs;
        }
      }
      const s = gate.offer(f, now);
      if (s !== undefined) {
        current = s;
        started.push(s);
        inFlightUntil = now + inferenceMs;
      }
      maxDepth = Math.max(maxDepth, gate.depth);
    }
    const c = gate.counters;
    expect(maxDepth).toBeLessThanOrEqual(2);
    expect(c.offered).toBe(300);
    expect(c.started).toBe(started.length);
    expect(c.started).toBeLessThanOrEqual(51); // 5 Hz over 10 s
    expect(c.started).toBeGreaterThanOrEqual(40);
    expect(c.skippedRateCap + c.skippedReplaced).toBeGreaterThan(200);
    // Every frame is accounted for: started, skipped, or still waiting.
    expect(c.started + c.skippedRateCap + c.skippedReplaced + (gate.depth - (gate.busy ? 1 : 0))).toBe(300);
    // Started frames are in order (latest wins, never an older one after a newer).
    for (let i = 1; i < started.length; i++) expect(started[i]!).toBeGreaterThan(started[i - 1]!);
  });

  it('replaces the waiting frame with the newest one', () => {
    const gate = new FrameGate<string>({ maxRateHz: 100 });
    expect(gate.offer('a', 0)).toBe('a');
    expect(gate.offer('b', 20)).toBeUndefined();
    expect(gate.offer('c', 30)).toBeUndefined();
    expect(gate.counters.skippedReplaced).toBe(1);
    expect(gate.done(40)).toBe('c');
    expect(gate.depth).toBe(1);
    expect(() => new FrameGate({ maxRateHz: 0 })).toThrow(/maxRateHz must be > 0 Hz, got 0/);
  });
});
