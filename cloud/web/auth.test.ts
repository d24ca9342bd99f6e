import { describe, expect, it } from 'vitest';
import { authorise, checkBindPolicy, cookieValue, isLoopbackHost, parseListen, tokenMatches } from './auth.ts';
import { hostOf } from './server.ts';

const T = 'a-token-of-16-chars-or-more';

describe('web access', () => {
  it('compares tokens exactly', () => {
    expect(tokenMatches(T, T)).toBe(true);
    expect(tokenMatches(T, `${T}x`)).toBe(false);
    expect(tokenMatches(T, T.slice(0, -1))).toBe(false);
    expect(tokenMatches(T, undefined)).toBe(false);
    expect(tokenMatches(T, '')).toBe(false);
  });

  it('takes the token from the Authorization header, ?token= or the cookie, and says which', () => {
    expect(authorise(T, { authorization: `Bearer ${T}` })).toBe('header');
    expect(authorise(T, { authorization: `bearer  ${T} ` })).toBe('header');
    expect(authorise(T, { authorization: `Basic ${T}` })).toBeUndefined();
    expect(authorise(T, { query: T })).toBe('query');
    expect(authorise(T, { cookie: `a=b; fleetmap_token=${T}; c=d` })).toBe('cookie');
    expect(authorise(T, { cookie: `fleetmap_tokenx=${T}` })).toBeUndefined();
    expect(authorise(T, { authorization: 'Bearer wrong', query: 'wrong', cookie: 'fleetmap_token=wrong' })).toBeUndefined();
    expect(cookieValue(undefined, 'x')).toBeUndefined();
  });

  it('parses --listen and knows loopback from the rest', () => {
    expect(parseListen('127.0.0.1:8080')).toEqual({ host: '127.0.0.1', port: 8080 });
    expect(parseListen('[::1]:0')).toEqual({ host: '::1', port: 0 });
    expect(parseListen(':9000')).toEqual({ host: '127.0.0.1', port: 9000 });
    expect(() => parseListen('8080')).toThrow(/HOST:PORT/);
    expect(() => parseListen('host:70000')).toThrow(/HOST:PORT/);
    for (const h of ['127.0.0.1', '127.1.2.3', '::1', 'localhost', '::ffff:127.0.0.1']) expect(isLoopbackHost(h), h).toBe(true);
    for (const h of ['0.0.0.0', '::', '10.0.0.1', '128.0.0.1', 'example.com', '']) expect(isLoopbackHost(h), h).toBe(false);
    expect(hostOf('127.0.0.1:8080')).toBe('127.0.0.1');
    expect(hostOf('[::1]:8080')).toBe('::1');
    expect(hostOf('evil.example')).toBe('evil.example');
  });

  it('refuses to bind anything but loopback without a token', () => {
    expect(() => checkBindPolicy({ host: '0.0.0.0', port: 80 }, undefined)).toThrow(/without --token-file/);
    expect(() => checkBindPolicy({ host: '0.0.0.0', port: 80 }, T)).not.toThrow();
    expect(() => checkBindPolicy({ host: '127.0.0.1', port: 80 }, undefined)).not.toThrow();
  });
});
