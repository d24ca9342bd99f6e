import { describe, expect, it } from 'vitest';
import { CROSSWALK_STYLES, LAYOUTS, STOP_LINE_STYLES } from './mapgen/index.ts';
import { loadSuiteMap, MAP_SUITE, suiteMaps } from './map-suite.ts';

describe('the map suite', () => {
  it('has unique names and two disjoint splits', () => {
    expect(new Set(MAP_SUITE.map((m) => m.name)).size).toBe(MAP_SUITE.length);
    expect(suiteMaps('tuning').length + suiteMaps('validation').length).toBe(MAP_SUITE.length);
    expect(suiteMaps('tuning').map((m) => m.name)).toContain('karlsruhe');
  });

  it('validates on seeds no tuning map uses, every layout, both traffic sides and every drawing convention', () => {
    const seeds = (split: 'tuning' | 'validation'): number[] => suiteMaps(split).flatMap((m) => ('generated' in m.source ? [m.source.generated.seed] : []));
    const tuningSeeds = new Set(seeds('tuning'));
    for (const s of seeds('validation')) expect(tuningSeeds.has(s), `seed ${s}`).toBe(false);
    const v = suiteMaps('validation').flatMap((m) => ('generated' in m.source ? [m.source.generated] : []));
    expect(new Set(v.map((o) => o.layout))).toEqual(new Set(LAYOUTS));
    expect(new Set(v.map((o) => o.trafficSide ?? 'right'))).toEqual(new Set(['left', 'right']));
    expect(new Set(v.map((o) => o.crosswalkStyle ?? 'side_lines'))).toEqual(new Set(CROSSWALK_STYLES));
    expect(new Set(v.map((o) => o.stopLineStyle ?? 'per_lane'))).toEqual(new Set(STOP_LINE_STYLES));
  });

  it('loads every generated map without problems', () => {
    for (const m of MAP_SUITE.filter((x) => 'generated' in x.source)) {
      const map = loadSuiteMap(m);
      expect(map.errors, m.name).toEqual([]);
      expect(map.lanelets.length, m.name).toBeGreaterThan(10);
    }
  });
});
