/**
 * The ingest killed between storing a batch and writing its arrival record (cloud/ingest/arrivals.ts):
 * the real `fleetmap cloud ingest` dies (SIGKILL at crash point `ingest_store_temp_written`, second
 * pass: the first is the batch's own temp file, the second the arrival record's), the batch is in
 * the store with no record naming it and was never acked; the edge resends it to the restarted
 * ingest, which answers `duplicate` and writes the record. At the end every stored batch is named
 * by an arrival record, so an incremental merge reading the log sees all of them.
 */
import { readFileSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseArrivalRecord } from '../cloud/ingest/arrivals.ts';
import { LocalDirStore } from '../cloud/store/index.ts';
import { pushWholeDrive, startEdge, startIngest, tempDir, vehicleKeyFile, writeKeys, writeTestProfile } from './helpers.ts';

describe('ingest crash between a batch and its arrival record', () => {
  it('leaves the batch unrecorded and unacked; the resend is acked duplicate and recorded', async () => {
    const dir = tempDir('arrcrash');
    const storeDir = path.join(dir, 'store');
    const keysFile = writeKeys(dir);
    const first = await startIngest({ storeDir, keysFile, env: { FLEETMAP_CRASH_AT: 'ingest_store_temp_written:2' } });
    const edge = await startEdge(['--vehicle-id', 'veh-1', '--key-file', vehicleKeyFile('veh-1'), '--intake', 'tcp://127.0.0.1:*', '--ingest', first.endpoint, '--outbox', path.join(dir, 'outbox.sqlite'), '--hw-profile', writeTestProfile(dir, 6), '--exit-when-drained']);
    try {
      await pushWholeDrive(edge.intake, { driveId: 'veh-1-arr', toS: 6, tag: 'arr' });
      expect(await first.proc.exited).toEqual({ code: null, signal: 'SIGKILL' });
      const store = new LocalDirStore(storeDir);
      expect(await store.list('batches/')).toEqual(['batches/veh-1/0000000001.fmb']);
      expect(await store.list('arrivals/')).toEqual([]); // its record's temp file was written, never linked
      expect(first.proc.named('batch_stored')).toEqual([]);
      expect(edge.proc.named('batch_acked')).toEqual([]);

      // The ingest comes back on the same endpoint; the edge, never acked, resends.
      const second = await startIngest({ storeDir, keysFile, bind: first.endpoint });
      try {
        expect(await edge.proc.exited).toEqual({ code: 0, signal: null });
        expect(second.proc.named('batch_duplicate').map((e) => e.seq)).toEqual([1]);
      } finally {
        second.proc.kill('SIGTERM');
        await second.proc.exited;
      }
      const batches = await store.list('batches/');
      expect(batches.length).toBeGreaterThan(1);
      const named = new Set<string>();
      for (const k of await store.list('arrivals/')) for (const b of parseArrivalRecord((await store.get(k))!, k)) named.add(b);
      expect([...named].sort()).toEqual(batches);
      // Nothing left half-written but the killed record's temp file (swept by age by a later writer):
      // the killed ingest's journal was replayed by the second at its start, the second's own
      // checkpointed and deleted at its stop (the journal directory stays, empty).
      const temps = readdirSync(storeDir, { recursive: true, withFileTypes: true })
        .filter((d) => d.isFile())
        .map((d) => path.relative(storeDir, path.join(d.parentPath, d.name)))
        .filter((f) => f.includes('.tmp-'));
      expect(temps.length).toBeGreaterThan(0);
      expect(temps.filter((f) => !f.startsWith('arrivals/'))).toEqual([]);
      expect(readFileSync(path.join(storeDir, 'batches/veh-1/0000000001.fmb')).length).toBeGreaterThan(0);
    } finally {
      edge.proc.kill('SIGKILL');
      first.proc.kill('SIGKILL');
    }
  }, 60_000);
});
