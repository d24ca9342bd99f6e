/**
 * The coverage file: what the fleet saw, written by the demo (`<out>/coverage.json`) so that
 * `fleetmap eval --coverage FILE` scores a published map against the same ground truth, with
 * the same context (drives, km driven, the per-drive GNSS biases of the floor), and gets the
 * demo's figures exactly.
 *
 * JSON, `{ format: "fleetmap-coverage", version: 1, ... }`; coordinates `[eastM, northM]` in the
 * local frame of the map it was made on (`mapSeed`, sim/fleet.ts `mapSeedOf`, identifies that
 * map: a reader compares it with the map it loaded). Numbers round-trip exactly through JSON.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { isPrimitiveClass, type Primitive } from '../shared/schema.ts';
import type { Coverage, CoverageOptions, CoveragePlace } from './coverage.ts';

export const COVERAGE_FILE_FORMAT = 'fleetmap-coverage';
export const COVERAGE_FILE_VERSION = 1;

export interface CoverageDrive {
  driveId: string;
  /** The drive's realised constant GNSS bias, metres (sim/gnss-error.ts). */
  biasEastM: number;
  biasNorthM: number;
  /**
   * Per-axis 1-sigma of this drive's bias, metres, when its receiver differs from the fleet's
   * (`driveBiasSigmaM`): an RTK anchor drive. Absent: the fleet's.
   */
  biasSigmaM?: number;
  /** Length driven, metres. */
  lengthM: number;
}

export interface CoverageFile {
  format: typeof COVERAGE_FILE_FORMAT;
  version: typeof COVERAGE_FILE_VERSION;
  /** File name of the map (for people; `mapSeed` is what is checked). */
  map: string;
  /** Content seed of the map (sim/fleet.ts `mapSeedOf`). */
  mapSeed: number;
  /** Options the coverage was computed with. */
  options: CoverageOptions;
  /** Per-axis 1-sigma of the drive bias the fleet was simulated with, metres (the expected floor). */
  driveBiasSigmaM: number;
  /** Every drive, indexed by `places[].drives`. */
  drives: CoverageDrive[];
  /** Sum of the drive lengths, km (as the demo summed it). */
  kmDriven: number;
  /** The evaluation's ground truth: what >= options.minDrives drives saw. */
  covered: Primitive[];
  drivesPerPlace: number[];
  places: CoveragePlace[];
  coveredLengthM: number;
  totalLengthM: number;
  /** The map version the demo scored with this file (`fleetmap eval --coverage` scores it by default); absent in older files. */
  mapVersion?: number;
}

/** What the demo knows when it writes the file: the file's fields, with the coverage whole. */
export type CoverageFileInput = Pick<CoverageFile, 'map' | 'mapSeed' | 'options' | 'driveBiasSigmaM' | 'drives' | 'kmDriven' | 'mapVersion'> & { coverage: Coverage };

export function toCoverageFile(i: CoverageFileInput): CoverageFile {
  return {
    format: COVERAGE_FILE_FORMAT,
    version: COVERAGE_FILE_VERSION,
    map: i.map,
    mapSeed: i.mapSeed,
    options: i.options,
    driveBiasSigmaM: i.driveBiasSigmaM,
    drives: i.drives,
    kmDriven: i.kmDriven,
    covered: i.coverage.covered,
    drivesPerPlace: i.coverage.drivesPerPlace,
    places: i.coverage.places,
    coveredLengthM: i.coverage.coveredLengthM,
    totalLengthM: i.coverage.totalLengthM,
    ...(i.mapVersion !== undefined ? { mapVersion: i.mapVersion } : {}),
  };
}

export function writeCoverageFile(path: string, file: CoverageFile): void {
  writeFileSync(path, `${JSON.stringify(file)}\n`);
}

export function readCoverageFile(path: string): CoverageFile {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new Error(`coverage file ${path}: ${e instanceof Error ? e.message : String(e)}`);
  }
  return decodeCoverageFile(raw, path);
}

/** Checks the shape (refusing other formats and versions with an exact message) and returns it typed. */
export function decodeCoverageFile(raw: unknown, name = 'coverage file'): CoverageFile {
  const bad = (msg: string): never => {
    throw new Error(`${name}: ${msg}`);
  };
  if (typeof raw !== 'object' || raw === null) return bad('not a JSON object');
  const f = raw as Record<string, unknown>;
  if (f.format !== COVERAGE_FILE_FORMAT) bad(`format must be ${JSON.stringify(COVERAGE_FILE_FORMAT)}, got ${JSON.stringify(f.format)}`);
  if (f.version !== COVERAGE_FILE_VERSION) bad(`got v${String(f.version)} data, expected v${COVERAGE_FILE_VERSION}`);
  if (typeof f.mapSeed !== 'number' || !Number.isInteger(f.mapSeed)) bad(`mapSeed must be an integer, got ${JSON.stringify(f.mapSeed)}`);
  for (const k of ['driveBiasSigmaM', 'kmDriven', 'coveredLengthM', 'totalLengthM'] as const) {
    if (typeof f[k] !== 'number' || !Number.isFinite(f[k]) || (f[k] as number) < 0) bad(`${k} must be a finite number >= 0, got ${JSON.stringify(f[k])}`);
  }
  if (!Array.isArray(f.drives)) return bad('drives must be an array');
  f.drives.forEach((d: unknown, i) => {
    const x = d as Record<string, unknown> | null;
    if (x === null || typeof x !== 'object' || typeof x.driveId !== 'string' || !Number.isFinite(x.biasEastM) || !Number.isFinite(x.biasNorthM) || !Number.isFinite(x.lengthM)) {
      bad(`drives[${i}] must be { driveId, biasEastM, biasNorthM, lengthM }, got ${JSON.stringify(d)}`);
    }
    if (x !== null && x.biasSigmaM !== undefined && !(typeof x.biasSigmaM === 'number' && Number.isFinite(x.biasSigmaM) && x.biasSigmaM > 0)) {
      bad(`drives[${i}].biasSigmaM must be a finite number > 0 metres when present, got ${JSON.stringify(x.biasSigmaM)}`);
    }
  });
  if (!Array.isArray(f.covered)) return bad('covered must be an array of primitives');
  f.covered.forEach((p: unknown, i) => {
    const x = p as Record<string, unknown> | null;
    if (x === null || typeof x !== 'object' || !isPrimitiveClass(x.cls) || !Array.isArray(x.points)) bad(`covered[${i}] is not a primitive`);
  });
  if (!Array.isArray(f.drivesPerPlace) || !Array.isArray(f.places) || f.places.length !== f.drivesPerPlace.length) {
    bad('places and drivesPerPlace must be arrays of the same length');
  }
  if (f.mapVersion !== undefined && !(typeof f.mapVersion === 'number' && Number.isInteger(f.mapVersion) && f.mapVersion >= 1)) bad(`mapVersion must be an integer >= 1, got ${JSON.stringify(f.mapVersion)}`);
  const nDrives = f.drives.length;
  (f.places as unknown[]).forEach((p: unknown, i) => {
    const x = p as Record<string, unknown> | null;
    const ok =
      x !== null &&
      typeof x === 'object' &&
      Array.isArray(x.drives) &&
      x.drives.every((d: unknown) => Number.isInteger(d) && (d as number) >= 0 && (d as number) < nDrives) &&
      (x.across === null || (Array.isArray(x.across) && x.across.length === 2 && x.across.every((v: unknown) => Number.isFinite(v))));
    if (!ok) bad(`places[${i}] must be { drives: indices < ${nDrives}, across: [e, n] | null }, got ${JSON.stringify(p)}`);
  });
  if (typeof f.options !== 'object' || f.options === null) bad('options must be an object');
  return raw as CoverageFile;
}
