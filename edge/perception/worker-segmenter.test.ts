import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { CameraFrame } from '../../shared/camera-frame.ts';
import { ModelError, Segmenter } from './model.ts';
import { WorkerSegmenter } from './worker-segmenter.ts';

const MODEL = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'model', 'fleetmap-seg.onnx');

/** A frame of seeded noise with a bright band low in the image (something the model reacts to). */
function frame(seed: number): CameraFrame {
  const pixels = new Uint8Array(256 * 128 * 3);
  let s = seed >>> 0;
  for (let i = 0; i < pixels.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const row = Math.floor(i / (256 * 3));
    pixels[i] = row > 80 && row < 90 ? 230 : row > 46 ? 70 + (s >>> 28) : 150 + (s >>> 27);
  }
  return { tMonoNs: seed * 1e8, frameId: seed, encoding: 'rgb8', widthPx: 256, heightPx: 128, exposureUs: 5000, pixels };
}

describe('WorkerSegmenter (the Segmenter in a worker thread)', () => {
  it('gives the in-process Segmenter\'s output, and each result stays valid while the next frame runs', async () => {
    const options = { modelPath: MODEL, executionProviders: ['cpu'] as const, intraOpThreads: 1, interOpThreads: 1 };
    const local = await Segmenter.create({ ...options, executionProviders: ['cpu'] });
    const worker = await WorkerSegmenter.create({ ...options, executionProviders: ['cpu'] });
    try {
      expect(worker.pipelined).toBe(true);
      expect(worker.provider).toBe('cpu');
      expect(worker.model.metadata.sha256).toBe(local.model.metadata.sha256);
      expect(worker.classPriorAlpha).toBe(local.classPriorAlpha);
      expect([worker.inputWidthPx, worker.inputHeightPx]).toEqual([256, 128]);
      const first = await worker.run(frame(1));
      const kept = { classId: first.classId.slice(), prob: first.prob.slice() };
      const second = await worker.run(frame(2));
      // The first result was not overwritten by the second run (the in-process one would be).
      expect(first.classId).toEqual(kept.classId);
      expect(first.prob).toEqual(kept.prob);
      for (const [f, got] of [[frame(1), first], [frame(2), second]] as const) {
        const want = await local.run(f);
        expect(got.classId).toEqual(want.classId);
        expect(got.prob).toEqual(want.prob);
        expect(got.signBaseProb).toEqual(want.signBaseProb);
        expect(got.lightBaseProb).toEqual(want.lightBaseProb);
      }
      // Not a constant output: the frames differ and so do the classes found.
      expect(new Set(first.classId).size).toBeGreaterThan(1);
      // The worker's stage timings are relayed (speed itself is the edge benchmark's, not a test's).
      for (const v of Object.values(worker.timings)) expect(Number.isFinite(v) && v >= 0).toBe(true);
      // One frame at a time, as in-process.
      const a = worker.run(frame(3));
      await expect(worker.run(frame(4))).rejects.toThrow(/already in progress/);
      await a;
    } finally {
      await local.close();
      await worker.close();
    }
    await expect(worker.run(frame(5))).rejects.toThrow(/closed/);
  }, 60_000);

  it('reports provider fallbacks found in the worker, and refuses a model it cannot load with the reason', async () => {
    const warns: Array<[string, unknown]> = [];
    const w = await WorkerSegmenter.create({ modelPath: MODEL, executionProviders: ['tensorrt', 'cpu'], intraOpThreads: 1, interOpThreads: 1, onWarn: (e, f) => warns.push([e, f.provider]) });
    try {
      expect(w.provider).toBe('cpu');
      expect(w.fallbacks.map((f) => f.provider)).toEqual(['tensorrt']);
      expect(warns).toEqual([['inference_provider_fallback', 'tensorrt']]);
    } finally {
      await w.close();
    }
    const missing = WorkerSegmenter.create({ modelPath: path.join(path.dirname(MODEL), 'missing.onnx'), executionProviders: ['cpu'] });
    await expect(missing).rejects.toThrow(ModelError);
    await expect(missing).rejects.toThrow(/model file not found/);
  }, 60_000);
});
