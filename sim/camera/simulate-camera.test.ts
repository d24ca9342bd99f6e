import { describe, expect, it } from 'vitest';
import { decodeCameraFrame, encodeCameraFrame } from '../../shared/camera-frame.ts';
import { ringRoadOsm } from '../../test/fixtures/ring-road.ts';
import { planFleet } from '../fleet.ts';
import { loadLanelet2, osmBoundsCentre } from '../lanelet2.ts';
import { simulateDrive } from '../simulate-drive.ts';

const xml = ringRoadOsm();
const ring = loadLanelet2(xml, { origin: osmBoundsCentre(xml) });
const drive = planFleet(ring, { vehicles: 1, drivesPerVehicle: 1, driveLengthM: 150, seed: 4 }).drives[0]!;

describe('simulateDrive with the camera', () => {
  it('keeps oracle perception frames by default and adds pitchRateRps to vehicle messages', () => {
    const sim = simulateDrive(ring, drive);
    expect(sim.counts.perception).toBeGreaterThan(0);
    expect(sim.counts.camera).toBe(0);
    const veh = sim.messages.filter((m) => m.topic === 'vehicle');
    expect(veh.every((m) => m.topic === 'vehicle' && typeof m.payload.pitchRateRps === 'number')).toBe(true);
    expect(veh.some((m) => m.topic === 'vehicle' && Math.abs(m.payload.pitchRateRps!) > 1e-4)).toBe(true);
    expect(sim.calibration.name).toBe(`${drive.vehicleId} front camera`);
  });

  it("gives the pitch gyro a bias per drive and noise per message, as the yaw gyro's, leaving every other signal as it was", () => {
    const rates = (vehicleSignals: Record<string, number>): number[] =>
      simulateDrive(ring, drive, { vehicleSignals }).messages.flatMap((m) => (m.topic === 'vehicle' ? [m.payload.pitchRateRps!] : []));
    const exact = rates({ pitchRateBiasSigmaRps: 0, pitchRateNoiseRps: 0 });
    const biased = rates({ pitchRateBiasSigmaRps: 0.01, pitchRateNoiseRps: 0 });
    const noisy = rates({ pitchRateBiasSigmaRps: 0, pitchRateNoiseRps: 0.003 });
    const bias = biased.map((r, i) => r - exact[i]!);
    expect(Math.abs(bias[0]!)).toBeGreaterThan(1e-5);
    for (const b of bias) expect(b).toBeCloseTo(bias[0]!, 5); // one bias for the whole drive
    const noise = noisy.map((r, i) => r - exact[i]!);
    const rms = Math.sqrt(noise.reduce((s, x) => s + x * x, 0) / noise.length);
    expect(rms).toBeGreaterThan(0.002);
    expect(rms).toBeLessThan(0.004);
    // The defaults are those of the yaw gyro (one MEMS IMU), and the other signals do not move.
    const def = simulateDrive(ring, drive).messages.filter((m) => m.topic === 'vehicle');
    const off = simulateDrive(ring, drive, { vehicleSignals: { pitchRateBiasSigmaRps: 0, pitchRateNoiseRps: 0 } }).messages.filter((m) => m.topic === 'vehicle');
    expect(def.map((m) => (m.topic === 'vehicle' ? [m.payload.speedMps, m.payload.yawRateRps] : []))).toEqual(off.map((m) => (m.topic === 'vehicle' ? [m.payload.speedMps, m.payload.yawRateRps] : [])));
    expect(def.some((m, i) => m.topic === 'vehicle' && off[i]!.topic === 'vehicle' && m.payload.pitchRateRps !== off[i]!.payload.pitchRateRps)).toBe(true);
  });

  it('emits camera frames instead of perception frames when enabled', () => {
    const sim = simulateDrive(ring, drive, { camera: { enabled: true, hz: 2 } });
    expect(sim.counts.perception).toBe(0);
    expect(sim.counts.camera).toBe(Math.floor(sim.durationS * 2 + 1e-9) + 1);
    const cam = sim.messages.find((m) => m.topic === 'camera');
    if (cam?.topic !== 'camera') throw new Error('no camera message');
    const back = decodeCameraFrame(encodeCameraFrame(cam.payload));
    if (typeof back === 'string') throw new Error(back);
    expect(back).toMatchObject({ widthPx: 256, heightPx: 128, encoding: 'rgb8' });
    expect(back.exposureUs).toBeGreaterThan(0);
  });
});
