/**
 * The bounded outbox in a real daemon:
 * - the ingest is unreachable, the vehicle keeps driving, the 1 MiB outbox reaches its budget; the
 *   profile's policy drops (and counts, and logs) the lowest-value data; the ingest comes back and
 *   the outbox drains fully. Every observation the daemon queued is either in the store exactly
 *   once or counted as dropped.
 * - a metered link (the link-state file) holds low-priority classes back; once it says unmetered
 *   they go, and the daemon drains.
 */
import { readFileSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeBatch, LocalFrame, type BodyObservation } from '../shared/index.ts';
import { diskUsage } from '../edge/outbox-db.ts';
import { Rng } from '../sim/rng.ts';
import { ORIGIN, SPEED_MPS, SensorPusher, startEdge, startIngest, tempDir, vehicleKeyFile, writeKeys, writeTestProfile } from './helpers.ts';

const world = new LocalFrame(ORIGIN);
/** The drive happens now: the ingest refuses observations from too far in the past. */
const T0_UNIX_MS = Date.now();
/** Deterministic noise, so the vertices do not compress to nothing. */
function noise(seed: number): () => number {
  const rng = new Rng(seed);
  return () => rng.next();
}
const sum = (c: unknown): number => Object.values((c ?? {}) as Record<string, number>).reduce((a, n) => a + n, 0);

/** 0.1 s steps: vehicle + GNSS, and a perception frame (`dividers` noisy dividers of 100 vertices, 2 signs). */
async function pushHeavyDrive(p: SensorPusher, steps: number, dividers = 20): Promise<number> {
  let observations = 0;
  const rnd = noise(7);
  for (let i = 0; i < steps; i++) {
    const tS = i * 0.1;
    const tMonoNs = Math.round(tS * 1e9);
    const ll = world.toLngLat([SPEED_MPS * tS, 0]);
    await p.push('vehicle', { tMonoNs, speedMps: SPEED_MPS, yawRateRps: 0 });
    await p.push('gnss', { tMonoNs, tUnixMs: T0_UNIX_MS + tS * 1000, fixType: '3d', lat: ll.lat, lng: ll.lng, horizontalAccuracyM: 0.4, courseRad: 0 });
    if (i < 5) continue; // a few fixes first
    const obs: BodyObservation[] = [
      ...Array.from({ length: dividers }, (_, k): BodyObservation => ({ cls: 'lane_divider', style: 'dashed', score: 0.8, pointsBody: Array.from({ length: 100 }, (_, v) => [v * 0.3 + rnd() * 0.2, -2 - k * 0.17 + rnd() * 0.5] as [number, number]) })),
      { cls: 'traffic_sign', signCode: `s-${i}-a`, score: 0.9, pointsBody: [[10, 3]] },
      { cls: 'traffic_sign', signCode: `s-${i}-b`, score: 0.9, pointsBody: [[12, 4]] },
    ];
    await p.push('perception', { tMonoNs, frameId: i, observations: obs });
    observations += obs.length;
  }
  return observations;
}

describe('edge daemon with a 1 MiB outbox and the ingest away', () => {
  it('applies the drop policy at the budget, counts and logs it, and drains fully once the ingest is back', async () => {
    const dir = tempDir('budget');
    const storeDir = path.join(dir, 'store');
    const keysFile = writeKeys(dir);
    const profileFile = writeTestProfile(dir, 50);
    const profile = JSON.parse(readFileSync(profileFile, 'utf8'));
    profile.outbox.maxDiskMb = 1;
    writeFileSync(profileFile, JSON.stringify(profile));
    // An endpoint nobody listens on (an ingest that was there and went away).
    const first = await startIngest({ storeDir, keysFile });
    const ingestEndpoint = first.endpoint;
    first.proc.kill('SIGTERM');
    await first.proc.exited;

    const outboxFile = path.join(dir, 'outbox.sqlite');
    const edge = await startEdge(['--vehicle-id', 'veh-1', '--key-file', vehicleKeyFile('veh-1'), '--intake', 'tcp://127.0.0.1:*', '--ingest', ingestEndpoint, '--outbox', outboxFile, '--hw-profile', profileFile, '--stats-interval-s', '0.5', '--exit-when-drained']);
    const push = new SensorPusher(edge.intake);
    const pushed = await pushHeavyDrive(push, 400);
    push.close();
    await edge.proc.until('every frame queued or refused', () => {
      const s = edge.proc.named('edge_stats').at(-1);
      return s !== undefined && (s.observationsQueued as number) + (s.observationsRefused as number) === pushed;
      // Generous: under a full `npm test` on 2 cores the daemon took over 30 s for these frames.
    }, 150_000);
    const applied = edge.proc.named('outbox_budget_applied');
    expect(applied.length).toBeGreaterThan(0);
    for (const e of applied) {
      expect(e.level).toBe('warn');
      expect(e.maxDiskBytes).toBe(1024 * 1024);
      expect((e.droppedPending as number) + (e.droppedBatches as number) + (e.droppedDeadLetters as number)).toBeGreaterThan(0);
    }
    expect(diskUsage(outboxFile).totalBytes).toBeLessThanOrEqual(1024 * 1024);

    // The ingest comes back on the same endpoint: everything left is delivered, the edge exits 0.
    const ingest = await startIngest({ storeDir, keysFile, bind: ingestEndpoint });
    expect(await edge.proc.exited).toEqual({ code: 0, signal: null });
    ingest.proc.kill('SIGTERM');
    expect((await ingest.proc.exited).code).toBe(0);

    const drained = edge.proc.named('drained').at(-1)!;
    const allApplied = edge.proc.named('outbox_budget_applied'); // forming the last batches may have applied it again
    expect(drained).toMatchObject({ pendingObservations: 0, unackedBatches: 0, outboxBudgetApplied: allApplied.length });
    const dropped = sum(drained.outboxDroppedPending) + sum(drained.outboxDroppedBatchObservations) + sum(drained.outboxDroppedDeadLetterObservations);
    expect(dropped).toBeGreaterThan(0);
    expect(dropped).toBe(allApplied.reduce((a, e) => a + (e.droppedPending as number) + (e.droppedBatchObservations as number) + (e.droppedDeadLetterObservations as number), 0));
    const queued = drained.observationsQueued as number;
    expect(drained.observationsDelivered).toBe(queued - dropped);

    const batchDir = path.join(storeDir, 'batches', 'veh-1');
    const stored = readdirSync(batchDir)
      .filter((f) => f.endsWith('.fmb'))
      .map((f) => decodeBatch(readFileSync(path.join(batchDir, f)), 'trusted'));
    const obs = stored.flatMap((b) => b.observations);
    expect(obs).toHaveLength(queued - dropped); // everything not dropped arrived...
    const signs = obs.filter((o) => o.cls === 'traffic_sign').map((o) => o.signCode);
    expect(new Set(signs).size).toBe(signs.length); // ...once
    expect(new Set(stored.map((b) => b.seq)).size).toBe(stored.length);
  }, 300_000);

  it('on a metered link holds low-priority classes back and sends them once the link is unmetered', async () => {
    const dir = tempDir('metered');
    const storeDir = path.join(dir, 'store');
    const keysFile = writeKeys(dir);
    const profileFile = writeTestProfile(dir, 50);
    const profile = JSON.parse(readFileSync(profileFile, 'utf8'));
    profile.uplink.meteredMinPriority = 5; // dividers (4) wait, signs (8) go
    writeFileSync(profileFile, JSON.stringify(profile));
    const linkFile = path.join(dir, 'link-state');
    const setLink = (word: string): void => {
      writeFileSync(`${linkFile}.tmp`, `${word}\n`);
      renameSync(`${linkFile}.tmp`, linkFile); // as a network manager would: never half-written
    };
    setLink('metered');
    const ingest = await startIngest({ storeDir, keysFile });
    const edge = await startEdge(['--vehicle-id', 'veh-1', '--key-file', vehicleKeyFile('veh-1'), '--intake', 'tcp://127.0.0.1:*', '--ingest', ingest.endpoint, '--outbox', path.join(dir, 'outbox.sqlite'), '--hw-profile', profileFile, '--link-state-file', linkFile, '--stats-interval-s', '0.3', '--exit-when-drained']);
    expect(await edge.proc.event('link_changed')).toMatchObject({ state: 'metered', metered: true, minPriority: 5, heldBackClasses: ['lane_divider', 'road_boundary'] });
    const push = new SensorPusher(edge.intake);
    const pushed = await pushHeavyDrive(push, 60, 2);
    push.close();
    const signs = (pushed / 4) * 2;
    await edge.proc.until('signs delivered, dividers held back', () => {
      const s = edge.proc.named('edge_stats').at(-1);
      return s !== undefined && s.observationsQueued === pushed && s.observationsDelivered === signs && s.heldBackObservations === pushed - signs;
    });
    expect(edge.proc.named('drained')).toHaveLength(0); // held-back data is not delivered data

    setLink('unmetered');
    expect(await edge.proc.exited).toEqual({ code: 0, signal: null });
    expect(edge.proc.named('link_changed')[1]).toMatchObject({ state: 'unmetered', from: 'metered', minPriority: 0 });
    expect(edge.proc.named('drained').at(-1)).toMatchObject({ observationsDelivered: pushed, heldBackObservations: 0, pendingObservations: 0 });
    ingest.proc.kill('SIGTERM');
    expect((await ingest.proc.exited).code).toBe(0);
  });
});
