import { describe, expect, it } from 'vitest';
import { encodeBatch, type ObservationBatch } from '../../shared/index.ts';
import { readStoredBatch } from './stored-batch.ts';

const batch = (vehicleId: string, seq: number): ObservationBatch => ({
  vehicleId,
  seq,
  createdUnixMs: 1_790_000_000_000,
  queueDepth: 0,
  observations: [{ tile: '16/34303/22474', driveId: 'd1', tUnixMs: 1_790_000_000_000, cls: 'traffic_sign', signCode: 'de205', score: 1, poseSigmaCm: 50, pointsCm: [[1, 2]] }],
});

describe('readStoredBatch', () => {
  it('scopes drive ids to the vehicle that signed the batch', () => {
    const a = readStoredBatch('batches/veh-a/0000000001.fmb', encodeBatch(batch('veh-a', 1), Buffer.alloc(32, 1)));
    const b = readStoredBatch('batches/veh-b/0000000001.fmb', encodeBatch(batch('veh-b', 1), Buffer.alloc(32, 2)));
    expect(a.observations[0]!.driveId).toBe('veh-a/d1');
    expect(b.observations[0]!.driveId).toBe('veh-b/d1'); // same drive id, two drives: one vehicle cannot add to another's
  });
  it('refuses a batch whose key disagrees with its envelope', () => {
    const bytes = encodeBatch(batch('veh-a', 1), Buffer.alloc(32, 1));
    expect(() => readStoredBatch('batches/veh-b/0000000001.fmb', bytes)).toThrow('batches/veh-b/0000000001.fmb holds a batch of vehicle "veh-a"');
    expect(() => readStoredBatch('batches/veh-a/0000000002.fmb', bytes)).toThrow('holds batch seq 1');
  });
});
