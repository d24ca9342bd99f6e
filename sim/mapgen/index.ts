/**
 * Procedural Lanelet2 maps: `generateMap({ seed, layout, trafficSide })` returns OSM XML that
 * `loadLanelet2` (with `osmBoundsCentre`) loads without problems and whose lanelets form a
 * closed network `planFleet` can drive for kilometres.
 *
 * Everything is a pure function of the options: the same seed gives the same bytes. Geometry
 * is built in metres for right-hand traffic (layouts.ts -> build.ts) and written as WGS84
 * around the origin; left-hand traffic mirrors the map east-west and swaps every lanelet's
 * left and right bounds (osm-doc.ts), so lanes keep their direction and drive on the left.
 */
import { Rng } from '../rng.ts';
import { buildNetwork, type BuildStats } from './build.ts';
import { CROSSWALK_STYLES, STOP_LINE_STYLES, type CrosswalkStyle, type StopLineStyle } from './furniture.ts';
import { LAYOUTS, layoutNetwork, type Layout } from './layouts.ts';
import { writeOsmXml } from './osm-doc.ts';

export { LAYOUTS, type Layout } from './layouts.ts';
export type { NetworkSpec, RoadSpec, JunctionSpec } from './network.ts';
export { CROSSWALK_STYLES, STOP_LINE_STYLES, type CrosswalkStyle, type StopLineStyle } from './furniture.ts';

export interface GenerateMapOptions {
  /** Seed of every random choice (integer). */
  seed: number;
  /** Kind of network. Default 'mixed'. */
  layout?: Layout;
  /** Side of the road vehicles drive on. Default 'right'. */
  trafficSide?: 'right' | 'left';
  /** WGS84 latitude of the map's local origin, degrees. Default 50.9375 (Cologne). */
  originLat?: number;
  /** WGS84 longitude of the map's local origin, degrees. Default 6.9603. */
  originLng?: number;
  /** Decimal places of written lat/lon. Default 8 (about 1 mm). */
  decimals?: number;
  /**
   * How crossings are drawn: 'side_lines' (two pedestrian_marking lines, default), 'stripes'
   * (one closed zebra_marking way per bar), 'lanelet' (a crosswalk lanelet bounded by the two
   * side lines), 'lanelet_stripes' (a crosswalk lanelet with virtual bounds and the bars).
   */
  crosswalkStyle?: CrosswalkStyle;
  /** How stop lines are drawn: 'per_lane' (one per incoming lane, touching; default) or 'spanning' (one per approach). */
  stopLineStyle?: StopLineStyle;
}

export interface GeneratedMap {
  osmXml: string;
  /** e.g. "mapgen-grid-s42-rht". */
  name: string;
  /** One line saying what the map holds. */
  description: string;
  stats: BuildStats & { layout: Layout; trafficSide: 'right' | 'left'; seed: number };
}

export const DEFAULT_GENERATE_OPTIONS = {
  layout: 'mixed' as Layout,
  trafficSide: 'right' as 'right' | 'left',
  originLat: 50.9375, // degrees
  originLng: 6.9603, // degrees
  decimals: 8, // decimal places
  crosswalkStyle: 'side_lines' as CrosswalkStyle,
  stopLineStyle: 'per_lane' as StopLineStyle,
};

export function generateMap(options: GenerateMapOptions): GeneratedMap {
  const o: Required<GenerateMapOptions> = { ...DEFAULT_GENERATE_OPTIONS, ...stripUndefined(options), seed: options.seed };
  validate(o);
  const rng = new Rng(`mapgen:${o.layout}:${o.seed}`);
  const network = layoutNetwork(o.layout, rng.fork('layout'));
  const { doc, stats } = buildNetwork(network, rng.fork('build'), { crosswalks: o.crosswalkStyle, stopLines: o.stopLineStyle });
  const side = o.trafficSide === 'right' ? 'rht' : 'lht';
  const paint = [
    o.crosswalkStyle === DEFAULT_GENERATE_OPTIONS.crosswalkStyle ? '' : `-cw_${o.crosswalkStyle}`,
    o.stopLineStyle === DEFAULT_GENERATE_OPTIONS.stopLineStyle ? '' : `-sl_${o.stopLineStyle}`,
  ].join('');
  const name = `mapgen-${o.layout}-s${o.seed}-${side}${paint}`;
  const osmXml = writeOsmXml(doc, {
    origin: { lat: o.originLat, lng: o.originLng },
    trafficSide: o.trafficSide,
    decimals: o.decimals,
    generator: `fleetmap mapgen ${name}`,
  });
  const laneKm = (stats.roadLaneLengthM + stats.junctionLaneLengthM) / 1000;
  const description =
    `${o.layout} layout, ${o.trafficSide}-hand traffic, seed ${o.seed}: ${stats.roads} roads, ${stats.junctions} junctions, ` +
    `${stats.roundabouts} roundabouts, ${laneKm.toFixed(1)} km of lanes around ${o.originLat}, ${o.originLng}`;
  return { osmXml, name, description, stats: { ...stats, layout: o.layout, trafficSide: o.trafficSide, seed: o.seed } };
}

function validate(o: Required<GenerateMapOptions>): void {
  if (!Number.isSafeInteger(o.seed)) throw new RangeError(`seed must be an integer, got ${o.seed}`);
  if (!(LAYOUTS as readonly string[]).includes(o.layout)) throw new RangeError(`layout must be one of ${LAYOUTS.join('|')}, got ${JSON.stringify(o.layout)}`);
  if (o.trafficSide !== 'right' && o.trafficSide !== 'left') throw new RangeError(`trafficSide must be right|left, got ${JSON.stringify(o.trafficSide)}`);
  if (!(Math.abs(o.originLat) <= 80)) throw new RangeError(`originLat must be in [-80, 80] degrees, got ${o.originLat}`);
  if (!(Math.abs(o.originLng) <= 180)) throw new RangeError(`originLng must be in [-180, 180] degrees, got ${o.originLng}`);
  if (!Number.isInteger(o.decimals) || o.decimals < 6 || o.decimals > 12) throw new RangeError(`decimals must be an integer in [6, 12], got ${o.decimals}`);
  if (!(CROSSWALK_STYLES as readonly string[]).includes(o.crosswalkStyle)) throw new RangeError(`crosswalkStyle must be one of ${CROSSWALK_STYLES.join('|')}, got ${JSON.stringify(o.crosswalkStyle)}`);
  if (!(STOP_LINE_STYLES as readonly string[]).includes(o.stopLineStyle)) throw new RangeError(`stopLineStyle must be one of ${STOP_LINE_STYLES.join('|')}, got ${JSON.stringify(o.stopLineStyle)}`);
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
