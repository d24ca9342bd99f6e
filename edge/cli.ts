/**
 * `fleetmap edge run`: the on-vehicle daemon. See --help; config keys in config.ts.
 * Exit codes: 0 stopped by SIGTERM/SIGINT or drained (--exit-when-drained), 1 a part failed,
 * 2 bad configuration or cannot open the outbox/sockets.
 */
import { parseCommand } from '../shared/cli-args.ts';
import * as zmq from 'zeromq';
import { ConfigError, readConfigFile, resolveEdgeConfig, type EdgeSettings } from './config.ts';
import { main } from './daemon.ts';
import { HwProfileError } from './hw-profile.ts';
import { JsonLogger } from '../shared/log.ts';
import { OutboxError } from './outbox.ts';
import { ModelError } from './perception/model.ts';

const HELP = `usage: fleetmap edge run [--config FILE] [options]

Runs the edge daemon: PULL sensor intake -> pose + georeference -> SQLite outbox -> signed
batches -> ingest (DEALER, stop-and-wait, exactly-once by (vehicleId, seq)).
Flags override the config file (JSON, keys in edge/config.ts).

  --config FILE            JSON config file
  --vehicle-id ID          vehicle id, [A-Za-z0-9._-]{1,64}
  --key-file FILE          the vehicle's Ed25519 private key, PEM PKCS#8 (fleetmap keys generate;
                           the ingest's registry holds the public half)
  --ingest-ack-key FILE    the ingest's ack public key (PEM, or 64 hex digits), pinned: a batch is
                           deleted or dead-lettered only on an ack signed with it that names the
                           batch's seq and sha256
  --intake ENDPOINT        PULL endpoint to bind (tcp://127.0.0.1:5601, tcp://127.0.0.1:* for a free port, ipc://PATH)
  --ingest ENDPOINT        ingest ROUTER endpoint to connect (tcp://HOST:PORT)
  --ingest-curve-public-key Z85  the ingest's CURVE public key, pinned (logged by the ingest as
                           curvePublicKey); the uplink is encrypted. Required with --curve-keypair
  --curve-keypair FILE     the vehicle's own CURVE keypair (JSON, mode 0600, fleetmap keys
                           generate); the ingest admits only registered, active public keys (ZAP)
  --insecure-no-curve      development only: no transport security; refused unless --ingest is
                           loopback (127.0.0.0/8, ::1, localhost, ipc://)
  --outbox FILE            outbox SQLite file (created if missing)
  --link-state-file FILE   file holding "metered" or "unmetered", kept by the network manager: while
                           metered, low-priority classes are held back and uplink.meteredMaxKbps
                           applies (edge/link.ts; missing or unreadable counts as metered)
  --hw-profile NAME|FILE   hardware profile (default: detected; x86_64 -> x86-64)
  --batch-max-observations N   override the profile's batch size
  --batch-max-bytes N          override the profile's batch byte budget
  --idle-flush-s S             flush the outbox after S seconds without intake messages
  --keyframe-spacing-m M       compaction: keep one perception keyframe per M metres travelled,
                               cropped to the new stretch of road (default 12; 0 = every frame whole)
  --gnss-min-sigma-m M         floor on the GNSS receiver's reported accuracy (default 0.3; an RTK
                               receiver may set a few cm: its batches then declare survey-grade
                               positioning and the merge treats the vehicle as an anchor)
  --camera-calibration FILE    the front camera's calibration JSON (shared/camera.ts); needed for
                               camera frames, which the on-vehicle model turns into observations
  --model FILE.onnx            perception model (default: edge/model/<profile modelVariant>.onnx)
  --replay                     sensor data replayed faster than real time (simulation, log replay):
                               never skip camera frames, apply backpressure to the bus instead
  --stats-interval-s S         period of the edge_stats log event (default 10)
  --metrics-listen ADDR        serve Prometheus metrics on http://ADDR/metrics (HOST:PORT or PORT;
                               host 127.0.0.1 unless given); off unless given
  --exit-when-drained      exit 0 once drained: no drive open (its end marker came, or there was
                           none and idleFlushS passed without messages) and everything queued
                           has been acknowledged (see edge/README.md)
  -h, --help

Logs: JSON lines on stderr ({tUnixMs, level, svc:"edge", event, ...numbers}). "intake_listening"
gives the bound intake endpoint; "drained" says the outbox is empty and the intake quiet.`;

export default async function edgeRun(argv: string[]): Promise<number> {
  const parsed = parseCommand('fleetmap edge run', HELP, {
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      config: { type: 'string' },
      'vehicle-id': { type: 'string' },
      'key-file': { type: 'string' },
      'ingest-ack-key': { type: 'string' },
      intake: { type: 'string' },
      ingest: { type: 'string' },
      'ingest-curve-public-key': { type: 'string' },
      'curve-keypair': { type: 'string' },
      'insecure-no-curve': { type: 'boolean' },
      outbox: { type: 'string' },
      'hw-profile': { type: 'string' },
      'batch-max-observations': { type: 'string' },
      'batch-max-bytes': { type: 'string' },
      'idle-flush-s': { type: 'string' },
      'keyframe-spacing-m': { type: 'string' },
      'gnss-min-sigma-m': { type: 'string' },
      'stats-interval-s': { type: 'string' },
      'metrics-listen': { type: 'string' },
      'link-state-file': { type: 'string' },
      'camera-calibration': { type: 'string' },
      model: { type: 'string' },
      replay: { type: 'boolean' },
      'exit-when-drained': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (typeof parsed === 'number') return parsed;
  const values = parsed.values;
  const log = new JsonLogger('edge');
  let cfg;
  try {
    const s: EdgeSettings = values.config ? readConfigFile(values.config) : {};
    const num = (flag: string, v: string | undefined): number | undefined => {
      if (v === undefined) return undefined;
      const n = Number(v);
      if (v.trim() === '' || !Number.isFinite(n)) throw new ConfigError([`--${flag} must be a number, got ${JSON.stringify(v)}`]);
      return n;
    };
    const set = <K extends keyof EdgeSettings>(k: K, v: EdgeSettings[K] | undefined): void => {
      if (v !== undefined) s[k] = v;
    };
    set('vehicleId', values['vehicle-id']);
    set('keyFile', values['key-file']);
    set('ingestAckKeyFile', values['ingest-ack-key']);
    set('intake', values.intake);
    set('ingest', values.ingest);
    set('ingestCurvePublicKey', values['ingest-curve-public-key']);
    set('curveKeypairFile', values['curve-keypair']);
    if (values['insecure-no-curve']) s.insecureNoCurve = true;
    set('outbox', values.outbox);
    set('linkStateFile', values['link-state-file']);
    set('metricsListen', values['metrics-listen']);
    set('hwProfile', values['hw-profile']);
    set('batchMaxObservations', num('batch-max-observations', values['batch-max-observations']));
    set('batchMaxBytes', num('batch-max-bytes', values['batch-max-bytes']));
    set('idleFlushS', num('idle-flush-s', values['idle-flush-s']));
    set('keyframeSpacingM', num('keyframe-spacing-m', values['keyframe-spacing-m']));
    set('gnssMinSigmaM', num('gnss-min-sigma-m', values['gnss-min-sigma-m']));
    set('statsIntervalS', num('stats-interval-s', values['stats-interval-s']));
    set('cameraCalibration', values['camera-calibration']);
    set('model', values.model);
    if (values.replay) s.replay = true;
    if (values['exit-when-drained']) s.exitWhenDrained = true;
    cfg = resolveEdgeConfig(s);
  } catch (e) {
    if (e instanceof ConfigError || e instanceof HwProfileError) {
      log.error('config_invalid', { reason: e.message });
      return 2;
    }
    throw e;
  }

  const intake = new zmq.Pull({ linger: 0, receiveHighWaterMark: 1000 });
  // immediate: queue only on a live connection, so a down ingest fails the send (and we back off)
  // instead of piling up stale copies that would all arrive on reconnect.
  const uplink = new zmq.Dealer({ linger: 0, immediate: true, sendTimeout: 0, reconnectInterval: 100, reconnectMaxInterval: 5000 });
  if (cfg.ingestCurvePublicKey && cfg.curveKeypair) {
    // The vehicle's long-term CURVE key: the ingest's ZAP handler admits it only while the vehicle
    // is registered and active; every batch is still signed with its Ed25519 key.
    uplink.curveServerKey = cfg.ingestCurvePublicKey;
    uplink.curvePublicKey = cfg.curveKeypair.publicKey;
    uplink.curveSecretKey = cfg.curveKeypair.secretKey;
  } else {
    log.warn('transport_insecure', { ingest: cfg.ingestEndpoint, reason: 'transport security is off (--insecure-no-curve): the uplink is neither encrypted nor authenticated by CURVE; loopback development only' });
  }
  try {
    await intake.bind(cfg.intakeEndpoint);
  } catch (e) {
    log.error('socket_failed', { reason: (e as Error).message, intake: cfg.intakeEndpoint, ingest: cfg.ingestEndpoint });
    intake.close();
    uplink.close();
    return 2;
  }
  log.info('edge_started', {
    vehicleId: cfg.vehicleId,
    hwProfile: cfg.hwProfile.name,
    intake: intake.lastEndpoint ?? cfg.intakeEndpoint,
    ingest: cfg.ingestEndpoint,
    uplinkCurve: cfg.curveKeypair !== undefined,
    curvePublicKey: cfg.curveKeypair?.publicKey ?? null,
    outbox: cfg.outboxPath,
    linkStateFile: cfg.linkStateFile ?? 'none (the link counts as unmetered)',
    batchMaxObservations: cfg.batchMaxObservations,
    batchMaxBytes: cfg.batchMaxBytes,
    idleFlushS: cfg.idleFlushS,
    exitWhenDrained: cfg.exitWhenDrained,
    pid: process.pid,
  });
  log.info('intake_listening', { endpoint: intake.lastEndpoint ?? cfg.intakeEndpoint });

  const ac = new AbortController();
  const onSignal = (sig: NodeJS.Signals): void => {
    log.info('signal', { signal: sig });
    ac.abort();
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  try {
    const r = await main({ cfg, sockets: { intake, uplink }, signal: ac.signal, log });
    log.info('edge_exit', { reason: r.reason, exitCode: r.exitCode, abandoned: r.abandoned });
    // An abandoned part may hold the event loop open forever: exit once the log is written.
    if (r.abandoned) setTimeout(() => process.exit(r.exitCode), 200).unref();
    return r.exitCode;
  } catch (e) {
    if (e instanceof OutboxError) {
      log.error('outbox_failed', { code: e.code, reason: e.message });
      return 2;
    }
    if (e instanceof ModelError) {
      log.error('perception_failed', { reason: e.message });
      return 2;
    }
    throw e;
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
    if (!intake.closed) intake.close();
    if (!uplink.closed) uplink.close();
  }
}
