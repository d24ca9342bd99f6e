/**
 * The one logger of fleetmap (edge daemon, cloud ingest, merge): structured events, one JSON
 * object per line on stderr, written by pino:
 * `{"level":"warn","tUnixMs":1732900000000,"svc":"edge","event":"uplink_timeout","seq":7,...}`.
 *
 * Every failure is an event with the numbers that explain it (`uplink_timeout seq=7 attempt=3
 * backoffMs=1800`), never a bare message, so logs can be counted and graphed. Lines are written
 * synchronously: a daemon killed with SIGKILL has written every line it logged before the kill
 * (the crash tests read them), and nothing is buffered across a crash.
 */
import pino from 'pino';

export type LogValue = string | number | boolean | null | undefined | readonly string[] | readonly number[] | Readonly<Record<string, unknown>>;
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

export interface JsonLoggerOptions {
  /** File descriptor written to (default 2, stderr). */
  fd?: number;
  /** Least level written (default 'info'). */
  level?: LogLevel;
  /** Wall clock, Unix ms (tests). */
  now?: () => number;
}

/** Writes JSON lines with pino (default: stderr, synchronously). */
export class JsonLogger extends BaseLogger {
  private readonly pino: pino.Logger;

  constructor(svc: string, o: JsonLoggerOptions = {}) {
    super();
    const now = o.now ?? Date.now;
    this.pino = pino(
      {
        level: o.level ?? 'info',
        base: { svc },
        messageKey: 'msg',
        timestamp: () => `,"tUnixMs":${now()}`,
        formatters: { level: (label) => ({ level: label }) },
      },
      pino.destination({ dest: o.fd ?? 2, sync: true }),
    );
  }

  log(level: LogLevel, event: string, fields: LogFields = {}): void {
    this.pino[level]({ event, ...fields });
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
 * since the last line: a flood of bad messages becomes one line a second, not a thousand.
 */
export class RateLimitedLog {
  private readonly last = new Map<string, { atMs: number; suppressed: number }>();
  constructor(
    private readonly logger: Logger,
    private readonly intervalMs = 1000,
    private readonly now: () => number = Date.now,
  ) {}
  warn(key: string, event: string, fields: LogFields): void {
    this.log('warn', key, event, fields);
  }

  info(key: string, event: string, fields: LogFields): void {
    this.log('info', key, event, fields);
  }

  log(level: LogLevel, key: string, event: string, fields: LogFields): void {
    const t = this.now();
    const s = this.last.get(key);
    if (s && t - s.atMs < this.intervalMs) {
      s.suppressed++;
      return;
    }
    this.logger.log(level, event, { ...fields, suppressedSinceLast: s?.suppressed ?? 0 });
    this.last.set(key, { atMs: t, suppressed: 0 });
  }
}
