/**
 * Parse OSM XML (as JOSM and Lanelet2 write it) into plain nodes, ways and relations.
 * Knows nothing of Lanelet2 semantics: that is lanelet2.ts's job.
 *
 * Elements marked `action='delete'` or `visible='false'` (JOSM edits) are skipped. Node
 * positions are WGS84 degrees, kept as written; no projection happens here, with one exception:
 * a node without lat/lon (missing or empty attributes) that carries `local_x` / `local_y` tags
 * (metres east / north in the map's own Cartesian frame, as Autoware's "local" projection and
 * VMB exports write them) is placed only when the caller gives that frame's origin
 * (`localOrigin`): on the plane tangent to the ellipsoid there (`LocalFrame.toLngLat`). A grid
 * projection's convergence and scale (UTM, MGRS) are not modelled; within a few kilometres
 * of the origin they move a point by well under a metre and leave the map's own geometry
 * as it is. Without an origin such nodes are problems (`no_position`), and there is no default.
 *
 * A node farther than MAX_NODE_SPREAD_M from the map's median position (a stray node at 0,0, or
 * a typo in a degree) is dropped as `implausible_position`: the map-wide frame treats the map as
 * flat, and one such node would stretch every way through it to thousands of kilometres.
 */
import { XMLParser } from 'fast-xml-parser';
import { LocalFrame, type LngLat } from '../shared/geo.ts';
import type { LngLatBounds } from '../shared/tiles.ts';
import { MapLoadError, type MapLoadProblem } from './map-errors.ts';

export type OsmTags = Record<string, string>;

export interface OsmNode {
  id: string;
  /** Degrees north, WGS84. */
  lat: number;
  /** Degrees east, WGS84. */
  lon: number;
  tags: OsmTags;
}

export interface OsmWay {
  id: string;
  nodeIds: string[];
  tags: OsmTags;
}

export interface OsmMember {
  type: 'node' | 'way' | 'relation';
  ref: string;
  role: string;
}

export interface OsmRelation {
  id: string;
  members: OsmMember[];
  tags: OsmTags;
}

export interface OsmDocument {
  nodes: Map<string, OsmNode>;
  ways: Map<string, OsmWay>;
  relations: Map<string, OsmRelation>;
  /** From the `<bounds>` element when the file has one. */
  declaredBounds: LngLatBounds | null;
  problems: MapLoadProblem[];
  /** Nodes that had no lat/lon but `local_x` / `local_y` tags (placed only with `localOrigin`). */
  localOnlyNodes: number;
}

export interface ParseOsmOptions {
  /** WGS84 origin of the `local_x` / `local_y` frame of nodes that have no lat/lon (no default). */
  localOrigin?: LngLat;
}

/** Nodes farther than this from the median node are dropped (`implausible_position`), metres. */
export const MAX_NODE_SPREAD_M = 100_000;

type XmlAttrs = Record<string, unknown>;
interface XmlElement extends XmlAttrs {
  tag?: XmlAttrs[];
  nd?: XmlAttrs[];
  member?: XmlAttrs[];
}

const ARRAY_ELEMENTS = new Set(['node', 'way', 'relation', 'nd', 'tag', 'member', 'bounds']);

/** Parse an OSM XML document. Throws `MapLoadError` only if the text is not an OSM document. */
export function parseOsmXml(osmXml: string, options: ParseOsmOptions = {}): OsmDocument {
  if (typeof osmXml !== 'string') throw new MapLoadError(`osmXml must be a string, got ${typeof osmXml}`);
  const parser = new XMLParser({
    ignoreAttributes: false,
    attributeNamePrefix: '',
    parseAttributeValue: false,
    parseTagValue: false,
    isArray: (name) => ARRAY_ELEMENTS.has(name),
  });
  let root: unknown;
  try {
    root = parser.parse(osmXml);
  } catch (err) {
    throw new MapLoadError(`cannot parse OSM XML: ${(err as Error).message}`);
  }
  const osm = (root as { osm?: unknown } | undefined)?.osm;
  if (osm === undefined || osm === null || typeof osm !== 'object') {
    throw new MapLoadError('not an OSM XML document: no <osm> root element');
  }
  const o = osm as { node?: XmlElement[]; way?: XmlElement[]; relation?: XmlElement[]; bounds?: XmlAttrs[] };
  const problems: MapLoadProblem[] = [];
  const doc: OsmDocument = {
    nodes: new Map(),
    ways: new Map(),
    relations: new Map(),
    declaredBounds: parseBounds(o.bounds?.[0]),
    problems,
    localOnlyNodes: 0,
  };

  const localFrame = options.localOrigin ? new LocalFrame(options.localOrigin) : undefined;
  for (const el of o.node ?? []) {
    if (isDeleted(el)) continue;
    const id = str(el.id);
    const tags = parseTags(el.tag);
    let lat = decimal(el.lat);
    let lon = decimal(el.lon);
    if (str(el.lat).trim() === '' || str(el.lon).trim() === '') {
      const eastM = decimal(tags.local_x);
      const northM = decimal(tags.local_y);
      if (id !== '' && Number.isFinite(eastM) && Number.isFinite(northM)) {
        doc.localOnlyNodes++;
        if (!localFrame) {
          problems.push({ code: 'no_position', element: `node ${id}`, message: 'node has no lat/lon, only local_x/local_y: the map needs the origin of its local frame (--map-origin LAT,LON)' });
          continue;
        }
        ({ lat, lng: lon } = localFrame.toLngLat([eastM, northM]));
      }
    }
    if (id === '' || !Number.isFinite(lat) || !Number.isFinite(lon) || Math.abs(lat) > 90 || Math.abs(lon) > 180) {
      problems.push({
        code: 'malformed_element',
        element: `node ${id || '?'}`,
        message: `node needs an id and lat/lon in degrees, got id=${JSON.stringify(el.id)} lat=${JSON.stringify(el.lat)} lon=${JSON.stringify(el.lon)}`,
      });
      continue;
    }
    doc.nodes.set(id, { id, lat, lon, tags });
  }
  dropStrayNodes(doc);

  for (const el of o.way ?? []) {
    if (isDeleted(el)) continue;
    const id = str(el.id);
    if (id === '') {
      problems.push({ code: 'malformed_element', element: 'way ?', message: 'way without an id attribute' });
      continue;
    }
    const nodeIds = (el.nd ?? []).map((nd) => str(nd.ref)).filter((ref) => ref !== '');
    doc.ways.set(id, { id, nodeIds, tags: parseTags(el.tag) });
  }

  for (const el of o.relation ?? []) {
    if (isDeleted(el)) continue;
    const id = str(el.id);
    if (id === '') {
      problems.push({ code: 'malformed_element', element: 'relation ?', message: 'relation without an id attribute' });
      continue;
    }
    const members: OsmMember[] = [];
    for (const m of el.member ?? []) {
      const type = str(m.type);
      const ref = str(m.ref);
      if ((type !== 'node' && type !== 'way' && type !== 'relation') || ref === '') {
        problems.push({
          code: 'malformed_element',
          element: `relation ${id}`,
          message: `member needs type node/way/relation and a ref, got type=${JSON.stringify(m.type)} ref=${JSON.stringify(m.ref)}`,
        });
        continue;
      }
      members.push({ type, ref, role: str(m.role) });
    }
    doc.relations.set(id, { id, members, tags: parseTags(el.tag) });
  }
  return doc;
}

/** A decimal number written in an attribute or tag; NaN when missing or blank (never 0 for ""). */
function decimal(v: unknown): number {
  const t = str(v).trim();
  return t === '' ? Number.NaN : Number(t);
}

/**
 * Drop the nodes farther than MAX_NODE_SPREAD_M from the median node (median latitude and
 * longitude; longitudes taken relative to the first node's, so a map across the antimeridian
 * keeps its median), each reported as `implausible_position`.
 */
function dropStrayNodes(doc: OsmDocument): void {
  const nodes = [...doc.nodes.values()];
  if (nodes.length < 3) return;
  const lon0 = nodes[0]!.lon;
  const rel = (lon: number): number => ((((lon - lon0) % 360) + 540) % 360) - 180;
  const median = (v: number[]): number => {
    v.sort((a, b) => a - b);
    return v[v.length >> 1]!;
  };
  const centre: LngLat = { lat: median(nodes.map((n) => n.lat)), lng: ((lon0 + median(nodes.map((n) => rel(n.lon))) + 540) % 360) - 180 };
  const R = 6_371_008.8; // mean Earth radius, metres (a spread test: no need for the ellipsoid)
  const rad = Math.PI / 180;
  for (const n of nodes) {
    // haversine distance to the centre
    const dLat = (n.lat - centre.lat) * rad;
    const dLon = (n.lon - centre.lng) * rad;
    const h = Math.sin(dLat / 2) ** 2 + Math.cos(n.lat * rad) * Math.cos(centre.lat * rad) * Math.sin(dLon / 2) ** 2;
    const dM = 2 * R * Math.asin(Math.min(1, Math.sqrt(h)));
    if (dM > MAX_NODE_SPREAD_M) {
      doc.nodes.delete(n.id);
      doc.problems.push({
        code: 'implausible_position',
        element: `node ${n.id}`,
        message: `node lies ${Math.round(dM / 1000)} km from the map's median position (lat ${n.lat}, lon ${n.lon}; more than ${MAX_NODE_SPREAD_M / 1000} km): dropped`,
      });
    }
  }
}

function parseTags(tags: XmlAttrs[] | undefined): OsmTags {
  const out: OsmTags = {};
  for (const t of tags ?? []) {
    const k = str(t.k);
    if (k !== '') out[k] = str(t.v);
  }
  return out;
}

function parseBounds(b: XmlAttrs | undefined): LngLatBounds | null {
  if (!b) return null;
  const south = Number(b.minlat);
  const west = Number(b.minlon);
  const north = Number(b.maxlat);
  const east = Number(b.maxlon);
  // west > east: the box crosses the antimeridian (shared/geo.ts LngLatBounds).
  if (![south, west, north, east].every(Number.isFinite) || south > north || Math.abs(west) > 180 || Math.abs(east) > 180) return null;
  return { west, south, east, north };
}

function isDeleted(el: XmlAttrs): boolean {
  return el.action === 'delete' || el.visible === 'false';
}

function str(v: unknown): string {
  return v === undefined || v === null ? '' : String(v);
}
