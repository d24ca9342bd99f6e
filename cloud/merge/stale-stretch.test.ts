/**
 * A stretch of paint removed inside a longer line (a lane marking ground off over 40 m of a 320 m
 * divider): the old drives' observations still cover it, so the line as a whole is not stale, but
 * the drives since then all passed that stretch without seeing it, and the next version cuts it
 * out (evidence.ts withoutStaleStretches) and lists the stretch as removed. With the per-stretch
 * test off, it stays. Repainted aside, it is new paint beside old (few earlier drives) or a moved
 * stretch of the line (many: recent-shift.ts movedStretches).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { pointPolylineDistM } from '../../shared/geometry.ts';
import type { XY } from '../../shared/schema.ts';
import { LocalDirStore } from '../store/index.ts';
import { diffVersions } from './diff.ts';
import { readTileObject, resolvePublished } from './publish.ts';
import { runMerge } from './run.ts';
import { simulateFleet, syntheticWorld, writeBatches, type TruthWorld } from './synthetic.ts';
import type { FeatureProperties } from './features.ts';
import type { MergeOptions } from './options.ts';

const T0 = Date.UTC(2025, 4, 1, 8);
const DAY_MS = 86_400_000;
const world = syntheticWorld();
const div = world.lines.find((l) => l.id === 'div_left')!;
const n = div.points.length;
const cutFrom = Math.round(n * 0.45);
const cutTo = Math.round(n * 0.6);
/** The world after the paint between cutFrom and cutTo was removed. */
const after: TruthWorld = {
  ...world,
  lines: [...world.lines.filter((l) => l !== div), { ...div, id: 'div_left_a', points: div.points.slice(0, cutFrom + 1) }, { ...div, id: 'div_left_b', points: div.points.slice(cutTo) }],
};
const mid = div.points[Math.round((cutFrom + cutTo) / 2)]!;
const kept = [div.points[Math.round(n * 0.25)]!, div.points[Math.round(n * 0.8)]!];
const day1 = simulateFleet(world, { drives: 6, seed: 41, startUnixMs: T0, driveIdPrefix: 's1' }).observations;
const day2 = simulateFleet(after, { drives: 5, seed: 42, startUnixMs: T0 + DAY_MS, driveIdPrefix: 's2' }).observations;
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** Distance from q to the nearest published lane divider of version v (the drives' GNSS bias leaves decimetres). */
async function nearestDivider(store: LocalDirStore, v: number, q: XY): Promise<number> {
  const { manifest } = await resolvePublished(store, v);
  let best = Infinity;
  for (const t of manifest.tiles) {
    for (const f of (await readTileObject(store, t.key, 'test')).features) {
      if (f.properties.class !== 'lane_divider' || f.geometry.type !== 'LineString') continue;
      const pts = f.geometry.coordinates.map(([lng, lat]) => world.frame.toLocal({ lng: lng!, lat: lat! }));
      for (let i = 1; i < pts.length; i++) {
        const [ax, ay] = pts[i - 1]!;
        const [bx, by] = pts[i]!;
        const dx = bx - ax;
        const dy = by - ay;
        const u = Math.max(0, Math.min(1, ((q[0] - ax) * dx + (q[1] - ay) * dy) / (dx * dx + dy * dy || 1)));
        best = Math.min(best, Math.hypot(q[0] - ax - u * dx, q[1] - ay - u * dy));
      }
    }
  }
  return best;
}

/** Properties of the published lane divider of version v nearest to q. */
async function dividerPropsNear(store: LocalDirStore, v: number, q: XY): Promise<FeatureProperties> {
  const { manifest } = await resolvePublished(store, v);
  let best: { d: number; props: FeatureProperties } | undefined;
  for (const t of manifest.tiles) {
    for (const f of (await readTileObject(store, t.key, 'test')).features) {
      if (f.properties.class !== 'lane_divider' || f.geometry.type !== 'LineString') continue;
      const d = pointPolylineDistM(q, f.geometry.coordinates.map(([lng, lat]) => world.frame.toLocal({ lng: lng!, lat: lat! })));
      if (!best || d < best.d) best = { d, props: f.properties };
    }
  }
  if (!best) throw new Error(`no lane divider in version ${v}`);
  return best.props;
}

/** The removed stretch's paint `asideM` to the left of the divider's direction. */
function offsetStretch(asideM: number): XY[] {
  const out: XY[] = [];
  for (let k = cutFrom; k <= cutTo; k++) {
    const a = div.points[Math.max(0, k - 1)]!;
    const b = div.points[Math.min(n - 1, k + 1)]!;
    const len = Math.hypot(b[0] - a[0], b[1] - a[1]);
    const q = div.points[k]!;
    out.push([q[0] - ((b[1] - a[1]) / len) * asideM, q[1] + ((b[0] - a[0]) / len) * asideM]);
  }
  return out;
}

/** A store with v1 merged from `first` (day 1) and v2 from `second` added (day 2). */
async function twoVersions(name: string, options: Partial<MergeOptions>, first = day1, second = day2): Promise<LocalDirStore> {
  const dir = mkdtempSync(path.join(tmpdir(), `fm-stretch-${name}-`));
  dirs.push(dir);
  const store = new LocalDirStore(dir);
  await writeBatches(store, first);
  await runMerge(store, { nowUnixMs: () => T0 + DAY_MS / 2, options });
  await writeBatches(store, second);
  await runMerge(store, { nowUnixMs: () => T0 + 2 * DAY_MS, options });
  return store;
}

describe('a stretch of paint removed inside a longer line', () => {
  it('is cut out of the next version; the rest of the line stays', async () => {
    const store = await twoVersions('on', {});
    expect(await nearestDivider(store, 1, mid)).toBeLessThan(1);
    expect(await nearestDivider(store, 2, mid)).toBeGreaterThan(1.5);
    for (const q of kept) expect(await nearestDivider(store, 2, q)).toBeLessThan(1);
    // The change list names the stretch (one entry per tile it lies in): removed, confirmed, its
    // geometry on the removed paint.
    const d = await diffVersions(store, 1, 2);
    const removed = d.changes.filter((c) => c.kind === 'removed' && c.cls === 'lane_divider');
    expect(removed.length).toBeGreaterThanOrEqual(1);
    expect(removed.every((c) => c.status === 'confirmed')).toBe(true);
    const pts = removed.flatMap((c) => c.geometries).flatMap((g) => (g.type === 'LineString' ? g.coordinates : [])).map(([lng, lat]) => world.frame.toLocal({ lng: lng!, lat: lat! }));
    const along = (q: XY): number => Math.min(...pts.map((r) => Math.hypot(r[0] - q[0], r[1] - q[1])));
    expect(along(mid)).toBeLessThan(2);
    for (const q of kept) expect(along(q)).toBeGreaterThan(20);
    expect(d.changes.filter((c) => c.kind !== 'removed')).toEqual([]);
  }, 60_000);

  it('repainted 0.8 m aside: the new line is reported added (new paint beside old), confirmed', async () => {
    // The same stretch repainted 0.8 m to the left of the divider's direction.
    const shifted = offsetStretch(0.8);
    const repainted: TruthWorld = { ...after, lines: [...after.lines, { ...div, id: 'div_left_new', points: shifted }] };
    const day2r = simulateFleet(repainted, { drives: 5, seed: 42, startUnixMs: T0 + DAY_MS, driveIdPrefix: 's2' }).observations;
    const store = await twoVersions('repaint', {}, day1, day2r);
    const d = await diffVersions(store, 1, 2);
    const added = d.changes.filter((c) => c.kind === 'added' && c.cls === 'lane_divider' && c.status === 'confirmed');
    expect(added.length).toBeGreaterThanOrEqual(1);
    const pts = added.flatMap((c) => c.geometries).flatMap((g) => (g.type === 'LineString' ? g.coordinates : [])).map(([lng, lat]) => world.frame.toLocal({ lng: lng!, lat: lat! }));
    const newMid = shifted[shifted.length >> 1]!;
    expect(Math.min(...pts.map((r) => Math.hypot(r[0] - newMid[0], r[1] - newMid[1])))).toBeLessThan(2);
  }, 60_000);

  it('repainted 0.8 m aside where many more drives saw the old paint (16 against 4): the stretch moves in the map and is reported moved, confirmed', async () => {
    // The consensus follows the 16 earlier drives; the 4 since then all see the paint 0.8 m to
    // the left over the stretch. The whole line's shift is diluted; the stretch's is not.
    const shifted = offsetStretch(0.8);
    const repainted: TruthWorld = { ...after, lines: [...after.lines, { ...div, id: 'div_left_new', points: shifted }] };
    const early = simulateFleet(world, { drives: 16, seed: 43, startUnixMs: T0, driveIdPrefix: 'm1' }).observations;
    const late = simulateFleet(repainted, { drives: 4, seed: 44, startUnixMs: T0 + DAY_MS, driveIdPrefix: 'm2' }).observations;
    const newMid = shifted[shifted.length >> 1]!;
    const oldMid = div.points[cutFrom + (shifted.length >> 1)]!;
    // A final gate wide enough that the recent drives' observations join the old line's cluster
    // (in the Karlsruhe demo's noisier drives they did at the default): at the default here the
    // new paint forms a line of its own, new paint beside old (the test above).
    const gateM = 1.2;
    const store = await twoVersions('moved', { gateM }, early, late);
    // The map follows the new paint there (the drives' shared GNSS error moves both distances
    // alike) and keeps the rest of the line.
    expect(await nearestDivider(store, 1, newMid)).toBeGreaterThan(await nearestDivider(store, 1, oldMid));
    expect(await nearestDivider(store, 2, newMid)).toBeLessThan(await nearestDivider(store, 2, oldMid));
    for (const q of kept) expect(await nearestDivider(store, 2, q)).toBeLessThan(1);
    const d = await diffVersions(store, 1, 2);
    const moved = d.changes.filter((c) => c.kind === 'moved' && c.cls === 'lane_divider' && c.status === 'confirmed');
    expect(moved.length).toBeGreaterThanOrEqual(1);
    const pts = moved.flatMap((c) => c.geometries).flatMap((g) => (g.type === 'LineString' ? g.coordinates : [])).map(([lng, lat]) => world.frame.toLocal({ lng: lng!, lat: lat! }));
    expect(Math.min(...pts.map((r) => Math.hypot(r[0] - newMid[0], r[1] - newMid[1])))).toBeLessThan(2);
    for (const q of kept) expect(Math.min(...pts.map((r) => Math.hypot(r[0] - q[0], r[1] - q[1])))).toBeGreaterThan(20);
    // Three more drives of the repainted road: the next version keeps the new place and reports
    // no second move (the previous version already shows it there).
    const third = simulateFleet(repainted, { drives: 3, seed: 47, startUnixMs: T0 + 2 * DAY_MS, driveIdPrefix: 'm3' }).observations;
    await writeBatches(store, third);
    await runMerge(store, { nowUnixMs: () => T0 + 3 * DAY_MS, options: { gateM } });
    expect(await nearestDivider(store, 3, newMid)).toBeLessThan(await nearestDivider(store, 3, oldMid));
    expect((await diffVersions(store, 2, 3)).changes.filter((c) => c.kind === 'moved')).toEqual([]);
    // One drive more: too few to tell a move on their own (staleAfterMissedDrives), and the 16
    // earlier drives still outnumber the 8 since the repaint. The map remembers where the move
    // began (the feature's movedAfterUnixMs) and keeps the new place, with no change reported;
    // without that memory it went back to the old paint.
    const v3Props = await dividerPropsNear(store, 3, newMid);
    // (the split v3 found the move with: a sighting time of the drives since the repaint,
    // before the three drives v3 added; observation times of the simulated data, no clock)
    expect(v3Props.movedAfterUnixMs).toBeGreaterThanOrEqual(Math.min(...late.map((o) => o.tUnixMs)));
    expect(v3Props.movedAfterUnixMs).toBeLessThan(Math.min(...third.map((o) => o.tUnixMs)));
    await writeBatches(store, simulateFleet(repainted, { drives: 1, seed: 48, startUnixMs: T0 + 3 * DAY_MS, driveIdPrefix: 'm4' }).observations);
    await runMerge(store, { nowUnixMs: () => T0 + 4 * DAY_MS, options: { gateM } });
    expect(await nearestDivider(store, 4, newMid)).toBeLessThan(await nearestDivider(store, 4, oldMid));
    expect((await diffVersions(store, 3, 4)).changes).toEqual([]);
    expect((await dividerPropsNear(store, 4, newMid)).movedAfterUnixMs).toBe(v3Props.movedAfterUnixMs);
    // With the per-stretch move off, the consensus keeps the old paint there and nothing moves.
    const off = await twoVersions('moved-off', { gateM, movedStretchBinM: 0 }, early, late);
    expect(await nearestDivider(off, 2, newMid)).toBeGreaterThan(await nearestDivider(off, 2, oldMid));
    expect((await diffVersions(off, 1, 2)).changes.filter((c) => c.kind === 'moved')).toEqual([]);
  }, 120_000);

  it('a new line painted 1.5 m beside one that stays, seen by 4 drives against 16: added, not dropped as a ghost of the old line', async () => {
    // Four times the support within shadowLineM made it a shadow (a multipath ghost); several
    // recent drives agreeing on it make it new paint.
    const beside = offsetStretch(1.5);
    const painted: TruthWorld = { ...world, lines: [...world.lines, { ...div, id: 'div_left_new', points: beside }] };
    const store = await twoVersions(
      'beside',
      {},
      simulateFleet(world, { drives: 16, seed: 45, startUnixMs: T0, driveIdPrefix: 'b1' }).observations,
      simulateFleet(painted, { drives: 4, seed: 46, startUnixMs: T0 + DAY_MS, driveIdPrefix: 'b2' }).observations,
    );
    const newMid = beside[beside.length >> 1]!;
    const oldMid = div.points[cutFrom + (beside.length >> 1)]!;
    expect(await nearestDivider(store, 2, newMid)).toBeLessThan(0.6);
    expect(await nearestDivider(store, 2, oldMid)).toBeLessThan(0.6);
    const d = await diffVersions(store, 1, 2);
    const added = d.changes.filter((c) => c.kind === 'added' && c.cls === 'lane_divider' && c.status === 'confirmed');
    const lines = added.flatMap((c) => c.geometries).flatMap((g) => (g.type === 'LineString' ? [g.coordinates.map(([lng, lat]) => world.frame.toLocal({ lng: lng!, lat: lat! }))] : []));
    expect(Math.min(...lines.map((l) => pointPolylineDistM(newMid, l)))).toBeLessThan(0.6);
    expect(d.changes.filter((c) => c.kind === 'removed')).toEqual([]);
  }, 60_000);

  it('stays when the per-stretch test is off (the whole line is still seen)', async () => {
    const store = await twoVersions('off', { staleStretchWindowM: 0 });
    expect(await nearestDivider(store, 2, mid)).toBeLessThan(1);
  }, 60_000);
});

describe('paint removed at the end of a line that joined its neighbour', () => {
  it('is listed removed, though the line it was cut from lives on under its neighbour\'s id', async () => {
    // v1: two pieces of the divider (a, then b), 20 m of road between them. Then the gap is
    // painted and the last 6 % of the line (b's end, 20 m) ground off: v2 has one line, which
    // takes a's id in the tile where both lie (a is the longer there: the tile's border crosses
    // the line at its middle).
    const aTo = Math.round(n * 0.8);
    const bFrom = Math.round(n * 0.86);
    const tailFrom = Math.round(n * 0.94);
    const apart: TruthWorld = { ...world, lines: [...world.lines.filter((l) => l !== div), { ...div, id: 'div_a', points: div.points.slice(0, aTo + 1) }, { ...div, id: 'div_b', points: div.points.slice(bFrom) }] };
    const joined: TruthWorld = { ...world, lines: [...world.lines.filter((l) => l !== div), { ...div, id: 'div_joined', points: div.points.slice(0, tailFrom + 1) }] };
    const first = simulateFleet(apart, { drives: 6, seed: 43, startUnixMs: T0, driveIdPrefix: 'j1' }).observations;
    const second = simulateFleet(joined, { drives: 5, seed: 44, startUnixMs: T0 + DAY_MS, driveIdPrefix: 'j2' }).observations;
    const store = await twoVersions('joined', {}, first, second);
    const gapMid = div.points[Math.round((aTo + bFrom) / 2)]!;
    const tailMid = div.points[Math.round((tailFrom + n - 1) / 2)]!;
    const bMid = div.points[Math.round((bFrom + tailFrom) / 2)]!;
    expect(await nearestDivider(store, 1, gapMid)).toBeGreaterThan(1.5);
    expect(await nearestDivider(store, 1, tailMid)).toBeLessThan(1);
    // v2: one line through the painted gap, b's id gone with it, the tail gone.
    expect(await nearestDivider(store, 2, gapMid)).toBeLessThan(1);
    expect(await nearestDivider(store, 2, tailMid)).toBeGreaterThan(1.5);
    const bId = (await dividerPropsNear(store, 1, bMid)).id;
    expect((await dividerPropsNear(store, 2, bMid)).id).not.toBe(bId);
    const d = await diffVersions(store, 1, 2);
    const removed = d.changes.filter((c) => c.kind === 'removed' && c.cls === 'lane_divider');
    const pts = removed.flatMap((c) => c.geometries).flatMap((g) => (g.type === 'LineString' ? g.coordinates : [])).map(([lng, lat]) => world.frame.toLocal({ lng: lng!, lat: lat! }));
    const along = (q: XY): number => Math.min(Infinity, ...pts.map((r) => Math.hypot(r[0] - q[0], r[1] - q[1])));
    expect(along(tailMid)).toBeLessThan(2);
    expect(removed.every((c) => c.status === 'confirmed')).toBe(true);
    // Nothing of the line that stays is listed removed.
    expect(along(bMid)).toBeGreaterThan(10);
    expect(along(div.points[Math.round(n * 0.25)]!)).toBeGreaterThan(10);
  }, 60_000);
});
