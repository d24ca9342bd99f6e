/**
 * Integration-test helpers: spawn real `fleetmap` processes (node --import tsx cli/main.ts ...),
 * read their JSON log events from stderr, and push sensor messages into an edge intake.
 * Waits are on log events (what the process says it did), never on sleeps.
 *
 * Transport security is on by default, as in production: startIngest gives the ingest a CURVE
 * server keypair (its ZAP handler admits the registered vehicles' CURVE keys, which writeKeys
 * registers), startEdge gives the daemon the ingest's public key and its vehicle's CURVE keypair.
 * A test about something else may opt out on loopback (`insecure: true` / `--insecure-no-curve`).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { pack } from 'msgpackr';
import type { OutboxPolicy } from '../edge/outbox-policy.ts';
import * as zmq from 'zeromq';
import { LocalFrame, privateKeyFromSeed, privatePem, publicPem, type BodyObservation, type LngLat, type TopicName, type TopicPayloads } from '../shared/index.ts';
import { KeyRegistry } from '../cloud/ingest/keys.ts';
import { generateCurveKeypair, readCurveKeypair, type CurveKeypair } from '../shared/curve.ts';

export const REPO = fileURLToPath(new URL('..', import.meta.url));
const CLI = path.join(REPO, 'cli', 'main.ts');

export type LogEvent = Record<string, unknown> & { event: string };

export class Proc {
  readonly child: ChildProcess;
  readonly events: LogEvent[] = [];
  readonly rawLines: string[] = [];
  stdout = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private listeners: Array<() => void> = [];
  /** Exited and all of its output read ('close', not 'exit', which may come before the last lines). */
  private closed = false;

  constructor(readonly name: string, args: string[], env: Readonly<Record<string, string>> = {}) {
    this.child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    let buf = '';
    this.child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      buf += chunk;
      let i: number;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        this.rawLines.push(line);
        try {
          const ev = JSON.parse(line) as LogEvent;
          if (typeof ev.event === 'string') this.events.push(ev);
        } catch {
          // not a log event (e.g. a Node warning): kept in rawLines
        }
        for (const l of this.listeners) l();
      }
    });
    this.child.stdout!.setEncoding('utf8').on('data', (c: string) => {
      this.stdout += c;
    });
    this.exited = new Promise((resolve) => {
      this.child.on('close', (code, signal) => {
        this.closed = true;
        for (const l of this.listeners) l();
        resolve({ code, signal });
      });
    });
  }

  named(event: string): LogEvent[] {
    return this.events.filter((e) => e.event === event);
  }

  sum(event: string, field: string): number {
    return this.named(event).reduce((a, e) => a + (typeof e[field] === 'number' ? (e[field] as number) : 0), 0);
  }

  /** Resolve when `pred` holds over the events so far; reject if the process exits first or after timeoutMs. */
  until<T>(what: string, pred: () => T | undefined | false, timeoutMs = 30_000): Promise<T> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        const v = pred();
        if (v !== undefined && v !== false) {
          done();
          resolve(v);
          return true;
        }
        if (this.closed) {
          done();
          reject(new Error(`${this.name} exited (${this.child.exitCode ?? this.child.signalCode}) before: ${what}\n${this.rawLines.slice(-15).join('\n')}`));
          return true;
        }
        return false;
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`timed out waiting for ${this.name}: ${what}\n${this.rawLines.slice(-15).join('\n')}`));
      }, timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        this.listeners = this.listeners.filter((l) => l !== listener);
      };
      const listener = (): void => void check();
      this.listeners.push(listener);
      check();
    });
  }

  event(event: string, pred: (e: LogEvent) => boolean = () => true, timeoutMs?: number): Promise<LogEvent> {
    return this.until(`event ${event}`, () => this.events.find((e) => e.event === event && pred(e)), timeoutMs);
  }

  kill(sig: NodeJS.Signals): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(sig);
  }
}

export function tempDir(prefix: string): string {
  return mkdtempSync(path.join(tmpdir(), `fm-it-${prefix}-`));
}

/** Test vehicles' Ed25519 private keys, as raw 32-byte seeds in hex (encodeBatch takes the seed bytes). */
export const KEYS = { 'veh-1': '11'.repeat(32), 'veh-2': '22'.repeat(32) } as const;
/** The test ingest's ack key seed. */
export const ACK_KEY_SEED_HEX = 'ac'.repeat(32);

/** Key files shared by every test in this process: vehicle keys (PEM) and the ingest ack key pair. */
const KEY_DIR = mkdtempSync(path.join(tmpdir(), 'fm-it-keys-'));
export const ACK_PRIVATE_KEY_FILE = path.join(KEY_DIR, 'ingest-ack.key');
export const ACK_PUBLIC_KEY_FILE = path.join(KEY_DIR, 'ingest-ack.pub');
{
  const ack = privateKeyFromSeed(Buffer.from(ACK_KEY_SEED_HEX, 'hex'));
  writeFileSync(ACK_PRIVATE_KEY_FILE, privatePem(ack), { mode: 0o600 });
  writeFileSync(ACK_PUBLIC_KEY_FILE, publicPem(ack));
}

/** The test ingest's CURVE server keypair file (`cloud ingest --curve-keypair`) and its public key. */
export const INGEST_CURVE_FILE = path.join(KEY_DIR, 'ingest.curve');
export const INGEST_CURVE_PUBLIC_KEY = generateCurveKeypair(INGEST_CURVE_FILE).publicKey;

/** A test vehicle's CURVE keypair file (made once per test process), for `edge run --curve-keypair`. */
export function vehicleCurveFile(vehicleId: string): string {
  const file = path.join(KEY_DIR, `${vehicleId}.curve`);
  if (!existsSync(file)) generateCurveKeypair(file);
  return file;
}

export function vehicleCurve(vehicleId: string): CurveKeypair {
  return readCurveKeypair(vehicleCurveFile(vehicleId));
}

/** The edge flags for CURVE on: the pinned ingest key and the vehicle's own keypair. */
export function edgeCurveArgs(vehicleId: string): string[] {
  return ['--ingest-curve-public-key', INGEST_CURVE_PUBLIC_KEY, '--curve-keypair', vehicleCurveFile(vehicleId)];
}

/** zeromq socket options for a test DEALER acting as `vehicleId` over CURVE (its registered key). */
export function curveClientOptions(vehicleId: string, kp: CurveKeypair = vehicleCurve(vehicleId)): { curveServerKey: string; curvePublicKey: string; curveSecretKey: string } {
  return { curveServerKey: INGEST_CURVE_PUBLIC_KEY, curvePublicKey: kp.publicKey, curveSecretKey: kp.secretKey };
}

/** A PEM private key file for a test vehicle (what `fleetmap keys generate` writes), for --key-file. */
export function vehicleKeyFile(vehicle: keyof typeof KEYS): string {
  const file = path.join(KEY_DIR, `${vehicle}.key`);
  writeFileSync(file, privatePem(privateKeyFromSeed(Buffer.from(KEYS[vehicle], 'hex'))), { mode: 0o600 });
  return file;
}

/** The vehicle key registry (cloud/ingest/keys.ts) with the test vehicles' Ed25519 and CURVE public keys, active. */
export function writeKeys(dir: string, vehicles: ReadonlyArray<keyof typeof KEYS> = ['veh-1', 'veh-2']): string {
  const file = path.join(dir, 'keys.json');
  let reg = KeyRegistry.empty();
  for (const v of vehicles) reg = reg.withRegistered(v, privateKeyFromSeed(Buffer.from(KEYS[v], 'hex')), Date.now(), vehicleCurve(v).publicKey);
  reg.writeFile(file);
  return file;
}

/** The disk-budget policy of the test profile (hw-profiles/README.md, `outbox`). */
export const TEST_OUTBOX_POLICY: OutboxPolicy = {
  dropWhenFull: ['dead_letters', 'pending', 'batches'],
  dropToPercent: 90,
  classPriority: { lane_divider: 4, road_boundary: 4, stop_line: 7, crosswalk: 6, traffic_sign: 8, traffic_light: 8 },
};

/** A hw profile with short timeouts so tests do not wait on production numbers. */
export function writeTestProfile(dir: string, batchMaxObservations = 8, providers: string[] = ['cpu'], perceptionMaxHz = 10, inferenceThread?: 'worker' | 'main', perceptionExtra: Record<string, unknown> = {}): string {
  const file = path.join(dir, 'test-profile.json');
  writeFileSync(
    file,
    JSON.stringify({
      schemaVersion: 2,
      name: 'it-test',
      description: 'integration tests: small batches, short timeouts',
      detect: { arch: ['none'] },
      inference: { executionProviders: providers.map((name) => ({ name })), intraOpThreads: 1, interOpThreads: 1, modelVariant: 'fleetmap-seg', inputWidthPx: 256, inputHeightPx: 128, ...(inferenceThread ? { thread: inferenceThread } : {}) },
      perception: { maxHz: perceptionMaxHz, skipPolicy: 'latest', maxQueuedFrames: 1, ...perceptionExtra },
      intake: { idleFlushS: 0.3 },
      outbox: { maxDiskMb: 64, batchMaxObservations, batchMaxBytes: 65536, batchMaxAgeS: 5, ...TEST_OUTBOX_POLICY },
      uplink: { maxKbps: 0, meteredMaxKbps: 0, meteredMinPriority: 0, ackTimeoutMs: 400, backoffBaseMs: 50, backoffCapMs: 300, backoffJitter: 0.5 },
    }),
  );
  return file;
}

/** Start an ingest: CURVE + ZAP with the test ingest keypair unless `insecure` (loopback only) or extra names the transport. */
export async function startIngest(opts: { storeDir: string; keysFile: string; bind?: string; extra?: string[]; env?: Record<string, string>; insecure?: boolean }): Promise<{ proc: Proc; endpoint: string }> {
  const extra = opts.extra ?? [];
  const ackKey = extra.includes('--ack-key') ? [] : ['--ack-key', ACK_PRIVATE_KEY_FILE];
  const transport = extra.includes('--curve-keypair') || extra.includes('--insecure-no-curve') ? [] : opts.insecure ? ['--insecure-no-curve'] : ['--curve-keypair', INGEST_CURVE_FILE];
  const proc = new Proc('ingest', ['cloud', 'ingest', '--bind', opts.bind ?? 'tcp://127.0.0.1:*', '--store', opts.storeDir, '--keys', opts.keysFile, '--health-interval-s', '0.2', ...ackKey, ...transport, ...extra], opts.env);
  const ev = await proc.event('ingest_listening');
  return { proc, endpoint: ev.endpoint as string };
}

/**
 * Start an edge daemon. Delivery tests compare the stored set with the pushed set exactly, so
 * compaction (keyframes, cropping; edge/compact.ts, tested on its own) is off unless asked for.
 */
export async function startEdge(args: string[]): Promise<{ proc: Proc; intake: string }> {
  const withCurve = args.includes('--insecure-no-curve') || args.includes('--curve-keypair') ? args : [...edgeCurveArgs(edgeVehicleId(args)), ...args];
  const withAck = withCurve.includes('--ingest-ack-key') ? withCurve : ['--ingest-ack-key', ACK_PUBLIC_KEY_FILE, ...withCurve];
  const withDefaults = withAck.includes('--keyframe-spacing-m') ? withAck : ['--keyframe-spacing-m', '0', ...withAck];
  const proc = new Proc('edge', ['edge', 'run', ...withDefaults]);
  const ev = await proc.event('intake_listening');
  return { proc, intake: ev.endpoint as string };
}

/** The vehicle id an edge command line runs as: --vehicle-id, or the --config file's vehicleId. */
function edgeVehicleId(args: readonly string[]): string {
  const i = args.indexOf('--vehicle-id');
  if (i >= 0) return args[i + 1]!;
  const c = args.indexOf('--config');
  const id = c >= 0 ? (JSON.parse(readFileSync(args[c + 1]!, 'utf8')) as { vehicleId?: unknown }).vehicleId : undefined;
  if (typeof id !== 'string') throw new Error('startEdge: no --vehicle-id and no vehicleId in --config: cannot pick its CURVE keypair (or pass --curve-keypair / --insecure-no-curve)');
  return id;
}

/** A PUSH socket into an edge intake: [topic, msgpack(payload)]. */
export class SensorPusher {
  private readonly sock = new zmq.Push({ linger: 2000, sendHighWaterMark: 100_000 });
  constructor(endpoint: string) {
    this.sock.connect(endpoint);
  }
  async push<T extends TopicName>(topic: T, payload: TopicPayloads[T]): Promise<void> {
    await this.sock.send([topic, pack(payload)]);
  }
  async raw(frames: Array<Buffer | string>): Promise<void> {
    await this.sock.send(frames);
  }
  close(): void {
    this.sock.close();
  }
}

/**
 * A scripted drive: straight east at SPEED_MPS from ORIGIN, heading 0 (east), vehicle signals
 * at 50 Hz, GNSS at 10 Hz, a perception frame every 0.5 s with a traffic sign 10 m ahead and
 * 3 m left (signCode unique: `${tag}-${n}`) and a lane divider 2 m to the right.
 */
export const ORIGIN: LngLat = { lng: 8.4037, lat: 49.0069 };
export const SPEED_MPS = 10;
const world = new LocalFrame(ORIGIN);
/** An hour before the tests started: inside the ingest's time window (30 days back by default). */
const T0_UNIX_MS = Math.floor(Date.now() / 1000) * 1000 - 3_600_000;

export interface PushedSign {
  signCode: string;
  truth: LngLat;
}

export async function pushDrive(p: SensorPusher, o: { fromS: number; toS: number; tag: string }): Promise<{ signs: PushedSign[]; dividers: number }> {
  const signs: PushedSign[] = [];
  let dividers = 0;
  const stepS = 0.02;
  for (let i = Math.round(o.fromS / stepS); i < Math.round(o.toS / stepS); i++) {
    const tS = i * stepS;
    const tMonoNs = Math.round(tS * 1e9);
    const eastM = SPEED_MPS * tS;
    await p.push('vehicle', { tMonoNs, speedMps: SPEED_MPS, yawRateRps: 0 });
    if (i % 5 === 0) {
      const ll = world.toLngLat([eastM, 0]);
      await p.push('gnss', { tMonoNs, tUnixMs: T0_UNIX_MS + tS * 1000, fixType: '3d', lat: ll.lat, lng: ll.lng, horizontalAccuracyM: 0.4, courseRad: 0 });
    }
    if (i % 25 === 10) {
      const signCode = `${o.tag}-${i}`;
      const observations: BodyObservation[] = [
        { cls: 'traffic_sign', signCode, score: 0.9, pointsBody: [[10, 3]] },
        { cls: 'lane_divider', style: 'dashed', score: 0.8, pointsBody: [[0, -2], [15, -2], [30, -2]] },
      ];
      await p.push('perception', { tMonoNs, frameId: i, observations });
      signs.push({ signCode, truth: world.toLngLat([eastM + 10, 3]) });
      dividers++;
    }
  }
  return { signs, dividers };
}

/** One whole drive into an edge intake: its start marker, pushDrive over [0, toS), its end marker. */
export async function pushWholeDrive(intake: string, o: { driveId: string; toS: number; tag: string }): Promise<{ signs: PushedSign[]; dividers: number; observations: number }> {
  const p = new SensorPusher(intake);
  try {
    await p.push('drive', { tMonoNs: 0, event: 'start', driveId: o.driveId });
    const r = await pushDrive(p, { fromS: 0, toS: o.toS, tag: o.tag });
    await p.push('drive', { tMonoNs: Math.round(o.toS * 1e9), event: 'end', driveId: o.driveId });
    return { ...r, observations: r.signs.length + r.dividers };
  } finally {
    p.close();
  }
}
