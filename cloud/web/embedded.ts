/**
 * The web page inside another command (`fleetmap demo`): served on 127.0.0.1 at a free port, no
 * token (loopback only), its log in a file, sampling health every `historyIntervalS` while the
 * command runs. It never keeps the process alive by itself (unref'd) until `serveUntilInterrupted`.
 */
import { closeSync, openSync } from 'node:fs';
import { JsonLogger } from '../../shared/log.ts';
import { DEFAULT_TROUBLE_THRESHOLDS } from '../ingest/health.ts';
import { LocalDirStore } from '../store/index.ts';
import { DEFAULT_WEB_OPTIONS, startWebServer, type WebServer } from './server.ts';

export interface EmbeddedWebOptions {
  storeDir: string;
  logFile: string;
  historyIntervalS?: number; // seconds between health samples (default 2)
}

export async function startEmbeddedWeb(o: EmbeddedWebOptions): Promise<WebServer> {
  const fd = openSync(o.logFile, 'a');
  let web: WebServer;
  try {
    web = await startWebServer({
      ...DEFAULT_WEB_OPTIONS,
      store: new LocalDirStore(o.storeDir),
      host: '127.0.0.1',
      port: 0,
      historyIntervalS: o.historyIntervalS ?? 2,
      historyPersistEvery: 5,
      thresholds: DEFAULT_TROUBLE_THRESHOLDS,
      log: new JsonLogger('web', { fd }),
    });
  } catch (e) {
    closeSync(fd);
    throw e;
  }
  web.unref();
  const close = web.close.bind(web);
  web.close = async () => {
    await close();
    closeSync(fd);
  };
  return web;
}

/** Serve until SIGINT / SIGTERM (Ctrl-C), then close. */
export async function serveUntilInterrupted(web: WebServer): Promise<NodeJS.Signals> {
  web.ref();
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
  await web.close();
  return signal;
}
