/**
 * What changed between two published map versions, feature by feature, with its evidence and a
 * status an operator can act on.
 *
 * The merge reports each version's changes against the one before (changes.ts: a feature that
 * overlaps nothing before is added, one that nothing overlaps now is removed, a matched one that
 * moved beyond movedThresholdM is moved; low-scored churn apart), naming features by their ids,
 * which stay stable across versions where the merge matched a feature. Between versions A < B
 * the changes are those reported by A+1..B that still hold: `added` = reported added and present
 * in B, `removed` = reported removed and present in A, `moved` = reported moved and present in
 * both. (A raw difference of the id sets would also list every feature whose pieces the merge
 * re-cut, which is not a change on the ground.) A feature clipped into several tiles is one
 * change, its tiles listed.
 *
 * Status:
 * - added: `confirmed` when at least `confirmDrives` distinct drives support the feature in B,
 *   its existence score (evidence.ts `existenceScore`: for a feature that most of the passing
 *   drives saw, its score without the placement term) reaches the merge's changeMinScore and
 *   it was first seen after A's newest
 *   sighting, or nearly all its drives saw it since (`recentDrives`, changeNewDrivesShare) (the latest lastSeenUnixMs of A's features: data time, so a replayed or late
 *   upload is judged by when it was observed, not when it was merged): its evidence is new. A
 *   feature first seen before that which A did not publish is the merge drawing old evidence
 *   differently, not a change on the ground. Else `candidate`;
 * - moved: the same support and score, and seen again after A's newest sighting. A stretch of a
 *   line that moved while the rest stays (changes.ts movedParts) is a move of its own, with the
 *   stretch's new geometry and the line's evidence in B;
 * - removed: `confirmed` when the feature had that support in A (a well-established feature
 *   that drives passed without seeing it: the merge drops one only after
 *   `staleAfterMissedDrives` misses); else `candidate`. A stretch cut out of a line that stays
 *   (changes.ts removedParts) is a removal of its own, with the stretch's geometry and the
 *   line's evidence in A.
 * Evidence: support drives and observations, score, spread, seen-share, first and last seen (the feature in
 * B; in A for removed ones), and the versions that reported it.
 */
import type { ObjectStore } from '../store/index.ts';
import type { PrimitiveClass } from '../../shared/schema.ts';
import type { FeatureProperties, MapGeometry } from './features.ts';
import { manifestKey, readTileObject, resolvePublished, type Manifest } from './publish.ts';
import { isNewPaint, type LinePart } from './changes.ts';
import { existenceScore } from './evidence.ts';
import { DEFAULT_MERGE_OPTIONS } from './options.ts';

export type ChangeStatus = 'candidate' | 'confirmed';

export interface VersionChange {
  kind: 'added' | 'removed' | 'moved';
  status: ChangeStatus;
  id: string;
  cls: PrimitiveClass;
  tiles: string[];
  evidence: Pick<FeatureProperties, 'score' | 'supportDrives' | 'supportObservations' | 'firstSeenUnixMs' | 'lastSeenUnixMs' | 'spreadM' | 'seenShare'> & {
    /** Versions in A+1..B whose change list names this feature. */
    reportedIn: number[];
  };
  /** Geometries in B (in A for removed ones), [lng, lat] WGS84, one per tile. */
  geometries: MapGeometry[];
}

export interface VersionDiff {
  from: number;
  to: number;
  confirmDrives: number;
  changes: VersionChange[];
  totals: Record<VersionChange['kind'], Record<ChangeStatus, number>>;
  /** Features per class the versions A+1..B counted as new coverage (roads first driven since: no changes). */
  newCoverage: Partial<Record<PrimitiveClass, number>>;
}

export interface DiffOptions {
  /** Distinct drives that confirm an added or moved feature. */
  confirmDrives: number;
}

export const DEFAULT_DIFF_OPTIONS: DiffOptions = { confirmDrives: 3 };

interface Seen {
  cls: PrimitiveClass;
  props: FeatureProperties;
  tiles: string[];
  geometries: MapGeometry[];
}

/** Every feature of a published version by id. */
async function featuresOf(store: ObjectStore, version: number, manifest: Manifest): Promise<Map<string, Seen>> {
  const out = new Map<string, Seen>();
  for (const t of manifest.tiles) {
    const fc = await readTileObject(store, t.key, manifestKey(version));
    for (const f of fc.features) {
      const s = out.get(f.id);
      if (s) {
        s.tiles.push(t.tile);
        s.geometries.push(f.geometry);
      } else out.set(f.id, { cls: f.properties.class, props: f.properties, tiles: [t.tile], geometries: [f.geometry] });
    }
  }
  return out;
}

/** A stretch of a line feature reported removed or moved (changes.ts LinePart), with where and when. */
interface ReportedPart extends LinePart {
  kind: 'removed' | 'moved';
  tile: string;
  versions: number[];
}

/** The change lists of versions from+1..to, by id: which versions named it, per kind; and the removed parts of lines. */
async function reportedBetween(
  store: ObjectStore,
  from: number,
  to: number,
): Promise<Record<'added' | 'removed' | 'moved', Map<string, number[]>> & { parts: Map<string, ReportedPart>; newCoverage: Partial<Record<PrimitiveClass, number>> }> {
  const out = { added: new Map<string, number[]>(), removed: new Map<string, number[]>(), moved: new Map<string, number[]>(), parts: new Map<string, ReportedPart>(), newCoverage: {} as Partial<Record<PrimitiveClass, number>> };
  for (let v = from + 1; v <= to; v++) {
    const m = (await resolvePublished(store, v).catch(() => undefined))?.manifest;
    if (!m) continue; // a version claimed but never published (crashed merge)
    // (absent in manifests from before new coverage was told apart)
    for (const [cls, n] of Object.entries(m.changes.totals.newCoverage ?? {})) out.newCoverage[cls as PrimitiveClass] = (out.newCoverage[cls as PrimitiveClass] ?? 0) + (n ?? 0);
    for (const [tile, tc] of Object.entries(m.changes.tiles)) {
      for (const [kind, parts] of [['removed', tc.removedParts], ['moved', tc.movedParts]] as const) {
        for (const part of parts ?? []) {
          const seen = out.parts.get(part.id);
          if (seen) seen.versions.push(v);
          else out.parts.set(part.id, { ...part, kind, tile, versions: [v] });
        }
      }
      for (const [kind, ids] of [['added', tc.addedIds], ['removed', tc.removedIds], ['moved', tc.movedIds]] as const) {
        for (const id of ids) {
          const list = out[kind].get(id) ?? [];
          if (!list.includes(v)) list.push(v);
          out[kind].set(id, list);
        }
      }
    }
  }
  return out;
}

export async function diffVersions(store: ObjectStore, from: number, to: number, options: Partial<DiffOptions> = {}): Promise<VersionDiff> {
  const o = { ...DEFAULT_DIFF_OPTIONS, ...options };
  if (!(Number.isInteger(o.confirmDrives) && o.confirmDrives >= 1)) throw new RangeError(`confirmDrives must be an integer >= 1, got ${o.confirmDrives}`);
  if (!(from < to)) throw new RangeError(`diff needs an older version first: v${from} is not older than v${to}`);
  const a = await resolvePublished(store, from);
  const b = await resolvePublished(store, to);
  const [fa, fb, reported] = await Promise.all([featuresOf(store, from, a.manifest), featuresOf(store, to, b.manifest), reportedBetween(store, from, to)]);
  const minScore = b.manifest.options.changeMinScore;
  // Manifests from before the option: its default.
  const newShare = { changeNewDrivesShare: b.manifest.options.changeNewDrivesShare ?? DEFAULT_MERGE_OPTIONS.changeNewDrivesShare };
  const changes: VersionChange[] = [];
  const make = (kind: VersionChange['kind'], id: string, s: Seen, status: ChangeStatus): VersionChange => ({
    kind,
    status,
    id,
    cls: s.cls,
    tiles: s.tiles.slice().sort(),
    evidence: {
      score: s.props.score,
      supportDrives: s.props.supportDrives,
      supportObservations: s.props.supportObservations,
      firstSeenUnixMs: s.props.firstSeenUnixMs,
      lastSeenUnixMs: s.props.lastSeenUnixMs,
      ...(s.props.spreadM !== undefined ? { spreadM: s.props.spreadM } : {}),
      ...(s.props.seenShare !== undefined ? { seenShare: s.props.seenShare } : {}),
      reportedIn: (reported[kind].get(id) ?? []).slice().sort((x, y) => x - y),
    },
    geometries: s.geometries,
  });
  let aSeenUnixMs = -Infinity;
  for (const f of fa.values()) aSeenUnixMs = Math.max(aSeenUnixMs, f.props.lastSeenUnixMs);
  // A new feature is judged by its existence score (evidence.ts), everything else by its score.
  const supported = (s: Seen, score = s.props.score): boolean => s.props.supportDrives >= o.confirmDrives && score >= minScore;
  const status = (ok: boolean): ChangeStatus => (ok ? 'confirmed' : 'candidate');
  for (const id of reported.added.keys()) {
    const s = fb.get(id);
    if (s && !fa.has(id)) changes.push(make('added', id, s, status(supported(s, existenceScore(s.props)) && isNewPaint({ properties: s.props }, aSeenUnixMs, newShare))));
  }
  for (const id of reported.moved.keys()) {
    const s = fb.get(id);
    if (s && fa.has(id)) changes.push(make('moved', id, s, status(supported(s) && s.props.lastSeenUnixMs > aSeenUnixMs)));
  }
  for (const id of reported.removed.keys()) {
    const s = fa.get(id);
    if (s && !fb.has(id)) changes.push(make('removed', id, s, status(supported(s))));
  }
  // A stretch removed from a line that A had (paint ground off inside a longer line, or at its
  // end): removed, with the stretch as its geometry and the line's evidence in A; unless the
  // line went whole (listed removed above). The line may live on under another id (joined
  // with its neighbour into one). A stretch moved (repainted aside inside a longer line): moved,
  // with its new geometry and the line's evidence in B, confirmed as a moved feature is.
  for (const part of reported.parts.values()) {
    const sa = fa.get(part.parentId);
    const sb = fb.get(part.parentId);
    const at = { tiles: [part.tile], geometries: [{ type: 'LineString' as const, coordinates: part.coordinates }] };
    let c: VersionChange;
    if (part.kind === 'removed') {
      if (!sa || (!sb && reported.removed.has(part.parentId))) continue;
      c = make('removed', part.id, { ...sa, ...at }, status(supported(sa)));
    } else {
      if (!sa || !sb) continue;
      c = make('moved', part.id, { ...sb, ...at }, status(supported(sb) && sb.props.lastSeenUnixMs > aSeenUnixMs));
    }
    c.evidence.reportedIn = part.versions.slice().sort((x, y) => x - y);
    changes.push(c);
  }
  const order = { added: 0, moved: 1, removed: 2 };
  changes.sort((x, y) => order[x.kind] - order[y.kind] || (x.status === y.status ? 0 : x.status === 'confirmed' ? -1 : 1) || x.cls.localeCompare(y.cls) || x.id.localeCompare(y.id));
  const totals = { added: { candidate: 0, confirmed: 0 }, removed: { candidate: 0, confirmed: 0 }, moved: { candidate: 0, confirmed: 0 } };
  for (const c of changes) totals[c.kind][c.status]++;
  return { from, to, confirmDrives: o.confirmDrives, changes, totals, newCoverage: reported.newCoverage };
}
