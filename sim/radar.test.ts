import { pack } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { decodeSensorMessage } from '../edge/intake.ts';
import { pointPolylineDistM } from '../shared/geometry.ts';
import type { Primitive } from '../shared/schema.ts';
import { ringRoadOsm } from '../test/fixtures/ring-road.ts';
import { DriveProfile } from './drive.ts';
import { planFleet } from './fleet.ts';
import { loadLanelet2, osmBoundsCentre } from './lanelet2.ts';
import { DEFAULT_SIMULATED_RADAR_OPTIONS, radarOptions, RadarWorld, radarWorldFor, SimulatedRadar, type RadarPose } from './radar.ts';
import { Rng } from './rng.ts';
import { simulateDrive } from './simulate-drive.ts';

const xml = ringRoadOsm();
const ring = loadLanelet2(xml, { origin: osmBoundsCentre(xml) });
const plan = planFleet(ring, { vehicles: 2, drivesPerVehicle: 1, driveLengthM: 300, seed: 7 });

/** Map frame <- body frame of `pose`. */
const toMap = (pose: RadarPose, bx: number, by: number): [number, number] => {
  const c = Math.cos(pose.yawRad);
  const s = Math.sin(pose.yawRad);
  return [pose.xM + c * bx - s * by, pose.yM + s * bx + c * by];
};
const sign = (p: [number, number]): Primitive => ({ cls: 'traffic_sign', points: [p] });
const QUIET = { falseAlarmsPerScan: 0, trafficPerScan: 0 };

describe('SimulatedRadar: a pole', () => {
  const pose: RadarPose = { xM: 120, yM: -40, yawRad: 0.6, speedMps: 10, yawRateRps: 0 };
  const ahead: [number, number] = [30, 5]; // body frame
  const world = new RadarWorld(
    {
      primitives: [
        sign(toMap(pose, ...ahead)),
        sign(toMap(pose, -5, 0)), // behind the car
        sign(toMap(pose, 10, 20)), // 73 deg off the sensor's axis: outside the field of view
        sign(toMap(pose, 80, 0)), // 76 m from the sensor: beyond maxRangeM
        sign(toMap(pose, 3.9, 0)), // 0.1 m from the sensor: inside minRangeM
      ],
    },
    1,
  );

  it('is detected where it stands, with the range rate of a static object, and nothing else is', () => {
    const radar = new SimulatedRadar(world, QUIET);
    const rng = new Rng(3);
    const scans = 2000;
    let n = 0;
    let sx = 0;
    let sy = 0;
    let srr = 0;
    for (let k = 0; k < scans; k++) {
      const { detections, sources } = radar.scan(pose, rng);
      for (const d of detections) {
        expect(Math.hypot(d.xM - ahead[0], d.yM - ahead[1])).toBeLessThan(1.5); // only the pole ahead
        n++;
        sx += d.xM;
        sy += d.yM;
        srr += d.rangeRateMps;
      }
      expect(sources.every((s) => s === 'sign_pole')).toBe(true);
    }
    expect(n / scans).toBeGreaterThan(0.7); // detection probability 0.75
    expect(n / scans).toBeLessThan(0.8);
    expect(Math.abs(sx / n - ahead[0])).toBeLessThan(0.03);
    expect(Math.abs(sy / n - ahead[1])).toBeLessThan(0.03);
    const bearing = Math.atan2(ahead[1] - DEFAULT_SIMULATED_RADAR_OPTIONS.sensorYM, ahead[0] - DEFAULT_SIMULATED_RADAR_OPTIONS.sensorXM);
    expect(srr / n).toBeCloseTo(-10 * Math.cos(bearing), 2);
  });

  it('adds the yaw rate to the sensor velocity', () => {
    const turning = { ...pose, yawRateRps: 0.3 };
    const radar = new SimulatedRadar(world, { ...QUIET, rangeRateSigmaMps: 0, rangeSigmaM: 0, azimuthSigmaRad: 0 });
    const rng = new Rng(1);
    let detections = radar.scan(turning, rng).detections;
    while (detections.length === 0) detections = radar.scan(turning, rng).detections; // p = 0.75 per scan
    expect(detections).toHaveLength(1);
    const o = DEFAULT_SIMULATED_RADAR_OPTIONS;
    const az = Math.atan2(ahead[1] - o.sensorYM, ahead[0] - o.sensorXM);
    const expected = -((10 - 0.3 * o.sensorYM) * Math.cos(az) + 0.3 * o.sensorXM * Math.sin(az));
    expect(detections[0]!.rangeRateMps).toBeCloseTo(expected, 2);
    expect(radar.staticRangeRateMps(turning, az)).toBeCloseTo(expected, 9);
  });
});

describe('RadarWorld clutter', () => {
  it('is the same for every build of one map and world seed, and another for another seed', () => {
    const again = loadLanelet2(xml, { origin: osmBoundsCentre(xml) });
    const a = new RadarWorld(ring, 1);
    const b = new RadarWorld(again, 1);
    expect(a.clutter.length).toBeGreaterThan(20);
    expect(b.clutter).toEqual(a.clutter);
    expect(new RadarWorld(ring, 2).clutter).not.toEqual(a.clutter);
    expect(radarWorldFor(ring, 1)).toBe(radarWorldFor(ring, 1));
  });

  it('lies off the road, on the far side of the boundary', () => {
    const world = radarWorldFor(ring, 1);
    const dividers = ring.primitives.filter((p) => p.cls === 'lane_divider');
    for (const c of world.clutter) {
      for (const d of dividers) expect(pointPolylineDistM([c.xM, c.yM], d.points)).toBeGreaterThan(0.9);
      // Farther from the lanes than the boundary point it was placed from.
      const lane = Math.min(...ring.lanelets.map((l) => pointPolylineDistM([c.xM, c.yM], l.centreline)));
      const anchor = Math.min(...ring.lanelets.map((l) => pointPolylineDistM(c.anchor, l.centreline)));
      expect(lane).toBeGreaterThan(anchor);
      expect(Math.hypot(c.xM - c.anchor[0], c.anchor[1] - c.yM)).toBeGreaterThanOrEqual(1 - 1e-9);
      expect(Math.hypot(c.xM - c.anchor[0], c.anchor[1] - c.yM)).toBeLessThanOrEqual(4 + 1e-9);
    }
  });

  it('is seen by two drives at the same world positions', () => {
    const world = radarWorldFor(ring, 1);
    const radar = new SimulatedRadar(world, QUIET);
    const seen = plan.drives.slice(0, 2).map((drive) => {
      const profile = new DriveProfile(drive.route.centreline, new Rng(drive.seed));
      const rng = new Rng(drive.seed + 1);
      const hit = new Set<number>();
      for (let tS = 0; tS <= profile.durationS; tS += 0.1) {
        const pose = profile.poseAt(tS);
        const { detections, sources } = radar.scan(pose, rng);
        detections.forEach((d, i) => {
          if (sources[i] !== 'clutter') return;
          const [x, y] = toMap(pose, d.xM, d.yM);
          let best = -1;
          let bestM = Infinity;
          world.clutter.forEach((c, j) => {
            const m = Math.hypot(c.xM - x, c.yM - y);
            if (m < bestM) [best, bestM] = [j, m];
          });
          const rangeM = Math.hypot(d.xM - radar.options.sensorXM, d.yM - radar.options.sensorYM);
          expect(bestM).toBeLessThan(4 * (radar.options.rangeSigmaM + radar.options.azimuthSigmaRad * rangeM)); // 4 sigma
          hit.add(best);
        });
      }
      return hit;
    });
    expect(seen[0]!.size).toBeGreaterThan(3);
    expect([...seen[0]!].filter((j) => seen[1]!.has(j)).length).toBeGreaterThan(3);
  });
});

describe('SimulatedRadar: false alarms and traffic', () => {
  it('draws their counts per scan around the means; traffic does not look static', () => {
    const radar = new SimulatedRadar(new RadarWorld({ primitives: [] }, 1));
    const o = radar.options;
    const pose: RadarPose = { xM: 0, yM: 0, yawRad: 1, speedMps: 12, yawRateRps: 0.05 };
    const rng = new Rng(11);
    const scans = 3000;
    let alarms = 0;
    let traffic = 0;
    for (let k = 0; k < scans; k++) {
      const { detections, sources } = radar.scan(pose, rng);
      detections.forEach((d, i) => {
        const fx = d.xM - o.sensorXM;
        const fy = d.yM - o.sensorYM;
        const az = Math.atan2(fy, fx);
        expect(Math.hypot(fx, fy)).toBeLessThanOrEqual(o.maxRangeM + 0.01);
        expect(Math.abs(az)).toBeLessThanOrEqual(o.fovHalfRad + 0.001);
        if (sources[i] === 'false_alarm') alarms++;
        if (sources[i] === 'traffic') {
          traffic++;
          expect(Math.abs(d.rangeRateMps - radar.staticRangeRateMps(pose, az))).toBeGreaterThanOrEqual(1.5);
        }
      });
    }
    expect(alarms / scans).toBeGreaterThan(3.8); // Poisson mean 4
    expect(alarms / scans).toBeLessThan(4.2);
    expect(traffic / scans).toBeGreaterThan(3.6); // 2 targets x 2 detections on average
    expect(traffic / scans).toBeLessThan(4.2);
  });
});

describe('options', () => {
  it('refuses bad options, naming the field', () => {
    const world = new RadarWorld({ primitives: [] }, 1);
    expect(() => radarOptions({ hz: 0 })).toThrow(/radar\.hz/);
    expect(() => new SimulatedRadar(world, { maxRangeM: 0.2 })).toThrow(/radar\.maxRangeM/);
    expect(() => new SimulatedRadar(world, { fovHalfRad: 4 })).toThrow(/radar\.fovHalfRad/);
    expect(() => new SimulatedRadar(world, { sensorXM: Number.NaN })).toThrow(/radar\.sensorXM/);
    expect(() => new SimulatedRadar(world, { signDetectProb: 1.5 })).toThrow(/radar\.signDetectProb/);
    expect(() => new SimulatedRadar(world, { trafficRcsDbsm: [5, 1] })).toThrow(/radar\.trafficRcsDbsm/);
    expect(() => new SimulatedRadar(world, { trafficMaxDetections: 0 })).toThrow(/radar\.trafficMaxDetections/);
    expect(() => new RadarWorld({ primitives: [] }, 1, { cellM: 0 })).toThrow(/radar\.world\.cellM/);
    expect(() => radarOptions({ world: { clutterOffsetM: [-1, 2] } })).toThrow(/radar\.world\.clutterOffsetM/);
    expect(() => simulateDrive(ring, plan.drives[0]!, { radar: { enabled: true, hz: -1 } })).toThrow(RangeError);
  });
});

describe('simulateDrive with the radar', () => {
  const drive = plan.drives[0]!;

  it('emits no radar scans by default', () => {
    expect(simulateDrive(ring, drive).counts.radar).toBe(0);
  });

  it('emits scans at the requested rate, each accepted by the edge decoder', () => {
    const sim = simulateDrive(ring, drive, { radar: { enabled: true, hz: 5 } });
    const scans = sim.messages.flatMap((m) => (m.topic === 'radar' ? [m.payload] : []));
    expect(sim.counts.radar).toBe(Math.floor(sim.durationS * 5 + 1e-9) + 1);
    expect(scans).toHaveLength(sim.counts.radar);
    scans.forEach((s, k) => {
      expect(s.scanId).toBe(k);
      expect(s.sensorXM).toBe(DEFAULT_SIMULATED_RADAR_OPTIONS.sensorXM);
      if (k > 0) expect(s.tMonoNs - scans[k - 1]!.tMonoNs).toBeCloseTo(2e8, -1);
      expect(decodeSensorMessage([Buffer.from('radar'), pack(s)])).toMatchObject({ ok: true, topic: 'radar' });
    });
    expect(scans.reduce((n, s) => n + s.detections.length, 0) / scans.length).toBeGreaterThan(5);
  });
});
