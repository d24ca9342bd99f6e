/**
 * Change scenarios: the world changes between two fleet passes, and the simulator knows exactly
 * how. Each scenario takes a loaded Lanelet2 map and returns the changed world (the same
 * lanelets, so the same roads are drivable; new primitives) and the list of true changes the
 * cloud's change detection is scored against (sim/eval/change-eval.ts). The product never sees
 * this list.
 *
 * Scenarios (one name each in CHANGE_SCENARIOS; `all` applies every one at distinct places):
 * - `remove-markings`: lane dividers and a stop line disappear (burnt off);
 * - `add-markings`: a new stop line across a lane near its end;
 * - `repaint-lane`: a divider repainted `repaintShiftM` to one side (a lane made wider);
 * - `move-sign`: a traffic sign moved `signMoveM` along the road (parallel to the nearest vehicle
 *   lanelet's centreline, forward or back);
 * - `new-crosswalk`: a zebra crossing across a lane, `crosswalkWidthM` wide;
 * - `construction-zone`: temporary yellow solid lines `constructionOffsetM` inside a lane over
 *   `constructionLengthM` (the white paint stays, as on real sites).
 *
 * Targets are picked, seeded, among the primitives and lanelets `eligible` admits (the caller
 * passes those the fleet will see again), spread over the map, never two changes within
 * `minSeparationM` of each other, so each true change is one place on the ground.
 * Geometry is in the map's local frame, [eastM, northM].
 */
import { cumulativeLengthsM, pointAtM, pointInRing, pointPolylineDistM, polylineLengthM, projectOntoPolyline } from '../shared/geometry.ts';
import type { PrimitiveClass, XY } from '../shared/schema.ts';
import type { GroundTruthPrimitive, Lanelet, Lanelet2Map } from './lanelet2.ts';
import { offsetPolyline } from './mapgen/geometry.ts';
import { Rng } from './rng.ts';

export const CHANGE_SCENARIOS = ['remove-markings', 'add-markings', 'repaint-lane', 'move-sign', 'new-crosswalk', 'construction-zone'] as const;
export type ChangeScenario = (typeof CHANGE_SCENARIOS)[number];

export function isChangeScenario(v: string): v is ChangeScenario {
  return (CHANGE_SCENARIOS as readonly string[]).includes(v);
}

/** What happened to one primitive of the world. A move is one change (old place and new). */
export interface TrueChange {
  scenario: ChangeScenario;
  kind: 'added' | 'removed' | 'moved';
  cls: PrimitiveClass;
  /** Ground-truth id: the source primitive's, or a new "chg-..." id for added ones. */
  id: string;
  /** Geometry before the change (removed, moved). */
  beforeM?: XY[];
  /** Geometry after the change (added, moved). */
  afterM?: XY[];
}

export interface ChangeScenarioOptions {
  seed: number;
  /** Lane dividers removed by `remove-markings`. */
  removeDividers: number;
  repaintShiftM: number;
  signMoveM: number;
  crosswalkWidthM: number;
  constructionOffsetM: number;
  constructionLengthM: number;
  /** Smallest distance between two changes' places, metres. */
  minSeparationM: number;
  /** Shortest divider a scenario touches, metres. */
  minDividerM: number;
}

export const DEFAULT_CHANGE_SCENARIO_OPTIONS: ChangeScenarioOptions = {
  seed: 1,
  removeDividers: 2,
  repaintShiftM: 0.8, // m
  signMoveM: 5, // m
  crosswalkWidthM: 4, // m
  constructionOffsetM: 1.0, // m
  constructionLengthM: 60, // m
  minSeparationM: 40, // m
  minDividerM: 20, // m
};

export interface ChangedWorld {
  map: Lanelet2Map;
  changes: TrueChange[];
}

export interface Eligibility {
  primitive(p: GroundTruthPrimitive): boolean;
  lanelet(l: Lanelet): boolean;
}

/**
 * Applies `scenarios` in order to `map`; returns the changed world and the true changes. A
 * scenario that finds no eligible target makes no change (the list says what really changed).
 */
export function applyChangeScenarios(map: Lanelet2Map, scenarios: readonly ChangeScenario[], eligible: Eligibility, options: Partial<ChangeScenarioOptions> = {}): ChangedWorld {
  const o = { ...DEFAULT_CHANGE_SCENARIO_OPTIONS, ...options };
  const rng = new Rng(o.seed);
  const ctx: Ctx = { o, rng, eligible, prims: map.primitives.slice(), changes: [], places: [] };
  for (const s of scenarios) SCENARIOS[s](ctx, map);
  return { map: { ...map, primitives: ctx.prims }, changes: ctx.changes };
}

interface Ctx {
  o: ChangeScenarioOptions;
  rng: Rng;
  eligible: Eligibility;
  prims: GroundTruthPrimitive[];
  changes: TrueChange[];
  /** Where changes were made (to keep them apart). */
  places: XY[];
}

const SCENARIOS: Record<ChangeScenario, (ctx: Ctx, map: Lanelet2Map) => void> = {
  'remove-markings': (ctx) => {
    for (let i = 0; i < ctx.o.removeDividers; i++) {
      const p = pickPrimitive(ctx, (q) => q.cls === 'lane_divider' && polylineLengthM(q.points) >= ctx.o.minDividerM);
      if (p) remove(ctx, p, 'remove-markings');
    }
    const s = pickPrimitive(ctx, (q) => q.cls === 'stop_line');
    if (s) remove(ctx, s, 'remove-markings');
  },
  'add-markings': (ctx, map) => {
    const l = pickLanelet(ctx, map, (x) => x.lengthM >= 20);
    if (!l) return;
    const at = l.lengthM - 3;
    const line = acrossLanelet(l, at);
    add(ctx, { id: newId(ctx), cls: 'stop_line', points: line, sourceType: 'stop_line', sourceSubtype: '' }, 'add-markings');
  },
  'repaint-lane': (ctx) => {
    const p = pickPrimitive(ctx, (q) => q.cls === 'lane_divider' && polylineLengthM(q.points) >= ctx.o.minDividerM);
    if (!p) return;
    const shifted = offsetPolyline(p.points, ctx.rng.next() < 0.5 ? ctx.o.repaintShiftM : -ctx.o.repaintShiftM);
    move(ctx, p, { ...p, points: shifted }, 'repaint-lane');
  },
  'move-sign': (ctx, map) => {
    const p = pickPrimitive(ctx, (q) => q.cls === 'traffic_sign');
    if (!p) return;
    // Along the road: parallel to the nearest vehicle lanelet's centreline, forward or back, so
    // the sign keeps its side and its distance from the kerb. (A random direction put it in the
    // carriageway or metres nearer or further from the road: 4.4 m on the test's map.)
    const forward = ctx.rng.next() < 0.5;
    const q = alongRoad(map, p.points[0]!, forward ? ctx.o.signMoveM : -ctx.o.signMoveM);
    if (q) move(ctx, p, { ...p, points: [q] }, 'move-sign');
  },
  'new-crosswalk': (ctx, map) => {
    const l = pickLanelet(ctx, map, (x) => x.lengthM >= 30);
    if (!l) return;
    const mid = l.lengthM / 2;
    // Across the whole carriageway, as crossings are painted (one lane's width by 4 m deep would
    // be deeper than wide: its zebra bars would run across the traffic, like stop lines).
    const a = acrossCarriageway(map, l, mid - ctx.o.crosswalkWidthM / 2);
    const b = acrossCarriageway(map, l, mid + ctx.o.crosswalkWidthM / 2);
    const ring: XY[] = [a[0]!, a[1]!, b[1]!, b[0]!];
    add(ctx, { id: newId(ctx), cls: 'crosswalk', points: ring, sourceType: 'zebra_marking', sourceSubtype: '' }, 'new-crosswalk');
  },
  'construction-zone': (ctx, map) => {
    const l = pickLanelet(ctx, map, (x) => x.lengthM >= ctx.o.constructionLengthM + 10);
    if (!l) return;
    const start = (l.lengthM - ctx.o.constructionLengthM) / 2;
    const pts: XY[] = [];
    for (let s = start; s <= start + ctx.o.constructionLengthM + 1e-9; s += 5) pts.push(alongLanelet(l, s, ctx.o.constructionOffsetM));
    add(ctx, { id: newId(ctx), cls: 'lane_divider', style: 'solid', color: 'yellow', points: pts, sourceType: 'line_thin', sourceSubtype: 'solid' }, 'construction-zone');
  },
};

function newId(ctx: Ctx): string {
  return `chg-${ctx.changes.length + 1}`;
}

function remove(ctx: Ctx, p: GroundTruthPrimitive, scenario: ChangeScenario): void {
  ctx.prims = ctx.prims.filter((q) => q !== p);
  ctx.changes.push({ scenario, kind: 'removed', cls: p.cls, id: p.id, beforeM: p.points.slice() });
  ctx.places.push(...p.points);
}

function add(ctx: Ctx, p: GroundTruthPrimitive, scenario: ChangeScenario): void {
  ctx.prims.push(p);
  ctx.changes.push({ scenario, kind: 'added', cls: p.cls, id: p.id, afterM: p.points.slice() });
  ctx.places.push(...p.points);
}

function move(ctx: Ctx, from: GroundTruthPrimitive, to: GroundTruthPrimitive, scenario: ChangeScenario): void {
  ctx.prims = ctx.prims.map((q) => (q === from ? to : q));
  ctx.changes.push({ scenario, kind: 'moved', cls: from.cls, id: from.id, beforeM: from.points.slice(), afterM: to.points.slice() });
  ctx.places.push(...from.points, ...to.points);
}

/** Far enough from every earlier change (any vertex within minSeparationM disqualifies). */
function apart(ctx: Ctx, pts: readonly XY[]): boolean {
  const d2 = ctx.o.minSeparationM ** 2;
  for (const p of pts) for (const q of ctx.places) if ((p[0] - q[0]) ** 2 + (p[1] - q[1]) ** 2 < d2) return false;
  return true;
}

function pickPrimitive(ctx: Ctx, want: (p: GroundTruthPrimitive) => boolean): GroundTruthPrimitive | undefined {
  const list = ctx.prims.filter((p) => want(p) && !p.id.startsWith('chg-') && ctx.eligible.primitive(p) && apart(ctx, p.points));
  return list.length === 0 ? undefined : list[Math.floor(ctx.rng.next() * list.length)];
}

function pickLanelet(ctx: Ctx, map: Lanelet2Map, want: (l: Lanelet) => boolean): Lanelet | undefined {
  const list = map.lanelets.filter((l) => l.vehicle && want(l) && ctx.eligible.lanelet(l) && apart(ctx, l.centreline));
  return list.length === 0 ? undefined : list[Math.floor(ctx.rng.next() * list.length)];
}

/** The point `sM` along the lanelet's centreline, `offsetM` to its left (negative: right). */
export function alongLanelet(l: Lanelet, sM: number, offsetM: number): XY {
  const c = l.centreline;
  const cum = cumulativeLengthsM(c);
  const p = pointAtM(c, cum, sM);
  const a = pointAtM(c, cum, sM - 0.5);
  const b = pointAtM(c, cum, sM + 0.5);
  const len = Math.hypot(b[0] - a[0], b[1] - a[1]);
  if (len === 0) return p;
  return [p[0] - (offsetM * (b[1] - a[1])) / len, p[1] + (offsetM * (b[0] - a[0])) / len];
}

/** Point `p` moved `dM` along the nearest vehicle lanelet's centreline direction (undefined: no vehicle lanelet). */
function alongRoad(map: Lanelet2Map, p: XY, dM: number): XY | undefined {
  let best: Lanelet | undefined;
  let bestM = Infinity;
  for (const l of map.lanelets) {
    if (!l.vehicle || l.centreline.length < 2) continue;
    const d = pointPolylineDistM(p, l.centreline);
    if (d < bestM) {
      bestM = d;
      best = l;
    }
  }
  if (!best) return undefined;
  const { sM } = projectOntoPolyline(p, best.centreline);
  const a = alongLanelet(best, sM - 0.5, 0);
  const b = alongLanelet(best, sM + 0.5, 0);
  const len = Math.hypot(b[0] - a[0], b[1] - a[1]);
  if (len === 0) return undefined;
  return [p[0] + (dM * (b[0] - a[0])) / len, p[1] + (dM * (b[1] - a[1])) / len];
}

/** A line across the lanelet at `sM` along it, from the right bound to the left, 0.2 m inside each. */
function acrossLanelet(l: Lanelet, sM: number): XY[] {
  const p = alongLanelet(l, sM, 0);
  const halfWidthM = Math.max(1, (pointPolylineDistM(p, l.left) + pointPolylineDistM(p, l.right)) / 2 - 0.2);
  return [alongLanelet(l, sM, -halfWidthM), alongLanelet(l, sM, halfWidthM)];
}

/**
 * A line across the carriageway at `sM` along lanelet `l`: from the lanelet's centreline,
 * perpendicular to it, out each way while the ground is a vehicle lanelet's (between its bounds;
 * the neighbouring lanes, the other direction's), up to `maxM` each way, 0.2 m inside its edges.
 * Right end first.
 */
function acrossCarriageway(map: Lanelet2Map, l: Lanelet, sM: number, maxM = 15): XY[] {
  const c = alongLanelet(l, sM, 0);
  const q = alongLanelet(l, sM, 1);
  const nx = q[0] - c[0];
  const ny = q[1] - c[1];
  const rings = map.lanelets
    .filter((x) => x.vehicle && x.left.length >= 2 && x.right.length >= 2 && pointPolylineDistM(c, x.centreline) <= maxM + 10)
    .map((x) => [...x.left, ...x.right.slice().reverse()]);
  const onRoad = (t: number): boolean => rings.some((r) => pointInRing([c[0] + nx * t, c[1] + ny * t], r));
  const stepM = 0.25;
  const reach = (sign: number): number => {
    let t = 0;
    while (t + stepM <= maxM && onRoad(sign * (t + stepM))) t += stepM;
    return Math.max(1, t - 0.2);
  };
  const left = reach(1);
  const right = reach(-1);
  return [
    [c[0] - nx * right, c[1] - ny * right],
    [c[0] + nx * left, c[1] + ny * left],
  ];
}

/**
 * Where a change can be scored: lanelets that at least `minDrives` drives of each pass drive
 * (before and after the change), and primitives with at least 80 % of their vertices near such a
 * lanelet's centreline: within `lineNearM` for a line (a divider, kerb or stop line of a lane the
 * drives run in, or of the lane beside it: half a lane width is under 2 m) and `pointNearM` for a
 * sign or light (at the roadside). Farther lines are seen, if at all, across other lanes: at 8 m,
 * the Karlsruhe demo removed a divider whose own lanes one drive after the change ran.
 */
export function eligibleAlong(
  map: Lanelet2Map,
  before: ReadonlyArray<{ laneletIds: readonly string[] }>,
  after: ReadonlyArray<{ laneletIds: readonly string[] }>,
  minDrives: number,
  near: { lineNearM: number; pointNearM: number } = { lineNearM: 4, pointNearM: 8 },
): Eligibility {
  const count = (routes: ReadonlyArray<{ laneletIds: readonly string[] }>): Map<string, number> => {
    const m = new Map<string, number>();
    for (const r of routes) for (const id of new Set(r.laneletIds)) m.set(id, (m.get(id) ?? 0) + 1);
    return m;
  };
  const b = count(before);
  const a = count(after);
  const ok = new Set(map.lanelets.filter((l) => (b.get(l.id) ?? 0) >= minDrives && (a.get(l.id) ?? 0) >= minDrives).map((l) => l.id));
  const lines = map.lanelets.filter((l) => ok.has(l.id)).map((l) => l.centreline);
  const isNear = (p: GroundTruthPrimitive): boolean => {
    const nearM = p.points.length === 1 ? near.pointNearM : near.lineNearM;
    return p.points.filter((q) => lines.some((c) => pointPolylineDistM(q, c) <= nearM)).length >= 0.8 * p.points.length;
  };
  return { lanelet: (l) => ok.has(l.id), primitive: isNear };
}
