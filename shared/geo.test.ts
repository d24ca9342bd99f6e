import { describe, expect, it } from 'vitest';
import { LocalFrame, distanceM } from './geo.ts';

const karlsruhe = { lng: 8.4244, lat: 49.0034 };

describe('LocalFrame', () => {
  it('refuses to exist without a valid origin', () => {
    expect(() => new LocalFrame({ lng: 8, lat: 95 })).toThrow(/origin.lat must be a finite latitude/);
    expect(() => new LocalFrame({ lng: Number.NaN, lat: 49 })).toThrow(/origin.lng/);
  });
  it('puts the origin at (0, 0) and north on +y, east on +x', () => {
    const f = new LocalFrame(karlsruhe);
    const [e0, n0] = f.toLocal(karlsruhe);
    expect(Math.abs(e0)).toBeLessThan(1e-6);
    expect(Math.abs(n0)).toBeLessThan(1e-6);
    const [e1, n1] = f.toLocal({ lng: karlsruhe.lng, lat: karlsruhe.lat + 0.001 });
    expect(Math.abs(e1)).toBeLessThan(1e-3);
    // one millidegree of latitude at 49 N is about 111.2 m
    expect(n1).toBeGreaterThan(111.0);
    expect(n1).toBeLessThan(111.4);
    const [e2] = f.toLocal({ lng: karlsruhe.lng + 0.001, lat: karlsruhe.lat });
    expect(e2).toBeCloseTo(111.32 * Math.cos((49.0034 * Math.PI) / 180), 0);
  });
  it('round-trips to sub-millimetre 20 km away', () => {
    const f = new LocalFrame(karlsruhe);
    for (const [e, n] of [
      [0.5, -0.25],
      [1234.5, -987.6],
      [-20_000, 15_000],
    ] as const) {
      const back = f.toLocal(f.toLngLat([e, n]));
      expect(Math.abs(back[0] - e)).toBeLessThan(1e-3);
      expect(Math.abs(back[1] - n)).toBeLessThan(1e-3);
    }
  });
  it('agrees across frames: a point has the same distance from two origins', () => {
    const a = { lng: 8.41, lat: 49.0 };
    const b = { lng: 8.43, lat: 49.01 };
    const d = distanceM(a, b);
    expect(d).toBeCloseTo(distanceM(b, a), 3);
    expect(d).toBeGreaterThan(1800);
    expect(d).toBeLessThan(1900);
  });
});
