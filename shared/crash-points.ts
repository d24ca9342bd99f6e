/**
 * Fault injection for the crash tests (a test hook, inert in production): a kill -9 of this
 * process (edge daemon, ingest or merge worker) at a named moment, so the tests can land a crash exactly where
 * a random one would be rare (inside an outbox transaction, between a send and its ack, between
 * an ack and the delete, between a durable store and its ack).
 *
 * Armed only by the environment: `FLEETMAP_CRASH_AT=<point>:<n>` kills the process (SIGKILL, no
 * cleanup, like a power cut) the n-th time (from 1) it passes `<point>`. Unset, `crashPoint()` is
 * one comparison. Points are listed in CRASH_POINTS; an unknown point in the variable is refused
 * at start-up so a typo cannot make a crash test pass vacuously.
 */
export const CRASH_POINTS = [
  /** Inside the transaction that appends observations to the outbox, before it commits. */
  'outbox_append',
  /** Inside the transaction that forms a batch from pending observations, before it commits. */
  'outbox_form_batch',
  /** A batch was handed to the socket; its ack has not come. */
  'uplink_after_send',
  /** A verified ack came for the head batch; the outbox has not deleted it. */
  'acks_before_delete',
  /** Ingest: a batch is durably stored; its ack has not been sent. */
  'ingest_after_store',
  /** Ingest: a batch's temp file is written and synced; it is not yet linked under its key. */
  'ingest_store_temp_written',
  /** Merge: a tile job merged its tile; it has not written the tile object (a worker killed mid-job). */
  'merge_tile_job',
] as const;
export type CrashPoint = (typeof CRASH_POINTS)[number];

interface Armed {
  point: CrashPoint;
  remaining: number;
}

function parse(value: string | undefined): Armed | undefined {
  if (value === undefined || value === '') return undefined;
  const m = /^([a-z_]+):([1-9]\d{0,6})$/.exec(value);
  if (!m || !(CRASH_POINTS as readonly string[]).includes(m[1]!)) {
    throw new RangeError(`FLEETMAP_CRASH_AT must be <point>:<n> with point one of ${CRASH_POINTS.join(', ')}, got ${JSON.stringify(value)}`);
  }
  return { point: m[1] as CrashPoint, remaining: Number(m[2]) };
}

let armed: Armed | undefined = parse(process.env.FLEETMAP_CRASH_AT);

/** Kill this process now if the crash test armed this point and this is the n-th pass. */
export function crashPoint(point: CrashPoint): void {
  if (armed === undefined || armed.point !== point) return;
  if (--armed.remaining > 0) return;
  armed = undefined;
  process.kill(process.pid, 'SIGKILL');
}
