/**
 * The whole chain as a user runs it: `fleetmap demo` on a small fleet (real processes: ingest,
 * one edge daemon per drive, merge), then the report contract and figures that could fail.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DEFAULT_MERGE_OPTIONS } from '../cloud/merge/options.ts';
import { readStoredBatch } from '../cloud/merge/stored-batch.ts';
import { PRIMITIVE_CLASSES } from '../shared/schema.ts';
import { ringRoadOsm } from './fixtures/ring-road.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

describe('fleetmap demo', () => {
  it('turns a small simulated fleet into published tiles and an honest report.json (camera frames, on-vehicle model)', () => {
    const out = mkdtempSync(path.join(tmpdir(), 'fm-demo-'));
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'cli/main.ts', 'demo', '--vehicles', '4', '--drives', '2', '--drive-length-m', '1500', '--seed', '7', '--camera-hz', '1', '--change-drives', '0', '--out', out], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 240_000,
    });
    expect(r.status, `demo failed:\n${r.stdout}\n${r.stderr}`).toBe(0);
    expect(r.stdout).toContain('mAP');
    const report = JSON.parse(readFileSync(path.join(out, 'report.json'), 'utf8'));
    // the contract tools read
    expect(report.version).toBe(1);
    expect(report.drives).toBe(8);
    expect(report.perception).toMatchObject({ kind: 'model', cameraHz: 1 });
    expect(report.perception.model).toMatchObject({ name: 'fleetmap-seg' });
    for (const k of ['kmDriven', 'bytesUploaded', 'bytesPerKm', 'absoluteFloorCm', 'elapsedS']) expect(typeof report[k], k).toBe('number');
    expect(report.bytesPerKm).toBeCloseTo(report.bytesUploaded / report.kmDriven, 6);
    for (const cls of PRIMITIVE_CLASSES) {
      const c = report.classes[cls];
      expect(c, cls).toBeDefined();
      expect(Object.keys(c.ap).sort()).toEqual(['0.2', '0.5', '1.0']);
      expect(c.lateralErrorCm).toHaveProperty('p50');
      expect(c).toHaveProperty('recall');
    }
    expect(Object.keys(report.mAP).sort()).toEqual(['0.2', '0.5', '1.0']);
    expect(report.relative.mAP['1.0']).toBeGreaterThanOrEqual(report.mAP['0.2']);
    expect(report.relative.lateralErrorCm).toHaveProperty('p95');
    // figures a broken chain would fail: something real was mapped where the fleet drove (the
    // model's map is far below the oracle's today: README, "Perception on the model")
    expect(report.kmDriven).toBeGreaterThan(5);
    expect(report.mAP['1.0']).toBeGreaterThan(0.05);
    // (a small fleet sees much of the ground truth with only two drives, each of which may miss it)
    expect(report.classes.lane_divider.recall).toBeGreaterThan(0.15);
    expect(report.relative.lateralErrorCm.p50).toBeLessThan(40);
    // AP is monotone in the threshold
    expect(report.mAP['0.2']).toBeLessThanOrEqual(report.mAP['0.5'] + 1e-9);
    expect(report.mAP['0.5']).toBeLessThanOrEqual(report.mAP['1.0'] + 1e-9);
    // the published version is on disk behind latest.json
    const latest = JSON.parse(readFileSync(path.join(out, 'store', 'tiles', 'latest.json'), 'utf8'));
    expect(latest.version).toBe(1);
    expect(existsSync(path.join(out, 'store', 'tiles', 'v1', 'manifest.json'))).toBe(true);
    // the secure path: CURVE + ZAP on the uplink, every vehicle admitted, none refused
    const ingestLog = readFileSync(path.join(out, 'logs', 'ingest.log'), 'utf8');
    expect(ingestLog).toMatch(/"event":"ingest_listening".*"transportSecurity":"curve\+zap"/);
    expect(ingestLog).not.toMatch(/"event":"(handshake_refused|handshake_failed|transport_insecure)"/);
    // One daemon per vehicle runs both its drives: each drive is drained once, and the second
    // drive's camera frames are run too (its sensor clock starts again at zero).
    for (let v = 1; v <= 4; v++) {
      const log = readFileSync(path.join(out, 'logs', `veh-00${v}-pass1.log`), 'utf8');
      const drained = log.split('\n').filter((l) => l.includes('"event":"drained"')).map((l) => JSON.parse(l) as Record<string, number>);
      expect(drained.length, `veh-00${v}`).toBe(2);
      const [a, b] = drained as [Record<string, number>, Record<string, number>];
      expect(b.cameraSensorClockRestarts, `veh-00${v}`).toBe(1);
      const inSecond = b.cameraFramesIn! - a.cameraFramesIn!;
      const runSecond = b.cameraFramesProcessed! - a.cameraFramesProcessed!;
      expect(runSecond, `veh-00${v}: ${runSecond} of ${inSecond} frames of the second drive run`).toBeGreaterThan(0.5 * inSecond);
    }
  });

  it('takes any Lanelet2 map: --map with a synthetic ring road (oracle perception, the named test double)', () => {
    const out = mkdtempSync(path.join(tmpdir(), 'fm-demo-ring-'));
    const mapFile = path.join(out, 'ring-road.osm');
    writeFileSync(mapFile, ringRoadOsm());
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'cli/main.ts', 'demo', '--map', mapFile, '--vehicles', '3', '--drives', '1', '--drive-length-m', '800', '--seed', '3', '--perception', 'oracle', '--out', path.join(out, 'demo')], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 240_000,
    });
    expect(r.status, `demo failed:\n${r.stdout}\n${r.stderr}`).toBe(0);
    const report = JSON.parse(readFileSync(path.join(out, 'demo', 'report.json'), 'utf8'));
    expect(report.settingsDemo.map).toBe('ring-road.osm');
    expect(report.perception).toEqual({ kind: 'oracle' });
    expect(report.drives).toBe(3);
    // the change phase: the world changed after v1, every vehicle drove once more, v2 was published
    // and its changes scored against the true ones (what the scenarios could place on this ring)
    expect(report.mapVersion).toBe(1);
    expect(report.change).toMatchObject({ fromVersion: 1, toVersion: 2, drivesAfter: 3 });
    expect(report.change.score.trueChanges + report.change.score.notInPrevious).toBe(report.change.trueChanges.length);
    expect(report.change.score.perChange).toHaveLength(report.change.score.trueChanges);
    expect(JSON.parse(readFileSync(path.join(out, 'demo', 'store', 'tiles', 'latest.json'), 'utf8')).version).toBe(2);
    // the ring's dividers and curbs were mapped where the fleet drove. Three drives share whatever
    // GNSS bias they drew (their realised floor: here tens of cm, more than the 0.5 m recall radius
    // allows for), so the shape is checked after alignment and the absolute error against that floor.
    expect(report.relative.classes.lane_divider.recall).toBeGreaterThan(0.7);
    expect(report.relative.classes.road_boundary.recall).toBeGreaterThan(0.7);
    expect(report.relative.mAP['1.0']).toBeGreaterThan(0.5);
    expect(report.lateralErrorAllSeenCm.p50).toBeLessThan(report.floorCm.realised.magnitudeP95Cm + 50);
    // the honest-evaluation keys: the realised floor (named, with the expected one beside it),
    // FP per km driven and per km published, lateral p95 over all seen ground truth
    expect(report.absoluteFloorSource).toBe('realised');
    expect(report.absoluteFloorCm).toBe(report.floorCm.realised.lateralP50Cm);
    expect(typeof report.floorCm.expected.consensusLateralP50Cm).toBe('number');
    expect(typeof report.fpLengthPerKmPublished).toBe('number');
    expect(report.lateralErrorAllSeenCm.samples).toBeGreaterThan(0);
    expect(report.settingsDemo.mapSeed).toEqual(expect.any(Number));
    // fleetmap eval --coverage on the same published map reproduces the demo's figures exactly
    const evalOut = path.join(out, 'eval.json');
    const e = spawnSync(process.execPath, ['--import', 'tsx', 'cli/main.ts', 'eval', '--store', path.join(out, 'demo', 'store'), '--map', mapFile, '--coverage', path.join(out, 'demo', 'coverage.json'), '--out', evalOut], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 120_000,
    });
    expect(e.status, `eval failed:\n${e.stdout}\n${e.stderr}`).toBe(0);
    const again = JSON.parse(readFileSync(evalOut, 'utf8'));
    const figures = Object.keys(again).filter((k) => !['evaluationS', 'elapsedS', 'mapVersion'].includes(k));
    expect(figures.length).toBeGreaterThan(15);
    for (const k of figures) expect(again[k], k).toEqual(report[k]);
    expect(again.mapVersion).toBe(report.mapVersion);
    // and refuses a coverage file made on another map
    const wrong = spawnSync(process.execPath, ['--import', 'tsx', 'cli/main.ts', 'eval', '--store', path.join(out, 'demo', 'store'), '--coverage', path.join(out, 'demo', 'coverage.json')], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
    expect(wrong.status).toBe(2);
    expect(wrong.stderr).toMatch(/was made on map ring-road\.osm/);
  });

  it('--rtk-vehicles: an RTK vehicle declares its centimetres, the merge anchors the map on it and the floor weighs it so', () => {
    const out = mkdtempSync(path.join(tmpdir(), 'fm-demo-rtk-'));
    const mapFile = path.join(out, 'ring-road.osm');
    writeFileSync(mapFile, ringRoadOsm());
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'cli/main.ts', 'demo', '--map', mapFile, '--vehicles', '3', '--drives', '1', '--drive-length-m', '800', '--seed', '3', '--perception', 'oracle', '--rtk-vehicles', '1', '--change-drives', '0', '--out', path.join(out, 'demo')], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 240_000,
    });
    expect(r.status, `demo failed:\n${r.stdout}\n${r.stderr}`).toBe(0);
    expect(r.stdout).toMatch(/fleet: 3 vehicles \(veh-001 with RTK\)/);
    const report = JSON.parse(readFileSync(path.join(out, 'demo', 'report.json'), 'utf8'));
    expect(report.settingsDemo.rtkVehicles).toBe(1);
    const coverage = JSON.parse(readFileSync(path.join(out, 'demo', 'coverage.json'), 'utf8'));
    const rtk = coverage.drives.find((d: { driveId: string }) => d.driveId === 'veh-001-d1');
    expect(rtk.biasSigmaM).toBe(0.02);
    expect(Math.hypot(rtk.biasEastM, rtk.biasNorthM)).toBeLessThan(0.1);
    for (const d of coverage.drives.filter((x: { driveId: string }) => x !== rtk)) expect(d.biasSigmaM).toBeUndefined();
    // what each vehicle uploaded declares its positioning: the RTK vehicle's pose sigma is under
    // the merge's 0.1 m anchor limit, the others' above it
    const batchDir = path.join(out, 'demo', 'store', 'batches');
    const sigmasCm = (vehicleId: string): number[] =>
      readdirSync(path.join(batchDir, vehicleId)).flatMap((f) => readStoredBatch(`batches/${vehicleId}/${f}`, readFileSync(path.join(batchDir, vehicleId, f))).observations.map((o) => o.poseSigmaCm));
    const rtkSigmas = sigmasCm('veh-001');
    expect(rtkSigmas.length).toBeGreaterThan(0);
    expect(Math.max(...rtkSigmas)).toBeLessThanOrEqual(100 * DEFAULT_MERGE_OPTIONS.anchorMaxSigmaM);
    expect(Math.min(...sigmasCm('veh-002'))).toBeGreaterThan(100 * DEFAULT_MERGE_OPTIONS.anchorMaxSigmaM);
    // the realised floor weighs the anchor (1 / sigma^2); the expected floor, one sigma for all, is left out
    expect(report.floorCm.expected ?? null).toBeNull();
    expect(report.floorCm.realised.lateralP50Cm).toBeLessThan(10);
    // the map follows the anchor: its absolute error is near the anchor's centimetres, not the consumer drives' bias
    const consumerBiasCm = Math.min(...coverage.drives.filter((x: { driveId: string }) => x !== rtk).map((d: { biasEastM: number; biasNorthM: number }) => 100 * Math.hypot(d.biasEastM, d.biasNorthM)));
    expect(report.lateralErrorCm.p50).toBeLessThan(Math.min(20, consumerBiasCm / 2));
  });
});
