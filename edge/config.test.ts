import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { privateKeyFromSeed, privatePem, publicPem, rawPublicKey } from '../shared/index.ts';
import { ConfigError, readConfigFile, resolveEdgeConfig } from './config.ts';
import { generateCurveKeypair } from '../shared/curve.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'fm-cfg-'));
const vehicleKey = privateKeyFromSeed(Buffer.alloc(32, 0xab));
const ackKey = privateKeyFromSeed(Buffer.alloc(32, 0xac));
const keyFile = path.join(dir, 'veh-1.key');
const ackFile = path.join(dir, 'ingest-ack.pub');
writeFileSync(keyFile, privatePem(vehicleKey), { mode: 0o600 });
writeFileSync(ackFile, publicPem(ackKey));
const curveFile = path.join(dir, 'veh-1.curve');
const vehicleCurve = generateCurveKeypair(curveFile);
const ingestCurve = generateCurveKeypair(path.join(dir, 'ingest.curve'));
const base = { vehicleId: 'veh-1', keyFile, ingestAckKeyFile: ackFile, intake: 'tcp://127.0.0.1:*', ingest: 'tcp://127.0.0.1:5700', outbox: '/tmp/o.sqlite', hwProfile: 'x86_64-dev', ingestCurvePublicKey: ingestCurve.publicKey, curveKeypairFile: curveFile };

describe('edge config', () => {
  it('takes the batch limits from the hw profile unless overridden; reads the Ed25519 keys', () => {
    const c = resolveEdgeConfig(base);
    expect(rawPublicKey(c.key).equals(rawPublicKey(vehicleKey))).toBe(true);
    expect(rawPublicKey(c.ingestAckKey).equals(rawPublicKey(ackKey))).toBe(true);
    expect(c.batchMaxObservations).toBe(c.hwProfile.outbox.batchMaxObservations);
    expect(resolveEdgeConfig({ ...base, batchMaxObservations: 7 }).batchMaxObservations).toBe(7);
  });
  it('floors the GNSS accuracy at 0.3 m unless an RTK receiver says otherwise, within bounds', () => {
    expect(resolveEdgeConfig(base).gnssMinSigmaM).toBe(0.3);
    expect(resolveEdgeConfig({ ...base, gnssMinSigmaM: 0.02 }).gnssMinSigmaM).toBe(0.02);
    expect(() => resolveEdgeConfig({ ...base, gnssMinSigmaM: 0 })).toThrow(/gnssMinSigmaM/);
    expect(() => resolveEdgeConfig({ ...base, gnssMinSigmaM: 1000 })).toThrow(/gnssMinSigmaM/);
  });
  it('lists every problem, naming the field and the value but never the key', () => {
    const secret = path.join(dir, 'not-a-key');
    writeFileSync(secret, 'secret!\n');
    try {
      resolveEdgeConfig({ ...base, vehicleId: 'a/b', keyFile: secret, ingestAckKeyFile: keyFile, ingest: 'http://x', batchMaxObservations: 0, hwProfile: 'nope' });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      const msg = (e as Error).message;
      expect(msg).toMatch(/vehicleId: vehicle id must match .* got "a\/b"/);
      expect(msg).toMatch(/keyFile: .*not-a-key: not a PEM private key/);
      expect(msg).toMatch(/ingestAckKeyFile: .*veh-1\.key: holds a private key; give the public key/);
      expect(msg).not.toMatch(/secret!/);
      expect(msg).toMatch(/ingest must be a ZeroMQ endpoint .* got "http:\/\/x"/);
      expect(msg).toMatch(/no such profile file .*nope\.json/);
    }
    expect(() => resolveEdgeConfig({ ...base, keyFile: undefined, ingestAckKeyFile: undefined })).toThrow(/keyFile is required .*ingestAckKeyFile is required/);
    expect(() => resolveEdgeConfig({ ...base, vehicleId: '__proto__' })).toThrow(/reserved/);
  });
  it('requires CURVE (pinned ingest key + own keypair) unless insecureNoCurve with a loopback ingest', () => {
    const c = resolveEdgeConfig(base);
    expect(c).toMatchObject({ ingestCurvePublicKey: ingestCurve.publicKey, curveKeypair: vehicleCurve, insecureNoCurve: false });
    const plain = { ...base, ingestCurvePublicKey: undefined, curveKeypairFile: undefined };
    expect(() => resolveEdgeConfig(plain)).toThrow(/transport security is required: missing ingestCurvePublicKey .* and curveKeypairFile .*; or insecureNoCurve/);
    expect(() => resolveEdgeConfig({ ...base, curveKeypairFile: undefined })).toThrow(/missing curveKeypairFile \(--curve-keypair FILE/);
    expect(resolveEdgeConfig({ ...plain, insecureNoCurve: true })).toMatchObject({ insecureNoCurve: true, curveKeypair: undefined, ingestCurvePublicKey: undefined });
    expect(resolveEdgeConfig({ ...plain, insecureNoCurve: true, ingest: 'ipc:///tmp/ingest.sock' }).insecureNoCurve).toBe(true);
    expect(() => resolveEdgeConfig({ ...plain, insecureNoCurve: true, ingest: 'tcp://10.0.0.5:5700' })).toThrow(/insecureNoCurve \(--insecure-no-curve\) is only allowed with a loopback ingest .* got "tcp:\/\/10\.0\.0\.5:5700"/);
    expect(() => resolveEdgeConfig({ ...base, insecureNoCurve: true })).toThrow(/contradicts/);
    const secretLeak = path.join(dir, 'bad.curve');
    writeFileSync(secretLeak, JSON.stringify({ publicKey: 'short', secretKey: vehicleCurve.secretKey }));
    try {
      resolveEdgeConfig({ ...base, curveKeypairFile: secretLeak });
      expect.unreachable();
    } catch (e) {
      expect((e as Error).message).toMatch(/curveKeypairFile: curve keypair .*bad\.curve: publicKey must be 40 z85 characters/);
      expect((e as Error).message).not.toContain(vehicleCurve.secretKey);
    }
  });
  it('reads a config file, resolving paths against it and refusing unknown fields', () => {
    const f = path.join(dir, 'edge.json');
    writeFileSync(path.join(dir, 'k.key'), `${'ab'.repeat(32)}\n`); // a raw seed in hex is accepted too
    writeFileSync(f, JSON.stringify({ vehicleId: 'veh-1', keyFile: 'k.key', ingestAckKeyFile: 'ingest-ack.pub', outbox: 'o.sqlite', curveKeypairFile: 'veh-1.curve', ingestCurvePublicKey: ingestCurve.publicKey }));
    const s = readConfigFile(f);
    expect(s.outbox).toBe(path.join(dir, 'o.sqlite'));
    expect(s.curveKeypairFile).toBe(curveFile);
    expect(s.ingestAckKeyFile).toBe(ackFile);
    const c = resolveEdgeConfig({ ...s, intake: base.intake, ingest: base.ingest, hwProfile: 'x86_64-dev' });
    expect(rawPublicKey(c.key).equals(rawPublicKey(vehicleKey))).toBe(true);
    writeFileSync(f, JSON.stringify({ vehicleID: 'x' }));
    expect(() => readConfigFile(f)).toThrow(/unknown field "vehicleID"/);
    writeFileSync(f, JSON.stringify({ keyHex: 'ab' }));
    expect(() => readConfigFile(f)).toThrow(/unknown field "keyHex"/);
  });
});
