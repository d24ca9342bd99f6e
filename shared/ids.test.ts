import { describe, expect, it } from 'vitest';
import { isWireDriveId, isWireSignCode, vehicleIdProblem, vehicleScopedDriveId } from './ids.ts';

describe('ids', () => {
  it('refuses vehicle ids that collide with object prototypes, paths or store temp names', () => {
    for (const id of ['__proto__', 'constructor', 'prototype', 'hasOwnProperty', 'toString', 'valueOf', 'isPrototypeOf', '__defineGetter__', '.', '..', 'veh.tmp-1', 'a/b', '', 'x'.repeat(65), 'veh 1']) {
      expect(vehicleIdProblem(id), id).toBeDefined();
    }
    for (const id of ['veh-1', 'VEH_001', 'a.b', 'x'.repeat(64)]) expect(vehicleIdProblem(id), id).toBeUndefined();
  });
  it('bounds drive ids and sign codes to short printable ASCII', () => {
    expect(isWireDriveId('veh-1-d7')).toBe(true);
    expect(isWireDriveId('')).toBe(false);
    expect(isWireDriveId('a b')).toBe(false);
    expect(isWireDriveId('d'.repeat(65))).toBe(false);
    expect(isWireSignCode('')).toBe(true);
    expect(isWireSignCode('de 205')).toBe(true);
    expect(isWireSignCode('x'.repeat(33))).toBe(false);
    expect(isWireSignCode('\u00e9')).toBe(false);
    expect(vehicleScopedDriveId('veh-1', 'd1')).toBe('veh-1/d1');
  });
});
