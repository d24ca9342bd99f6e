/**
 * Quality of the on-vehicle model on a held-out dataset (docs/PERCEPTION.md section 3), for
 * sim/bench/edge.bench.ts:
 *
 * - per-class pixel IoU of the in-process Segmenter's arg-max against labels.u8 (255 ignored),
 *   the same definition as edge/model/evaluate.py;
 * - single-frame vector AP: per frame, Segmenter -> GroundLut (the frame's calibration and the
 *   true vehicle pitch of frames.jsonl) -> vectorizeFrame (body frame) -> clipped to the truth
 *   field (3..30 m ahead, +-12 m) -> the project's Chamfer AP code (sim/eval/chamfer_ap.ts) against
 *   the frame's `truth`. Frames are scored as separate patches: frame k is shifted by k * 1000 m
 *   so no prediction can match another frame's ground truth; all frames of a class are pooled
 *   before sorting by confidence (as MapTR pools its samples).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SEG_CLASS_NAMES, type CameraCalibration } from '../../shared/camera.ts';
import type { CameraFrame } from '../../shared/camera-frame.ts';
import { CLASS_GEOMETRY, PRIMITIVE_CLASSES, type Primitive, type PrimitiveClass, type ScoredPrimitive } from '../../shared/schema.ts';
import { GroundLut, scaleCalibration, vectorizeFrame, type Segmenter } from '../../edge/perception/index.ts';
import { clipPolygon, clipPolyline } from '../clip.ts';
import { TRUTH_FIELD, type BodyTruth } from '../camera/truth.ts';
import { averagePrecision, greedyMatch, lineCandidates, pointCandidates } from '../eval/chamfer_ap.ts';
import { buildLineInstances, buildPointInstances } from '../eval/instances.ts';
import { stitchPolylines } from '../eval/stitch.ts';

export const AP_THRESHOLDS_M = [0.5, 1.0, 1.5] as const; // MapTR's Chamfer thresholds, metres
const IGNORE = 255;
const FRAME_SHIFT_M = 1000; // m between frames' patches
const PATCH_M = 100; // m: one frame's field (27 m x 24 m, shifted by +50 m north) lies in one patch
const RESAMPLE = 20; // points per instance (sim/eval default)
const MIN_PIECE_M = 1; // m (sim/eval default)
const STITCH_M = 0.3; // m (sim/eval default)

export interface FrameRecord {
  map: string;
  seed: number;
  calibration: CameraCalibration;
  vehiclePitchRad: number;
  truth: BodyTruth[];
}

export interface Dataset {
  dir: string;
  count: number;
  images: Uint8Array;
  labels: Uint8Array;
  frames: FrameRecord[];
  meta: Record<string, unknown>;
}

export function readDataset(dir: string): Dataset {
  const meta = JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8')) as Record<string, unknown>;
  const count = meta.count as number;
  const images = new Uint8Array(readFileSync(join(dir, 'images.u8')));
  const labels = new Uint8Array(readFileSync(join(dir, 'labels.u8')));
  const frames = readFileSync(join(dir, 'frames.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as FrameRecord);
  if (images.length !== count * 256 * 128 * 3 || labels.length !== count * 128 * 64 || frames.length !== count) throw new Error(`${dir}: sizes do not match count ${count}`);
  return { dir, count, images, labels, frames, meta };
}

export function datasetFrame(ds: Dataset, i: number): CameraFrame {
  const n = 256 * 128 * 3;
  return { tMonoNs: i * 1e8, frameId: i, encoding: 'rgb8', widthPx: 256, heightPx: 128, exposureUs: 5000, pixels: ds.images.subarray(i * n, (i + 1) * n) };
}

export interface QualityReport {
  frames: number;
  iou: Record<string, number | null>;
  mIoU: number | null;
  pixelAccuracy: number;
  ap: Record<PrimitiveClass, Record<string, number | null>>;
  mAP: Record<string, number | null>;
  gtInstances: Record<PrimitiveClass, number>;
  predInstances: Record<PrimitiveClass, number>;
  msPerFrameVectorize: number;
}

/** Accumulates IoU confusion and per-class AP inputs over frames of one or more datasets. */
export class QualityAccumulator {
  private readonly conf = new Float64Array(SEG_CLASS_NAMES.length ** 2);
  private readonly gt = new Map<PrimitiveClass, Primitive[]>();
  private readonly pred = new Map<PrimitiveClass, ScoredPrimitive[]>();
  private readonly luts = new Map<string, GroundLut>();
  private frames = 0;
  private vectorizeMs = 0;

  /** Score one frame into this accumulator and each of `also` (the model runs once). */
  async addFrame(seg: Segmenter, frame: CameraFrame, labels: Uint8Array, rec: FrameRecord, also: QualityAccumulator[] = []): Promise<void> {
    const out = await seg.run(frame);
    const C = SEG_CLASS_NAMES.length;
    for (let p = 0; p < labels.length; p++) {
      const t = labels[p]!;
      if (t === IGNORE) continue;
      const k = t * C + out.classId[p]!;
      this.conf[k]! += 1;
      for (const o of also) o.conf[k]! += 1;
    }
    const key = JSON.stringify(rec.calibration);
    let lut = this.luts.get(key);
    if (!lut) {
      lut = new GroundLut(scaleCalibration(rec.calibration, seg.inputWidthPx, seg.inputHeightPx));
      this.luts.set(key, lut);
    }
    lut.update(rec.vehiclePitchRad);
    const t0 = performance.now();
    const prims = vectorizeFrame(out, lut);
    const ms = performance.now() - t0;
    const clipped = prims.map((p) => ({ p, pieces: clipToField(p.cls, p.pointsLocal) }));
    for (const acc of [this as QualityAccumulator, ...also]) {
      acc.vectorizeMs += ms;
      const k = acc.frames++;
      const shift = (p: readonly [number, number]): [number, number] => [p[0] + k * FRAME_SHIFT_M, p[1] + 50];
      for (const t of rec.truth) push(acc.gt, t.cls, { cls: t.cls, points: t.pointsBody.map(shift) });
      for (const { p, pieces } of clipped) for (const pts of pieces) push(acc.pred, p.cls, { cls: p.cls, points: pts.map(shift), score: p.score });
    }
  }

  report(): QualityReport {
    const C = SEG_CLASS_NAMES.length;
    const iou: Record<string, number | null> = {};
    let tpAll = 0;
    let total = 0;
    for (let c = 0; c < C; c++) {
      let row = 0;
      let col = 0;
      for (let j = 0; j < C; j++) {
        row += this.conf[c * C + j]!;
        col += this.conf[j * C + c]!;
      }
      const tp = this.conf[c * C + c]!;
      tpAll += tp;
      total += row;
      iou[SEG_CLASS_NAMES[c]!] = row + col - tp > 0 ? r4(tp / (row + col - tp)) : null;
    }
    const fg = Object.values(iou).slice(1).filter((v): v is number => v !== null);
    const ap = {} as QualityReport['ap'];
    const gtInstances = {} as Record<PrimitiveClass, number>;
    const predInstances = {} as Record<PrimitiveClass, number>;
    for (const cls of PRIMITIVE_CLASSES) {
      const r = scoreClass(cls, this.gt.get(cls) ?? [], this.pred.get(cls) ?? []);
      ap[cls] = r.ap;
      gtInstances[cls] = r.nGt;
      predInstances[cls] = r.nPred;
    }
    const mAP: Record<string, number | null> = {};
    for (const t of AP_THRESHOLDS_M) {
      const vals = PRIMITIVE_CLASSES.map((c) => ap[c][thrKey(t)]).filter((v): v is number => typeof v === 'number');
      mAP[thrKey(t)] = vals.length ? r4(vals.reduce((a, b) => a + b, 0) / vals.length) : null;
    }
    return {
      frames: this.frames,
      iou,
      mIoU: fg.length ? r4(fg.reduce((a, b) => a + b, 0) / fg.length) : null,
      pixelAccuracy: r4(tpAll / Math.max(1, total)),
      ap,
      mAP,
      gtInstances,
      predInstances,
      msPerFrameVectorize: this.frames ? Math.round((this.vectorizeMs / this.frames) * 100) / 100 : 0,
    };
  }
}

export function thrKey(t: number): string {
  return t.toFixed(1);
}

function scoreClass(cls: PrimitiveClass, gt: Primitive[], pred: ScoredPrimitive[]): { ap: Record<string, number | null>; nGt: number; nPred: number } {
  const geometry = CLASS_GEOMETRY[cls];
  if (geometry === 'polyline') {
    gt = stitchPolylines(gt, STITCH_M).map((l) => ({ cls, points: l.points }));
    pred = stitchPolylines(pred, STITCH_M).map((l) => ({ cls, points: l.points, score: l.score }));
  }
  const opts = { patchM: PATCH_M, originM: [0, 0] as const, resampleCount: RESAMPLE, minPieceM: MIN_PIECE_M };
  const maxThr = Math.max(...AP_THRESHOLDS_M);
  const scores = pred.map((p) => p.score);
  const gi = geometry === 'point' ? buildPointInstances(gt, opts) : buildLineInstances(gt, opts);
  const pi = geometry === 'point' ? buildPointInstances(pred, opts, scores) : buildLineInstances(pred, opts, scores);
  const cands = geometry === 'point' ? pointCandidates(gi, pi, maxThr) : lineCandidates(gi, pi, maxThr);
  const ap: Record<string, number | null> = {};
  for (const t of AP_THRESHOLDS_M) {
    const m = greedyMatch(pi.map((p) => p.score), cands, gi.length, t);
    const v = averagePrecision(m.tp, gi.length);
    ap[thrKey(t)] = v === null ? null : r4(v);
  }
  return { ap, nGt: gi.length, nPred: pi.length };
}

/** A body-frame prediction clipped to the field the truth covers (the truth is clipped the same way). */
function clipToField(cls: PrimitiveClass, pts: ReadonlyArray<readonly [number, number]>): Array<Array<[number, number]>> {
  const f = TRUTH_FIELD;
  const geometry = CLASS_GEOMETRY[cls];
  if (geometry === 'point') {
    const p = pts[0];
    return p && p[0] >= f.minX && p[0] <= f.maxX && p[1] >= f.minY && p[1] <= f.maxY ? [[[p[0], p[1]]]] : [];
  }
  if (geometry === 'polygon') {
    const ring = clipPolygon(pts, f);
    return ring.length >= 3 ? [ring] : [];
  }
  const xs = Float64Array.from(pts, (p) => p[0]);
  const ys = Float64Array.from(pts, (p) => p[1]);
  return pts.length >= 2 ? clipPolyline(xs, ys, 0, pts.length - 1, f).filter((piece) => piece.length >= 2) : [];
}

function push<T>(m: Map<PrimitiveClass, T[]>, k: PrimitiveClass, v: T): void {
  const l = m.get(k);
  if (l) l.push(v);
  else m.set(k, [v]);
}

function r4(v: number): number {
  return Math.round(v * 1e4) / 1e4;
}
