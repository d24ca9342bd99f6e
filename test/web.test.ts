/**
 * The web page in a real browser: Debian's chromium (playwright-core, headless, kept off the
 * network) against the real service on loopback, with a store made by a simulated fleet (the
 * merge's synthetic world: 6 drives, a merge, 6 more drives with one divider painted over, a
 * second merge) and its health as the ingest's own FleetHealth records it, one vehicle silent
 * for hours.
 *
 * Screenshots: out/screenshots/web-*.png.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_TROUBLE_THRESHOLDS, FleetHealth, HEALTH_KEY } from '../cloud/ingest/health.ts';
import { runMerge } from '../cloud/merge/index.ts';
import { readStoredBatch } from '../cloud/merge/stored-batch.ts';
import { simulateFleet, syntheticWorld, writeBatches } from '../cloud/merge/synthetic.ts';
import { LocalDirStore } from '../cloud/store/index.ts';
import { DEFAULT_WEB_OPTIONS, startWebServer, type WebServer } from '../cloud/web/server.ts';
import { MemoryLogger } from '../shared/log.ts';
import { REPO } from './helpers.ts';
import { launchChromium } from './support/chromium.ts';

// The functions passed to page.evaluate run in the browser; this project compiles without the DOM lib.
declare const window: any;
declare const document: any;
declare const Image: any;
type HTMLElement = { dataset: Record<string, string | undefined> };

const SHOTS = path.join(REPO, 'out', 'screenshots');
const T0 = Date.UTC(2026, 0, 5, 8);
const DAY = 86_400_000;
const TOKEN = 'test-token-0123456789abcdef';
const HOSTILE_SENDER = '<img src=x onerror="window.pwned=1">';
const HOSTILE_CODE = '<b id="injected">x</b>';

interface Expected {
  batches: number;
  bytes: number;
  observations: number;
  lastSeq: number;
}

describe('fleetmap cloud web, in chromium', () => {
  let dir: string;
  let browser: Browser;
  let web: WebServer;
  let secured: WebServer;
  const expected = new Map<string, Expected>();
  let silentVehicle = '';

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'fm-web-'));
    const store = new LocalDirStore(dir);
    const world = syntheticWorld();
    await writeBatches(store, simulateFleet(world, { drives: 6, seed: 11, startUnixMs: T0 }).observations, 50, 1);
    await runMerge(store, { nowUnixMs: () => T0 + DAY });
    // a month later: the left divider painted over, a new stop line painted
    const later = { ...world, lines: [...world.lines, { id: 'new_stop', cls: 'stop_line' as const, points: acrossRightLanes(-100) }] };
    await writeBatches(store, simulateFleet(later, { drives: 6, seed: 12, startUnixMs: T0 + 30 * DAY, without: ['div_left'], driveIdPrefix: 'later' }).observations, 50, 1);
    await runMerge(store, { nowUnixMs: () => T0 + 31 * DAY });

    // Health as the ingest records it: every stored batch, at the time it arrived. One vehicle
    // last uploaded three hours ago (silent), the others a minute ago.
    const health = new FleetHealth();
    const keys = await store.list('batches/');
    silentVehicle = keys[0]!.split('/')[1]!;
    const now = Date.now();
    for (const key of keys) {
      const bytes = (await store.get(key))!;
      const { batch } = readStoredBatch(key, bytes);
      const at = batch.vehicleId === silentVehicle ? now - 3 * 3_600_000 : now - 60_000;
      health.recordStored(batch.vehicleId, { seq: batch.seq, bytes: bytes.length, observations: batch.observations.length, queueDepth: 0 }, at);
      const e = expected.get(batch.vehicleId) ?? { batches: 0, bytes: 0, observations: 0, lastSeq: 0 };
      expected.set(batch.vehicleId, { batches: e.batches + 1, bytes: e.bytes + bytes.length, observations: e.observations + batch.observations.length, lastSeq: Math.max(e.lastSeq, batch.seq) });
    }
    // what strangers and vehicles choose reaches the page as text, never as markup
    health.recordRejected(HOSTILE_CODE, { vehicleId: silentVehicle, authenticated: true }, now - 3 * 3_600_000);
    health.recordRejected('bad_signature', { claimedSender: HOSTILE_SENDER }, now - 60_000);
    await store.put(HEALTH_KEY, health.toBytes());

    const base = { ...DEFAULT_WEB_OPTIONS, store, host: '127.0.0.1', port: 0, thresholds: DEFAULT_TROUBLE_THRESHOLDS, log: new MemoryLogger('web') };
    web = await startWebServer(base);
    secured = await startWebServer({ ...base, token: TOKEN });
    browser = await launchChromium();
    mkdirSync(SHOTS, { recursive: true });
  });

  afterAll(async () => {
    await browser?.close();
    await web?.close();
    await secured?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('shows the fleet health table, the map of the latest version with its changes, evidence on click, and switches versions', async () => {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    page.setDefaultTimeout(90_000); // a loaded 2-core machine renders WebGL in software
    const requests: string[] = [];
    page.on('request', (r) => requests.push(r.url()));
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await page.goto(web.url);
    await page.waitForFunction(() => document.body.dataset.ready === 'true');
    expect(await page.textContent('#status')).toBe('ready');

    // -- health table: every vehicle, with the figures the store holds; the silent one flagged
    const rows = await page.$$eval('#health tbody tr', (trs) =>
      trs.map((tr) => {
        const cell = (c: string): string => tr.querySelector(`td[data-col="${c}"]`)!.textContent ?? '';
        return { id: (tr as HTMLElement).dataset.vehicle!, silent: (tr as HTMLElement).dataset.silent, trouble: cell('trouble'), lastSeen: cell('lastSeen'), batches: cell('batches'), observations: cell('observations'), lastSeq: cell('lastSeq'), stored: cell('stored') };
      }),
    );
    expect(rows.map((r) => r.id).sort()).toEqual([...expected.keys()].sort());
    expect(rows.length).toBe(12);
    expect(Math.max(...[...expected.values()].map((e) => e.batches))).toBeGreaterThan(1); // figures that differ between vehicles
    for (const r of rows) {
      const e = expected.get(r.id)!;
      expect({ id: r.id, batches: Number(r.batches), observations: Number(r.observations), lastSeq: Number(r.lastSeq), stored: r.stored }).toEqual({ id: r.id, batches: e.batches, observations: e.observations, lastSeq: e.lastSeq, stored: `${(e.bytes / 1e3).toFixed(1)} kB` });
      expect(r.silent, r.id).toBe(String(r.id === silentVehicle));
      if (r.id === silentVehicle) {
        expect(r.trouble).toContain('silent');
        expect(r.lastSeen).toBe('3 h ago');
      } else expect(r.trouble).toBe('-');
    }
    expect(rows[0]!.id).toBe(silentVehicle); // most troubled first
    expect(await page.textContent('#health-summary')).toContain('12 vehicles, 1 silent');
    expect(rows[0]!.trouble).toBe('silent, refused');
    expect(await page.textContent(`#health tr[data-vehicle="${silentVehicle}"] td[data-col="refused"]`)).toBe(`${HOSTILE_CODE}:1`);
    expect(await page.textContent('#unattributed')).toContain(`bad_signature:1; recent unauthenticated senders: ${HOSTILE_SENDER}`);
    expect(await page.evaluate(() => [document.querySelectorAll('img, #injected').length, window.pwned])).toEqual([0, undefined]);
    // the history the service keeps: one sample taken at start, the fleet's totals
    const totalBatches = [...expected.values()].reduce((a, e) => a + e.batches, 0);
    const history = (await (await fetch(`${web.url}api/history`)).json()) as { samples: Array<{ tUnixMs: number; batchesStored: number; silentVehicles: number }> };
    expect(history.samples.length).toBeGreaterThanOrEqual(1);
    expect(history.samples[0]).toMatchObject({ batchesStored: totalBatches, silentVehicles: 1 });
    const newer = (await (await fetch(`${web.url}api/history?sinceUnixMs=${history.samples.at(-1)!.tUnixMs}`)).json()) as { samples: unknown[] };
    expect(newer.samples).toEqual([]);
    expect(await page.$$eval('#charts .uplot', (e) => e.length)).toBe(3);
    // drive coverage as the service can know it (observed), said in words beside the map
    expect(await page.textContent('#coverage-summary')).toMatch(new RegExp(`^observed coverage: .*: \\d+ cells from ${totalBatches} batches, up to 12 drives in a cell$`));

    // -- the map: v2 (latest) drawn from our vector tiles
    expect(await page.inputValue('#version')).toBe('2');
    await zoomOnRoad(page);
    const v2 = await renderedFeatures(page);
    expect(requests.some((u) => u.startsWith(`${web.url}tiles/2/`))).toBe(true);
    expect(v2.byClass.lane_divider).toBeGreaterThan(0);
    expect(v2.byClass.road_boundary).toBeGreaterThan(0);
    // solid and dashed dividers are drawn by their own layers, the dashed one with a dash array
    expect(v2.byLayer['map-lane_divider-solid']).toBeGreaterThan(0);
    expect(v2.byLayer['map-lane_divider-dashed']).toBeGreaterThan(0);
    expect(v2.styleOfLayer['map-lane_divider-solid']).toEqual(['solid']);
    expect(v2.styleOfLayer['map-lane_divider-dashed']).toEqual(['dashed']);
    expect(await page.evaluate(() => (window as any).fleetmap.map.getPaintProperty('map-lane_divider-dashed', 'line-dasharray'))).toEqual([2, 2]);
    const shot2 = await mapScreenshot(page, 'web-map-v2.png');
    const px2 = await countClassPixels(page, shot2);
    expect(px2.lane_divider).toBeGreaterThan(300);
    expect(px2.road_boundary).toBeGreaterThan(300);
    // the changes since v1: the painted-over divider is listed as removed and drawn as a grey ghost from v1
    const diff = (await (await fetch(`${web.url}api/versions/2/diff`)).json()) as { removedIds: string[]; entries: Array<{ change: string; id: string; class: string }> };
    expect(diff.removedIds.length).toBeGreaterThan(0);
    const added = diff.entries.filter((e) => e.change === 'added');
    expect(added.map((e) => e.class)).toEqual(['stop_line']);
    expect(v2.highlighted).toEqual([added[0]!.id]); // the new stop line glows
    expect(v2.byClass.stop_line).toBe(2);
    expect(diff.entries.filter((e) => e.change === 'removed').every((e) => e.class === 'lane_divider')).toBe(true);
    const listed = await page.$$eval('#diff li', (lis) => lis.map((li) => ({ id: (li as HTMLElement).dataset.id, change: (li as HTMLElement).dataset.change })));
    expect(listed).toEqual(diff.entries.map((e) => ({ id: e.id, change: e.change })));
    expect(v2.ids).not.toContain(diff.removedIds[0]);
    expect(v2.ghostIds).toContain(diff.removedIds[0]);
    expect(requests.some((u) => u.startsWith(`${web.url}tiles/1/`))).toBe(true); // the ghosts come from v1's tiles
    expect(px2.removed).toBeGreaterThan(50);
    await page.screenshot({ path: path.join(SHOTS, 'web-page-v2.png'), fullPage: true });

    // -- click a feature: its evidence
    const target = await page.evaluate(() => {
      const m = (window as any).fleetmap.map;
      // a sign with no traffic light within 20 px (lights are drawn above signs)
      const lights = m.queryRenderedFeatures({ layers: ['map-traffic_light'] }).map((l: any) => m.project(l.geometry.coordinates));
      const f = m.queryRenderedFeatures({ layers: ['map-traffic_sign'] }).find((s: any) => {
        const q = m.project(s.geometry.coordinates);
        return lights.every((l: any) => Math.hypot(l.x - q.x, l.y - q.y) > 20);
      });
      const p = m.project(f.geometry.coordinates);
      return { x: p.x, y: p.y, id: f.properties.id, support: f.properties.supportDrives };
    });
    await page.locator('#map canvas').click({ position: { x: target.x, y: target.y } });
    await page.waitForSelector('.maplibregl-popup');
    const evidence = await page.$$eval('#evidence dt, #evidence dd', (e) => e.map((x) => x.textContent));
    const ev = Object.fromEntries(Array.from({ length: evidence.length / 2 }, (_, i) => [evidence[2 * i], evidence[2 * i + 1]]));
    expect(ev.class).toBe('traffic_sign');
    expect(ev.id).toBe(target.id);
    expect(ev.support).toMatch(new RegExp(`^${target.support} drives, \\d+ observations$`));
    expect(ev['seen by']).toMatch(/^\d{1,3} % of the drives that passed$/);
    expect(ev['first seen']).toMatch(/^2026-01-05T/); // the first drives, on T0
    expect(ev['last seen']).toMatch(/^2026-02-/); // the later drives, 30 days after T0
    expect(await page.textContent('.maplibregl-popup')).toContain(target.id);
    await page.screenshot({ path: path.join(SHOTS, 'web-evidence.png') });
    await page.click('.maplibregl-popup-close-button');

    // -- the version picker: v1 has the divider v2 lost, and no ghosts (nothing before v1)
    await page.selectOption('#version', '1');
    await page.waitForFunction(() => (window as any).fleetmap.state.diff?.version === 1);
    // v1's tiles requested and loaded (on a busy machine the diff can arrive before them)
    await page.waitForFunction(() => {
      const m = (window as any).fleetmap.map;
      return String(m.getSource('map').tiles[0]).includes('/tiles/1/') && m.isSourceLoaded('map') && m.areTilesLoaded();
    });
    // ... and drawn: a tile can report loaded a frame before its features render (seen on
    // clean-clone CI runs, where an idle map then never drew again and a requestAnimationFrame
    // poll waited out the timeout); wait for the divider v2 lost, asking for a repaint each time
    // and polling on a timer (the test's timeout bounds the wait). Once (2026-12-02, a full
    // `npm test` on a busy machine) even the repaints drew nothing for 90 s, though the test
    // alone passes in 3 s: every 5 s without it the poll also reloads the version's tiles (the
    // same URLs) and resizes the map, which redraws it from scratch. The page under test is
    // unchanged: this only asks the map again.
    await page.waitForFunction(
      (id) => {
        const w = window as any;
        const m = w.fleetmap.map;
        const own = m.getStyle().layers.map((l: { id: string }) => l.id).filter((x: string) => x.startsWith('map-'));
        if (m.queryRenderedFeatures({ layers: own }).some((f: any) => f.properties.id === id)) return true;
        w.__v1Polls = (w.__v1Polls ?? 0) + 1;
        if (w.__v1Polls % 20 === 0) {
          const src = m.getSource('map');
          src.setTiles([...src.tiles]);
          m.resize();
        }
        m.triggerRepaint();
        return false;
      },
      diff.removedIds[0],
      { polling: 250 },
    );
    const v1 = await renderedFeatures(page);
    expect(v1.ids).toContain(diff.removedIds[0]);
    expect(v1.ghostIds).toEqual([]);
    expect(v1.highlighted).toEqual([]);
    expect(v1.byClass.stop_line).toBe(1);
    expect(v1.byClass.lane_divider).toBeGreaterThan(v2.byClass.lane_divider!);
    expect(await page.textContent('#diff-summary')).toContain('v1 is the first version');
    const shot1 = await mapScreenshot(page, 'web-map-v1.png');
    const px1 = await countClassPixels(page, shot1);
    expect(px1.lane_divider).toBeGreaterThan(px2.lane_divider!); // one more divider drawn
    expect(px1.removed).toBe(0);

    // nothing outside this service was requested, nothing the CSP refused, no script errors
    expect(requests.filter((u) => !u.startsWith(web.url) && !u.startsWith('data:') && !u.startsWith('blob:'))).toEqual([]);
    expect(await page.evaluate(() => (window as any).fleetmap.cspViolations)).toEqual([]);
    expect(pageErrors).toEqual([]);
    await page.close();
  });

  it('with a token: refuses requests without it, serves the page and its tiles to a browser that opened ?token= once', async () => {
    const bare = await fetch(`${secured.url}api/health`);
    expect(bare.status).toBe(401);
    expect(bare.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect((await fetch(secured.url)).status).toBe(401);
    expect((await fetch(`${secured.url}tiles/2/16/0/0.pbf`)).status).toBe(401);
    expect((await fetch(`${secured.url}api/health`, { headers: { authorization: `Bearer ${TOKEN}x` } })).status).toBe(401);
    expect((await fetch(`${secured.url}api/health`, { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(200);

    const context = await browser.newContext({ viewport: { width: 1000, height: 700 } });
    const page = await context.newPage();
    page.setDefaultTimeout(90_000);
    const refused = await page.goto(secured.url);
    expect(refused!.status()).toBe(401);
    await page.goto(`${secured.url}?token=${TOKEN}`);
    await page.waitForFunction(() => document.body.dataset.ready === 'true');
    expect(await page.textContent('#status')).toBe('ready');
    expect(new URL(page.url()).search).toBe(''); // the token left the address bar
    expect(await page.$$eval('#health tbody tr', (t) => t.length)).toBe(12);
    const f = await renderedFeatures(page);
    expect(f.byClass.lane_divider).toBeGreaterThan(0); // tiles and the map's worker module came with the cookie
    await context.close();
  });
});

// --- helpers ---

/** Centre the map on the road at zoom 17.5 and wait until it has drawn everything. */
async function zoomOnRoad(page: Page): Promise<void> {
  await page.evaluate(async () => {
    const m = (window as any).fleetmap.map;
    const b = m.getBounds();
    m.jumpTo({ center: [(b.getWest() + b.getEast()) / 2, (b.getSouth() + b.getNorth()) / 2], zoom: 17.5 });
  });
}

/**
 * A screenshot of the map alone (its pixels are counted: the legend has swatches of every colour).
 * The overlays are hidden through the DOM: the page's CSP refuses the style element Playwright's
 * `style` option would inject.
 */
async function mapScreenshot(page: Page, file: string): Promise<Buffer> {
  const overlays = '#legend, .maplibregl-control-container';
  await page.$$eval(overlays, (els) => els.forEach((e: any) => (e.style.visibility = 'hidden')));
  try {
    return await page.locator('#map').screenshot({ path: path.join(SHOTS, file) });
  } finally {
    await page.$$eval(overlays, (els) => els.forEach((e: any) => (e.style.visibility = '')));
  }
}

interface Rendered {
  /** Distinct features drawn, by class. */
  byClass: Record<string, number>;
  byLayer: Record<string, number>;
  styleOfLayer: Record<string, string[]>;
  ids: string[];
  ghostIds: string[];
  /** Ids drawn by the added / moved highlight. */
  highlighted: string[];
}

/** After the map is idle: map.queryRenderedFeatures over our class layers, and the removed-feature ghosts. */
async function renderedFeatures(page: Page): Promise<Rendered> {
  return page.evaluate(async () => {
    const m = (window as any).fleetmap.map;
    await new Promise<void>((resolve) => {
      m.once('idle', () => resolve());
      m.triggerRepaint();
    });
    const layers = m.getStyle().layers.map((l: { id: string }) => l.id);
    const own = layers.filter((id: string) => id.startsWith('map-'));
    const ghosts = layers.filter((id: string) => id.startsWith('removed-'));
    const glow = layers.filter((id: string) => id.startsWith('changed-'));
    const out: Rendered = { byClass: {}, byLayer: {}, styleOfLayer: {}, ids: [], ghostIds: [], highlighted: [] };
    const seen = new Set<string>(); // a feature is returned once per tile that draws it
    for (const f of m.queryRenderedFeatures({ layers: own })) {
      if (!seen.has(f.properties.id)) out.byClass[f.sourceLayer] = (out.byClass[f.sourceLayer] ?? 0) + 1;
      seen.add(f.properties.id);
      out.byLayer[f.layer.id] = (out.byLayer[f.layer.id] ?? 0) + 1;
      const s = (out.styleOfLayer[f.layer.id] ??= []);
      if (f.properties.style !== undefined && !s.includes(f.properties.style)) s.push(f.properties.style);
      out.ids.push(f.properties.id);
    }
    for (const f of m.queryRenderedFeatures({ layers: ghosts })) out.ghostIds.push(f.properties.id);
    for (const f of m.queryRenderedFeatures({ layers: glow })) if (!out.highlighted.includes(f.properties.id)) out.highlighted.push(f.properties.id);
    return out;
  });
}

/** Pixels of each class colour (and of the removed-feature grey) in a PNG screenshot, decoded by the browser. */
async function countClassPixels(page: Page, png: Buffer): Promise<Record<string, number>> {
  return page.evaluate(async (b64) => {
    const colours: Record<string, string> = { removed: '#a0a0a0' };
    for (const [cls, st] of Object.entries((window as any).fleetmap.CLASSES as Record<string, { colour: string }>)) colours[cls] = st.colour;
    const rgb = Object.entries(colours).map(([k, hex]) => [k, parseInt(hex.slice(1, 3), 16), parseInt(hex.slice(3, 5), 16), parseInt(hex.slice(5, 7), 16)] as const);
    const img = new Image();
    img.src = `data:image/png;base64,${b64}`;
    await img.decode();
    const c = document.createElement('canvas');
    c.width = img.width;
    c.height = img.height;
    const ctx = c.getContext('2d')!;
    ctx.drawImage(img, 0, 0);
    const d = ctx.getImageData(0, 0, c.width, c.height).data;
    const out: Record<string, number> = Object.fromEntries(rgb.map(([k]) => [k, 0]));
    for (let i = 0; i < d.length; i += 4) {
      for (const [k, r, g, b] of rgb) {
        if (Math.abs(d[i]! - r) <= 6 && Math.abs(d[i + 1]! - g) <= 6 && Math.abs(d[i + 2]! - b) <= 6) out[k]!++;
      }
    }
    return out;
  }, png.toString('base64'));
}

/** A stop line across the right-hand lanes at x (the synthetic world's road: centre y = 0.0006 x^2, lanes 3.5 m). */
function acrossRightLanes(x: number): Array<[number, number]> {
  const slope = 0.0012 * x;
  const len = Math.hypot(1, slope);
  const [nx, ny] = [-slope / len, 1 / len];
  const c: [number, number] = [x, 0.0006 * x * x];
  return [[c[0] + nx * -6.8, c[1] + ny * -6.8], [c[0] - nx * 0.2, c[1] - ny * 0.2]];
}
