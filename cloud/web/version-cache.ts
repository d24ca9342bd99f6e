/**
 * Published versions as the web service serves them, read through tiles/latest.json and each
 * version's manifest (versions are immutable, so everything read is cached): the list for the
 * version picker, the change list, and Mapbox vector tiles built on request from the published
 * GeoJSON tiles with the MBTiles exporter's own builder (cloud/merge/export-mbtiles.ts
 * buildVectorTiles: same layers, properties and precision as `fleetmap cloud export`).
 *
 * A version's features and tiles are built once, on its first tile request, and kept for the
 * `maxVersions` most recently used versions.
 */
import { buildVectorTiles, readLatest, readPublishedVersion, type Manifest } from '../merge/index.ts';
import type { ObjectStore } from '../store/index.ts';
import { diffView, indexFeatures, type DiffView, type FeatureRef } from './diff.ts';

export interface VersionSummary {
  version: number;
  createdUnixMs: number;
  previousVersion: number | null;
  tiles: number;
  features: number;
  inputBatchCount: number;
  changes: Manifest['changes']['totals'];
}

export interface VersionsView {
  latest: number | null;
  versions: VersionSummary[];
  /** W, S, E, N of the latest version's tiles with features (null without one). */
  bounds: [number, number, number, number] | null;
}

interface LoadedVersion {
  tiles: Map<string, Buffer>; // "z/x/y" -> gzip MVT
  index: Map<string, FeatureRef>;
  bounds: [number, number, number, number] | null;
}

export interface VersionCacheOptions {
  maxVersions: number; // versions kept built
  tileMinZoom: number; // lowest zoom served
}

export class VersionCache {
  private readonly manifests = new Map<number, Manifest>();
  private readonly loaded = new Map<number, Promise<LoadedVersion | undefined>>();

  constructor(
    private readonly store: ObjectStore,
    private readonly o: VersionCacheOptions,
  ) {}

  async manifest(version: number): Promise<Manifest | undefined> {
    const hit = this.manifests.get(version);
    if (hit) return hit;
    const buf = await this.store.get(`tiles/v${version}/manifest.json`);
    if (!buf) return undefined;
    const m = JSON.parse(buf.toString('utf8')) as Manifest;
    this.manifests.set(version, m);
    return m;
  }

  /** Every published version up to the one latest.json names, newest first. */
  async versions(): Promise<VersionsView> {
    const latest = await readLatest(this.store);
    if (!latest) return { latest: null, versions: [], bounds: null };
    const versions: VersionSummary[] = [];
    for (let v = latest.version; v >= 1; v--) {
      const m = await this.manifest(v); // a crashed merge leaves a claimed number without a manifest
      if (!m) continue;
      versions.push({
        version: v,
        createdUnixMs: m.createdUnixMs,
        previousVersion: m.previousVersion,
        tiles: m.tiles.filter((t) => t.features > 0).length,
        features: m.tiles.reduce((a, t) => a + t.features, 0),
        inputBatchCount: m.inputBatchCount,
        changes: m.changes.totals,
      });
    }
    const top = await this.load(latest.version);
    return { latest: latest.version, versions, bounds: top?.bounds ?? null };
  }

  /** The gzip-compressed MVT of a tile, or undefined (nothing there, or no such version). */
  async tile(version: number, z: number, x: number, y: number): Promise<Buffer | undefined> {
    return (await this.load(version))?.tiles.get(`${z}/${x}/${y}`);
  }

  async diff(version: number): Promise<DiffView | undefined> {
    const m = await this.manifest(version);
    if (!m) return undefined;
    const cur = await this.load(version);
    const prev = m.previousVersion === null ? undefined : await this.load(m.previousVersion);
    return diffView(m, cur?.index ?? new Map(), prev?.index);
  }

  private load(version: number): Promise<LoadedVersion | undefined> {
    let p = this.loaded.get(version);
    if (p) {
      this.loaded.delete(version); // most recently used last
      this.loaded.set(version, p);
      return p;
    }
    p = this.build(version);
    this.loaded.set(version, p);
    p.catch(() => this.loaded.delete(version)); // a failed read is retried next time
    while (this.loaded.size > this.o.maxVersions) this.loaded.delete(this.loaded.keys().next().value!);
    return p;
  }

  private async build(version: number): Promise<LoadedVersion | undefined> {
    if (!(await this.manifest(version))) return undefined;
    const pub = await readPublishedVersion(this.store, version);
    const set = buildVectorTiles(pub.collections, { minZoom: this.o.tileMinZoom });
    const tiles = new Map(set.tiles.map((t) => [`${t.tile.z}/${t.tile.x}/${t.tile.y}`, t.data]));
    const b = set.bounds;
    // Across the antimeridian (west > east) the page's map (MapLibre) takes the east edge past 180 deg.
    const east = b.west > b.east ? b.east + 360 : b.east;
    return { tiles, index: indexFeatures(pub.collections), bounds: set.tiles.length ? [b.west, b.south, east, b.north] : null };
  }
}
