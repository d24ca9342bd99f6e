/** cloud/ingest/: authenticate, validate, store once, ack; fleet upload health. */
export { IngestService, batchObjectKey, type IngestEffect, type IngestResult } from './service.ts';
export {
  FleetHealth,
  HEALTH_KEY,
  boundedHealth,
  bytesLast24h,
  DEFAULT_TROUBLE_THRESHOLDS,
  healthReport,
  parseHealth,
  renderHealthTable,
  sortByTrouble,
  troubleOf,
  TROUBLE_CODES,
  type FleetHealthSnapshot,
  type HealthReport,
  type RankedVehicle,
  type Trouble,
  type TroubleCode,
  type TroubleThresholds,
  type VehicleHealth,
} from './health.ts';
export { HealthWriter, type HealthWriterOptions } from './health-writer.ts';
export { displaySafe } from './display-safe.ts';
export { KeyRegistry, KeyRegistryError, REGISTRY_FORMAT, REGISTRY_VERSION, type VehicleKeyEntry, type KeyStatus } from './keys.ts';
export { main, type IngestMainOptions, type IngestCounters } from './main.ts';
export { readCurveKeypair, generateCurveKeypair, type CurveKeypair } from './curve.ts';
export { answerZap, ZAP_DOMAIN, ZAP_ENDPOINT, type CurveKeyLookup, type ZapAnswer, type ZapDecision, type ZapRefusal } from './zap.ts';
export { startZapHandler, type ZapHandler } from './zap-handler.ts';
export { RegistryWatcher } from './registry-watch.ts';
