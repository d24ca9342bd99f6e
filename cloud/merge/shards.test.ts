import { describe, expect, it } from 'vitest';
import type { WireObservation } from '../../shared/batch.ts';
import { parseTileKey, tileFrame, tileKey } from '../../shared/tiles.ts';
import { decodeShard, encodeShard, frameTransform, gatherForTile, neighbourhood, tileBoxM, tilesReached, tilesTouched, type ReachCache } from './shards.ts';

const T = parseTileKey('16/34297/22504');

describe('tile frames', () => {
  it('maps a neighbour tile frame into the tile frame to well under a millimetre', () => {
    for (const nb of neighbourhood(T)) {
      const m = frameTransform(nb, T);
      const f = tileFrame(nb);
      const g = tileFrame(T);
      for (const [x, y] of [[0, 0], [250, -180], [-300, 300], [123.45, 67.8]] as const) {
        const exact = g.toLocal(f.toLngLat([x, y]));
        expect(Math.abs(m[0]! * x + m[1]! * y + m[2]! - exact[0])).toBeLessThan(1e-4);
        expect(Math.abs(m[3]! * x + m[4]! * y + m[5]! - exact[1])).toBeLessThan(1e-4);
      }
    }
    expect(neighbourhood(T)).toHaveLength(9);
    // the top row has no row above; columns wrap across the antimeridian (x = 65535 borders x = 0)
    const corner = neighbourhood({ z: 16, x: 0, y: 0 }).map(tileKey).sort();
    expect(corner).toEqual(['16/0/0', '16/0/1', '16/1/0', '16/1/1', '16/65535/0', '16/65535/1']);
    // ... each tile once, also where the columns west and east are the same tile
    expect(neighbourhood({ z: 1, x: 0, y: 0 }).map(tileKey).sort()).toEqual(['1/0/0', '1/0/1', '1/1/0', '1/1/1']);
    // the frame transform between the two sides of 180 deg is as exact as any other
    const west = { z: 16, x: 65535, y: 35870 };
    const east = { z: 16, x: 0, y: 35870 };
    const m = frameTransform(west, east);
    for (const [x, y] of [[0, 0], [300, -200], [-250, 280]] as const) {
      const exact = tileFrame(east).toLocal(tileFrame(west).toLngLat([x, y]));
      expect(Math.abs(m[0]! * x + m[1]! * y + m[2]! - exact[0])).toBeLessThan(1e-4);
      expect(Math.abs(m[3]! * x + m[4]! * y + m[5]! - exact[1])).toBeLessThan(1e-4);
    }
    // the west tile's centre lies one tile width (about 585 m at 16.8 deg S) west of the east one's, not round the globe
    expect(m[2]).toBeLessThan(-500);
    expect(m[2]).toBeGreaterThan(-700);
  });
});

describe('shards', () => {
  const west = { z: 16, x: T.x - 1, y: T.y };
  const [, , wx1] = tileBoxM(west);
  const obs: WireObservation[] = [
    // Ends 20 m west of the shared border: inside T's margin.
    { tile: tileKey(west), driveId: 'd1', tUnixMs: 1_700_000_000_000, cls: 'lane_divider', style: 'dashed', score: 0.8, poseSigmaCm: 90, pointsCm: [[Math.round((wx1 - 60) * 100), 0], [Math.round((wx1 - 20) * 100), 0]] },
    // 150 m west of the border: outside a 60 m margin.
    { tile: tileKey(west), driveId: 'd1', tUnixMs: 1_700_000_000_500, cls: 'traffic_sign', signCode: 'de206', score: 0.6, poseSigmaCm: 90, pointsCm: [[Math.round((wx1 - 150) * 100), 500]] },
    // Starts in the margin but runs a kilometre away: an error, dropped.
    { tile: tileKey(west), driveId: 'd3', tUnixMs: 1_700_000_002_000, cls: 'lane_divider', style: 'solid', score: 1, poseSigmaCm: 90, pointsCm: [[Math.round((wx1 - 20) * 100), 0], [Math.round((wx1 - 1000) * 100), 0]] },
    // Crosses into T.
    { tile: tileKey(west), driveId: 'd2', tUnixMs: 1_700_000_001_000, cls: 'road_boundary', kind: 'curb', score: 1, poseSigmaCm: 90, pointsCm: [[Math.round((wx1 - 10) * 100), -700], [Math.round((wx1 + 10) * 100), -700]] },
  ];

  it('round-trips through the shard format and refuses other versions', () => {
    const buf = encodeShard(tileKey(west), obs);
    const back = decodeShard(buf, 'x');
    expect(back.tile).toBe(tileKey(west));
    expect(back.observations.map((o) => ({ ...o, score: Math.round(o.score * 255) }))).toEqual(obs.map((o) => ({ ...o, score: Math.round(o.score * 255) })));
    expect(() => encodeShard(tileKey(T), obs)).toThrow(/does not belong/);
  });

  it('gathers neighbour observations within the margin, in the tile frame', () => {
    const got = gatherForTile(T, new Map([[tileKey(west), obs]]), 60);
    expect(got.map((o) => o.cls)).toEqual(['lane_divider', 'road_boundary']);
    const [x0] = tileBoxM(T);
    // The west tile's border lies on T's west border.
    const curb = got.find((o) => o.cls === 'road_boundary')!;
    expect(curb.points[0]![0]).toBeCloseTo(x0 - 10, 1);
    expect(curb.points[1]![0]).toBeCloseTo(x0 + 10, 1);
    expect(tilesTouched(obs[3]!, new Map()).sort()).toEqual([tileKey(T), tileKey(west)].sort());
    expect(tilesTouched(obs[0]!, new Map())).toEqual([tileKey(west)]);
  });
});

describe('tilesReached (which tiles an incremental merge recomputes for a new observation)', () => {
  it('names every tile whose job gathers the observation, and not the far side of the neighbourhood', () => {
    const marginM = 60;
    const [x0, y0, x1, y1] = tileBoxM(T);
    const cache: ReachCache = new Map();
    // Deterministic pseudo-random observations all over T and just beyond it (LCG).
    let seed = 12345;
    const rand = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    let partial = 0;
    for (let i = 0; i < 400; i++) {
      const n = 1 + Math.floor(rand() * 3);
      const pointsCm: Array<[number, number]> = [];
      const cx = x0 - 40 + rand() * (x1 - x0 + 80);
      const cy = y0 - 40 + rand() * (y1 - y0 + 80);
      for (let k = 0; k < n; k++) pointsCm.push([Math.round((cx + (rand() - 0.5) * 40) * 100), Math.round((cy + (rand() - 0.5) * 40) * 100)]);
      const o: WireObservation = { tile: tileKey(T), driveId: 'd1', tUnixMs: 1_700_000_000_000 + i, cls: 'lane_divider', style: 'solid', score: 0.5, poseSigmaCm: 50, pointsCm };
      const reached = new Set(tilesReached(o, marginM, cache));
      for (const nb of neighbourhood(T)) {
        const gathered = gatherForTile(nb, new Map([[tileKey(T), [o]]]), marginM).length > 0;
        if (gathered) expect(reached.has(tileKey(nb))).toBe(true);
      }
      if (reached.size < 9) partial++;
    }
    // Most observations lie well inside T: they reach T alone, or T and a side or corner.
    expect(partial).toBeGreaterThan(300);
    const middle: WireObservation = { tile: tileKey(T), driveId: 'd1', tUnixMs: 1, cls: 'traffic_sign', signCode: 'x', score: 1, poseSigmaCm: 50, pointsCm: [[Math.round(((x0 + x1) / 2) * 100), Math.round(((y0 + y1) / 2) * 100)]] };
    expect(tilesReached(middle, marginM, cache)).toEqual([tileKey(T)]);
  });
});
