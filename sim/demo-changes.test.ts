import { describe, expect, it } from 'vitest';
import { pointInRing, pointPolylineDistM, resampleSpacing } from '../shared/geometry.ts';
import type { XY } from '../shared/schema.ts';
import { DEFAULT_DIFF_OPTIONS } from '../cloud/merge/diff.ts';
import { DEFAULT_MERGE_OPTIONS } from '../cloud/merge/options.ts';
import { CHANGE_MIN_DRIVES, planChangePhase } from './demo-changes.ts';
import { planFleet } from './fleet.ts';
import { loadLanelet2, osmBoundsCentre } from './lanelet2.ts';
import { generateMap } from './mapgen/index.ts';

describe('the demo change phase', () => {
  it('needs as many drives per pass as the merge needs to confirm a change', () => {
    expect(CHANGE_MIN_DRIVES).toBeGreaterThanOrEqual(DEFAULT_DIFF_OPTIONS.confirmDrives);
    expect(CHANGE_MIN_DRIVES).toBeGreaterThanOrEqual(DEFAULT_MERGE_OPTIONS.staleAfterMissedDrives);
  });

  it('adds paint only on a lanelet that enough drives of each pass run', () => {
    const { osmXml } = generateMap({ seed: 5, layout: 'grid' });
    const map = loadLanelet2(osmXml, { origin: osmBoundsCentre(osmXml) });
    const first = planFleet(map, { vehicles: 6, drivesPerVehicle: 2, driveLengthM: 1500, seed: 3 });
    const { world, plan } = planChangePhase(map, first, { vehicles: 6, drivesPerVehicle: 2, driveLengthM: 1500, seed: 3, laterDays: 30, minDrives: CHANGE_MIN_DRIVES });
    // Paint placed across a lanelet (a stop line, a crosswalk): the lanelet under its centre.
    const added = world.changes.filter((c) => c.kind === 'added' && c.afterM && (c.cls === 'stop_line' || c.cls === 'crosswalk'));
    expect(added.length).toBeGreaterThan(0);
    const runs = (drives: ReadonlyArray<{ route: { laneletIds: readonly string[] } }>, id: string): number => drives.filter((d) => d.route.laneletIds.includes(id)).length;
    for (const c of added) {
      const pts = c.afterM as XY[];
      const mid: XY = [pts.reduce((a, q) => a + q[0], 0) / pts.length, pts.reduce((a, q) => a + q[1], 0) / pts.length];
      // A stop line: the lanelet under its middle. A crosswalk spans the carriageway: a lanelet running through it.
      const under = map.lanelets.filter((l) => l.vehicle && (c.cls === 'crosswalk' ? resampleSpacing(l.centreline, 0.5).some((q) => pointInRing(q, pts)) : pointPolylineDistM(mid, l.centreline) <= 1));
      const best = Math.max(0, ...under.map((l) => Math.min(runs(first.drives, l.id), runs(plan.drives, l.id))));
      expect(best, `${c.scenario} ${c.id}`).toBeGreaterThanOrEqual(CHANGE_MIN_DRIVES);
    }
  });
});
