/**
 * A published map version as a Lanelet2 OSM map (OSM XML 0.6, as JOSM and Lanelet2's writer
 * produce it): the consensus primitives as Lanelet2 linestrings, no lanelets.
 *
 * Tagging (Lanelet2 lanelet2_core/doc/LinestringTagging.md, LaneletAndAreaTagging.md):
 * - lane_divider: `type=line_thin`, `subtype=solid|dashed`; mixed -> `solid_dashed` (the merge
 *   does not say which side is solid); `color` when the feature carries one.
 * - road_boundary: curb -> `type=curbstone` + `subtype=opts.curbSubtype` (the merge does not
 *   measure kerb height); road_border -> `type=road_border`; barrier -> `type=opts.barrierType`.
 *   A closed line (published with its last vertex = its first) is a closed way: its first node
 *   referenced again at the end.
 * - stop_line: `type=stop_line`, the bar's centre line.
 * - crosswalk: a Lanelet2 area (`type=multipolygon`, `subtype=crosswalk`, the lanelet subtype
 *   Lanelet2 also uses for areas) with one closed, untagged `outer` way (the published ring).
 * - traffic_sign / traffic_light: a 2-node linestring centred on the published point (Lanelet2
 *   draws signs and lights as a linestring from edge to edge), `subtype` = sign code (omitted
 *   when the code is unknown). Published points carry no facing: the line runs east-west.
 * Every way (crosswalk: its relation) also carries `fleetmap:id`, `fleetmap:score` and
 * `fleetmap:support_drives`; Lanelet2 keeps unknown tags.
 *
 * Node positions: WGS84 lat/lon written with 8 decimals (1e-8 deg, ~1 mm); `ele` (metres) only
 * when a GeoJSON position carries a third coordinate. Ids are stable: each feature owns a block
 * of ID_BLOCK ids at a position derived from a hash of its published id (the way, or the
 * crosswalk relation, takes the first, its nodes the next), so exporting the same version twice
 * gives the same file, and a feature that keeps its id across versions keeps its OSM ids.
 * Features are written in the order (class, id).
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, linkSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { lngLatBoundsOf, lngNearDeg } from '../../shared/geo.ts';
import type { ObjectStore } from '../store/index.ts';
import { areaRing, isAreaGeometry, type MapFeature, type Position } from './features.ts';
import { readPublishedVersion } from './published-version.ts';

export interface ExportLanelet2Options {
  /** `generator` attribute of `<osm>`. */
  generator: string;
  /** Curbstone subtype written for every curb ("high": not passable, Lanelet2's conservative choice). */
  curbSubtype: 'high' | 'low';
  /** Linestring type written for `barrier` boundaries. */
  barrierType: 'guard_rail' | 'fence' | 'wall';
  /** Length of the linestring that stands for a traffic sign, metres. */
  signWidthM: number;
  /** Length of the linestring that stands for a traffic light, metres. */
  lightWidthM: number;
}

export const DEFAULT_EXPORT_LANELET2: ExportLanelet2Options = {
  generator: 'fleetmap',
  curbSubtype: 'high',
  barrierType: 'guard_rail',
  signWidthM: 0.6, // metres
  lightWidthM: 0.3, // metres
};

/** Ids each feature may use (its way or relation, then its nodes). */
export const ID_BLOCK = 4096;
const ID_SLOTS = 2 ** 38; // blocks: ids stay below 2^50, exact in a double

type Tags = Record<string, string>;
interface OutNode {
  id: number;
  lat: string;
  lon: string;
  ele?: string;
}

/**
 * The features of one published version (any order, any tiles) as Lanelet2 OSM XML text.
 * Refuses (RangeError) a feature with an unknown class or geometry, or more than ID_BLOCK - 2
 * vertices.
 */
export function exportLanelet2(features: readonly MapFeature[], options: Partial<ExportLanelet2Options> = {}): string {
  const opts = { ...DEFAULT_EXPORT_LANELET2, ...options };
  if (opts.curbSubtype !== 'high' && opts.curbSubtype !== 'low') throw new RangeError(`options.curbSubtype must be "high" or "low", got ${JSON.stringify(opts.curbSubtype)}`);
  if (!['guard_rail', 'fence', 'wall'].includes(opts.barrierType)) throw new RangeError(`options.barrierType must be guard_rail, fence or wall, got ${JSON.stringify(opts.barrierType)}`);
  for (const k of ['signWidthM', 'lightWidthM'] as const) {
    if (!(opts[k] > 0 && opts[k] < 10)) throw new RangeError(`options.${k} must be in (0, 10) metres, got ${opts[k]}`);
  }
  const sorted = [...features].sort((a, b) => cmp(a.properties.class, b.properties.class) || cmp(a.properties.id, b.properties.id));
  const usedBlocks = new Set<number>();
  const nodes: OutNode[] = [];
  const wayLines: string[] = [];
  const relLines: string[] = [];

  for (const f of sorted) {
    const base = blockOf(f.properties.id, usedBlocks) * ID_BLOCK;
    let nextNode = base + 1;
    const nodeOf = (c: readonly number[]): number => {
      if (nextNode >= base + ID_BLOCK) throw new RangeError(`feature ${f.properties.id} has more than ${ID_BLOCK - 2} vertices; cannot export`);
      // A vertex a few metres past +-180 deg (a crosswalk's ring across the antimeridian, a sign's
      // end) is written on the other side, as OSM's longitudes stay within +-180.
      const n: OutNode = { id: nextNode++, lat: c[1]!.toFixed(8), lon: lngNearDeg(c[0]!, 0).toFixed(8) };
      if (c.length >= 3 && Number.isFinite(c[2])) n.ele = c[2]!.toFixed(3);
      nodes.push(n);
      return n.id;
    };
    const meta: Tags = {
      'fleetmap:id': f.properties.id,
      'fleetmap:score': String(f.properties.score),
      'fleetmap:support_drives': String(f.properties.supportDrives),
    };
    const g = f.geometry;
    const cls = f.properties.class;
    if (cls === 'crosswalk') {
      if (!isAreaGeometry(g)) throw new RangeError(`crosswalk ${f.properties.id} must be a Polygon or MultiPolygon, got ${g.type}`);
      // Across the antimeridian, its two sides joined again into one ring (nodeOf writes each vertex within +-180 deg).
      const ring = dedupe(areaRing(g));
      if (ring.length > 1 && same(ring[0]!, ring[ring.length - 1]!)) ring.pop();
      if (ring.length < 3) throw new RangeError(`crosswalk ${f.properties.id} has fewer than 3 distinct vertices`);
      const ids = ring.map(nodeOf);
      const wayId = nextNode++;
      wayLines.push(way(wayId, [...ids, ids[0]!], {}));
      relLines.push(relation(base, [{ type: 'way', ref: wayId, role: 'outer' }], { type: 'multipolygon', subtype: 'crosswalk', ...meta }));
      continue;
    }
    if (cls === 'traffic_sign' || cls === 'traffic_light') {
      if (g.type !== 'Point') throw new RangeError(`${cls} ${f.properties.id} must be a Point, got ${g.type}`);
      const half = (cls === 'traffic_sign' ? opts.signWidthM : opts.lightWidthM) / 2;
      const [lng, lat] = g.coordinates;
      const dLng = half / (111_320 * Math.cos((lat * Math.PI) / 180)); // degrees; the midpoint stays exact
      const ele = (g.coordinates as readonly number[]).slice(2, 3);
      const ids = [nodeOf([lng - dLng, lat, ...ele]), nodeOf([lng + dLng, lat, ...ele])];
      const tags: Tags = { type: cls };
      if (cls === 'traffic_sign' && f.properties.signCode) tags.subtype = f.properties.signCode;
      wayLines.push(way(base, ids, { ...tags, ...meta }));
      continue;
    }
    if (g.type !== 'LineString') throw new RangeError(`${cls} ${f.properties.id} must be a LineString, got ${g.type}`);
    const line = dedupe(g.coordinates);
    if (line.length < 2) throw new RangeError(`${cls} ${f.properties.id} has fewer than 2 distinct vertices`);
    // A closed line (a kerb round an island: last vertex = first) is a closed way, its first node
    // referenced again at the end, as OSM and Lanelet2 write a closed linestring.
    const closed = line.length >= 4 && same(line[0]!, line[line.length - 1]!);
    const ids = (closed ? line.slice(0, -1) : line).map(nodeOf);
    wayLines.push(way(base, closed ? [...ids, ids[0]!] : ids, { ...lineTags(f, opts), ...meta }));
  }

  // minlon > maxlon where the nodes lie on both sides of the antimeridian (shared/geo.ts).
  const box = lngLatBoundsOf(nodes.map((n) => ({ lng: Number(n.lon), lat: Number(n.lat) })));
  const out: string[] = [`<?xml version='1.0' encoding='UTF-8'?>`, `<osm version='0.6' upload='false' generator='${esc(opts.generator)}'>`];
  if (box) {
    const { south, west, north, east } = box;
    out.push(`  <bounds minlat='${south.toFixed(8)}' minlon='${west.toFixed(8)}' maxlat='${north.toFixed(8)}' maxlon='${east.toFixed(8)}' />`);
  }
  for (const n of nodes.sort((a, b) => a.id - b.id)) {
    const attrs = `id='${n.id}' visible='true' version='1' lat='${n.lat}' lon='${n.lon}'`;
    out.push(n.ele === undefined ? `  <node ${attrs} />` : `  <node ${attrs}>\n    <tag k='ele' v='${n.ele}' />\n  </node>`);
  }
  out.push(...wayLines, ...relLines, '</osm>');
  return out.join('\n') + '\n';
}

/**
 * Every feature of a published version (default: the one tiles/latest.json names), read through
 * its manifest (tiles/v<N>/manifest.json lists the tile objects).
 */
export async function readPublishedFeatures(store: ObjectStore, version?: number): Promise<{ version: number; features: MapFeature[] }> {
  const p = await readPublishedVersion(store, version);
  return { version: p.version, features: p.collections.flatMap((c) => c.features) };
}

export interface ExportLanelet2Summary {
  version: number;
  file: string;
  features: number;
  bytes: number;
}

/**
 * Write published version `version` (default latest) of `store` to the new file `outFile` as
 * Lanelet2 OSM XML. Never replaces a file: written beside it, then hard-linked into place.
 */
export async function exportLanelet2File(store: ObjectStore, outFile: string, version?: number, options: Partial<ExportLanelet2Options> = {}): Promise<ExportLanelet2Summary> {
  const file = path.resolve(outFile);
  if (existsSync(file)) throw new Error(`refusing to overwrite ${file}: it exists`);
  const pub = await readPublishedFeatures(store, version);
  if (pub.features.length === 0) throw new Error(`map version ${pub.version} has no features: nothing to export`);
  const xml = Buffer.from(exportLanelet2(pub.features, { generator: `fleetmap map v${pub.version}`, ...options }), 'utf8');
  const tmp = `${file}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    writeFileSync(tmp, xml, { flag: 'wx' });
    try {
      linkSync(tmp, file);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw new Error(`refusing to overwrite ${file}: it appeared while exporting`);
      throw e;
    }
  } finally {
    rmSync(tmp, { force: true });
  }
  return { version: pub.version, file, features: pub.features.length, bytes: xml.length };
}

function lineTags(f: MapFeature, opts: ExportLanelet2Options): Tags {
  const p = f.properties;
  switch (p.class) {
    case 'lane_divider': {
      const subtype = p.style === 'dashed' ? 'dashed' : p.style === 'mixed' ? 'solid_dashed' : p.style === 'solid' ? 'solid' : undefined;
      if (!subtype) throw new RangeError(`lane_divider ${p.id} has no known style (got ${JSON.stringify(p.style)})`);
      const tags: Tags = { type: 'line_thin', subtype };
      const color = (p as { color?: unknown }).color;
      if (typeof color === 'string' && color !== '') tags.color = color;
      return tags;
    }
    case 'road_boundary':
      if (p.kind === 'curb') return { type: 'curbstone', subtype: opts.curbSubtype };
      if (p.kind === 'road_border') return { type: 'road_border' };
      if (p.kind === 'barrier') return { type: opts.barrierType };
      throw new RangeError(`road_boundary ${p.id} has no known kind (got ${JSON.stringify(p.kind)})`);
    case 'stop_line':
      return { type: 'stop_line' };
    default:
      throw new RangeError(`feature ${p.id}: class ${JSON.stringify(p.class)} is not a line class`);
  }
}

/** A free block for this feature id: hash slot, then the next free one (deterministic for a sorted input). */
function blockOf(id: string, used: Set<number>): number {
  const h = createHash('sha256').update(id).digest();
  let slot = (h.readUIntBE(0, 6) % (ID_SLOTS - 1)) + 1; // never block 0 (id 0 is not an OSM id)
  while (used.has(slot)) slot = (slot % (ID_SLOTS - 1)) + 1;
  used.add(slot);
  return slot;
}

/** Positions with consecutive repeats (after rounding to 1e-8 deg) removed. */
function dedupe(pts: readonly Position[]): Array<readonly number[]> {
  const out: Array<readonly number[]> = [];
  for (const p of pts) {
    const q = out[out.length - 1];
    if (!q || !same(q, p)) out.push(p);
  }
  return out;
}

function same(a: readonly number[], b: readonly number[]): boolean {
  return a[0]!.toFixed(8) === b[0]!.toFixed(8) && a[1]!.toFixed(8) === b[1]!.toFixed(8);
}

function way(id: number, nodeIds: readonly number[], tags: Tags): string {
  return [`  <way id='${id}' visible='true' version='1'>`, ...nodeIds.map((r) => `    <nd ref='${r}' />`), ...tagLines(tags), '  </way>'].join('\n');
}

function relation(id: number, members: Array<{ type: string; ref: number; role: string }>, tags: Tags): string {
  return [`  <relation id='${id}' visible='true' version='1'>`, ...members.map((m) => `    <member type='${m.type}' ref='${m.ref}' role='${esc(m.role)}' />`), ...tagLines(tags), '  </relation>'].join('\n');
}

function tagLines(tags: Tags): string[] {
  return Object.entries(tags).map(([k, v]) => `    <tag k='${esc(k)}' v='${esc(v)}' />`);
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/'/g, '&apos;').replace(/"/g, '&quot;');
}
