/**
 * Evaluation speed at city scale (the timing that used to sit in sim/eval/scale.test.ts):
 * evaluateMap on ~25 km of synthetic lines with noisy predictions (the test's fixtures and seed),
 * timed with and without the relative (per-patch aligned) figures in the same run, so the report
 * also gives what the relative pass costs.
 *
 *   npx tsx sim/bench/eval-scale.bench.ts [--runs 5] [--check]
 *
 * Writes out/bench/eval-scale.json. --check exits 1 when the median full evaluation takes longer
 * than the bound the test used to assert (8 s; typically ~0.5 s).
 */
import { polylineLengthM } from '../../shared/geometry.ts';
import { evaluateMap } from '../eval/evaluate.ts';
import { noisyPredictions, syntheticCity } from '../eval/test_fixtures.ts';
import { benchArgs, benchUsage, summarize, writeBenchReport } from './report.ts';
import { Progress } from '../../shared/progress.ts';

const MAX_EVALUATION_S = 8; // the old test bound
const KM_DRIVEN = 400; // km, as in the test (only scales the per-km figures)

const { runs, check } = benchUsage('eval-scale', () => benchArgs(process.argv.slice(2), 5));
const gt = syntheticCity(25);
let gtKm = 0;
for (const p of gt) if (p.points.length > 1) gtKm += polylineLengthM(p.points) / 1000;
const pred = noisyPredictions(gt, 1);

const fullS: number[] = [];
const absoluteOnlyS: number[] = [];
// On a terminal (stderr) only, and not with --quiet.
const progress = new Progress({ quiet: process.argv.includes('--quiet') });
progress.stage('eval-scale: runs (1 warm-up)', runs + 1, 'runs');
for (let run = 0; run <= runs; run++) {
  // Alternate the order so a slow phase of a busy machine does not fall on one variant only.
  const order = run % 2 === 0 ? [true, false] : [false, true];
  for (const relative of order) {
    const r = evaluateMap(gt, pred, { kmDriven: KM_DRIVEN, relative });
    if (run === 0) continue; // warm-up
    (relative ? fullS : absoluteOnlyS).push(r.evaluationS);
  }
  progress.tick();
}
progress.end();

const full = summarize(fullS);
const absoluteOnly = summarize(absoluteOnlyS);
const file = writeBenchReport('eval-scale', {
  setup: { groundTruthKm: gtKm, groundTruthPrimitives: gt.length, predictions: pred.length, kmDriven: KM_DRIVEN },
  evaluationS: { full, absoluteOnly },
  gtKmPerS: { full: gtKm / full.median, absoluteOnly: gtKm / absoluteOnly.median },
  ratios: {
    /** Median full (absolute + relative) over median absolute-only: the cost of the relative figures. */
    fullOverAbsoluteOnly: full.median / absoluteOnly.median,
    /** Median full evaluation over the bound the test used to assert. */
    fullOverOldTestBound: full.median / MAX_EVALUATION_S,
  },
  reference: { oldTestBoundS: MAX_EVALUATION_S },
});
console.log(`eval-scale: ${gtKm.toFixed(1)} km in ${full.median.toFixed(2)} s full, ${absoluteOnly.median.toFixed(2)} s absolute only (x${(full.median / absoluteOnly.median).toFixed(2)}; ${runs} runs) -> ${file}`);
if (check && full.median > MAX_EVALUATION_S) {
  console.error(`eval-scale: median ${full.median.toFixed(2)} s > ${MAX_EVALUATION_S} s`);
  process.exit(1);
}
