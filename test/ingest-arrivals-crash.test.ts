/**
 * The ingest killed between a batch and its arrival record (cloud/ingest/arrivals.ts): the real
 * `fleetmap cloud ingest` dies (SIGKILL at crash point `ingest_store_temp_written`, second pass:
 * the batch and its record are written at once, so the second temp file is either's), never
 * having acked. Either the batch is stored with no record naming it, or a record names a batch
 * that is not stored. The edge resends to the restarted ingest, which stores it (or answers
 * `duplicate`) and writes a record. At the end every stored batch is named by an arrival record,
 * and an incremental merge reading the log consumes every stored batch (a record naming a batch
 * that was not there is not a consumed batch).
 */
import { readFileSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseArrivalRecord } from '../cloud/ingest/arrivals.ts';
import { runMerge, silentLog } from '../cloud/merge/index.ts';
import { LocalDirStore } from '../cloud/store/index.ts';
import { pushWholeDrive, startEdge, startIngest, tempDir, vehicleKeyFile, writeKeys, writeTestProfile } from './helpers.ts';

describe('ingest crash between a batch and its arrival record', () => {
  it('leaves one of the two in place and nothing acked; the resend is stored or duplicate, recorded, and merged', async () => {
    const dir = tempDir('arrcrash');
    const storeDir = path.join(dir, 'store');
    const keysFile = writeKeys(dir);
    const first = await startIngest({ storeDir, keysFile, env: { FLEETMAP_CRASH_AT: 'ingest_store_temp_written:2' } });
    const edge = await startEdge(['--vehicle-id', 'veh-1', '--key-file', vehicleKeyFile('veh-1'), '--intake', 'tcp://127.0.0.1:*', '--ingest', first.endpoint, '--outbox', path.join(dir, 'outbox.sqlite'), '--hw-profile', writeTestProfile(dir, 6), '--exit-when-drained']);
    try {
      await pushWholeDrive(edge.intake, { driveId: 'veh-1-arr', toS: 6, tag: 'arr' });
      expect(await first.proc.exited).toEqual({ code: null, signal: 'SIGKILL' });
      const store = new LocalDirStore(storeDir);
      const storedAtCrash = await store.list('batches/');
      const recordsAtCrash = await store.list('arrivals/');
      // One of the two is in place, the other's temp file was written and never linked.
      expect([storedAtCrash, recordsAtCrash].filter((l) => l.length === 1).length).toBe(1);
      expect([...storedAtCrash, ...recordsAtCrash].length).toBe(1);
      if (storedAtCrash.length === 1) expect(storedAtCrash).toEqual(['batches/veh-1/0000000001.fmb']);
      else expect(parseArrivalRecord((await store.get(recordsAtCrash[0]!))!, recordsAtCrash[0]!)).toEqual(['batches/veh-1/0000000001.fmb']);
      expect(first.proc.named('batch_stored')).toEqual([]);
      expect(edge.proc.named('batch_acked')).toEqual([]);
      const v1 = await runMerge(store, { log: silentLog }); // a merge while things stand so
      expect(v1.inputBatchCount).toBe(storedAtCrash.length);

      // The ingest comes back on the same endpoint; the edge, never acked, resends.
      const second = await startIngest({ storeDir, keysFile, bind: first.endpoint });
      try {
        expect(await edge.proc.exited).toEqual({ code: 0, signal: null });
        // Stored before the kill: a duplicate now; not stored: stored now.
        const seq1 = [...second.proc.named('batch_duplicate'), ...second.proc.named('batch_stored')].filter((e) => e.seq === 1);
        expect(seq1.map((e) => e.event)).toEqual([storedAtCrash.length === 1 ? 'batch_duplicate' : 'batch_stored']);
      } finally {
        second.proc.kill('SIGTERM');
        await second.proc.exited;
      }
      const batches = await store.list('batches/');
      expect(batches.length).toBeGreaterThan(1);
      const named = new Set<string>();
      for (const k of await store.list('arrivals/')) for (const b of parseArrivalRecord((await store.get(k))!, k)) named.add(b);
      expect([...named].sort()).toEqual(batches);
      // An incremental merge after a first one that read the log at the crash consumes every batch.
      const v2 = await runMerge(store, { log: silentLog });
      expect(v2.previousVersion).toBe(1);
      expect(v2.inputBatchCount).toBe(batches.length);
      // Nothing left half-written but the killed write's temp file (swept by age by a later writer):
      // the killed ingest's journal was replayed by the second at its start, the second's own
      // checkpointed and deleted at its stop (the journal directory stays, empty).
      const temps = readdirSync(storeDir, { recursive: true, withFileTypes: true })
        .filter((d) => d.isFile())
        .map((d) => path.relative(storeDir, path.join(d.parentPath, d.name)))
        .filter((f) => f.includes('.tmp-'));
      expect(temps.length).toBeGreaterThan(0);
      expect(temps.filter((f) => !f.startsWith(storedAtCrash.length === 1 ? 'arrivals/' : 'batches/veh-1/'))).toEqual([]);
      expect(readFileSync(path.join(storeDir, 'batches/veh-1/0000000001.fmb')).length).toBeGreaterThan(0);
    } finally {
      edge.proc.kill('SIGKILL');
      first.proc.kill('SIGKILL');
    }
  }, 60_000);
});
