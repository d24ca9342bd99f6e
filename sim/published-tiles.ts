/**
 * Reads a published map version (tiles/latest.json -> tiles/v<N>/...) back into primitives in a
 * caller-chosen local frame, for the evaluation. Reads through the same ObjectStore interface the
 * cloud writes with; knows only the published GeoJSON contract, not the merge's internals.
 */
import type { ObjectStore } from '../cloud/store/index.ts';
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
  const raw = await store.get('tiles/latest.json');
  if (!raw) return undefined;
  const v = (JSON.parse(raw.toString('utf8')) as { version?: unknown }).version;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw new Error(`tiles/latest.json has no valid version: ${raw.toString('utf8').slice(0, 200)}`);
  return v;
}

export async function loadPublishedMap(store: ObjectStore, frame: LocalFrame, version?: number): Promise<PublishedMap> {
  const v = version ?? (await latestVersion(store));
  if (v === undefined) throw new Error(`no published map in ${store.describe()} (tiles/latest.json is missing)`);
  const keys = (await store.list(`tiles/v${v}/`)).filter((k) => k.endsWith('.geojson'));
  const primitives: ScoredPrimitive[] = [];
  for (const key of keys) {
    const fc = JSON.parse((await store.get(key))!.toString('utf8')) as { features?: Feature[] };
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
  else if (g.type === 'Polygon') {
    const ring = ((g.coordinates as unknown[][])[0] ?? []).map(toXY);
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
