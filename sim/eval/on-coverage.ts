/**
 * Scoring a published map on what the fleet saw: the one path the demo and `fleetmap eval
 * --coverage FILE` share, so that both give the same figures for the same published map.
 *
 *   coverage file (sim/coverage-file.ts) + published primitives + the store's batches
 *     -> evaluateMap(covered ground truth, published, { drives, kmDriven, bytesUploaded, floors })
 */
import type { ObjectStore } from '../../cloud/store/index.ts';
import type { ScoredPrimitive } from '../../shared/schema.ts';
import type { CoverageFile } from '../coverage-file.ts';
import { evaluateMap, type EvaluateOptions, type EvaluationReport } from './evaluate.ts';

/** The evaluation context a coverage file carries: drives, km driven and both floors' inputs. */
export function coverageEvaluateOptions(file: CoverageFile): EvaluateOptions {
  return {
    drives: file.drives.length,
    kmDriven: file.kmDriven,
    floor: { driveBiasSigmaM: file.driveBiasSigmaM, drivesPerPlace: file.drivesPerPlace },
    realisedFloor: { driveBiasesM: file.drives.map((d) => [d.biasEastM, d.biasNorthM] as const), places: file.places },
  };
}

/** Bytes of every uploaded batch in the store (`batches/`), and how many batches. */
export async function uploadedBatchBytes(store: ObjectStore): Promise<{ bytes: number; batches: number }> {
  const keys = await store.list('batches/');
  let bytes = 0;
  for (const k of keys) bytes += (await store.get(k))?.length ?? 0;
  return { bytes, batches: keys.length };
}

/** Score `published` against the covered ground truth of `file`, with its context. */
export function evaluateOnCoverage(file: CoverageFile, published: readonly ScoredPrimitive[], extra: { bytesUploaded?: number } = {}): EvaluationReport {
  return evaluateMap(file.covered, published, { ...coverageEvaluateOptions(file), ...extra });
}
