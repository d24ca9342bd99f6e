/**
 * A loopback HTTP proxy for fault injection: forwards every request to `target` unless `fault`
 * answers it first (e.g. the first N requests get 503 SlowDown). Records what it saw.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SeenRequest {
  /** 1-based, in arrival order. */
  n: number;
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  /** True when `fault` answered instead of the target. */
  faulted: boolean;
}

export interface FaultAnswer {
  status: number;
  body?: string;
  /** Forward the request first and throw the target's answer away (a reply lost on the way back). */
  afterForward?: boolean;
  /** Cut the connection instead of answering (the client sees a reset socket). */
  drop?: boolean;
}

export type Fault = (req: { n: number; method: string; url: string; headers: http.IncomingHttpHeaders }) => FaultAnswer | undefined;

export interface FlakyProxy {
  endpoint: string;
  seen: SeenRequest[];
  /** Replace the fault rule (undefined: forward everything). */
  setFault(f: Fault | undefined): void;
  close(): Promise<void>;
}

/** An S3-style error document (what S3 sends with a 503 SlowDown). */
export function s3ErrorXml(code: string, message: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message><RequestId>proxy</RequestId></Error>`;
}

export const SLOW_DOWN: FaultAnswer = { status: 503, body: s3ErrorXml('SlowDown', 'Please reduce your request rate.') };

/** The next `n` requests (from when the rule is set) get 503 SlowDown. */
export function failFirst(n: number): Fault {
  let left = n;
  return () => (left-- > 0 ? SLOW_DOWN : undefined);
}

export async function startFlakyProxy(target: string, fault?: Fault): Promise<FlakyProxy> {
  const t = new URL(target);
  const seen: SeenRequest[] = [];
  let rule = fault;
  let n = 0;
  const server = http.createServer((req, res) => {
    const r = { n: ++n, method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers };
    const answer = rule?.(r);
    seen.push({ ...r, faulted: answer !== undefined });
    const reply = (a: FaultAnswer): void => {
      if (a.drop) {
        req.socket.destroy();
        return;
      }
      res.writeHead(a.status, { 'content-type': 'application/xml' });
      res.end(a.body ?? '');
    };
    if (answer && !answer.afterForward) {
      req.resume(); // drain the body, then answer
      req.on('end', () => reply(answer));
      return;
    }
    const up = http.request({ host: t.hostname, port: t.port, method: req.method, path: req.url, headers: req.headers }, (ur) => {
      if (answer) {
        ur.resume();
        ur.on('end', () => reply(answer));
        return;
      }
      res.writeHead(ur.statusCode ?? 502, ur.headers);
      ur.pipe(res);
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    seen,
    setFault: (f) => {
      rule = f;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
