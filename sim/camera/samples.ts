/**
 * Write sample frames and label overlays as PNGs to out/camera-samples/ (for looking at):
 * `npx tsx sim/camera/samples.ts [--out DIR] [--seed S]`. Prints the render time per frame.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { prepareOutDir } from '../../cli/out-dir.ts';
import { KARLSRUHE_OSM_PATH, loadLanelet2File } from '../bundled-maps.ts';
import { DriveProfile } from '../drive.ts';
import { planFleet } from '../fleet.ts';
import { loadLanelet2, osmBoundsCentre } from '../lanelet2.ts';
import { deriveSeed, Rng } from '../rng.ts';
import { ringRoadOsm } from '../../test/fixtures/ring-road.ts';
import { vehicleCalibration } from './calibration.ts';
import { CONDITION_PRESETS, CONDITION_PRESET_NAMES, randomConditions } from './conditions.ts';
import { labelOverlay, stackRows, upscale } from './overlay.ts';
import { encodePngRgb } from './png.ts';
import { CameraRenderer } from './render.ts';

const args = process.argv.slice(2);
const arg = (name: string, dflt: string): string => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1]! : dflt;
};
const outDir = arg('out', 'out/camera-samples');
const seed = Number(arg('seed', '1'));
prepareOutDir(outDir); // refuses a non-empty directory fleetmap did not make (cli/out-dir.ts)

const maps = {
  karlsruhe: loadLanelet2File(KARLSRUHE_OSM_PATH),
  ring: loadLanelet2(ringRoadOsm(), { origin: osmBoundsCentre(ringRoadOsm()) }),
};
let totalMs = 0;
let frames = 0;
for (const [name, map] of Object.entries(maps)) {
  const renderer = new CameraRenderer(map);
  const plan = planFleet(map, { vehicles: 2, drivesPerVehicle: 1, driveLengthM: 800, seed });
  const drive = plan.drives[0]!;
  const profile = new DriveProfile(drive.route.centreline, new Rng(deriveSeed(drive.seed, 'drive')));
  const cal = vehicleCalibration(drive.vehicleId, seed);
  const rng = new Rng(deriveSeed(seed, name, 'samples'));
  const rows: Uint8Array[] = [];
  const kinds = [...CONDITION_PRESET_NAMES, 'mixed', 'mixed', 'mixed'];
  kinds.forEach((kind, k) => {
    const pose = profile.poseAt((profile.durationS * (k + 1)) / (kinds.length + 1));
    const cond = kind === 'mixed' ? randomConditions(rng) : { ...CONDITION_PRESETS[kind as keyof typeof CONDITION_PRESETS], worldSeed: seed };
    const t0 = performance.now();
    const f = renderer.render(pose, cal, 0, cond, rng.fork(`frame${k}`));
    totalMs += performance.now() - t0;
    frames++;
    const W = cal.widthPx;
    const H = cal.heightPx;
    const pair = new Uint8Array(W * H * 3 * 2);
    pair.set(f.image, 0);
    pair.set(labelOverlay(f.image, f.labels, W, H), W * H * 3);
    rows.push(pair);
    writeFileSync(join(outDir, `${name}-${k}-${kind}.png`), encodePngRgb(upscale(f.image, W, H, 2), W * 2, H * 2));
  });
  const W = 256;
  const sheet = stackRows(rows, W);
  writeFileSync(join(outDir, `${name}-sheet.png`), encodePngRgb(upscale(sheet, W, sheet.length / (W * 3), 2), W * 2, (sheet.length / (W * 3)) * 2));
}
// timing over more frames
{
  const map = maps.karlsruhe;
  const renderer = new CameraRenderer(map);
  const plan = planFleet(map, { vehicles: 1, drivesPerVehicle: 1, driveLengthM: 1500, seed });
  const profile = new DriveProfile(plan.drives[0]!.route.centreline, new Rng(1));
  const cal = vehicleCalibration('veh-001', seed);
  const rng = new Rng(5);
  const n = 200;
  const t0 = performance.now();
  for (let k = 0; k < n; k++) renderer.render(profile.poseAt((profile.durationS * k) / n), cal, 0, randomConditions(rng), rng);
  const ms = (performance.now() - t0) / n;
  console.log(`samples: ${frames} frames written to ${outDir} (${(totalMs / frames).toFixed(1)} ms each incl. warm-up); ${n} mixed Karlsruhe frames: ${ms.toFixed(2)} ms per frame`);
}
