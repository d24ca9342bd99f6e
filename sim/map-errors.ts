/**
 * Problems found while loading a map. A loader collects `MapLoadProblem`s and goes on; it
 * throws a `MapLoadError` only when nothing usable remains (or when asked to be strict).
 */

export type MapLoadProblemCode =
  /** The XML is not an OSM document, or an element lacks a required attribute. */
  | 'malformed_element'
  /** A node has no lat/lon, only local_x/local_y, and no origin for them was given. */
  | 'no_position'
  /** A node lies implausibly far from the rest of the map (dropped). */
  | 'implausible_position'
  /** A way or relation references a node, way or relation that is not in the file. */
  | 'missing_reference'
  /** A way has fewer vertices than its class needs. */
  | 'degenerate_geometry'
  /** A lanelet lacks its left or right boundary. */
  | 'incomplete_lanelet'
  /** An area (multipolygon relation) lacks its outer way(s). */
  | 'incomplete_area'
  /** A crosswalk marking line found no partner line to form a crosswalk area with. */
  | 'unpaired_marking';

export interface MapLoadProblem {
  code: MapLoadProblemCode;
  /** OSM element kind and id the problem is about, e.g. "way 4312". */
  element: string;
  message: string;
}

/** A fatal loading error; carries the problems collected so far. */
export class MapLoadError extends Error {
  readonly problems: MapLoadProblem[];

  constructor(message: string, problems: MapLoadProblem[] = []) {
    super(message);
    this.name = 'MapLoadError';
    this.problems = problems;
  }
}
