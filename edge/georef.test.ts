import { describe, expect, it } from 'vitest';
import { LocalFrame, tileCentre, tileFrame, tileKey, type GnssFix } from '../shared/index.ts';
import { Georeferencer, georeferenceObservation } from './georef.ts';
import { ObservationCompactor } from './compact.ts';

// A z16 tile in Karlsruhe; putting the vehicle at its centre makes the expected tile-local
// coordinates independent of any projection: body (x, y) at heading h -> east/north offsets.
const TILE = { z: 16, x: 34297, y: 22504 };
const CENTRE = tileCentre(TILE);

function fixAt(tMonoNs: number, lngLat = CENTRE, courseRad = 0): GnssFix {
  return { tMonoNs, tUnixMs: 1_700_000_000_000 + tMonoNs / 1e6, fixType: '3d', lat: lngLat.lat, lng: lngLat.lng, horizontalAccuracyM: 0.5, courseRad };
}

describe('georeferenceObservation', () => {
  const frame = new LocalFrame(CENTRE);
  it('puts a body point at heading east 10 m ahead and 2 m left -> (+1000, +200) cm in the tile', () => {
    const w = georeferenceObservation({ cls: 'traffic_sign', signCode: 'de205', score: 0.9, pointsBody: [[10, 2]] }, { tMonoNs: 0, eastM: 0, northM: 0, headingRad: 0, sigmaM: 0.42, headingSigmaRad: 0 }, frame, 'd1', 123);
    expect(w).toEqual({ tile: tileKey(TILE), driveId: 'd1', tUnixMs: 123, cls: 'traffic_sign', signCode: 'de205', score: 0.9, poseSigmaCm: 42, pointsCm: [[1000, 200]] });
  });
  it('rotates with the heading: facing north, 10 m ahead and 2 m left is 2 m west, 10 m north', () => {
    const w = georeferenceObservation({ cls: 'lane_divider', style: 'dashed', score: 1, pointsBody: [[10, 2], [20, 2]] }, { tMonoNs: 0, eastM: 0, northM: 0, headingRad: Math.PI / 2, sigmaM: 0, headingSigmaRad: 0 }, frame, 'd1', 0);
    expect(w.pointsCm).toEqual([[-200, 1000], [-200, 2000]]);
    expect(w.style).toBe('dashed');
    expect(w.signCode).toBeUndefined();
  });
  it('uses the tile of the first vertex, and that tile frame for every vertex', () => {
    // 150 m east of the centre, heading east: the polyline crosses into the next tile (~400 m wide).
    const w = georeferenceObservation({ cls: 'road_boundary', kind: 'curb', score: 1, pointsBody: [[150, 0], [250, 0]] }, { tMonoNs: 0, eastM: 0, northM: 0, headingRad: 0, sigmaM: 0, headingSigmaRad: 0 }, frame, 'd', 0);
    expect(w.tile).toBe(tileKey(TILE));
    expect(w.pointsCm[1]![0]).toBeGreaterThan(20_000); // beyond the tile edge, still in this tile's frame
    const next = georeferenceObservation({ cls: 'road_boundary', kind: 'curb', score: 1, pointsBody: [[250, 0], [260, 0]] }, { tMonoNs: 0, eastM: 0, northM: 0, headingRad: 0, sigmaM: 0, headingSigmaRad: 0 }, frame, 'd', 0);
    expect(next.tile).toBe(tileKey({ ...TILE, x: TILE.x + 1 }));
    const back = tileFrame({ ...TILE, x: TILE.x + 1 }).toLngLat([next.pointsCm[0]![0] / 100, next.pointsCm[0]![1] / 100]);
    const [e, n] = frame.toLocal(back);
    expect(e).toBeCloseTo(250, 1);
    expect(n).toBeCloseTo(0, 1);
  });
});

describe('Georeferencer', () => {
  it('drops frames before any pose, then georeferences with the drive id and GNSS time', () => {
    const g = new Georeferencer('veh-1');
    const frame = { tMonoNs: 1e9, frameId: 1, observations: [{ cls: 'traffic_light' as const, score: 0.5, pointsBody: [[5, 0]] as Array<[number, number]> }] };
    g.handle({ topic: 'drive', payload: { tMonoNs: 0, event: 'start', driveId: 'veh-1-7' } });
    expect(g.handle({ topic: 'perception', payload: frame })).toMatchObject({ observations: [], dropped: 'before_pose' });
    expect(g.counters.framesBeforePose).toBe(1);
    // Moving at the first fix: its course over ground gives the heading (east).
    g.handle({ topic: 'vehicle', payload: { tMonoNs: 1e9, speedMps: 3, yawRateRps: 0 } });
    g.handle({ topic: 'gnss', payload: fixAt(1e9) });
    g.handle({ topic: 'vehicle', payload: { tMonoNs: 1.1e9, speedMps: 0, yawRateRps: 0 } });
    const r = g.handle({ topic: 'perception', payload: { ...frame, tMonoNs: 1.05e9 } });
    expect(r.observations).toHaveLength(1);
    // 5 m ahead of where the car was 0.05 s after the fix at 3 m/s.
    expect(r.observations[0]).toMatchObject({ driveId: 'veh-1-7', tUnixMs: 1_700_000_001_050, tile: tileKey(TILE), pointsCm: [[515, 0]], poseSigmaCm: 50 });
    expect(g.handle({ topic: 'drive', payload: { tMonoNs: 2e9, event: 'end', driveId: 'veh-1-7' } }).driveEnded).toBe('veh-1-7');
  });
  it('drops frames while the heading is unknown: a drive that starts standing, until its first course', () => {
    const g = new Georeferencer('veh-1');
    const frame = { frameId: 1, observations: [{ cls: 'lane_divider' as const, score: 0.9, pointsBody: [[5, 0], [15, 0]] as Array<[number, number]> }] };
    g.handle({ topic: 'vehicle', payload: { tMonoNs: 0, speedMps: 0, yawRateRps: 0 } });
    g.handle({ topic: 'gnss', payload: fixAt(0, CENTRE, Math.PI) }); // standing: the course is noise
    g.handle({ topic: 'vehicle', payload: { tMonoNs: 0.5e9, speedMps: 0, yawRateRps: 0 } });
    expect(g.handle({ topic: 'perception', payload: { ...frame, tMonoNs: 0.4e9 } })).toMatchObject({ observations: [], dropped: 'heading_unknown' });
    expect(g.counters.framesHeadingUnknown).toBe(1);
    // It drives off westwards; the first fix while moving gives the heading.
    g.handle({ topic: 'vehicle', payload: { tMonoNs: 1e9, speedMps: 5, yawRateRps: 0 } });
    g.handle({ topic: 'gnss', payload: fixAt(1e9, CENTRE, Math.PI) });
    g.handle({ topic: 'vehicle', payload: { tMonoNs: 1.1e9, speedMps: 5, yawRateRps: 0 } });
    const r = g.handle({ topic: 'perception', payload: { ...frame, tMonoNs: 1.1e9 } });
    expect(r.observations).toHaveLength(1);
    // Ahead of a car facing west is west of it: never east, as an unknown heading (0) would put it.
    for (const [xCm] of r.observations[0]!.pointsCm) expect(xCm).toBeLessThan(-400);
  });
  it('refuses frames far outside the pose history', () => {
    const g = new Georeferencer('veh-1');
    g.handle({ topic: 'gnss', payload: fixAt(10e9) });
    const f = { frameId: 1, observations: [] };
    expect(g.handle({ topic: 'perception', payload: { ...f, tMonoNs: 5e9 } }).dropped).toBe('pose_too_old');
    expect(g.handle({ topic: 'perception', payload: { ...f, tMonoNs: 20e9 } }).dropped).toBe('pose_too_new');
  });
});

describe('Georeferencer with compaction', () => {
  it('uploads one keyframe per spacing while driving, cropped to the new stretch of road', () => {
    const g = new Georeferencer('veh-1', undefined, undefined, new ObservationCompactor({ keyframeSpacingM: 12, windowStartM: 2, maxWindowM: 30 }));
    g.handle({ topic: 'drive', payload: { tMonoNs: 0, event: 'start', driveId: 'veh-1-1' } });
    const frame = (LocalFrameAt: LocalFrame, eastM: number) => LocalFrameAt.toLngLat([eastM, 0]);
    const f0 = new LocalFrame(CENTRE);
    const divider = { cls: 'lane_divider' as const, style: 'solid' as const, score: 0.9, pointsBody: [[-10, 1.75], [35, 1.75]] as Array<[number, number]> };
    let uploaded = 0;
    let frames = 0;
    // 10 m/s east for 6 s: GNSS and signals at 10 Hz, perception at 2 Hz
    for (let k = 0; k <= 60; k++) {
      const t = k * 1e8;
      g.handle({ topic: 'vehicle', payload: { tMonoNs: t, speedMps: 10, yawRateRps: 0 } });
      g.handle({ topic: 'gnss', payload: fixAt(t, frame(f0, k), 0) });
      if (k % 5 === 0 && k > 0) {
        frames++;
        const r = g.handle({ topic: 'perception', payload: { tMonoNs: t, frameId: k, observations: [divider] } });
        uploaded += r.observations.length;
        for (const o of r.observations) expect(o.pointsCm.length).toBe(2);
      }
    }
    expect(frames).toBe(12);
    expect(g.counters.framesNotKeyframes).toBeGreaterThanOrEqual(6);
    expect(uploaded).toBe(frames - g.counters.framesNotKeyframes);
  });
});
