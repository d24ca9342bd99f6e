/**
 * The local Prometheus endpoint of a fleetmap service (edge daemon, cloud ingest): `GET /metrics`
 * in the text exposition format of a prom-client Registry (or a MetricsSource rendering one); everything else 404. Binds 127.0.0.1
 * unless told otherwise: metrics say how busy a vehicle is, which is nobody's business off-board
 * but the operator's scraper.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface MetricsEndpoint {
  /** "host:port" actually bound (port 0 asks the OS for one). */
  readonly address: string;
  close(): Promise<void>;
}

/** Parse "host:port" or ":port" / "port" (host 127.0.0.1); throws RangeError naming the value. */
export function parseListenAddress(value: string): { host: string; port: number } {
  const m = /^(?:(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]*):)?(\d{1,5})$/.exec(value);
  const port = m ? Number(m[2]) : NaN;
  if (!m || port > 65535) throw new RangeError(`metrics listen address must be HOST:PORT or PORT (0-65535), got ${JSON.stringify(value)}`);
  const host = m[1] ? m[1].replace(/^\[|\]$/g, '') : '127.0.0.1';
  return { host, port };
}

/** What is served: a prom-client Registry, or anything rendering one scrape the same way. */
export interface MetricsSource {
  readonly contentType: string;
  metrics(): Promise<string>;
}

export async function startMetricsEndpoint(registry: MetricsSource, listen: { host: string; port: number }): Promise<MetricsEndpoint> {
  const server: Server = createServer((req, res) => {
    const url = (req.url ?? '').split('?')[0];
    if (req.method !== 'GET' || url !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: GET /metrics\n');
      return;
    }
    registry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
      (e: unknown) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`metrics failed: ${e instanceof Error ? e.message : String(e)}\n`),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(listen.port, listen.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const a = server.address() as AddressInfo;
  return {
    address: `${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
