/**
 * Reads a published map version (tiles/latest.json -> tiles/v<N>/manifest.json -> the tile objects
 * it lists, some carried from older versions) back into primitives in a caller-chosen local frame,
 * for the evaluation. The layout is cloud/merge/publish.ts's; this knows only the published
 * GeoJSON contract, not the merge's internals.
 */
import { readLatest, readTileObject, resolvePublished, manifestKey } from '../cloud/merge/publish.ts';
import type { ObjectStore } from '../cloud/store/index.ts';
import { areaRing, type AreaGeometry } from '../cloud/merge/features.ts';
import type { LocalFrame } from '../shared/geo.ts';
import { isPrimitiveClass, type ScoredPrimitive, type XY } from '../shared/schema.ts';

interface Feature {
  type: 'Feature';
  geometry: { type: string; coordinates: unknown };
  properties: Record<string, unknown> | null;
}

export interface PublishedMap {
  version: number;
  primitives: ScoredPrimitive[];
  tileCount: number;
}

/** The version `tiles/latest.json` points to, or undefined when nothing is published. */
export async function latestVersion(store: ObjectStore): Promise<number | undefined> {
  return (await readLatest(store))?.version;
}

export async function loadPublishedMap(store: ObjectStore, frame: LocalFrame, version?: number): Promise<PublishedMap> {
  const v = version ?? (await latestVersion(store));
  if (v === undefined) throw new Error(`no published map in ${store.describe()} (tiles/latest.json is missing)`);
  const { manifest } = await resolvePublished(store, v);
  const keys = manifest.tiles.map((t) => t.key);
  const primitives: ScoredPrimitive[] = [];
  for (const key of keys) {
    const fc = (await readTileObject(store, key, manifestKey(v))) as unknown as { features?: Feature[] };
    for (const f of fc.features ?? []) {
      const p = featureToPrimitive(f, frame);
      if (p) primitives.push(p);
    }
  }
  return { version: v, primitives, tileCount: keys.length };
}

function featureToPrimitive(f: Feature, frame: LocalFrame): ScoredPrimitive | undefined {
  const props = f.properties ?? {};
  const cls = props.class;
  if (!isPrimitiveClass(cls)) return undefined;
  const toXY = (c: unknown): XY => {
    const [lng, lat] = c as [number, number];
    return frame.toLocal({ lng, lat });
  };
  let points: XY[];
  const g = f.geometry;
  if (g.type === 'Point') points = [toXY(g.coordinates)];
  else if (g.type === 'LineString') points = (g.coordinates as unknown[]).map(toXY);
  else if (g.type === 'Polygon' || g.type === 'MultiPolygon') {
    // A MultiPolygon: a crosswalk cut on the antimeridian, its sides joined again into one ring.
    const ring = areaRing(g as AreaGeometry).map(toXY);
    // GeoJSON rings repeat the first vertex at the end; our model does not.
    const first = ring[0];
    const last = ring[ring.length - 1];
    if (first && last && ring.length > 3 && first[0] === last[0] && first[1] === last[1]) ring.pop();
    points = ring;
  } else return undefined;
  const p: ScoredPrimitive = { cls, points, score: typeof props.score === 'number' ? props.score : 1 };
  if (typeof props.style === 'string') p.style = props.style as ScoredPrimitive['style'];
  if (typeof props.kind === 'string') p.kind = props.kind as ScoredPrimitive['kind'];
  if (typeof props.signCode === 'string') p.signCode = props.signCode;
  return p;
}
