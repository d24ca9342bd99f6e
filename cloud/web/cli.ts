/**
 * `fleetmap cloud web --store LOC [--listen 127.0.0.1:8080] [--token-file F]`: the read-only web
 * page of the fleet and the published map (server.ts). Binds loopback by default; any other
 * address needs --token-file (refused otherwise: exit 2). Runs until SIGINT / SIGTERM (exit 0).
 */
import { statSync } from 'node:fs';
import { parseCommand, usageLine } from '../../shared/cli-args.ts';
import { oneLine, UsageError } from '../../shared/cli-errors.ts';
import { JsonLogger } from '../../shared/log.ts';
import { DEFAULT_TROUBLE_THRESHOLDS } from '../ingest/health.ts';
import { isS3Location, openStore } from '../store/index.ts';
import { checkBindPolicy, parseListen, readTokenFile } from './auth.ts';
import { DEFAULT_WEB_OPTIONS, startWebServer, type WebServerOptions } from './server.ts';

const NAME = 'fleetmap cloud web';

const HELP = `usage: ${NAME} --store LOC [--listen HOST:PORT] [--token-file F] [options]

Serves a read-only page of the fleet's upload health (table and charts), the published map
versions (MapLibre GL, vector tiles built from the published tiles), their changes and the
fleet's observed coverage. Nothing is loaded from the internet.

  --store LOC                object store: a directory, file:///dir or s3://bucket[/prefix]   (required)
  --listen HOST:PORT         address to serve on (default 127.0.0.1:8080; port 0: any free one)
  --token-file F             require this token (one line, 16-256 of [A-Za-z0-9._~+/=-]) on every
                             request: Authorization: Bearer <token>, or open /?token=<token> once
                             (required to listen on anything but loopback)
  --history-interval-s S     sample fleet health for the charts every S seconds (default ${DEFAULT_WEB_OPTIONS.historyIntervalS});
                             kept in health/history.json, the last ${DEFAULT_WEB_OPTIONS.historyMaxSamples} samples
  --silent-after-s S         flag a vehicle silent when not seen for S seconds (default ${DEFAULT_TROUBLE_THRESHOLDS.silentAfterS})
  -h, --help`;

export default async function webCli(argv: string[]): Promise<number> {
  const parsed = parseCommand(NAME, HELP, {
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      store: { type: 'string' },
      listen: { type: 'string' },
      'token-file': { type: 'string' },
      'history-interval-s': { type: 'string' },
      'silent-after-s': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (typeof parsed === 'number') return parsed;
  const values = parsed.values;
  let o: WebServerOptions;
  const log = new JsonLogger('web');
  try {
    if (!values.store) throw new UsageError('--store LOC is required');
    if (!isS3Location(values.store) && !(statSync(values.store.replace(/^file:\/\//, ''), { throwIfNoEntry: false })?.isDirectory() ?? false)) {
      throw new UsageError(`--store ${values.store}: no such directory`);
    }
    const listen = parseListen(values.listen ?? '127.0.0.1:8080');
    const token = values['token-file'] === undefined ? undefined : readTokenFile(values['token-file']);
    checkBindPolicy(listen, token);
    o = {
      ...DEFAULT_WEB_OPTIONS,
      store: openStore(values.store, { log }),
      host: listen.host,
      port: listen.port,
      token,
      historyIntervalS: positive('--history-interval-s', values['history-interval-s'], DEFAULT_WEB_OPTIONS.historyIntervalS),
      thresholds: { ...DEFAULT_TROUBLE_THRESHOLDS, silentAfterS: positive('--silent-after-s', values['silent-after-s'], DEFAULT_TROUBLE_THRESHOLDS.silentAfterS) },
      log,
    };
  } catch (e) {
    console.error(usageLine(NAME, e));
    return 2;
  }
  let web;
  try {
    web = await startWebServer(o);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    console.error(oneLine(NAME, code === 'EADDRINUSE' || code === 'EADDRNOTAVAIL' || code === 'EACCES' ? `cannot listen on ${o.host}:${o.port}: ${code}` : e));
    return code === 'EADDRINUSE' || code === 'EADDRNOTAVAIL' || code === 'EACCES' ? 2 : 1;
  }
  console.log(`fleetmap web: ${web.url}${o.token === undefined ? '' : ' (open it once with ?token=<the token in --token-file>)'}`);
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
  log.info('signal', { signal });
  await web.close();
  return 0;
}

function positive(flag: string, v: string | undefined, fallback: number): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!(Number.isFinite(n) && n > 0)) throw new UsageError(`${flag} must be a positive number, got ${JSON.stringify(v)}`);
  return n;
}
