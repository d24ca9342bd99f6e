import { describe, expect, it } from 'vitest';
import type { WireObservation } from '../../shared/batch.ts';
import { BatchSet } from './batch-set.ts';
import { buildManifest, type ManifestTile, type PublishPlan } from './publish.ts';
import type { TileJobResult } from './job.ts';
import { DEFAULT_MERGE_OPTIONS } from './options.ts';
import { canonicalShard, normalise, stateKey, tileOfStateKey } from './state.ts';

const TILE = '16/34297/22504';
const obs = (driveId: string, t: number, extra: Partial<WireObservation> = {}): WireObservation => ({
  tile: TILE,
  driveId,
  tUnixMs: t,
  cls: 'lane_divider',
  style: 'solid',
  score: 0.7,
  poseSigmaCm: 100,
  pointsCm: [
    [100, 200],
    [900, 260],
  ],
  ...extra,
});

describe('BatchSet', () => {
  it('keeps consumed batches as per-vehicle ranges and reads them back', () => {
    const s = new BatchSet();
    for (const q of [1, 2, 3, 7, 5, 6, 10]) s.add(`batches/veh-a/${String(q).padStart(10, '0')}.fmb`);
    s.add('batches/veh-b/0000000004.fmb');
    s.add('batches/odd-name.fmb');
    const j = s.toJson();
    expect(j.ranges).toEqual({ 'veh-a': [[1, 3], [5, 7], [10, 10]], 'veh-b': [[4, 4]] });
    expect(j.other).toEqual(['batches/odd-name.fmb']);
    expect(j.count).toBe(9);
    const back = BatchSet.fromJson(JSON.parse(JSON.stringify(j)), 'inputs.json');
    expect(back.has('batches/veh-a/0000000006.fmb')).toBe(true);
    expect(back.has('batches/veh-a/0000000004.fmb')).toBe(false);
    expect(back.has('batches/veh-c/0000000001.fmb')).toBe(false);
    expect(back.has('batches/odd-name.fmb')).toBe(true);
    expect(back.toJson()).toEqual(j);
    expect(() => BatchSet.fromJson({ ...j, v: 2 }, 'x.json')).toThrow('x.json: got inputs v2 data, expected v1');
  });
});

describe('observation state', () => {
  it('gives the same bytes and key for the same observations in any order', () => {
    const a = [obs('v/d1', 5), obs('v/d2', 3), obs('v/d1', 4, { cls: 'traffic_sign', signCode: 'de206', pointsCm: [[5, 5]] })];
    const b = [a[2]!, a[0]!, a[1]!];
    const sa = canonicalShard(TILE, normalise(TILE, a));
    expect(sa.equals(canonicalShard(TILE, normalise(TILE, b)))).toBe(true);
    expect(sa.equals(canonicalShard(TILE, normalise(TILE, a.slice(1))))).toBe(false);
    const key = stateKey(TILE, sa);
    expect(key).toMatch(/^state\/obs\/16\/34297\/22504\/[0-9a-f]{16}\.obs$/);
    expect(tileOfStateKey(key)).toBe(TILE);
  });
  it('normalises as a stored state reads back, so old state + new equals a rebuild', () => {
    const raw = [obs('v/d1', 5, { score: 0.123456, signCode: 'ignored-on-a-divider' })];
    const once = normalise(TILE, raw);
    expect(normalise(TILE, once)).toEqual(once);
    expect(once[0]!.signCode).toBeUndefined();
    expect(once[0]!.score).toBe(Math.round(0.123456 * 255) / 255);
  });
});

describe('buildManifest', () => {
  const entry = (tile: string, key: string): ManifestTile => ({ tile, key, features: 1, byClass: { lane_divider: 1 }, dropped: { stale: 0, shadows: 0 }, obs: null, obsCount: 0, oldestObsUnixMs: null });
  const result = (tile: string): TileJobResult => ({
    tile,
    key: `tiles/v2/${tile}.geojson`,
    features: 2,
    byClass: { lane_divider: 2 },
    changes: { added: { lane_divider: 1 }, removed: {}, moved: {}, unchanged: 1, lowConfidence: { added: {}, removed: {} }, newCoverage: {}, addedIds: ['x'], removedIds: [], movedIds: [], commonShiftM: [0, 0] },
    stats: { stale: 0, shadows: 1 } as TileJobResult['stats'],
    newestSeenUnixMs: null,
  });
  const plan: PublishPlan = {
    version: 2,
    createdUnixMs: 1,
    previousVersion: 1,
    windowDays: null,
    options: DEFAULT_MERGE_OPTIONS,
    inputs: {},
    inputBatchCount: 3,
    inputObservationCount: 10,
    carried: [entry('16/5/5', 'tiles/v1/16/5/5.geojson')],
    states: { '16/1/1': { obs: 'state/obs/16/1/1/0123456789abcdef.obs', obsCount: 10, oldestObsUnixMs: 0 } },
  };
  it('lists carried and recomputed tiles in tile order; changes only for the recomputed', () => {
    const m = buildManifest(plan, [result('16/1/1')]);
    expect(m.tiles.map((t) => [t.tile, t.key])).toEqual([
      ['16/1/1', 'tiles/v2/16/1/1.geojson'],
      ['16/5/5', 'tiles/v1/16/5/5.geojson'],
    ]);
    expect(m.tiles[0]!.obs).toBe('state/obs/16/1/1/0123456789abcdef.obs');
    expect(Object.keys(m.changes.tiles)).toEqual(['16/1/1']);
    expect(m.changes.totals.added).toEqual({ lane_divider: 1 });
    expect(m.inputs).toBe('tiles/v2/inputs.json');
  });
  it('refuses results the plan does not have, and missing ones', () => {
    expect(() => buildManifest(plan, [result('16/9/9')])).toThrow(/16\/9\/9, which the plan of v2 does not recompute/);
    expect(() => buildManifest(plan, [])).toThrow(/0 tile results for 1 planned tiles/);
  });
});
