/**
 * The wide-area incremental merge of `npm run bench:merge` (`incrementalWideArea` in
 * out/bench/merge.json): the same measurement as the Karlsruhe `incremental` figure, on a map
 * that spans many z16 tiles, so that a tenth of the drives does not reach every tile.
 *
 * The map: `generateMap`'s layouts span 0.5-1.5 km (a few tiles), so this builds one larger
 * network with the generator's own grid and builder (sim/mapgen: `gridNetwork`, `buildNetwork`,
 * `writeOsmXml`): `gridJunctions` x `gridJunctions` jittered junctions `spacingM` apart, lights or
 * stop signs, crosswalks, an avenue with two lanes per direction every fifth row. One connected
 * network: a 2 km drive covers a strip of it. The default is 18 x 18 junctions 250 m apart
 * (4.25 km square).
 *
 * The fleet: `planFleet` on that map (random start lanelet per drive, so drives spread over the
 * whole area), oracle perception. Held out: a seeded uniformly random `newDrivesShare` of all
 * drives (`Rng(deriveSeed(seed, 'held-out'))`, not chosen by place or time). The rest are stored
 * and merged as v1; the held-out drives are stored and merged incrementally (`s`); then the
 * same store is merged whole (rebuild + recomputeAll, `fullS`). `ratio` = s / fullS, medians of
 * `runs` such pairs (the machine is shared: one pair alone gave 0.51 and 0.78 in two runs).
 */
import { cpSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import { LocalDirStore, type ObjectStore } from '../../cloud/store/index.ts';
import { InProcessExecutor, runMerge, silentLog, type MergeLog } from '../../cloud/merge/index.ts';
import { readTileObject, resolvePublished, manifestKey } from '../../cloud/merge/publish.ts';
import { readStoredBatch } from '../../cloud/merge/stored-batch.ts';
import { planFleet } from '../fleet.ts';
import { simulateFleetIntoStore } from '../fleet-store.ts';
import { loadLanelet2, osmBoundsCentre, type Lanelet2Map } from '../lanelet2.ts';
import { DEFAULT_GENERATE_OPTIONS } from '../mapgen/index.ts';
import { buildNetwork } from '../mapgen/build.ts';
import { gridNetwork } from '../mapgen/layouts.ts';
import type { NetworkSpec } from '../mapgen/network.ts';
import { writeOsmXml } from '../mapgen/osm-doc.ts';
import { deriveSeed, Rng } from '../rng.ts';
import { round3, summarize } from './report.ts';

export interface WideAreaOptions {
  /** Junctions per side of the grid, 3..MAX_GRID_JUNCTIONS. */
  gridJunctions: number;
  /** Distance between neighbouring junctions, metres. */
  spacingM: number;
  vehicles: number;
  drivesPerVehicle: number;
  /** Target route length per drive, metres. */
  driveLengthM: number;
  /** Share of the drives held out and merged incrementally. */
  newDrivesShare: number;
  seed: number;
  /** Incremental + full merge pairs timed (each from the same stored state). */
  runs: number;
}

/**
 * The largest grid the bench builds (40 x 40 junctions 250 m apart: about 10 km square). 30 x 30
 * was built and loaded (1,115 km of lanes); sim/mapgen's writer overflowed the call stack from
 * 20 x 20 until 2026-12-02 (`lines.push(...nodeLines)`).
 */
export const MAX_GRID_JUNCTIONS = 40;

export const DEFAULT_WIDE_AREA_OPTIONS: WideAreaOptions = {
  gridJunctions: 18,
  spacingM: 250, // m
  vehicles: 40,
  drivesPerVehicle: 3,
  driveLengthM: 2000, // m
  newDrivesShare: 0.1,
  seed: 1,
  runs: 3,
};

/** One timed runMerge: `full` = rebuild + recomputeAll, else the default incremental merge. */
export type TimedMerge = (store: ObjectStore, full: boolean, log: MergeLog) => Promise<{ s: number; cpuS: number }>;

/**
 * Build the map, store the fleet without the held-out drives, merge (v1, untimed), store the
 * held-out drives and keep a copy of the store. Then `runs` times, from that copy: time the
 * incremental merge (v2), then a full merge (v3) of the same store. `s` and `fullS` are the
 * medians, `ratio` = s / fullS; every run's pair is in `samples`. Tile counts come from the
 * merge's own log events (`merge_planned`, `merge_published`), the same in every run.
 * Returns those figures (`report`), the map and the directory of the store of every drive
 * (`storeDir`, inside `workDir`: the caller removes it).
 */
export async function measureWideAreaIncremental(o: WideAreaOptions, workDir: string, timedMerge: TimedMerge, say: (m: string) => void) {
  if (!Number.isInteger(o.runs) || o.runs < 1) throw new RangeError(`runs must be an integer >= 1, got ${o.runs}`);
  const wide = wideGridMap(o);
  say(`wide area: ${wide.name}, ${wide.laneKm.toFixed(0)} km of lanes`);
  const plan = planFleet(wide.map, { vehicles: o.vehicles, drivesPerVehicle: o.drivesPerVehicle, driveLengthM: o.driveLengthM, seed: o.seed });
  const isNew = heldOut(plan.drives.length, o.newDrivesShare, o.seed);
  const oldDrives = plan.drives.filter((_, i) => !isNew.has(i));
  const newDrives = plan.drives.filter((_, i) => isNew.has(i));
  const seqOf = new Map<string, number>();
  const ready = path.join(workDir, 'wide-ready');
  const first = await simulateFleetIntoStore(wide.map, oldDrives, new LocalDirStore(ready), { seqOf });
  say(`wide area fleet: ${oldDrives.length} drives, ${first.observations} observations`);
  await timedMerge(new LocalDirStore(ready), true, silentLog);
  const second = await simulateFleetIntoStore(wide.map, newDrives, new LocalDirStore(ready), { seqOf });
  say(`wide area fleet: + ${newDrives.length} held-out drives, ${second.observations} observations`);

  const planned: Record<string, unknown> = {};
  const published: Record<string, unknown> = {};
  const log: MergeLog = {
    info: (event, fields) => Object.assign(event === 'merge_planned' ? planned : event === 'merge_published' ? published : {}, fields),
    warn: () => undefined,
  };
  const samples: Array<{ s: number; fullS: number; cpuS: number; fullCpuS: number }> = [];
  const runDir = path.join(workDir, 'wide-run');
  for (let r = 0; r < o.runs; r++) {
    rmSync(runDir, { recursive: true, force: true });
    cpSync(ready, runDir, { recursive: true });
    const inc = await timedMerge(new LocalDirStore(runDir), false, log);
    const full = await timedMerge(new LocalDirStore(runDir), true, silentLog);
    samples.push({ s: round3(inc.s), fullS: round3(full.s), cpuS: round3(inc.cpuS), fullCpuS: round3(full.cpuS) });
    say(`wide area run ${r + 1}: incremental ${inc.s.toFixed(2)} s (${inc.cpuS.toFixed(2)} CPU s, ${String(planned.tilesRecomputed)} of ${String(published.tiles)} tiles), full ${full.s.toFixed(2)} s (${full.cpuS.toFixed(2)} CPU s)`);
  }
  // v2 merged incrementally and v2 rebuilt from every batch (its plan recomputes every tile with
  // changed state and all their neighbours) must publish the same features. (A full merge,
  // recomputeAll, differs on purpose: a tile recomputed after v1 gains `recentDrives`.)
  const rebuiltDir = path.join(workDir, 'wide-rebuilt');
  for (const [dir, rebuild] of [[runDir, false], [rebuiltDir, true]] as const) {
    rmSync(dir, { recursive: true, force: true });
    cpSync(ready, dir, { recursive: true });
    const store = new LocalDirStore(dir);
    const executor = new InProcessExecutor({ store, concurrency: 1 });
    try {
      await runMerge(store, { executor, rebuild, log: silentLog });
    } finally {
      await executor.close();
    }
  }
  const tilesDiffering = await differingTiles(new LocalDirStore(runDir), new LocalDirStore(rebuiltDir));
  const perTile = await drivesPerTile(new LocalDirStore(ready));
  const med = (k: keyof (typeof samples)[number]): number => summarize(samples.map((x) => x[k])).median;
  const report = {
    map: wide.name,
    mapDescription: wide.description,
    laneKm: round3(wide.laneKm),
    tiles: Number(published.tiles),
    tilesRecomputed: Number(planned.tilesRecomputed),
    tilesWithNewObservations: Number(planned.statesChanged),
    drivesPerTile: { median: summarize(perTile).median, mean: round3(perTile.reduce((a, b) => a + b, 0) / perTile.length), max: summarize(perTile).max },
    drives: plan.drives.length,
    kmDriven: round3(first.km + second.km),
    observations: first.observations + second.observations,
    newDrives: newDrives.length,
    newDrivesShare: o.newDrivesShare,
    heldOut: `a seeded uniformly random ${o.newDrivesShare} of all drives (Rng(deriveSeed(${o.seed}, 'held-out')), not by place or time)`,
    runs: o.runs,
    s: round3(med('s')),
    fullS: round3(med('fullS')),
    ratio: round3(med('s') / med('fullS')),
    cpuS: round3(med('cpuS')),
    fullCpuS: round3(med('fullCpuS')),
    cpuRatio: round3(med('cpuS') / med('fullCpuS')),
    // Tiles whose features differ between v2 merged incrementally and v2 rebuilt (must be none).
    tilesDifferingFromRebuild: tilesDiffering,
    samples,
  };
  // The map and the store of every drive (v1 merged) stay for the caller's other figures.
  return { report, map: wide.map, storeDir: ready };
}

/** The wide grid city as a loaded map; `name` says what it is built from. */
export function wideGridMap(o: Pick<WideAreaOptions, 'gridJunctions' | 'spacingM' | 'seed'>): { map: Lanelet2Map; name: string; description: string; laneKm: number } {
  if (!Number.isInteger(o.gridJunctions) || o.gridJunctions < 3 || o.gridJunctions > MAX_GRID_JUNCTIONS) {
    throw new RangeError(`gridJunctions must be an integer in [3, ${MAX_GRID_JUNCTIONS}] (the bench's size limit), got ${o.gridJunctions}`);
  }
  if (!(o.spacingM >= 100)) throw new RangeError(`spacingM must be >= 100 m, got ${o.spacingM}`);
  const rng = new Rng(`bench-wide-grid:${o.seed}`);
  const { doc, stats } = buildNetwork(wideGridNetwork(o.gridJunctions, o.spacingM, rng.fork('layout')), rng.fork('build'));
  const name = `wide-grid-${o.gridJunctions}x${o.gridJunctions}-${o.spacingM}m-s${o.seed}`;
  const origin = { lat: DEFAULT_GENERATE_OPTIONS.originLat, lng: DEFAULT_GENERATE_OPTIONS.originLng };
  const osmXml = writeOsmXml(doc, { origin, trafficSide: 'right', decimals: DEFAULT_GENERATE_OPTIONS.decimals, generator: `fleetmap bench ${name}` });
  const sideKm = ((o.gridJunctions - 1) * o.spacingM) / 1000;
  const description = `grid city ${sideKm.toFixed(2)} km x ${sideKm.toFixed(2)} km (sim/mapgen buildNetwork): ${stats.roads} roads, ${stats.junctions} junctions, ${stats.crosswalks} crosswalks around ${origin.lat}, ${origin.lng}`;
  return { map: loadLanelet2(osmXml, { origin: osmBoundsCentre(osmXml) }), name, description, laneKm: (stats.roadLaneLengthM + stats.junctionLaneLengthM) / 1000 };
}

/**
 * n x n junctions `spacingM` apart: sim/mapgen's grid (layouts.ts `gridNetwork`: jittered
 * junctions, rounded corners, a few bends), lights at most inner junctions, an avenue with two
 * lanes per direction every fifth row.
 */
function wideGridNetwork(n: number, spacingM: number, rng: Rng): NetworkSpec {
  return gridNetwork(rng, {
    nx: n,
    ny: n,
    spacingXM: spacingM,
    spacingYM: spacingM,
    jitterM: spacingM * 0.06,
    cornerRadiusM: [30, 80],
    bendChance: 0.2,
    junction: (_gx, _gy, degree) => ({ control: degree === 4 && rng.chance(0.6) ? 'lights' : 'stop', crosswalks: rng.chance(0.4) }),
    road: (e) => {
      const avenue = e.horizontal && !e.perimeter && e.gy % 5 === 2;
      return {
        lanesForward: avenue ? 2 : 1,
        lanesBackward: avenue ? 2 : 1,
        laneWidthM: avenue ? 3.25 : rng.uniform(3, 3.5),
        centre: avenue ? 'solid_solid' : rng.choice(['dashed', 'dashed', 'solid'] as const),
        speedLimitSign: rng.chance(0.3),
      };
    },
  });
}

/** Tiles whose features differ between the latest versions of two stores. */
async function differingTiles(x: ObjectStore, y: ObjectStore): Promise<string[]> {
  const features = async (s: ObjectStore): Promise<Map<string, string>> => {
    const v = await resolvePublished(s);
    const out = new Map<string, string>();
    for (const t of v.manifest.tiles) out.set(t.tile, JSON.stringify((await readTileObject(s, t.key, manifestKey(v.version))).features));
    return out;
  };
  const [a, b] = [await features(x), await features(y)];
  return [...new Set([...a.keys(), ...b.keys()])].filter((t) => a.get(t) !== b.get(t)).sort();
}

/** Indices of round(share x n) drives drawn uniformly at random (seeded partial Fisher-Yates). */
function heldOut(n: number, share: number, seed: number): Set<number> {
  const rng = new Rng(deriveSeed(seed, 'held-out'));
  const idx = Array.from({ length: n }, (_, i) => i);
  const k = Math.round(n * share);
  for (let i = 0; i < k; i++) {
    const j = i + rng.int(n - i);
    [idx[i], idx[j]] = [idx[j]!, idx[i]!];
  }
  return new Set(idx.slice(0, k));
}

/** Distinct drives with observations keyed to each tile, over every tile that has any. */
async function drivesPerTile(s: ObjectStore): Promise<number[]> {
  const byTile = new Map<string, Set<string>>();
  for (const key of (await s.list('batches/')).filter((k) => k.endsWith('.fmb'))) {
    for (const ob of readStoredBatch(key, (await s.get(key))!).observations) {
      let drives = byTile.get(ob.tile);
      if (!drives) byTile.set(ob.tile, (drives = new Set()));
      drives.add(ob.driveId);
    }
  }
  return [...byTile.values()].map((d) => d.size);
}

