/** Reads health/fleet.json from the store (undefined when absent) with the ingest's own parser. */
import { HEALTH_KEY, parseHealth, type FleetHealthSnapshot, type TroubleThresholds } from '../ingest/health.ts';
import type { ObjectStore } from '../store/index.ts';
import { healthView, type HealthView } from './health-view.ts';

export async function readFleetHealth(store: ObjectStore): Promise<FleetHealthSnapshot | undefined> {
  const buf = await store.get(HEALTH_KEY);
  return buf ? parseHealth(buf) : undefined;
}

export async function readHealthView(store: ObjectStore, nowUnixMs: number, thresholds: TroubleThresholds): Promise<HealthView> {
  return healthView(await readFleetHealth(store), nowUnixMs, thresholds);
}
