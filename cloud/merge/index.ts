/**
 * cloud/merge: stored observation batches -> versioned HD map tiles.
 *
 * - `runMerge(store, opts)`: the coordinator (claim version, plan incrementally, run tile jobs,
 *   publish: publish.ts owns the version layout, manifest, then tiles/latest.json).
 * - `mergeTile(input)`: the pure per-tile merge (align, cluster, clip, diff).
 * - `MergeExecutor` (`InProcessExecutor`, `WorkerThreadExecutor`) runs `TileJob`s; jobs and
 *   results are plain data.
 */
export { runMerge, silentLog, type MergeLog, type RunMergeOptions } from './run.ts';
export { readLatest, readManifest, resolvePublished, readTileObject, listPublishedVersions, publishVersion, buildManifest, tileObjectKey, manifestKey, LATEST_KEY, type Manifest, type ManifestTile, type Latest, type TileState, type PublishPlan } from './publish.ts';
export { QueueExecutor, TILE_QUEUE, PUBLISH_QUEUE, type QueueExecutorOptions } from './queue-executor.ts';
export { startQueueWorker, type QueueWorkerOptions } from './queue-worker.ts';
export { collectGarbage, type GcOptions, type GcReport } from './gc.ts';
export { mergeTile, type TileInput, type TileResult, type TileStats, type SegmentCorrection } from './merge-tile.ts';
export type { TileObservation } from './prepare.ts';
export { InProcessExecutor, WorkerThreadExecutor, runPool, isVersionExecutor, type MergeExecutor, type VersionExecutor, type InProcessOptions } from './executor.ts';
export { runTileJob, openStore, type TileJob, type TileJobResult } from './job.ts';
export { DEFAULT_MERGE_OPTIONS, resolveMergeOptions, type MergeOptions } from './options.ts';
export { diffTile, type TileChanges, type ClassCounts } from './changes.ts';
export type { MapFeature, FeatureProperties, TileFeatureCollection, MapGeometry, AreaGeometry } from './features.ts';
export { areaRing, firstPosition, isAreaGeometry } from './features.ts';
export { gatherForTile, frameTransform, encodeShard, decodeShard } from './shards.ts';
export { exportLanelet2, exportLanelet2File, readPublishedFeatures, DEFAULT_EXPORT_LANELET2, type ExportLanelet2Options, type ExportLanelet2Summary } from './export-lanelet2.ts';
export { readPublishedVersion, type PublishedVersion } from './published-version.ts';
export { exportMbtiles, buildVectorTiles, DEFAULT_EXPORT_MIN_ZOOM, type ExportMbtilesOptions, type ExportSummary } from './export-mbtiles.ts';
