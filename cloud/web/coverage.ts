/**
 * The fleet's drive coverage as the service can know it: where stored observations lie. The
 * uplink carries no vehicle poses, only what each drive saw (within a few tens of metres of the
 * car), so this is "observed coverage": cells of COVERAGE_ZOOM (z19, ~50 m at 49 deg N) holding
 * the first vertex of at least one stored observation, with the number of distinct drives
 * (vehicle-scoped) seen there. Roads driven past where nothing was detected do not show.
 *
 * Batches are immutable, so each is read once (`CoverageIndex.update` reads only new keys).
 */
import type { WireObservation } from '../../shared/batch.ts';
import { parseTileKey, tileBounds, tileFrame, tileKey, tileOf } from '../../shared/tiles.ts';
import { readStoredBatch } from '../merge/stored-batch.ts';
import type { ObjectStore } from '../store/index.ts';

export const COVERAGE_ZOOM = 19;

export interface CoverageGeoJson {
  type: 'FeatureCollection';
  /** What the cells mean, for the page's legend. */
  source: string;
  batches: number;
  skippedBatches: number;
  maxDrives: number;
  features: Array<{ type: 'Feature'; geometry: { type: 'Polygon'; coordinates: Array<Array<[number, number]>> }; properties: { drives: number } }>;
}

/** Cell key -> drive ids, from observations. Pure. */
export function addObservations(cells: Map<string, Set<string>>, observations: readonly WireObservation[]): void {
  for (const o of observations) {
    const first = o.pointsCm[0];
    if (!first) continue;
    const ll = tileFrame(parseTileKey(o.tile)).toLngLat([first[0] / 100, first[1] / 100]);
    const key = tileKey(tileOf(ll, COVERAGE_ZOOM));
    let s = cells.get(key);
    if (!s) cells.set(key, (s = new Set()));
    s.add(o.driveId);
  }
}

export class CoverageIndex {
  private readonly seen = new Set<string>();
  private readonly cells = new Map<string, Set<string>>();
  private skipped = 0;
  private updating: Promise<void> | undefined;

  constructor(private readonly store: ObjectStore) {}

  /** Reads the batches stored since the last update (one update at a time). */
  update(): Promise<void> {
    this.updating ??= this.readNew().finally(() => {
      this.updating = undefined;
    });
    return this.updating;
  }

  private async readNew(): Promise<void> {
    const keys = (await this.store.list('batches/')).filter((k) => k.endsWith('.fmb') && !this.seen.has(k));
    for (const key of keys) {
      const buf = await this.store.get(key);
      if (!buf) continue;
      this.seen.add(key);
      try {
        addObservations(this.cells, readStoredBatch(key, buf).observations);
      } catch {
        this.skipped++; // the merge skips (and logs) the same batches
      }
    }
  }

  geojson(): CoverageGeoJson {
    let maxDrives = 0;
    const features: CoverageGeoJson['features'] = [];
    for (const [key, drives] of this.cells) {
      const b = tileBounds(parseTileKey(key));
      maxDrives = Math.max(maxDrives, drives.size);
      const ring: Array<[number, number]> = [[b.west, b.south], [b.east, b.south], [b.east, b.north], [b.west, b.north], [b.west, b.south]];
      features.push({ type: 'Feature', geometry: { type: 'Polygon', coordinates: [ring] }, properties: { drives: drives.size } });
    }
    return {
      type: 'FeatureCollection',
      source: `observed coverage: z${COVERAGE_ZOOM} cells (~50 m) where stored observations lie, by distinct drives; the uplink carries no vehicle poses`,
      batches: this.seen.size - this.skipped,
      skippedBatches: this.skipped,
      maxDrives,
      features,
    };
  }
}
