/**
 * Reading one published map version back from the store (tiles/latest.json, tiles/v<N>/manifest.json,
 * the tiles it lists, some carried from older versions by reference), for the exporters, through
 * publish.ts. Errors say which object is missing.
 */
import type { ObjectStore } from '../store/index.ts';
import type { TileFeatureCollection } from './features.ts';
import { manifestKey, readTileObject, resolvePublished, type Manifest } from './publish.ts';

export interface PublishedVersion {
  version: number;
  manifest: Manifest;
  collections: TileFeatureCollection[];
}

/** The published version `version` (default: the one tiles/latest.json names). */
export async function readPublishedVersion(store: ObjectStore, version?: number): Promise<PublishedVersion> {
  const { version: v, manifest } = await resolvePublished(store, version);
  const collections: TileFeatureCollection[] = [];
  for (const t of manifest.tiles) collections.push(await readTileObject(store, t.key, manifestKey(v)));
  return { version: v, manifest, collections };
}
