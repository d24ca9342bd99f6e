/**
 * `fleetmap cloud ingest`: the ingest service. Exit codes: 0 stopped by SIGTERM/SIGINT (health
 * persisted), 2 bad flags, key registry or bind failure.
 *
 * Transport security is on by default: CURVE with a ZAP handler (zap.ts, zap-handler.ts) that
 * admits only the CURVE keys of registered, active vehicles. Without --curve-keypair it refuses to
 * start, unless --insecure-no-curve is given for a loopback --bind (development only).
 */
import * as zmq from 'zeromq';
import { LocalDirStore, openStoreArg, S3_CLI_HELP, S3_CLI_OPTIONS, type ObjectStore } from '../store/index.ts';
import { parseCommand } from '../../shared/cli-args.ts';
import { parseListenAddress, startMetricsEndpoint, type MetricsEndpoint } from '../../shared/metrics-server.ts';
import { IngestMetrics } from './metrics.ts';
import { DEFAULT_MAX_AGE_MS, DEFAULT_MAX_AHEAD_MS, MAX_ENVELOPE_BYTES, rawPublicKey, readPrivateKeyFile } from '../../shared/index.ts';
import { generateCurveKeypair, readCurveKeypair, type CurveKeypair } from './curve.ts';
import { isLoopbackEndpoint } from '../../shared/endpoint.ts';
import { startZapHandler, type ZapHandler } from './zap-handler.ts';
import { ZAP_DOMAIN } from './zap.ts';
import { FleetHealth, HEALTH_KEY, parseHealth } from './health.ts';
import { KeyRegistry, KeyRegistryError } from './keys.ts';
import { JsonLogger, RateLimitedLog } from '../../shared/log.ts';
import { main } from './main.ts';
import { RegistryWatcher } from './registry-watch.ts';
import { IngestService } from './service.ts';

const HELP = `usage: fleetmap cloud ingest --bind ENDPOINT --store DIR --keys FILE --ack-key FILE --curve-keypair FILE [options]

Receives signed observation batches from edge daemons (ZeroMQ ROUTER), verifies and validates
them, stores each raw envelope once as batches/<vehicleId>/<seq:10>.fmb (durable before the
ack) and answers stored / duplicate / rejected, each ack signed with the ack key.
Keeps per-vehicle health in health/fleet.json. Wire format: docs/WIRE.md.

  --bind ENDPOINT          e.g. tcp://127.0.0.1:5700 (tcp://127.0.0.1:* picks a free port)
  --store DIR|S3           object store root directory (created), or s3://bucket[/prefix]
  --keys FILE              vehicle public key registry (fleetmap keys register|revoke|list);
                           re-read when the file changes, on SIGHUP, and checked before each message
  --ack-key FILE           the ingest's Ed25519 private key (PEM), signs every ack
                           (fleetmap keys generate-ingest); vehicles pin its public key
  --keys-poll-s S          stat the registry this often besides watching it (default 2)
  --max-age-days D         refuse batches/observations older than D days by our clock (default 30;
                           raise it to replay recorded or simulated drives)
  --max-ahead-s S          refuse times more than S seconds ahead of our clock (default 600)
  --health-interval-s S    write health at most this often, after every change (default 1;
                           0: after every change, coalesced). A kill -9 loses at most this much
  --max-in-flight N        messages handled at once (group commit: one journal fsync makes every
                           batch in flight durable) (default 32)
  --no-journal             a directory store syncs every batch on its own (its file, then its
                           directory) instead of the group-commit journal (<store>/.tmp-journal/)
  --metrics-listen ADDR    serve Prometheus metrics on http://ADDR/metrics (HOST:PORT or PORT,
                           host 127.0.0.1 by default); off unless given
  --curve-keypair FILE     required: the ingest's CURVE server keypair (JSON {publicKey, secretKey},
                           mode 0600). The uplink is encrypted and only vehicles whose CURVE
                           public key is registered and active complete the handshake (ZAP);
                           vehicles pin the public key (edge --ingest-curve-public-key), which
                           is logged at start as curvePublicKey
  --curve-generate         with --curve-keypair: create the keypair file, print the public key, exit
  --insecure-no-curve      development only: no CURVE, no ZAP (anyone who can connect may send;
                           batches are still signature-checked). Refused unless --bind is
                           loopback (127.0.0.0/8, ::1, localhost, ipc://, inproc://)
  -h, --help
${S3_CLI_HELP}

Stop with SIGTERM/SIGINT: the current message is answered, then health is persisted.
Logs: JSON lines on stderr; "ingest_listening" gives the bound endpoint.`;

export default async function ingestCli(argv: string[]): Promise<number> {
  const parsed = parseCommand('fleetmap cloud ingest', HELP, {
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      bind: { type: 'string' },
      store: { type: 'string' },
      ...S3_CLI_OPTIONS,
      keys: { type: 'string' },
      'ack-key': { type: 'string' },
      'no-journal': { type: 'boolean' },
      'keys-poll-s': { type: 'string' },
      'max-age-days': { type: 'string' },
      'max-ahead-s': { type: 'string' },
      'health-interval-s': { type: 'string' },
      'max-in-flight': { type: 'string' },
      'metrics-listen': { type: 'string' },
      'curve-keypair': { type: 'string' },
      'curve-generate': { type: 'boolean' },
      'insecure-no-curve': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (typeof parsed === 'number') return parsed;
  const values = parsed.values;
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
  const missing = (['bind', 'store', 'keys', 'ack-key'] as const).filter((k) => !values[k]);
  if (missing.length) {
    log.log('error', 'config_invalid', { reason: `missing ${missing.map((m) => `--${m}`).join(', ')}` });
    return 2;
  }
  const insecure = values['insecure-no-curve'] === true;
  const transportProblem = transportSecurityProblem({ curve: values['curve-keypair'] !== undefined, insecure, bind: values.bind! });
  if (transportProblem) {
    log.log('error', 'config_invalid', { reason: transportProblem });
    return 2;
  }
  const positive = (flag: 'health-interval-s' | 'keys-poll-s' | 'max-age-days' | 'max-ahead-s' | 'max-in-flight', fallback: number, zeroOk = false): number | undefined => {
    const raw = values[flag];
    const v = raw === undefined ? fallback : Number(raw);
    if (!(Number.isFinite(v) && (v > 0 || (zeroOk && v === 0))) || (raw !== undefined && raw.trim() === '')) {
      log.log('error', 'config_invalid', { reason: `--${flag} must be a ${zeroOk ? 'non-negative' : 'positive'} number, got ${JSON.stringify(raw)}` });
      return undefined;
    }
    return v;
  };
  const healthIntervalS = positive('health-interval-s', 1, true);
  const maxInFlight = positive('max-in-flight', 32);
  if (maxInFlight !== undefined && !Number.isInteger(maxInFlight)) {
    log.log('error', 'config_invalid', { reason: `--max-in-flight must be a positive integer, got ${JSON.stringify(values['max-in-flight'])}` });
    return 2;
  }
  let metricsListen;
  try {
    metricsListen = values['metrics-listen'] === undefined ? undefined : parseListenAddress(values['metrics-listen']);
  } catch (e) {
    log.log('error', 'config_invalid', { reason: `--metrics-listen: ${(e as Error).message}` });
    return 2;
  }
  const keysPollS = positive('keys-poll-s', 2);
  const maxAgeDays = positive('max-age-days', DEFAULT_MAX_AGE_MS / 86_400_000);
  const maxAheadS = positive('max-ahead-s', DEFAULT_MAX_AHEAD_MS / 1000);
  if (healthIntervalS === undefined || keysPollS === undefined || maxAgeDays === undefined || maxAheadS === undefined || maxInFlight === undefined) return 2;
  let ackKey;
  try {
    ackKey = readPrivateKeyFile(values['ack-key']!);
  } catch (e) {
    log.log('error', 'config_invalid', { reason: `--ack-key: ${(e as Error).message}` });
    return 2;
  }
  let store: ObjectStore;
  try {
    store = openStoreArg(values.store!, values, { log, local: { groupCommit: !values['no-journal'] } });
  } catch (e) {
    log.log('error', 'config_invalid', { reason: (e as Error).message });
    return 2;
  }
  if (store instanceof LocalDirStore) {
    // A power cut can take acknowledged batches that only the journal of a dead ingest holds:
    // replayed before anything is read or served.
    try {
      const r = await store.recover();
      if (r.journals > 0) log.log(r.repaired > 0 ? 'warn' : 'info', 'store_recovered', { ...r, store: store.describe() });
    } catch (e) {
      log.log('error', 'store_recovery_failed', { store: store.describe(), reason: (e as Error).message });
      return 1;
    }
  }
  let watcher: RegistryWatcher;
  try {
    watcher = new RegistryWatcher(values.keys!, {
      reloaded: (r) => log.log('info', 'keys_reloaded', { ...r, file: values.keys }),
      failed: (r) => log.log('error', 'keys_reload_failed', { ...r, file: values.keys, action: 'keeping the registry in force' }),
    });
  } catch (e) {
    if (e instanceof KeyRegistryError) {
      log.log('error', 'config_invalid', { reason: e.message });
      return 2;
    }
    throw e;
  }
  const keys: KeyRegistry = watcher.registry;
  let initial;
  try {
    const b = await store.get(HEALTH_KEY);
    if (b) initial = parseHealth(b);
  } catch (e) {
    log.log('warn', 'health_unreadable', { key: HEALTH_KEY, reason: (e as Error).message, action: 'starting from empty counters' });
  }
  const health = new FleetHealth(initial, keys.vehicles());
  // Inbound memory is bounded: at most receiveHighWaterMark messages wait in the socket (each at most
  // maxMessageSize; a peer sending a larger one is disconnected) besides the maxInFlight in hand.
  const router = new zmq.Router({ linger: 0, maxMessageSize: MAX_ENVELOPE_BYTES + 4096, receiveHighWaterMark: 64 });
  const metrics = new IngestMetrics();
  metrics.watchFleet(() => health.snapshot().vehicles); // vehicles in trouble, at each scrape
  const limited = new RateLimitedLog(log);
  let zap: ZapHandler | undefined;
  // Failed handshakes (a wrong CURVE key, a ZAP refusal, a non-ZMTP peer) are logged and counted.
  // libzmq closes the connection of a peer whose message exceeds maxMessageSize without a
  // separate event: such refusals show as disconnects (logged at most once a second, counted).
  router.events.on('disconnect', (e) => {
    metrics.disconnected();
    limited.info('disconnect', 'peer_disconnected', { endpoint: e.address, note: 'a vehicle went away, or sent a message above the size limit' });
  });
  for (const kind of ['handshake:error:auth', 'handshake:error:protocol', 'handshake:error:other'] as const) {
    router.events.on(kind, (e) => {
      metrics.handshakeFailed(kind.slice('handshake:error:'.length));
      limited.warn(kind, 'handshake_failed', { kind, endpoint: e.address, reason: e.error.message });
    });
  }
  if (curve) {
    router.curveServer = true;
    router.curveSecretKey = curve.secretKey;
    router.zapDomain = ZAP_DOMAIN;
    // The ZAP handler must answer before the first handshake: started before the bind. Each
    // decision reads the live registry (stat'ed first, like before each message).
    zap = await startZapHandler({
      lookup: (key) => {
        watcher.checkNow('handshake');
        return watcher.registry.curveKeyOwner(key);
      },
      onDecision: (d) => {
        metrics.zapDecision(d.admitted ? 'admitted' : d.code);
        if (!d.admitted) limited.warn(`zap:${d.code}`, 'handshake_refused', { code: d.code, reason: d.reason, vehicleId: d.vehicleId ?? null, address: d.address, refusals: metrics.zapRefusals() });
      },
      onError: (e) => log.log('error', 'zap_handler_failed', { reason: e.message }),
    });
  } else {
    log.log('warn', 'transport_insecure', { endpoint: values.bind, reason: 'transport security is off (--insecure-no-curve): no encryption, no CURVE authentication of vehicles; loopback development only' });
  }
  try {
    await router.bind(values.bind!);
  } catch (e) {
    log.log('error', 'bind_failed', { endpoint: values.bind, reason: (e as Error).message });
    router.close();
    await zap?.close();
    watcher.close();
    return 2;
  }
  log.log('info', 'ingest_listening', {
    endpoint: router.lastEndpoint ?? values.bind,
    store: store.describe(),
    vehicles: keys.vehicles().length,
    activeVehicles: keys.activeCount(),
    transportSecurity: curve ? 'curve+zap' : 'none',
    curvePublicKey: curve?.publicKey ?? null,
    ackPublicKeyHex: rawPublicKey(ackKey).toString('hex'),
    maxAgeDays,
    maxAheadS,
    pid: process.pid,
  });
  watcher.start(keysPollS * 1000);
  const ac = new AbortController();
  const onSignal = (sig: NodeJS.Signals): void => {
    log.log('info', 'signal', { signal: sig });
    ac.abort();
  };
  const onHup = (): void => {
    log.log('info', 'signal', { signal: 'SIGHUP' });
    watcher.reload('sighup');
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  process.on('SIGHUP', onHup);
  let metricsEndpoint: MetricsEndpoint | undefined;
  try {
    const service = new IngestService({ keys: () => watcher.registry, store, health, maxAgeMs: maxAgeDays * 86_400_000, maxAheadMs: maxAheadS * 1000 });
    if (metricsListen) {
      try {
        metricsEndpoint = await startMetricsEndpoint(metrics.registry, metricsListen);
      } catch (e) {
        log.log('error', 'config_invalid', { reason: `--metrics-listen ${values['metrics-listen']}: ${(e as Error).message}` });
        return 2;
      }
      log.log('info', 'metrics_listening', { address: metricsEndpoint.address });
    }
    const c = await main({ sockets: { router }, signal: ac.signal, service, health, store, log, healthMinIntervalMs: healthIntervalS * 1000, maxInFlight, metrics, ackKey, beforeMessage: () => watcher.checkNow() });
    if (store instanceof LocalDirStore) {
      await store.flush(); // every journalled batch synced in place, the journal deleted
      if (store.journalStats) log.log('info', 'journal_stats', { ...store.journalStats });
    }
    log.log('info', 'ingest_stopped', { ...c });
    return 0;
  } finally {
    if (!router.closed) router.close();
    await zap?.close();
    await metricsEndpoint?.close();
    watcher.close();
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
    process.off('SIGHUP', onHup);
  }
}

/** Why the transport settings are refused (one line), or undefined. */
export function transportSecurityProblem(o: { curve: boolean; insecure: boolean; bind: string }): string | undefined {
  if (o.curve && o.insecure) return '--insecure-no-curve contradicts --curve-keypair: give one of them';
  if (!o.curve && !o.insecure) return 'transport security is required: give --curve-keypair FILE (make one with --curve-keypair FILE --curve-generate), or --insecure-no-curve with a loopback --bind for development';
  if (o.insecure && !isLoopbackEndpoint(o.bind)) return `--insecure-no-curve is only allowed on a loopback --bind (127.0.0.0/8, ::1, localhost, ipc://, inproc://), got ${JSON.stringify(o.bind)}`;
  return undefined;
}
