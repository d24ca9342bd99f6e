/**
 * The outbox's disk budget as the daemon reports it: one warn event per application of the
 * drop policy (`outbox_budget_applied`, never silent), and the outbox's numbers in `edge_stats`.
 */
import type { EdgeContext } from './context.ts';

/** Log what the policy dropped since the last call (outbox.takeBudgetEvents). */
export function logBudgetEvents(ctx: Pick<EdgeContext, 'outbox' | 'log'>): void {
  for (const e of ctx.outbox.takeBudgetEvents()) {
    ctx.log.warn('outbox_budget_applied', { ...e, dropWhenFull: ctx.outbox.policy.dropWhenFull, totalApplied: ctx.outbox.dropTotals.applied });
  }
}

/** The outbox part of edge_stats: disk, drops per reason and class (this run), held-back data. */
export function outboxStatsFields(ctx: Pick<EdgeContext, 'outbox' | 'state'>, pendingObservations: number): Record<string, number | Record<string, number>> {
  const t = ctx.outbox.dropTotals;
  const counts = (c: Partial<Record<string, number>>): Record<string, number> => Object.fromEntries(Object.entries(c).filter((e): e is [string, number] => e[1] !== undefined));
  const link = ctx.state.link;
  return {
    outboxDiskBytes: ctx.outbox.disk().totalBytes,
    outboxMaxDiskBytes: ctx.outbox.maxDiskBytes,
    outboxBudgetApplied: t.applied,
    outboxDroppedPending: counts(t.observations.pending),
    outboxDroppedBatches: t.batches,
    outboxDroppedBatchObservations: counts(t.observations.batches),
    outboxDroppedDeadLetters: t.deadLetters,
    outboxDroppedDeadLetterObservations: counts(t.observations.dead_letters),
    outboxRefused: counts(t.observations.refused),
    linkMetered: link.metered ? 1 : 0,
    uplinkMaxKbps: link.maxKbps,
    heldBackObservations: pendingObservations - ctx.outbox.pendingCount(link.minPriority),
  };
}
