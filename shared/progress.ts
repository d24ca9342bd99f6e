/**
 * Progress of a long job on the terminal: which stage, how far (done/total), how fast, how long
 * left. One line on stderr, redrawn in place at most every `minIntervalMs` (default 250 ms: four
 * times a second) and ended with a newline when the stage ends. Writes nothing at all when the
 * stream is not a terminal (a log file, a pipe, cron) or with `quiet` (`--quiet`), so logs and
 * scripts never see it.
 *
 *   merge tiles  [########------------]  412/1030  40%  55.1/s  elapsed 7.5s  left 11s
 *
 * The formatting and the estimate are pure functions (formatProgress, etaMs) of the numbers and
 * a clock passed in; the Progress class only keeps the state and writes.
 */

/** Where progress goes: process.stderr, or anything with its shape (tests). */
export interface ProgressStream {
  readonly isTTY?: boolean;
  readonly columns?: number;
  write(text: string): unknown;
}

export interface ProgressOptions {
  /** default process.stderr */
  stream?: ProgressStream;
  /** Write nothing (a `--quiet` flag). */
  quiet?: boolean;
  /** Clock, ms (default performance.now). */
  nowMs?: () => number;
  /** Least time between two redraws of a stage, ms (default 250). */
  minIntervalMs?: number;
  /** Redraw this often while a stage runs, even without news, so its elapsed time moves, ms (default 1000; 0: only on news). */
  redrawEveryMs?: number;
}

/** One stage's numbers at one moment. */
export interface ProgressState {
  stage: string;
  done: number;
  /** undefined: not known (then no bar, percentage or estimate). */
  total?: number;
  elapsedMs: number;
  /** What is counted (tiles, batches, frames...): shown after the rate. */
  unit?: string;
}

const BAR_CELLS = 20;

/** Time left, ms, at the stage's average rate so far; undefined when it cannot be told yet. */
export function etaMs(done: number, total: number | undefined, elapsedMs: number): number | undefined {
  if (total === undefined || !(done > 0) || !(elapsedMs > 0) || !Number.isFinite(total)) return undefined;
  if (done >= total) return 0;
  return ((total - done) * elapsedMs) / done;
}

/** 850ms, 7.5s, 42s, 3m05s, 1h02m. */
export function formatDurationMs(ms: number): string {
  const m = Math.max(0, ms);
  if (m < 1000) return `${Math.round(m)}ms`;
  if (m < 10_000) return `${(m / 1000).toFixed(1)}s`;
  const s = Math.round(m / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** The progress line for `s`, cut to `columns` characters when given. */
export function formatProgress(s: ProgressState, columns?: number): string {
  const parts = [s.stage];
  const t = s.total;
  if (t !== undefined && t > 0) {
    const f = Math.min(1, Math.max(0, s.done / t));
    const cells = Math.floor(f * BAR_CELLS);
    parts.push(`[${'#'.repeat(cells)}${'-'.repeat(BAR_CELLS - cells)}]`, `${s.done}/${t}`, `${Math.floor(f * 100)}%`);
  } else if (t === 0) {
    parts.push('nothing to do');
  } else if (s.done > 0) {
    parts.push(`${s.done}`);
  }
  if (s.done > 0 && s.elapsedMs > 0) {
    const rate = (s.done * 1000) / s.elapsedMs;
    parts.push(`${rate >= 100 ? Math.round(rate) : rate.toFixed(1)}${s.unit ? ` ${s.unit}` : ''}/s`);
  }
  parts.push(`elapsed ${formatDurationMs(s.elapsedMs)}`);
  const eta = etaMs(s.done, t, s.elapsedMs);
  if (eta !== undefined && s.done < (t ?? 0)) parts.push(`left ${formatDurationMs(eta)}`);
  const line = parts.join('  ');
  return columns !== undefined && columns > 1 && line.length > columns - 1 ? line.slice(0, columns - 1) : line;
}

/** `\r`, clear the line: what precedes every redraw. */
const CLEAR_LINE = '\r\u001b[2K';

export class Progress {
  /** True when it writes at all: a terminal, and not quiet. */
  readonly enabled: boolean;
  private readonly stream: ProgressStream;
  private readonly nowMs: () => number;
  private readonly minIntervalMs: number;
  private readonly redrawEveryMs: number;
  private timer: ReturnType<typeof setInterval> | undefined;
  private cur: { stage: string; total?: number; unit?: string; done: number; startMs: number; lastDrawMs: number } | undefined;
  private drawn = false;

  constructor(o: ProgressOptions = {}) {
    this.stream = o.stream ?? process.stderr;
    this.enabled = !o.quiet && this.stream.isTTY === true;
    this.nowMs = o.nowMs ?? (() => performance.now());
    this.minIntervalMs = o.minIntervalMs ?? 250;
    if (!(this.minIntervalMs >= 0)) throw new RangeError(`minIntervalMs must be >= 0, got ${o.minIntervalMs}`);
    this.redrawEveryMs = o.redrawEveryMs ?? 1000;
    if (!(this.redrawEveryMs >= 0)) throw new RangeError(`redrawEveryMs must be >= 0, got ${o.redrawEveryMs}`);
  }

  /** Start a stage (ending the one before); `total` when known. */
  stage(name: string, total?: number, unit?: string): void {
    this.end();
    const now = this.nowMs();
    this.cur = { stage: name, total, unit, done: 0, startMs: now, lastDrawMs: now };
    this.draw();
    if (this.enabled && this.redrawEveryMs > 0) {
      this.timer = setInterval(() => this.draw(), this.redrawEveryMs);
      this.timer.unref(); // never keeps the process alive
    }
  }

  /** `n` more done in the current stage. */
  tick(n = 1): void {
    if (this.cur) this.update(this.cur.done + n);
  }

  /** The current stage has `done` done (and, when it became known, `total` in all). */
  update(done: number, total?: number): void {
    const c = this.cur;
    if (!c) return;
    c.done = done;
    if (total !== undefined) c.total = total;
    const now = this.nowMs();
    if (now - c.lastDrawMs >= this.minIntervalMs || (c.total !== undefined && done >= c.total)) {
      c.lastDrawMs = now;
      this.draw();
    }
  }

  /** End the current stage: its last line stays on the terminal. */
  end(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    if (!this.cur) return;
    this.draw();
    if (this.enabled && this.drawn) this.stream.write('\n');
    this.drawn = false;
    this.cur = undefined;
  }

  /** Write something else (a log line) without tearing the progress line: cleared, `write`, redrawn. */
  interrupt(write: () => void): void {
    if (this.enabled && this.drawn) this.stream.write(CLEAR_LINE);
    this.drawn = false;
    write();
    if (this.cur) this.draw();
  }

  /** The current stage as numbers (undefined between stages). */
  state(): ProgressState | undefined {
    const c = this.cur;
    return c && { stage: c.stage, done: c.done, total: c.total, unit: c.unit, elapsedMs: this.nowMs() - c.startMs };
  }

  private draw(): void {
    if (!this.enabled) return;
    const s = this.state();
    if (!s) return;
    this.stream.write(`${CLEAR_LINE}${formatProgress(s, this.stream.columns)}`);
    this.drawn = true;
  }
}
