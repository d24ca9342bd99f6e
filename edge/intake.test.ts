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
  it('refuses bad messages with a code and an exact reason', () => {
    expect(decodeSensorMessage([Buffer.from('gnss')])).toMatchObject({ ok: false, code: 'bad_frames' });
    expect(decodeSensorMessage(msg('radar', {}))).toMatchObject({ ok: false, code: 'unknown_topic' });
    expect(decodeSensorMessage([Buffer.from('vehicle'), Buffer.from([0x92, 0x01])])).toMatchObject({ ok: false, code: 'bad_msgpack' });
    expect(decodeSensorMessage(msg('vehicle', { tMonoNs: 1, speedMps: 'fast', yawRateRps: 0 }))).toEqual({ ok: false, code: 'bad_payload', message: 'vehicle: speedMps must be a number in [-100, 100], got "fast"' });
    expect(decodeSensorMessage(msg('perception', { tMonoNs: 1, frameId: 1, observations: [{ cls: 'traffic_sign', score: 1, pointsBody: [[1, 1], [2, 2]] }] }))).toMatchObject({
      ok: false,
      message: 'perception: observations[0]: traffic_sign needs 1 vertices, got 2',
    });
    expect(decodeSensorMessage(msg('perception', { tMonoNs: 1, frameId: 1, observations: [{ cls: 'stop_line', score: 2, pointsBody: [] }] }))).toMatchObject({ ok: false, code: 'bad_payload' });
  });
});
