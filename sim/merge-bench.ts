/**
 * Merge benchmark (not part of the test suite): simulated fleet on a Lanelet2 map -> edge
 * georeferencing in-process (the daemon's Georeferencer + compactor, no sockets) -> batches in
 * a LocalDirStore -> cloud merge -> evaluation against the ground truth. Prints the evaluation
 * table, merge timings and, with --json FILE, the whole report.
 *
 *   npx tsx sim/merge-bench.ts --vehicles 20 --drives 3 --drive-length-m 2000 --workers 2 [--opt segmentMaxS=8] [--keep]
 *   npx tsx sim/merge-bench.ts --store /tmp/fm-bench-XXXX [--opt ...]   (re-merge a kept store)
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { parseCliArgs } from '../shared/cli-args.ts';
import { InProcessExecutor, WorkerThreadExecutor, runMerge, type MergeExecutor, type MergeOptions } from '../cloud/merge/index.ts';
import { LocalDirStore } from '../cloud/store/index.ts';
import { generateSigningKeyPair } from '../shared/signing.ts';
import type { XY } from '../shared/schema.ts';
import { polylineLengthM } from '../shared/geometry.ts';
import { KARLSRUHE_OSM_PATH, loadLanelet2File } from './bundled-maps.ts';
import { coverageOf, type CoveragePose } from './coverage.ts';
import { evaluateMap, formatReportTable } from './eval/index.ts';
import { planFleet, type PlannedDrive } from './fleet.ts';
import { DEFAULT_GNSS_ERROR_OPTIONS } from './gnss-error.ts';
import { latestVersion, loadPublishedMap } from './published-tiles.ts';
import { resolvePublished } from '../cloud/merge/publish.ts';
import { simulateFleetIntoStore } from './fleet-store.ts';

const { values } = parseCliArgs({
  options: {
    map: { type: 'string', default: KARLSRUHE_OSM_PATH },
    vehicles: { type: 'string', default: '20' },
    drives: { type: 'string', default: '3' },
    'drive-length-m': { type: 'string', default: '2000' },
    seed: { type: 'string', default: '1' },
    workers: { type: 'string', default: '1' },
    'keyframe-spacing-m': { type: 'string', default: '12' },
    'min-drives': { type: 'string' },
    /** Any merge option, repeatable: --opt segmentMaxS=5 */
    opt: { type: 'string', multiple: true },
    json: { type: 'string' },
    keep: { type: 'boolean', default: false },
    /** Re-merge and evaluate a store kept by an earlier --keep run (skips the simulation). */
    store: { type: 'string' },
    /**
     * Change detection: after v1, remove this many lane dividers from the world, drive the same
     * fleet again 30 days later, merge v2 and score the change summary.
     */
    'change-remove': { type: 'string' },
  },
});

const t0 = performance.now();
const say = (m: string): void => console.log(`[${((performance.now() - t0) / 1000).toFixed(1).padStart(6)} s] ${m}`);
const map = loadLanelet2File(values.map);
const plan = planFleet(map, { vehicles: Number(values.vehicles), drivesPerVehicle: Number(values.drives), driveLengthM: Number(values['drive-length-m']), seed: Number(values.seed) });
say(`fleet: ${plan.drives.length} drives, ${(plan.totalLengthM / 1000).toFixed(1)} km planned`);

const dir = values.store ?? mkdtempSync(path.join(tmpdir(), 'fm-bench-'));
const store = new LocalDirStore(dir);
let trajectories: CoveragePose[][] = [];
/** Each drive's realised GNSS bias [eastM, northM], in trajectory order (the realised floor). */
let biases: Array<[number, number]> | undefined = [];
let nObs = 0;
let km = 0;
let bytes = 0;
let drives = plan.drives.length;
// One Ed25519 key for the simulated fleet: the merge reads the store 'trusted' (the ingest verified
// each vehicle's signature before writing), so which key signed does not matter here.
const key = generateSigningKeyPair().privateKey;
const seqOf = new Map<string, number>();
if (values.store) {
  // (inputs kept before the realised floor have no biases: that report has only the expected floor)
  ({ trajectories, biases, nObs, km, bytes, drives } = JSON.parse(readFileSync(path.join(dir, 'bench-inputs.json'), 'utf8')) as { trajectories: CoveragePose[][]; biases?: Array<[number, number]>; nObs: number; km: number; bytes: number; drives: number });
  say(`store ${dir}: ${nObs} observations over ${km.toFixed(1)} km`);
} else {
  const r = await simulateInto(map, plan.drives, '');
  ({ trajectories, biases, nObs, km, bytes } = r);
  say(`edge: ${nObs} observations over ${km.toFixed(1)} km, ${(bytes / 1e6).toFixed(2)} MB in ${r.batches} batches`);
  if (values.keep) writeFileSync(path.join(dir, 'bench-inputs.json'), JSON.stringify({ trajectories, biases, nObs, km, bytes, drives }));
}

/** Simulates the drives on `m`, georeferences them like the edge daemon and stores the batches. */
async function simulateInto(m: typeof map, list: readonly PlannedDrive[], driveSuffix: string): Promise<{ trajectories: CoveragePose[][]; biases: Array<[number, number]>; nObs: number; km: number; bytes: number; batches: number }> {
  const r = await simulateFleetIntoStore(m, list, store, { keyframeSpacingM: Number(values['keyframe-spacing-m']), driveSuffix, key, seqOf });
  return { trajectories: r.trajectories, biases: r.biases, nObs: r.observations, km: r.km, bytes: r.bytes, batches: r.batches };
}

const workers = Number(values.workers);
const executor: MergeExecutor = workers > 1 ? new WorkerThreadExecutor({ workers }) : new InProcessExecutor({ store, concurrency: 1 });
const tm = performance.now();
const options: Record<string, number> = values['min-drives'] ? { minDrives: Number(values['min-drives']) } : {};
for (const kv of values.opt ?? []) {
  const [k, v] = kv.split('=');
  options[k!] = Number(v);
}
const manifest = await runMerge(store, { executor, options: options as Partial<MergeOptions> });
await executor.close();
const mergeS = (performance.now() - tm) / 1000;
say(`merge: v${manifest.version}, ${manifest.tiles.length} tiles, ${manifest.tiles.reduce((a, t) => a + t.features, 0)} features in ${mergeS.toFixed(1)} s (${workers} worker(s))`);

const published = await loadPublishedMap(store, map.frame);
const coverage = coverageOf(map.primitives, trajectories);
const report = evaluateMap(coverage.covered, published.primitives, {
  drives,
  kmDriven: km,
  bytesUploaded: bytes,
  elapsedS: mergeS,
  floor: { driveBiasSigmaM: DEFAULT_GNSS_ERROR_OPTIONS.biasSigmaM, drivesPerPlace: coverage.drivesPerPlace },
  ...(biases !== undefined ? { realisedFloor: { driveBiasesM: biases, places: coverage.places } } : {}),
});
console.log(formatReportTable(report));
if (values.json) writeFileSync(values.json, `${JSON.stringify({ report, manifest: { ...manifest, changes: manifest.changes.totals }, mergeS, observations: nObs }, null, 2)}\n`);

const nRemove = Number(values['change-remove'] ?? 0);
if (nRemove > 0) {
  // Remove dividers that v1 published (long enough to be seen), spread over the list.
  const v1 = await loadPublishedMap(store, map.frame);
  const seen = (g: (typeof map.primitives)[number]): boolean => v1.primitives.some((p) => p.cls === g.cls && p.points.some((q) => g.points.some((r) => Math.hypot(q[0] - r[0], q[1] - r[1]) < 1.5)));
  const dividers = map.primitives.filter((g) => g.cls === 'lane_divider' && polylineLengthM(g.points) > 20 && seen(g));
  const gone = new Set(Array.from({ length: Math.min(nRemove, dividers.length) }, (_, i) => dividers[Math.floor((i * dividers.length) / Math.min(nRemove, dividers.length))]!));
  const map2 = { ...map, primitives: map.primitives.filter((g) => !gone.has(g)) };
  const plan2 = planFleet(map2, { vehicles: Number(values.vehicles), drivesPerVehicle: Number(values.drives), driveLengthM: Number(values['drive-length-m']), seed: Number(values.seed) + 1000, startUnixMs: Date.UTC(2025, 3, 10, 6) });
  const r2 = await simulateInto(map2, plan2.drives, '-later');
  say(`change: removed ${gone.size} dividers; second fleet ${r2.nObs} observations over ${r2.km.toFixed(1)} km`);
  const ex2: MergeExecutor = workers > 1 ? new WorkerThreadExecutor({ workers }) : new InProcessExecutor({ store, concurrency: 1 });
  const t2 = performance.now();
  const m2 = await runMerge(store, { executor: ex2, options: options as Partial<MergeOptions> });
  await ex2.close();
  say(`merge: v${m2.version} in ${((performance.now() - t2) / 1000).toFixed(1)} s; changes ${JSON.stringify(m2.changes.totals)}; dropped stale ${m2.tiles.reduce((a, t) => a + t.dropped.stale, 0)}, shadows ${m2.tiles.reduce((a, t) => a + t.dropped.shadows, 0)}`);
  // Which removed features were removed truly (near a removed divider)?
  const prevV = (await latestVersion(store))! - 1;
  const prevFeatures = new Map<string, XY[]>();
  const { manifest: prevManifest } = await resolvePublished(store, prevV); // tiles may be carried from older versions
  for (const k of prevManifest.tiles.map((t) => t.key)) {
    for (const f of (JSON.parse((await store.get(k))!.toString('utf8')) as { features: Array<{ id: string; geometry: { type: string; coordinates: unknown } }> }).features) {
      if (f.geometry.type !== 'LineString') continue;
      prevFeatures.set(f.id, (f.geometry.coordinates as Array<[number, number]>).map(([lng, lat]) => map.frame.toLocal({ lng, lat })));
    }
  }
  const goneList = [...gone];
  const nearGone = (pts: XY[]): boolean => pts.some((q) => goneList.some((g) => g.points.some((r) => Math.hypot(q[0] - r[0], q[1] - r[1]) < 1.5)));
  let trueRemovals = 0;
  let falseRemovals = 0;
  for (const tc of Object.values(m2.changes.tiles)) {
    for (const id of tc.removedIds) {
      const pts = prevFeatures.get(id);
      if (pts && nearGone(pts)) trueRemovals++;
      else falseRemovals++;
    }
  }
  const detected = goneList.filter((g) => Object.values(m2.changes.tiles).some((tc) => tc.removedIds.some((id) => { const pts = prevFeatures.get(id); return pts !== undefined && pts.some((q) => g.points.some((r) => Math.hypot(q[0] - r[0], q[1] - r[1]) < 1.5)); }))).length;
  say(`change detection: ${detected}/${gone.size} removed dividers reported; removed features ${trueRemovals} true, ${falseRemovals} false; added ${JSON.stringify(m2.changes.totals.added)}, moved ${JSON.stringify(m2.changes.totals.moved)}, low-confidence churn ${JSON.stringify(m2.changes.totals.lowConfidence)}`);
}

if (!values.keep && !values.store) rmSync(dir, { recursive: true, force: true });
else say(`store kept at ${dir}`);
