/**
 * Load a Lanelet2 OSM map into ground-truth primitives and lanelets in one map-wide local
 * metric frame.
 *
 * Projection is explicit: `opts.origin` is required (a lat/lon file has no natural origin and a
 * silent default would put the map in the wrong place); `osmBoundsCentre(xml)` gives a sensible
 * one. All geometry is `[eastM, northM]` in `LocalFrame(origin)`; the map is treated as flat.
 *
 * Problems (a way referencing a missing node, a lanelet without a bound, ...) are collected in
 * `errors` and the element is skipped; a `MapLoadError` is thrown only when nothing usable
 * remains, or on the first problem with `strict: true`.
 */
import { LocalFrame, assertLngLat, boundsCentre, lngLatBoundsOf, lngSpanDeg, type LngLat, type LngLatBounds } from '../shared/geo.ts';
import { centroid, polylineLengthM, resampleCount, cumulativeLengthsM, pointAtM } from '../shared/geometry.ts';
import type { Primitive, XY } from '../shared/schema.ts';
import { stripeShape } from './crosswalk-stripes.ts';
import { buildCrosswalks, type CrosswalkPolygonInput, type MarkingLine } from './crosswalks.ts';
import { isOneWayLanelet, isVehicleLanelet, mapWayTags, refLineStopLine, type WayMapping } from './lanelet2-tags.ts';
import { MapLoadError, type MapLoadProblem } from './map-errors.ts';
import { parseOsmXml, type OsmDocument, type OsmWay } from './osm-xml.ts';

/** A map primitive with its source in the OSM file. */
export interface GroundTruthPrimitive extends Primitive {
  /**
   * OSM way id; for crosswalks the lanelet or area id, or the ids of its marking ways joined by
   * "+" ("wayA+wayB" for two side lines, one id per stripe for a crossing drawn stripe by stripe).
   */
  id: string;
  /** OSM `type` tag of the source way, e.g. "line_thin". */
  sourceType: string;
  /** OSM `subtype` tag of the source way ("" when absent). */
  sourceSubtype: string;
  /** Paint colour from the OSM `color` tag (e.g. "white", "yellow"); absent = white. */
  color?: string;
}

export interface LaneletBound {
  wayId: string;
  /** OSM `type`/`subtype` of the boundary way, e.g. "line_thin"/"dashed", "virtual"/"". */
  type: string;
  subtype: string;
  /** True when the way runs against the lanelet's direction and was reversed. */
  inverted: boolean;
}

export interface Lanelet {
  id: string;
  /** OSM `subtype`, "road" when absent. */
  subtype: string;
  /** Motor vehicles may drive here (road, highway, or participant:vehicle=yes). */
  vehicle: boolean;
  /** False when vehicles may drive it in both directions (then reversed, left and right swap). */
  oneWay: boolean;
  /** Boundaries oriented in the lanelet's direction, `[eastM, northM]`. */
  left: XY[];
  right: XY[];
  /** Midline of left and right, resampled to a common vertex count. */
  centreline: XY[];
  lengthM: number;
  leftBound: LaneletBound;
  rightBound: LaneletBound;
  /** OSM node ids of the first and last vertex of the left and right bound (after orientation). */
  startNodeIds: [string, string];
  endNodeIds: [string, string];
  /** Lanelets that continue this one in its direction (their start nodes are our end nodes). */
  successorIds: string[];
  /** Same-direction lanelet sharing our left (right) bound, if any. */
  leftNeighbourId: string | null;
  rightNeighbourId: string | null;
}

export interface ClassTotal {
  count: number;
  /** Summed length in metres (crosswalks: of their marking lines; points: 0). */
  lengthM: number;
}

export interface Lanelet2Map {
  frame: LocalFrame;
  bounds: LngLatBounds;
  primitives: GroundTruthPrimitive[];
  lanelets: Lanelet[];
  laneletById: Map<string, Lanelet>;
  /**
   * Totals per mapped class, keyed "lane_divider/solid", "road_boundary/curb", "stop_line",
   * "crosswalk", "traffic_sign", ...; and per OSM "type/subtype" of ways that are no primitive
   * (virtual lines, unknown paint) in `unmapped`.
   */
  totals: Record<string, ClassTotal>;
  unmapped: Record<string, ClassTotal>;
  errors: MapLoadProblem[];
}

export interface LoadLanelet2Options {
  /** Origin of the map-wide local frame (required, WGS84 degrees). */
  origin: LngLat;
  /** Throw on the first problem instead of collecting it. Default false. */
  strict?: boolean;
  /** Vertex spacing used to resample bounds for the centreline, metres. Default 1. */
  centrelineSpacingM?: number;
}

/**
 * Centre of the file's `<bounds>`, or of the extent of its nodes when it has none (across the
 * antimeridian where the map lies on both sides of it: osmBounds). Accepts the XML text or an
 * already parsed document (to parse only once).
 */
export function osmBoundsCentre(osmXml: string | OsmDocument): LngLat {
  return boundsCentre(osmBounds(typeof osmXml === 'string' ? parseOsmXml(osmXml) : osmXml));
}

/** Load a Lanelet2 map from OSM XML text (or a document parsed by `parseOsmXml`). */
export function loadLanelet2(osmXml: string | OsmDocument, opts: LoadLanelet2Options): Lanelet2Map {
  if (!opts || opts.origin === undefined || opts.origin === null) {
    throw new MapLoadError(
      'loadLanelet2: opts.origin is required: lat/lon data needs an explicit projection origin ' +
        '(there is no default); pass e.g. { origin: osmBoundsCentre(osmXml) }',
    );
  }
  assertLngLat(opts.origin, 'opts.origin');
  const spacingM = opts.centrelineSpacingM ?? 1;
  if (!(spacingM > 0)) throw new RangeError(`opts.centrelineSpacingM must be > 0 metres, got ${spacingM}`);
  const frame = new LocalFrame(opts.origin);
  const doc = typeof osmXml === 'string' ? parseOsmXml(osmXml) : osmXml;
  const errors: MapLoadProblem[] = [];
  const report = (p: MapLoadProblem): void => {
    if (opts.strict) throw new MapLoadError(`${p.element}: ${p.message}`, [...errors, p]);
    errors.push(p);
  };
  doc.problems.forEach(report);
  assertPlaced(doc);
  if (doc.nodes.size === 0) throw new MapLoadError('OSM file has no usable nodes', errors);

  const xyOf = new Map<string, XY>();
  for (const n of doc.nodes.values()) xyOf.set(n.id, frame.toLocal({ lng: n.lon, lat: n.lat }));
  const pointsByWay = new Map<string, XY[]>();
  const wayPoints = (way: OsmWay): XY[] => {
    const cached = pointsByWay.get(way.id);
    if (cached) return cached;
    const pts: XY[] = [];
    pointsByWay.set(way.id, pts);
    for (const ref of way.nodeIds) {
      const p = xyOf.get(ref);
      if (!p) {
        report({ code: 'missing_reference', element: `way ${way.id}`, message: `references node ${ref}, which is not in the file` });
        continue;
      }
      const q = pts[pts.length - 1];
      if (!q || q[0] !== p[0] || q[1] !== p[1]) pts.push(p);
    }
    return pts;
  };

  const primitives: GroundTruthPrimitive[] = [];
  const totals: Record<string, ClassTotal> = {};
  const unmapped: Record<string, ClassTotal> = {};
  const markings: MarkingLine[] = [];
  const stopRefLines = stopLineRefLines(doc);
  for (const way of doc.ways.values()) {
    const type = way.tags.type ?? '';
    const subtype = way.tags.subtype ?? '';
    const stopRef: WayMapping | null = stopRefLines.has(way.id) ? { as: 'polyline', cls: 'stop_line' } : null;
    const mapping = stopRef ?? mapWayTags(type, subtype);
    if (mapping.as === 'none') {
      if (type !== '' && !isAreaOnly(way)) add(unmapped, `${type}/${subtype}`, polylineLengthM(wayPoints(way)));
      continue;
    }
    const pts = wayPoints(way);
    const need = mapping.as === 'point' ? 1 : 2;
    if (pts.length < need) {
      report({ code: 'degenerate_geometry', element: `way ${way.id}`, message: `${type} needs >= ${need} distinct vertices, has ${pts.length}` });
      continue;
    }
    const src = { id: way.id, sourceType: type, sourceSubtype: subtype };
    const closed = (way.nodeIds.length >= 4 && way.nodeIds[0] === way.nodeIds[way.nodeIds.length - 1]) || way.tags.area === 'yes';
    if (mapping.as === 'crosswalk_marking') {
      markings.push({ id: way.id, type, subtype, points: pts, closed });
    } else if (mapping.as === 'point') {
      // A sign or light drawn as a line (its plate across the road) stands at the line's middle;
      // drawn as a closed outline, at the outline's centre.
      const cum = cumulativeLengthsM(pts);
      const last = pts[pts.length - 1]!;
      const ring = last[0] === pts[0]![0] && last[1] === pts[0]![1] ? pts.slice(0, -1) : pts;
      const mid = closed && ring.length >= 3 ? centroid(ring) : pointAtM(pts, cum, cum[cum.length - 1]! / 2);
      const p: GroundTruthPrimitive = { ...src, cls: mapping.cls, points: [mid] };
      if (mapping.cls === 'traffic_sign') p.signCode = mapping.signCode ?? '';
      primitives.push(p);
      add(totals, mapping.cls, 0);
    } else {
      // A stop line drawn as its outline is the bar's centre line.
      const outline = mapping.cls === 'stop_line' && closed && pts.length >= 3;
      const p: GroundTruthPrimitive = { ...src, cls: mapping.cls, points: outline ? centreLineOfOutline(pts) : pts };
      if (mapping.style) p.style = mapping.style;
      if (mapping.kind) p.kind = mapping.kind;
      if (way.tags.color) p.color = way.tags.color;
      primitives.push(p);
      add(totals, classKey(p), polylineLengthM(p.points));
    }
  }

  const lanelets = buildLanelets(doc, wayPoints, spacingM, report);

  const laneletInputs = lanelets.map((l) => ({
    id: l.id,
    subtype: l.subtype,
    leftWayId: l.leftBound.wayId,
    rightWayId: l.rightBound.wayId,
    leftType: l.leftBound.type,
    rightType: l.rightBound.type,
    left: l.left,
    right: l.right,
  }));
  const { areas, unpaired } = buildCrosswalks(markings, laneletInputs, {}, crosswalkPolygons(doc, wayPoints, report));
  for (const a of areas) {
    if (a.ring.length < 3) continue;
    primitives.push({ id: a.id, cls: 'crosswalk', points: a.ring, sourceType: a.sourceType, sourceSubtype: a.sourceSubtype });
    add(totals, 'crosswalk', a.markingLengthM);
  }
  for (const m of unpaired) {
    report({ code: 'unpaired_marking', element: `way ${m.id}`, message: `${m.type} line has no partner line within reach; not a crosswalk area` });
  }

  if (primitives.length === 0 && lanelets.length === 0) {
    throw new MapLoadError('OSM file has no map primitives and no lanelets (is it a Lanelet2 map?)', errors);
  }
  return {
    frame,
    bounds: osmBounds(doc),
    primitives,
    lanelets,
    laneletById: new Map(lanelets.map((l) => [l.id, l])),
    totals,
    unmapped,
    errors,
  };
}

/**
 * Ways that regulatory elements use as `ref_line` where vehicles stop, that are painted
 * (lanelet2-tags.ts `refLineStopLine`) and bound no lanelet: stop lines whatever line type they carry.
 */
function stopLineRefLines(doc: OsmDocument): Set<string> {
  // A lanelet bound runs along the lane: whatever a regulatory element says, it is no stop line.
  const bounds = new Set<string>();
  for (const rel of doc.relations.values()) {
    if (rel.tags.type === 'lanelet') for (const m of rel.members) if (m.type === 'way' && (m.role === 'left' || m.role === 'right')) bounds.add(m.ref);
  }
  const out = new Set<string>();
  for (const rel of doc.relations.values()) {
    if (rel.tags.type !== 'regulatory_element') continue;
    const signCodes = rel.members
      .filter((m) => m.role === 'refers' && m.type === 'way')
      .map((m) => doc.ways.get(m.ref)?.tags)
      .filter((t): t is Record<string, string> => t !== undefined && t.type === 'traffic_sign')
      .map((t) => t.subtype ?? '');
    for (const m of rel.members) {
      if (m.role !== 'ref_line' || m.type !== 'way') continue;
      const way = doc.ways.get(m.ref);
      if (way && !bounds.has(way.id) && refLineStopLine(rel.tags.subtype ?? '', signCodes, way.tags.type ?? '')) out.add(way.id);
    }
  }
  return out;
}

/**
 * Crossings mapped as Lanelet2 areas (`type=multipolygon`, `subtype=crosswalk`): the outer ring,
 * joined from its `outer` ways end to end.
 */
function crosswalkPolygons(doc: OsmDocument, wayPoints: (w: OsmWay) => XY[], report: (p: MapLoadProblem) => void): CrosswalkPolygonInput[] {
  const out: CrosswalkPolygonInput[] = [];
  for (const rel of doc.relations.values()) {
    if ((rel.tags.type !== 'multipolygon' && rel.tags.type !== 'area') || rel.tags.subtype !== 'crosswalk') continue;
    const ways = rel.members.filter((m) => m.type === 'way' && m.role === 'outer').map((m) => doc.ways.get(m.ref));
    if (ways.length === 0 || ways.some((w) => w === undefined)) {
      report({ code: ways.length === 0 ? 'incomplete_area' : 'missing_reference', element: `relation ${rel.id}`, message: 'crosswalk area lacks an outer way or references a missing one' });
      continue;
    }
    const ring = joinRing(ways as OsmWay[], wayPoints);
    if (!ring || ring.length < 3) {
      report({ code: 'degenerate_geometry', element: `relation ${rel.id}`, message: 'crosswalk area outer ways do not form a ring of >= 3 vertices' });
      continue;
    }
    out.push({ id: rel.id, ring, sourceType: rel.tags.type, sourceSubtype: 'crosswalk' });
  }
  return out;
}

/** Ways joined end to end (by node id) into one ring, first vertex not repeated; null when they do not chain. */
function joinRing(ways: readonly OsmWay[], wayPoints: (w: OsmWay) => XY[]): XY[] | null {
  const left = ways.map((w) => ({ ids: w.nodeIds, pts: wayPoints(w) })).filter((w) => w.ids.length === w.pts.length);
  if (left.length !== ways.length) return null;
  const first = left.shift()!;
  const ids = [...first.ids];
  const pts = [...first.pts];
  while (left.length > 0) {
    const end = ids[ids.length - 1];
    const k = left.findIndex((w) => w.ids[0] === end || w.ids[w.ids.length - 1] === end);
    if (k < 0) return null;
    const w = left.splice(k, 1)[0]!;
    const forward = w.ids[0] === end;
    const wIds = forward ? w.ids : [...w.ids].reverse();
    const wPts = forward ? w.pts : [...w.pts].reverse();
    ids.push(...wIds.slice(1));
    pts.push(...wPts.slice(1));
  }
  if (ids.length > 1 && ids[0] === ids[ids.length - 1]) pts.pop();
  return pts;
}

/** Centre line of a painted bar drawn as its outline: along its long axis, end to end. */
function centreLineOfOutline(ring: readonly XY[]): XY[] {
  const s = stripeShape(ring, true);
  const h = s.lengthM / 2;
  return [
    [s.centre[0] - s.axis[0] * h, s.centre[1] - s.axis[1] * h],
    [s.centre[0] + s.axis[0] * h, s.centre[1] + s.axis[1] * h],
  ];
}

/** "lane_divider/dashed", "road_boundary/curb", "stop_line", ... */
export function classKey(p: Primitive): string {
  if (p.cls === 'lane_divider' && p.style) return `${p.cls}/${p.style}`;
  if (p.cls === 'road_boundary' && p.kind) return `${p.cls}/${p.kind}`;
  return p.cls;
}

function buildLanelets(
  doc: OsmDocument,
  wayPoints: (w: OsmWay) => XY[],
  spacingM: number,
  report: (p: MapLoadProblem) => void,
): Lanelet[] {
  const out: Lanelet[] = [];
  for (const rel of doc.relations.values()) {
    if (rel.tags.type !== 'lanelet') continue;
    const leftM = rel.members.find((m) => m.role === 'left' && m.type === 'way');
    const rightM = rel.members.find((m) => m.role === 'right' && m.type === 'way');
    const leftWay = leftM && doc.ways.get(leftM.ref);
    const rightWay = rightM && doc.ways.get(rightM.ref);
    if (!leftWay || !rightWay) {
      const lacking = [!leftM ? 'left' : '', !rightM ? 'right' : ''].filter(Boolean).join(' and ');
      const what = lacking ? `lacks its ${lacking} way member` : `references a missing ${!leftWay ? 'left' : 'right'} way ${!leftWay ? leftM!.ref : rightM!.ref}`;
      report({ code: !leftM || !rightM ? 'incomplete_lanelet' : 'missing_reference', element: `relation ${rel.id}`, message: `lanelet ${what}` });
      continue;
    }
    let left = wayPoints(leftWay);
    let right = wayPoints(rightWay);
    let leftIds = leftWay.nodeIds.filter((id) => doc.nodes.has(id));
    let rightIds = rightWay.nodeIds.filter((id) => doc.nodes.has(id));
    if (left.length < 2 || right.length < 2) {
      report({ code: 'degenerate_geometry', element: `relation ${rel.id}`, message: 'lanelet bound has fewer than 2 vertices' });
      continue;
    }
    // Bounds may be drawn either way. Align the right bound with the left one, then pick the
    // direction of travel in which the left bound lies on the left.
    const rightInverted = boundsOpposed(left, right);
    if (rightInverted) {
      right = [...right].reverse();
      rightIds = [...rightIds].reverse();
    }
    const leftInverted = !leftLiesLeft(left, right);
    if (leftInverted) {
      left = [...left].reverse();
      leftIds = [...leftIds].reverse();
      right = [...right].reverse();
      rightIds = [...rightIds].reverse();
    }
    const n = Math.max(2, Math.ceil(Math.max(polylineLengthM(left), polylineLengthM(right)) / spacingM) + 1);
    const l = resampleCount(left, n);
    const r = resampleCount(right, n);
    const centreline: XY[] = l.map((p, i) => [(p[0] + r[i]![0]) / 2, (p[1] + r[i]![1]) / 2]);
    out.push({
      id: rel.id,
      subtype: rel.tags.subtype ?? 'road',
      vehicle: isVehicleLanelet(rel.tags),
      oneWay: isOneWayLanelet(rel.tags),
      // Copies: the way's vertex arrays are shared with the primitives.
      left: [...left],
      right: [...right],
      centreline,
      lengthM: polylineLengthM(centreline),
      leftBound: { wayId: leftWay.id, type: leftWay.tags.type ?? '', subtype: leftWay.tags.subtype ?? '', inverted: leftInverted },
      rightBound: { wayId: rightWay.id, type: rightWay.tags.type ?? '', subtype: rightWay.tags.subtype ?? '', inverted: rightInverted !== leftInverted },
      startNodeIds: [leftIds[0]!, rightIds[0]!],
      endNodeIds: [leftIds[leftIds.length - 1]!, rightIds[rightIds.length - 1]!],
      successorIds: [],
      leftNeighbourId: null,
      rightNeighbourId: null,
    });
  }
  linkLanelets(out);
  return out;
}

/** Successors by shared end/start nodes; same-direction neighbours by shared bound ways. */
function linkLanelets(lanelets: Lanelet[]): void {
  const byStart = new Map<string, Lanelet[]>();
  for (const l of lanelets) push(byStart, `${l.startNodeIds[0]}|${l.startNodeIds[1]}`, l);
  for (const l of lanelets) {
    const next = byStart.get(`${l.endNodeIds[0]}|${l.endNodeIds[1]}`) ?? [];
    l.successorIds = next.filter((s) => s !== l).map((s) => s.id);
  }
  // B is A's left neighbour (same direction) when B's right bound is A's left bound, both
  // running the same way along the shared way.
  const byRightWay = new Map<string, Lanelet[]>();
  const byLeftWay = new Map<string, Lanelet[]>();
  for (const l of lanelets) {
    push(byRightWay, l.rightBound.wayId, l);
    push(byLeftWay, l.leftBound.wayId, l);
  }
  for (const a of lanelets) {
    const left = (byRightWay.get(a.leftBound.wayId) ?? []).find((b) => b !== a && b.rightBound.inverted === a.leftBound.inverted);
    const right = (byLeftWay.get(a.rightBound.wayId) ?? []).find((b) => b !== a && b.leftBound.inverted === a.rightBound.inverted);
    a.leftNeighbourId = left?.id ?? null;
    a.rightNeighbourId = right?.id ?? null;
  }
}

/** True when the right bound runs against the left one (its start is nearer the left's end). */
function boundsOpposed(left: readonly XY[], right: readonly XY[]): boolean {
  const l0 = left[0]!;
  const l1 = left[left.length - 1]!;
  const r0 = right[0]!;
  const r1 = right[right.length - 1]!;
  const same = dist(l0, r0) + dist(l1, r1);
  const opposite = dist(l0, r1) + dist(l1, r0);
  return opposite < same;
}

/**
 * True when `left` lies to the left of `right` for travel along them (both already aligned):
 * the summed cross products of the travel direction and the right-to-left offset are positive.
 */
function leftLiesLeft(left: readonly XY[], right: readonly XY[]): boolean {
  const samples = 5;
  const l = resampleCount(left, samples);
  const r = resampleCount(right, samples);
  let cross = 0;
  for (let i = 0; i < samples - 1; i++) {
    const mx0 = (l[i]![0] + r[i]![0]) / 2;
    const my0 = (l[i]![1] + r[i]![1]) / 2;
    const dx = (l[i + 1]![0] + r[i + 1]![0]) / 2 - mx0;
    const dy = (l[i + 1]![1] + r[i + 1]![1]) / 2 - my0;
    const ox = l[i]![0] - r[i]![0] + (l[i + 1]![0] - r[i + 1]![0]);
    const oy = l[i]![1] - r[i]![1] + (l[i + 1]![1] - r[i + 1]![1]);
    cross += dx * oy - dy * ox;
  }
  return cross >= 0;
}

/**
 * The file's `<bounds>` (minlon > maxlon: across the antimeridian), or the smallest box holding
 * its nodes (geo.ts lngLatBoundsOf: across the antimeridian where they lie on both sides of it).
 * A declared box wider than half the globe is taken for a map across the antimeridian written as
 * min and max longitude (-179.99 to 179.99): the nodes' box replaces it, as its centre would lie
 * on the other side of the Earth.
 */
/** Throws when nodes of the file could not be placed for want of their local frame's origin (osm-xml.ts). */
function assertPlaced(doc: OsmDocument): void {
  const placeless = doc.problems.filter((p) => p.code === 'no_position');
  if (placeless.length > 0) {
    throw new MapLoadError(
      `${placeless.length} of the file's nodes have no lat/lon, only local_x/local_y (a local projection, as Autoware writes it): give the WGS84 origin of that frame (--map-origin LAT,LON); there is no default`,
      doc.problems,
    );
  }
}

function osmBounds(doc: OsmDocument): LngLatBounds {
  assertPlaced(doc);
  if (doc.declaredBounds && lngSpanDeg(doc.declaredBounds) <= 180) return doc.declaredBounds;
  const b = lngLatBoundsOf([...doc.nodes.values()].map((n) => ({ lng: n.lon, lat: n.lat })));
  if (!b) throw new MapLoadError('OSM file has neither <bounds> nor nodes: cannot compute its bounds');
  return b;
}

function isAreaOnly(way: OsmWay): boolean {
  return way.tags.area === 'yes';
}

function add(totals: Record<string, ClassTotal>, key: string, lengthM: number): void {
  const t = totals[key] ?? (totals[key] = { count: 0, lengthM: 0 });
  t.count++;
  t.lengthM += lengthM;
}

function push<K, V>(m: Map<K, V[]>, k: K, v: V): void {
  const list = m.get(k);
  if (list) list.push(v);
  else m.set(k, [v]);
}

function dist(a: XY, b: XY): number {
  return Math.hypot(a[0] - b[0], a[1] - b[1]);
}
