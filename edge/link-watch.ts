/**
 * The metered-link input wired into the daemon: the batcher's loop calls `refreshLink` every
 * tick; about once a second (LINK_POLL_MS) it reads the link-state file, asks the pure
 * `linkDecision` (link.ts), and applies it: the uplink's rate cap and the batcher's minimum class
 * priority. Each change of state is one log event (`link_changed`; warn when the state is unknown).
 */
import type { EdgeConfig } from './config.ts';
import type { EdgeContext } from './context.ts';
import { LINK_POLL_MS, linkDecision, readLinkState, type LinkDecision, type LinkReading, type LinkState } from './link.ts';
import type { Uplink } from './uplink.ts';

export interface LinkStatus extends LinkDecision {
  state: LinkState;
  /** Why the state is unknown, or where it came from. */
  reason: string | undefined;
  checkedAtMs: number;
}

/** Read and decide (no link-state file: unmetered). */
export function linkStatus(cfg: EdgeConfig, nowMs: number): LinkStatus {
  const r: LinkReading = cfg.linkStateFile === undefined ? { state: 'unmetered', reason: 'no link-state file configured' } : readLinkState(cfg.linkStateFile);
  const up = cfg.hwProfile.uplink;
  const d = linkDecision(r.state, { maxKbps: up.maxKbps, meteredMaxKbps: up.meteredMaxKbps, meteredMinPriority: up.meteredMinPriority }, cfg.hwProfile.outbox.classPriority);
  return { ...d, state: r.state, reason: r.reason, checkedAtMs: nowMs };
}

/**
 * The uplink's rate cap follows the link. (Uplink reads opts.maxKbps at each send; a setter on
 * Uplink would say this more plainly.)
 */
export function applyLinkToUplink(uplink: Uplink, link: LinkDecision): void {
  uplink.opts.maxKbps = link.maxKbps;
}

export function logLink(ctx: Pick<EdgeContext, 'log'>, link: LinkStatus, from: LinkState | null): void {
  const fields = { state: link.state, from, metered: link.metered, maxKbps: link.maxKbps, minPriority: link.minPriority, heldBackClasses: link.heldBackClasses, reason: link.reason ?? null };
  if (link.state === 'unknown') ctx.log.warn('link_changed', fields);
  else ctx.log.info('link_changed', fields);
}

export function refreshLink(ctx: EdgeContext): void {
  const now = ctx.now();
  const cur = ctx.state.link;
  if (now - cur.checkedAtMs < LINK_POLL_MS) return;
  const next = linkStatus(ctx.cfg, now);
  ctx.state.link = next;
  if (next.state === cur.state && next.maxKbps === cur.maxKbps && next.minPriority === cur.minPriority) return;
  applyLinkToUplink(ctx.uplink, next);
  logLink(ctx, next, cur.state);
  ctx.wake.batcher.notify(); // held-back data may go now
}
