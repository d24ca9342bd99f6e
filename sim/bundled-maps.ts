/**
 * Maps shipped in sim/data (with their licences beside them).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadLanelet2, osmBoundsCentre, type Lanelet2Map } from './lanelet2.ts';
import { parseOsmXml } from './osm-xml.ts';

/** Lanelet2 example map of Karlsruhe (FZI, BSD 3-clause; LICENSE beside it). */
export const KARLSRUHE_OSM_PATH = fileURLToPath(new URL('./data/lanelet2-karlsruhe/mapping_example.osm', import.meta.url));

/** Read and load a Lanelet2 OSM file with its bounds centre as origin (explicitly chosen here). */
export function loadLanelet2File(path: string): Lanelet2Map {
  const doc = parseOsmXml(readFileSync(path, 'utf8'));
  return loadLanelet2(doc, { origin: osmBoundsCentre(doc) });
}
