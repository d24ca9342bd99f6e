/**
 * A fixed-width text table of an EvaluationReport, for terminals and logs.
 * Unknown figures print as "-"; a quantile of `lateralErrorAllSeenCm` that falls among missed
 * ground truth prints as "miss".
 *
 * Columns: lat p50 / lat p95 = matched pairs only (`lateralErrorCm`); p95 seen = all ground truth
 * seen to its nearest prediction (`lateralErrorAllSeenCm.p95`); FP/km drv = false positives per
 * km driven (`fpLengthPerKm`, points `fpCountPerKm`); FP/km pub = per km of published lines
 * (`fpLengthPerKmPublished`, points `fpCountPerKmPublished`).
 */
import { PRIMITIVE_CLASSES } from '../../shared/schema.ts';
import type { AllSeenLateralCm, ByThreshold, ClassReport, EvaluationReport, FigureSet, LateralErrorCm } from './evaluate.ts';

export function formatReportTable(report: EvaluationReport): string {
  const keys = Object.keys(report.mAP);
  const rel = report.relative;
  const header = [
    'class'.padEnd(15),
    ...keys.map((k) => `AP@${k}`.padStart(8)),
    'lat p50'.padStart(9),
    'lat p95'.padStart(9),
    'p95 seen'.padStart(9),
    'recall'.padStart(8),
    'FP/km drv'.padStart(10),
    'FP/km pub'.padStart(10),
  ];
  const lines: string[] = [];
  const rule = '-'.repeat(header.join(' ').length);
  lines.push('absolute (as given)');
  lines.push(header.join(' '));
  lines.push(rule);
  for (const cls of PRIMITIVE_CLASSES) lines.push(classRow(cls, report.classes[cls], keys));
  lines.push(rule);
  lines.push(summaryRow('mAP / overall', report, keys));
  if (rel !== null) {
    lines.push('');
    lines.push(`relative (one translation removed per ${rel.alignment.patchM} m patch; ${rel.alignment.alignedPatches}/${rel.alignment.patches} patches aligned, median offset ${cm(rel.alignment.medianOffsetCm)})`);
    lines.push(header.join(' '));
    lines.push(rule);
    for (const cls of PRIMITIVE_CLASSES) lines.push(classRow(cls, rel.classes[cls], keys));
    lines.push(rule);
    lines.push(summaryRow('mAP / overall', rel, keys));
  }
  lines.push('');
  lines.push(`${'mAP'.padEnd(15)} ${keys.map((k) => `@${k}`.padStart(8)).join(' ')}`);
  lines.push(`${'  absolute'.padEnd(15)} ${keys.map((k) => num(report.mAP[k], 3).padStart(8)).join(' ')}`);
  if (rel !== null) lines.push(`${'  relative'.padEnd(15)} ${keys.map((k) => num(rel.mAP[k], 3).padStart(8)).join(' ')}`);
  lines.push('lat p50/p95: matched pairs only; p95 seen: all ground truth seen, to its nearest prediction (misses count); FP/km: per km driven (drv) and per km of published lines (pub)');
  lines.push(`lateral p50 absolute ${cm(report.lateralErrorCm.p50)}${rel !== null ? `, relative ${cm(rel.lateralErrorCm.p50)}` : ''}; floor (perfect consensus p50) ${cm(report.absoluteFloorCm)}${report.absoluteFloorSource !== null ? ` (${report.absoluteFloorSource})` : ''}`);
  const fr = report.floorCm.realised;
  const fe = report.floorCm.expected;
  if (fr !== null) lines.push(`floor realised (mean bias of the drives at each place, across the line): p50 ${cm(fr.lateralP50Cm)}, p95 ${cm(fr.lateralP95Cm)}; 2-D magnitude p50 ${cm(fr.magnitudeP50Cm)}, p95 ${cm(fr.magnitudeP95Cm)}; ${fr.places} places`);
  if (fe !== null) lines.push(`floor expected (sigma ${num(fe.driveBiasSigmaM, 2)} m / sqrt(n), over bias draws): p50 ${cm(fe.consensusLateralP50Cm)}, p95 ${cm(fe.consensusLateralP95Cm)}; ${fe.places} places`);
  lines.push(
    `drives ${num(report.drives, 0)}, km driven ${num(report.kmDriven, 2)}, bytes uploaded ${num(report.bytesUploaded, 0)}, bytes/km ${num(report.bytesPerKm, 0)}` +
      (report.elapsedS !== null ? `, elapsed ${num(report.elapsedS, 1)} s` : ''),
  );
  return lines.join('\n') + '\n';
}

function classRow(cls: string, c: ClassReport, keys: readonly string[]): string {
  const point = c.geometry === 'point';
  const fpDrv = point ? `${num(c.fpCountPerKm, 2)} n` : `${num(c.fpLengthPerKm, 1)} m`;
  const fpPub = point ? `${num(c.fpCountPerKmPublished, 2)} n` : `${num(c.fpLengthPerKmPublished, 1)} m`;
  return row(cls, c.ap, c.lateralErrorCm, c.lateralErrorAllSeenCm, c.recall, fpDrv, fpPub, keys);
}

function summaryRow(label: string, f: Pick<FigureSet, 'mAP' | 'lateralErrorCm' | 'lateralErrorAllSeenCm' | 'recall' | 'fpLengthPerKm' | 'fpLengthPerKmPublished'>, keys: readonly string[]): string {
  return row(label, f.mAP, f.lateralErrorCm, f.lateralErrorAllSeenCm, f.recall, `${num(f.fpLengthPerKm, 1)} m`, `${num(f.fpLengthPerKmPublished, 1)} m`, keys);
}

function row(label: string, ap: ByThreshold, lat: LateralErrorCm, seen: AllSeenLateralCm, recall: number | null, fpDrv: string, fpPub: string, keys: readonly string[]): string {
  const seenP95 = seen.p95 === null && seen.samples > 0 ? 'miss' : cm(seen.p95);
  return [
    label.padEnd(15),
    ...keys.map((k) => num(ap[k], 3).padStart(8)),
    cm(lat.p50).padStart(9),
    cm(lat.p95).padStart(9),
    seenP95.padStart(9),
    num(recall, 3).padStart(8),
    fpDrv.padStart(10),
    fpPub.padStart(10),
  ].join(' ');
}

function num(v: number | null | undefined, digits: number): string {
  return typeof v === 'number' && Number.isFinite(v) ? v.toFixed(digits) : '-';
}

function cm(v: number | null | undefined): string {
  return typeof v === 'number' && Number.isFinite(v) ? `${v.toFixed(1)} cm` : '-';
}
