/**
 * Who may read the page: nobody else than the local machine by default (the service binds
 * 127.0.0.1), and whoever holds the token when a token is configured (required for any other bind).
 *
 * A request carries the token as `Authorization: Bearer <token>` (scripts), `?token=<token>` (the
 * link an operator opens), or the `fleetmap_token` cookie the service sets on a good `?token=`
 * (so the page's own requests, MapLibre's tiles and its worker module, carry it without the token
 * showing in every URL). Tokens are compared in constant time (sha256 of both, timingSafeEqual).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { UsageError } from '../../shared/cli-errors.ts';

export const TOKEN_COOKIE = 'fleetmap_token';
/** Tokens are cookie-safe printable characters, long enough not to be guessed. */
const TOKEN_RE = /^[A-Za-z0-9._~+/=-]{16,256}$/;

/** Reads a token file (one line; surrounding whitespace ignored). Throws UsageError naming the file. */
export function readTokenFile(file: string): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new UsageError(`--token-file ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  const token = text.trim();
  if (!TOKEN_RE.test(token)) throw new UsageError(`--token-file ${file}: the token must be 16-256 characters of [A-Za-z0-9._~+/=-] on one line`);
  return token;
}

/** True when `given` equals `expected`, in time independent of where they differ. */
export function tokenMatches(expected: string, given: string | undefined): boolean {
  if (given === undefined) return false;
  const a = createHash('sha256').update(expected).digest();
  const b = createHash('sha256').update(given).digest();
  return timingSafeEqual(a, b) && given.length === expected.length;
}

export interface TokenSources {
  authorization?: string | undefined;
  /** The `token` query parameter. */
  query?: string | undefined;
  cookie?: string | undefined;
}

/** Which source authenticated the request, or undefined (refuse). */
export function authorise(expected: string, s: TokenSources): 'header' | 'query' | 'cookie' | undefined {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(s.authorization ?? '');
  if (m && tokenMatches(expected, m[1])) return 'header';
  if (s.query !== undefined && tokenMatches(expected, s.query)) return 'query';
  const c = cookieValue(s.cookie, TOKEN_COOKIE);
  if (c !== undefined && tokenMatches(expected, c)) return 'cookie';
  return undefined;
}

export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === name) return part.slice(i + 1).trim();
  }
  return undefined;
}

export interface ListenAddress {
  host: string;
  port: number; // TCP port; 0 = any free one
}

/** "HOST:PORT", "[v6]:PORT" or ":PORT" (= 127.0.0.1). Throws UsageError. */
export function parseListen(s: string): ListenAddress {
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(s);
  const port = m ? Number(m[3]) : NaN;
  if (!m || !(port >= 0 && port <= 65535)) throw new UsageError(`--listen must be HOST:PORT (e.g. 127.0.0.1:8080, [::1]:8080), got ${JSON.stringify(s)}`);
  const host = m[1] ?? (m[2] || '127.0.0.1');
  if (m[1] !== undefined && isIP(host) !== 6) throw new UsageError(`--listen: ${JSON.stringify(host)} is not an IPv6 address`);
  return { host, port };
}

/** 127.0.0.0/8, ::1, ::ffff:127.x, localhost. */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase();
  if (h === 'localhost' || h === '::1') return true;
  const v4 = h.startsWith('::ffff:') ? h.slice(7) : h;
  return isIP(v4) === 4 && v4.startsWith('127.');
}

/** Refuses a non-loopback bind without a token (UsageError). */
export function checkBindPolicy(listen: ListenAddress, token: string | undefined): void {
  if (token === undefined && !isLoopbackHost(listen.host)) {
    throw new UsageError(`refusing to listen on ${listen.host} without --token-file: the page is open to anyone who can reach it (bind 127.0.0.1, or give a token)`);
  }
}
