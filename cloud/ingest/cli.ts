/**
 * `fleetmap cloud ingest`: the ingest service. Exit codes: 0 stopped by SIGTERM/SIGINT (health
 * persisted), 2 bad flags, key registry or bind failure.
 */
import { parseArgs } from 'node:util';
import * as zmq from 'zeromq';
import { LocalDirStore } from '../store/index.ts';
import { MAX_ENVELOPE_BYTES } from '../../shared/index.ts';
import { generateCurveKeypair, readCurveKeypair, type CurveKeypair } from './curve.ts';
import { FleetHealth, HEALTH_KEY, parseHealth } from './health.ts';
import { KeyRegistry, KeyRegistryError } from './keys.ts';
import { JsonLogger } from '../../shared/log.ts';
import { main } from './main.ts';
import { IngestService } from './service.ts';

const HELP = `usage: fleetmap cloud ingest --bind ENDPOINT --store DIR --keys FILE [options]

Receives signed observation batches from edge daemons (ZeroMQ ROUTER), verifies and validates
them, stores each raw envelope once as batches/<vehicleId>/<seq:10>.fmb (durable before the
ack) and answers stored / duplicate / rejected. Keeps per-vehicle health in health/fleet.json.

  --bind ENDPOINT          e.g. tcp://127.0.0.1:5700 (tcp://127.0.0.1:* picks a free port)
  --store DIR              object store root directory
  --keys FILE              fleet key registry, JSON {"<vehicleId>": "<64 hex digits>"}
  --health-interval-s S    persist health this often when it changed (default 10)
  --curve-keypair FILE     encrypt the uplink with CURVE using this server keypair (JSON
                           {publicKey, secretKey}); vehicles pin the public key (edge
                           --ingest-curve-public-key). The public key is logged at start.
  --curve-generate         with --curve-keypair: create the keypair file, print the public key, exit
  -h, --help

Stop with SIGTERM/SIGINT: the current message is answered, then health is persisted.
Logs: JSON lines on stderr; "ingest_listening" gives the bound endpoint.`;

export default async function ingestCli(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        bind: { type: 'string' },
        store: { type: 'string' },
        keys: { type: 'string' },
        'health-interval-s': { type: 'string' },
        'curve-keypair': { type: 'string' },
        'curve-generate': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (e) {
    console.error(`fleetmap cloud ingest: ${(e as Error).message}\n\n${HELP}`);
    return 2;
  }
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const log = new JsonLogger('ingest');
  if (values['curve-generate']) {
    if (!values['curve-keypair']) {
      console.error('fleetmap cloud ingest: --curve-generate needs --curve-keypair FILE');
      return 2;
    }
    try {
      console.log(generateCurveKeypair(values['curve-keypair']).publicKey);
      return 0;
    } catch (e) {
      console.error(`fleetmap cloud ingest: ${(e as Error).message}`);
      return 2;
    }
  }
  let curve: CurveKeypair | undefined;
  try {
    if (values['curve-keypair']) curve = readCurveKeypair(values['curve-keypair']);
  } catch (e) {
    log.log('error', 'config_invalid', { reason: (e as Error).message });
    return 2;
  }
  const missing = (['bind', 'store', 'keys'] as const).filter((k) => !values[k]);
  const healthIntervalS = Number(values['health-interval-s'] ?? '10');
  if (missing.length || !(healthIntervalS > 0)) {
    log.log('error', 'config_invalid', {
      reason: missing.length ? `missing ${missing.map((m) => `--${m}`).join(', ')}` : `--health-interval-s must be a positive number, got ${JSON.stringify(values['health-interval-s'])}`,
    });
    return 2;
  }
  let keys: KeyRegistry;
  try {
    keys = KeyRegistry.fromFile(values.keys!);
  } catch (e) {
    if (e instanceof KeyRegistryError) {
      log.log('error', 'config_invalid', { reason: e.message });
      return 2;
    }
    throw e;
  }
  const store = new LocalDirStore(values.store!);
  let initial;
  try {
    const b = await store.get(HEALTH_KEY);
    if (b) initial = parseHealth(b);
  } catch (e) {
    log.log('warn', 'health_unreadable', { key: HEALTH_KEY, reason: (e as Error).message, action: 'starting from empty counters' });
  }
  const health = new FleetHealth(initial, keys.vehicles());
  const router = new zmq.Router({ linger: 0, maxMessageSize: MAX_ENVELOPE_BYTES + 4096 });
  if (curve) {
    router.curveServer = true;
    router.curveSecretKey = curve.secretKey;
  }
  try {
    await router.bind(values.bind!);
  } catch (e) {
    log.log('error', 'bind_failed', { endpoint: values.bind, reason: (e as Error).message });
    router.close();
    return 2;
  }
  log.log('info', 'ingest_listening', { endpoint: router.lastEndpoint ?? values.bind, store: store.describe(), vehicles: keys.vehicles().length, curvePublicKey: curve?.publicKey ?? null, pid: process.pid });
  const ac = new AbortController();
  const onSignal = (sig: NodeJS.Signals): void => {
    log.log('info', 'signal', { signal: sig });
    ac.abort();
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  try {
    const c = await main({ sockets: { router }, signal: ac.signal, service: new IngestService({ keys, store, health }), health, store, log, healthIntervalS });
    log.log('info', 'ingest_stopped', { ...c });
    return 0;
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  }
}
