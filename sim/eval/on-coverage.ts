/**
 * Scoring a published map on what the fleet saw: the one path the demo and `fleetmap eval
 * --coverage FILE` share, so that both give the same figures for the same published map.
 *
 *   coverage file (sim/coverage-file.ts) + published primitives + the store's batches
 *     -> evaluateMap(covered ground truth, published, { drives, kmDriven, bytesUploaded, floors })
 */
import { BatchSet } from '../../cloud/merge/batch-set.ts';
import { resolvePublished } from '../../cloud/merge/publish.ts';
import type { ObjectStore } from '../../cloud/store/index.ts';
import type { ScoredPrimitive } from '../../shared/schema.ts';
import type { CoverageFile } from '../coverage-file.ts';
import { evaluateMap, type EvaluateOptions, type EvaluationReport } from './evaluate.ts';
import { floorInputs } from './floor.ts';

/** The evaluation context a coverage file carries: drives, km driven and both floors' inputs. */
export function coverageEvaluateOptions(file: CoverageFile): EvaluateOptions {
  const drives = file.drives.map((d) => ({ biasM: [d.biasEastM, d.biasNorthM] as const, ...(d.biasSigmaM === undefined ? {} : { biasSigmaM: d.biasSigmaM }) }));
  return {
    drives: file.drives.length,
    kmDriven: file.kmDriven,
    ...floorInputs(file.driveBiasSigmaM, drives, file.drivesPerPlace, file.places),
  };
}

/**
 * Bytes of the uploaded batches in the store (`batches/`), and how many: every batch, or with
 * `version` the batches that map version was merged from (its manifest's consumed-batch set).
 */
export async function uploadedBatchBytes(store: ObjectStore, version?: number): Promise<{ bytes: number; batches: number }> {
  let keys = await store.list('batches/');
  if (version !== undefined) {
    const { manifest } = await resolvePublished(store, version);
    const buf = await store.get(manifest.inputs);
    if (!buf) throw new Error(`map version ${version} lists ${manifest.inputs}, which is missing`);
    const merged = BatchSet.fromJson(JSON.parse(buf.toString('utf8')), manifest.inputs);
    keys = keys.filter((k) => merged.has(k));
  }
  let bytes = 0;
  for (const k of keys) bytes += (await store.get(k))?.length ?? 0;
  return { bytes, batches: keys.length };
}

/** Score `published` against the covered ground truth of `file`, with its context. */
export function evaluateOnCoverage(file: CoverageFile, published: readonly ScoredPrimitive[], extra: { bytesUploaded?: number } = {}): EvaluationReport {
  return evaluateMap(file.covered, published, { ...coverageEvaluateOptions(file), ...extra });
}
