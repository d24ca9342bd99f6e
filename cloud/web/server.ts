/**
 * The read-only web service: fleet health, its history, the published map versions and their
 * changes, vector tiles, and the static page (static/) with MapLibre GL and uPlot served from
 * node_modules (the page loads nothing from the internet).
 *
 *   GET /                          the page (static/index.html, app.js, style.css)
 *   GET /vendor/maplibre-gl/*      node_modules/maplibre-gl/dist (ES modules; the map loads its worker from here)
 *   GET /vendor/uplot/*            node_modules/uplot/dist
 *   GET /api/health                fleet health table (health-view.ts)
 *   GET /api/history               { intervalS, maxSamples, samples } (history.ts); ?sinceUnixMs=T: newer ones only
 *   GET /api/versions              published versions, newest first, and the latest's bounds
 *   GET /api/versions/:n/diff      version n's changes (diff.ts)
 *   GET /api/coverage              observed drive coverage, GeoJSON (coverage.ts)
 *   GET /tiles/:n/:z/:x/:y.pbf     version n as Mapbox vector tiles (gzip), 204 where empty, 404 for no such version
 *
 * Access (auth.ts): with a token every request needs it (401 otherwise); without one the service
 * must be bound to loopback (cli.ts refuses otherwise) and answers only requests whose Host header
 * names a loopback address (no DNS rebinding from a web page). Every reply carries a strict CSP
 * (default-src 'self'; MapLibre's workers: worker-src 'self' blob:), nosniff, no referrer, no framing.
 */
import fastifyStatic from '@fastify/static';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from '../../shared/log.ts';
import type { TroubleThresholds } from '../ingest/health.ts';
import { MAP_TILE_ZOOM } from '../../shared/tiles.ts';
import type { ObjectStore } from '../store/index.ts';
import { authorise, isLoopbackHost, TOKEN_COOKIE } from './auth.ts';
import { CoverageIndex } from './coverage.ts';
import { readHealthView } from './health-source.ts';
import { HealthHistory } from './history.ts';
import { HistoryKeeper } from './history-keeper.ts';
import { VersionCache } from './version-cache.ts';

export interface WebServerOptions {
  store: ObjectStore;
  host: string;
  port: number; // 0: any free port
  /** Required on every request when set. */
  token?: string | undefined;
  historyIntervalS: number; // seconds between health samples
  historyMaxSamples: number; // ring size
  historyPersistEvery: number; // samples between writes of health/history.json
  /** Trouble thresholds (silent after, backlog, recent); default the ingest's DEFAULT_TROUBLE_THRESHOLDS. */
  thresholds: TroubleThresholds;
  tileMinZoom: number; // lowest zoom of the vector tiles served
  maxVersions: number; // versions kept built in memory
  now?: () => number; // Unix ms
  log: Logger;
}

export const DEFAULT_WEB_OPTIONS = {
  historyIntervalS: 10,
  historyMaxSamples: 8640, // 24 h at 10 s
  historyPersistEvery: 6, // once a minute at 10 s
  tileMinZoom: 12,
  maxVersions: 4,
} as const;

export interface WebServer {
  /** http://host:port/ (no token in it). */
  url: string;
  port: number;
  app: FastifyInstance;
  history: HealthHistory;
  keeper: HistoryKeeper;
  /** Let the process exit while serving (the demo without --serve). */
  unref(): void;
  /** Keep the process alive while serving again (undoes unref). */
  ref(): void;
  close(): Promise<void>;
}

const require = createRequire(import.meta.url);
const STATIC_DIR = fileURLToPath(new URL('./static/', import.meta.url));
const MAPLIBRE_DIST = path.dirname(require.resolve('maplibre-gl/package.json')) + '/dist/';
const UPLOT_DIST = path.dirname(require.resolve('uplot/package.json')) + '/dist/';

export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "worker-src 'self' blob:",
  "child-src 'self' blob:",
  "img-src 'self' data: blob:",
  "style-src 'self'",
  "connect-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

export async function startWebServer(o: WebServerOptions): Promise<WebServer> {
  const now = o.now ?? Date.now;
  const history = new HealthHistory(o.historyIntervalS, o.historyMaxSamples);
  const keeper = new HistoryKeeper({ store: o.store, history, thresholds: o.thresholds, persistEvery: o.historyPersistEvery, now, log: o.log });
  await keeper.load();
  const versions = new VersionCache(o.store, { maxVersions: o.maxVersions, tileMinZoom: o.tileMinZoom });
  const coverage = new CoverageIndex(o.store);

  const app = Fastify({ logger: false, return503OnClosing: true });
  app.addHook('onRequest', async (req, reply) => {
    setSecurityHeaders(reply);
    if (o.token === undefined) {
      if (!isLoopbackHost(hostOf(req.headers.host))) return refuse(reply, 403, 'this service answers only requests for a loopback address (Host header)');
      return;
    }
    const how = authorise(o.token, { authorization: req.headers.authorization, query: queryToken(req), cookie: req.headers.cookie });
    if (how === undefined) {
      void reply.header('www-authenticate', 'Bearer realm="fleetmap"');
      return refuse(reply, 401, 'a token is required: Authorization: Bearer <token>, or ?token=<token>');
    }
    if (how === 'query') void reply.header('set-cookie', `${TOKEN_COOKIE}=${o.token}; Path=/; HttpOnly; SameSite=Strict`);
  });

  await app.register(fastifyStatic, { root: STATIC_DIR, prefix: '/', index: ['index.html'], wildcard: true });
  await app.register(fastifyStatic, { root: MAPLIBRE_DIST, prefix: '/vendor/maplibre-gl/', decorateReply: false });
  await app.register(fastifyStatic, { root: UPLOT_DIST, prefix: '/vendor/uplot/', decorateReply: false });

  const api = (url: string, handler: (req: FastifyRequest) => Promise<unknown>): void => {
    app.get(url, async (req, reply) => {
      void reply.header('cache-control', 'no-store');
      try {
        const body = await handler(req);
        if (body === undefined) return refuse(reply, 404, `nothing at ${req.url.split('?')[0]}`);
        return body;
      } catch (e) {
        o.log.warn('web_request_failed', { url: req.url.split('?')[0], reason: (e as Error).message });
        return refuse(reply, 500, (e as Error).message);
      }
    });
  };
  api('/api/health', () => readHealthView(o.store, now(), o.thresholds));
  api('/api/history', async (req) => {
    // ?sinceUnixMs=T: only the samples after T (the page polls for what is new)
    const since = Number((req.query as Record<string, unknown> | undefined)?.sinceUnixMs ?? -Infinity);
    return { intervalS: history.intervalS, maxSamples: history.maxSamples, samples: history.list().filter((x) => !(x.tUnixMs <= since)) };
  });
  api('/api/versions', async () => ({ ...(await versions.versions()), tileMinZoom: o.tileMinZoom, tileMaxZoom: MAP_TILE_ZOOM }));
  api('/api/versions/:n/diff', async (req) => {
    const n = uint((req.params as { n: string }).n);
    return n === undefined ? undefined : versions.diff(n);
  });
  api('/api/coverage', async () => {
    await coverage.update();
    return coverage.geojson();
  });

  app.get('/tiles/:n/:z/:x/:file', async (req, reply) => {
    const p = req.params as { n: string; z: string; x: string; file: string };
    const m = /^(\d{1,9})\.pbf$/.exec(p.file);
    const [n, z, x, y] = [uint(p.n), uint(p.z), uint(p.x), m ? uint(m[1]!) : undefined];
    if (n === undefined || z === undefined || x === undefined || y === undefined || z > 30) return refuse(reply, 404, 'tiles are /tiles/<version>/<z>/<x>/<y>.pbf');
    try {
      if (!(await versions.manifest(n))) return refuse(reply, 404, `map version ${n} is not published`);
      const data = await versions.tile(n, z, x, y);
      void reply.header('cache-control', 'private, max-age=31536000, immutable'); // versions never change
      if (!data) return reply.code(204).send();
      return reply.header('content-type', 'application/vnd.mapbox-vector-tile').header('content-encoding', 'gzip').send(data);
    } catch (e) {
      o.log.warn('web_request_failed', { url: req.url.split('?')[0], reason: (e as Error).message });
      return refuse(reply, 500, (e as Error).message);
    }
  });

  // A sample that fails (an unreadable health file) is logged once per distinct reason, not every interval.
  let lastFailure: string | undefined;
  const sample = (): Promise<void> =>
    keeper.tick().then(
      () => void (lastFailure = undefined),
      (e: unknown) => {
        const reason = (e as Error).message;
        if (reason !== lastFailure) o.log.warn('history_sample_failed', { reason });
        lastFailure = reason;
      },
    );
  await sample();
  const timer = setInterval(() => void sample(), o.historyIntervalS * 1000);

  await app.listen({ host: o.host, port: o.port });
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : o.port;
  const url = `http://${o.host.includes(':') ? `[${o.host}]` : o.host}:${port}/`;
  o.log.info('web_listening', { url, store: o.store.describe(), tokenRequired: o.token !== undefined, historyIntervalS: o.historyIntervalS, silentAfterS: o.thresholds.silentAfterS });
  let closed = false;
  return {
    url,
    port,
    app,
    history,
    keeper,
    unref() {
      timer.unref();
      app.server.unref();
    },
    ref() {
      timer.ref();
      app.server.ref();
    },
    async close() {
      if (closed) return;
      closed = true;
      clearInterval(timer);
      await app.close();
      await keeper.close();
      o.log.info('web_stopped', { url });
    },
  };
}

function setSecurityHeaders(reply: FastifyReply): void {
  void reply
    .header('content-security-policy', CONTENT_SECURITY_POLICY)
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'no-referrer')
    .header('x-frame-options', 'DENY')
    .header('cross-origin-opener-policy', 'same-origin')
    .header('cross-origin-resource-policy', 'same-origin');
}

function refuse(reply: FastifyReply, code: number, error: string): FastifyReply {
  return reply.code(code).header('cache-control', 'no-store').type('application/json; charset=utf-8').send({ error });
}

function queryToken(req: FastifyRequest): string | undefined {
  const t = (req.query as Record<string, unknown> | undefined)?.token;
  return typeof t === 'string' ? t : undefined;
}

/** The host name of a Host header ("127.0.0.1:8080", "[::1]:8080", "localhost"). */
export function hostOf(header: string | undefined): string {
  if (!header) return '';
  const m = /^\[([^\]]+)\](?::\d+)?$/.exec(header);
  if (m) return m[1]!;
  return header.replace(/:\d+$/, '');
}

function uint(s: string): number | undefined {
  return /^\d{1,9}$/.test(s) ? Number(s) : undefined;
}
