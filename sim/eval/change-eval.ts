/**
 * Scoring change detection: the changes a new map version reports against the true changes the
 * simulator made (sim/change-scenarios.ts). Pure; geometry in one local frame, [eastM, northM].
 *
 * A reported change matches a true one of the same class when its geometry lies on the true
 * geometry: lines and crosswalk rings sampled every `sampleStepM`, at least `minShare` of the
 * samples within `gateM`; points within `gateM`.
 * - true `removed`: a reported `removed` on the old geometry;
 * - true `added`: a reported `added` on the new geometry;
 * - true `moved`: a reported `moved` or `added` on the new geometry detects it; a reported
 *   `removed` on the old geometry is part of the same change (counted true, not false).
 * Recall: true changes detected / true changes. Precision: reported changes matching some true
 * change / reported changes (a change reported in several pieces counts each piece true).
 * False changes are counted per 10 km of line ground truth the fleet covered (`coveredKm`).
 *
 * A removal or a move can only be reported where the earlier version had the feature: given
 * that version's primitives (`previous`), true removals and moves whose old geometry it did not
 * hold are left out of the score (counted in `notInPrevious`), as nothing on the map changed.
 */
import type { VersionChange } from '../../cloud/merge/diff.ts';
import { areaRing, isAreaGeometry } from '../../cloud/merge/features.ts';
import type { LocalFrame } from '../../shared/geo.ts';
import { pointPolylineDistM, resampleSpacing } from '../../shared/geometry.ts';
import type { PrimitiveClass, XY } from '../../shared/schema.ts';
import type { TrueChange } from '../change-scenarios.ts';

export interface ReportedChange {
  kind: 'added' | 'removed' | 'moved';
  cls: PrimitiveClass;
  /** Published feature id. */
  id: string;
  /** The feature's geometry: the new one (added, moved) or the old one (removed). */
  pointsM: XY[];
  /** Closed ring (crosswalk polygon). */
  closed: boolean;
}

export interface ChangeEvalOptions {
  gateM: number;
  minShare: number;
  sampleStepM: number;
}

export const DEFAULT_CHANGE_EVAL_OPTIONS: ChangeEvalOptions = { gateM: 1.5, minShare: 0.5, sampleStepM: 1 };

export interface ChangeScore {
  /** True changes scored (those the earlier map could show, when `previous` was given). */
  trueChanges: number;
  /** True removals / moves left out: the earlier version never had the feature. */
  notInPrevious: number;
  detected: number;
  reported: number;
  reportedTrue: number;
  /** null when nothing was reported / nothing changed. */
  precision: number | null;
  recall: number | null;
  f1: number | null;
  falseChanges: number;
  falseChangesPer10Km: number | null;
  perChange: Array<{ id: string; scenario: string; kind: TrueChange['kind']; cls: PrimitiveClass; detected: boolean; reports: number }>;
  /** The reported changes that match nothing (for inspection). */
  falseReports: Array<{ id: string; kind: ReportedChange['kind']; cls: PrimitiveClass }>;
}

export function scoreChanges(
  allTruth: readonly TrueChange[],
  reported: readonly ReportedChange[],
  coveredKm: number,
  options: Partial<ChangeEvalOptions> & { previous?: ReadonlyArray<{ cls: PrimitiveClass; points: XY[] }> } = {},
): ChangeScore {
  const o = { ...DEFAULT_CHANGE_EVAL_OPTIONS, ...options };
  const prev = options.previous;
  // The earlier map holds a true feature where most of its samples lie near a feature of its class.
  const inPrevious = (t: TrueChange): boolean => {
    if (t.kind === 'added' || !prev) return true;
    const closed = t.cls === 'crosswalk';
    const mine = prev.filter((p) => p.cls === t.cls).map((p) => (closed && p.points.length > 2 ? [...p.points, p.points[0]!] : p.points));
    const samples = samplesOf(t.beforeM!, closed, o.sampleStepM);
    const near = samples.filter((s) => mine.some((line) => (line.length === 1 ? Math.hypot(s[0] - line[0]![0], s[1] - line[0]![1]) : pointPolylineDistM(s, line)) <= o.gateM)).length;
    return samples.length > 0 && near / samples.length >= o.minShare;
  };
  const truth = allTruth.filter(inPrevious);
  const samples = reported.map((r) => samplesOf(r.pointsM, r.closed, o.sampleStepM));
  const matchedReport = new Array<boolean>(reported.length).fill(false);
  const perChange = truth.map((t) => {
    let detected = false;
    let reports = 0;
    reported.forEach((r, i) => {
      if (r.cls !== t.cls) return;
      const onAfter = t.afterM !== undefined && lies(samples[i]!, t.afterM, t.cls === 'crosswalk', o);
      const onBefore = t.beforeM !== undefined && lies(samples[i]!, t.beforeM, t.cls === 'crosswalk', o);
      let detects = false;
      let part = false;
      if (t.kind === 'removed') detects = r.kind === 'removed' && onBefore;
      else if (t.kind === 'added') detects = r.kind === 'added' && onAfter;
      else {
        detects = (r.kind === 'moved' || r.kind === 'added') && onAfter;
        part = r.kind === 'removed' && onBefore;
      }
      if (detects || part) {
        matchedReport[i] = true;
        reports++;
      }
      if (detects) detected = true;
    });
    return { id: t.id, scenario: t.scenario, kind: t.kind, cls: t.cls, detected, reports };
  });
  const detected = perChange.filter((c) => c.detected).length;
  const reportedTrue = matchedReport.filter(Boolean).length;
  const precision = reported.length > 0 ? reportedTrue / reported.length : null;
  const recall = truth.length > 0 ? detected / truth.length : null;
  const f1 = precision !== null && recall !== null ? (precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0) : null;
  const falseChanges = reported.length - reportedTrue;
  return {
    trueChanges: truth.length,
    notInPrevious: allTruth.length - truth.length,
    detected,
    reported: reported.length,
    reportedTrue,
    precision,
    recall,
    f1,
    falseChanges,
    falseChangesPer10Km: coveredKm > 0 ? (10 * falseChanges) / coveredKm : null,
    perChange,
    falseReports: reported.filter((_, i) => !matchedReport[i]).map((r) => ({ id: r.id, kind: r.kind, cls: r.cls })),
  };
}

function samplesOf(pts: readonly XY[], closed: boolean, stepM: number): XY[] {
  if (pts.length < 2) return pts.slice();
  return resampleSpacing(closed ? [...pts, pts[0]!] : pts, stepM);
}

/** At least minShare of `samples` within gateM of `truth` (a point, a line or a closed ring). */
function lies(samples: readonly XY[], truth: readonly XY[], closed: boolean, o: ChangeEvalOptions): boolean {
  if (samples.length === 0 || truth.length === 0) return false;
  const line = closed && truth.length > 2 ? [...truth, truth[0]!] : truth;
  let near = 0;
  for (const s of samples) {
    const d = line.length === 1 ? Math.hypot(s[0] - line[0]![0], s[1] - line[0]![1]) : pointPolylineDistM(s, line);
    if (d <= o.gateM) near++;
  }
  return near / samples.length >= o.minShare;
}

/**
 * The changes `fleetmap cloud diff` lists (cloud/merge/diff.ts), in the map's local frame, one
 * per feature piece; only those whose status is in `statuses` (default: confirmed only).
 */
export function reportedFromDiff(changes: readonly VersionChange[], frame: LocalFrame, statuses: ReadonlyArray<VersionChange['status']> = ['confirmed']): ReportedChange[] {
  const out: ReportedChange[] = [];
  const xy = (c: readonly [number, number] | readonly number[]): XY => frame.toLocal({ lng: c[0]!, lat: c[1]! });
  for (const c of changes) {
    if (!statuses.includes(c.status)) continue;
    for (const g of c.geometries) {
      const pointsM = g.type === 'Point' ? [xy(g.coordinates)] : g.type === 'LineString' ? g.coordinates.map(xy) : areaRing(g).slice(0, -1).map(xy);
      out.push({ kind: c.kind, cls: c.cls, id: c.id, pointsM, closed: isAreaGeometry(g) });
    }
  }
  return out;
}
