import { execFileSync } from 'node:child_process';
import { pack } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { decodeSensorMessage } from './intake.ts';

const msg = (topic: string, payload: unknown): Buffer[] => [Buffer.from(topic), pack(payload)];

describe('decodeSensorMessage', () => {
  it('decodes every topic of the table', () => {
    expect(decodeSensorMessage(msg('vehicle', { tMonoNs: 1, speedMps: 3, yawRateRps: 0.1 }))).toMatchObject({ ok: true, topic: 'vehicle' });
    expect(decodeSensorMessage(msg('gnss', { tMonoNs: 1, tUnixMs: 2, fixType: 'none', lat: 0, lng: 0, horizontalAccuracyM: 0, courseRad: Number.NaN }))).toMatchObject({ ok: true });
    expect(decodeSensorMessage(msg('drive', { tMonoNs: 1, event: 'start', driveId: 'd' }))).toMatchObject({ ok: true });
    expect(decodeSensorMessage(msg('perception', { tMonoNs: 1, frameId: 3, observations: [{ cls: 'crosswalk', score: 0.5, pointsBody: [[1, 1], [2, 1], [2, 2]] }] }))).toMatchObject({ ok: true });
  });
  it('decodes a radar scan and refuses a malformed one, naming the field', () => {
    const scan = { tMonoNs: 5, scanId: 7, sensorXM: 3.8, sensorYM: 0, detections: [{ xM: 20, yM: -4, rangeRateMps: -9.5, rcsDbsm: 5 }] };
    expect(decodeSensorMessage(msg('radar', scan))).toMatchObject({ ok: true, topic: 'radar', payload: scan });
    expect(decodeSensorMessage(msg('radar', { ...scan, detections: [{ xM: 20, yM: Number.NaN, rangeRateMps: 0, rcsDbsm: 0 }] }))).toEqual({
      ok: false,
      code: 'bad_payload',
      message: 'radar: detections[0]: yM must be a number in [-250, 250], got null',
    });
    expect(decodeSensorMessage(msg('radar', { ...scan, scanId: -1 }))).toMatchObject({ ok: false, message: 'radar: scanId must be an integer >= 0, got -1' });
    expect(decodeSensorMessage(msg('radar', { ...scan, sensorXM: 40 }))).toMatchObject({ ok: false, message: 'radar: sensorXM must be a number in [-10, 10], got 40' });
    const many = Array.from({ length: 513 }, () => scan.detections[0]);
    expect(decodeSensorMessage(msg('radar', { ...scan, detections: many }))).toMatchObject({ ok: false, message: 'radar: 513 detections, the limit is 512' });
  });
  it('refuses bad messages with a code and an exact reason', () => {
    expect(decodeSensorMessage([Buffer.from('gnss')])).toMatchObject({ ok: false, code: 'bad_frames' });
    expect(decodeSensorMessage(msg('lidar', {}))).toMatchObject({ ok: false, code: 'unknown_topic' });
    expect(decodeSensorMessage([Buffer.from('vehicle'), Buffer.from([0x92, 0x01])])).toMatchObject({ ok: false, code: 'bad_msgpack' });
    expect(decodeSensorMessage(msg('vehicle', { tMonoNs: 1, speedMps: 'fast', yawRateRps: 0 }))).toEqual({ ok: false, code: 'bad_payload', message: 'vehicle: speedMps must be a number in [-100, 100], got "fast"' });
    expect(decodeSensorMessage(msg('perception', { tMonoNs: 1, frameId: 1, observations: [{ cls: 'traffic_sign', score: 1, pointsBody: [[1, 1], [2, 2]] }] }))).toMatchObject({
      ok: false,
      message: 'perception: observations[0]: traffic_sign needs 1 vertices, got 2',
    });
    expect(decodeSensorMessage(msg('perception', { tMonoNs: 1, frameId: 1, observations: [{ cls: 'stop_line', score: 2, pointsBody: [] }] }))).toMatchObject({ ok: false, code: 'bad_payload' });
  });
  it('reads 64-bit integers from standard encoders (Python msgpack writes uint64 above 2^32) as numbers', () => {
    // Python's msgpack, the encoder a sensor driver is likely to use: tUnixMs and tMonoNs are uint64 (0xcf).
    const script = [
      'import msgpack, sys',
      'g = {"tMonoNs": 5000000000123, "tUnixMs": 1767225600000, "fixType": "3d", "lat": 49.0, "lng": 8.4, "horizontalAccuracyM": 1.5, "courseRad": 0.5}',
      'sys.stdout.buffer.write(msgpack.packb(g))',
    ].join('\n');
    let bytes: Buffer;
    try {
      bytes = execFileSync('/usr/bin/python3', ['-c', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (e) {
      const why = String((e as { stderr?: Buffer }).stderr ?? '');
      throw new Error(why.includes("No module named 'msgpack'") ? 'python package msgpack (Debian python3-msgpack, scripts/install-os-deps.sh) is missing for /usr/bin/python3' : why.trim().split('\n').pop());
    }
    expect(bytes.includes(0xcf)).toBe(true); // really a uint64 on the wire
    const r = decodeSensorMessage([Buffer.from('gnss'), bytes]);
    expect(r).toMatchObject({ ok: true, topic: 'gnss', payload: { tMonoNs: 5_000_000_000_123, tUnixMs: 1_767_225_600_000 } });
    expect(typeof (r as { payload: { tUnixMs: unknown } }).payload.tUnixMs).toBe('number');
  });
  it('refuses a 64-bit integer that is not exactly representable, naming the field', () => {
    // {"tMonoNs": uint64 2^64 - 1, "speedMps": 0, "yawRateRps": 0}, built by hand.
    const bytes = Buffer.concat([
      Buffer.from([0x83, 0xa7]), Buffer.from('tMonoNs'), Buffer.from([0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]),
      Buffer.from([0xa8]), Buffer.from('speedMps'), Buffer.from([0x00]),
      Buffer.from([0xaa]), Buffer.from('yawRateRps'), Buffer.from([0x00]),
    ]);
    expect(decodeSensorMessage([Buffer.from('vehicle'), bytes])).toEqual({
      ok: false,
      code: 'bad_payload',
      message: 'vehicle: tMonoNs is the integer 18446744073709551615, beyond ±(2^53 - 1): not exactly representable as a number',
    });
    // 2^53 itself is exact: accepted as a number; 2^53 + 1 is not.
    const at = (n: bigint): Buffer => {
      const b = Buffer.alloc(9);
      b[0] = 0xcf;
      b.writeBigUInt64BE(n, 1);
      return Buffer.concat([Buffer.from([0x83, 0xa7]), Buffer.from('tMonoNs'), b, Buffer.from([0xa8]), Buffer.from('speedMps'), Buffer.from([0x00]), Buffer.from([0xaa]), Buffer.from('yawRateRps'), Buffer.from([0x00])]);
    };
    expect(decodeSensorMessage([Buffer.from('vehicle'), at(2n ** 53n)])).toMatchObject({ ok: true, payload: { tMonoNs: 2 ** 53 } });
    expect(decodeSensorMessage([Buffer.from('vehicle'), at(2n ** 53n + 1n)])).toMatchObject({ ok: false, code: 'bad_payload', message: expect.stringMatching(/^vehicle: tMonoNs is the integer 9007199254740993, beyond/) });
  });
});
