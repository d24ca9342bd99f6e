import { describe, expect, it } from 'vitest';
import { addMustSync } from './outbox-sync.ts';

describe('addMustSync (when an add of observations waits for the disk)', () => {
  it('syncs the first add, then defers until syncEveryMs after the last durable commit', () => {
    expect(addMustSync(undefined, 5_000, 1000)).toBe(true);
    expect(addMustSync(5_000, 5_000, 1000)).toBe(false);
    expect(addMustSync(5_000, 5_999, 1000)).toBe(false);
    expect(addMustSync(5_000, 6_000, 1000)).toBe(true);
    expect(addMustSync(5_000, 60_000, 1000)).toBe(true);
  });

  it('syncs every add when syncEveryMs is 0', () => {
    expect(addMustSync(5_000, 5_000, 0)).toBe(true);
    expect(addMustSync(5_000, 5_001, 0)).toBe(true);
  });

  it('syncs when the clock went backwards, so a stepped clock cannot postpone durability', () => {
    expect(addMustSync(5_000, 4_999, 1000)).toBe(true);
    expect(addMustSync(5_000, -1e12, 1000)).toBe(true);
  });
});
