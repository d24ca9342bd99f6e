/**
 * The ingest's disk refuses writes: no ack, no leftovers, and once space returns the edge's
 * resends succeed, each batch stored exactly once.
 *
 * The refusal is the kernel's, on the real store directory: the running ingest's file-size limit
 * is lowered to 64 bytes with util-linux `prlimit` (RLIMIT_FSIZE), so every batch write fails with
 * EFBIG part-way through, as a full disk fails with ENOSPC (making a real ENOSPC needs a mount,
 * which needs privileges a test cannot count on). Raising the limit again is "space returns".
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { TEMP_NAME_RE } from '../cloud/store/local-dir-store.ts';
import { decodeBatch } from '../shared/index.ts';
import { pushWholeDrive, startEdge, startIngest, tempDir, vehicleKeyFile, writeKeys, writeTestProfile } from './helpers.ts';

function setFileSizeLimit(pid: number, limit: string): void {
  try {
    execFileSync('prlimit', ['--pid', String(pid), `--fsize=${limit}`], { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (e) {
    throw new Error(`prlimit (util-linux) failed: ${(e as Error).message}`);
  }
}

function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile())
    .map((d) => path.join(d.parentPath, d.name));
}

describe('ingest disk full', () => {
  it('sends no ack while writes fail, leaves no temp files, and stores every batch once when space returns', async () => {
    const dir = tempDir('diskfull');
    const storeDir = path.join(dir, 'store');
    const ingest = await startIngest({ storeDir, keysFile: writeKeys(dir) });
    const pid = ingest.proc.child.pid!;
    setFileSizeLimit(pid, '64:unlimited'); // soft 64 bytes: no batch (200 bytes and up) fits

    const edge = await startEdge(['--vehicle-id', 'veh-1', '--key-file', vehicleKeyFile('veh-1'), '--intake', 'tcp://127.0.0.1:*', '--ingest', ingest.endpoint, '--outbox', path.join(dir, 'outbox.sqlite'), '--hw-profile', writeTestProfile(dir, 6), '--exit-when-drained']);
    const r = await pushWholeDrive(edge.intake, { driveId: 'veh-1-full', toS: 6, tag: 'full' });
    const produced = r.observations;

    // The ingest cannot store: it says why and answers nothing; the edge times out and resends.
    await ingest.proc.until('three failed stores', () => ingest.proc.named('store_failed').length >= 3);
    await edge.proc.until('resends', () => edge.proc.named('uplink_timeout').length >= 2);
    expect(ingest.proc.named('store_failed')[0]).toMatchObject({ vehicleId: 'veh-1', reason: 'EFBIG' });
    expect(ingest.proc.named('batch_stored')).toHaveLength(0);
    expect(edge.proc.named('batch_acked')).toHaveLength(0);
    expect(edge.proc.named('batch_dead_lettered')).toHaveLength(0);
    const during = filesUnder(storeDir);
    // Objects' temp files (`<name>.tmp-<pid>-<8 hex>`). Not the write journal (`.tmp-journal/`):
    // the arrival records, small enough to pass the limit, are written at once with their
    // batches, so a journal file may be open (then rotated away) while the writes fail.
    expect(during.filter((f) => TEMP_NAME_RE.test(f)), 'temp files left behind').toEqual([]);
    expect(during.filter((f) => f.endsWith('.fmb')), 'partial batches').toEqual([]);

    // Space returns: the resends are stored, the edge drains and exits 0.
    setFileSizeLimit(pid, 'unlimited:unlimited');
    expect(await edge.proc.exited).toEqual({ code: 0, signal: null });
    ingest.proc.kill('SIGTERM');
    expect((await ingest.proc.exited).code).toBe(0);

    const vdir = path.join(storeDir, 'batches', 'veh-1');
    const batches = readdirSync(vdir).filter((f) => f.endsWith('.fmb')).sort().map((f) => decodeBatch(readFileSync(path.join(vdir, f)), 'trusted'));
    expect(batches.map((b) => b.seq)).toEqual(batches.map((_, i) => i + 1));
    const obs = batches.flatMap((b) => b.observations);
    expect(obs).toHaveLength(produced);
    const codes = obs.filter((o) => o.cls === 'traffic_sign').map((o) => o.signCode!);
    expect(new Set(codes).size).toBe(codes.length);
    expect([...codes].sort()).toEqual(r.signs.map((s) => s.signCode).sort());
    expect(filesUnder(storeDir).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });
});
