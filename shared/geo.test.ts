import { describe, expect, it } from 'vitest';
import { LocalFrame, distanceM, boundsCentre, lngLatBoundsOf, lngNearDeg, lngSpanDeg } from './geo.ts';

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

describe('longitudes across the antimeridian', () => {
  it('moves a longitude by whole turns to within 180 degrees of a reference, exactly where it already is', () => {
    expect(lngNearDeg(181, 0)).toBeCloseTo(-179, 12);
    expect(lngNearDeg(-181, 0)).toBeCloseTo(179, 12);
    expect(lngNearDeg(-180, 179.99)).toBe(180);
    expect(lngNearDeg(180, 0)).toBe(180);
    expect(lngNearDeg(8.4, 0)).toBe(8.4);
    expect(lngNearDeg(8.4 + 720, 0)).toBeCloseTo(8.4, 9);
    expect(lngNearDeg(-179.999, 179.997)).toBeCloseTo(180.001, 9);
  });

  it('boxes points on one side by their least and greatest longitude', () => {
    const b = lngLatBoundsOf([{ lng: 8.41, lat: 49.0 }, { lng: 8.45, lat: 49.01 }, { lng: 8.43, lat: 48.99 }]);
    expect(b).toEqual({ west: 8.41, south: 48.99, east: 8.45, north: 49.01 });
    expect(lngSpanDeg(b!)).toBeCloseTo(0.04, 12);
    expect(boundsCentre(b!).lng).toBeCloseTo(8.43, 12);
    expect(lngLatBoundsOf([])).toBeUndefined();
  });

  it('boxes points on both sides of +-180 across it (west > east), centred on the arc', () => {
    const b = lngLatBoundsOf([{ lng: 179.998, lat: -16.8 }, { lng: -179.999, lat: -16.79 }, { lng: 179.9995, lat: -16.81 }])!;
    expect(b).toEqual({ west: 179.998, south: -16.81, east: -179.999, north: -16.79 });
    expect(lngSpanDeg(b)).toBeCloseTo(0.003, 9);
    const c = boundsCentre(b);
    expect(c.lng).toBeCloseTo(179.9995, 9);
    expect(c.lat).toBeCloseTo(-16.8, 12);
    // the centre of a box whose arc's middle lies east of 180 is written west of it
    expect(boundsCentre({ west: 179.99, south: 0, east: -179.97, north: 1 }).lng).toBeCloseTo(-179.99, 9);
  });

  it('measures across +-180 through the frame: a metre east of 180 is a metre east', () => {
    const f = new LocalFrame({ lng: 179.99999, lat: -16.8 });
    const [e, n] = f.toLocal({ lng: -179.99999, lat: -16.8 });
    expect(e).toBeCloseTo(0.00002 * (Math.PI / 180) * 6378137 * Math.cos((16.8 * Math.PI) / 180), 1);
    expect(Math.abs(n)).toBeLessThan(0.01);
    expect(f.toLngLat([e, n]).lng).toBeCloseTo(-179.99999, 9);
  });
});
