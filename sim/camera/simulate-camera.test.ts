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
