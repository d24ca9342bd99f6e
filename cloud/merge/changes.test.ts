import { describe, expect, it } from 'vitest';
import type { XY } from '../../shared/schema.ts';
import { parseTileKey, tileFrame } from '../../shared/tiles.ts';
import { diffTile, uncoveredStretches, type LineStretch } from './changes.ts';
import type { MapFeature } from './features.ts';
import { resolveMergeOptions } from './options.ts';

const TILE = '16/34297/22504';
const frame = tileFrame(parseTileKey(TILE));
const o = resolveMergeOptions();

function line(id: string, pts: XY[], cls: 'lane_divider' | 'road_boundary' = 'lane_divider'): MapFeature {
  return {
    type: 'Feature',
    id,
    geometry: { type: 'LineString', coordinates: pts.map((p) => { const q = frame.toLngLat(p); return [q.lng, q.lat]; }) },
    properties: { id, class: cls, score: 0.9, supportDrives: 5, supportObservations: 9, firstSeenUnixMs: 1000, lastSeenUnixMs: 2000 },
  };
}
function sign(id: string, p: XY): MapFeature {
  const q = frame.toLngLat(p);
  return { type: 'Feature', id, geometry: { type: 'Point', coordinates: [q.lng, q.lat] }, properties: { id, class: 'traffic_sign', signCode: 'de206', score: 0.9, supportDrives: 5, supportObservations: 9, firstSeenUnixMs: 1000, lastSeenUnixMs: 2000 } };
}
const shift = (pts: XY[], dx: number, dy: number): XY[] => pts.map((p) => [p[0] + dx, p[1] + dy]);
const A: XY[] = [[-100, 0], [100, 0]];
const B: XY[] = [[-100, 3.5], [100, 3.5]];
const C: XY[] = [[-100, -3.5], [100, -3.5]];
const D: XY[] = [[50, -80], [50, 80]];

function prev(): MapFeature[] {
  return [line('a', A), line('b', B), line('c', C, 'road_boundary'), line('d', D), sign('s', [10, 8])];
}

describe('diffTile', () => {
  it('reports nothing and keeps every id when nothing changed', () => {
    const next = prev().map((f) => ({ ...f, id: '', properties: { ...f.properties, id: '', firstSeenUnixMs: 5000 } }));
    const d = diffTile(prev(), next, frame, TILE, 2, o);
    expect(d.ids).toEqual(['a', 'b', 'c', 'd', 's']);
    expect(d.inheritedFirstSeen).toEqual([1000, 1000, 1000, 1000, 1000]);
    expect(d.changes).toMatchObject({ added: {}, removed: {}, moved: {}, unchanged: 5 });
  });

  it('absorbs a common shift of the whole tile (the gauge) but reports one line that moved', () => {
    const dx = 0.3;
    const dy = -0.25;
    // The recent drives saw a 0.9 m aside (recentShiftM); the others only moved with the gauge.
    const rs = (f: MapFeature, m: number): MapFeature => ({ ...f, properties: { ...f.properties, recentShiftM: m } });
    const next = [rs(line('', shift(A, dx, dy + 0.9)), 0.9), rs(line('', shift(B, dx, dy)), 0.02), rs(line('', shift(C, dx, dy), 'road_boundary'), 0), line('', shift(D, dx, dy)), rs(sign('', [10 + dx, 8 + dy]), 0.05)];
    const d = diffTile(prev(), next, frame, TILE, 2, o);
    expect(d.changes.moved).toEqual({ lane_divider: 1 });
    expect(d.changes.movedIds).toEqual(['a']);
    expect(d.changes.unchanged).toBe(4);
    expect(d.changes.commonShiftM[0]).toBeCloseTo(dx, 1);
    expect(d.changes.commonShiftM[1]).toBeCloseTo(dy, 1);
  });

  it('judges moved on what the drives since the previous version saw (recentShiftM) when the merge states it', () => {
    const withShift = (f: MapFeature, m: number): MapFeature => ({ ...f, properties: { ...f.properties, recentShiftM: m } });
    // The consensus of a moved 0.9 m (more drives re-placed it), but old and new drives agree: not moved.
    // The consensus of b stayed (old drives outvote), but the new drives see it 0.8 m aside: moved.
    const next = [withShift(line('', shift(A, 0, 0.9)), 0.05), withShift(line('', B), 0.8), line('', C, 'road_boundary'), line('', D), sign('', [10, 8])];
    const d = diffTile(prev(), next, frame, TILE, 2, o);
    expect(d.changes.moved).toEqual({ lane_divider: 1 });
    expect(d.changes.movedIds).toEqual(['b']);
    expect(d.changes.unchanged).toBe(4);
  });

  it('counts a feature it did not reproduce as removed only on the merge\'s evidence of absence', () => {
    // b and the sign are gone from the new version; the recent drives passed only b's place.
    const next = [line('', A), line('', C, 'road_boundary'), line('', D)];
    const asked: string[] = [];
    const d = diffTile(prev(), next, frame, TILE, 2, o, (f, pts) => {
      asked.push(f.properties.id);
      expect(pts.length).toBeGreaterThan(0);
      return f.properties.id === 'b';
    });
    expect(asked.sort()).toEqual(['b', 's']);
    expect(d.changes.removed).toEqual({ lane_divider: 1 });
    expect(d.changes.removedIds).toEqual(['b']);
    expect(d.changes.lowConfidence.removed).toEqual({ traffic_sign: 1 });
  });

  it('reports a confident feature removed when all that is left is a weak remnant and the recent drives saw nothing there', () => {
    // b went stale but a few old observations still make a weak line on its place.
    const weak = (f: MapFeature): MapFeature => ({ ...f, properties: { ...f.properties, score: 0.2, supportDrives: 2 } });
    const next = [line('', A), weak(line('', B)), line('', C, 'road_boundary'), line('', D), sign('', [10, 8])];
    const d = diffTile(prev(), next, frame, TILE, 2, o, (f) => f.properties.id === 'b');
    expect(d.changes.removedIds).toEqual(['b']);
    expect(d.ids[1]).not.toBe('b');
    expect(d.changes.lowConfidence.added).toEqual({ lane_divider: 1 });
    // Without evidence of absence the weak line continues b: nothing removed.
    const kept = diffTile(prev(), next, frame, TILE, 2, o, () => false);
    expect(kept.ids[1]).toBe('b');
    expect(kept.changes.removedIds).toEqual([]);
    // Nor when a drive since the previous version saw the weak line: it is b, seen less well.
    const seenAgain = next.map((f, k) => (k === 1 ? { ...f, properties: { ...f.properties, lastSeenUnixMs: 3000 } } : f));
    const again = diffTile(prev(), seenAgain, frame, TILE, 2, o, (f) => f.properties.id === 'b');
    expect(again.ids[1]).toBe('b');
    expect(again.changes.removedIds).toEqual([]);
  });

  it('reports removed and added features by class with fresh, unique ids', () => {
    const next = [line('', A), line('', C, 'road_boundary'), line('', D), sign('', [10, 8]), line('', [[-100, 40], [100, 40]]), line('', [[-100, 47], [100, 47]])];
    const d = diffTile(prev(), next, frame, TILE, 2, o);
    expect(d.changes.removed).toEqual({ lane_divider: 1 });
    expect(d.changes.removedIds).toEqual(['b']);
    expect(d.changes.added).toEqual({ lane_divider: 2 });
    expect(new Set(d.ids).size).toBe(6);
    expect(d.ids[4]).toMatch(/^34297-22504-[0-9a-f]{10}$/);
  });

  it('counts weak features that come and go as low-confidence churn, not as changes', () => {
    const weak = (f: MapFeature): MapFeature => ({ ...f, properties: { ...f.properties, score: 0.2 } });
    const d = diffTile([line('a', A), weak(line('w', B))], [line('', A), weak(line('', [[-100, 40], [100, 40]]))], frame, TILE, 2, o);
    expect(d.changes.removed).toEqual({});
    expect(d.changes.added).toEqual({});
    expect(d.changes.lowConfidence).toEqual({ added: { lane_divider: 1 }, removed: { lane_divider: 1 } });
  });

  it('judges a new line by whether the passing drives saw it, not by how tightly they place it', () => {
    // One low score (0.3; changeMinScore is 0.4) from three different kinds of evidence.
    const scored = (spreadM: number, seenShare: number): MapFeature => {
      const f = line('', [[-100, 40], [100, 40]]);
      return { ...f, properties: { ...f.properties, score: 0.3, spreadM, seenShare } };
    };
    const judge = (f: MapFeature) => diffTile([line('a', A)], [line('', A), f], frame, TILE, 2, o).changes;
    // Every drive that passed saw it, 0.3 m apart (the camera's range scatter at a stop line): added.
    expect(judge(scored(0.3, 1)).added).toEqual({ lane_divider: 1 });
    // The same drives agreeing to 5 cm: the score is low for want of evidence, not placement.
    expect(judge(scored(0.05, 1)).lowConfidence.added).toEqual({ lane_divider: 1 });
    // Scattered, and a third of the drives that passed saw it: old observations, no new paint.
    expect(judge(scored(0.3, 0.35)).lowConfidence.added).toEqual({ lane_divider: 1 });
  });

  it('keeps one id when a line is split in two pieces, the other piece is new but not added', () => {
    const next = [line('', [[-100, 0], [0, 0]]), line('', [[0, 0], [100, 0]])];
    const d = diffTile([line('a', A)], next, frame, TILE, 2, o);
    expect(d.ids.filter((id) => id === 'a')).toHaveLength(1);
    expect(d.changes.added).toEqual({});
    expect(d.changes.removed).toEqual({});
  });

  it('says which previous lines live on, under their own id or joined into a neighbour', () => {
    // a and its continuation e became one line that took a's id; e lives on inside it. b went.
    const E: XY[] = [[100, 0], [180, 0]];
    const d = diffTile([line('a', A), line('e', E), line('b', B)], [line('', [[-100, 0], [180, 0]])], frame, TILE, 2, o);
    expect(d.ids).toEqual(['a']);
    expect([...d.continued].sort()).toEqual(['a', 'e']);
  });
});

describe('uncoveredStretches', () => {
  const lngLat = (pts: XY[]): Array<[number, number]> => pts.map((p) => { const q = frame.toLngLat(p); return [q.lng, q.lat]; });
  const local = (s: LineStretch): XY[] => s.coordinates.map(([lng, lat]) => frame.toLocal({ lng, lat }));
  const bare = (prevF: MapFeature[], next: MapFeature[], covered: LineStretch[] = [], kept = new Set(prevF.map((f) => f.properties.id))) =>
    uncoveredStretches(prevF, next, kept, covered, frame, o, 3, ['lane_divider', 'road_boundary']);

  it('finds the end of a line that the new version no longer has, where it lies', () => {
    // The new divider stops 60 m short (paint ground off at its end) and lies 0.4 m aside.
    const s = bare([line('a', A)], [line('', [[-100, 0.4], [40, 0.4]])]);
    expect(s).toHaveLength(1);
    expect(s[0]!.cls).toBe('lane_divider');
    const pts = local(s[0]!);
    // Its samples lie on the old line, from the matching gate past the new end to the old end.
    for (const q of pts) expect(Math.abs(q[1])).toBeLessThan(0.01);
    expect(pts[0]![0]).toBeGreaterThan(40 + o.matchGateM - 1);
    expect(pts[0]![0]).toBeLessThan(40 + o.matchGateM + 1);
    expect(pts[pts.length - 1]![0]).toBeCloseTo(100, 1);
  });

  it('finds a stretch inside a line, and nothing where the new lines cover the old', () => {
    const s = bare([line('a', A)], [line('', [[-100, 0], [-20, 0]]), line('', [[20, 0], [100, 0]])]);
    expect(s).toHaveLength(1);
    const pts = local(s[0]!);
    expect(pts[0]![0]).toBeCloseTo(-20 + o.matchGateM, 0);
    expect(pts[pts.length - 1]![0]).toBeCloseTo(20 - o.matchGateM, 0);
    expect(bare([line('a', A)], [line('', shift(A, 0, 1.2))])).toEqual([]);
  });

  it('leaves short gaps, other classes, lines that did not live on and stretches tested already', () => {
    // A 4 m gap leaves 1 m uncovered between the gates: shorter than 3 m.
    expect(bare([line('a', A)], [line('', [[-100, 0], [-2, 0]]), line('', [[2, 0], [100, 0]])])).toEqual([]);
    // The boundary's stretch is not covered by a divider.
    expect(bare([line('c', C, 'road_boundary')], [line('', [[-100, -3.5], [0, -3.5]])])).toHaveLength(1);
    expect(bare([line('c', C, 'road_boundary')], [line('', [[-100, -3.5], [0, -3.5]], 'road_boundary'), line('', [[0, -3.5], [100, -3.5]], 'road_boundary')])).toEqual([]);
    // A previous line that did not live on is the diff's to report removed whole.
    expect(bare([line('a', A)], [line('', [[-100, 0], [0, 0]])], [], new Set())).toEqual([]);
    // A stretch cut out of the consensus already (reported on its own) is not found twice.
    expect(bare([line('a', A)], [line('', [[-100, 0], [0, 0]])], [{ cls: 'lane_divider', coordinates: lngLat([[0, 0], [100, 0]]) }])).toEqual([]);
    // Points (signs) have no stretches.
    expect(bare([sign('s', [10, 8])], [])).toEqual([]);
  });
});
