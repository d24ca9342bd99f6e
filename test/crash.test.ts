/**
 * Exactly-once delivery under fire: real edge daemons and a real ingest, killed with SIGKILL
 * hundreds of times at random moments and at named crash points (shared/crash-points.ts: inside
 * an outbox transaction, after a send before its ack, after an ack before the delete, after a
 * durable store before the ack), while two vehicles keep driving. At the end every vehicle
 * drains and the store must hold exactly what the edges produced: nothing lost, nothing twice.
 *
 * What "produced" means when a daemon dies mid-stream: sensor messages still in a socket buffer
 * when the daemon dies were never taken in, and an append killed inside its transaction rolls
 * back, so each run of a daemon commits a PREFIX of what was pushed to it. The test knows a lower
 * bound of that prefix (what the daemon said it had queued before it died) and checks that
 * - every run's confirmed prefix is stored,
 * - what is stored of a run is a prefix of what was pushed to it (a hole would be a loss),
 * - nothing is stored twice, and nothing is stored that was not pushed,
 * - every vehicle's batch seqs run 1..N without a gap or reuse.
 *
 * Counts: FLEETMAP_CRASH_EDGE_KILLS (default 200) and FLEETMAP_CRASH_INGEST_KILLS (default 50);
 * `npm run soak` runs ten times as many.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeBatch } from '../shared/index.ts';
import { Rng } from '../sim/rng.ts';
import { ACK_PUBLIC_KEY_FILE, KEYS, Proc, edgeCurveArgs, SensorPusher, pushDrive, startIngest, tempDir, writeKeys, writeTestProfile, type LogEvent } from './helpers.ts';

const EDGE_KILLS = envCount('FLEETMAP_CRASH_EDGE_KILLS', 200);
const INGEST_KILLS = envCount('FLEETMAP_CRASH_INGEST_KILLS', 50);
const VEHICLES = ['veh-1', 'veh-2'] as const;
/** Seconds of driving pushed per daemon run (a perception frame every 0.5 s: 2 signs per second). */
const RUN_DRIVE_S = 2;

function envCount(name: string, dflt: number): number {
  const v = process.env[name];
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`${name} must be a positive integer, got ${JSON.stringify(v)}`);
  return n;
}

type Mode = 'kill_while_pushing' | 'kill_after_queued' | 'outbox_append' | 'outbox_form_batch' | 'uplink_after_send' | 'acks_before_delete';
const MODES: readonly Mode[] = ['kill_while_pushing', 'outbox_append', 'uplink_after_send', 'kill_after_queued', 'acks_before_delete', 'outbox_form_batch'];

interface Run {
  vehicleId: string;
  mode: Mode;
  /** Sign codes pushed to this run, in order. */
  pushed: string[];
  /** Observations this run said it had queued (edge_stats) before it died: a lower bound. */
  confirmedObservations: number;
  killedBy: 'crash_point' | 'sigkill' | 'drained';
}

/** The ingest, killed and restarted on the same endpoint and store while the vehicles drive. */
class IngestUnderFire {
  proc!: Proc;
  endpoint!: string;
  kills = 0;
  crashPointKills = 0;
  constructor(
    private readonly storeDir: string,
    private readonly keysFile: string,
  ) {}

  async start(crashAt?: string): Promise<void> {
    const bind = this.endpoint ?? 'tcp://127.0.0.1:*';
    const r = await startIngest({ storeDir: this.storeDir, keysFile: this.keysFile, bind, env: crashAt ? { FLEETMAP_CRASH_AT: crashAt } : {} });
    this.proc = r.proc;
    this.endpoint = r.endpoint;
  }

  /** Kill now (SIGKILL) or let an armed crash point do it; then start again. */
  async killAndRestart(rng: () => number): Promise<void> {
    const armed = rng() < 0.3;
    if (armed) {
      // The next store kills it between the durable write and the ack (or in the write).
      await this.restartWith(rng() < 0.5 ? 'ingest_after_store:1' : 'ingest_store_temp_written:1');
      const ex = await Promise.race([this.proc.exited, sleep(1500).then(() => undefined)]);
      if (ex?.signal === 'SIGKILL') this.crashPointKills++;
    }
    this.proc.kill('SIGKILL');
    await this.proc.exited;
    this.kills++;
    await sleep(Math.floor(rng() * 300));
    await this.start();
  }

  private async restartWith(crashAt: string): Promise<void> {
    this.proc.kill('SIGKILL');
    await this.proc.exited;
    this.kills++;
    await this.start(crashAt);
  }
}

async function startEdgeRun(config: string, ingestEndpoint: string, env: Record<string, string>, extra: string[] = []): Promise<{ proc: Proc; intake: string }> {
  const vehicleId = (JSON.parse(readFileSync(config, 'utf8')) as { vehicleId: string }).vehicleId;
  const proc = new Proc('edge', ['edge', 'run', '--config', config, ...edgeCurveArgs(vehicleId), '--ingest', ingestEndpoint, '--keyframe-spacing-m', '0', '--stats-interval-s', '0.1', ...extra], env);
  const ev = await proc.event('intake_listening');
  return { proc, intake: ev.endpoint as string };
}

const queuedSoFar = (p: Proc): number => Math.max(0, ...p.named('edge_stats').map((e: LogEvent) => (typeof e.observationsQueued === 'number' ? e.observationsQueued : 0)));

async function vehicleLoop(o: {
  vehicleId: string;
  dir: string;
  profile: string;
  ingest: IngestUnderFire;
  runs: number;
  rng: () => number;
  out: Run[];
}): Promise<void> {
  const { vehicleId, rng } = o;
  const config = path.join(o.dir, `${vehicleId}.json`);
  writeFileSync(path.join(o.dir, `${vehicleId}.key`), `${KEYS[vehicleId as keyof typeof KEYS]}\n`);
  writeFileSync(config, JSON.stringify({ vehicleId, keyFile: `${vehicleId}.key`, ingestAckKeyFile: ACK_PUBLIC_KEY_FILE, intake: 'tcp://127.0.0.1:*', outbox: `${vehicleId}.sqlite`, hwProfile: o.profile }));
  let driveS = 0;
  for (let i = 0; i < o.runs; i++) {
    const mode = MODES[i % MODES.length]!;
    const crashAt =
      mode === 'outbox_append' ? `outbox_append:${1 + Math.floor(rng() * 4)}` : mode === 'kill_while_pushing' || mode === 'kill_after_queued' ? undefined : `${mode}:1`;
    const edge = await startEdgeRun(config, o.ingest.endpoint, crashAt ? { FLEETMAP_CRASH_AT: crashAt } : {});
    const p = new SensorPusher(edge.intake);
    const tag = `${vehicleId}-r${i}`;
    if (i === 0) await p.push('drive', { tMonoNs: 0, event: 'start', driveId: `${vehicleId}-d1` });
    const pushing = pushDrive(p, { fromS: driveS, toS: driveS + RUN_DRIVE_S, tag });
    driveS += RUN_DRIVE_S;
    let killedBy: Run['killedBy'] = 'sigkill';
    if (mode === 'kill_while_pushing') {
      await sleep(20 + Math.floor(rng() * 250));
    } else if (mode === 'kill_after_queued') {
      const signs = (await pushing).signs.length;
      await edge.proc.until('run queued', () => queuedSoFar(edge.proc) >= 2 * signs, 20_000).catch(() => undefined);
      await sleep(Math.floor(rng() * 400));
    } else {
      const ex = await Promise.race([edge.proc.exited, sleep(2500).then(() => undefined)]);
      if (ex?.signal === 'SIGKILL') killedBy = 'crash_point';
    }
    edge.proc.kill('SIGKILL');
    await edge.proc.exited;
    const r = await pushing.catch(() => ({ signs: [] as Array<{ signCode: string }> }));
    p.close();
    o.out.push({ vehicleId, mode, pushed: r.signs.map((s) => s.signCode), confirmedObservations: queuedSoFar(edge.proc), killedBy });
  }
  // The last run: end the drive and drain everything (the ingest is left alone now).
  const edge = await startEdgeRun(config, o.ingest.endpoint, {}, ['--exit-when-drained']);
  const p = new SensorPusher(edge.intake);
  const r = await pushDrive(p, { fromS: driveS, toS: driveS + RUN_DRIVE_S, tag: `${vehicleId}-final` });
  await p.push('drive', { tMonoNs: Math.round((driveS + RUN_DRIVE_S) * 1e9), event: 'end', driveId: `${vehicleId}-d1` });
  const ex = await edge.proc.exited;
  p.close();
  expect(ex, edge.proc.rawLines.slice(-10).join('\n')).toEqual({ code: 0, signal: null });
  o.out.push({ vehicleId, mode: 'kill_after_queued', pushed: r.signs.map((s) => s.signCode), confirmedObservations: queuedSoFar(edge.proc), killedBy: 'drained' });
}

describe('exactly once under SIGKILL', () => {
  it(`${EDGE_KILLS} edge kills and ${INGEST_KILLS} ingest kills: the store holds exactly what was produced`, { timeout: Math.max(20 * 60_000, (EDGE_KILLS + INGEST_KILLS) * 5000) }, async () => {
    const dir = tempDir('crash');
    const storeDir = path.join(dir, 'store');
    const keysFile = writeKeys(dir);
    const profile = writeTestProfile(dir, 5);
    const rng = seeded(20261129);
    const ingest = new IngestUnderFire(storeDir, keysFile);
    await ingest.start();

    const runs: Run[] = [];
    let vehiclesDone = false;
    const perVehicle = Math.ceil(EDGE_KILLS / VEHICLES.length);
    const vehicles = Promise.all(
      VEHICLES.map((vehicleId, k) => vehicleLoop({ vehicleId, dir, profile, ingest, runs: perVehicle, rng: seeded(1000 + k), out: runs })),
    ).finally(() => {
      vehiclesDone = true;
    });
    // The ingest is killed at random moments until the vehicles are done and the count is met;
    // it is up when the vehicles make their last, draining run.
    const ingestLoop = (async () => {
      while (!vehiclesDone || ingest.kills < INGEST_KILLS) {
        await sleep(300 + Math.floor(rng() * 1200));
        if (ingest.kills >= INGEST_KILLS && vehiclesDone) break;
        await ingest.killAndRestart(rng);
      }
    })();
    // An ingest that cannot start again fails the test now (the vehicles would wait for it forever).
    await Promise.all([vehicles, ingestLoop]);
    // Vehicles that finished their draining run while the ingest was being killed have drained
    // (exit 0 comes only after every batch was acked); stop the ingest cleanly.
    ingest.proc.kill('SIGTERM');
    await ingest.proc.exited;

    const edgeKills = runs.filter((r) => r.killedBy !== 'drained').length;
    expect(edgeKills).toBeGreaterThanOrEqual(EDGE_KILLS);
    expect(ingest.kills).toBeGreaterThanOrEqual(INGEST_KILLS);
    // The named crash points really fired (a typo or a dead hook would make the test vacuous).
    const byPoint = new Map<Mode, number>();
    for (const r of runs) if (r.killedBy === 'crash_point') byPoint.set(r.mode, (byPoint.get(r.mode) ?? 0) + 1);
    for (const m of ['outbox_append', 'outbox_form_batch', 'uplink_after_send', 'acks_before_delete'] as const) {
      expect(byPoint.get(m) ?? 0, `crash point ${m} fired`).toBeGreaterThan(0);
    }
    expect(ingest.crashPointKills).toBeGreaterThan(0);

    // What the store holds, per vehicle.
    const storedCodes = new Map<string, number>();
    let dividers = 0;
    for (const vehicleId of VEHICLES) {
      const vdir = path.join(storeDir, 'batches', vehicleId);
      const files = readdirSync(vdir).filter((f) => f.endsWith('.fmb')).sort();
      const batches = files.map((f) => decodeBatch(readFileSync(path.join(vdir, f)), 'trusted'));
      expect(batches.map((b) => b.seq)).toEqual(batches.map((_, i) => i + 1)); // no gap, no reuse
      for (const b of batches) {
        for (const ob of b.observations) {
          if (ob.cls === 'traffic_sign') storedCodes.set(ob.signCode!, (storedCodes.get(ob.signCode!) ?? 0) + 1);
          else dividers++;
        }
      }
    }
    const twice = [...storedCodes].filter(([, n]) => n > 1).map(([c]) => c);
    expect(twice, 'observations stored twice').toEqual([]);
    const pushedAll = new Set(runs.flatMap((r) => r.pushed));
    expect([...storedCodes.keys()].filter((c) => !pushedAll.has(c)), 'stored but never pushed').toEqual([]);
    expect(dividers).toBe(storedCodes.size); // each frame is one sign and one divider, committed together
    let lost = 0;
    for (const r of runs) {
      const storedOfRun = r.pushed.map((c) => storedCodes.has(c));
      const prefix = storedOfRun.indexOf(false) < 0 ? storedOfRun.length : storedOfRun.indexOf(false);
      // A hole (stored after a missing one) is a lost observation.
      expect(storedOfRun.slice(prefix).some(Boolean), `run ${r.vehicleId}/${r.mode}: stored codes are a prefix of the pushed ones`).toBe(false);
      // Everything the run confirmed is stored (2 observations per frame).
      if (prefix * 2 < r.confirmedObservations) lost++;
      if (r.killedBy === 'drained') expect(prefix).toBe(r.pushed.length);
    }
    expect(lost, 'runs that lost confirmed observations').toBe(0);
    // The test is only worth something if the kills landed while there was data in flight.
    expect(storedCodes.size).toBeGreaterThan(EDGE_KILLS);
  });
});

function seeded(seed: number): () => number {
  const r = new Rng(seed);
  return () => r.next();
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
