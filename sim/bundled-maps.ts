/**
 * Maps shipped in sim/data (with their licences beside them).
 */
import { readFileSync } from 'node:fs';
import type { LngLat } from '../shared/geo.ts';
import { fileURLToPath } from 'node:url';
import { loadLanelet2, osmBoundsCentre, type Lanelet2Map } from './lanelet2.ts';
import { parseOsmXml, type ParseOsmOptions } from './osm-xml.ts';

/** Lanelet2 example map of Karlsruhe (FZI, BSD 3-clause; LICENSE beside it). */
export const KARLSRUHE_OSM_PATH = fileURLToPath(new URL('./data/lanelet2-karlsruhe/mapping_example.osm', import.meta.url));

/**
 * `--map-origin LAT,LON` (WGS84 degrees, latitude first): the origin of the local_x / local_y
 * frame of a map whose nodes have no lat/lon. Throws a RangeError naming the flag.
 */
export function parseMapOrigin(flag: string, v: string): LngLat {
  const parts = v.split(',').map((t) => t.trim());
  const [lat, lng] = parts.map((t) => (t === '' ? Number.NaN : Number(t)));
  if (parts.length !== 2 || !Number.isFinite(lat) || !Number.isFinite(lng) || Math.abs(lat!) > 90 || Math.abs(lng!) > 180) {
    throw new RangeError(`${flag} must be LAT,LON in WGS84 degrees (latitude first, e.g. 35.2379,139.9009), got ${JSON.stringify(v)}`);
  }
  return { lat: lat!, lng: lng! };
}

/**
 * Read and load a Lanelet2 OSM file with its bounds centre as the map frame's origin (explicitly
 * chosen here). `localOrigin`: where the file's `local_x` / `local_y` frame lies, for files whose
 * nodes have no lat/lon (osm-xml.ts).
 */
export function loadLanelet2File(path: string, options: ParseOsmOptions = {}): Lanelet2Map {
  const doc = parseOsmXml(readFileSync(path, 'utf8'), options);
  return loadLanelet2(doc, { origin: osmBoundsCentre(doc) });
}
