/**
 * A fixed-width text table of an EvaluationReport, for terminals and logs.
 * Unknown figures print as "-".
 */
import { PRIMITIVE_CLASSES } from '../../shared/schema.ts';
import type { ByThreshold, ClassReport, EvaluationReport, LateralErrorCm } from './evaluate.ts';

export function formatReportTable(report: EvaluationReport): string {
  const keys = Object.keys(report.mAP);
  const rel = report.relative;
  const header = ['class'.padEnd(15), ...keys.map((k) => `AP@${k}`.padStart(8)), 'lat p50'.padStart(9), 'lat p95'.padStart(9), 'recall'.padStart(8), 'FP/km'.padStart(10)];
  const lines: string[] = [];
  const rule = '-'.repeat(header.join(' ').length);
  lines.push('absolute (as given)');
  lines.push(header.join(' '));
  lines.push(rule);
  for (const cls of PRIMITIVE_CLASSES) lines.push(classRow(cls, report.classes[cls], keys));
  lines.push(rule);
  lines.push(summaryRow('mAP / overall', report.mAP, report.lateralErrorCm, report.recall, report.fpLengthPerKm, keys));
  if (rel !== null) {
    lines.push('');
    lines.push(`relative (one translation removed per ${rel.alignment.patchM} m patch; ${rel.alignment.alignedPatches}/${rel.alignment.patches} patches aligned, median offset ${cm(rel.alignment.medianOffsetCm)})`);
    lines.push(header.join(' '));
    lines.push(rule);
    for (const cls of PRIMITIVE_CLASSES) lines.push(classRow(cls, rel.classes[cls], keys));
    lines.push(rule);
    lines.push(summaryRow('mAP / overall', rel.mAP, rel.lateralErrorCm, rel.recall, rel.fpLengthPerKm, keys));
  }
  lines.push('');
  lines.push(`${'mAP'.padEnd(15)} ${keys.map((k) => `@${k}`.padStart(8)).join(' ')}`);
  lines.push(`${'  absolute'.padEnd(15)} ${keys.map((k) => num(report.mAP[k], 3).padStart(8)).join(' ')}`);
  if (rel !== null) lines.push(`${'  relative'.padEnd(15)} ${keys.map((k) => num(rel.mAP[k], 3).padStart(8)).join(' ')}`);
  lines.push(`lateral p50 absolute ${cm(report.lateralErrorCm.p50)}${rel !== null ? `, relative ${cm(rel.lateralErrorCm.p50)}` : ''}; floor (perfect consensus p50) ${cm(report.absoluteFloorCm)}`);
  lines.push(
    `drives ${num(report.drives, 0)}, km driven ${num(report.kmDriven, 2)}, bytes uploaded ${num(report.bytesUploaded, 0)}, bytes/km ${num(report.bytesPerKm, 0)}` +
      (report.elapsedS !== null ? `, elapsed ${num(report.elapsedS, 1)} s` : ''),
  );
  return lines.join('\n') + '\n';
}

function classRow(cls: string, c: ClassReport, keys: readonly string[]): string {
  const fp = c.geometry === 'point' ? `${num(c.fpCountPerKm, 2)} n` : `${num(c.fpLengthPerKm, 1)} m`;
  return [
    cls.padEnd(15),
    ...keys.map((k) => num(c.ap[k], 3).padStart(8)),
    cm(c.lateralErrorCm.p50).padStart(9),
    cm(c.lateralErrorCm.p95).padStart(9),
    num(c.recall, 3).padStart(8),
    fp.padStart(10),
  ].join(' ');
}

function summaryRow(label: string, mAP: ByThreshold, lat: LateralErrorCm, recall: number | null, fpPerKm: number | null, keys: readonly string[]): string {
  return [
    label.padEnd(15),
    ...keys.map((k) => num(mAP[k], 3).padStart(8)),
    cm(lat.p50).padStart(9),
    cm(lat.p95).padStart(9),
    num(recall, 3).padStart(8),
    `${num(fpPerKm, 1)} m`.padStart(10),
  ].join(' ');
}

function num(v: number | null | undefined, digits: number): string {
  return typeof v === 'number' && Number.isFinite(v) ? v.toFixed(digits) : '-';
}

function cm(v: number | null | undefined): string {
  return typeof v === 'number' && Number.isFinite(v) ? `${v.toFixed(1)} cm` : '-';
}
