/**
 * `npm run bench:ingest` -> out/bench/ingest.json: durable, acknowledged ingest throughput over
 * loopback with many concurrent vehicles, set beside the raw rate of fsync'd writes of the same
 * sizes to the same disk, in one run.
 *
 * - Transport: CURVE + ZAP, as in production (each vehicle's registered CURVE keypair).
 * - Vehicles: each a DEALER socket sending its pre-signed batches stop-and-wait (the next batch
 *   after the verified ack of the last), as the edge daemon does. Every ack must be `stored`. The
 *   clock runs from the first send until the ingest, stopped after the last ack, has exited: its
 *   journal's last checkpoint (every batch synced in place) is inside the figure, not after it.
 * - The ingest is the real `fleetmap cloud ingest` process on a fresh store, with its default
 *   group commit (`--max-in-flight 32`, the write journal), handling one message at a time
 *   (`--max-in-flight 1`), and with group commit but without the journal (`--no-journal`: every
 *   batch synced on its own before its ack), so each gain is measured, not assumed.
 * - Raw: the same number of files of the same sizes written to a directory on the same disk, each
 *   opened, written, fsync'd and closed, one after another (what one durable write costs).
 *
 * Fields: batchesPerS, mbPerS, rawFsyncMbPerS, ratioVsRaw (mbPerS / rawFsyncMbPerS), vehicles,
 * plus the serial run's figures, the batch sizes, cpuCores: the CPU the bench's own process
 * (the vehicles) and the ingest used per second of each run (Linux /proc), to tell whether a
 * 2-core machine, not the disk, is the limit, and cpuMsPerBatch: the same CPU per batch, with the
 * ingest's main thread apart (the figure to compare code changes by: the rates move with the
 * shared disk's speed, 250 to 3,000 fsync'd files/s on one day). BENCH_INGEST_MAX_IN_FLIGHT=N sets
 * the group-commit runs' --max-in-flight (groupMaxInFlight). BENCH_INGEST_THREADS=1 also prints the ingest's
 * CPU by thread (main, libuv pool and V8 workers as "node", ZeroMQ I/O).
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, writeSync } from 'node:fs';
import * as path from 'node:path';
import * as zmq from 'zeromq';
import { prepareOutDir } from '../../cli/out-dir.ts';
import { decodeAck, encodeBatch, readPrivateKeyFile, readPublicKeyFile, tileKey, tileOf, type WireObservation } from '../../shared/index.ts';
import { readCurveKeypair } from '../../shared/curve.ts';
import { provisionFleetKeys } from '../fleet-keys.ts';
import { freePort, startProcess, stopProcess } from '../fleetmap-process.ts';
import { Rng } from '../rng.ts';
import { BENCH_OUT_DIR, summarize, writeBenchReport } from './report.ts';
import { Progress } from '../../shared/progress.ts';

const VEHICLES = Number(process.env.BENCH_INGEST_VEHICLES ?? 64);
/**
 * 160 batches each (10,240 a run): long enough that the journal's checkpoints run alongside the
 * acks, as they do in service; with 40 the whole run's checkpoint lands after the last ack and the
 * figure mostly measures that tail.
 */
const BATCHES_PER_VEHICLE = Number(process.env.BENCH_INGEST_BATCHES ?? 160);
/** Observations per batch: about what a vehicle uploads per minute of driving with the model. */
const OBSERVATIONS_PER_BATCH = 120;
const ROUNDS = Number(process.env.BENCH_INGEST_ROUNDS ?? 2);
/** The group-commit runs' `--max-in-flight` (the ingest's default, 32, unless set). */
const GROUP_IN_FLIGHT = Number(process.env.BENCH_INGEST_MAX_IN_FLIGHT ?? 32);

interface RunResult {
  batches: number;
  bytes: number;
  /** From the first send to the last ack (the rate vehicles see)... */
  ackSeconds?: number;
  /** ...and to the ingest's exit, every batch synced in place (its journal checkpointed): the figure the rates use. */
  seconds: number;
  /** CPU seconds (user + system) over the timed span: this bench process (the 64 vehicles) and the ingest process. */
  clientCpuS?: number;
  ingestCpuS?: number;
  /** CPU seconds of the ingest's main thread (the one JavaScript thread: socket, handling, store calls) over the timed span. */
  ingestMainCpuS?: number;
}

/** User + system CPU seconds of a process so far (Linux /proc; undefined elsewhere). */
function procCpuS(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / 100; // utime, stime (fields 14, 15) in clock ticks (USER_HZ 100)
  } catch {
    return undefined;
  }
}

/** CPU seconds by thread name (main thread, libuv pool, ZeroMQ I/O threads...) of a process so far (Linux /proc). */
function threadCpuS(pid: number | undefined): Map<string, number> {
  const out = new Map<string, number>();
  if (pid === undefined) return out;
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const name = tid === String(pid) ? 'main' : stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(name, (out.get(name) ?? 0) + (Number(f[11]) + Number(f[12])) / 100);
    }
  } catch {
    // the process is gone, or no /proc: no breakdown
  }
  return out;
}

const selfCpuS = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

function makeBatches(keyFile: string, vehicleId: string, rng: Rng): Buffer[] {
  const key = readPrivateKeyFile(keyFile);
  const tile = tileKey(tileOf({ lng: 8.4037, lat: 49.0069 }));
  const out: Buffer[] = [];
  const nowMs = Date.now();
  for (let seq = 1; seq <= BATCHES_PER_VEHICLE; seq++) {
    const observations: WireObservation[] = [];
    for (let i = 0; i < OBSERVATIONS_PER_BATCH; i++) {
      const x0 = Math.round(rng.uniform(-20000, 20000));
      const y0 = Math.round(rng.uniform(-20000, 20000));
      const pts: Array<[number, number]> = [];
      for (let k = 0; k < 6; k++) pts.push([x0 + k * 150 + Math.round(rng.uniform(-5, 5)), y0 + Math.round(rng.uniform(-20, 20))]);
      observations.push({ tile, driveId: `${vehicleId}-d1`, tUnixMs: nowMs - 60_000 + i * 100, cls: 'road_boundary', kind: 'curb', score: rng.uniform(0.3, 1), poseSigmaCm: 40, pointsCm: pts });
    }
    out.push(encodeBatch({ vehicleId, seq, createdUnixMs: nowMs, queueDepth: BATCHES_PER_VEHICLE - seq, observations }, key));
  }
  return out;
}

async function runIngest(dir: string, maxInFlight: number, journal: boolean, fleet: { vehicleIds: string[]; batches: Buffer[][] }, keys: ReturnType<typeof provisionFleetKeys>): Promise<RunResult> {
  const name = `${maxInFlight}${journal ? '' : '-no-journal'}`;
  const storeDir = path.join(dir, `store-${name}`);
  mkdirSync(storeDir, { recursive: true });
  const port = await freePort();
  const endpoint = `tcp://127.0.0.1:${port}`;
  const ingest = startProcess(['cloud', 'ingest', '--bind', endpoint, '--store', storeDir, '--keys', keys.registryFile, '--ack-key', keys.ackKeyFile, ...keys.ingestCurveArgs(), '--max-in-flight', String(maxInFlight), ...(journal ? [] : ['--no-journal'])], path.join(dir, `ingest-${name}.log`));
  await ingest.waitForEvent('ingest_listening', 30_000);
  const ackKey = readPublicKeyFile(keys.ackPublicKeyFile);
  const sockets = fleet.vehicleIds.map((v) => {
    const kp = readCurveKeypair(keys.curveKeypairFileOf(v));
    return new zmq.Dealer({ linger: 0, curveServerKey: keys.ingestCurvePublicKey, curvePublicKey: kp.publicKey, curveSecretKey: kp.secretKey });
  });
  for (const s of sockets) s.connect(endpoint);
  let bytes = 0;
  let batches = 0;
  const ingestCpu0 = procCpuS(ingest.child.pid);
  const threads0 = threadCpuS(ingest.child.pid);
  const clientCpu0 = selfCpuS();
  const t0 = performance.now();
  await Promise.all(
    sockets.map(async (sock, v) => {
      for (const b of fleet.batches[v]!) {
        await sock.send(b);
        const [reply] = await sock.receive();
        const ack = decodeAck(reply!, ackKey);
        if (ack.status !== 'stored') throw new Error(`vehicle ${fleet.vehicleIds[v]}: ack ${ack.status} ${ack.reason ?? ''}`);
        bytes += b.length;
        batches++;
      }
    }),
  );
  const ackSeconds = (performance.now() - t0) / 1000;
  const clientCpuS = selfCpuS() - clientCpu0;
  const ingestCpu1 = procCpuS(ingest.child.pid);
  const threads1 = threadCpuS(ingest.child.pid);
  const ingestMainCpuS = threads0.has('main') && threads1.has('main') ? threads1.get('main')! - threads0.get('main')! : undefined;
  if (process.env.BENCH_INGEST_THREADS) {
    const by = [...threads1].map(([name, s]) => [name, s - (threads0.get(name) ?? 0)] as const).filter(([, s]) => s > 0);
    console.log(`ingest --max-in-flight ${maxInFlight}${journal ? '' : ' --no-journal'}: ${ackSeconds.toFixed(2)} s; CPU s by thread: ${by.map(([n, s]) => `${n} ${s.toFixed(2)}`).join(', ')}; client ${(selfCpuS() - clientCpu0).toFixed(2)}`);
  }
  for (const s of sockets) s.close();
  await stopProcess(ingest, 'SIGTERM'); // its journal's last checkpoint: every batch synced in place
  const seconds = (performance.now() - t0) / 1000;
  return { batches, bytes, ackSeconds, seconds, clientCpuS, ingestCpuS: ingestCpu0 !== undefined && ingestCpu1 !== undefined ? ingestCpu1 - ingestCpu0 : undefined, ingestMainCpuS };
}

function rawFsync(dir: string, sizes: readonly number[]): RunResult {
  const rawDir = path.join(dir, 'raw');
  mkdirSync(rawDir, { recursive: true });
  const buf = Buffer.alloc(Math.max(...sizes), 0x5a);
  const t0 = performance.now();
  let bytes = 0;
  sizes.forEach((n, i) => {
    const fd = openSync(path.join(rawDir, `${i}.bin`), 'wx');
    writeSync(fd, buf, 0, n);
    fsyncSync(fd);
    closeSync(fd);
    bytes += n;
  });
  return { batches: sizes.length, bytes, seconds: (performance.now() - t0) / 1000 };
}

async function main(): Promise<void> {
  if (!(Number.isInteger(GROUP_IN_FLIGHT) && GROUP_IN_FLIGHT >= 1)) throw new Error(`BENCH_INGEST_MAX_IN_FLIGHT must be a positive integer, got ${JSON.stringify(process.env.BENCH_INGEST_MAX_IN_FLIGHT)}`);
  const dir = prepareOutDir(path.join(BENCH_OUT_DIR, 'ingest-run'), { clear: true });
  const vehicleIds = Array.from({ length: VEHICLES }, (_, i) => `bench-${String(i + 1).padStart(3, '0')}`);
  const keys = provisionFleetKeys({ edgeDir: dir, cloudDir: dir, vehicleIds });
  const rng = new Rng('bench-ingest');
  const batches = vehicleIds.map((v) => makeBatches(keys.keyFileOf(v), v, rng));
  const sizes = batches.flat().map((b) => b.length);
  const fleet = { vehicleIds, batches };
  console.log(`${VEHICLES} vehicles x ${BATCHES_PER_VEHICLE} batches, ${(sizes.reduce((a, b) => a + b, 0) / sizes.length / 1024).toFixed(1)} KiB each`);
  // Rounds interleave the three measurements so that the shared disk's drift hits them alike;
  // each figure is the median over rounds.
  const rounds: Array<{ raw: RunResult; serial: RunResult; group: RunResult; noJournal: RunResult }> = [];
  // On a terminal (stderr) only, and not with --quiet.
  const progress = new Progress({ quiet: process.argv.includes('--quiet') });
  progress.stage('ingest: rounds (raw fsync, one at a time, group commit, group commit without the journal)', ROUNDS, 'rounds');
  for (let r = 1; r <= ROUNDS; r++) {
    const raw = rawFsync(path.join(dir, `round-${r}`), sizes);
    const serial = await runIngest(path.join(dir, `round-${r}`), 1, true, fleet, keys);
    const group = await runIngest(path.join(dir, `round-${r}`), GROUP_IN_FLIGHT, true, fleet, keys);
    const noJournal = await runIngest(path.join(dir, `round-${r}`), GROUP_IN_FLIGHT, false, fleet, keys);
    rounds.push({ raw, serial, group, noJournal });
    progress.tick();
    progress.interrupt(() => console.log(`round ${r}: raw ${(raw.batches / raw.seconds).toFixed(0)} files/s ${(raw.bytes / 1e6 / raw.seconds).toFixed(2)} MB/s; ingest one at a time ${(serial.batches / serial.seconds).toFixed(0)} batches/s; group commit ${(group.batches / group.seconds).toFixed(0)} batches/s ${(group.bytes / 1e6 / group.seconds).toFixed(2)} MB/s (last ack after ${group.ackSeconds!.toFixed(2)} s, synced in place after ${group.seconds.toFixed(2)} s); without the journal ${(noJournal.batches / noJournal.seconds).toFixed(0)} batches/s; CPU cores busy (client/ingest): one at a time ${cores(serial)}, group ${cores(group)}, without the journal ${cores(noJournal)}`));
  }
  progress.end();
  const med = (f: (x: (typeof rounds)[number]) => number): number => summarize(rounds.map(f)).median;
  const mbPerS = med((x) => x.group.bytes / 1e6 / x.group.seconds);
  const rawFsyncMbPerS = med((x) => x.raw.bytes / 1e6 / x.raw.seconds);
  const serialMbPerS = med((x) => x.serial.bytes / 1e6 / x.serial.seconds);
  const noJournalMbPerS = med((x) => x.noJournal.bytes / 1e6 / x.noJournal.seconds);
  const file = writeBenchReport('ingest', {
    vehicles: VEHICLES,
    batchesPerVehicle: BATCHES_PER_VEHICLE,
    rounds: ROUNDS,
    groupMaxInFlight: GROUP_IN_FLIGHT,
    meanBatchBytes: Math.round(sizes.reduce((a, b) => a + b, 0) / sizes.length),
    batchesPerS: round(med((x) => x.group.batches / x.group.seconds)),
    mbPerS: round(mbPerS),
    rawFsyncMbPerS: round(rawFsyncMbPerS),
    rawFsyncFilesPerS: round(med((x) => x.raw.batches / x.raw.seconds)),
    ratioVsRaw: round(mbPerS / rawFsyncMbPerS),
    ratioVsRawPerRound: rounds.map((x) => round(x.group.bytes / x.group.seconds / (x.raw.bytes / x.raw.seconds))),
    serial: { batchesPerS: round(med((x) => x.serial.batches / x.serial.seconds)), mbPerS: round(serialMbPerS), ratioVsRaw: round(serialMbPerS / rawFsyncMbPerS) },
    groupCommitGain: round(mbPerS / serialMbPerS),
    // Group commit with every batch synced on its own (file, then directory) instead of the journal.
    noJournal: { batchesPerS: round(med((x) => x.noJournal.batches / x.noJournal.seconds)), mbPerS: round(noJournalMbPerS), ratioVsRaw: round(noJournalMbPerS / rawFsyncMbPerS), cpuMsPerBatchIngest: round(med((x) => perBatchMs(x.noJournal.ingestCpuS, x.noJournal))) },
    journalGain: round(mbPerS / noJournalMbPerS),
    // The rate vehicles see: to the last ack (the journal's checkpoint of the last 2 s not waited for).
    ackBatchesPerS: round(med((x) => x.group.batches / x.group.ackSeconds!)),
    // CPU seconds per second of the timed span (2 = both cores of a 2-core machine), medians: the
    // bench's own process (every vehicle's socket, CURVE, ack verification) and the ingest process.
    cpuCores: {
      group: { client: round(med((x) => (x.group.clientCpuS ?? NaN) / x.group.seconds)), ingest: round(med((x) => (x.group.ingestCpuS ?? NaN) / x.group.seconds)) },
      serial: { client: round(med((x) => (x.serial.clientCpuS ?? NaN) / x.serial.seconds)), ingest: round(med((x) => (x.serial.ingestCpuS ?? NaN) / x.serial.seconds)) },
    },
    // CPU milliseconds per batch, medians: the ingest process (all threads: the libuv threadpool's
    // fsyncs included), its main thread alone, and the bench's vehicles. Unlike the rates, these
    // hardly move with the shared disk's speed: the figure to compare code changes by.
    cpuMsPerBatch: {
      group: { ingest: round(med((x) => perBatchMs(x.group.ingestCpuS, x.group))), ingestMain: round(med((x) => perBatchMs(x.group.ingestMainCpuS, x.group))), client: round(med((x) => perBatchMs(x.group.clientCpuS, x.group))) },
      serial: { ingest: round(med((x) => perBatchMs(x.serial.ingestCpuS, x.serial))), ingestMain: round(med((x) => perBatchMs(x.serial.ingestMainCpuS, x.serial))), client: round(med((x) => perBatchMs(x.serial.clientCpuS, x.serial))) },
    },
    notes: 'medians over rounds; mbPerS: envelope bytes acknowledged as stored per second over loopback with CURVE, every ack verified, timed from the first send until the ingest has exited with every batch synced in place (its journal checkpointed and deleted); raw: one fsync per file, same sizes, same disk, sequential. With the journal (default) a group of batches costs one fdatasync before its acks, and each batch one fdatasync in the background checkpoint; without it (noJournal) each batch costs two fsyncs (its file, then its directory entry) before its ack',
  });
  console.log(`medians: group commit ${mbPerS.toFixed(2)} MB/s, raw ${rawFsyncMbPerS.toFixed(2)} MB/s, ratio vs raw ${(mbPerS / rawFsyncMbPerS).toFixed(2)}, gain over one at a time ${(mbPerS / serialMbPerS).toFixed(2)}, over no journal ${(mbPerS / noJournalMbPerS).toFixed(2)}; wrote ${file}`);
}

const round = (v: number): number => Math.round(v * 1000) / 1000;
const perBatchMs = (cpuS: number | undefined, x: RunResult): number => ((cpuS ?? NaN) * 1000) / x.batches;
/** CPU seconds per second of the timed span, client/ingest: 2.00 would be both cores of a 2-core machine. */
const cores = (x: RunResult): string => `${((x.clientCpuS ?? NaN) / x.seconds).toFixed(2)}/${((x.ingestCpuS ?? NaN) / x.seconds).toFixed(2)}`;

main().catch((e: unknown) => {
  console.error(`bench:ingest: ${e instanceof Error ? e.message : String(e)}`);
  process.exitCode = 1;
});
