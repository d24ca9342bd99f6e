/**
 * Parse OSM XML (as JOSM and Lanelet2 write it) into plain nodes, ways and relations.
 * Knows nothing of Lanelet2 semantics: that is lanelet2.ts's job.
 *
 * Elements marked `action='delete'` or `visible='false'` (JOSM edits) are skipped. Node
 * positions are WGS84 degrees, kept as written; no projection happens here.
 */
import { XMLParser } from 'fast-xml-parser';
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
}

type XmlAttrs = Record<string, unknown>;
interface XmlElement extends XmlAttrs {
  tag?: XmlAttrs[];
  nd?: XmlAttrs[];
  member?: XmlAttrs[];
}

const ARRAY_ELEMENTS = new Set(['node', 'way', 'relation', 'nd', 'tag', 'member', 'bounds']);

/** Parse an OSM XML document. Throws `MapLoadError` only if the text is not an OSM document. */
export function parseOsmXml(osmXml: string): OsmDocument {
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
  };

  for (const el of o.node ?? []) {
    if (isDeleted(el)) continue;
    const id = str(el.id);
    const lat = Number(el.lat);
    const lon = Number(el.lon);
    if (id === '' || !Number.isFinite(lat) || !Number.isFinite(lon) || Math.abs(lat) > 90 || Math.abs(lon) > 180) {
      problems.push({
        code: 'malformed_element',
        element: `node ${id || '?'}`,
        message: `node needs an id and lat/lon in degrees, got id=${JSON.stringify(el.id)} lat=${JSON.stringify(el.lat)} lon=${JSON.stringify(el.lon)}`,
      });
      continue;
    }
    doc.nodes.set(id, { id, lat, lon, tags: parseTags(el.tag) });
  }

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
