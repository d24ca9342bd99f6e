/**
 * How the merge reads a stored batch: `batches/<vehicleId>/<seq, 10 digits>.fmb`, the raw envelope
 * the ingest verified before writing it (decoded 'trusted': no signature check, no time window).
 *
 * Drive ids are scoped to the vehicle here, `<vehicleId>/<driveId>` (shared/ids.ts
 * vehicleScopedDriveId), with the vehicle id from the envelope the ingest authenticated. The
 * merge never sees a bare drive id, so a vehicle cannot speak for another vehicle's drives (nor
 * make its observations count as another vehicle's drive, e.g. towards minDrives). The key must
 * agree with the envelope (vehicle and seq), or the batch is refused.
 */
import { decodeBatch, vehicleScopedDriveId, type ObservationBatch, type WireObservation } from '../../shared/index.ts';

const BATCH_KEY_RE = /^batches\/([^/]+)\/(\d{10})\.fmb$/;

/** The batch's observations with vehicle-scoped drive ids; throws Error naming the mismatch. */
export function readStoredBatch(key: string, bytes: Uint8Array): { batch: ObservationBatch; observations: WireObservation[] } {
  const m = BATCH_KEY_RE.exec(key);
  if (!m) throw new Error(`${key} is not a batch key (batches/<vehicleId>/<seq:10>.fmb)`);
  const batch = decodeBatch(bytes, 'trusted');
  if (batch.vehicleId !== m[1]) throw new Error(`${key} holds a batch of vehicle ${JSON.stringify(batch.vehicleId)}`);
  if (batch.seq !== Number(m[2])) throw new Error(`${key} holds batch seq ${batch.seq}`);
  const observations = batch.observations.map((o) => ({ ...o, driveId: vehicleScopedDriveId(batch.vehicleId, o.driveId) }));
  return { batch, observations };
}
