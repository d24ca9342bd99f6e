import { describe, expect, it } from 'vitest';
import * as zmq from 'zeromq';
import { isZ85Key, z85Decode, z85Encode } from './curve.ts';
import { isLoopbackEndpoint } from './endpoint.ts';

describe('z85', () => {
  it('matches the RFC 32 test vector and round-trips libzmq keys', () => {
    const bytes = Buffer.from([0x86, 0x4f, 0xd2, 0x6f, 0xb5, 0x59, 0xf7, 0x5b]);
    expect(z85Encode(bytes)).toBe('HelloWorld');
    expect(z85Decode('HelloWorld')).toEqual(bytes);
    const kp = zmq.curveKeyPair();
    expect(z85Encode(z85Decode(kp.publicKey)!)).toBe(kp.publicKey);
    expect(isZ85Key(kp.publicKey)).toBe(true);
  });

  it('refuses what is not a key', () => {
    expect(z85Decode('#####')).toBeUndefined(); // 84 * (85^4 + ... + 1) > 2^32 - 1
    expect(z85Decode('abc')).toBeUndefined();
    expect(z85Decode('abcd~')).toBeUndefined();
    expect(isZ85Key('#'.repeat(40))).toBe(false);
    expect(isZ85Key('a'.repeat(39))).toBe(false);
  });
});

describe('isLoopbackEndpoint', () => {
  it.each([
    ['tcp://127.0.0.1:5700', true],
    ['tcp://127.0.0.1:*', true],
    ['tcp://127.1.2.3:5700', true],
    ['tcp://localhost:5700', true],
    ['tcp://[::1]:5700', true],
    ['tcp://10.0.0.1;127.0.0.1:5700', true],
    ['ipc:///run/fleetmap/ingest.sock', true],
    ['inproc://ingest', true],
    ['tcp://0.0.0.0:5700', false],
    ['tcp://*:5700', false],
    ['tcp://10.0.0.5:5700', false],
    ['tcp://ingest.example:5700', false],
    ['tcp://127.0.0.1.example:5700', false],
    ['tcp://[::]:5700', false],
    ['tcp://eth0:5700', false],
    ['udp://127.0.0.1:5700', false],
    ['127.0.0.1:5700', false],
  ])('%s -> %s', (endpoint, loopback) => {
    expect(isLoopbackEndpoint(endpoint)).toBe(loopback);
  });
});
