/**
 * `npm run bench:merge` -> out/bench/merge.json: merge throughput on a simulated Karlsruhe fleet
 * (default 40 vehicles x 3 drives = 120 drives, oracle perception, edge georeferencing and
 * compaction in-process: sim/fleet-store.ts), all in one run on this machine:
 *
 * - `verticesPerSPerCore`: observation vertices in the store / CPU seconds of a whole `runMerge`
 *   (rebuild + recomputeAll: every batch read and decoded, every tile merged and published) with
 *   one in-process worker (one core; CPU time, as the machine is shared: the wall-clock figure is
 *   `verticesPerSWallOneWorker`). Median of `--runs` merges.
 * - `workers`: the same with n = 1, 2 workers: `worker_threads` (WorkerThreadExecutor) and
 *   `bullmq` (QueueExecutor on a local redis-server, n `fleetmap cloud worker` processes, their
 *   start-up not timed). `verticesPerS` is wall-clock throughput of the whole merge; `cpuS` the
 *   CPU seconds of this process and the worker processes.
 * - `incremental`: the store first holds 90 % of the drives (merged as v1); the other 10 % are
 *   added and merged incrementally (`s`, runMerge from v<N-1>'s state: only tiles whose jobs
 *   gather an observation that changed are recomputed, cloud/merge/plan.ts), then the same store is merged whole
 *   (`fullS`); `ratio` = s / fullS. The 10 % are the plan's last drives by start time; on the
 *   9-tile Karlsruhe map they reach every tile.
 * - `incrementalWideArea`: the same on a wide area (sim/bench/wide-area.ts): a generated grid
 *   city of 18 x 18 junctions 250 m apart (4.25 km square, one connected network built with
 *   sim/mapgen's buildNetwork), 40 vehicles x 3 drives of 2 km spread over it; held out and
 *   merged incrementally: a seeded uniformly random 10 % of the drives (not by place or time).
 *   `s`, `fullS`: medians of 3 incremental + full pairs, each from a copy of the same store.
 *   Also `tiles` (in the published version), `tilesRecomputed` by the incremental merge,
 *   `tilesWithNewObservations`, `drivesPerTile` (distinct drives with observations in a tile).
 * - `dbscan`: the merge's sign / light clustering against scikit-learn's DBSCAN on the same
 *   points (sim/bench/point-clustering.ts): DBSCAN's eps chosen on the Karlsruhe store's points,
 *   both reported on the wide area's (every drive of it), with the paired comparison per truth
 *   point; Karlsruhe's own figures in `dbscan.tuningSet`. `ratio` = sklearn.s / ours.s.
 *
 * Environment: BENCH_MERGE_VEHICLES (40), BENCH_MERGE_DRIVES (3 per vehicle); the wide area's
 * BENCH_MERGE_WIDE_GRID (18 junctions per side, at most 40), BENCH_MERGE_WIDE_VEHICLES (40),
 * BENCH_MERGE_WIDE_DRIVES (3 per vehicle), BENCH_MERGE_WIDE_RUNS (3 incremental + full
 * pairs, medians); `--runs N` (1, the Karlsruhe full merges).
 * Timings on a shared 2-core machine are noisy: compare figures of one run with each other.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { InProcessExecutor, QueueExecutor, WorkerThreadExecutor, runMerge, silentLog, type MergeExecutor, type MergeLog } from '../../cloud/merge/index.ts';
import { readStoredBatch } from '../../cloud/merge/stored-batch.ts';
import { LocalDirStore, type ObjectStore } from '../../cloud/store/index.ts';
import type { WireObservation } from '../../shared/batch.ts';
import { startRedis } from '../../test/support/redis.ts';
import { KARLSRUHE_OSM_PATH, loadLanelet2File } from '../bundled-maps.ts';
import { planFleet } from '../fleet.ts';
import { simulateFleetIntoStore } from '../fleet-store.ts';
import { startProcess, stopProcess, type Proc } from '../fleetmap-process.ts';
import { comparePointClustering, pointCase } from './point-clustering.ts';
import { benchArgs, benchUsage, round3, summarize, writeBenchReport } from './report.ts';
import { DEFAULT_WIDE_AREA_OPTIONS, measureWideAreaIncremental } from './wide-area.ts';

const VEHICLES = Number(process.env.BENCH_MERGE_VEHICLES ?? 40);
const DRIVES_PER_VEHICLE = Number(process.env.BENCH_MERGE_DRIVES ?? 3);
/** Share of the drives added for the incremental merge. */
const NEW_DRIVES_SHARE = 0.1;
const WIDE_AREA = {
  ...DEFAULT_WIDE_AREA_OPTIONS,
  gridJunctions: Number(process.env.BENCH_MERGE_WIDE_GRID ?? DEFAULT_WIDE_AREA_OPTIONS.gridJunctions),
  vehicles: Number(process.env.BENCH_MERGE_WIDE_VEHICLES ?? DEFAULT_WIDE_AREA_OPTIONS.vehicles),
  drivesPerVehicle: Number(process.env.BENCH_MERGE_WIDE_DRIVES ?? DEFAULT_WIDE_AREA_OPTIONS.drivesPerVehicle),
  newDrivesShare: NEW_DRIVES_SHARE,
  runs: Number(process.env.BENCH_MERGE_WIDE_RUNS ?? DEFAULT_WIDE_AREA_OPTIONS.runs),
};
/** Linux's USER_HZ: /proc/<pid>/stat counts CPU time in these. */
const CLOCK_TICKS_PER_S = 100;

const { runs } = benchUsage('merge', () => benchArgs(process.argv.slice(2), 1));
const t0 = performance.now();
const say = (m: string): void => console.log(`[${((performance.now() - t0) / 1000).toFixed(1).padStart(6)} s] ${m}`);

const map = loadLanelet2File(KARLSRUHE_OSM_PATH);
const plan = planFleet(map, { vehicles: VEHICLES, drivesPerVehicle: DRIVES_PER_VEHICLE, driveLengthM: 2000, seed: 1 });
const dir = mkdtempSync(path.join(tmpdir(), 'fm-bench-merge-'));
const storeDir = path.join(dir, 'store');
const store = new LocalDirStore(storeDir);
try {
  // 90 % of the drives, merged as v1; then the rest, merged incrementally; then whole.
  const nOld = Math.round(plan.drives.length * (1 - NEW_DRIVES_SHARE));
  const seqOf = new Map<string, number>();
  const first = await simulateFleetIntoStore(map, plan.drives.slice(0, nOld), store, { seqOf });
  say(`fleet: ${nOld} drives, ${first.observations} observations`);
  await timedMerge(store, new InProcessExecutor({ store, concurrency: 1 }), true);
  const second = await simulateFleetIntoStore(map, plan.drives.slice(nOld), store, { seqOf });
  say(`fleet: + ${plan.drives.length - nOld} drives, ${second.observations} observations`);
  const inc = await timedMerge(store, new InProcessExecutor({ store, concurrency: 1 }), false);
  say(`incremental merge: ${inc.s.toFixed(2)} s (${inc.cpuS.toFixed(2)} CPU s)`);

  const input = await readAll(store);
  say(`store: ${input.observations.length} observations, ${input.vertices} vertices in ${input.batches} batches`);

  const full: Timing[] = [];
  for (let r = 0; r < runs; r++) full.push(await timedMerge(store, new InProcessExecutor({ store, concurrency: 1 }), true));
  const fullS = summarize(full.map((t) => t.s)).median;
  const fullCpuS = summarize(full.map((t) => t.cpuS)).median;
  say(`full merge, 1 in-process worker: ${fullS.toFixed(2)} s, ${fullCpuS.toFixed(2)} CPU s (${Math.round(input.vertices / fullCpuS)} vertices per CPU second)`);

  const workers: Array<{ n: number; executor: string; verticesPerS: number; s: number; cpuS: number }> = [];
  const addWorkers = (n: number, executor: string, t: Timing): void => {
    workers.push({ n, executor, verticesPerS: Math.round(input.vertices / t.s), s: round3(t.s), cpuS: round3(t.cpuS) });
    say(`full merge, ${n} ${executor} worker(s): ${t.s.toFixed(2)} s, ${t.cpuS.toFixed(2)} CPU s`);
  };
  for (const n of [1, 2]) addWorkers(n, 'worker_threads', await timedMerge(store, new WorkerThreadExecutor({ workers: n }), true));
  for (const n of [1, 2]) addWorkers(n, 'bullmq', await bullmqMerge(store, storeDir, n, dir));

  const wide = await measureWideAreaIncremental(WIDE_AREA, dir, (s, full, log) => timedMerge(s, new InProcessExecutor({ store: s, concurrency: 1 }), full, [], log), say);
  const incrementalWideArea = wide.report;

  const dbscan = comparePointClustering(pointCase('karlsruhe (the store above)', map, input.observations), pointCase(`wide area (${wide.report.map}, every drive)`, wide.map, (await readAll(new LocalDirStore(wide.storeDir))).observations));
  const fig = (f: { s: number; positionErrorCm: number }): string => `${(f.s * 1000).toFixed(2)} ms, ${f.positionErrorCm} cm`;
  say(`point clustering on ${dbscan.tuningSet.name} (${dbscan.tuningSet.truth} truth points): ours ${fig(dbscan.tuningSet.ours)}; sklearn ${fig(dbscan.tuningSet.sklearn)} (eps ${dbscan.sklearn.epsM} m, chosen here)`);
  say(`point clustering on ${dbscan.evaluation} (${dbscan.truth} truth points): ours ${fig(dbscan.ours)}; sklearn ${fig(dbscan.sklearn)}; ${dbscan.ratio}x; ours nearer ${dbscan.paired.oursNearer}, sklearn nearer ${dbscan.paired.sklearnNearer}, difference of medians ${dbscan.paired.medianDifferenceCm} cm (95 % ${dbscan.paired.ci95Cm.join(' to ')})`);

  const file = writeBenchReport('merge', {
    drives: plan.drives.length,
    observations: input.observations.length,
    vertices: input.vertices,
    batches: input.batches,
    runs,
    fullMergeS: summarize(full.map((t) => t.s)),
    fullMergeCpuS: summarize(full.map((t) => t.cpuS)),
    // Per CPU second of the one-worker merge (the machine is shared: wall time overstates it).
    verticesPerSPerCore: Math.round(input.vertices / fullCpuS),
    verticesPerSWallOneWorker: Math.round(input.vertices / fullS),
    targetVerticesPerSPerCore: 1_000_000,
    workers,
    incremental: { newDrivesShare: NEW_DRIVES_SHARE, s: round3(inc.s), fullS: round3(fullS), ratio: round3(inc.s / fullS), cpuS: round3(inc.cpuS), fullCpuS: round3(fullCpuS) },
    incrementalWideArea,
    dbscan,
  });
  say(`wrote ${file}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}

interface Timing {
  /** Wall-clock seconds. */
  s: number;
  /** CPU seconds of this process (all its threads) and of `pids`, over the same span. */
  cpuS: number;
}

/**
 * One runMerge: `full` reads every batch again and recomputes every tile (rebuild,
 * recomputeAll), else the default incremental merge from v<N-1>'s state.
 */
async function timedMerge(s: ObjectStore, executor: MergeExecutor, full: boolean, pids: readonly number[] = [], log: MergeLog = silentLog): Promise<Timing> {
  const t = performance.now();
  const c0 = process.cpuUsage();
  const p0 = pids.map(procCpuS);
  try {
    await runMerge(s, { executor, rebuild: full, recomputeAll: full, log });
  } finally {
    await executor.close();
  }
  const c = process.cpuUsage(c0);
  const others = pids.reduce((a, pid, i) => a + procCpuS(pid) - p0[i]!, 0);
  return { s: (performance.now() - t) / 1000, cpuS: (c.user + c.system) / 1e6 + others };
}

/** CPU seconds (user + system) a process has used so far, from /proc (Linux; 0 elsewhere). */
function procCpuS(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / CLOCK_TICKS_PER_S;
  } catch {
    return 0;
  }
}

/** A full merge through BullMQ: a fresh redis-server and n worker processes (start-up not timed). */
async function bullmqMerge(s: ObjectStore, storeDir: string, n: number, workDir: string): Promise<Timing> {
  const redis = await startRedis();
  const procs: Proc[] = [];
  try {
    for (let i = 0; i < n; i++) procs.push(startProcess(['cloud', 'worker', '--redis', redis.url, '--store', storeDir], path.join(workDir, `worker-${n}-${i}.log`)));
    await Promise.all(procs.map((p) => p.waitForEvent('worker_ready', 60_000)));
    return await timedMerge(s, new QueueExecutor({ redisUrl: redis.url }), true, procs.map((p) => p.child.pid!));
  } finally {
    await Promise.all(procs.map((p) => stopProcess(p, 'SIGTERM')));
    await redis.stop();
  }
}

/** Every stored observation, decoded, and the vertex count. */
async function readAll(s: ObjectStore): Promise<{ observations: WireObservation[]; vertices: number; batches: number }> {
  const keys = (await s.list('batches/')).filter((k) => k.endsWith('.fmb'));
  const observations: WireObservation[] = [];
  let vertices = 0;
  for (const key of keys) {
    for (const o of readStoredBatch(key, (await s.get(key))!).observations) {
      observations.push(o);
      vertices += o.pointsCm.length;
    }
  }
  return { observations, vertices, batches: keys.length };
}

