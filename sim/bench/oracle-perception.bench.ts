/**
 * Oracle perception speed (the timing that used to sit in sim/oracle-perception.test.ts): frames
 * per second of OraclePerception.observe along a 1 km route on the bundled Karlsruhe map, with
 * the same seeds as the test, and the ratio to the perception topic's nominal rate (how many
 * simulated vehicles one core can feed in real time).
 *
 *   npx tsx sim/bench/oracle-perception.bench.ts [--runs 5] [--check]
 *
 * Writes out/bench/oracle-perception.json. --check exits 1 when the median is under the bound
 * the test used to assert (300 frames/s; typically ~5000/s on one core).
 */
import { TOPICS } from '../../shared/topics.ts';
import { KARLSRUHE_OSM_PATH, loadLanelet2File } from '../bundled-maps.ts';
import { DriveProfile } from '../drive.ts';
import { buildLaneletGraph } from '../lanelet-graph.ts';
import { OraclePerception } from '../oracle-perception.ts';
import { Rng } from '../rng.ts';
import { planRoute } from '../routes.ts';
import { benchArgs, benchUsage, summarize, writeBenchReport } from './report.ts';
import { Progress } from '../../shared/progress.ts';

const MIN_FRAMES_PER_S = 300; // the old test bound
const FRAME_STEP_S = 0.5; // s between frames along the drive, as in the test

const { runs, check } = benchUsage('oracle', () => benchArgs(process.argv.slice(2), 5));
const tSetup = performance.now();
const map = loadLanelet2File(KARLSRUHE_OSM_PATH);
const oracle = new OraclePerception(map.primitives, { falsePositivesPerFrame: 0 });
const route = planRoute(buildLaneletGraph(map), new Rng(8), { targetLengthM: 1000 });
const profile = new DriveProfile(route.centreline, new Rng(9));
const setupS = (performance.now() - tSetup) / 1000;

const framesPerS: number[] = [];
let frames = 0;
let observations = 0;
// On a terminal (stderr) only, and not with --quiet.
const progress = new Progress({ quiet: process.argv.includes('--quiet') });
progress.stage('oracle-perception: runs (1 warm-up)', runs + 1, 'runs');
for (let run = 0; run <= runs; run++) {
  const rng = new Rng(10);
  frames = 0;
  observations = 0;
  const t0 = performance.now();
  for (let t = 0; t < profile.durationS; t += FRAME_STEP_S) {
    observations += oracle.observe(profile.poseAt(t), rng).observations.length;
    frames++;
  }
  const s = (performance.now() - t0) / 1000;
  if (run > 0) framesPerS.push(frames / s); // run 0 warms up the JIT
  progress.tick();
}
progress.end();

const fps = summarize(framesPerS);
const perceptionHz = TOPICS.perception.rateHz;
const file = writeBenchReport('oracle-perception', {
  setup: { map: 'karlsruhe', routeLengthM: 1000, frameStepS: FRAME_STEP_S, framesPerRun: frames, observationsPerRun: observations, setupS },
  framesPerS: fps,
  usPerFrame: summarize(framesPerS.map((f) => 1e6 / f)),
  ratios: {
    /** Median frames/s over the perception topic's nominal rate: vehicles one core feeds in real time. */
    realtimeVehiclesPerCore: fps.median / perceptionHz,
    /** Median over the bound the test used to assert. */
    medianOverOldTestBound: fps.median / MIN_FRAMES_PER_S,
  },
  reference: { perceptionTopicHz: perceptionHz, oldTestBoundFramesPerS: MIN_FRAMES_PER_S },
});
console.log(`oracle-perception: median ${fps.median.toFixed(0)} frames/s (${runs} runs, min ${fps.min.toFixed(0)}), ${(fps.median / perceptionHz).toFixed(0)}x real time at ${perceptionHz} Hz -> ${file}`);
if (check && fps.median < MIN_FRAMES_PER_S) {
  console.error(`oracle-perception: median ${fps.median.toFixed(0)} frames/s < ${MIN_FRAMES_PER_S}`);
  process.exit(1);
}
