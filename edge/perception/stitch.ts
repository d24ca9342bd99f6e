/**
 * Lines across chunk borders: the local map vectorises each chunk on its own and cuts its lines
 * at the chunk's edges, so a kerb 100 m long leaves as three or four pieces that merely touch.
 * The stitcher holds each finished divider and boundary for a few emission rounds and joins the
 * next chunk's piece to it where their ends meet (within `joinGapM`, directions agreeing within
 * `maxAngleRad`): fewer, longer observations, each stretch of road still once. A line is released
 * when `holdRounds` rounds went by without extending it, when it reaches `maxLengthM`, or on
 * flush. Other classes pass straight through.
 *
 * A joined line's score is the length-weighted mean of its pieces', its style or kind the one
 * with the most length, its pose sigma the largest and its time the latest of its pieces.
 */
import type { BoundaryKind, DividerStyle } from '../../shared/schema.ts';
import type { LocalPrimitive } from './localmap.ts';
import { lengthM, type Pt } from './polyline.ts';

export interface StitchOptions {
  /** Largest distance between the ends joined, metres. */
  joinGapM: number;
  /** Largest change of direction at the join, radians. */
  maxAngleRad: number;
  /** Emission rounds a line waits for a continuation. */
  holdRounds: number;
  /** A line this long is released whatever comes, metres. */
  maxLengthM: number;
  /** Lines held at most (the oldest are released first). */
  maxHeld: number;
}

export const DEFAULT_STITCH_OPTIONS: StitchOptions = {
  joinGapM: 0.6, // m
  maxAngleRad: 0.35, // rad
  holdRounds: 3, // rounds
  maxLengthM: 150, // m
  maxHeld: 256, // lines
};

interface Held {
  prim: LocalPrimitive;
  lengthM: number;
  /** Length per style or kind, for the vote. */
  votes: Map<string, number>;
  scoreLength: number;
  idleRounds: number;
}

const isLine = (p: LocalPrimitive): boolean => p.cls === 'lane_divider' || p.cls === 'road_boundary';
const attrOf = (p: LocalPrimitive): string => p.style ?? p.kind ?? '';

export class LineStitcher {
  readonly options: StitchOptions;
  private held: Held[] = [];
  /** Joins made (for counters and tests). */
  joins = 0;

  constructor(options: Partial<StitchOptions> = {}) {
    this.options = { ...DEFAULT_STITCH_OPTIONS, ...options };
    const o = this.options;
    for (const k of ['joinGapM', 'maxAngleRad', 'maxLengthM'] as const) {
      if (!(o[k] >= 0 && Number.isFinite(o[k]))) throw new RangeError(`stitch.${k} must be a finite number >= 0, got ${o[k]}`);
    }
    for (const k of ['holdRounds', 'maxHeld'] as const) {
      if (!(Number.isInteger(o[k]) && o[k] >= 0)) throw new RangeError(`stitch.${k} must be an integer >= 0, got ${o[k]}`);
    }
  }

  get holding(): boolean {
    return this.held.length > 0;
  }

  /** One emission round's primitives in; what is ready to upload out. */
  push(primitives: readonly LocalPrimitive[]): LocalPrimitive[] {
    const out: LocalPrimitive[] = [];
    const extended = new Set<Held>();
    for (const p of primitives) {
      if (!isLine(p) || p.pointsLocal.length < 2) {
        out.push(p);
        continue;
      }
      const h = this.join(p);
      if (h) {
        extended.add(h);
        continue;
      }
      const fresh: Held = { prim: { ...p, pointsLocal: p.pointsLocal.slice() }, lengthM: lengthM(p.pointsLocal), votes: new Map(), scoreLength: 0, idleRounds: 0 };
      fresh.votes.set(attrOf(p), fresh.lengthM);
      fresh.scoreLength = p.score * fresh.lengthM;
      this.held.push(fresh);
      extended.add(fresh);
    }
    const keep: Held[] = [];
    for (const h of this.held) {
      if (!extended.has(h)) h.idleRounds++;
      if (h.idleRounds >= this.options.holdRounds || h.lengthM >= this.options.maxLengthM) out.push(finish(h));
      else keep.push(h);
    }
    while (keep.length > this.options.maxHeld) out.push(finish(keep.shift()!));
    this.held = keep;
    return out;
  }

  /** Release everything held (drive end, pose frame change). */
  flush(): LocalPrimitive[] {
    const out = this.held.map(finish);
    this.held = [];
    return out;
  }

  /** Append `p` to a held line whose end meets one of its ends; the line joined, if any. */
  private join(p: LocalPrimitive): Held | undefined {
    const o = this.options;
    const q = p.pointsLocal;
    let best: { h: Held; gapM: number; atEnd: boolean; reverse: boolean } | undefined;
    for (const h of this.held) {
      if (h.prim.cls !== p.cls) continue;
      const a = h.prim.pointsLocal;
      // (held end -> p start), (held end -> p end, p reversed), (p end -> held start), (p start -> held start, p reversed)
      const cands: Array<{ atEnd: boolean; reverse: boolean }> = [
        { atEnd: true, reverse: false },
        { atEnd: true, reverse: true },
        { atEnd: false, reverse: false },
        { atEnd: false, reverse: true },
      ];
      for (const c of cands) {
        const from = c.atEnd ? a[a.length - 1]! : c.reverse ? q[0]! : q[q.length - 1]!;
        const to = c.atEnd ? (c.reverse ? q[q.length - 1]! : q[0]!) : a[0]!;
        const gapM = Math.hypot(to[0] - from[0], to[1] - from[1]);
        if (gapM > o.joinGapM || (best && gapM >= best.gapM)) continue;
        // Directions at the join: the held line's end heading and the new piece's start heading.
        const dirHeld = c.atEnd ? direction(a[a.length - 2]!, a[a.length - 1]!) : direction(a[0]!, a[1]!);
        const dirNew = c.atEnd
          ? c.reverse
            ? direction(q[q.length - 1]!, q[q.length - 2]!)
            : direction(q[0]!, q[1]!)
          : c.reverse
            ? direction(q[1]!, q[0]!)
            : direction(q[q.length - 2]!, q[q.length - 1]!);
        if (angleBetween(dirHeld, dirNew) > o.maxAngleRad) continue;
        best = { h, gapM, ...c };
      }
    }
    if (!best) return undefined;
    const { h } = best;
    const piece = best.reverse ? q.slice().reverse() : q.slice();
    const a = h.prim.pointsLocal;
    if (best.atEnd) {
      const last = a[a.length - 1]!;
      if (Math.hypot(piece[0]![0] - last[0], piece[0]![1] - last[1]) < 0.05) piece.shift();
      a.push(...piece);
    } else {
      const first = a[0]!;
      if (Math.hypot(piece[piece.length - 1]![0] - first[0], piece[piece.length - 1]![1] - first[1]) < 0.05) piece.pop();
      a.unshift(...piece);
    }
    const len = lengthM(q);
    h.lengthM = lengthM(a);
    h.votes.set(attrOf(p), (h.votes.get(attrOf(p)) ?? 0) + len);
    h.scoreLength += p.score * len;
    h.prim.poseSigmaM = Math.max(h.prim.poseSigmaM, p.poseSigmaM);
    h.prim.tUnixMs = Math.max(h.prim.tUnixMs, p.tUnixMs);
    h.idleRounds = 0;
    this.joins++;
    return h;
  }
}

function finish(h: Held): LocalPrimitive {
  const p = h.prim;
  let bestAttr = '';
  let bestLen = -1;
  for (const [k, v] of h.votes) {
    if (v > bestLen) {
      bestLen = v;
      bestAttr = k;
    }
  }
  const out: LocalPrimitive = { ...p, score: h.lengthM > 0 ? h.scoreLength / h.lengthM : p.score };
  if (p.cls === 'lane_divider' && bestAttr) out.style = bestAttr as DividerStyle;
  if (p.cls === 'road_boundary' && bestAttr) out.kind = bestAttr as BoundaryKind;
  return out;
}

function direction(a: Pt, b: Pt): Pt {
  const dx = b[0] - a[0];
  const dy = b[1] - a[1];
  const n = Math.hypot(dx, dy) || 1;
  return [dx / n, dy / n];
}

function angleBetween(u: Pt, v: Pt): number {
  return Math.acos(Math.max(-1, Math.min(1, u[0] * v[0] + u[1] * v[1])));
}
