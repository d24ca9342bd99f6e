/** edge/: the on-vehicle daemon. Pure parts first, wiring last. */
export * from './pose.ts';
export * from './georef.ts';
export * from './intake.ts';
export * from './outbox.ts';
export * from './outbox-policy.ts';
export { showOutbox, requeueDeadLetters, purgeDeadLetters, withOutboxFile, type OutboxReport } from './outbox-admin.ts';
export * from './link.ts';
export * from './uplink.ts';
export * from './backoff.ts';
export * from './hw-profile.ts';
export * from './config.ts';
export * from '../shared/log.ts';
export { PROCESSES, supervise, type ProcessSpec, type SuperviseResult } from './processes.ts';
export { main, type EdgeMainOptions } from './daemon.ts';
