/** What the daemon's parts share: the pure logic objects, the sockets and a few live numbers. */
import type * as zmq from 'zeromq';
import type { EdgeConfig } from './config.ts';
import type { Georeferencer } from './georef.ts';
import type { IntakeErrorCode } from './intake.ts';
import type { Logger, RateLimitedLog } from '../shared/log.ts';
import type { Outbox } from './outbox.ts';
import type { LinkStatus } from './link-watch.ts';
import type { Uplink } from './uplink.ts';
import type { Wakeup } from './wakeup.ts';
import type { CameraPerception } from './perception/camera-perception.ts';

export interface EdgeSockets {
  /** Sensor bus intake, bound. */
  intake: zmq.Pull;
  /** Uplink to the ingest, not yet connected: the uplink part connects it to cfg.ingestEndpoint. */
  uplink: zmq.Dealer;
}

export interface EdgeState {
  messagesIn: number;
  startedAtMs: number; // wall clock at start-up
  lastMessageAtMs: number | undefined; // wall clock of the last intake message
  badMessages: Partial<Record<IntakeErrorCode | 'georef_failed' | 'no_camera_calibration' | 'not_wire_encodable', number>>;
  observationsQueued: number;
  observationsRefused: number; // outbox full
  batchesFormed: number;
  observationsDelivered: number;
  /** Envelope bytes handed to the uplink socket, resends included. */
  bytesSent: number;
  /** Wall clock of the last verified ack that settled a batch. */
  lastAckUnixMs: number | undefined;
  flushRequested: boolean;
  /** There was something to deliver in this run (messages arrived, or the outbox was not empty at start). */
  hadWork: boolean;
  drained: boolean;
  /** The perception part is between taking a frame and queueing what it produced. */
  perceptionBusy: boolean;
  /** Callers waiting for the local map to be flushed (drive markers), resolved by the perception part. */
  perceptionFlushWaiters: Array<() => void>;
  /** The link (metered or not) and what it means for the uplink and the batcher (link-watch.ts). */
  link: LinkStatus;
}

export interface EdgeContext {
  cfg: EdgeConfig;
  log: Logger;
  limited: RateLimitedLog;
  outbox: Outbox;
  georef: Georeferencer;
  /** On-vehicle perception of camera frames; undefined without a camera calibration. */
  perception: CameraPerception | undefined;
  /** Version of the loaded perception model (reported in batches: vehicle-status.ts). */
  modelVersion?: string;
  uplink: Uplink;
  sockets: EdgeSockets;
  wake: { batcher: Wakeup; uplink: Wakeup; monitor: Wakeup; intake: Wakeup; perception: Wakeup };
  state: EdgeState;
  now: () => number;
  /** Ask the supervisor to stop the daemon (e.g. drained with --exit-when-drained). */
  requestStop: (reason: string) => void;
}
