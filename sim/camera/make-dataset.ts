/**
 * CLI: write a camera dataset (PERCEPTION.md section 3).
 *
 *   npx tsx sim/camera/make-dataset.ts --out DIR --frames N --maps karlsruhe,ring --seed S
 *       --conditions mixed|clear|night|lowSun|wet|worn[,..] [--area all|train|holdout]
 *       [--holdout-fraction 0.3] [--exclude-effects night,wet]
 *
 * Maps: `karlsruhe` (bundled), `ring` (test/fixtures/ring-road.ts), `gen:N` (N procedurally
 * generated maps from sim/mapgen, cycling through its layouts, every other one with left-hand
 * traffic).
 */
import { exitCodeOf, oneLine, UsageError } from '../../cli/errors.ts';
import { KARLSRUHE_OSM_PATH, loadLanelet2File } from '../bundled-maps.ts';
import { loadLanelet2, osmBoundsCentre, type Lanelet2Map } from '../lanelet2.ts';
import { ringRoadOsm } from '../../test/fixtures/ring-road.ts';
import { generateMap, type Layout } from '../mapgen/index.ts';

const GEN_LAYOUT_CYCLE: readonly Layout[] = ['mixed', 'grid', 'suburban', 'roundabout', 'multilane'];
import type { CameraConditions } from './conditions.ts';
import { writeDataset, type AreaSplit } from './dataset.ts';

async function loadMaps(spec: string, seed: number): Promise<Array<{ name: string; map: Lanelet2Map }>> {
  const out: Array<{ name: string; map: Lanelet2Map }> = [];
  for (const name of spec.split(',').map((s) => s.trim()).filter(Boolean)) {
    if (name === 'karlsruhe') out.push({ name, map: loadLanelet2File(KARLSRUHE_OSM_PATH) });
    else if (name === 'ring') {
      const xml = ringRoadOsm();
      out.push({ name, map: loadLanelet2(xml, { origin: osmBoundsCentre(xml) }) });
    } else if (name.startsWith('gen:')) {
      const n = Number(name.slice(4));
      if (!(Number.isInteger(n) && n >= 1 && n <= 1000)) throw new RangeError(`--maps ${name}: N must be an integer in [1, 1000]`);
      for (let i = 0; i < n; i++) {
        // Every layout, and left-hand traffic on every other map (this order made the committed model).
        const g = generateMap({ seed: seed * 1000 + i, layout: GEN_LAYOUT_CYCLE[i % GEN_LAYOUT_CYCLE.length]!, trafficSide: i % 2 === 1 ? 'left' : 'right' });
        out.push({ name: g.name, map: loadLanelet2(g.osmXml, { origin: osmBoundsCentre(g.osmXml) }) });
      }
    } else throw new RangeError(`--maps: unknown map ${JSON.stringify(name)} (karlsruhe, ring, gen:N)`);
  }
  return out;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const get = (k: string): string | undefined => {
    const i = args.indexOf(`--${k}`);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const outDir = get('out');
  if (!outDir) throw new UsageError('--out DIR is required');
  const frames = Number(get('frames') ?? '1000');
  const seed = Number(get('seed') ?? '1');
  if (!Number.isFinite(seed)) throw new RangeError(`--seed must be a number, got ${get('seed')}`);
  const area = (get('area') ?? 'all') as AreaSplit;
  const maps = await loadMaps(get('maps') ?? 'karlsruhe,ring', seed);
  const t0 = performance.now();
  const meta = writeDataset({
    outDir,
    frames,
    maps,
    seed,
    conditions: get('conditions') ?? 'mixed',
    area,
    holdoutFraction: Number(get('holdout-fraction') ?? '0.3'),
    excludeEffects: (get('exclude-effects') ?? '').split(',').filter(Boolean) as Array<keyof CameraConditions>,
    onProgress: (n) => process.stderr.write(`\r${n}/${frames} frames`),
  });
  process.stderr.write('\n');
  console.log(`wrote ${meta.count} frames to ${outDir} (${meta.msPerFrame} ms render per frame, ${((performance.now() - t0) / 1000).toFixed(1)} s total)`);
}

main().catch((e: unknown) => {
  console.error(oneLine('make-dataset', e));
  process.exit(exitCodeOf(e));
});
