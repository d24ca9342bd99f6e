/**
 * Tuning of the merge, one object with a default and a unit beside every key, merged once
 * (`resolveMergeOptions`). Distances are metres in the job tile's local frame, times seconds.
 */

export interface MergeOptions {
  // --- scale-out ---
  /** Neighbour data read around the job's tile, metres (covers alignment and gauge smoothing). */
  marginM: number;
  /**
   * The final clustering uses only observations reaching within this of the tile square,
   * metres: enough for lines to run across the border (they are clipped there); the rest of
   * the margin only serves alignment.
   */
  outputMarginM: number;

  // --- drive segments ---
  /** A drive's observations split into segments at time gaps longer than this, seconds. */
  segmentGapS: number;
  /** Longest segment (one translation each), seconds; ~100-200 m at city speeds. */
  segmentMaxS: number;
  /** Observations whose pose sigma exceeds this are ignored, centimetres. */
  maxPoseSigmaCm: number;

  // --- coarse alignment (score-map search against the other drives) ---
  /** Cell of the drive-level search grid, metres. */
  coarseCellM: number;
  /** Drive-level search half-width, metres (GNSS bias is ~1 m sigma per axis). */
  coarseSearchM: number;
  /** Cell of the segment-level refinement grid, metres. */
  refineCellM: number;
  /** Segment-level refinement half-width around the drive's offset, metres. */
  refineSearchM: number;
  /** Spacing of alignment points along lines, metres. */
  alignSpacingM: number;
  /** Gaussian prior on a drive's offset in the coarse search (breaks along-track ridges), metres. */
  coarsePriorSigmaM: number;

  // --- fine alignment (point-to-line against the consensus) ---
  /** Iterations of {fit consensus, align segments to it}. */
  fineIterations: number;
  /** Tukey cut-off of point-to-line residuals, metres. */
  fineRobustM: number;
  /** Prior sigma on a segment's correction (the GNSS bias scale), metres. */
  biasPriorSigmaM: number;
  /** Sigma of the correction change between consecutive segments of one drive, metres. */
  driftStepSigmaM: number;
  /**
   * Prior sigma of a segment's rotation about its pivot, radians; 0 turns the rotation off
   * (translation only), the default. 0.005 (0.3 degrees, a heading error an automotive GNSS/INS
   * can carry) recovers synthetic heading errors to about 1 mrad (rotation.test.ts), but on the
   * simulated fleets, whose pose errors are translations, it moved the demo and the validation
   * maps only within noise, and on a gently curved road (merge.test.ts's fleet) it moved an
   * isolated sign 0.1-0.25 m along the road where translation alone kept it within 0.15 m: off
   * until drives with real heading errors show it pays.
   */
  rotationPriorSigmaRad: number;

  // --- gauge ---
  /** Cell of the local gauge field (mean correction over drives = 0 locally), metres. */
  gaugeCellM: number;
  /** Gaussian smoothing radius of the gauge field, metres (keep < marginM). */
  gaugeSigmaM: number;
  /**
   * Anchor drives: a segment whose observations declare a pose sigma of at most this (survey-grade
   * positioning, RTK) is an anchor, metres ...
   */
  anchorMaxSigmaM: number;
  /**
   * ... and counts this many times an ordinary segment in the gauge, so the map follows anchors
   * where they exist (the variance ratio of a ~1 m consumer fix to a ~0.1 m RTK fix). Without
   * anchors every segment weighs 1 and the gauge is the plain mean.
   */
  anchorGaugeWeight: number;

  // --- clustering ---
  /** Resampling of line observations for clustering, metres. */
  resampleM: number;
  /** Resampling of stop lines (short), metres. */
  stopLineResampleM: number;
  /** Lateral gate of the first clustering (after coarse alignment), metres. */
  coarseGateM: number;
  /** Lateral gate of the final clustering, metres (adjacent dividers are ~3 m apart). */
  gateM: number;
  /** Largest angle between an observation and a consensus line, degrees. */
  maxAngleDeg: number;
  /** Share of an observation's overlapping points that must lie within the gate to join. */
  minInlierShare: number;
  /** Half-window of the lateral-offset smoothing along a consensus line, metres. */
  smoothHalfWindowM: number;
  /** Radius of a sign / light place, metres (its cores are half as wide: cluster-shapes.ts). */
  pointRadiusM: number;
  /** Largest distance between crosswalk centroids of one cluster, metres. */
  areaRadiusM: number;
  /**
   * Where a crosswalk's consensus rectangle ends along its long axis (across the road;
   * cluster-shapes.ts outerEnd): its views' outermost end is this quantile of their ends
   * (outwards), in [0.5, 1], below 1 so that one view smeared beyond the paint does not set it ...
   */
  crosswalkEndQuantile: number;
  /**
   * ... and when that lies more than this beyond the median view's end, metres, the end is the
   * median of the views' ends within this of the outermost one (else the median view's): a
   * camera sees a wide road's crosswalk only as far as its field of view reaches, so views from
   * one side stop metres short of the far end, while views that saw the end agree within
   * decimetres.
   */
  crosswalkEndBandM: number;
  /** Distinct drives a primitive needs (rejects single-drive false positives). */
  minDrives: number;
  /**
   * Shadows: a primitive lying mostly within shadowLineM (lines) / shadowPointM (points,
   * polygons) of a same-class primitive with >= shadowSupportRatio times its support is a ghost
   * of it (a few drives' observations during a GNSS multipath jump, scattered around the real
   * one) and is dropped. With many drives such ghosts reach minDrives; real neighbours of one
   * class (dividers ~3 m apart, signs >= 3 m apart) lie outside these radii or have similar support.
   * Tuned on the Karlsruhe simulation (sim/merge-bench.ts, 120 drives): ratio 3 / 2.5 m cut the
   * false positives by a third at a recall cost of 0.2 %.
   */
  shadowSupportRatio: number;
  shadowLineM: number;
  shadowPointM: number;
  /** A style/kind run shorter than this is absorbed by its neighbours, metres. */
  styleMinRunM: number;
  /** Douglas-Peucker tolerance of published lines, metres. */
  simplifyM: number;
  /** Shortest published line piece, metres. */
  minLineM: number;
  /**
   * A stop line is a straight bar: a consensus stop line is split where it strays more than this
   * from a straight line (bars of two lanes, or a bar and a stray dash, chained by the
   * clustering), and each piece is published as the straight line fitted to it, metres. Without
   * it the model's stop lines came out bent and L-shaped. Set on a Karlsruhe model fleet other
   * than the demo's (seed 2) and the oracle's demo: one straight fit per line without splitting
   * (or at 0.5 m) joined the oracle's touching per-lane bars (relative AP@0.2 0.83 -> 0.70);
   * at 0.25 m the oracle's figures stay as they were, the seed-2 fleet's stop lines gain a little
   * (AP@0.5 0.125 -> 0.128, relative 0.135 -> 0.154) and the demo's lose a little (0.272 -> 0.246,
   * relative 0.508 -> 0.502; AP@1.0 0.717 -> 0.731): about one bar in 13, noise at this count.
   * On the five validation maps (`npm run bench:accuracy -- --maps validation --perception model
   * --routes 2 --ladder 1,2,5,10 --change-drives 1,3`, 0.25 against 0) absolute mAP@0.5 and @1.0
   * did not move on any map, relative mAP@0.2 fell 0.374 -> 0.368 (multilane 0.206 -> 0.195, grid
   * 0.340 -> 0.322) and suburban reported one false change more (1.8 -> 2.7 per 10 km). So it is
   * off by default: 0 publishes stop lines as their consensus polyline.
   */
  stopLineMaxBendM: number;
  /**
   * A stop line lying along a divider or boundary is that line read as a bar and is dropped
   * (bars-along-lines.ts): when at least stopLineAlongShare of its samples have a line of at
   * least its support within stopLineAlongM, within stopLineAlongMaxDeg of parallel. A bar
   * crosses its lane; the lines it touches meet it at its ends, across. Set on the model's
   * Karlsruhe demo fleet (a tuning map): at 1 m, 30 degrees and 0.7 it dropped 18 of 40 false
   * stop lines and 1 of 16 true ones. 0 (either length or share): off.
   */
  stopLineAlongM: number;
  stopLineAlongMaxDeg: number;
  stopLineAlongShare: number;
  /**
   * A stop line crossing a road boundary near one of its ends is cut there (bars-at-kerbs.ts):
   * the overhang past the kerb, at most stopLineKerbTrimM and stopLineKerbTrimShare of the bar's
   * length per end, where the boundary has at least stopLineKerbMinSupportShare of the bar's
   * support. Set on the Karlsruhe demos' stores (a tuning map; docs/MEASUREMENTS.md 1.00000):
   * the model's overhangs were 0.6-2.0 m, at most a fifth of the bar; a share of 0.35 also cut
   * a well-placed bar on the suburban validation map where a consensus border crossed it 22 %
   * in. 0 (length or share): off.
   */
  stopLineKerbTrimM: number;
  stopLineKerbTrimShare: number;
  stopLineKerbMinSupportShare: number;
  /**
   * Per-lane stop lines that abut (bars-at-lane-ends.ts): a consensus stop line is split where a
   * lane divider ending near it, carried on along its last stopLineLaneEndTangentM, meets it
   * within stopLineLaneReachM ahead of the divider's end (a dashed divider's last dash stops up
   * to a gap short) or stopLineLaneEndM behind it, at least stopLineLaneEndMinPieceM from either
   * end of the bar, at stopLineLaneEndMinAngleDeg or more; each piece keeps the observations
   * that lie on it. The drives see no gap between two lanes' bars that touch; the divider
   * between the lanes says where one ends. 0 (reach): off.
   */
  stopLineLaneReachM: number;
  stopLineLaneEndM: number;
  stopLineLaneEndMinPieceM: number;
  stopLineLaneEndTangentM: number;
  stopLineLaneEndMinAngleDeg: number;
  /**
   * A published dashed divider's free ends are extended by dashedEndExtendM (dashed-ends.ts): a
   * map draws the line to the lanelet's end, the paint stops at a dash somewhere before it (for
   * 3 m dashes and 6 m gaps the median overrun is 1.5 m). An end is free when no other divider
   * lies within dashedEndClearM of the extension; its direction is taken over the last
   * dashedEndTangentM. Set on the on-vehicle model's Karlsruhe tuning fleet (seed 7), 1 / 1.5 /
   * 2.5 m. 0: off.
   */
  dashedEndExtendM: number;
  dashedEndClearM: number;
  dashedEndTangentM: number;

  // --- evidence over time and change detection ---
  /** Footprint cell: where a drive segment saw anything, metres. */
  footprintCellM: number;
  /**
   * A primitive is dropped (gone from the road) when at least this many drives passed after it
   * was last seen and missed it ...
   */
  staleAfterMissedDrives: number;
  /**
   * ... and a miss streak that long is unlikely for a primitive still there: the drives that
   * passed before the streak saw it at a rate h, and (1 - h)^streak must be at most this. A
   * primitive every passing drive saw goes after staleAfterMissedDrives misses; one only every
   * other drive saw (at the edge of the sensor field) needs 7 at 0.01.
   */
  staleMaxMissChance: number;
  /**
   * The same test per stretch of a line (evidence.ts withoutStaleStretches): a vertex's support is
   * the drives seen within staleStretchWindowM along the line, and a stale run of at least
   * staleStretchMinM is cut out (removed or repainted paint inside a longer line), metres. 0: off.
   */
  staleStretchWindowM: number;
  staleStretchMinM: number;
  /**
   * Stretches of a line that moved (recent-shift.ts movedStretches: a divider repainted aside
   * inside a longer line): the drives since the previous version and those before are compared
   * in bins of movedStretchBinM along the line, and a run of at least movedStretchMinM whose
   * lower-bound shift exceeds movedThresholdM, seen by at least staleAfterMissedDrives recent
   * drives (as many as a removal needs), is re-placed where the recent drives put it and
   * reported moved as a part of the line, metres. 0: off. At 8 m the oracle's Karlsruhe demo
   * reported one false move (two bins at a junction, where a crossing divider's observations
   * join the line); the demo's repaint, like a real one, runs tens of metres.
   */
  movedStretchBinM: number;
  movedStretchMinM: number;
  /** Largest distance at which a previous-version feature still counts as the same one, metres. */
  matchGateM: number;
  /** A matched feature counts as moved when it shifted more than this (after the tile's common shift), metres. */
  movedThresholdM: number;
  /**
   * Lines (and crosswalk rings) shorter than this that appear or disappear are churn, not
   * changes: the slivers a tile border or a line end cuts off, metres.
   */
  changeMinLengthM: number;
  /**
   * Features scored below this that appear or disappear are low-confidence churn (a ghost of two
   * drives, a stretch first covered): counted apart from the added / removed changes. A new
   * feature is judged by its existence score (evidence.ts `existenceScore`: without the
   * placement term when most of the passing drives saw it), a disappearing one by its score.
   */
  changeMinScore: number;
  /**
   * A new feature beside a previous one is new paint (a repainted lane, a construction zone's
   * lines) when at least this share of its drives saw it since the previous version; otherwise it
   * is a re-cut piece of the old one. Fraction.
   */
  changeNewDrivesShare: number;
}

export const DEFAULT_MERGE_OPTIONS: Readonly<MergeOptions> = Object.freeze({
  marginM: 60, // m
  outputMarginM: 40, // m
  segmentGapS: 10, // s
  segmentMaxS: 15, // s
  maxPoseSigmaCm: 500, // cm
  coarseCellM: 1.0, // m
  coarseSearchM: 5.0, // m
  refineCellM: 0.5, // m
  refineSearchM: 1.5, // m
  alignSpacingM: 2.0, // m
  coarsePriorSigmaM: 2.5, // m
  fineIterations: 3,
  fineRobustM: 0.5, // m
  biasPriorSigmaM: 1.0, // m
  driftStepSigmaM: 0.15, // m
  rotationPriorSigmaRad: 0, // rad (off)
  gaugeCellM: 10, // m
  gaugeSigmaM: 20, // m
  anchorMaxSigmaM: 0.1, // m
  anchorGaugeWeight: 100, // ordinary segments
  resampleM: 1.0, // m
  stopLineResampleM: 0.5, // m
  coarseGateM: 1.0, // m
  gateM: 0.6, // m
  maxAngleDeg: 25, // degrees
  minInlierShare: 0.6, // fraction
  smoothHalfWindowM: 2, // m
  pointRadiusM: 1.5, // m
  areaRadiusM: 3.0, // m
  crosswalkEndQuantile: 0.9, // quantile
  crosswalkEndBandM: 1.0, // m
  minDrives: 2, // drives
  shadowSupportRatio: 3, // x support
  shadowLineM: 2.5, // m
  shadowPointM: 3.0, // m
  styleMinRunM: 8, // m
  simplifyM: 0.05, // m
  minLineM: 0.05, // m
  stopLineMaxBendM: 0, // m (off; 0.25 m straightens, see above)
  stopLineAlongM: 1.0, // m
  stopLineAlongMaxDeg: 30, // degrees
  stopLineAlongShare: 0.7, // fraction of the bar's samples
  stopLineKerbTrimM: 2.5, // m
  stopLineKerbTrimShare: 0.2, // fraction of the bar's length, per end
  stopLineKerbMinSupportShare: 0.5, // fraction of the bar's supporting drives
  stopLineLaneReachM: 6, // m (a dash gap)
  stopLineLaneEndM: 1, // m
  stopLineLaneEndMinPieceM: 1.5, // m
  stopLineLaneEndTangentM: 3, // m
  stopLineLaneEndMinAngleDeg: 45, // degrees
  dashedEndExtendM: 1.5, // m
  dashedEndClearM: 1.0, // m
  dashedEndTangentM: 2.0, // m
  footprintCellM: 5, // m
  staleAfterMissedDrives: 3, // drives
  staleMaxMissChance: 0.01, // probability
  staleStretchWindowM: 2, // m
  staleStretchMinM: 3, // m
  movedStretchBinM: 4, // m
  movedStretchMinM: 12, // m
  matchGateM: 1.5, // m
  movedThresholdM: 0.5, // m
  changeMinLengthM: 2, // m
  changeMinScore: 0.4, // score
  changeNewDrivesShare: 0.75, // fraction
});

/** Defaults overlaid with `o`; refuses unknown keys and non-finite or negative numbers. */
export function resolveMergeOptions(o: Partial<MergeOptions> = {}): MergeOptions {
  const out: MergeOptions = { ...DEFAULT_MERGE_OPTIONS };
  for (const [k, v] of Object.entries(o)) {
    if (!(k in DEFAULT_MERGE_OPTIONS)) throw new RangeError(`unknown merge option ${JSON.stringify(k)}`);
    if (v === undefined) continue;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new RangeError(`merge option ${k} must be a finite number >= 0, got ${String(v)}`);
    (out as unknown as Record<string, number>)[k] = v;
  }
  if (out.minDrives < 1 || !Number.isInteger(out.minDrives)) throw new RangeError(`merge option minDrives must be an integer >= 1, got ${out.minDrives}`);
  if (out.gaugeSigmaM > out.marginM) throw new RangeError(`merge option gaugeSigmaM (${out.gaugeSigmaM} m) must not exceed marginM (${out.marginM} m)`);
  if (!(out.crosswalkEndQuantile >= 0.5 && out.crosswalkEndQuantile <= 1)) throw new RangeError(`merge option crosswalkEndQuantile must be in [0.5, 1], got ${out.crosswalkEndQuantile}`);
  for (const k of ['resampleM', 'stopLineResampleM', 'coarseCellM', 'refineCellM', 'alignSpacingM', 'gateM', 'coarseGateM', 'gaugeCellM', 'footprintCellM'] as const) {
    if (!(out[k] > 0)) throw new RangeError(`merge option ${k} must be > 0, got ${out[k]}`);
  }
  return out;
}
