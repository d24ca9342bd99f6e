import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { linkDecision, parseLinkState, readLinkState } from './link.ts';

const PRIORITY = { lane_divider: 4, road_boundary: 4, stop_line: 7, crosswalk: 6, traffic_sign: 8, traffic_light: 8 } as const;
const JETSON = { maxKbps: 1000, meteredMaxKbps: 500, meteredMinPriority: 5 };

describe('metered link', () => {
  it('unmetered: the general cap, every class goes', () => {
    expect(linkDecision('unmetered', JETSON, PRIORITY)).toEqual({ metered: false, maxKbps: 1000, minPriority: 0, heldBackClasses: [] });
  });

  it('metered: the metered cap, classes below meteredMinPriority held back', () => {
    expect(linkDecision('metered', JETSON, PRIORITY)).toEqual({ metered: true, maxKbps: 500, minPriority: 5, heldBackClasses: ['lane_divider', 'road_boundary'] });
    expect(linkDecision('metered', { ...JETSON, meteredMinPriority: 7 }, PRIORITY).heldBackClasses).toEqual(['lane_divider', 'road_boundary', 'crosswalk']);
    expect(linkDecision('metered', { ...JETSON, meteredMinPriority: 0 }, PRIORITY)).toMatchObject({ minPriority: 0, heldBackClasses: [] });
    expect(linkDecision('metered', { maxKbps: 0, meteredMaxKbps: 0, meteredMinPriority: 0 }, PRIORITY).maxKbps).toBe(0); // unlimited both ways
  });

  it('unknown counts as metered (the cost-safe choice)', () => {
    expect(linkDecision('unknown', JETSON, PRIORITY)).toEqual(linkDecision('metered', JETSON, PRIORITY));
  });

  it('reads one word from the file; anything else, or no file, is unknown with the reason', () => {
    expect(parseLinkState(' metered\n')).toEqual({ state: 'metered' });
    expect(parseLinkState('unmetered')).toEqual({ state: 'unmetered' });
    expect(parseLinkState('wifi')).toEqual({ state: 'unknown', reason: 'expected "metered" or "unmetered", got "wifi"' });
    const dir = mkdtempSync(path.join(tmpdir(), 'fm-link-'));
    const file = path.join(dir, 'link-state');
    expect(readLinkState(file)).toEqual({ state: 'unknown', reason: `cannot read ${file}: ENOENT` });
    writeFileSync(file, 'unmetered\n');
    expect(readLinkState(file)).toEqual({ state: 'unmetered' });
  });
});
