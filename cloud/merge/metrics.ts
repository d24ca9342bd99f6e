/**
 * Prometheus metrics of the merge, a batch job: written as a text file after each run
 * (`fleetmap cloud merge --metrics-file F`) for node_exporter's textfile collector
 * (`--collector.textfile.directory`; F must end in `.prom`), atomically (temp + rename) so the
 * collector never reads half a file. Counts accumulate across runs: the previous file is read back
 * (only our own `fleetmap_merge_` lines; anything else in it is dropped).
 *
 *   fleetmap_merge_duration_seconds            histogram of run durations (every run)
 *   fleetmap_merge_runs_total{result}          runs by result: ok, failed
 *   fleetmap_merge_tiles_published             tiles in the version the last good run published
 *   fleetmap_merge_tiles_recomputed            tiles that run recomputed (the rest carried over)
 *   fleetmap_merge_version                     the version it published
 *   fleetmap_merge_batches{outcome}            that run's new batches: read (and decoded), missing
 *                                              (named by an arrival record, not stored yet),
 *                                              undecodable (torn or corrupt; neither of the last
 *                                              two is consumed: a later run reads them once whole)
 *   fleetmap_merge_last_success_timestamp_seconds   when it finished, Unix seconds
 */
import { randomBytes } from 'node:crypto';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import type { Progress } from '../../shared/progress.ts';
import type { MergeLog } from './run.ts';

/** Upper bounds of the duration buckets, seconds. */
export const MERGE_DURATION_BUCKETS_S = [1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200] as const;

export type MergeRunResult =
  | { ok: true; durationS: number; finishedUnixMs: number; version: number; tilesPublished: number; tilesRecomputed: number; batches?: MergeBatchCounts }
  | { ok: false; durationS: number; finishedUnixMs: number };

/** A run's new batches (its plan's stats). */
export interface MergeBatchCounts {
  read: number;
  missing: number;
  undecodable: number;
}

const P = 'fleetmap_merge_';
const METRICS: ReadonlyArray<{ name: string; type: 'gauge' | 'counter' | 'histogram'; help: string }> = [
  { name: `${P}duration_seconds`, type: 'histogram', help: 'Time a merge run took, from start to publish (or failure).' },
  { name: `${P}runs_total`, type: 'counter', help: 'Merge runs by result (ok, failed).' },
  { name: `${P}tiles_published`, type: 'gauge', help: 'Tiles in the map version the last successful merge published.' },
  { name: `${P}tiles_recomputed`, type: 'gauge', help: 'Tiles the last successful merge recomputed (the others were carried over).' },
  { name: `${P}version`, type: 'gauge', help: 'Map version the last successful merge published.' },
  { name: `${P}batches`, type: 'gauge', help: 'New batches of the last successful merge by outcome: read, missing (named by an arrival record, not stored yet), undecodable; the last two are read again by a later run.' },
  { name: `${P}last_success_timestamp_seconds`, type: 'gauge', help: 'When the last successful merge finished, Unix seconds.' },
];

/** Our own samples of a previous file: `series -> value` (series = name plus labels, as written). */
export function parseMergeSamples(text: string | undefined): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of (text ?? '').split('\n')) {
    const m = /^(fleetmap_merge_[a-z_]+(?:\{[a-z]+="[^"\\\n]*"\})?) (\S+)$/.exec(line);
    if (!m) continue;
    const v = m[2] === '+Inf' ? Infinity : Number(m[2]);
    if (!Number.isNaN(v)) out.set(m[1]!, v);
  }
  return out;
}

/** The file after one more run, given the previous file's text (undefined: the first run). */
export function mergeMetricsText(previous: string | undefined, run: MergeRunResult): string {
  const s = parseMergeSamples(previous);
  const add = (series: string, n: number): void => {
    s.set(series, (s.get(series) ?? 0) + n);
  };
  const d = Math.max(0, run.durationS);
  for (const le of MERGE_DURATION_BUCKETS_S) add(`${P}duration_seconds_bucket{le="${le}"}`, d <= le ? 1 : 0);
  add(`${P}duration_seconds_bucket{le="+Inf"}`, 1);
  add(`${P}duration_seconds_sum`, d);
  add(`${P}duration_seconds_count`, 1);
  add(`${P}runs_total{result="ok"}`, run.ok ? 1 : 0);
  add(`${P}runs_total{result="failed"}`, run.ok ? 0 : 1);
  if (run.ok) {
    s.set(`${P}tiles_published`, run.tilesPublished);
    s.set(`${P}tiles_recomputed`, run.tilesRecomputed);
    s.set(`${P}version`, run.version);
    if (run.batches) for (const [outcome, n] of Object.entries(run.batches)) s.set(`${P}batches{outcome="${outcome}"}`, n);
    s.set(`${P}last_success_timestamp_seconds`, run.finishedUnixMs / 1000);
  }
  const lines: string[] = [];
  for (const m of METRICS) {
    const mine = [...s.keys()].filter((k) => k === m.name || k.startsWith(`${m.name}{`) || (m.type === 'histogram' && k.startsWith(`${m.name}_`)));
    if (mine.length === 0) continue;
    lines.push(`# HELP ${m.name} ${m.help}`, `# TYPE ${m.name} ${m.type}`);
    const order = (k: string): number => {
      const le = /le="([^"]+)"/.exec(k)?.[1];
      return le === undefined ? (k.endsWith('_sum') ? 1e12 : k.endsWith('_count') ? 1e13 : 0) : le === '+Inf' ? 1e11 : Number(le);
    };
    mine.sort((a, b) => order(a) - order(b) || (a < b ? -1 : a > b ? 1 : 0));
    for (const k of mine) lines.push(`${k} ${formatValue(s.get(k)!)}`);
  }
  return `${lines.join('\n')}\n`;
}

/** Read `path` (if any), add `run`, write it back atomically (temp file beside it, then rename). */
export async function recordMergeRun(path: string, run: MergeRunResult): Promise<void> {
  let previous: string | undefined;
  try {
    previous = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  const tmp = `${path}.tmp-${randomBytes(4).toString('hex')}`;
  try {
    await writeFile(tmp, mergeMetricsText(previous, run));
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}

function formatValue(v: number): string {
  return v === Infinity ? '+Inf' : Number.isInteger(v) ? String(v) : String(Math.round(v * 1e6) / 1e6);
}

/**
 * A merge log that also drives a terminal progress display from the run's events (merge_start:
 * planning; merge_planned: the tiles to recompute; merge_tile: one more done; merge_published:
 * done) and remembers what the metrics file needs. Log lines are written through
 * `progress.interrupt` so they never tear the progress line.
 */
export function watchMergeLog(inner: MergeLog, progress: Progress): { log: MergeLog; tilesRecomputed: () => number | undefined; batches: () => MergeBatchCounts | undefined } {
  let recomputed: number | undefined;
  let batches: MergeBatchCounts | undefined;
  const log: MergeLog = {
    info: (event, fields) => {
      if (event === 'merge_start') progress.stage('merge: plan (read new batches)');
      else if (event === 'merge_planned') {
        recomputed = typeof fields.tilesRecomputed === 'number' ? fields.tilesRecomputed : undefined;
        const [read, missing, undecodable] = [fields.batchesRead, fields.batchesMissing, fields.batchesUndecodable];
        batches = typeof read === 'number' && typeof missing === 'number' && typeof undecodable === 'number' ? { read, missing, undecodable } : undefined;
        progress.stage('merge: tiles', recomputed, 'tiles');
      } else if (event === 'merge_tile') progress.tick();
      else if (event === 'merge_published') {
        if (typeof fields.recomputed === 'number') recomputed = fields.recomputed;
        progress.end();
      }
      progress.interrupt(() => inner.info(event, fields));
    },
    warn: (event, fields) => progress.interrupt(() => inner.warn(event, fields)),
  };
  return { log, tilesRecomputed: () => recomputed, batches: () => batches };
}
