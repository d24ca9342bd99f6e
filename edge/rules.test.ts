import { describe, expect, it } from 'vitest';
import { flushDecision, isDrained, type DrainInput, type FlushInput } from './rules.ts';

const cfg = { batchMaxObservations: 100, batchMaxAgeS: 30, idleFlushS: 2 };
const T0 = 1_700_000_000_000;

describe('flushDecision (fake clock)', () => {
  const at = (over: Partial<FlushInput>): FlushInput => ({
    nowUnixMs: T0,
    pendingObservations: 10,
    lastMessageAtMs: T0,
    oldestPendingUnixMs: T0,
    flushRequested: false,
    ...over,
  });

  it('waits while a partial batch is young and the intake is busy', () => {
    expect(flushDecision(cfg, at({}))).toEqual({ action: 'none' });
    expect(flushDecision(cfg, at({ nowUnixMs: T0 + 1999, lastMessageAtMs: T0 }))).toEqual({ action: 'none' });
  });

  it('forms only full batches when a full batch is pending', () => {
    expect(flushDecision(cfg, at({ pendingObservations: 100 }))).toEqual({ action: 'form', flushAll: false, why: 'full' });
    expect(flushDecision(cfg, at({ pendingObservations: 250 }))).toEqual({ action: 'form', flushAll: false, why: 'full' });
  });

  it('flushes everything once the intake is idle for idleFlushS, exactly at the boundary', () => {
    expect(flushDecision(cfg, at({ nowUnixMs: T0 + 2000 }))).toEqual({ action: 'form', flushAll: true, why: 'intake_idle' });
  });

  it('flushes everything when the oldest pending observation reaches batchMaxAgeS, even with a busy intake', () => {
    const busy = { lastMessageAtMs: T0 + 29_999 };
    expect(flushDecision(cfg, at({ ...busy, nowUnixMs: T0 + 29_999 }))).toEqual({ action: 'none' });
    expect(flushDecision(cfg, at({ ...busy, nowUnixMs: T0 + 30_000 }))).toEqual({ action: 'form', flushAll: true, why: 'max_age' });
  });

  it('a requested flush (drive end, leftovers at start) wins over everything', () => {
    expect(flushDecision(cfg, at({ flushRequested: true, pendingObservations: 500 }))).toEqual({ action: 'form', flushAll: true, why: 'flush_requested' });
  });

  it('never forms from nothing', () => {
    expect(flushDecision(cfg, at({ pendingObservations: 0, flushRequested: true, nowUnixMs: T0 + 1e9 }))).toEqual({ action: 'none' });
  });

  it('an intake that never spoke is not idle (leftovers go out by request or age)', () => {
    expect(flushDecision(cfg, at({ lastMessageAtMs: undefined, nowUnixMs: T0 + 10_000 }))).toEqual({ action: 'none' });
  });
});

describe('isDrained (fake clock)', () => {
  const base: DrainInput = {
    nowUnixMs: T0,
    startedAtMs: T0 - 60_000,
    lastMessageAtMs: T0,
    idleFlushS: 2,
    driveOpen: false,
    drivesEnded: 1,
    perceptionIdle: true,
    outboxEmpty: true,
    hadWork: true,
  };

  it('drained after a drive end once everything is delivered', () => {
    expect(isDrained(base)).toBe(true);
    expect(isDrained({ ...base, outboxEmpty: false })).toBe(false);
    expect(isDrained({ ...base, perceptionIdle: false })).toBe(false);
  });

  it('a pause inside an open drive is not the end of it, however long', () => {
    expect(isDrained({ ...base, driveOpen: true, nowUnixMs: T0 + 3_600_000 })).toBe(false);
  });

  it('without a drive end, idleFlushS of silence makes the intake quiet', () => {
    const noEnd = { ...base, drivesEnded: 0 };
    expect(isDrained({ ...noEnd, nowUnixMs: T0 + 1999 })).toBe(false);
    expect(isDrained({ ...noEnd, nowUnixMs: T0 + 2000 })).toBe(true);
  });

  it('silence is counted from start-up when no message came', () => {
    const none = { ...base, drivesEnded: 0, lastMessageAtMs: undefined, startedAtMs: T0 };
    expect(isDrained({ ...none, nowUnixMs: T0 + 1000 })).toBe(false);
    expect(isDrained({ ...none, nowUnixMs: T0 + 2000 })).toBe(true);
  });

  it('a run with nothing to do is never drained (nothing was delivered)', () => {
    expect(isDrained({ ...base, hadWork: false })).toBe(false);
  });
});
