/**
 * Map accuracy against the number of drives per road, per map of the suite (sim/map-suite.ts),
 * with two baselines and change detection:
 *
 *   npm run bench:accuracy -- [--maps validation|tuning|all|NAME,...] [--routes K] [--ladder 1,2,5,10,20]
 *                             [--change-drives 1,2,3,5] [--seed S] [--perception oracle|model]
 *                             [--rtk-drives K] [--terrain none|rolling] [--road-slope on|off]
 *
 * Per map: K routes of 2 km (planFleet), each driven N times by different vehicles (own GNSS
 * bias, noise, perception seed), so every road of a route gets at least N drives. The
 * perception is the oracle test double (in-process edge georeferencing and compaction,
 * sim/fleet-store.ts), or with `--perception model` the on-vehicle model and the front radar
 * through the daemon's perception path in-process (camera at 2 Hz, mixed conditions per drive;
 * writes accuracy-model.json / .png instead). The model's run renders every frame: about 10 ms
 * of CPU per frame, so use fewer routes and a shorter ladder for it.
 *
 * - curve: for each N, a fresh store with the first N drives of every route, merged from scratch
 *   (cloud/merge runMerge, default options), scored against the ground truth the drives saw
 *   (coverage minDrives 1): mAP at 0.2 / 0.5 / 1.0 m, lateral p50 / p95 of matched pairs,
 *   relative figures (one offset per 100 m patch), the realised floor (the drives' actual GNSS
 *   biases), and published road-boundary length over the covered ground truth's.
 * - baselines at N = 10 (the largest N <= 10 of the ladder): `noAlignment` (the same drives
 *   merged with alignment off: coarse and refine searches 0, no fine iterations), and
 *   `bestSingleDrive` (each of the first three drives of route 1 merged alone with minDrives 1,
 *   scored on what it saw; the best mAP@0.5).
 * - change: on that N = 10 store (v1), every change scenario (sim/change-scenarios.ts) applied
 *   where all routes pass; then k drives per route after the change, merged into v2, and
 *   `fleetmap cloud diff` v1 -> v2 (confirmed changes) scored against the true changes
 *   (sim/eval/change-eval.ts): precision, recall, F1, false changes per 10 km of covered line
 *   ground truth. Removals and moves of features v1 never had are not scored (`notInPrevious`).
 *
 * With `--rtk-drives K`, every store also holds K anchor drives per route (RTK receivers,
 * sim/gnss-error.ts RTK_GNSS_ERROR_OPTIONS, their edge declaring it): the curve's N counts the
 * consumer-grade drives beside them, the realised floor weighs drives by 1 / sigma^2, and the
 * files are accuracy[-model]-rtkK.json / .png.
 *
 * Writes out/bench/accuracy.json and out/bench/accuracy.png (sim/bench/plot-accuracy.py,
 * Debian's python3-matplotlib).
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { diffVersions } from '../../cloud/merge/diff.ts';
import { InProcessExecutor, runMerge, type MergeOptions } from '../../cloud/merge/index.ts';
import { LocalDirStore } from '../../cloud/store/index.ts';
import { parseCliArgs } from '../../shared/cli-args.ts';
import { polylineLengthM } from '../../shared/geometry.ts';
import { applyChangeScenarios, CHANGE_SCENARIOS, eligibleAlong } from '../change-scenarios.ts';
import { coverageOf, type CoveragePose } from '../coverage.ts';
import { reportedFromDiff, scoreChanges } from '../eval/change-eval.ts';
import { evaluateMap, type EvaluationReport } from '../eval/index.ts';
import { floorInputs } from '../eval/floor.ts';
import { planFleet, type PlannedDrive } from '../fleet.ts';
import { simulateFleetIntoStore, type FleetStoreOptions } from '../fleet-store.ts';
import { DEFAULT_GNSS_ERROR_OPTIONS, RTK_EDGE_MIN_GNSS_SIGMA_M, RTK_GNSS_ERROR_OPTIONS } from '../gnss-error.ts';
import type { Lanelet2Map } from '../lanelet2.ts';
import { loadSuiteMap, MAP_SUITE, type SuiteMap } from '../map-suite.ts';
import { loadPublishedMap } from '../published-tiles.ts';
import { deriveSeed, Rng } from '../rng.ts';
import { randomConditions } from '../camera/conditions.ts';
import { Segmenter } from '../../edge/perception/model.ts';
import { BENCH_OUT_DIR, benchUsage, writeBenchReport } from './report.ts';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const PYTHON = process.env.FLEETMAP_PYTHON ?? '/usr/bin/python3';
const DAY_MS = 86_400_000;
const T0 = Date.UTC(2025, 2, 10, 6);

const { values, ladder, changeLadder, nRoutes, rtkDrives, seed, maps } = benchUsage('accuracy', () => {
  const { values } = parseCliArgs({
    options: {
      maps: { type: 'string', default: 'all' },
      routes: { type: 'string', default: '4' },
      ladder: { type: 'string', default: '1,2,5,10,20' },
      'change-drives': { type: 'string', default: '1,2,3,5' },
      seed: { type: 'string', default: '1' },
      perception: { type: 'string', default: 'oracle' },
      'rtk-drives': { type: 'string', default: '0' },
      terrain: { type: 'string', default: 'none' },
      'road-slope': { type: 'string', default: 'off' },
    },
  });
  if (values.perception !== 'oracle' && values.perception !== 'model') throw new RangeError(`--perception must be oracle or model, got ${values.perception}`);
  if (values.terrain !== 'none' && values.terrain !== 'rolling') throw new RangeError(`--terrain must be none or rolling, got ${values.terrain}`);
  if (values['road-slope'] !== 'on' && values['road-slope'] !== 'off') throw new RangeError(`--road-slope must be on or off, got ${values['road-slope']}`);
  if (values.perception !== 'model' && (values.terrain !== 'none' || values['road-slope'] !== 'off')) throw new RangeError('--terrain and --road-slope need --perception model');
  const ints = (s: string, name: string): number[] => {
    const v = s.split(',').map(Number);
    if (v.some((x) => !Number.isInteger(x) || x < 1)) throw new RangeError(`--${name} must be a list of integers >= 1, got ${s}`);
    return v.sort((a, b) => a - b);
  };
  if (!/^\d+$/.test(values['rtk-drives'])) throw new RangeError(`--rtk-drives must be an integer >= 0, got ${values['rtk-drives']}`);
  if (!/^\d+$/.test(values.seed)) throw new RangeError(`--seed must be an integer >= 0, got ${values.seed}`);
  return { values, ladder: ints(values.ladder, 'ladder'), changeLadder: ints(values['change-drives'], 'change-drives'), nRoutes: ints(values.routes, 'routes')[0]!, rtkDrives: Number(values['rtk-drives']), seed: Number(values.seed), maps: selectMaps(values.maps) };
});
const perception = values.perception as 'oracle' | 'model';
const MODEL_CAMERA_HZ = 2;
const segmenter = perception === 'model' ? await Segmenter.create({ modelPath: path.join(HERE, '..', '..', 'edge', 'model', 'fleetmap-seg.onnx'), executionProviders: ['cpu'], intraOpThreads: 2, interOpThreads: 1 }) : undefined;
const terrain = values.terrain === 'rolling';
const roadSlope = values['road-slope'] === 'on';
/** The model's options on one map of the suite (its hills seeded by the map's name). */
const modelOptionFor = (mapName: string): FleetStoreOptions['model'] =>
  segmenter
    ? {
        segmenter,
        cameraHz: MODEL_CAMERA_HZ,
        conditionsOf: (d: PlannedDrive) => randomConditions(new Rng(deriveSeed(d.seed, 'bench-conditions'))),
        calibrationSeed: 1,
        ...(terrain ? { terrain: { seed: deriveSeed(seed, `terrain:${mapName}`) } } : {}),
        slope: roadSlope ? {} : false,
      }
    : undefined;
/** Anchor drives are the replicas tagged "k" (veh-r<route>-k<i>); the ladder counts the "i" ones. */
const isRtk = (d: PlannedDrive): boolean => /-k\d\d$/.test(d.vehicleId);
const inLadder = (d: PlannedDrive, n: number): boolean => isRtk(d) || Number(d.vehicleId.slice(-2)) <= n;

const t0 = performance.now();
const say = (m: string): void => console.error(`[${((performance.now() - t0) / 1000).toFixed(1).padStart(7)} s] ${m}`);

function selectMaps(sel: string): SuiteMap[] {
  if (sel === 'all') return MAP_SUITE.slice();
  if (sel === 'validation' || sel === 'tuning') return MAP_SUITE.filter((m) => m.split === sel);
  const names = sel.split(',');
  const out = MAP_SUITE.filter((m) => names.includes(m.name));
  const unknown = names.filter((n) => !MAP_SUITE.some((m) => m.name === n));
  if (unknown.length) throw new RangeError(`--maps: unknown ${unknown.join(', ')} (known: ${MAP_SUITE.map((m) => m.name).join(', ')})`);
  return out;
}

/** Drive i (0-based) of every route, by a vehicle of its own: "veh-r<route>-<tag><i>". */
function replicas(routes: readonly PlannedDrive[], from: number, to: number, tag: string, startUnixMs: number): PlannedDrive[] {
  const out: PlannedDrive[] = [];
  for (let i = from; i < to; i++) {
    routes.forEach((r, ri) => {
      const vehicleId = `veh-r${ri + 1}-${tag}${String(i + 1).padStart(2, '0')}`;
      out.push({ ...r, vehicleId, driveId: `${vehicleId}-d1`, seed: deriveSeed(r.seed, `${tag}:${i}`), startUnixMs: startUnixMs + (i * routes.length + ri) * 600_000 });
    });
  }
  return out;
}

interface Pool {
  dir: string;
  drives: PlannedDrive[];
  trajectories: CoveragePose[][];
  biases: Array<[number, number]>;
  /** Per drive, per-axis bias sigma of its receiver, metres. */
  sigmas: number[];
  km: number[];
}

/** Simulates `drives` into one pool store; per drive its trajectory, bias and km. */
async function simulatePool(map: Lanelet2Map, mapName: string, drives: PlannedDrive[]): Promise<Pool> {
  const modelOption = modelOptionFor(mapName);
  const dir = mkdtempSync(path.join(tmpdir(), 'fm-acc-pool-'));
  const store = new LocalDirStore(dir);
  const pool: Pool = { dir, drives, trajectories: [], biases: [], sigmas: [], km: [] };
  for (const d of drives) {
    const rtk = isRtk(d) ? { gnss: RTK_GNSS_ERROR_OPTIONS, minGnssSigmaM: RTK_EDGE_MIN_GNSS_SIGMA_M } : {};
    const r = await simulateFleetIntoStore(map, [d], store, { ...(modelOption ? { model: modelOption } : {}), ...rtk });
    pool.trajectories.push(r.trajectories[0]!);
    pool.biases.push(r.biases[0]!);
    pool.sigmas.push(isRtk(d) ? RTK_GNSS_ERROR_OPTIONS.biasSigmaM : DEFAULT_GNSS_ERROR_OPTIONS.biasSigmaM);
    pool.km.push(r.km);
  }
  return pool;
}

/** A fresh store holding the pool's batches of the drives `pick` selects. */
function storeOf(pool: Pool, pick: (d: PlannedDrive) => boolean, base?: string): { dir: string; store: LocalDirStore; idx: number[] } {
  const dir = mkdtempSync(path.join(tmpdir(), 'fm-acc-'));
  if (base) cpSync(base, dir, { recursive: true });
  mkdirSync(path.join(dir, 'batches'), { recursive: true });
  const idx: number[] = [];
  pool.drives.forEach((d, i) => {
    if (!pick(d)) return;
    idx.push(i);
    cpSync(path.join(pool.dir, 'batches', d.vehicleId), path.join(dir, 'batches', d.vehicleId), { recursive: true });
  });
  return { dir, store: new LocalDirStore(dir), idx };
}

async function mergeAndScore(map: Lanelet2Map, pool: Pool, s: { store: LocalDirStore; idx: number[] }, options: Partial<MergeOptions>, nowUnixMs: number): Promise<EvaluationReport> {
  const executor = new InProcessExecutor({ store: s.store, concurrency: 1 });
  await runMerge(s.store, { executor, options, nowUnixMs: () => nowUnixMs });
  await executor.close();
  const published = await loadPublishedMap(s.store, map.frame);
  const cov = coverageOf(map.primitives, s.idx.map((i) => pool.trajectories[i]!), { minDrives: 1 });
  return evaluateMap(cov.covered, published.primitives, {
    drives: s.idx.length,
    kmDriven: s.idx.reduce((a, i) => a + pool.km[i]!, 0),
    ...floorInputs(DEFAULT_GNSS_ERROR_OPTIONS.biasSigmaM, s.idx.map((i) => ({ biasM: pool.biases[i]!, biasSigmaM: pool.sigmas[i]! })), cov.drivesPerPlace, cov.places),
  });
}

const r3 = (v: number | null | undefined): number | null => (v === null || v === undefined ? null : Math.round(v * 1000) / 1000);
const r1 = (v: number | null | undefined): number | null => (v === null || v === undefined ? null : Math.round(v * 10) / 10);
const mapOf = (m: Record<string, number | null>): Record<string, number | null> => ({ '0.2': r3(m['0.2']), '0.5': r3(m['0.5']), '1.0': r3(m['1.0']) });

function curvePoint(drives: number, rep: EvaluationReport, publishedBoundaryM: number, coveredBoundaryM: number): Record<string, unknown> {
  return {
    drives,
    mAP: mapOf(rep.mAP),
    lateralErrorCm: { p50: r1(rep.lateralErrorCm.p50), p95: r1(rep.lateralErrorCm.p95) },
    lateralErrorAllSeenCm: { p50: r1(rep.lateralErrorAllSeenCm.p50), p95: r1(rep.lateralErrorAllSeenCm.p95) },
    relative: rep.relative ? { mAP: mapOf(rep.relative.mAP), lateralErrorCm: { p50: r1(rep.relative.lateralErrorCm.p50), p95: r1(rep.relative.lateralErrorCm.p95) }, apByClass: Object.fromEntries(Object.entries(rep.relative.classes).map(([cls, c]) => [cls, mapOf(c.ap)])) } : null,
    floorCm: r1(rep.absoluteFloorCm),
    recall: r3(rep.recall),
    apByClass: Object.fromEntries(Object.entries(rep.classes).map(([cls, c]) => [cls, mapOf(c.ap)])),
    roadBoundaryLengthRatio: coveredBoundaryM > 0 ? r3(publishedBoundaryM / coveredBoundaryM) : null,
  };
}

/** Published road-boundary length, and the covered ground truth's, metres. */
async function boundaryLengths(map: Lanelet2Map, store: LocalDirStore, pool: Pool, idx: number[]): Promise<{ published: number; covered: number }> {
  const published = (await loadPublishedMap(store, map.frame)).primitives.filter((p) => p.cls === 'road_boundary').reduce((a, p) => a + polylineLengthM(p.points), 0);
  const cov = coverageOf(map.primitives, idx.map((i) => pool.trajectories[i]!), { minDrives: 1 });
  const gt = cov.covered.filter((p) => p.cls === 'road_boundary').reduce((a, p) => a + polylineLengthM(p.points), 0);
  return { published, covered: gt };
}

function countBy(keys: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const k of keys) out[k] = (out[k] ?? 0) + 1;
  return out;
}

const results: Array<Record<string, unknown>> = [];
const temps: string[] = [];
try {
  for (const sm of maps) {
    const map = loadSuiteMap(sm);
    const routes = planFleet(map, { vehicles: nRoutes, drivesPerVehicle: 1, driveLengthM: 2000, seed, startUnixMs: T0 }).drives;
    const maxN = ladder[ladder.length - 1]!;
    const maxK = changeLadder[changeLadder.length - 1]!;
    say(`${sm.name} (${sm.split}): ${routes.length} routes, ${(routes.reduce((a, r) => a + r.route.lengthM, 0) / 1000).toFixed(1)} km; simulating ${routes.length * (maxN + rtkDrives)} drives${rtkDrives > 0 ? ` (${routes.length * rtkDrives} with RTK, in every store)` : ''}`);
    const pool = await simulatePool(map, sm.name, [...replicas(routes, 0, maxN, 'i', T0), ...replicas(routes, 0, rtkDrives, 'k', T0 + DAY_MS)]);
    temps.push(pool.dir);
    const curve: Array<Record<string, unknown>> = [];
    const nBase = [...ladder].reverse().find((n) => n <= 10) ?? ladder[0]!;
    let baseDir = '';
    let baseReport: EvaluationReport | undefined;
    for (const n of ladder) {
      const s = storeOf(pool, (d) => inLadder(d, n));
      temps.push(s.dir);
      const rep = await mergeAndScore(map, pool, s, {}, T0 + 30 * DAY_MS);
      const b = await boundaryLengths(map, s.store, pool, s.idx);
      curve.push(curvePoint(n, rep, b.published, b.covered));
      say(`  N=${n}: mAP@0.5 ${r3(rep.mAP['0.5'])} rel mAP@0.2 ${r3(rep.relative?.mAP['0.2'])} lat p50 ${r1(rep.lateralErrorCm.p50)} cm floor ${r1(rep.absoluteFloorCm)} cm`);
      if (n === nBase) {
        baseDir = s.dir;
        baseReport = rep;
      }
    }
    // Baselines at nBase.
    const na = storeOf(pool, (d) => inLadder(d, nBase));
    temps.push(na.dir);
    const noAlign = await mergeAndScore(map, pool, na, { coarseSearchM: 0, refineSearchM: 0, fineIterations: 0 }, T0 + 30 * DAY_MS);
    const nab = await boundaryLengths(map, na.store, pool, na.idx);
    let best: { rep: EvaluationReport; id: string } | undefined;
    for (const d of pool.drives.filter((x) => x.vehicleId.startsWith('veh-r1-i') && Number(x.vehicleId.slice(-2)) <= 3)) {
      const s = storeOf(pool, (x) => x.vehicleId === d.vehicleId);
      temps.push(s.dir);
      const rep = await mergeAndScore(map, pool, s, { minDrives: 1 }, T0 + 30 * DAY_MS);
      if (!best || (rep.mAP['0.5'] ?? 0) > (best.rep.mAP['0.5'] ?? 0)) best = { rep, id: d.vehicleId };
    }
    say(`  baselines at N=${nBase}: no alignment mAP@0.5 ${r3(noAlign.mAP['0.5'])}, best single drive ${r3(best?.rep.mAP['0.5'])} (merged ${r3(baseReport?.mAP['0.5'])})`);

    // Change detection on the nBase store (v1 published there).
    const after = replicas(routes, 0, maxK, 'a', T0 + 60 * DAY_MS);
    const eligible = eligibleAlong(map, routes.map((r) => r.route), routes.map((r) => r.route), 1);
    const world = applyChangeScenarios(map, CHANGE_SCENARIOS, eligible, { seed: deriveSeed(seed, `change:${sm.name}`) });
    const afterPool = await simulatePool(world.map, sm.name, after);
    temps.push(afterPool.dir);
    const coveredKm = coverageOf(map.primitives, pool.drives.map((_, i) => i).filter((i) => inLadder(pool.drives[i]!, nBase)).map((i) => pool.trajectories[i]!), { minDrives: 1 }).coveredLengthM / 1000;
    const change: Array<Record<string, unknown>> = [];
    for (const k of changeLadder) {
      const s = storeOf(afterPool, (d) => Number(d.vehicleId.slice(-2)) <= k, baseDir);
      temps.push(s.dir);
      const executor = new InProcessExecutor({ store: s.store, concurrency: 1 });
      await runMerge(s.store, { executor, nowUnixMs: () => T0 + 90 * DAY_MS });
      await executor.close();
      const diff = await diffVersions(s.store, 1, 2);
      const previous = (await loadPublishedMap(s.store, map.frame, 1)).primitives;
      const sc = scoreChanges(world.changes, reportedFromDiff(diff.changes, map.frame), coveredKm, { previous });
      change.push({ drivesAfter: k, precision: r3(sc.precision), recall: r3(sc.recall), f1: r3(sc.f1), falseChangesPer10Km: r3(sc.falseChangesPer10Km), trueChanges: sc.trueChanges, notInPrevious: sc.notInPrevious, detected: sc.detected, reported: sc.reported, missed: sc.perChange.filter((c) => !c.detected).map((c) => `${c.scenario}:${c.kind}:${c.cls}`), falseByKind: countBy(sc.falseReports.map((r) => `${r.kind}:${r.cls}`)) });
      say(`  change after ${k} drive(s)/route: P ${r3(sc.precision)} R ${r3(sc.recall)} F1 ${r3(sc.f1)}, false ${sc.falseChanges} (${r3(sc.falseChangesPer10Km)} per 10 km)`);
    }
    results.push({
      name: sm.name,
      split: sm.split,
      routes: routes.length,
      routeKm: r3(routes.reduce((a, r) => a + r.route.lengthM, 0) / 1000),
      curve,
      baselines: { drives: nBase, noAlignment: curvePoint(nBase, noAlign, nab.published, nab.covered), bestSingleDrive: best ? { vehicleId: best.id, ...curvePoint(1, best.rep, 0, 0) } : null },
      change,
      trueChanges: world.changes.map((c) => `${c.scenario}:${c.kind}:${c.cls}`),
    });
    for (const d of temps.splice(0)) rmSync(d, { recursive: true, force: true });
  }
} finally {
  for (const d of temps) rmSync(d, { recursive: true, force: true });
}

await segmenter?.close();
const name = `${perception === 'model' ? 'accuracy-model' : 'accuracy'}${terrain ? '-terrain' : ''}${roadSlope ? '-slope' : ''}${rtkDrives > 0 ? `-rtk${rtkDrives}` : ''}`;
const file = writeBenchReport(name, {
  perception: perception === 'model' ? `model (edge/model/fleetmap-seg.onnx, camera ${MODEL_CAMERA_HZ} Hz, mixed conditions, front radar; the daemon's perception path in-process)` : 'oracle (the named test double)',
  ...(perception === 'model' ? { terrain: terrain ? 'rolling (sim/terrain.ts defaults, seeded by --seed and the map name)' : 'none', roadSlope } : {}),
  settings: { routes: nRoutes, routeLengthM: 2000, ladder, changeLadder, seed, coverageMinDrives: 1, driveBiasSigmaM: DEFAULT_GNSS_ERROR_OPTIONS.biasSigmaM, rtkDrivesPerRoute: rtkDrives, ...(rtkDrives > 0 ? { rtkBiasSigmaM: RTK_GNSS_ERROR_OPTIONS.biasSigmaM } : {}) },
  maps: results,
});
say(`wrote ${file}`);
const png = path.join(BENCH_OUT_DIR, `${name}.png`);
const plot = spawnSync(PYTHON, [path.join(HERE, 'plot-accuracy.py'), file, png], { stdio: ['ignore', 'inherit', 'inherit'] });
say(plot.status === 0 ? `wrote ${png}` : `plot failed (python3-matplotlib?), exit ${plot.status}`);
