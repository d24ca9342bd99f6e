/**
 * `fleetmap cloud health` against a known fleet state: the table (order, columns, escaping), the
 * JSON, the thresholds and the exit codes (0 fine, 3 trouble, 2 bad flags, 1 unreadable file).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { LocalDirStore } from '../store/index.ts';
import healthCli, { EXIT_TROUBLE } from './health-cli.ts';
import { FleetHealth, HEALTH_KEY, type FleetHealthSnapshot } from './health.ts';
import type { HealthReport } from './health-report.ts';

const NOW = 1_790_000_000_000;
const MIN = 60_000;
const STATUS = { oldestUnsentAgeS: 12, dropsByReason: {}, modelVersion: '1.0.0', hwProfile: 'x86-64', softwareVersion: '0.1.0' };

/** Six vehicles, one of each kind of trouble, two fine. */
function knownFleet(): FleetHealth {
  const h = new FleetHealth(undefined, ['veh-never']);
  const stored = (id: string, atMs: number, status: object = STATUS, seq = 1): void => h.recordStored(id, { seq, bytes: 2_000_000, observations: 10, queueDepth: 3, status }, atMs);
  stored('veh-ok', NOW - 1 * MIN);
  stored('veh-old-sw', NOW - 2 * MIN, { oldestUnsentAgeS: 5, dropsByReason: {}, hwProfile: 'jetson-orin', softwareVersion: '0.0.9' });
  stored('veh-silent', NOW - 120 * MIN);
  stored('veh-refused', NOW - 10 * MIN);
  h.recordRejected('seq_conflict', { vehicleId: 'veh-refused', authenticated: true }, NOW - 5 * MIN, 'seq_conflict: batch 1 of veh-refused is already stored with different contents');
  stored('veh-drops', NOW - 3 * MIN, { ...STATUS, dropsByReason: { outbox_full: 7 } });
  stored('veh-backlog', NOW - 1 * MIN, { ...STATUS, oldestUnsentAgeS: 7200 });
  h.recordRejected('bad_signature', { claimedSender: 'veh-ok' }, NOW - MIN); // a stranger: charged to nobody
  return h;
}

async function storeWith(bytes: Uint8Array | string): Promise<string> {
  const dir = mkdtempSync(path.join(tmpdir(), 'fm-health-cli-'));
  await new LocalDirStore(dir).put(HEALTH_KEY, typeof bytes === 'string' ? Buffer.from(bytes) : bytes);
  return dir;
}

async function cli(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await healthCli(argv, { out: (t) => out.push(t), err: (t) => err.push(t), nowUnixMs: () => NOW });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('fleetmap cloud health: a known fleet', () => {
  it('prints the table most troubled first, says why, and exits 3', async () => {
    const dir = await storeWith(knownFleet().toBytes());
    const r = await cli(['--store', dir]);
    expect(r.code).toBe(EXIT_TROUBLE);
    expect(r.err).toBe('');
    const lines = r.out.split('\n');
    expect(lines[0]).toMatch(/^vehicle\s+trouble\s+last seen\s+oldest unsent\s+queue\s+MB\/24h\s+drops\s+refused\s+model\s+hw-profile\s+software\s+stored$/);
    const rows = lines.slice(2, 9).map((l) => l.split(/\s{2,}/));
    expect(rows.map((c) => c[0])).toEqual(['veh-never', 'veh-silent', 'veh-refused', 'veh-drops', 'veh-backlog', 'veh-old-sw', 'veh-ok']);
    expect(rows.map((c) => c[1])).toEqual(['silent', 'silent', 'refused', 'drops', 'backlog', '-', '-']);
    expect(rows[0]).toEqual(['veh-never', 'silent', 'never', '-', '-', '0.00', '-', '-', '-', '-', '-', '0']);
    expect(rows[2]).toEqual(['veh-refused', 'refused', '5m ago', '12s', '3', '2.00', '-', 'seq_conflict:1', '1.0.0', 'x86-64', '0.1.0', '1']);
    expect(rows[3]).toEqual(['veh-drops', 'drops', '3m ago', '12s', '3', '2.00', 'outbox_full:7', '-', '1.0.0', 'x86-64', '0.1.0', '1']);
    expect(rows[4]![3]).toBe('2h'); // backlog: oldest unsent as reported
    expect(rows[5]).toEqual(['veh-old-sw', '-', '2m ago', '5s', '3', '2.00', '-', '-', '-', 'jetson-orin', '0.0.9', '1']);
    expect(r.out).toContain('5 of 7 vehicles in trouble (silent after 30m, backlog over 60m, drops and refusals within 24h)');
    expect(r.out).toContain('  veh-silent: silent: last seen 2h ago (over 30m)');
    expect(r.out).toContain('  veh-refused: refused: 1 refused in all, the last 5m ago\n    last refusal: "seq_conflict: batch 1 of veh-refused is already stored with different contents"');
    expect(r.out).toContain('  veh-drops: drops: 7 dropped on the vehicle, the count went up 3m ago');
    expect(r.out).toContain('  veh-backlog: backlog: oldest unsent data 2h old (over 60m)');
    expect(r.out).toContain('unattributed rejections: bad_signature:1; recent unauthenticated senders: "veh-ok"');
  });

  it('--json: the same judgement for scripts, sorted the same way', async () => {
    const dir = await storeWith(knownFleet().toBytes());
    const r = await cli(['--store', dir, '--json']);
    expect(r.code).toBe(EXIT_TROUBLE);
    const rep = JSON.parse(r.out) as HealthReport;
    expect(rep).toMatchObject({ format: 'fleetmap-health-report', version: 1, nowUnixMs: NOW, vehiclesInTrouble: 5, thresholds: { silentAfterS: 1800, maxOldestUnsentS: 3600, recentS: 86_400 } });
    expect(rep.vehicles.map((v) => [v.vehicleId, v.trouble.map((t) => t.code)])).toEqual([
      ['veh-never', ['silent']],
      ['veh-silent', ['silent']],
      ['veh-refused', ['refused']],
      ['veh-drops', ['drops']],
      ['veh-backlog', ['backlog']],
      ['veh-old-sw', []],
      ['veh-ok', []],
    ]);
    expect(rep.vehicles[2]).toMatchObject({ rejected: { seq_conflict: 1 }, lastRejectedUnixMs: NOW - 5 * MIN, lastQueueDepth: 3, bytesLast24h: 2_000_000, modelVersion: '1.0.0', hwProfile: 'x86-64', softwareVersion: '0.1.0' });
    expect(rep.unattributed.rejected).toEqual({ bad_signature: 1 });
  });

  it('thresholds move the judgement; exit 0 once nobody is in trouble', async () => {
    const dir = await storeWith(knownFleet().toBytes());
    const lenient = await cli(['--store', dir, '--json', '--silent-after-s', '9000', '--max-oldest-unsent-s', '7200', '--recent-s', '60']);
    expect((JSON.parse(lenient.out) as HealthReport).vehicles.filter((v) => v.trouble.length > 0).map((v) => v.vehicleId)).toEqual(['veh-never']);
    expect(lenient.code).toBe(EXIT_TROUBLE);
    const h = new FleetHealth();
    h.recordStored('veh-ok', { seq: 1, bytes: 1, observations: 1, queueDepth: 0, status: STATUS }, NOW - MIN);
    const fine = await cli(['--store', await storeWith(h.toBytes())]);
    expect(fine.code).toBe(0);
    expect(fine.out).toContain('0 of 1 vehicles in trouble');
    // the same fleet judged two hours later (--now-unix-ms): silent
    const later = await cli(['--store', await storeWith(h.toBytes()), '--now-unix-ms', String(NOW + 120 * MIN)]);
    expect(later.code).toBe(EXIT_TROUBLE);
  });

  it('bad flags exit 2, an unreadable file exits 1: one line each', async () => {
    const dir = await storeWith(knownFleet().toBytes());
    for (const argv of [['--store', dir, '--silent-after-s', 'soon'], ['--store', dir, '--recent-s', '-1'], ['--store', dir, '--bogus'], []]) {
      const r = await cli(argv);
      expect(r.code, argv.join(' ')).toBe(2);
      expect(r.err.split('\n')).toHaveLength(1);
      expect(r.out).toBe('');
    }
    expect((await cli(['--store', dir, '--silent-after-s', 'soon'])).err).toBe('fleetmap cloud health: --silent-after-s must be a non-negative number, got "soon" (fleetmap cloud health --help for usage)');
    const broken = await cli(['--store', await storeWith('{"schemaVersion": 2}')]);
    expect(broken).toMatchObject({ code: 1, out: '', err: 'fleetmap cloud health: health/fleet.json: schemaVersion must be 1, got 2' });
    const help = await cli(['--help']);
    expect(help.code).toBe(0);
    expect(help.out).toContain(`${EXIT_TROUBLE} at least one vehicle in trouble`);
  });

  it('escapes what a vehicle or a file put in every new column', async () => {
    const snap = JSON.parse(knownFleet().toBytes().toString('utf8')) as FleetHealthSnapshot;
    const v = snap.vehicles['veh-refused']!;
    v.modelVersion = '\u001b[2J\u001b[Hall good';
    v.hwProfile = 'evil\u202etxt';
    v.softwareVersion = '1.0\nveh-x  -  0s ago';
    v.dropsByReason = { 'out\u0007box': 1 };
    v.lastRejectedReason = 'seq_conflict: "quoted"\u001b]0;pwned\u0007';
    const r = await cli(['--store', await storeWith(JSON.stringify(snap))]);
    // eslint-disable-next-line no-control-regex
    expect(r.out).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202e]/);
    expect(r.out).toContain('\\x1b[2J\\x1b[Hall good');
    expect(r.out).toContain('evil\\u{202e}txt');
    expect(r.out).toContain('1.0\\x0aveh-x  -  0s ago');
    expect(r.out).toContain('out\\x07box:1');
    expect(r.out).toContain('last refusal: "seq_conflict: \\x22quoted\\x22\\x1b]0;pwned\\x07"');
    expect(r.out.split('\n').filter((l) => l.startsWith('veh-x'))).toHaveLength(0);
  });
});
