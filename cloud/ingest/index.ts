/** cloud/ingest/: authenticate, validate, store once, ack; fleet upload health. */
export { IngestService, batchObjectKey, type IngestEffect, type IngestResult } from './service.ts';
export { FleetHealth, HEALTH_KEY, parseHealth, renderHealthTable, type FleetHealthSnapshot, type VehicleHealth } from './health.ts';
export { KeyRegistry, KeyRegistryError } from './keys.ts';
export { main, type IngestMainOptions, type IngestCounters } from './main.ts';
export { readCurveKeypair, generateCurveKeypair, type CurveKeypair } from './curve.ts';
