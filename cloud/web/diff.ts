/**
 * A published version's change list as the page shows it: the manifest's per-tile added / moved /
 * removed feature ids (cloud/merge/changes.ts), each with its class and a place to fly to ([lng,
 * lat], WGS84), looked up in the version (added, moved) or the previous one (removed). Pure.
 */
import type { ClassCounts, Manifest } from '../merge/index.ts';
import { firstPosition, type MapFeature, type TileFeatureCollection } from '../merge/index.ts';

export type ChangeKind = 'added' | 'moved' | 'removed';

export interface DiffEntry {
  change: ChangeKind;
  id: string;
  tile: string;
  /** Null when the feature is not found where the manifest says (an inconsistent store). */
  class: string | null;
  /** [lng, lat] of a representative vertex. */
  at: [number, number] | null;
  score: number | null;
}

export interface DiffView {
  version: number;
  previousVersion: number | null;
  totals: { added: ClassCounts; removed: ClassCounts; moved: ClassCounts; lowConfidence: { added: ClassCounts; removed: ClassCounts }; newCoverage?: ClassCounts };
  /** Ids this version highlights (added and moved), for the map's filter. */
  highlightIds: string[];
  /** Ids of the previous version that are gone. */
  removedIds: string[];
  entries: DiffEntry[];
  /** Entries beyond maxEntries were left out. */
  truncated: number;
}

export interface FeatureRef {
  class: string;
  at: [number, number];
  score: number;
}

/** "tile|id" -> class, place and score of every feature of a version. */
export function indexFeatures(collections: readonly TileFeatureCollection[]): Map<string, FeatureRef> {
  const out = new Map<string, FeatureRef>();
  for (const c of collections) for (const f of c.features) out.set(`${c.tile}|${f.properties.id}`, { class: f.properties.class, at: anchorOf(f), score: f.properties.score });
  return out;
}

export function diffView(manifest: Manifest, current: Map<string, FeatureRef>, previous: Map<string, FeatureRef> | undefined, maxEntries = 2000): DiffView {
  const entries: DiffEntry[] = [];
  const highlight = new Set<string>();
  const removed = new Set<string>();
  let total = 0;
  const push = (change: ChangeKind, tile: string, id: string, from: Map<string, FeatureRef> | undefined): void => {
    total++;
    if (entries.length >= maxEntries) return;
    const ref = from?.get(`${tile}|${id}`);
    entries.push({ change, id, tile, class: ref?.class ?? null, at: ref?.at ?? null, score: ref?.score ?? null });
  };
  for (const tile of Object.keys(manifest.changes.tiles).sort()) {
    const c = manifest.changes.tiles[tile]!;
    for (const id of c.addedIds ?? []) {
      highlight.add(id);
      push('added', tile, id, current);
    }
    for (const id of c.movedIds ?? []) {
      highlight.add(id);
      push('moved', tile, id, current);
    }
    for (const id of c.removedIds ?? []) {
      removed.add(id);
      push('removed', tile, id, previous);
    }
    // A stretch removed from, or moved within, a line that stays: placed at its middle.
    for (const [change, parts, ref] of [['removed', c.removedParts, previous], ['moved', c.movedParts, current]] as const) {
      for (const part of parts ?? []) {
        if (change === 'moved') highlight.add(part.parentId);
        total++;
        if (entries.length >= maxEntries) continue;
        const m = part.coordinates[part.coordinates.length >> 1]!;
        entries.push({ change, id: part.id, tile, class: part.cls, at: [m[0], m[1]], score: ref?.get(`${tile}|${part.parentId}`)?.score ?? null });
      }
    }
  }
  return {
    version: manifest.version,
    previousVersion: manifest.previousVersion,
    totals: manifest.changes.totals,
    highlightIds: [...highlight],
    removedIds: [...removed],
    entries,
    truncated: total - entries.length,
  };
}

function anchorOf(f: MapFeature): [number, number] {
  const g = f.geometry;
  const p = g.type === 'LineString' ? g.coordinates[g.coordinates.length >> 1]! : firstPosition(g);
  return [p[0], p[1]];
}
