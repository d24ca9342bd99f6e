import { describe, expect, it } from 'vitest';
import { vehicleStatusProblem } from '../shared/batch.ts';
import { SOFTWARE_VERSION, vehicleStatusFrom } from './vehicle-status.ts';

describe('vehicleStatusFrom', () => {
  it('reports whole seconds, non-zero drops, and the versions', () => {
    const st = vehicleStatusFrom({ oldestUnsentAgeS: 12.6, dropsByReason: { outbox_full: 3, disk_budget_pending: 0 }, modelVersion: '1.0.0', hwProfile: 'jetson-orin', softwareVersion: SOFTWARE_VERSION });
    expect(st).toEqual({ oldestUnsentAgeS: 13, dropsByReason: { outbox_full: 3 }, modelVersion: '1.0.0', hwProfile: 'jetson-orin', softwareVersion: SOFTWARE_VERSION });
    expect(SOFTWARE_VERSION).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('leaves out what the wire would refuse instead of failing the batch', () => {
    const drops = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`sensor_r${i}`, i + 1]));
    const st = vehicleStatusFrom({ oldestUnsentAgeS: 0, dropsByReason: { ...drops, 'bad reason': 99 }, hwProfile: 'my profile' });
    expect(vehicleStatusProblem(st)).toBeUndefined();
    expect(st.hwProfile).toBeUndefined();
    expect(Object.keys(st.dropsByReason!)).toHaveLength(31); // the 32 largest, less the one with a space
    expect(st.dropsByReason!.sensor_r39).toBe(40);
  });
});
