/**
 * `fleetmap eval --store DIR --map FILE`: score a published map version against a Lanelet2 map.
 * Scores against the WHOLE map (recall counts places no vehicle drove); the demo scores against
 * the driven part (sim/coverage.ts).
 */
import { existsSync, writeFileSync } from 'node:fs';
import { oneLine } from '../../cli/errors.ts';
import { parseCliArgs } from '../../shared/cli-args.ts';
import { LocalDirStore } from '../../cloud/store/index.ts';
import { KARLSRUHE_OSM_PATH, loadLanelet2File } from '../bundled-maps.ts';
import { loadPublishedMap } from '../published-tiles.ts';
import { evaluateMap } from './evaluate.ts';
import { formatReportTable } from './table.ts';

const HELP = `usage: fleetmap eval --store DIR [--map FILE] [--version N] [--out FILE]

  --store DIR     object store holding tiles/ (as written by fleetmap cloud merge)
  --map FILE      Lanelet2 OSM ground truth (default: the bundled Karlsruhe map)
  --version N     map version to score (default: tiles/latest.json)
  --out FILE      also write the report as JSON
  -h, --help`;

export default async function evalCommand(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseCliArgs({
      args: argv,
      strict: true,
      options: { store: { type: 'string' }, map: { type: 'string' }, version: { type: 'string' }, out: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    }));
  } catch (e) {
    return usageError(e);
  }
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  if (!values.store) {
    return usageError('--store DIR is required');
  }
  const version = values.version === undefined ? undefined : Number(values.version);
  if (version !== undefined && !(Number.isInteger(version) && version >= 1)) {
    return usageError(`--version must be a positive integer, got ${JSON.stringify(values.version)}`);
  }
  if (values.map !== undefined && !existsSync(values.map)) return usageError(`--map ${values.map}: no such file`);
  const map = loadLanelet2File(values.map ?? KARLSRUHE_OSM_PATH);
  const published = await loadPublishedMap(new LocalDirStore(values.store), map.frame, version);
  const report = evaluateMap(map.primitives, published.primitives, {});
  console.log(`map v${published.version}: ${published.primitives.length} primitives in ${published.tileCount} tiles, scored against the whole map`);
  console.log(formatReportTable(report));
  if (values.out) writeFileSync(values.out, `${JSON.stringify({ ...report, mapVersion: published.version }, null, 2)}\n`);
  return 0;
}

/** One line on stderr, exit 2. */
function usageError(e: unknown): number {
  console.error(`${oneLine('fleetmap eval', e)} (fleetmap eval --help for usage)`);
  return 2;
}
