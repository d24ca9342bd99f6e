/**
 * 10,000 malformed and hostile messages against a real ingest while a well-behaved vehicle keeps
 * uploading (test/hostile-attack.ts says which): every message gets a signed `rejected` ack whose
 * reason starts with a stable code; the ingest's peak memory stays under a stated bound; the
 * honest vehicle loses nothing. How long the honest vehicle waits is a speed figure, measured by
 * `npm run bench:hostile` (out/bench/hostile.json), not asserted here.
 */
import { describe, expect, it } from 'vitest';
import { CODEC_ERROR_CODES } from '../shared/index.ts';
import { runHostileAttack } from './hostile-attack.ts';

const HOSTILE_MESSAGES = 10_000;
/** Stated bound on the ingest's peak RSS. */
const MAX_INGEST_RSS_MB = 512;

describe('hostile messages', () => {
  it(`${HOSTILE_MESSAGES} malformed and hostile messages are each refused with a coded reason; memory stays bounded; an honest vehicle loses nothing`, { timeout: 600_000 }, async () => {
    const r = await runHostileAttack(HOSTILE_MESSAGES);
    expect(r.ingestExitCode).toBe(0);
    // Every hostile message refused with a known code; only the one honest-looking first batch of the attacker stored.
    const total = [...r.codes.values()].reduce((a, b) => a + b, 0);
    expect(total).toBe(HOSTILE_MESSAGES);
    expect(r.codes.get('accepted:stored')).toBe(1);
    const known = new Set<string>([...CODEC_ERROR_CODES, 'seq_conflict', 'bad_frames', 'accepted:stored']);
    expect([...r.codes.keys()].filter((c) => !known.has(c)), JSON.stringify(Object.fromEntries(r.codes))).toEqual([]);
    for (const c of ['bad_signature', 'bad_magic', 'bad_version', 'bad_kind', 'truncated', 'bad_body', 'bad_compression', 'seq_conflict']) expect(r.codes.get(c) ?? 0, c).toBeGreaterThan(0);
    // The oversized message closed its connection and the ingest went on serving.
    expect(r.oversizedDisconnectSeen).toBe(true);
    // The honest vehicle: every batch acked stored, everything stored, each exactly once; bounded memory.
    r.honestAcks.forEach((ack, i) => expect(ack, `honest batch ${i + 1}`).toMatchObject({ seq: i + 1, status: 'stored' }));
    expect(r.storedSeqs).toEqual(r.honestAcks.map((_, i) => i + 1));
    expect(r.peakRssMb).toBeLessThan(MAX_INGEST_RSS_MB);
    // what the ingest counted matches what it answered
    expect(r.rejectedLogged).toBe(HOSTILE_MESSAGES - 1);
    console.log(`hostile: ${HOSTILE_MESSAGES} messages, codes ${JSON.stringify(Object.fromEntries(r.codes))}; honest vehicle ${r.storedSeqs.length} batches; ingest peak RSS ${r.peakRssMb.toFixed(0)} MB`);
  });
});
