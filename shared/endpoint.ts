/**
 * ZeroMQ endpoints: is one loopback (the only place the uplink may run without CURVE, for
 * development: `--insecure-no-curve`)? Loopback: tcp:// to 127.0.0.0/8, ::1 or localhost;
 * ipc:// and inproc:// (never leave the machine). Anything else (a name, 0.0.0.0, *, an interface
 * name, another address) is not.
 */
import { isIP } from 'node:net';

export function isLoopbackEndpoint(endpoint: string): boolean {
  const m = /^([a-z]+):\/\/(.+)$/.exec(endpoint);
  if (!m) return false;
  const [, transport, rest] = m;
  if (transport === 'ipc' || transport === 'inproc') return true;
  if (transport !== 'tcp') return false;
  // tcp://[source;]host:port; a source address (connect side) is ignored, the host decides
  const target = rest!.includes(';') ? rest!.slice(rest!.lastIndexOf(';') + 1) : rest!;
  let host: string;
  const bracketed = /^\[([^\]]+)\]:[^:]+$/.exec(target);
  if (bracketed) host = bracketed[1]!;
  else {
    const i = target.lastIndexOf(':');
    if (i <= 0) return false;
    host = target.slice(0, i);
  }
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.split('.')[0] === '127';
  if (isIP(host) === 6) return host === '::1' || /^(0{0,4}:){7}0{0,3}1$/.test(host) || host === '0:0:0:0:0:0:0:1';
  return false;
}
