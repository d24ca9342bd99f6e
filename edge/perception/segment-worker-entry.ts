/**
 * Body of a WorkerSegmenter's thread (worker-segmenter.ts): one Segmenter (preprocess,
 * onnxruntime, decode) off the daemon's thread. Protocol (structured clone, buffers transferred):
 *   in:  { kind: 'init', options } once, then { kind: 'run', id, frame } one at a time
 *   out: { kind: 'ready', ... } | { kind: 'init-failed', message }, then per run
 *        { kind: 'result', id, out, timings } | { kind: 'run-failed', id, message }
 * Each result is a fresh copy of the decoder's buffers, handed over (transferred), so the caller
 * may keep it while the next frame runs here.
 */
import { parentPort } from 'node:worker_threads';
import type { CameraFrame } from '../../shared/camera-frame.ts';
import type { SegOutput } from './decode.ts';
import { Segmenter, type SegmenterOptions, type SegmenterTimings } from './model.ts';
import type { SegmentWorkerInit, SegmentWorkerReply } from './worker-segmenter.ts';

const port = parentPort;
if (!port) throw new Error('segment-worker-entry.ts runs only inside a worker thread');

let segmenter: Segmenter | undefined;

const post = (m: SegmentWorkerReply, transfer: ArrayBuffer[] = []): void => port.postMessage(m, transfer);

port.on('message', (m: { kind: 'init'; options: SegmentWorkerInit } | { kind: 'run'; id: number; frame: CameraFrame }) => {
  if (m.kind === 'init') void init(m.options);
  else if (m.kind === 'run') void run(m.id, m.frame);
});

async function init(options: SegmentWorkerInit): Promise<void> {
  const warnings: Array<{ event: string; fields: Record<string, string | number | boolean | null> }> = [];
  try {
    const o: SegmenterOptions = { ...options, onWarn: (event, fields) => warnings.push({ event, fields }) };
    segmenter = await Segmenter.create(o);
    post({ kind: 'ready', provider: segmenter.provider, fallbacks: segmenter.fallbacks, classPriorAlpha: segmenter.classPriorAlpha, metadata: segmenter.model.metadata, warnings, inputWidthPx: segmenter.inputWidthPx, inputHeightPx: segmenter.inputHeightPx });
  } catch (e) {
    post({ kind: 'init-failed', message: (e as Error).message ?? String(e), warnings });
  }
}

async function run(id: number, frame: CameraFrame): Promise<void> {
  try {
    if (!segmenter) throw new Error('segment worker: run before init');
    const s = await segmenter.run(frame);
    const out = copySegOutput(s);
    const timings: SegmenterTimings = { ...segmenter.timings };
    post({ kind: 'result', id, out, timings }, transferList(out));
  } catch (e) {
    post({ kind: 'run-failed', id, message: (e as Error).message ?? String(e) });
  }
}

function copySegOutput(s: SegOutput): SegOutput {
  return {
    widthPx: s.widthPx,
    heightPx: s.heightPx,
    classId: s.classId.slice(),
    prob: s.prob.slice(),
    ...(s.signBaseProb ? { signBaseProb: s.signBaseProb.slice() } : {}),
    ...(s.lightBaseProb ? { lightBaseProb: s.lightBaseProb.slice() } : {}),
  };
}

function transferList(s: SegOutput): ArrayBuffer[] {
  const list = [s.classId.buffer, s.prob.buffer];
  if (s.signBaseProb) list.push(s.signBaseProb.buffer);
  if (s.lightBaseProb) list.push(s.lightBaseProb.buffer);
  return list as ArrayBuffer[];
}
