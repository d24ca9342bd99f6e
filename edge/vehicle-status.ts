/**
 * What the vehicle reports about itself in each batch it forms (shared/batch.ts VehicleStatus, wire
 * key `h`; docs/WIRE.md 3.4): the age of its oldest unacknowledged data, its drops by reason (the
 * same numbers as `fleetmap_drops_total`), and which model, hw-profile and software it runs. The
 * ingest keeps the latest in fleet health (`fleetmap cloud health`).
 */
import { readFileSync } from 'node:fs';
import { MAX_STATUS_DROP_REASONS, vehicleStatusProblem, type VehicleStatus } from '../shared/batch.ts';
import type { EdgeContext } from './context.ts';
import { edgeDropsByReason, oldestUnsentAgeS } from './metrics.ts';

/** This software's version (package.json). */
export const SOFTWARE_VERSION: string = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

/** The status to put in the next batch, from the live counters (the same as the metrics: edge/metrics.ts). */
export function vehicleStatusOf(ctx: Pick<EdgeContext, 'outbox' | 'state' | 'now' | 'cfg' | 'modelVersion'>): VehicleStatus {
  return vehicleStatusFrom({ oldestUnsentAgeS: oldestUnsentAgeS(ctx), dropsByReason: edgeDropsByReason(ctx), modelVersion: ctx.modelVersion, hwProfile: ctx.cfg.hwProfile.name, softwareVersion: SOFTWARE_VERSION });
}

/** A status the wire accepts: whole seconds, non-zero drops only (at most MAX_STATUS_DROP_REASONS, the largest), strings that fit or left out. */
export function vehicleStatusFrom(x: { oldestUnsentAgeS: number; dropsByReason: Readonly<Record<string, number>>; modelVersion?: string; hwProfile?: string; softwareVersion?: string }): VehicleStatus {
  const drops = Object.entries(x.dropsByReason)
    .filter(([, n]) => n > 0)
    .sort(([, a], [, b]) => b - a)
    .slice(0, MAX_STATUS_DROP_REASONS);
  const st: VehicleStatus = { oldestUnsentAgeS: Math.max(0, Math.round(x.oldestUnsentAgeS)), dropsByReason: Object.fromEntries(drops.map(([k, n]) => [k, Math.round(n)])) };
  for (const k of ['modelVersion', 'hwProfile', 'softwareVersion'] as const) {
    const v = x[k];
    if (v !== undefined && vehicleStatusProblem({ [k]: v }) === undefined) st[k] = v;
  }
  // Anything else the wire would refuse (a drop reason with a space...) is left out, never fails a batch.
  if (vehicleStatusProblem(st) !== undefined) st.dropsByReason = Object.fromEntries(Object.entries(st.dropsByReason!).filter(([k, n]) => vehicleStatusProblem({ dropsByReason: { [k]: n } }) === undefined));
  return st;
}
