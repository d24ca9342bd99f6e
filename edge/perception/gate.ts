/**
 * Skip policy for camera frames in front of inference: a rate cap and at most one frame in
 * flight plus one waiting; a newer frame replaces the waiting one (latest frame wins: perception
 * of an old frame is worth less than of the newest). Skipped frames are counted by reason. Pure:
 * the caller passes the clock (milliseconds, any monotonic origin).
 *
 * Driver loop: `offer(frame, nowMs)` for every frame -> start the returned frame if any;
 * `done(nowMs)` when inference finished -> start the returned frame if any; with a timer,
 * `poll(nowMs)` starts a waiting frame once the rate cap allows.
 */
export interface GateOptions {
  /** Most frames started per second, hertz (from the hardware profile). */
  maxRateHz: number;
}

export const DEFAULT_GATE_OPTIONS: GateOptions = {
  maxRateHz: 10, // Hz
};

export interface GateCounters {
  offered: number;
  started: number;
  completed: number;
  /** Offered while idle but sooner than 1 / maxRateHz after the last start. */
  skippedRateCap: number;
  /** Waiting frames replaced by a newer one. */
  skippedReplaced: number;
}

export class FrameGate<T> {
  readonly options: GateOptions;
  readonly counters: GateCounters = { offered: 0, started: 0, completed: 0, skippedRateCap: 0, skippedReplaced: 0 };
  private readonly minIntervalMs: number;
  private inFlight = false;
  private waiting: T | undefined;
  private hasWaiting = false;
  private lastStartMs = Number.NEGATIVE_INFINITY;

  constructor(options: Partial<GateOptions> = {}) {
    this.options = { ...DEFAULT_GATE_OPTIONS, ...options };
    const r = this.options.maxRateHz;
    if (!(r > 0)) throw new RangeError(`gate.maxRateHz must be > 0 Hz, got ${r}`);
    this.minIntervalMs = 1000 / r;
  }

  /** Frames held: in flight (0/1) + waiting (0/1); never more than 2. */
  get depth(): number {
    return (this.inFlight ? 1 : 0) + (this.hasWaiting ? 1 : 0);
  }

  get busy(): boolean {
    return this.inFlight;
  }

  /** A new frame; returns it when it should start now, otherwise undefined (waiting or skipped). */
  offer(frame: T, nowMs: number): T | undefined {
    this.counters.offered++;
    if (this.inFlight) {
      this.replaceWaiting(frame);
      return undefined;
    }
    if (nowMs - this.lastStartMs < this.minIntervalMs) {
      if (this.hasWaiting) {
        // A frame already waits for the rate cap: the newer one takes its place.
        this.replaceWaiting(frame);
      } else this.counters.skippedRateCap++;
      return undefined;
    }
    if (this.hasWaiting) {
      // Idle and allowed to start: the newest frame wins over the waiting one.
      this.counters.skippedReplaced++;
      this.clearWaiting();
    }
    return this.start(frame, nowMs);
  }

  /** The frame in flight finished; returns the waiting frame when it should start now. */
  done(nowMs: number): T | undefined {
    if (!this.inFlight) throw new Error('gate.done: no frame in flight');
    this.inFlight = false;
    this.counters.completed++;
    return this.poll(nowMs);
  }

  /** Start the waiting frame if idle and the rate cap allows; otherwise undefined. */
  poll(nowMs: number): T | undefined {
    if (this.inFlight || !this.hasWaiting || nowMs - this.lastStartMs < this.minIntervalMs) return undefined;
    const f = this.waiting as T;
    this.clearWaiting();
    return this.start(f, nowMs);
  }

  /**
   * The caller's clock restarted (sensor time ran backwards): forget the last start, so the rate
   * cap counts from the next frame instead of skipping every frame until the old time comes round.
   */
  restartClock(): void {
    this.lastStartMs = Number.NEGATIVE_INFINITY;
  }

  /** When a waiting frame may start (ms), or undefined when nothing waits or one is in flight. */
  nextStartMs(): number | undefined {
    return this.hasWaiting && !this.inFlight ? this.lastStartMs + this.minIntervalMs : undefined;
  }

  private start(frame: T, nowMs: number): T {
    this.inFlight = true;
    this.lastStartMs = nowMs;
    this.counters.started++;
    return frame;
  }

  private replaceWaiting(frame: T): void {
    if (this.hasWaiting) this.counters.skippedReplaced++;
    this.waiting = frame;
    this.hasWaiting = true;
  }

  private clearWaiting(): void {
    this.waiting = undefined;
    this.hasWaiting = false;
  }
}
