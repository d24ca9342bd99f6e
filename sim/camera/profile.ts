/**
 * Render-time profile of the simulated camera along a Karlsruhe drive:
 * `npx tsx sim/camera/profile.ts [--frames N] [--save FILE | --compare FILE]`.
 * Prints the median and mean ms per frame for clear and for mixed conditions and a breakdown per
 * stage. `--save` writes every rendered image and label (for checking a change of the renderer),
 * `--compare` reads such a file and prints how much the frames differ from it.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { KARLSRUHE_OSM_PATH, loadLanelet2File } from '../bundled-maps.ts';
import { DriveProfile } from '../drive.ts';
import { planFleet } from '../fleet.ts';
import { Rng } from '../rng.ts';
import { vehicleCalibration } from './calibration.ts';
import { CLEAR_CONDITIONS, randomConditions, type CameraConditions } from './conditions.ts';
import { CameraRenderer } from './render.ts';
import { summarize } from '../bench/report.ts';

const args = process.argv.slice(2);
const arg = (name: string, dflt: string): string => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1]! : dflt;
};
const n = Number(arg('frames', '300'));
const saveTo = arg('save', '');
const compareWith = arg('compare', '');

const map = loadLanelet2File(KARLSRUHE_OSM_PATH);
const plan = planFleet(map, { vehicles: 1, drivesPerVehicle: 1, driveLengthM: 1500, seed: 1 });
const profile = new DriveProfile(plan.drives[0]!.route.centreline, new Rng(1));
const cal = vehicleCalibration('veh-001', 1);

function run(kind: 'clear' | 'mixed'): { ms: number[]; cpuMs: number[]; stages: Record<string, number>; frames: Uint8Array[] } {
  const renderer = new CameraRenderer(map);
  const condRng = new Rng(kind === 'clear' ? 11 : 12);
  const frames: Uint8Array[] = [];
  // warm-up (JIT), not timed
  for (let k = 0; k < 30; k++) renderer.render(profile.poseAt((profile.durationS * k) / 30), cal, 0, kind === 'clear' ? CLEAR_CONDITIONS : randomConditions(new Rng(k)), new Rng(k));
  renderer.stageMs = {};
  const ms: number[] = [];
  const cpuMs: number[] = [];
  for (let k = 0; k < n; k++) {
    const cond: CameraConditions = kind === 'clear' ? { ...CLEAR_CONDITIONS } : randomConditions(condRng);
    const pitch = 0.01 * Math.sin(k * 0.3);
    const pose = profile.poseAt((profile.durationS * k) / n);
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const f = renderer.render(pose, cal, pitch, cond, new Rng(1000 + k));
    ms.push(performance.now() - t0);
    const c1 = process.cpuUsage(c0);
    cpuMs.push((c1.user + c1.system) / 1000);
    if (saveTo || compareWith) {
      frames.push(f.image, f.labels);
    }
  }
  return { ms, cpuMs, stages: renderer.stageMs, frames };
}

const median = (xs: number[]): number => summarize(xs).median;
const all: Uint8Array[] = [];
for (const kind of ['clear', 'mixed'] as const) {
  const r = run(kind);
  const total = r.ms.reduce((a, b) => a + b, 0);
  const stages = Object.entries(r.stages)
    .map(([k, v]) => `${k} ${(v / n).toFixed(2)}`)
    .join(', ');
  console.log(`${kind}: ${n} frames, median ${median(r.ms).toFixed(2)} ms, mean ${(total / n).toFixed(2)} ms, p90 ${[...r.ms].sort((a, b) => a - b)[Math.floor(n * 0.9)]!.toFixed(2)} ms; CPU time median ${median(r.cpuMs).toFixed(2)} ms, mean ${(r.cpuMs.reduce((a, b) => a + b, 0) / n).toFixed(2)} ms; per stage (ms/frame): ${stages}`);
  all.push(...r.frames);
}

if (saveTo) {
  const len = all.reduce((s, a) => s + a.length, 0);
  const buf = new Uint8Array(len);
  let o = 0;
  for (const a of all) {
    buf.set(a, o);
    o += a.length;
  }
  writeFileSync(saveTo, buf);
  console.log(`saved ${all.length / 2} frames to ${saveTo}`);
}
if (compareWith) {
  const ref = readFileSync(compareWith);
  let o = 0;
  let maxDiff = 0;
  let sumDiff = 0;
  let big = 0;
  let pixels = 0;
  let labelDiff = 0;
  let labelPx = 0;
  let identical = 0;
  for (let f = 0; f < all.length; f += 2) {
    const img = all[f]!;
    const lab = all[f + 1]!;
    let same = true;
    for (let i = 0; i < img.length; i++) {
      const d = Math.abs(img[i]! - ref[o + i]!);
      if (d > maxDiff) maxDiff = d;
      if (d > 0) same = false;
      if (d > 2) big++;
      sumDiff += d;
    }
    pixels += img.length;
    o += img.length;
    for (let i = 0; i < lab.length; i++) if (lab[i] !== ref[o + i]) labelDiff++;
    labelPx += lab.length;
    o += lab.length;
    if (same) identical++;
  }
  console.log(
    `compare: ${all.length / 2} frames, ${identical} identical; image |diff| mean ${(sumDiff / pixels).toFixed(5)} max ${maxDiff}, ${big} values (${((100 * big) / pixels).toFixed(5)}%) differ > 2; labels differ at ${((100 * labelDiff) / labelPx).toFixed(3)}% of pixels`,
  );
}
