/**
 * `npm run bench:hostile` -> out/bench/hostile.json: how long an honest vehicle waits for its acks
 * while an insider floods the real ingest with 10,000 malformed and hostile messages
 * (test/hostile-attack.ts, the same attack test/hostile.test.ts checks for refusals and losses).
 * The stated bound is a speed figure, so it lives here and not in `npm test`: the longest wait
 * should stay far below the 13-22 s stall an unbounded parse once caused (bound: 10 s).
 * Fields: messages, honestBatches, waitMs {p50, p99, max}, withinBound, peakIngestRssMb.
 */
import { runHostileAttack } from '../../test/hostile-attack.ts';
import { writeBenchReport } from './report.ts';
import { Progress } from '../../shared/progress.ts';

const MESSAGES = Number(process.env.BENCH_HOSTILE_MESSAGES ?? 10_000);
const MAX_HONEST_WAIT_MS = 10_000;

async function main(): Promise<void> {
  const t0 = performance.now();
  // On a terminal (stderr) only, and not with --quiet: the attack reports no counts, so elapsed time only.
  const progress = new Progress({ quiet: process.argv.includes('--quiet') });
  progress.stage(`hostile: ${MESSAGES} messages against the ingest`);
  const r = await runHostileAttack(MESSAGES);
  progress.end();
  const seconds = (performance.now() - t0) / 1000;
  const waits = [...r.honestWaitsMs].sort((a, b) => a - b);
  const q = (f: number): number => Math.round(waits[Math.min(waits.length - 1, Math.floor(f * waits.length))]! * 10) / 10;
  const maxMs = Math.round(waits[waits.length - 1]! * 10) / 10;
  const lost = r.honestAcks.filter((a) => a.status !== 'stored').length + (r.honestAcks.length - r.storedSeqs.length);
  const file = writeBenchReport('hostile', {
    messages: MESSAGES,
    seconds: Math.round(seconds * 10) / 10,
    honestBatches: r.honestAcks.length,
    honestLost: lost,
    waitMs: { p50: q(0.5), p99: q(0.99), max: maxMs },
    boundMs: MAX_HONEST_WAIT_MS,
    withinBound: maxMs < MAX_HONEST_WAIT_MS,
    peakIngestRssMb: Math.round(r.peakRssMb),
  });
  console.log(`${MESSAGES} hostile messages in ${seconds.toFixed(1)} s; honest vehicle ${r.honestAcks.length} batches (${lost} lost), ack wait p50 ${q(0.5)} ms, p99 ${q(0.99)} ms, max ${maxMs} ms (bound ${MAX_HONEST_WAIT_MS} ms); ingest peak RSS ${r.peakRssMb.toFixed(0)} MB; wrote ${file}`);
}

main().catch((e: unknown) => {
  console.error(`bench:hostile: ${e instanceof Error ? e.message : String(e)}`);
  process.exitCode = 1;
});
