/**
 * An OSM document under construction, in local metres, and its writer to OSM XML.
 *
 * Everything is built for right-hand traffic. For left-hand traffic the writer mirrors the map
 * east-west and swaps each lanelet's left and right members (and left/right turn tags): every
 * lanelet keeps its direction of travel, and now drives with the road centre on its right.
 */
import { LocalFrame, lngLatBoundsOf, type LngLat } from '../../shared/geo.ts';
import type { XY } from '../../shared/schema.ts';

export type Tags = Record<string, string>;

interface DocNode {
  id: number;
  xy: XY;
}
interface DocWay {
  id: number;
  nodeIds: number[];
  tags: Tags;
}
interface DocRelation {
  id: number;
  members: Array<{ type: 'node' | 'way' | 'relation'; ref: number; role: string }>;
  tags: Tags;
}

export class OsmDoc {
  readonly nodes: DocNode[] = [];
  readonly ways: DocWay[] = [];
  readonly relations: DocRelation[] = [];
  private nextId = 1;
  private readonly relationById = new Map<number, DocRelation>();

  node(xy: XY): number {
    const id = this.nextId++;
    this.nodes.push({ id, xy: [xy[0], xy[1]] });
    return id;
  }

  nodesOf(pts: readonly XY[]): number[] {
    return pts.map((p) => this.node(p));
  }

  way(nodeIds: readonly number[], tags: Tags): number {
    const id = this.nextId++;
    this.ways.push({ id, nodeIds: [...nodeIds], tags });
    return id;
  }

  /** A way through new nodes at `pts`. */
  line(pts: readonly XY[], tags: Tags): number {
    return this.way(this.nodesOf(pts), tags);
  }

  /** A one-way road lanelet (right-hand-traffic geometry: `left` lies left of travel). */
  lanelet(leftWay: number, rightWay: number, tags: Tags = {}): number {
    return this.relation(
      [
        { type: 'way', ref: leftWay, role: 'left' },
        { type: 'way', ref: rightWay, role: 'right' },
      ],
      { type: 'lanelet', subtype: 'road', location: 'urban', one_way: 'yes', ...tags },
    );
  }

  relation(members: DocRelation['members'], tags: Tags): number {
    const id = this.nextId++;
    const rel: DocRelation = { id, members: [...members], tags };
    this.relations.push(rel);
    this.relationById.set(id, rel);
    return id;
  }

  /** Append a member to an existing relation (e.g. a regulatory element to a lanelet). */
  addMember(relationId: number, member: DocRelation['members'][number]): void {
    const rel = this.relationById.get(relationId);
    if (!rel) throw new RangeError(`relation ${relationId} does not exist`);
    rel.members.push(member);
  }
}

export interface WriteOptions {
  /** WGS84 position of the local origin (0, 0). */
  origin: LngLat;
  trafficSide: 'right' | 'left';
  /** Decimal places of lat/lon (8 is about 1 mm). */
  decimals: number;
  generator: string;
}

/** The document as OSM XML (JOSM style, positive ids, a `<bounds>` element). */
export function writeOsmXml(doc: OsmDoc, opts: WriteOptions): string {
  const frame = new LocalFrame(opts.origin);
  const mirror = opts.trafficSide === 'left';
  const lines: string[] = [];
  const nodeLines: string[] = [];
  const written: LngLat[] = [];
  for (const n of doc.nodes) {
    const ll = frame.toLngLat([mirror ? -n.xy[0] : n.xy[0], n.xy[1]]);
    const lat = ll.lat.toFixed(opts.decimals);
    const lon = ll.lng.toFixed(opts.decimals);
    written.push({ lng: Number(lon), lat: Number(lat) });
    nodeLines.push(`  <node id='${n.id}' visible='true' version='1' lat='${lat}' lon='${lon}' />`);
  }
  // minlon > maxlon where the map crosses the antimeridian (shared/geo.ts LngLatBounds).
  const { south, west, north, east } = lngLatBoundsOf(written) ?? { south: 0, west: 0, north: 0, east: 0 };
  lines.push(`<?xml version='1.0' encoding='UTF-8'?>`);
  lines.push(`<osm version='0.6' upload='false' generator='${esc(opts.generator)}'>`);
  lines.push(`  <bounds minlat='${south.toFixed(opts.decimals)}' minlon='${west.toFixed(opts.decimals)}' maxlat='${north.toFixed(opts.decimals)}' maxlon='${east.toFixed(opts.decimals)}' />`);
  for (const l of nodeLines) lines.push(l); // not push(...): a big map's nodes overflow the call stack
  for (const w of doc.ways) {
    lines.push(`  <way id='${w.id}' visible='true' version='1'>`);
    for (const r of w.nodeIds) lines.push(`    <nd ref='${r}' />`);
    pushTags(lines, w.tags);
    lines.push('  </way>');
  }
  for (const r of doc.relations) {
    lines.push(`  <relation id='${r.id}' visible='true' version='1'>`);
    const isLanelet = r.tags.type === 'lanelet';
    for (const m of r.members) {
      const role = mirror && isLanelet ? swapSide(m.role) : m.role;
      lines.push(`    <member type='${m.type}' ref='${m.ref}' role='${esc(role)}' />`);
    }
    const tags = { ...r.tags };
    if (mirror && tags.turn_direction) tags.turn_direction = swapSide(tags.turn_direction);
    pushTags(lines, tags);
    lines.push('  </relation>');
  }
  lines.push('</osm>');
  return lines.join('\n') + '\n';
}

function pushTags(lines: string[], tags: Tags): void {
  for (const [k, v] of Object.entries(tags)) lines.push(`    <tag k='${esc(k)}' v='${esc(v)}' />`);
}

function swapSide(s: string): string {
  return s === 'left' ? 'right' : s === 'right' ? 'left' : s;
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/'/g, '&apos;').replace(/"/g, '&quot;');
}
