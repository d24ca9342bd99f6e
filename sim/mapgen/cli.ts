/**
 * Write a procedural Lanelet2 map:
 *   npx tsx sim/mapgen/cli.ts --seed S [--layout grid|suburban|roundabout|multilane|mixed]
 *       [--traffic-side right|left] [--origin-lat DEG --origin-lng DEG]
 *       [--crosswalks side_lines|stripes|lanelet|lanelet_stripes] [--stop-lines per_lane|spanning] --out FILE.osm
 * Bad usage prints one error line and exits with status 2.
 */
import { writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { CROSSWALK_STYLES, generateMap, LAYOUTS, STOP_LINE_STYLES, type CrosswalkStyle, type GenerateMapOptions, type Layout, type StopLineStyle } from './index.ts';

const USAGE =
  `usage: mapgen --seed S [--layout ${LAYOUTS.join('|')}] [--traffic-side right|left] [--origin-lat DEG] [--origin-lng DEG] ` +
  `[--crosswalks ${CROSSWALK_STYLES.join('|')}] [--stop-lines ${STOP_LINE_STYLES.join('|')}] --out FILE.osm`;

export class UsageError extends Error {}

/** Parse the command line into generator options and the output path; throws UsageError. */
export function parseArgs(argv: readonly string[]): { options: GenerateMapOptions; out: string } {
  const values = new Map<string, string>();
  const known = new Set(['--seed', '--layout', '--traffic-side', '--origin-lat', '--origin-lng', '--crosswalks', '--stop-lines', '--out']);
  for (let i = 0; i < argv.length; i += 2) {
    const flag = argv[i]!;
    if (!known.has(flag)) throw new UsageError(`unknown argument ${JSON.stringify(flag)}`);
    const v = argv[i + 1];
    if (v === undefined || v.startsWith('--')) throw new UsageError(`${flag} needs a value`);
    values.set(flag, v);
  }
  const seedText = values.get('--seed');
  if (seedText === undefined) throw new UsageError('--seed is required');
  const seed = Number(seedText);
  if (!/^-?\d+$/.test(seedText) || !Number.isSafeInteger(seed)) throw new UsageError(`--seed must be an integer, got ${JSON.stringify(seedText)}`);
  const out = values.get('--out');
  if (out === undefined) throw new UsageError('--out is required');
  const layout = values.get('--layout') ?? 'mixed';
  if (!(LAYOUTS as readonly string[]).includes(layout)) throw new UsageError(`--layout must be one of ${LAYOUTS.join('|')}, got ${JSON.stringify(layout)}`);
  const side = values.get('--traffic-side') ?? 'right';
  if (side !== 'right' && side !== 'left') throw new UsageError(`--traffic-side must be right|left, got ${JSON.stringify(side)}`);
  const options: GenerateMapOptions = { seed, layout: layout as Layout, trafficSide: side };
  for (const [flag, key] of [['--origin-lat', 'originLat'], ['--origin-lng', 'originLng']] as const) {
    const text = values.get(flag);
    if (text === undefined) continue;
    const v = Number(text);
    if (text.trim() === '' || !Number.isFinite(v)) throw new UsageError(`${flag} must be a number of degrees, got ${JSON.stringify(text)}`);
    options[key] = v;
  }
  // Checked by generateMap (a RangeError naming the field and value).
  const crosswalks = values.get('--crosswalks');
  if (crosswalks !== undefined) options.crosswalkStyle = crosswalks as CrosswalkStyle;
  const stopLines = values.get('--stop-lines');
  if (stopLines !== undefined) options.stopLineStyle = stopLines as StopLineStyle;
  return { options, out };
}

export function main(argv: readonly string[]): number {
  let parsed: { options: GenerateMapOptions; out: string };
  try {
    parsed = parseArgs(argv);
    const map = generateMap(parsed.options);
    writeFileSync(parsed.out, map.osmXml);
    process.stdout.write(`${parsed.out}: ${map.name}: ${map.description}\n`);
    return 0;
  } catch (err) {
    if (err instanceof UsageError || err instanceof RangeError) {
      process.stderr.write(`mapgen: ${(err as Error).message} (${USAGE})\n`);
      return 2;
    }
    process.stderr.write(`mapgen: ${err instanceof Error ? err.message : String(err)}\n`); // e.g. cannot write --out: one line, no stack
    return 1;
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) process.exitCode = main(process.argv.slice(2));
