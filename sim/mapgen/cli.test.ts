import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { main, parseArgs } from './cli.ts';
import { generateMap } from './index.ts';

describe('mapgen cli', () => {
  afterEach(() => vi.restoreAllMocks());

  it('parses all flags', () => {
    const { options, out } = parseArgs(['--seed', '9', '--layout', 'roundabout', '--traffic-side', 'left', '--origin-lat', '51.5', '--origin-lng', '-0.12', '--out', 'x.osm']);
    expect(out).toBe('x.osm');
    expect(options).toEqual({ seed: 9, layout: 'roundabout', trafficSide: 'left', originLat: 51.5, originLng: -0.12 });
    const paint = parseArgs(['--seed', '9', '--crosswalks', 'stripes', '--stop-lines', 'spanning', '--out', 'x.osm']).options;
    expect(paint).toEqual({ seed: 9, layout: 'mixed', trafficSide: 'right', crosswalkStyle: 'stripes', stopLineStyle: 'spanning' });
  });

  it('writes the same map as generateMap', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mapgen-'));
    try {
      const file = join(dir, 'm.osm');
      vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
      expect(main(['--seed', '2', '--layout', 'grid', '--out', file])).toBe(0);
      expect(readFileSync(file, 'utf8')).toBe(generateMap({ seed: 2, layout: 'grid' }).osmXml);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.each([
    [['--layout', 'grid', '--out', 'x.osm'], /--seed is required/],
    [['--seed', 'abc', '--out', 'x.osm'], /--seed must be an integer, got "abc"/],
    [['--seed', '1', '--layout', 'spiral', '--out', 'x.osm'], /--layout must be one of .* got "spiral"/],
    [['--seed', '1', '--traffic-side', 'up', '--out', 'x.osm'], /--traffic-side must be right\|left, got "up"/],
    [['--seed', '1'], /--out is required/],
    [['--seed', '1', '--out'], /--out needs a value/],
    [['--seed', '1', '--bogus', '2', '--out', 'x.osm'], /unknown argument "--bogus"/],
    [['--seed', '1', '--origin-lat', '95', '--out', 'x.osm'], /originLat must be in \[-80, 80\] degrees, got 95/],
    [['--seed', '1', '--crosswalks', 'dots', '--out', 'x.osm'], /crosswalkStyle must be one of .*got "dots"/],
  ])('exits 2 with one error line on bad usage %j', (argv, message) => {
    const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    expect(main(argv)).toBe(2);
    expect(err).toHaveBeenCalledTimes(1);
    const line = String(err.mock.calls[0]![0]);
    expect(line).toMatch(message);
    expect(line.trimEnd().split('\n')).toHaveLength(1);
  });
});
