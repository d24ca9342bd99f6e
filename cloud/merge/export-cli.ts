/**
 * `fleetmap cloud export --store DIR [--version N] --format F --out FILE`: write one published
 * map version in a standard format. Formats are listed in EXPORT_FORMATS (one entry each); the
 * command checks the common arguments (store, version, a new --out file in an existing
 * directory) and hands the format its store, version and file.
 */
import { existsSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { parseCommand, usageLine } from '../../shared/cli-args.ts';
import { EXIT_RUNTIME, EXIT_USAGE, oneLine } from '../../shared/cli-errors.ts';
import { openStoreArg, S3_CLI_HELP, S3_CLI_OPTIONS, type ObjectStore } from '../store/index.ts';

export interface ExportFormat {
  summary: string;
  /** Write version `version` (undefined: latest) of `store` to the new file `outFile`; a JSON-able summary. */
  run(store: ObjectStore, outFile: string, version: number | undefined): Promise<object>;
}

/** One line per format; modules load lazily. */
export const EXPORT_FORMATS: Record<string, ExportFormat> = {
  mbtiles: { summary: 'MBTiles 1.3 of Mapbox Vector Tiles, z14-z16, one layer per class', run: async (s, f, v) => (await import('./export-mbtiles.ts')).exportMbtiles(s, f, v) },
  lanelet2: { summary: "Lanelet2 OSM XML 0.6 of the map's linestrings (no lanelets)", run: async (s, f, v) => (await import('./export-lanelet2.ts')).exportLanelet2File(s, f, v) },
};

const NAME = 'fleetmap cloud export';

const HELP = `usage: ${NAME} --store DIR|s3://BUCKET[/PREFIX] [--version N] --format F --out FILE

Writes one published map version (DIR/tiles/v<N>/) to FILE in a standard format. FILE must not
exist (never overwritten); its directory must.

options:
  --store DIR|S3     object store: an existing directory, or s3://bucket[/prefix] (required)
  --version N        map version                                      (default: tiles/latest.json)
  --format F         output format                                    (required)
  --out FILE         the new output file                              (required)
  -h, --help         this text
${S3_CLI_HELP}

formats:
${Object.entries(EXPORT_FORMATS)
  .map(([k, f]) => `  ${k.padEnd(18)} ${f.summary}`)
  .join('\n')}`;

export default async function (argv: string[]): Promise<number> {
  const parsed = parseCommand(NAME, HELP, {
    args: argv,
    options: {
      store: { type: 'string' },
      ...S3_CLI_OPTIONS,
      version: { type: 'string' },
      format: { type: 'string' },
      out: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  if (typeof parsed === 'number') return parsed;
  const args = parsed.values;
  if (!args.store) return usageError('--store DIR is required');
  if (!args.format) return usageError(`--format is required (${Object.keys(EXPORT_FORMATS).join(', ')})`);
  if (!args.out) return usageError('--out FILE is required');
  const format = Object.hasOwn(EXPORT_FORMATS, args.format) ? EXPORT_FORMATS[args.format] : undefined;
  if (!format) return usageError(`--format ${JSON.stringify(args.format)} is not one of: ${Object.keys(EXPORT_FORMATS).join(', ')}`);
  let version: number | undefined;
  if (args.version !== undefined) {
    version = /^[1-9]\d{0,8}$/.test(args.version) ? Number(args.version) : NaN;
    if (!Number.isInteger(version)) return usageError(`--version must be an integer >= 1, got ${JSON.stringify(args.version)}`);
  }
  let store: ObjectStore;
  try {
    store = openStoreArg(args.store, args, { mustExist: true });
  } catch (e) {
    return usageError(e);
  }
  const out = path.resolve(args.out);
  if (existsSync(out)) return usageError(`--out ${args.out}: refusing to overwrite an existing file`);
  if (!(statSync(path.dirname(out), { throwIfNoEntry: false })?.isDirectory() ?? false)) return usageError(`--out ${args.out}: directory ${path.dirname(out)} does not exist`);
  try {
    const summary = await format.run(store, out, version);
    console.log(JSON.stringify({ format: args.format, ...summary }));
    return 0;
  } catch (e) {
    console.error(oneLine(NAME, e));
    return EXIT_RUNTIME;
  }
}

/** One line on stderr, exit 2. */
function usageError(e: unknown): number {
  console.error(usageLine(NAME, e));
  return EXIT_USAGE;
}
