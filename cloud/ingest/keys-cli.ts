/**
 * `fleetmap keys`: vehicle and ingest Ed25519 keys, each vehicle's CURVE transport keypair, and the
 * vehicle key registry the ingest reads.
 * Exit codes: 0 done, 1 could not do it (file exists, not registered, I/O), 2 bad usage.
 * Every error is one line on stderr.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { parseCliArgs } from '../../shared/cli-args.ts';
import { generateSigningKeyPair, privatePem, publicPem, rawPublicKey, readPublicKeyFile, vehicleIdProblem } from '../../shared/index.ts';
import { isZ85Key, newCurveKeypair, writeCurveKeypair } from '../../shared/curve.ts';
import { KeyRegistry } from './keys.ts';

const HELP = `usage: fleetmap keys <subcommand> [options]

  generate --vehicle-id ID --out-dir DIR
      a vehicle's Ed25519 key pair: DIR/ID.key (private, PEM PKCS#8, mode 0600: stays on the
      vehicle, edge --key-file) and DIR/ID.pub (public, PEM SPKI: for register); and its CURVE
      transport keypair: DIR/ID.curve (JSON {publicKey, secretKey}, mode 0600: stays on the
      vehicle, edge --curve-keypair) and DIR/ID.curve.pub (the public key, 40 z85 characters: for
      register). Never overwrites.
  generate-ingest --out-dir DIR [--name NAME]
      the ingest's ack key pair: DIR/NAME.key (ingest --ack-key) and DIR/NAME.pub (edge
      --ingest-ack-key). NAME defaults to ingest-ack. Never overwrites.
  register --registry FILE --vehicle-id ID --public-key FILE
           (--curve-public-key-file FILE | --curve-public-key Z85)
      add a vehicle (or give a revoked one new keys); creates the registry if missing. The CURVE
      public key (DIR/ID.curve.pub from generate) is what the ingest's ZAP handler admits: a
      vehicle registered without one cannot connect (a warning says so)
  revoke --registry FILE --vehicle-id ID
      refuse the vehicle's batches from the ingest's next message on
  list --registry FILE [--json]

Registry writes are atomic (temp file + rename); a running ingest picks them up by itself.
Format: cloud/ingest/keys.ts; wire format and key formats: docs/WIRE.md.`;

class UsageError extends Error {}

type Values = Record<string, string | boolean | undefined>;

export default async function keysCli(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === '--help' || sub === '-h') {
    console.log(HELP);
    return 0;
  }
  if (sub === undefined) {
    console.error('fleetmap keys: missing subcommand (generate, generate-ingest, register, revoke, list; --help)');
    return 2;
  }
  const run = SUBCOMMANDS[sub];
  if (!run) {
    console.error(`fleetmap keys: unknown subcommand ${JSON.stringify(sub)} (generate, generate-ingest, register, revoke, list; --help)`);
    return 2;
  }
  let values: Values;
  try {
    ({ values } = parseCliArgs({ args: rest, strict: true, allowPositionals: false, options: OPTIONS }));
  } catch (e) {
    console.error(`fleetmap keys ${sub}: ${(e as Error).message}`);
    return 2;
  }
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  try {
    run(values);
    return 0;
  } catch (e) {
    console.error(`fleetmap keys ${sub}: ${(e as Error).message}`);
    return e instanceof UsageError ? 2 : 1;
  }
}

const OPTIONS = {
  'vehicle-id': { type: 'string' },
  'out-dir': { type: 'string' },
  name: { type: 'string' },
  registry: { type: 'string' },
  'public-key': { type: 'string' },
  'curve-public-key': { type: 'string' },
  'curve-public-key-file': { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

const SUBCOMMANDS: Record<string, (v: Values) => void> = {
  generate(v) {
    const id = need(v, 'vehicle-id');
    const problem = vehicleIdProblem(id);
    if (problem) throw new UsageError(problem);
    const dir = need(v, 'out-dir');
    const curveFile = path.join(dir, `${id}.curve`);
    const curvePubFile = path.join(dir, `${id}.curve.pub`);
    for (const f of [path.join(dir, `${id}.key`), path.join(dir, `${id}.pub`), curveFile, curvePubFile]) if (existsSync(f)) throw new Error(`${f} already exists; not overwriting it`);
    const pub = writeKeyPair(dir, id);
    const curve = writeCurveKeypair(curveFile, newCurveKeypair());
    writeFileSync(curvePubFile, `${curve.publicKey}\n`, { mode: 0o644, flag: 'wx' });
    console.log(JSON.stringify({ ...pub, curveKeypairFile: curveFile, curvePublicKeyFile: curvePubFile, curvePublicKeyZ85: curve.publicKey }));
  },
  'generate-ingest'(v) {
    const name = typeof v.name === 'string' ? v.name : 'ingest-ack';
    if (!/^[A-Za-z0-9_-][A-Za-z0-9._-]{0,63}$/.test(name)) throw new UsageError(`--name must be a plain file name, got ${JSON.stringify(name)}`);
    console.log(JSON.stringify(writeKeyPair(need(v, 'out-dir'), name)));
  },
  register(v) {
    const file = need(v, 'registry');
    const id = need(v, 'vehicle-id');
    const problem = vehicleIdProblem(id);
    if (problem) throw new UsageError(problem);
    const key = readPublicKeyFile(need(v, 'public-key'));
    const curve = curvePublicKey(v);
    const reg = existsSync(file) ? KeyRegistry.fromFile(file) : KeyRegistry.empty();
    reg.withRegistered(id, key, Date.now(), curve).writeFile(file);
    if (curve === null) console.error(`fleetmap keys register: warning: no CURVE public key given for ${id}: it cannot connect to an ingest with transport security on (revoke and register again with --curve-public-key-file)`);
    console.log(JSON.stringify({ registered: id, ed25519PublicKeyHex: rawPublicKey(key).toString('hex'), curvePublicKeyZ85: curve, registry: file }));
  },
  revoke(v) {
    const file = need(v, 'registry');
    const id = need(v, 'vehicle-id');
    KeyRegistry.fromFile(file).withRevoked(id, Date.now()).writeFile(file);
    console.log(JSON.stringify({ revoked: id, registry: file }));
  },
  list(v) {
    const reg = KeyRegistry.fromFile(need(v, 'registry'));
    if (v.json) {
      console.log(JSON.stringify(reg.toJSON().vehicles, null, 2));
      return;
    }
    const rows = reg.vehicles().map((id) => {
      const e = reg.entry(id)!;
      const when = (ms: number | null): string => (ms === null ? '-' : new Date(ms).toISOString());
      return [id, e.status, e.ed25519PublicKeyHex.slice(0, 16), e.curvePublicKeyZ85?.slice(0, 10) ?? '- (cannot connect)', when(e.registeredUnixMs), when(e.revokedUnixMs)];
    });
    const head = ['vehicle', 'status', 'ed25519 key', 'curve key', 'registered', 'revoked'];
    const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
    for (const r of [head, ...rows]) console.log(r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd());
    if (rows.length === 0) console.log('(no vehicles)');
  },
};

/** The CURVE public key from --curve-public-key Z85 or --curve-public-key-file FILE; null without either. */
function curvePublicKey(v: Values): string | null {
  const inline = v['curve-public-key'];
  const file = v['curve-public-key-file'];
  if (typeof inline === 'string' && typeof file === 'string') throw new UsageError('give --curve-public-key or --curve-public-key-file, not both');
  if (typeof inline === 'string') {
    if (!isZ85Key(inline)) throw new UsageError('--curve-public-key must be 40 z85 characters');
    return inline;
  }
  if (typeof file !== 'string') return null;
  let text: string;
  try {
    text = readFileSync(file, 'utf8').trim();
  } catch (e) {
    throw new UsageError(`--curve-public-key-file ${file}: cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  // A public key first: '{' is a z85 character, so one key in 85 starts with it (and was taken
  // for a keypair file, refused: the test that generated keys failed that often).
  const isKey: boolean = isZ85Key(text);
  if (isKey) return text;
  if (text.startsWith('{')) throw new UsageError(`--curve-public-key-file ${file}: holds a keypair (with its secret key); give the .curve.pub file`);
  throw new UsageError(`--curve-public-key-file ${file}: must hold one CURVE public key, 40 z85 characters`);
}

function need(v: Values, flag: string): string {
  const x = v[flag];
  if (typeof x !== 'string' || x.length === 0) throw new UsageError(`missing --${flag} (see fleetmap keys --help)`);
  return x;
}

/** Write NAME.key (0600) and NAME.pub into dir; refuses if either exists. */
function writeKeyPair(dir: string, name: string): { privateKeyFile: string; publicKeyFile: string; ed25519PublicKeyHex: string } {
  const keyFile = path.join(dir, `${name}.key`);
  const pubFile = path.join(dir, `${name}.pub`);
  for (const f of [keyFile, pubFile]) if (existsSync(f)) throw new Error(`${f} already exists; not overwriting it`);
  mkdirSync(dir, { recursive: true });
  const { privateKey, publicKey } = generateSigningKeyPair();
  writeFileSync(keyFile, privatePem(privateKey), { mode: 0o600, flag: 'wx' });
  writeFileSync(pubFile, publicPem(publicKey), { mode: 0o644, flag: 'wx' });
  return { privateKeyFile: keyFile, publicKeyFile: pubFile, ed25519PublicKeyHex: rawPublicKey(publicKey).toString('hex') };
}

