/**
 * `fleetmap eval --store DIR --map FILE [--coverage FILE]`: score a published map version against
 * a Lanelet2 map. Without --coverage it scores against the WHOLE map (recall counts places no
 * vehicle drove); with the coverage file a demo wrote (sim/coverage-file.ts) it scores against
 * what the fleet saw, with the demo's context (drives, km driven, bytes uploaded, both floors),
 * through the same call as the demo (on-coverage.ts): the figures are the demo's.
 */
import { bboxOf } from '../../shared/geometry.ts';
import type { XY } from '../../shared/schema.ts';
import { existsSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { parseCommand, usageLine } from '../../shared/cli-args.ts';
import { openStoreArg, S3_CLI_HELP, S3_CLI_OPTIONS, type ObjectStore } from '../../cloud/store/index.ts';
import { KARLSRUHE_OSM_PATH, loadLanelet2File, parseMapOrigin } from '../bundled-maps.ts';
import { readCoverageFile } from '../coverage-file.ts';
import { mapSeedOf } from '../fleet.ts';
import { loadPublishedMap } from '../published-tiles.ts';
import { evaluateMap } from './evaluate.ts';
import { evaluateOnCoverage, uploadedBatchBytes } from './on-coverage.ts';
import { formatReportTable } from './table.ts';

const HELP = `usage: fleetmap eval --store LOC [--map FILE [--map-origin LAT,LON]] [--coverage FILE] [--version N] [--out FILE]

  --store LOC     object store holding tiles/ (as written by fleetmap cloud merge): a directory
                  or s3://bucket[/prefix]
  --map FILE      Lanelet2 OSM ground truth (default: the bundled Karlsruhe map)
  --map-origin LAT,LON
                  WGS84 origin of the map's local_x/local_y frame, for a map whose nodes
                  have no lat/lon (as given to fleetmap demo); no default
  --coverage FILE score only what the fleet saw, as the demo did: the coverage.json a demo
                  wrote beside its report (must have been made on the same --map)
  --version N     map version to score (default: the one the coverage file was scored on,
                  else tiles/latest.json)
  --out FILE      also write the report as JSON
${S3_CLI_HELP}
  -h, --help`;

export default async function evalCommand(argv: string[]): Promise<number> {
  const parsed = parseCommand('fleetmap eval', HELP, {
    args: argv,
    strict: true,
    options: { store: { type: 'string' }, ...S3_CLI_OPTIONS, map: { type: 'string' }, 'map-origin': { type: 'string' }, coverage: { type: 'string' }, version: { type: 'string' }, out: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
  if (typeof parsed === 'number') return parsed;
  const values = parsed.values;
  if (!values.store) {
    return usageError('--store DIR is required');
  }
  const version = values.version === undefined ? undefined : Number(values.version);
  if (version !== undefined && !(Number.isInteger(version) && version >= 1)) {
    return usageError(`--version must be a positive integer, got ${JSON.stringify(values.version)}`);
  }
  if (values.map !== undefined && !existsSync(values.map)) return usageError(`--map ${values.map}: no such file`);
  if (values.coverage !== undefined && !existsSync(values.coverage)) return usageError(`--coverage ${values.coverage}: no such file`);
  let mapOrigin;
  try {
    mapOrigin = values['map-origin'] === undefined ? undefined : parseMapOrigin('--map-origin', values['map-origin']);
  } catch (e) {
    return usageError(e);
  }
  const mapPath = values.map ?? KARLSRUHE_OSM_PATH;
  const map = loadLanelet2File(mapPath, mapOrigin ? { localOrigin: mapOrigin } : {});
  const coverage = values.coverage === undefined ? undefined : readCoverageFile(values.coverage);
  if (coverage !== undefined && coverage.mapSeed !== mapSeedOf(map)) {
    return usageError(`--coverage ${values.coverage} was made on map ${coverage.map} (map seed ${coverage.mapSeed}), not on ${path.basename(mapPath)} (map seed ${mapSeedOf(map)}): pass that map with --map`);
  }
  let store: ObjectStore;
  try {
    store = openStoreArg(values.store, values, { mustExist: true });
  } catch (e) {
    return usageError(e);
  }
  // With a coverage file, the version the demo scored with it (unless --version says otherwise).
  const published = await loadPublishedMap(store, map.frame, version ?? coverage?.mapVersion);
  if (published.primitives.length > 0 && !nearGroundTruth(published.primitives, map.primitives, NEAR_MAP_M)) {
    return usageError(`map v${published.version} (${published.primitives.length} primitives) lies nowhere near the ground truth of ${path.basename(mapPath)} (none within ${NEAR_MAP_M} m of it): pass the map it was made on with --map`);
  }
  let report;
  if (coverage === undefined) {
    report = evaluateMap(map.primitives, published.primitives, {});
    console.log(`map v${published.version}: ${published.primitives.length} primitives in ${published.tileCount} tiles, scored against the whole map`);
  } else {
    report = evaluateOnCoverage(coverage, published.primitives, { bytesUploaded: (await uploadedBatchBytes(store, published.version)).bytes });
    const km = (m: number): string => (m / 1000).toFixed(1);
    console.log(
      `map v${published.version}: ${published.primitives.length} primitives in ${published.tileCount} tiles, scored against what >= ${coverage.options.minDrives} drives saw (${coverage.covered.length} pieces, ${km(coverage.coveredLengthM)} of ${km(coverage.totalLengthM)} km of lines; ${coverage.drives.length} drives)`,
    );
  }
  console.log(formatReportTable(report));
  if (values.out) writeFileSync(values.out, `${JSON.stringify({ ...report, mapVersion: published.version }, null, 2)}\n`);
  return 0;
}

/** How far outside the ground truth's extent a published map may lie and still be of that map, metres. */
const NEAR_MAP_M = 500;

/** Whether any vertex of `published` lies within `marginM` of the bounding box of `truth` (one map frame). */
function nearGroundTruth(published: ReadonlyArray<{ points: readonly XY[] }>, truth: ReadonlyArray<{ points: readonly XY[] }>, marginM: number): boolean {
  const b = bboxOf(truth.flatMap((t) => t.points));
  return published.some((q) => q.points.some(([x, y]) => x >= b.minX - marginM && x <= b.maxX + marginM && y >= b.minY - marginM && y <= b.maxY + marginM));
}

/** One line on stderr, exit 2. */
function usageError(e: unknown): number {
  console.error(usageLine('fleetmap eval', e));
  return 2;
}
