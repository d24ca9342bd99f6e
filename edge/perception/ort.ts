/**
 * The one import of onnxruntime-node in fleetmap: every module that runs a model takes `ort` from
 * here (`ort.test.ts` checks that no other file imports the package's values).
 *
 * Why: onnxruntime-node 1.30's Linux build carries telemetry (1DS). Observed on this machine
 * (2026-12-02): the first session of a process writes a persistent device id and a growing event
 * cache (`~/.cache/Microsoft/DeveloperTools/.onnxruntime/deviceid`, `onnxruntime.db`, 1.1 MB
 * after one demo), `.ses` and an empty `mat-debug-<pid>.log` per process in the temp directory,
 * and queues events for https://mobile.events.data.microsoft.com. On a vehicle that would be
 * disk outside the outbox's budget and traffic outside the signed uplink, to a third party.
 * `ORT_DISABLE_TELEMETRY=1`, set before the runtime initialises, turns all of it off (onnxruntime
 * pull request 27379, the POSIX telemetry provider); `ort-no-telemetry.ts` sets it, and is
 * imported first.
 */
import './ort-no-telemetry.ts';
import * as ort from 'onnxruntime-node';

export { ort };
