import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, readConfigFile, resolveEdgeConfig } from './config.ts';

const KEY = 'ab'.repeat(32);
const base = { vehicleId: 'veh-1', keyHex: KEY, intake: 'tcp://127.0.0.1:*', ingest: 'tcp://127.0.0.1:5700', outbox: '/tmp/o.sqlite', hwProfile: 'x86_64-dev' };

describe('edge config', () => {
  it('takes the batch limits from the hw profile unless overridden', () => {
    const c = resolveEdgeConfig(base);
    expect(c.key.equals(Buffer.from(KEY, 'hex'))).toBe(true);
    expect(c.batchMaxObservations).toBe(c.hwProfile.outbox.batchMaxObservations);
    expect(resolveEdgeConfig({ ...base, batchMaxObservations: 7 }).batchMaxObservations).toBe(7);
  });
  it('lists every problem, naming the field and the value but never the key', () => {
    try {
      resolveEdgeConfig({ ...base, vehicleId: 'a/b', keyHex: 'secret!', ingest: 'http://x', batchMaxObservations: 0, hwProfile: 'nope' });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      const msg = (e as Error).message;
      expect(msg).toMatch(/vehicleId must match .* got "a\/b"/);
      expect(msg).toMatch(/keyHex must hold 64 hex digits \(32 bytes\), got 7 characters \(not all hex\)/);
      expect(msg).not.toMatch(/secret!/);
      expect(msg).toMatch(/ingest must be a ZeroMQ endpoint .* got "http:\/\/x"/);
      expect(msg).toMatch(/no such profile file .*nope\.json/);
    }
  });
  it('reads a config file, resolving paths against it and refusing unknown fields', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'fm-cfg-'));
    const f = path.join(dir, 'edge.json');
    writeFileSync(path.join(dir, 'k.key'), `${KEY}\n`);
    writeFileSync(f, JSON.stringify({ vehicleId: 'veh-1', keyFile: 'k.key', outbox: 'o.sqlite' }));
    const s = readConfigFile(f);
    expect(s.outbox).toBe(path.join(dir, 'o.sqlite'));
    expect(resolveEdgeConfig({ ...s, intake: base.intake, ingest: base.ingest, hwProfile: 'x86_64-dev' }).key.toString('hex')).toBe(KEY);
    writeFileSync(f, JSON.stringify({ vehicleID: 'x' }));
    expect(() => readConfigFile(f)).toThrow(/unknown field "vehicleID"/);
  });
});
