import { afterAll, describe, expect, it } from 'vitest';
import { KARLSRUHE_OSM_PATH, loadLanelet2File } from './bundled-maps.ts';
import { DrivePool } from './drive-pool.ts';
import { planFleet } from './fleet.ts';
import { simulateDrive } from './simulate-drive.ts';

describe('DrivePool', () => {
  const map = loadLanelet2File(KARLSRUHE_OSM_PATH);
  const pool = new DrivePool(KARLSRUHE_OSM_PATH, 1);
  afterAll(async () => pool.close());
  const drive = planFleet(map, { vehicles: 1, drivesPerVehicle: 1, driveLengthM: 600, seed: 5 }).drives[0]!;

  it('simulates a drive in a worker exactly as on the main thread', async () => {
    const options = { radar: { enabled: true } };
    const there = await pool.simulate({ key: 'base' }, drive, options);
    const here = simulateDrive(map, drive, options);
    expect(there.counts).toEqual(here.counts);
    expect(there.messages).toEqual(here.messages);
    expect([...there.primitivesInView]).toEqual([...here.primitivesInView]);
  });

  it('drives a changed world: what was removed is no longer seen', async () => {
    const seen = [...(await pool.simulate({ key: 'base' }, drive, {})).primitivesInView.keys()];
    expect(seen.length).toBeGreaterThan(0);
    const gone = new Set(seen.slice(0, 3));
    const changed = await pool.simulate({ key: 'fewer', primitives: map.primitives.filter((p) => !gone.has(p.id)) }, drive, {});
    for (const id of gone) expect(changed.primitivesInView.has(id)).toBe(false);
    // The base world is still there for later drives.
    expect((await pool.simulate({ key: 'base' }, drive, {})).primitivesInView.has(seen[0]!)).toBe(true);
  });

  it('reports a failing drive as an error, and keeps serving', async () => {
    await expect(pool.simulate({ key: 'base' }, drive, { vehicleHz: -1 })).rejects.toThrow(/vehicleHz/);
    // A world ref without primitives that no worker knows (a caller's bug; the type allows only 'base').
    await expect(pool.simulate({ key: 'nowhere' } as unknown as { key: 'base' }, drive, {})).rejects.toThrow(/unknown world nowhere/);
    expect((await pool.simulate({ key: 'base' }, drive, {})).counts.drive).toBe(2);
  });
});
