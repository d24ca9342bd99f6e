/**
 * ZAP (ZeroMQ Authentication Protocol, RFC 27) for the uplink: which CURVE clients may complete
 * the handshake. Pure: request frames in, reply frames and the decision out; the socket loop is
 * zap-handler.ts.
 *
 * Request (after the REQ envelope): version "1.0", request id, domain, address, identity,
 * mechanism, credentials... For CURVE the one credential is the client's 32-byte long-term public
 * key. Reply: version "1.0", the request id, status code ("200" admitted, "400" refused, "500"
 * a request we cannot read), status text, user id (the vehicle id when admitted), metadata (empty).
 *
 * Admitted: mechanism CURVE and a public key registered to a vehicle whose status is active
 * (cloud/ingest/keys.ts `curveKeyOwner`). Everything else (NULL or PLAIN, an unknown key, a
 * revoked vehicle's key) is refused, with a reason for the log.
 */
import { z85Encode } from '../../shared/curve.ts';
import type { KeyStatus } from './keys.ts';

export const ZAP_ENDPOINT = 'inproc://zeromq.zap.01';
export const ZAP_VERSION = '1.0';
/** The ZAP domain set on the ingest's ROUTER (zapDomain). */
export const ZAP_DOMAIN = 'fleetmap-uplink';

/** Who holds a CURVE public key (z85): the registry's `curveKeyOwner`. */
export type CurveKeyLookup = (curvePublicKeyZ85: string) => { vehicleId: string; status: KeyStatus } | undefined;

export type ZapRefusal = 'bad_request' | 'bad_mechanism' | 'unknown_curve_key' | 'revoked_vehicle' | 'lookup_failed';

export type ZapDecision =
  | { admitted: true; vehicleId: string; curvePublicKeyZ85: string; address: string }
  | { admitted: false; code: ZapRefusal; reason: string; address: string; vehicleId?: string; curvePublicKeyZ85?: string };

export interface ZapAnswer {
  /** Frames to send back (without the REQ envelope). */
  reply: Buffer[];
  decision: ZapDecision;
}

/** Answer one ZAP request (`frames`: version, request id, domain, address, identity, mechanism, credentials...). */
export function answerZap(frames: readonly Buffer[], lookup: CurveKeyLookup): ZapAnswer {
  const requestId = frames[1] ?? Buffer.alloc(0);
  const address = frames.length > 3 ? printable(frames[3]!) : '';
  const reply = (code: '200' | '400' | '500', text: string, userId = ''): Buffer[] => [Buffer.from(ZAP_VERSION), requestId, Buffer.from(code), Buffer.from(text), Buffer.from(userId), Buffer.alloc(0)];
  const refuse = (code: ZapRefusal, reason: string, status: '400' | '500' = '400', extra: { vehicleId?: string; curvePublicKeyZ85?: string } = {}): ZapAnswer => ({
    reply: reply(status, reason),
    decision: { admitted: false, code, reason, address, ...extra },
  });
  if (frames.length < 6) return refuse('bad_request', `a ZAP request has at least 6 frames, got ${frames.length}`, '500');
  const version = frames[0]!.toString('latin1');
  if (version !== ZAP_VERSION) return refuse('bad_request', `ZAP version ${JSON.stringify(printable(frames[0]!))}, expected ${ZAP_VERSION}`, '500');
  const mechanism = frames[5]!.toString('latin1');
  if (mechanism !== 'CURVE') return refuse('bad_mechanism', `mechanism ${JSON.stringify(printable(frames[5]!))}: only CURVE is admitted`);
  const credentials = frames.slice(6);
  if (credentials.length !== 1 || credentials[0]!.length !== 32) return refuse('bad_request', `CURVE credentials must be one 32-byte public key, got ${credentials.length} frame(s)`, '500');
  const key = z85Encode(credentials[0]!);
  let owner;
  try {
    owner = lookup(key);
  } catch (e) {
    return refuse('lookup_failed', `registry lookup failed: ${(e as Error).message}`, '500', { curvePublicKeyZ85: key });
  }
  if (!owner) return refuse('unknown_curve_key', `CURVE key ${key} is not registered to any vehicle`, '400', { curvePublicKeyZ85: key });
  if (owner.status !== 'active') return refuse('revoked_vehicle', `CURVE key ${key} belongs to vehicle ${JSON.stringify(owner.vehicleId)}, which is revoked`, '400', { vehicleId: owner.vehicleId, curvePublicKeyZ85: key });
  return { reply: reply('200', 'OK', owner.vehicleId), decision: { admitted: true, vehicleId: owner.vehicleId, curvePublicKeyZ85: key, address } };
}

/** At most 64 printable ASCII characters of a frame, for logs. */
function printable(b: Buffer): string {
  return b.subarray(0, 64).toString('latin1').replace(/[^\x20-\x7e]/g, '?');
}
