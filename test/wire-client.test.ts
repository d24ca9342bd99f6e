/**
 * A client written from docs/WIRE.md alone (test/clients/wire_client.py, Python with Debian's
 * python3-zmq, python3-msgpack and python3-cryptography; its author read the docs and the CLI's
 * --help, never this code) talks to the real ingest: keys provisioned with the documented
 * commands, CURVE on, batches stored once with every ack verified, and every documented refusal
 * heard, from a DEALER and from a REQ socket. If the page stops being enough, this fails.
 */
import { execFile, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { curveKeyPair } from 'zeromq';
import { REPO, startIngest, tempDir, type Proc } from './helpers.ts';

const run = promisify(execFile);
const PYTHON = process.env.FLEETMAP_PYTHON ?? '/usr/bin/python3';
const CLIENT = path.join(REPO, 'test', 'clients', 'wire_client.py');

/** `fleetmap ARGS` as a user types it (through the CLI entry), stdout. */
async function fleetmap(args: string[]): Promise<string> {
  const r = await run(process.execPath, ['--import', 'tsx', path.join(REPO, 'cli', 'main.ts'), ...args], { cwd: REPO, encoding: 'utf8' });
  return r.stdout;
}

/** The client; never throws: exit code, stdout, stderr. */
async function client(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run(PYTHON, [CLIENT, ...args], { cwd: REPO, encoding: 'utf8', timeout: 60_000 });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const x = e as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof x.code === 'number' ? x.code : -1, stdout: x.stdout ?? '', stderr: x.stderr ?? '' };
  }
}

describe('a client written from docs/WIRE.md alone', () => {
  const dir = tempDir('wire-client');
  const keys = path.join(dir, 'keys');
  const storeDir = path.join(dir, 'store');
  let ingest: Proc;
  let vehicle: (id: string) => string[];

  beforeAll(async () => {
    const probe = spawnSync(PYTHON, ['-c', 'import zmq, msgpack, cryptography; assert zmq.has("curve")'], { encoding: 'utf8' });
    if (probe.status !== 0) {
      throw new Error(`${PYTHON} cannot import zmq (with CURVE), msgpack and cryptography: install the Debian packages python3-zmq python3-msgpack python3-cryptography`);
    }
    // Provisioning exactly as the docs tell an operator (WIRE.md 1.1 and "Keys").
    for (const v of ['veh-a', 'veh-b']) await fleetmap(['keys', 'generate', '--vehicle-id', v, '--out-dir', keys]);
    await fleetmap(['keys', 'generate-ingest', '--out-dir', keys]);
    const ingestCurvePublic = (await fleetmap(['cloud', 'ingest', '--curve-keypair', path.join(keys, 'ingest.curve'), '--curve-generate'])).trim();
    writeFileSync(path.join(keys, 'ingest.curve.pub'), `${ingestCurvePublic}\n`);
    const registry = path.join(dir, 'fleet-keys.json');
    for (const v of ['veh-a', 'veh-b']) {
      await fleetmap(['keys', 'register', '--registry', registry, '--vehicle-id', v, '--public-key', path.join(keys, `${v}.pub`), '--curve-public-key-file', path.join(keys, `${v}.curve.pub`)]);
    }
    const started = await startIngest({ storeDir, keysFile: registry, extra: ['--ack-key', path.join(keys, 'ingest-ack.key'), '--curve-keypair', path.join(keys, 'ingest.curve')] });
    ingest = started.proc;
    vehicle = (id) => [
      '--endpoint', started.endpoint,
      '--vehicle-id', id,
      '--key-file', path.join(keys, `${id}.key`),
      '--curve-keypair', path.join(keys, `${id}.curve`),
      '--ingest-curve-public-key-file', path.join(keys, 'ingest.curve.pub'),
      '--ingest-ack-key', path.join(keys, 'ingest-ack.pub'),
      '--timeout-s', '10',
    ];
  }, 120_000);

  afterAll(async () => {
    ingest?.kill('SIGTERM');
    if (ingest) expect(await ingest.exited).toEqual({ code: 0, signal: null });
  });

  it('rebuilds the worked example (section 6) byte for byte', async () => {
    const r = await client(['--self-test']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });

  it('uploads batches over CURVE: each stored once, every ack verified (DEALER and REQ)', async () => {
    const first = await client([...vehicle('veh-a'), '--drive-id', 'drive-1', '--batches', '3', '--seq', '1']);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    const a = JSON.parse(first.stdout) as { acksVerified: number; unverifiedAcks: number; batches: Array<{ seq: number; sha256: string; status: string }> };
    expect(a.batches.map((x) => [x.seq, x.status])).toEqual([[1, 'stored'], [2, 'stored'], [3, 'stored']]);
    expect([a.acksVerified, a.unverifiedAcks]).toEqual([3, 0]);
    // Every batch sent twice from a REQ socket, with the optional vehicle status: stored, then duplicate.
    const second = await client([...vehicle('veh-b'), '--drive-id', 'drive-1', '--batches', '2', '--seq', '1', '--socket', 'req', '--resend', '--vehicle-status']);
    expect(second.stderr).toBe('');
    expect(second.code).toBe(0);
    const b = JSON.parse(second.stdout) as { acksVerified: number; batches: Array<{ seq: number; sha256: string; status: string; resend?: string }> };
    expect(b.batches.map((x) => [x.seq, x.status, x.resend])).toEqual([[1, 'stored', 'duplicate'], [2, 'stored', 'duplicate']]);
    expect(b.acksVerified).toBe(4);
    // What the ingest stored: exactly those envelopes, once each, byte for byte.
    const stored = new Map<string, string>();
    for (const v of ['veh-a', 'veh-b']) {
      for (const f of readdirSync(path.join(storeDir, 'batches', v))) {
        stored.set(`${v}/${f}`, createHash('sha256').update(readFileSync(path.join(storeDir, 'batches', v, f))).digest('hex'));
      }
    }
    expect(stored).toEqual(new Map([
      ...a.batches.map((x) => [`veh-a/${String(x.seq).padStart(10, '0')}.fmb`, x.sha256] as [string, string]),
      ...b.batches.map((x) => [`veh-b/${String(x.seq).padStart(10, '0')}.fmb`, x.sha256] as [string, string]),
    ]));
    // Other bytes under a stored seq: refused, and the client says so (exit 1, one line).
    const conflict = await client([...vehicle('veh-a'), '--drive-id', 'drive-2', '--batches', '1', '--seq', '1']);
    expect(conflict.code).toBe(1);
    expect(conflict.stderr.trim().split('\n')).toHaveLength(1);
    expect(conflict.stderr).toMatch(/seq_conflict/);
  }, 120_000);

  // Each mode sends a deliberately bad message and expects the refusal code (and seq nil or the
  // batch's) that section 5 documents; the client exits 0 only when the answer matches.
  const modes = ['signature', 'seq-conflict', 'bad-time', 'bad-tile-key', 'unknown-field', 'bad-msgpack', 'bad-kind', 'bad-version', 'bad-flags', 'truncated', 'unknown-sender', 'bad-frames'];
  it.each(modes.map((m, i) => [m, 100 + i] as const))('hears the documented refusal for %s', async (mode, seq) => {
    const r = await client([...vehicle('veh-a'), '--tamper', mode, '--batches', '1', '--seq', String(seq), '--resend']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  }, 60_000);

  it('hears bad_frames from a REQ socket too (the reply keeps its delimiter)', async () => {
    const r = await client([...vehicle('veh-b'), '--tamper', 'bad-frames', '--socket', 'req', '--batches', '1', '--seq', '200']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  }, 60_000);

  it("reads an ingest CURVE public key that starts with '{' (a Z85 character) as a key, not as JSON", () => {
    let pub = '';
    while (!pub.startsWith('{')) pub = curveKeyPair().publicKey; // one key in 85
    const file = path.join(dir, 'brace.curve.pub');
    writeFileSync(file, `${pub}\n`);
    const code = 'import importlib.util,sys\nspec=importlib.util.spec_from_file_location("wc",sys.argv[1]);wc=importlib.util.module_from_spec(spec);spec.loader.exec_module(wc)\nprint(wc.load_curve_public(sys.argv[2]).decode())';
    const r = spawnSync(PYTHON, ['-c', code, CLIENT, file], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe(pub);
  });
});
