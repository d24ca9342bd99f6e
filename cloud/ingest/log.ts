/**
 * Structured log events for the cloud ingest: one JSON object per line on stderr,
 * `{tUnixMs, level, svc: "ingest", event, ...numbers}` (same shape as the edge's).
 */
export type LogFields = Readonly<Record<string, unknown>>;
export type LogLevel = 'info' | 'warn' | 'error';

export interface Logger {
  log(level: LogLevel, event: string, fields?: LogFields): void;
}

export class JsonLogger implements Logger {
  constructor(
    private readonly svc: string,
    private readonly write: (line: string) => void = (line) => process.stderr.write(line),
  ) {}
  log(level: LogLevel, event: string, fields: LogFields = {}): void {
    this.write(`${JSON.stringify({ tUnixMs: Date.now(), level, svc: this.svc, event, ...fields })}\n`);
  }
}
