/**
 * Reading one published map version back from the store (tiles/latest.json, tiles/v<N>/manifest.json,
 * the tiles it lists), for the exporters. Errors say which object is missing.
 */
import type { ObjectStore } from '../store/index.ts';
import { parseTileCollection, type TileFeatureCollection } from './features.ts';
import { readLatest, type Manifest } from './run.ts';

export interface PublishedVersion {
  version: number;
  manifest: Manifest;
  collections: TileFeatureCollection[];
}

/** The published version `version` (default: the one tiles/latest.json names). */
export async function readPublishedVersion(store: ObjectStore, version?: number): Promise<PublishedVersion> {
  let v = version;
  if (v === undefined) {
    const latest = await readLatest(store);
    if (!latest) throw new Error(`${store.describe()} has no published map version (no tiles/latest.json): run fleetmap cloud merge first`);
    v = latest.version;
  }
  const mkey = `tiles/v${v}/manifest.json`;
  const mbuf = await store.get(mkey);
  if (!mbuf) throw new Error(`map version ${v} is not published in ${store.describe()} (no ${mkey})`);
  const manifest = JSON.parse(mbuf.toString('utf8')) as Manifest;
  const collections: TileFeatureCollection[] = [];
  for (const t of manifest.tiles) {
    const buf = await store.get(t.key);
    if (!buf) throw new Error(`${mkey} lists ${t.key}, which is missing`);
    collections.push(parseTileCollection(buf, t.key));
  }
  return { version: v, manifest, collections };
}
