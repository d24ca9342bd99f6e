import { describe, expect, it } from 'vitest';
import type { LocalPrimitive } from './localmap.ts';
import { RevisitFilter } from './revisit.ts';

const line = (pts: Array<[number, number]>, cls: LocalPrimitive['cls'] = 'lane_divider'): LocalPrimitive => ({ cls, score: 0.9, pointsLocal: pts, poseSigmaM: 0.5, tUnixMs: 0 });
const along = (x0: number, x1: number, y: number): Array<[number, number]> => Array.from({ length: Math.round(x1 - x0) + 1 }, (_, i) => [x0 + i, y] as [number, number]);

describe('RevisitFilter', () => {
  it('passes a first pass whole, including a line continuing into the next chunk', () => {
    const f = new RevisitFilter();
    expect(f.filter([line(along(0, 36, 0))], 40)).toHaveLength(1);
    const next = f.filter([line(along(36, 72, 0.1))], 76);
    expect(next).toHaveLength(1);
    expect(next[0]!.pointsLocal).toHaveLength(37);
    expect(f.counters).toEqual({ dropped: 0, trimmed: 0, lengthCutM: 0 });
  });

  it('drops the same stretch seen again after a loop, within the pose noise', () => {
    const f = new RevisitFilter();
    f.filter([line(along(0, 36, 0)), line([[10, 8]], 'traffic_sign')], 40);
    const again = f.filter([line(along(0, 36, 0.4)), line([[10.6, 8.3]], 'traffic_sign')], 600);
    expect(again).toEqual([]);
    expect(f.counters.dropped).toBe(2);
  });

  it('keeps what is new in a revisited place: another lane, another class, the unseen part of a line', () => {
    const f = new RevisitFilter();
    f.filter([line(along(0, 20, 0))], 40);
    const again = f.filter([line(along(0, 20, 3.5)), line(along(0, 20, 0), 'road_boundary'), line(along(0, 36, 0))], 600);
    expect(again).toHaveLength(3);
    const trimmed = again[2]!;
    expect(trimmed.pointsLocal[0]![0]).toBeGreaterThanOrEqual(21);
    expect(trimmed.pointsLocal[trimmed.pointsLocal.length - 1]).toEqual([36, 0]);
    expect(f.counters.trimmed).toBe(1);
  });

  it('tests a line along its length, not at its vertices alone: a simplified line keeps what is new', () => {
    const f = new RevisitFilter();
    // first pass: a short crossing line near x = 0 and a stretch of this line from x = 20 to 30
    f.filter([line([[0, -5], [0, 5]]), line([[20, 0], [30, 0]])], 40);
    // second pass: the line from x = 0 to 60 as two vertices (the vectoriser simplifies a straight
    // line so): its start vertex lies next to the crossing line's cells, its middle runs over the
    // stretch already uploaded
    const again = f.filter([line([[0.5, 0.2], [60, 0.2]])], 600);
    // the old code kept no vertex run of two and dropped all 60 m; now the new 0-20 m (less the
    // cells next to what was uploaded) and 30-60 m stay
    expect(again).toHaveLength(2);
    const [a, b] = again.map((p) => p.pointsLocal);
    expect(a![0]![0]).toBeGreaterThan(0.5);
    expect(a![0]![0]).toBeLessThan(2.5);
    expect(a![a!.length - 1]![0]).toBeGreaterThan(17);
    expect(a![a!.length - 1]![0]).toBeLessThan(20);
    expect(b![0]![0]).toBeGreaterThan(30);
    expect(b![0]![0]).toBeLessThan(33);
    expect(b![b!.length - 1]).toEqual([60, 0.2]);
    // straight runs come out with their ends only, not the half-cell test points
    expect(a).toHaveLength(2);
    expect(b).toHaveLength(2);
    expect(f.counters.trimmed).toBe(1);
    expect(f.counters.lengthCutM).toBeGreaterThan(12);
    expect(f.counters.lengthCutM).toBeLessThan(18);
  });

  it('forgets the oldest cells beyond its bound', () => {
    const f = new RevisitFilter({ maxCells: 50 });
    f.filter([line(along(0, 100, 0))], 100);
    expect(f.cellsHeld).toBe(50);
    // The start of the line is forgotten, its end remembered.
    expect(f.filter([line(along(0, 20, 0))], 1000)).toHaveLength(1);
    expect(f.filter([line(along(80, 100, 0))], 1000)).toEqual([]);
  });

  it('refuses bad options with the field named', () => {
    expect(() => new RevisitFilter({ cellM: 0 })).toThrow(/revisit.cellM/);
    expect(() => new RevisitFilter({ minTravelM: -1 })).toThrow(/revisit.minTravelM/);
  });
});
