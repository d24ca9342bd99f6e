/**
 * Structured log events: one JSON object per line on stderr, `{tUnixMs, level, svc, event, ...}`.
 * Every failure is an event with the numbers that explain it (`uplink_timeout seq=7 attempt=3
 * backoffMs=1800`), never a bare message, so logs can be counted and graphed.
 */
export type LogValue = string | number | boolean | null | undefined | readonly string[] | Readonly<Record<string, number>>;
export type LogFields = Readonly<Record<string, LogValue>>;
export type LogLevel = 'info' | 'warn' | 'error';

export interface Logger {
  log(level: LogLevel, event: string, fields?: LogFields): void;
  info(event: string, fields?: LogFields): void;
  warn(event: string, fields?: LogFields): void;
  error(event: string, fields?: LogFields): void;
}

export interface LogRecord extends Record<string, unknown> {
  tUnixMs: number;
  level: LogLevel;
  svc: string;
  event: string;
}

abstract class BaseLogger implements Logger {
  abstract log(level: LogLevel, event: string, fields?: LogFields): void;
  info(event: string, fields?: LogFields): void {
    this.log('info', event, fields);
  }
  warn(event: string, fields?: LogFields): void {
    this.log('warn', event, fields);
  }
  error(event: string, fields?: LogFields): void {
    this.log('error', event, fields);
  }
}

/** Writes JSON lines (default: stderr). */
export class JsonLogger extends BaseLogger {
  constructor(
    private readonly svc: string,
    private readonly write: (line: string) => void = (line) => process.stderr.write(line),
    private readonly now: () => number = Date.now,
  ) {
    super();
  }
  log(level: LogLevel, event: string, fields: LogFields = {}): void {
    this.write(`${JSON.stringify({ tUnixMs: this.now(), level, svc: this.svc, event, ...fields })}\n`);
  }
}

/** Keeps records in memory (tests). */
export class MemoryLogger extends BaseLogger {
  readonly records: LogRecord[] = [];
  constructor(private readonly svc = 'test') {
    super();
  }
  log(level: LogLevel, event: string, fields: LogFields = {}): void {
    this.records.push({ tUnixMs: Date.now(), level, svc: this.svc, event, ...fields });
  }
  events(name: string): LogRecord[] {
    return this.records.filter((r) => r.event === name);
  }
}

/**
 * Counts an event every time and logs it at most once per `intervalMs` (per key), with the count
 * since the last line: a flood of bad sensor messages becomes one line a second, not a thousand.
 */
export class RateLimitedLog {
  private readonly last = new Map<string, { atMs: number; suppressed: number }>();
  constructor(
    private readonly logger: Logger,
    private readonly intervalMs = 1000,
    private readonly now: () => number = Date.now,
  ) {}
  warn(key: string, event: string, fields: LogFields): void {
    const t = this.now();
    const s = this.last.get(key);
    if (s && t - s.atMs < this.intervalMs) {
      s.suppressed++;
      return;
    }
    this.logger.warn(event, { ...fields, suppressedSinceLast: s?.suppressed ?? 0 });
    this.last.set(key, { atMs: t, suppressed: 0 });
  }
}
