/**
 * The ZAP handler socket (RFC 27): a ROUTER bound to inproc://zeromq.zap.01 in zeromq.js's global
 * context, the one the ingest's uplink ROUTER lives in, so libzmq asks it about every CURVE
 * handshake on that socket (zapDomain set). Each request is answered by `answerZap` (zap.ts)
 * against the live registry (`lookup` is called per request: the registry watcher's current
 * registry, freshly stat'ed), and every decision goes to `onDecision` (logged and counted by the
 * caller). Bind it BEFORE the uplink socket binds, or early handshakes would find no handler.
 */
import * as zmq from 'zeromq';
import { answerZap, ZAP_ENDPOINT, type CurveKeyLookup, type ZapDecision } from './zap.ts';

export interface ZapHandler {
  /** Stop answering and close the socket. */
  close(): Promise<void>;
}

export async function startZapHandler(o: { lookup: CurveKeyLookup; onDecision: (d: ZapDecision) => void; onError?: (e: Error) => void }): Promise<ZapHandler> {
  const sock = new zmq.Router({ linger: 0 });
  await sock.bind(ZAP_ENDPOINT);
  const loop = (async () => {
    try {
      for await (const frames of sock) {
        // [libzmq's REQ peer id, "", request frames...]
        const [peer, delimiter, ...request] = frames;
        const { reply, decision } = answerZap(request, o.lookup);
        o.onDecision(decision);
        await sock.send([peer!, delimiter ?? Buffer.alloc(0), ...reply]);
      }
    } catch (e) {
      if (!sock.closed) o.onError?.(e as Error);
    }
  })();
  return {
    async close() {
      if (!sock.closed) sock.close();
      await loop;
    },
  };
}
