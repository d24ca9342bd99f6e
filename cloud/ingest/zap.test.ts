import { describe, expect, it } from 'vitest';
import { z85Decode } from '../../shared/curve.ts';
import { answerZap, type CurveKeyLookup } from './zap.ts';

const ACTIVE = 'rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7';
const REVOKED = 'Yne@$w-vo<fVvi]a<NY6T1ed:M$fCG*[IaLV{hID';
const UNKNOWN = 'D:)Q[IlAW!ahhC2ac:9*A}h:p?([4%wOTJ%JR%cs';
const lookup: CurveKeyLookup = (k) => (k === ACTIVE ? { vehicleId: 'veh-1', status: 'active' } : k === REVOKED ? { vehicleId: 'veh-2', status: 'revoked' } : undefined);

function request(o: { version?: string; mechanism?: string; credentials?: Buffer[] } = {}): Buffer[] {
  const head: Buffer[] = ['version' in o ? o.version! : '1.0', 'req-7', 'fleetmap-uplink', '10.1.2.3', '', o.mechanism ?? 'CURVE'].map((s) => Buffer.from(s));
  return [...head, ...(o.credentials ?? [])];
}
const text = (frames: Buffer[]): string[] => frames.map((f) => f.toString());

describe('answerZap (RFC 27)', () => {
  it('admits a registered, active vehicle key: 200, user id = vehicle id, the request id echoed', () => {
    const a = answerZap(request({ credentials: [z85Decode(ACTIVE)!] }), lookup);
    expect(text(a.reply)).toEqual(['1.0', 'req-7', '200', 'OK', 'veh-1', '']);
    expect(a.decision).toEqual({ admitted: true, vehicleId: 'veh-1', curvePublicKeyZ85: ACTIVE, address: '10.1.2.3' });
  });

  it('refuses an unknown key and a revoked vehicle key with 400 and no user id', () => {
    const u = answerZap(request({ credentials: [z85Decode(UNKNOWN)!] }), lookup);
    expect(text(u.reply)).toEqual(['1.0', 'req-7', '400', `CURVE key ${UNKNOWN} is not registered to any vehicle`, '', '']);
    expect(u.decision).toMatchObject({ admitted: false, code: 'unknown_curve_key', curvePublicKeyZ85: UNKNOWN, address: '10.1.2.3' });
    const r = answerZap(request({ credentials: [z85Decode(REVOKED)!] }), lookup);
    expect(text(r.reply).slice(2, 5)).toEqual(['400', `CURVE key ${REVOKED} belongs to vehicle "veh-2", which is revoked`, '']);
    expect(r.decision).toMatchObject({ admitted: false, code: 'revoked_vehicle', vehicleId: 'veh-2' });
  });

  it('refuses other mechanisms and malformed requests', () => {
    expect(answerZap(request({ mechanism: 'NULL' }), lookup).decision).toMatchObject({ admitted: false, code: 'bad_mechanism' });
    expect(text(answerZap(request({ mechanism: 'PLAIN', credentials: [Buffer.from('u'), Buffer.from('p')] }), lookup).reply)[2]).toBe('400');
    expect(text(answerZap(request({ version: '2.0', credentials: [z85Decode(ACTIVE)!] }), lookup).reply)[2]).toBe('500');
    expect(answerZap(request({ credentials: [Buffer.alloc(31)] }), lookup).decision).toMatchObject({ code: 'bad_request' });
    expect(answerZap(request({ credentials: [] }), lookup).decision).toMatchObject({ code: 'bad_request' });
    const short = answerZap([Buffer.from('1.0'), Buffer.from('x')], lookup);
    expect(text(short.reply)).toEqual(['1.0', 'x', '500', 'a ZAP request has at least 6 frames, got 2', '', '']);
    expect(answerZap([], lookup).reply).toHaveLength(6);
  });

  it('answers 500 when the registry lookup throws', () => {
    const a = answerZap(request({ credentials: [z85Decode(ACTIVE)!] }), () => {
      throw new Error('boom');
    });
    expect(text(a.reply)[2]).toBe('500');
    expect(a.decision).toMatchObject({ admitted: false, code: 'lookup_failed' });
  });
});
