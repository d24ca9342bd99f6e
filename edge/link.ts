/**
 * Metered link: whether the uplink costs money per byte (cellular) or not (depot Wi-Fi), and
 * what the daemon does about it.
 *
 * Input: a small file the vehicle's network manager writes whenever the default route changes
 * (`--link-state-file FILE`, config `linkStateFile`), holding one word: `metered` or `unmetered`
 * (surrounding whitespace ignored). E.g. a NetworkManager dispatcher script writing
 * `nmcli -g GENERAL.METERED dev show wwan0`'s answer, mapped to those words. Written by rename
 * so it is never read half-written. The daemon reads it about once a second (LINK_POLL_MS).
 * - no `--link-state-file`: the link is unmetered (said once in `edge_started`);
 * - file configured but missing, unreadable or holding anything else: `unknown`, treated as
 *   metered (the cost-safe choice) and logged (`link_state_unknown`, with the reason).
 *
 * Decision (pure, `linkDecision`): on a metered link the uplink's rate cap is
 * `uplink.meteredMaxKbps` and only observations whose class priority is at least
 * `uplink.meteredMinPriority` are formed into batches; the others stay pending (held back, in
 * order) until the link is unmetered, or are the first the disk-budget policy drops. Batches
 * already formed are sent whatever they hold: a formed batch is never re-formed (exactly-once).
 */
import { readFileSync } from 'node:fs';
import type { PrimitiveClass } from '../shared/index.ts';
import { classesBelow, type ClassPriority } from './outbox-policy.ts';

export const LINK_POLL_MS = 1000;

export type LinkState = 'metered' | 'unmetered' | 'unknown';

export interface LinkReading {
  state: LinkState;
  /** Why the state is unknown (the file's problem). */
  reason?: string;
}

/** The file's text -> state; anything but the two words is unknown. */
export function parseLinkState(text: string): LinkReading {
  const word = text.trim();
  if (word === 'metered' || word === 'unmetered') return { state: word };
  return { state: 'unknown', reason: `expected "metered" or "unmetered", got ${JSON.stringify(word.slice(0, 40))}` };
}

/** Read the link-state file (the only I/O here). */
export function readLinkState(file: string): LinkReading {
  try {
    return parseLinkState(readFileSync(file, 'utf8'));
  } catch (e) {
    return { state: 'unknown', reason: `cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}` };
  }
}

export interface LinkProfile {
  /** Rate cap, kilobits per second; 0 = unlimited. */
  maxKbps: number;
  /** Rate cap on a metered link, kilobits per second (<= maxKbps unless maxKbps is 0). */
  meteredMaxKbps: number;
  /** On a metered link, classes with a lower priority are held back; 0 holds nothing back. */
  meteredMinPriority: number;
}

export interface LinkDecision {
  metered: boolean;
  /** The uplink's rate cap now, kilobits per second (0 = unlimited). */
  maxKbps: number;
  /** formBatch's minPriority now (0 = every class goes). */
  minPriority: number;
  /** Classes held back now, for the log. */
  heldBackClasses: PrimitiveClass[];
}

/** What the uplink and the batcher do on this link. Unknown counts as metered. */
export function linkDecision(state: LinkState, p: LinkProfile, classPriority: ClassPriority): LinkDecision {
  const metered = state !== 'unmetered';
  if (!metered) return { metered, maxKbps: p.maxKbps, minPriority: 0, heldBackClasses: [] };
  return { metered, maxKbps: p.meteredMaxKbps, minPriority: p.meteredMinPriority, heldBackClasses: classesBelow(classPriority, p.meteredMinPriority) };
}
