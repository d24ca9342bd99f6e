import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { privateKeyFromSeed, rawPublicKey } from '../../shared/index.ts';
import { KeyRegistry } from './keys.ts';
import { z85Encode } from '../../shared/curve.ts';

const k = (n: number) => privateKeyFromSeed(Buffer.alloc(32, n));

describe('KeyRegistry', () => {
  it('round-trips through its file, written atomically (no temp file left)', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'fm-keys-'));
    const file = path.join(dir, 'fleet-keys.json');
    KeyRegistry.empty().withRegistered('veh-1', k(1), 10).withRegistered('veh-2', k(2), 11).withRevoked('veh-2', 12).writeFile(file);
    expect(readdirSync(dir)).toEqual(['fleet-keys.json']);
    const back = KeyRegistry.fromFile(file);
    expect(back.vehicles()).toEqual(['veh-1', 'veh-2']);
    expect(back.entry('veh-2')).toEqual({ ed25519PublicKeyHex: rawPublicKey(k(2)).toString('hex'), curvePublicKeyZ85: null, status: 'revoked', registeredUnixMs: 11, revokedUnixMs: 12 });
    expect(back.keyFor('veh-2')).toBe('revoked');
    expect(back.keyFor('veh-3')).toBeUndefined();
    expect(JSON.parse(readFileSync(file, 'utf8'))).toMatchObject({ format: 'fleetmap-vehicle-keys', version: 1 });
  });

  it('maps CURVE keys to their vehicle (for ZAP), one vehicle per key, a revoked key never again; reads files without one', () => {
    const c = (n: number): string => z85Encode(Buffer.alloc(32, n));
    const r = KeyRegistry.empty().withRegistered('veh-1', k(1), 1, c(1)).withRegistered('veh-2', k(2), 2, c(2)).withRegistered('veh-3', k(3), 3);
    expect(r.curveKeyOwner(c(1))).toEqual({ vehicleId: 'veh-1', status: 'active' });
    expect(r.curveKeyOwner(c(9))).toBeUndefined();
    expect(r.entry('veh-3')!.curvePublicKeyZ85).toBeNull(); // an older registration: cannot connect with CURVE on
    expect(() => r.withRegistered('veh-4', k(4), 4, c(1))).toThrow(/this CURVE key is already vehicle "veh-1"'s/);
    expect(() => r.withRegistered('veh-4', k(4), 4, '#'.repeat(40))).toThrow(/CURVE public key must be 40 z85 characters/);
    const revoked = r.withRevoked('veh-2', 5);
    expect(revoked.curveKeyOwner(c(2))).toEqual({ vehicleId: 'veh-2', status: 'revoked' });
    expect(() => revoked.withRegistered('veh-2', k(12), 6, c(2))).toThrow(/this CURVE key was revoked; generate a new one/);
    expect(revoked.withRegistered('veh-2', k(12), 6, c(12)).curveKeyOwner(c(12))).toEqual({ vehicleId: 'veh-2', status: 'active' });
    const dir = mkdtempSync(path.join(tmpdir(), 'fm-keys-'));
    const file = path.join(dir, 'fleet-keys.json');
    r.writeFile(file);
    expect(KeyRegistry.fromFile(file).curveKeyOwner(c(2))).toEqual({ vehicleId: 'veh-2', status: 'active' });
    const json = r.toJSON();
    json.vehicles['veh-3']!.curvePublicKeyZ85 = c(1);
    writeFileSync(file, JSON.stringify(json));
    expect(() => KeyRegistry.fromFile(file)).toThrow(/vehicle "veh-3": curvePublicKeyZ85 is already vehicle "veh-1"'s/);
  });

  it('refuses prototype names, temp names and paths as vehicle ids, in files too', () => {
    for (const id of ['__proto__', 'constructor', 'prototype', 'hasOwnProperty', 'toString', 'a.tmp-1', '..', '.']) {
      expect(() => KeyRegistry.empty().withRegistered(id, k(1), 1), id).toThrow(/vehicle id/);
    }
    const dir = mkdtempSync(path.join(tmpdir(), 'fm-keys-'));
    const file = path.join(dir, 'fleet-keys.json');
    const entry = { ed25519PublicKeyHex: rawPublicKey(k(1)).toString('hex'), curvePublicKeyZ85: null, status: 'active', registeredUnixMs: 1, revokedUnixMs: null };
    writeFileSync(file, `{"format":"fleetmap-vehicle-keys","version":1,"vehicles":{"__proto__":${JSON.stringify(entry)},"constructor":${JSON.stringify(entry)}}}`);
    expect(() => KeyRegistry.fromFile(file)).toThrow(/vehicle id "__proto__" is reserved.*vehicle id "constructor" is reserved/);
    writeFileSync(file, JSON.stringify({ 'veh-1': 'a'.repeat(64) }));
    expect(() => KeyRegistry.fromFile(file)).toThrow(/must have "format": "fleetmap-vehicle-keys", "version": 1/);
  });

  it('refuses to register an active vehicle again, or a revoked key; lets a revoked vehicle get a new key', () => {
    const r = KeyRegistry.empty().withRegistered('veh-1', k(1), 1);
    expect(() => r.withRegistered('veh-1', k(2), 2)).toThrow(/already registered and active/);
    const revoked = r.withRevoked('veh-1', 3);
    expect(() => revoked.withRegistered('veh-1', k(1), 4)).toThrow(/this key was revoked; generate a new one/);
    expect(revoked.withRegistered('veh-1', k(2), 4).entry('veh-1')).toMatchObject({ status: 'active', revokedUnixMs: null, registeredUnixMs: 4 });
    expect(() => revoked.withRevoked('veh-1', 5)).toThrow(/already revoked/);
  });
});
