import { describe, expect, it } from 'vitest';
import { LocalFrame, distanceM, boundsCentre, joinAntimeridianParts, lngLatBoundsOf, lngNearDeg, lngSpanDeg, splitRingAtAntimeridian, type LngLatPosition } from './geo.ts';

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

describe('rings cut on the antimeridian (RFC 7946 3.1.9)', () => {
  /** Shoelace area of a closed ring in degrees squared (longitudes as given; about 180, -16.8 against cancellation). */
  const area = (r: readonly LngLatPosition[]): number => {
    let a = 0;
    const x = (i: number): number => r[i]![0] - 180;
    const y = (i: number): number => r[i]![1] + 16.8;
    for (let i = 0; i + 1 < r.length; i++) a += x(i) * y(i + 1) - x(i + 1) * y(i);
    return a / 2;
  };
  // A crosswalk-sized quad seen from a tile west of 180 deg: its east side 3 m past it.
  const quad: LngLatPosition[] = [
    [179.99996, -16.80002],
    [180.00003, -16.80003],
    [180.00004, -16.79991],
    [179.99997, -16.7999],
    [179.99996, -16.80002],
  ];

  it('leaves a ring within [-180, 180] whole, one that touches the line too', () => {
    const inside: LngLatPosition[] = [[179.9999, 1], [180, 1], [180, 1.0001], [179.9999, 1]];
    expect(splitRingAtAntimeridian(inside)).toEqual([inside]);
  });

  it('cuts a ring past +180 into two closed parts within [-180, 180] with the same cut latitudes and the same area', () => {
    const parts = splitRingAtAntimeridian(quad);
    expect(parts).toHaveLength(2);
    for (const p of parts) {
      expect(p[0]).toEqual(p[p.length - 1]);
      for (const [lng] of p) expect(Math.abs(lng)).toBeLessThanOrEqual(180);
    }
    const [west, east] = parts as [LngLatPosition[], LngLatPosition[]];
    expect(west.every(([lng]) => lng > 0)).toBe(true);
    expect(east.every(([lng]) => lng < 0)).toBe(true);
    const cutW = west.slice(0, -1).filter(([lng]) => lng === 180).map(([, lat]) => lat).sort();
    const cutE = east.slice(0, -1).filter(([lng]) => lng === -180).map(([, lat]) => lat).sort();
    expect(cutW).toHaveLength(2);
    expect(cutE).toEqual(cutW);
    const shifted = east.map(([lng, lat]): LngLatPosition => [lng + 360, lat]);
    expect(area(west) + area(shifted)).toBeCloseTo(area(quad), 15);
    expect(Math.sign(area(west))).toBe(Math.sign(area(quad)));
  });

  it('cuts a ring past -180 the same way', () => {
    const mirrored = quad.map(([lng, lat]): LngLatPosition => [lng - 360, lat]);
    const parts = splitRingAtAntimeridian(mirrored);
    expect(parts).toHaveLength(2);
    for (const p of parts) for (const [lng] of p) expect(Math.abs(lng)).toBeLessThanOrEqual(180);
  });

  it('joins the parts into the ring that was cut, seen from any longitude near it, the cut vertices dropped', () => {
    const parts = splitRingAtAntimeridian(quad);
    for (const ref of [179.99, -179.99, 180]) {
      const ring = joinAntimeridianParts(parts, ref);
      expect(ring).toHaveLength(quad.length);
      expect(ring[0]).toEqual(ring[ring.length - 1]);
      const want = quad.slice(0, -1).map(([lng, lat]): LngLatPosition => [lngNearDeg(lng, ref), lat]);
      for (const q of want) expect(ring.some((r) => Math.abs(r[0] - q[0]) < 1e-12 && Math.abs(r[1] - q[1]) < 1e-12), `${q}`).toBe(true);
      expect(Math.abs(area(ring))).toBeCloseTo(Math.abs(area(quad)), 15);
    }
    // One part (a Polygon): its ring, longitudes near the reference.
    expect(joinAntimeridianParts([quad], -179.99)[1]![0]).toBeCloseTo(-179.99997, 9);
  });

  it('keeps a vertex of the ring that lies on the line and is a corner, and takes the largest of parts that share no edge', () => {
    // A triangle with its apex exactly on 180 deg is not cut (touching).
    const tri: LngLatPosition[] = [[179.9999, 0], [180, 0.0001], [179.9999, 0.0002], [179.9999, 0]];
    expect(joinAntimeridianParts(splitRingAtAntimeridian(tri), 180)).toHaveLength(4);
    const a: LngLatPosition[] = [[10, 0], [10.001, 0], [10.001, 0.001], [10, 0.001], [10, 0]];
    const b: LngLatPosition[] = [[11, 0], [11.001, 0], [11, 0.001], [11, 0]];
    expect(joinAntimeridianParts([b, a], 10)).toEqual(a);
  });
});
