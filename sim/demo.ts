/**
 * `npm run demo` / `fleetmap demo`: the whole chain on a simulated fleet.
 *
 *   Lanelet2 map -> fleet plan -> per vehicle and pass: an edge daemon process (one boot of the
 *   vehicle computer) fed its drives' sensor messages over ZeroMQ -> ingest process (ROUTER, store) ->
 *   merge process (tiles v<N>) -> evaluation against the ground truth -> table + report.json.
 *   Then (--change-drives, default 1) the world changes (sim/change-scenarios.ts), the fleet
 *   drives again, the merge publishes v2, and what `fleetmap cloud diff v1 v2` lists is scored
 *   against the true changes (sim/demo-changes.ts): report.json `change`.
 *
 * It also writes <out>/coverage.json (sim/coverage-file.ts): the ground truth the fleet saw, the
 * drives and their realised GNSS biases; `fleetmap eval --store <out>/store --map <map>
 * --coverage <out>/coverage.json` scores the published map exactly as the demo did.
 *
 * Every process is the real `fleetmap` command on loopback TCP; the demo only plays the sensors
 * (it pushes the simulated messages into each daemon's intake) and reads the published tiles.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import * as zmq from 'zeromq';
import { LocalDirStore } from '../cloud/store/index.ts';
import { oneLine } from '../cli/errors.ts';
import { OutDirError, prepareOutDir } from '../cli/out-dir.ts';
import { parseCliArgs } from '../shared/cli-args.ts';
import { coverageOf, DEFAULT_COVERAGE_OPTIONS, type CoveragePose } from './coverage.ts';
import { toCoverageFile, writeCoverageFile, type CoverageDrive } from './coverage-file.ts';
import { provisionFleetKeys, REPLAY_MAX_AGE_DAYS, type FleetKeys } from './fleet-keys.ts';
import { formatReportTable } from './eval/index.ts';
import { evaluateOnCoverage, uploadedBatchBytes } from './eval/on-coverage.ts';
import { KARLSRUHE_OSM_PATH, loadLanelet2File, parseMapOrigin } from './bundled-maps.ts';
import type { LngLat } from '../shared/geo.ts';
import { mapSeedOf, planFleet, routesShortOf, type FleetPlan, type PlannedDrive } from './fleet.ts';
import { DEFAULT_GNSS_ERROR_OPTIONS, RTK_EDGE_MIN_GNSS_SIGMA_M, RTK_GNSS_ERROR_OPTIONS } from './gnss-error.ts';
import { loadPublishedMap } from './published-tiles.ts';
import type { SimulatedDrive } from './simulate-drive.ts';
import { DrivePool, type WorldRef } from './drive-pool.ts';
import { encodeSensorMessage, freePort, startProcess, stopProcess, type Proc } from './fleetmap-process.ts';
import { CONDITION_PRESETS, isConditionPreset, randomConditions, type CameraConditions } from './camera/conditions.ts';
import { deriveSeed, Rng } from './rng.ts';
import { Progress } from '../shared/progress.ts';
import { resolvePublished } from '../cloud/merge/publish.ts';
import { CHANGE_MIN_DRIVES, formatChangePhase, planChangePhase, scoreChangePhase, type ChangePhasePlan, type ChangePhaseResult } from './demo-changes.ts';
import type { Lanelet2Map } from './lanelet2.ts';
import { serveUntilInterrupted, startEmbeddedWeb } from '../cloud/web/embedded.ts';

const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));

/**
 * Edge daemons running at once by default: one per core, 2 to 4. With the model, each daemon
 * computes flat out while two workers render the camera (drive-pool.ts); more daemons than cores
 * only share them: on 2 cores, 4 daemons cost the whole demo 606 CPU s and 314 s against 567 CPU s
 * and 293 s with 2, the same figures (2026-12-06; the oracle's demo 123 against 122 s).
 */
const DEFAULT_CONCURRENCY = Math.min(4, Math.max(2, availableParallelism()));

const HELP = `usage: fleetmap demo [options]      (npm run demo -- [options])

Simulates a fleet over a Lanelet2 map, runs one edge daemon process per drive and the ingest
on loopback, merges, evaluates against the map and writes <out>/report.json.

  --map FILE            Lanelet2 OSM map (default: the bundled Karlsruhe map)
  --map-origin LAT,LON  WGS84 origin of the map's local_x/local_y frame, for a map whose nodes
                        have no lat/lon (Autoware's local projection); no default
  --vehicles N          vehicles (default 20)
  --drives N            drives per vehicle (default 3)
  --drive-length-m M    target route length per drive, metres (default 2000)
  --seed S              seed of everything random (default 1)
  --concurrency N       edge daemons running at once (default: the machine's cores, at least 2,
                        at most 4)
  --perception P        model (default): rendered camera frames, the on-vehicle ONNX model in
                        each daemon; oracle: the test double's body-frame observations
  --camera-hz HZ        camera frame rate with --perception model (default 2)
  --radar on|off        simulated front radar (10 Hz, sim/radar.ts) beside the camera with
                        --perception model (default on; off: camera only, for comparison)
  --rtk-vehicles N      the first N vehicles position with RTK (a few cm, sim/gnss-error.ts
                        RTK_GNSS_ERROR_OPTIONS) and their daemons declare it, so the merge takes
                        their drives as anchors (default 0)
  --change-drives N     after v1 the world changes (every change scenario) and each vehicle
                        drives N more times; the merge publishes v2 and its changes are scored
                        (default 1; 0: no change phase)
  --conditions C        imaging conditions per drive: mixed (default, seeded random effects),
                        clear, lowSun, night, wet, worn
  --terrain T           with --perception model: none (default: the road is flat, or a
                        curvature drawn per drive by the mixed conditions) or rolling (hills
                        that belong to the map, seeded by --seed: every drive over a crest sees
                        the same crest; sim/terrain.ts)
  --hw-profile FILE     every edge daemon runs on this hardware profile (default: the daemon's
                        detection, x86-64 here), e.g. one with perception.roadSlope true
  --out DIR             output directory (default out/demo): created and marked by the demo;
                        one it made before is cleared, any other non-empty one is refused
  --quiet               no progress display (it is shown on stderr only when that is a terminal)
  --serve               keep serving the map review page until Ctrl-C (the default on a terminal)
  -h, --help`;

interface DemoOptions {
  mapPath: string;
  /** Origin of the map file's local_x / local_y frame (--map-origin), when its nodes lack lat/lon. */
  mapOrigin?: LngLat;
  vehicles: number;
  drives: number;
  driveLengthM: number;
  seed: number;
  concurrency: number;
  outDir: string;
  perception: 'model' | 'oracle';
  cameraHz: number;
  /** Front radar scans beside the camera (--perception model only). */
  radar: boolean;
  conditions: string;
  terrain: 'none' | 'rolling';
  /** The edge daemons' hardware profile file (default: theirs, by detection). */
  hwProfile?: string;
  /** Vehicles (the first N of the plan) with survey-grade positioning (RTK). */
  rtkVehicles: number;
  changeDrives: number;
  quiet: boolean;
  serve: boolean;
}

export default async function demo(argv: string[]): Promise<number> {
  let o: DemoOptions;
  try {
    const { values } = parseCliArgs({
      args: argv,
      strict: true,
      options: {
        map: { type: 'string' },
        'map-origin': { type: 'string' },
        vehicles: { type: 'string' },
        drives: { type: 'string' },
        'drive-length-m': { type: 'string' },
        seed: { type: 'string' },
        concurrency: { type: 'string' },
        out: { type: 'string' },
        perception: { type: 'string' },
        'camera-hz': { type: 'string' },
        radar: { type: 'string' },
        'change-drives': { type: 'string' },
        'rtk-vehicles': { type: 'string' },
        conditions: { type: 'string' },
        terrain: { type: 'string' },
        'hw-profile': { type: 'string' },
        quiet: { type: 'boolean' },
        serve: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
    if (values.help) {
      console.log(HELP);
      return 0;
    }
    o = {
      mapPath: values.map ?? KARLSRUHE_OSM_PATH,
      ...(values['map-origin'] !== undefined ? { mapOrigin: parseMapOrigin('--map-origin', values['map-origin']) } : {}),
      vehicles: positiveInt('--vehicles', values.vehicles ?? '20'),
      drives: positiveInt('--drives', values.drives ?? '3'),
      driveLengthM: positiveInt('--drive-length-m', values['drive-length-m'] ?? '2000'),
      seed: positiveInt('--seed', values.seed ?? '1'),
      concurrency: values.concurrency === undefined ? DEFAULT_CONCURRENCY : positiveInt('--concurrency', values.concurrency),
      outDir: path.resolve(values.out ?? 'out/demo'),
      perception: oneOf('--perception', values.perception ?? 'model', ['model', 'oracle'] as const),
      cameraHz: positiveNumber('--camera-hz', values['camera-hz'] ?? '2'),
      radar: oneOf('--radar', values.radar ?? 'on', ['on', 'off'] as const) === 'on',
      conditions: values.conditions ?? 'mixed',
      terrain: oneOf('--terrain', values.terrain ?? 'none', ['none', 'rolling'] as const),
      ...(values['hw-profile'] !== undefined ? { hwProfile: path.resolve(values['hw-profile']) } : {}),
      changeDrives: nonNegativeInt('--change-drives', values['change-drives'] ?? '1'),
      rtkVehicles: nonNegativeInt('--rtk-vehicles', values['rtk-vehicles'] ?? '0'),
      quiet: values.quiet ?? false,
      serve: values.serve ?? false,
    };
    if (o.conditions !== 'mixed' && !isConditionPreset(o.conditions)) throw new RangeError(`--conditions must be mixed or one of ${Object.keys(CONDITION_PRESETS).join(', ')}, got ${JSON.stringify(o.conditions)}`);
    if (o.rtkVehicles > o.vehicles) throw new RangeError(`--rtk-vehicles must be at most --vehicles (${o.vehicles}), got ${o.rtkVehicles}`);
    if (!existsSync(o.mapPath)) throw new RangeError(`--map ${o.mapPath}: no such file`);
    if (o.hwProfile !== undefined && !existsSync(o.hwProfile)) throw new RangeError(`--hw-profile ${o.hwProfile}: no such file`);
    if (o.terrain !== 'none' && o.perception !== 'model') throw new RangeError('--terrain needs --perception model (the oracle sees the map in two dimensions)');
    // Refuse a directory the demo did not make before any work (it is cleared later, not here).
    prepareOutDir(o.outDir);
  } catch (e) {
    console.error(oneLine('fleetmap demo', e) + (e instanceof OutDirError ? '' : ' (fleetmap demo --help for usage)'));
    return 2;
  }
  return runDemo(o);
}

async function runDemo(o: DemoOptions): Promise<number> {
  const t0 = performance.now();
  const progress = new Progress({ quiet: o.quiet });
  const say = (msg: string): void => progress.interrupt(() => console.log(`[${((performance.now() - t0) / 1000).toFixed(1).padStart(6)} s] ${msg}`));

  say(`loading map ${path.relative(process.cwd(), o.mapPath) || o.mapPath}`);
  const mapOptions = o.mapOrigin ? { localOrigin: o.mapOrigin } : {};
  const map = loadLanelet2File(o.mapPath, mapOptions);
  say(`map: ${map.primitives.length} ground-truth primitives, ${map.lanelets.length} lanelets`);
  const plan = planFleet(map, { vehicles: o.vehicles, drivesPerVehicle: o.drives, driveLengthM: o.driveLengthM, seed: o.seed });
  const rtkVehicleIds = new Set(plan.vehicles.slice(0, o.rtkVehicles).map((v) => v.vehicleId));
  say(`fleet: ${plan.vehicles.length} vehicles${rtkVehicleIds.size > 0 ? ` (${[...rtkVehicleIds].join(', ')} with RTK)` : ''}, ${plan.drives.length} drives, ${(plan.totalLengthM / 1000).toFixed(1)} km planned`);
  const short = routesShortOf(plan, o.driveLengthM);
  if (short) say(`warning: ${short.count} of ${plan.drives.length} routes are shorter than 80 % of the ${o.driveLengthM} m asked (shortest ${Math.round(short.shortestM)} m, mean ${Math.round(short.meanM)} m): the map's lanelets end there (dead ends, a small map); the fleet drives less`);

  prepareOutDir(o.outDir, { clear: true });
  const storeDir = path.join(o.outDir, 'store');
  const edgeDir = path.join(o.outDir, 'edge');
  const logDir = path.join(o.outDir, 'logs');
  for (const d of [storeDir, edgeDir, logDir]) mkdirSync(d, { recursive: true });
  // The review page (cloud/web), up from the start so its charts sample the uploads; unref'd: it never keeps the demo alive.
  const web = await startEmbeddedWeb({ storeDir, logFile: path.join(logDir, 'web.log') });
  const keys = provisionFleetKeys({ edgeDir, cloudDir: o.outDir, vehicleIds: plan.vehicles.map((v) => v.vehicleId) });

  const ingestPort = await freePort();
  const ingestEndpoint = `tcp://127.0.0.1:${ingestPort}`;
  const ingest = startProcess(['cloud', 'ingest', '--bind', ingestEndpoint, '--store', storeDir, '--keys', keys.registryFile, '--ack-key', keys.ackKeyFile, ...keys.ingestCurveArgs(), '--max-age-days', REPLAY_MAX_AGE_DAYS], path.join(logDir, 'ingest.log'));
  say(`ingest started (pid ${ingest.child.pid}) on ${ingestEndpoint}, CURVE on: only the fleet's registered vehicle keys are admitted`);

  // Drives are simulated (camera frames rendered) in worker threads, up to two. With one on this
  // 2-core machine the change pass (one drive per vehicle, nothing to render ahead) left a core
  // idle while four daemons waited for frames: 2026-12-02, model demo 397 -> 345 s, the change
  // pass's drives 138 -> 98 s, the same map figures (README, "The demo").
  const pool = new DrivePool(o.mapPath, Math.max(1, Math.min(2, availableParallelism())), mapOptions);
  const ctx: DriveContext = { edgeDir, logDir, ingestEndpoint, perception: o.perception, keys, cameraHz: o.cameraHz, radar: o.radar, conditions: o.conditions, seed: o.seed, pool, rtkVehicleIds, ...(o.terrain === 'rolling' ? { terrain: { seed: deriveSeed(o.seed, 'terrain') } } : {}), ...(o.hwProfile !== undefined ? { hwProfile: o.hwProfile } : {}) };
  let first: PassResult;
  let changePhase: { phase: ChangePhasePlan; pass: PassResult } | undefined;
  let v1Evaluated: Awaited<ReturnType<typeof evaluateFirstVersion>>;
  try {
    first = await drivePass({ key: 'base' }, plan, ctx, o.concurrency, progress, say, 'demo: drive and upload', 'pass1');
    say(`all ${plan.drives.length} drives uploaded (${first.messagesPushed} sensor messages)`);
    await mergeVersion(storeDir, logDir, progress, 'merge-v1');
    say('merge published a new map version');
    v1Evaluated = await evaluateFirstVersion(o, map, plan, storeDir, first, progress, say);
    if (o.changeDrives > 0) {
      const phase = planChangePhase(map, plan, { vehicles: o.vehicles, drivesPerVehicle: o.changeDrives, driveLengthM: o.driveLengthM, seed: o.seed, laterDays: 30, minDrives: CHANGE_MIN_DRIVES });
      say(`the world changes: ${phase.world.changes.map((c) => `${c.scenario} (${c.kind} ${c.cls})`).join(', ') || 'nothing (no place both passes drive often enough)'}; ${phase.plan.drives.length} drives follow`);
      const pass = await drivePass({ key: 'changed', primitives: phase.world.map.primitives }, phase.plan, ctx, o.concurrency, progress, say, 'demo: drive after the change', 'pass2');
      changePhase = { phase, pass };
    }
  } finally {
    progress.end();
    await pool.close();
    await stopProcess(ingest, 'SIGTERM');
  }
  if (ingest.exitCode !== 0) throw new Error(`ingest exited with ${ingest.exitCode}; see ${path.join(logDir, 'ingest.log')}`);
  say('ingest stopped');
  let change: ChangePhaseResult | undefined;
  if (changePhase) {
    await mergeVersion(storeDir, logDir, progress, 'merge-v2');
    const { version } = await resolvePublished(new LocalDirStore(storeDir));
    change = await scoreChangePhase(new LocalDirStore(storeDir), map, changePhase.phase.world, v1Evaluated.report.mapVersion, version, v1Evaluated.coverage.coveredLengthM / 1000);
  }
  const { report: v1Report } = v1Evaluated;
  const elapsedS = (performance.now() - t0) / 1000;
  const out = {
    ...v1Report,
    elapsedS: round(elapsedS, 10),
    ...(change && changePhase
      ? {
          change: {
            fromVersion: change.diff.from,
            toVersion: change.diff.to,
            drivesAfter: changePhase.pass.drives,
            trueChanges: changePhase.phase.world.changes.map((c) => ({ scenario: c.scenario, kind: c.kind, cls: c.cls, id: c.id })),
            score: { ...change.score, perChange: change.score.perChange },
            diffTotals: change.diff.totals,
          },
        }
      : {}),
  };
  writeFileSync(path.join(o.outDir, 'report.json'), `${JSON.stringify(out, null, 2)}\n`);
  console.log('');
  console.log(formatReportTable(out));
  const pm = out.perception;
  console.log('model' in pm && pm.model ? `perception: on-vehicle model ${pm.model.name} ${pm.model.version} (sha256 ${pm.model.sha256.slice(0, 12)}...) on ${pm.cameraHz} Hz camera frames${pm.radar ? ' + front radar scans' : ''}, conditions ${pm.conditions}` : 'perception: oracle (the named test double)');
  if (change) {
    console.log('');
    console.log(formatChangePhase(change));
  }
  console.log('');
  const health = startProcess(['cloud', 'health', '--store', storeDir], undefined);
  await health.exited;
  say(`wrote ${path.relative(process.cwd(), path.join(o.outDir, 'report.json'))} and tiles under ${path.relative(process.cwd(), path.join(storeDir, 'tiles'))}`);
  const serve = o.serve || process.stdout.isTTY === true;
  console.log(`map review: ${web.url}${serve ? '  (serving until Ctrl-C)' : ''}`);
  if (serve) await serveUntilInterrupted(web);
  else await web.close();
  return 0;
}

interface DriveContext {
  edgeDir: string;
  logDir: string;
  ingestEndpoint: string;
  perception: 'model' | 'oracle';
  keys: FleetKeys;
  cameraHz: number;
  radar: boolean;
  conditions: string;
  seed: number;
  /** Simulates the drives off the main thread. */
  pool: DrivePool;
  /** Vehicles with survey-grade positioning (RTK_GNSS_ERROR_OPTIONS; their daemons declare it). */
  rtkVehicleIds: ReadonlySet<string>;
  /** Hills of the map (--terrain rolling), with the terrain module's defaults. */
  terrain?: { seed: number };
  hwProfile?: string;
}

/** What one pass of the fleet drove (trajectories in drive order, for coverage and the floor). */
interface PassResult {
  drives: number;
  trajectories: CoveragePose[][];
  coverageDrives: CoverageDrive[];
  kmDriven: number;
  messagesPushed: number;
}

type Say = (msg: string) => void;

/**
 * Every drive of `plan` on `map`, through real daemons: one per vehicle (startVehicleDaemon), its
 * drives played in order; vehicles run in parallel up to `concurrency`. Each daemon's log is
 * logs/<vehicle>-<passName>.log. When a drive fails, no vehicle starts another, every running
 * drive settles (its daemon stopped), then the first failure is thrown: no daemon outlives the demo.
 */
async function drivePass(world: WorldRef, plan: FleetPlan, ctx: DriveContext, concurrency: number, progress: Progress, say: Say, stage: string, passName: string): Promise<PassResult> {
  const r: PassResult = { drives: 0, trajectories: [], coverageDrives: [], kmDriven: 0, messagesPushed: 0 };
  const queue = plan.vehicles.slice();
  let failure: unknown;
  const simulate = (drive: PlannedDrive): Promise<SimulatedDrive> =>
    ctx.pool.simulate(world, drive, {
      ...(ctx.perception === 'model'
        ? { camera: { enabled: true, hz: ctx.cameraHz, conditions: demoConditions(ctx.conditions, drive.seed), calibrationSeed: ctx.seed }, ...(ctx.terrain ? { terrain: ctx.terrain } : {}), ...(ctx.radar ? { radar: { enabled: true } } : {}) }
        : {}),
      ...(ctx.rtkVehicleIds.has(drive.vehicleId) ? { gnss: RTK_GNSS_ERROR_OPTIONS } : {}),
    });
  const runVehicle = async (): Promise<void> => {
    for (let v = queue.shift(); v && failure === undefined; v = queue.shift()) {
      // The next drive is simulated while this one runs (a worker renders, the daemon infers).
      let next: Promise<SimulatedDrive> | undefined = v.drives.length > 0 ? simulate(v.drives[0]!) : undefined;
      let daemon: VehicleDaemon | undefined;
      try {
        for (let k = 0; k < v.drives.length; k++) {
          const drive = v.drives[k]!;
          const sim = await next!;
          next = k + 1 < v.drives.length ? simulate(v.drives[k + 1]!) : undefined;
          next?.catch(() => undefined); // awaited (and reported) in the next round
          if (failure !== undefined) return;
          const tr: CoveragePose[] = [];
          for (let i = 0; i < sim.truth.xM.length; i += 5) tr.push({ xM: sim.truth.xM[i]!, yM: sim.truth.yM[i]!, yawRad: sim.truth.yawRad[i]! });
          daemon ??= await startVehicleDaemon(drive, sim, ctx, passName);
          const pushed = await playDrive(daemon, drive, sim);
          r.messagesPushed += pushed; // not `+= await`: that reads the total before the await and loses other vehicles' counts
          r.trajectories.push(tr);
          r.coverageDrives.push({ driveId: drive.driveId, biasEastM: sim.gnssBias.eastM, biasNorthM: sim.gnssBias.northM, ...(ctx.rtkVehicleIds.has(drive.vehicleId) ? { biasSigmaM: RTK_GNSS_ERROR_OPTIONS.biasSigmaM } : {}), lengthM: sim.lengthM });
          r.kmDriven += sim.lengthM / 1000;
          r.drives++;
          progress.update(r.drives);
          say(`drive ${String(r.drives).padStart(3)}/${plan.drives.length} ${drive.driveId}: ${(sim.lengthM / 1000).toFixed(2)} km, ${ctx.perception === 'model' ? `${sim.counts.camera} camera frames${ctx.radar ? `, ${sim.counts.radar} radar scans` : ''}` : `${sim.counts.perception} perception frames`}, uploaded`);
        }
        if (daemon) await stopVehicleDaemon(daemon);
      } catch (e) {
        failure ??= e;
        return;
      } finally {
        // Never leave a daemon running when a drive failed (here or another vehicle's).
        if (daemon) await stopProcess(daemon.proc, 'SIGKILL');
      }
    }
  };
  progress.stage(stage, plan.drives.length, 'drives');
  try {
    await Promise.all(Array.from({ length: Math.min(concurrency, plan.vehicles.length) }, runVehicle));
  } finally {
    progress.end();
  }
  if (failure !== undefined) throw failure;
  return r;
}

/** One `fleetmap cloud merge` process over the store (its log under logs/<name>.log). */
async function mergeVersion(storeDir: string, logDir: string, progress: Progress, name: string): Promise<void> {
  progress.stage(`demo: ${name}`);
  const merge = startProcess(['cloud', 'merge', '--store', storeDir], path.join(logDir, `${name}.log`));
  await merge.exited;
  progress.end();
  if (merge.exitCode !== 0) throw new Error(`merge exited with ${merge.exitCode}; see ${path.join(logDir, `${name}.log`)}`);
}

/** Scores the first published version against what the first pass saw; writes coverage.json. */
async function evaluateFirstVersion(o: DemoOptions, map: Lanelet2Map, plan: FleetPlan, storeDir: string, first: PassResult, progress: Progress, say: Say) {
  progress.stage('demo: evaluate');
  const store = new LocalDirStore(storeDir);
  const published = await loadPublishedMap(store, map.frame);
  const uploaded = await uploadedBatchBytes(store, published.version);
  const coverage = coverageOf(map.primitives, first.trajectories, DEFAULT_COVERAGE_OPTIONS);
  const coverageFile = toCoverageFile({
    map: path.basename(o.mapPath),
    mapSeed: mapSeedOf(map),
    options: DEFAULT_COVERAGE_OPTIONS,
    driveBiasSigmaM: DEFAULT_GNSS_ERROR_OPTIONS.biasSigmaM,
    drives: first.coverageDrives,
    kmDriven: first.kmDriven,
    coverage,
    mapVersion: published.version,
  });
  writeCoverageFile(path.join(o.outDir, 'coverage.json'), coverageFile);
  say(`evaluating v${published.version}: ${published.primitives.length} published primitives in ${published.tileCount} tiles against ${coverage.covered.length} covered ground-truth pieces (${(coverage.coveredLengthM / 1000).toFixed(1)} of ${(coverage.totalLengthM / 1000).toFixed(1)} km of lines seen by >= 2 drives)`);
  // The same call as `fleetmap eval --coverage` (sim/eval/on-coverage.ts): same figures.
  const evaluation = evaluateOnCoverage(coverageFile, published.primitives, { bytesUploaded: uploaded.bytes });
  progress.end();
  const report = {
    ...evaluation,
    mapVersion: published.version,
    batches: uploaded.batches,
    groundTruthCoverage: { minDrives: DEFAULT_COVERAGE_OPTIONS.minDrives, file: 'coverage.json', coveredLengthM: round(coverage.coveredLengthM, 10), totalLengthM: round(coverage.totalLengthM, 10) },
    perception: o.perception === 'model' ? { kind: 'model' as const, cameraHz: o.cameraHz, radar: o.radar, conditions: o.conditions, terrain: o.terrain, ...(o.hwProfile !== undefined ? { hwProfile: path.basename(o.hwProfile) } : {}), model: modelIdentity() } : { kind: 'oracle' as const },
    settingsDemo: { map: path.basename(o.mapPath), mapSeed: plan.mapSeed, vehicles: o.vehicles, drivesPerVehicle: o.drives, driveLengthM: o.driveLengthM, seed: o.seed, perception: o.perception, changeDrivesPerVehicle: o.changeDrives, rtkVehicles: o.rtkVehicles },
  };
  return { report, coverage };
}

/** Name, version and sha256 of the model the edge daemons load (edge/model/, metadata beside it). */
function modelIdentity(): { name: string; version: string; sha256: string } {
  const md = JSON.parse(readFileSync(path.join(REPO_ROOT, 'edge', 'model', 'fleetmap-seg.json'), 'utf8')) as { name: string; version: string; sha256: string };
  return { name: md.name, version: md.version, sha256: md.sha256 };
}

/** The imaging conditions of one drive: a preset, or a seeded random mix of effects. */
function demoConditions(name: string, driveSeed: number): Partial<CameraConditions> {
  if (name === 'mixed') return randomConditions(new Rng(deriveSeed(driveSeed, 'demo-conditions')));
  return isConditionPreset(name) ? CONDITION_PRESETS[name] : {};
}

/** Longest wait for a daemon to deliver one drive after its last message was pushed. */
const DRIVE_DRAIN_TIMEOUT_MS = 600_000; // ms

/** A vehicle's daemon through the drives of one pass. */
interface VehicleDaemon {
  vehicleId: string;
  proc: Proc;
  endpoint: string;
  logFile: string;
  /** The camera calibration it was started with (every drive of the vehicle must match it). */
  calibrationJson: string;
}

/**
 * One boot of the vehicle computer per vehicle and pass: the daemon starts with the vehicle's
 * first drive of the pass and runs through its drives (a car not switched off between errands;
 * its outbox carries over to the next pass's boot). One process per drive cost every drive the
 * daemon's start (module loading, the model session) and its JIT warm-up again: about 1 s of CPU.
 */
async function startVehicleDaemon(drive: PlannedDrive, sim: SimulatedDrive, ctx: DriveContext, pass: string): Promise<VehicleDaemon> {
  const calibrationFile = path.join(ctx.edgeDir, `${drive.vehicleId}.camera.json`);
  const calibrationJson = `${JSON.stringify(sim.calibration, null, 2)}\n`;
  writeFileSync(calibrationFile, calibrationJson);
  const args = [
    'edge', 'run',
    '--vehicle-id', drive.vehicleId,
    '--key-file', ctx.keys.keyFileOf(drive.vehicleId),
    '--ingest-ack-key', ctx.keys.ackPublicKeyFile,
    ...ctx.keys.edgeCurveArgs(drive.vehicleId),
    '--intake', 'tcp://127.0.0.1:*',
    '--ingest', ctx.ingestEndpoint,
    '--outbox', path.join(ctx.edgeDir, `${drive.vehicleId}.sqlite`),
    ...(ctx.rtkVehicleIds.has(drive.vehicleId) ? ['--gnss-min-sigma-m', String(RTK_EDGE_MIN_GNSS_SIGMA_M)] : []),
    ...(ctx.hwProfile !== undefined ? ['--hw-profile', ctx.hwProfile] : []),
    // The demo plays the sensors faster than real time: perception applies backpressure instead of skipping.
    ...(ctx.perception === 'model' ? ['--camera-calibration', calibrationFile, '--replay'] : []),
  ];
  const logFile = path.join(ctx.logDir, `${drive.vehicleId}-${pass}.log`);
  const proc = startProcess(args, logFile);
  try {
    const listening = await proc.waitForEvent('intake_listening', 120_000);
    return { vehicleId: drive.vehicleId, proc, endpoint: String(listening.endpoint), logFile, calibrationJson };
  } catch (e) {
    await stopProcess(proc, 'SIGKILL');
    throw e;
  }
}

/**
 * Play one drive into the vehicle's running daemon and wait until it is drained again: its end
 * marker came and everything was delivered (one `drained` event per drive: while a drive is open
 * the daemon is never drained, edge/rules.ts isDrained).
 */
async function playDrive(d: VehicleDaemon, drive: PlannedDrive, sim: SimulatedDrive): Promise<number> {
  if (`${JSON.stringify(sim.calibration, null, 2)}\n` !== d.calibrationJson) throw new Error(`drive ${drive.driveId}: its camera calibration differs from the one ${d.vehicleId}'s daemon started with`);
  const drained = d.proc.waitForEvent('drained', DRIVE_DRAIN_TIMEOUT_MS);
  drained.catch(() => undefined); // awaited below, after the push
  const push = new zmq.Push({ sendHighWaterMark: 1000, linger: 30_000 });
  push.connect(d.endpoint);
  try {
    for (const m of sim.messages) await push.send(encodeSensorMessage(m));
  } finally {
    push.close();
  }
  await drained;
  return sim.messages.length;
}

/** Stop a vehicle's daemon after its last drive of the pass (SIGTERM: it exits 0). */
async function stopVehicleDaemon(d: VehicleDaemon): Promise<void> {
  await stopProcess(d.proc, 'SIGTERM');
  if (d.proc.exitCode !== 0) throw new Error(`edge daemon of ${d.vehicleId} exited with ${d.proc.exitCode}; see ${d.logFile}`);
}

function oneOf<T extends string>(flag: string, v: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(v)) throw new RangeError(`${flag} must be one of ${allowed.join(', ')}, got ${JSON.stringify(v)}`);
  return v as T;
}

function positiveNumber(flag: string, v: string): number {
  const n = Number(v);
  if (!(Number.isFinite(n) && n > 0)) throw new RangeError(`${flag} must be a positive number, got ${JSON.stringify(v)}`);
  return n;
}

function nonNegativeInt(flag: string, v: string): number {
  const n = Number(v);
  if (!/^\d+$/.test(v) || !Number.isInteger(n)) throw new RangeError(`${flag} must be an integer >= 0, got ${JSON.stringify(v)}`);
  return n;
}

function positiveInt(flag: string, v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`${flag} must be a positive integer, got ${JSON.stringify(v)}`);
  return n;
}

const round = (v: number, k: number): number => Math.round(v * k) / k;
