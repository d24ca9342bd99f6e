import { describe, expect, it } from 'vitest';
import { joinDashValues, parseCliArgs, parseCommand, type CommandIo } from './cli-args.ts';

/** A CURVE public key (Z85, 40 chars) that starts with '-': about 1 key in 85 does. */
const KEY = '-Kx7e9ZC.+w1=Ex2?p0NAs>vY$jrm(bH3g8Wq&Ld';

const options = {
  'ingest-curve-public-key': { type: 'string' },
  store: { type: 'string', short: 's' },
  json: { type: 'boolean' },
} as const;

describe('parseCliArgs', () => {
  it('takes a value starting with "-" after a value-taking flag (node parseArgs calls it ambiguous)', () => {
    expect(KEY).toHaveLength(40);
    const { values } = parseCliArgs({ args: ['--ingest-curve-public-key', KEY, '--json'], options, strict: true, allowPositionals: false });
    expect(values).toEqual({ 'ingest-curve-public-key': KEY, json: true });
  });
  it('takes --flag=VALUE and short flags the same way', () => {
    expect(parseCliArgs({ args: [`--ingest-curve-public-key=${KEY}`], options, strict: true }).values).toEqual({ 'ingest-curve-public-key': KEY });
    expect(parseCliArgs({ args: ['-s', '-odd-dir'], options, strict: true }).values).toEqual({ store: '-odd-dir' });
    expect(parseCliArgs({ args: ['--store', '--json'], options, strict: true }).values).toEqual({ store: '--json' }); // getopt's rule
  });
  it('still reports a missing value, unknown flags, and leaves booleans and "--" alone', () => {
    expect(() => parseCliArgs({ args: ['--store'], options, strict: true })).toThrow(/argument missing/);
    expect(() => parseCliArgs({ args: ['--nope', 'x'], options, strict: true })).toThrow(/Unknown option '--nope'/);
    expect(joinDashValues(['--json', '-x', '--', '--store', '-y'], options)).toEqual(['--json', '-x', '--', '--store', '-y']);
    expect(joinDashValues(['--store', 'plain', '--store', '-dash'], options)).toEqual(['--store', 'plain', '--store=-dash']);
  });
});

describe('parseCommand', () => {
  const HELP = 'usage: fleetmap thing --store DIR';
  const run = (args: string[]) => {
    const lines: { out: string[]; err: string[] } = { out: [], err: [] };
    const io: CommandIo = { out: (t) => lines.out.push(t), err: (t) => lines.err.push(t) };
    const r = parseCommand('fleetmap thing', HELP, { args, options: { ...options, help: { type: 'boolean', short: 'h' } }, strict: true, allowPositionals: false }, io);
    return { r, ...lines };
  };
  it('returns the flags when the command should run', () => {
    const { r, out, err } = run(['--store', 'd', '--json']);
    expect(typeof r === 'number' ? r : r.values).toEqual({ store: 'd', json: true });
    expect([out, err]).toEqual([[], []]);
  });
  it('prints the help and exits 0 on --help or -h', () => {
    for (const a of ['--help', '-h']) expect(run(['--store', 'd', a])).toEqual({ r: 0, out: [HELP], err: [] });
  });
  it('prints one usage line and exits 2 on a flag it refuses: a newline flattened, control characters escaped', () => {
    const { r, out, err } = run(['--no\nsuch\x1b[2J']);
    expect(r).toBe(2);
    expect(out).toEqual([]);
    expect(err).toHaveLength(1);
    expect(err[0]).toMatch(/^fleetmap thing: Unknown option '--no such\\x1b\[2J'.* \(fleetmap thing --help for usage\)$/);
    expect(err[0]).not.toMatch(/[\u0000-\u001f]/);
    expect(run(['stray']).r).toBe(2);
  });
});
