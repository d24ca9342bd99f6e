import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ort } from '../perception/ort.ts';
import { afterAll, describe, expect, it } from 'vitest';

/**
 * The training pipeline end to end on a tiny synthetic dataset: train 2 steps with PyTorch,
 * export to ONNX, then load and run the model with onnxruntime-node (the edge runtime).
 * Needs Debian's Python with torch and onnx; without torch the test fails (never skips).
 */
const HERE = dirname(fileURLToPath(import.meta.url));
const PYTHON = process.env.FLEETMAP_PYTHON ?? '/usr/bin/python3';

describe('edge/model training pipeline (smoke)', () => {
  const work = mkdtempSync(join(tmpdir(), 'fleetmap-model-smoke-'));
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('trains 2 steps, exports ONNX, and onnxruntime-node runs it', async () => {
    const probe = spawnSync(PYTHON, ['-c', 'import torch, onnx'], { encoding: 'utf8' });
    if (probe.status !== 0) {
      throw new Error(`${PYTHON} cannot import torch/onnx: install the Debian packages python3-torch and python3-onnx (apt-get install python3-torch python3-onnx)`);
    }
    const out = execFileSync(PYTHON, [join(HERE, 'smoke_test.py'), '--out-dir', work], { encoding: 'utf8' });
    const res = JSON.parse(out.trim().split('\n').pop()!) as { onnx: string; metadata: string; steps: number; data: string };
    expect(res.steps).toBe(2);

    const meta = JSON.parse(readFileSync(res.metadata, 'utf8')) as {
      sha256: string; opset: number; classes: string[];
      input: { name: string; shape: number[] }; output: { name: string; shape: number[] };
      architecture: { args: { width: number[]; decoder: number; head: number }; params: number };
    };
    expect(createHash('sha256').update(readFileSync(res.onnx)).digest('hex')).toBe(meta.sha256);
    expect(meta.input).toMatchObject({ name: 'image', shape: [1, 3, 128, 256] });
    expect(meta.output).toMatchObject({ name: 'probs', shape: [1, 10, 64, 128] });
    expect(meta.classes).toHaveLength(10);
    expect(meta.opset).toBeGreaterThanOrEqual(13);
    expect(meta.opset).toBeLessThanOrEqual(17);
    // The smoke trains its own small network: the metadata names it, and the PyTorch benchmark
    // rebuilds that network from the metadata (not the committed default architecture).
    expect(meta.architecture.args).toEqual({ width: [8, 16, 24, 32, 40], decoder: 16, head: 8 });
    const bench = execFileSync(PYTHON, [join(HERE, 'torch_bench.py'), '--data', res.data, '--metadata', res.metadata, '--frames', '2', '--warmup', '1', '--threads', '1'], { encoding: 'utf8' });
    const timed = JSON.parse(bench.trim().split('\n').pop()!) as { params: number; frames: number };
    expect(timed.frames).toBe(2);
    expect(timed.params).toBe(meta.architecture.params);

    const session = await ort.InferenceSession.create(res.onnx, { intraOpNumThreads: 1 });
    expect(session.inputNames).toEqual(['image']);
    expect(session.outputNames).toEqual(['probs']);
    const input = new Float32Array(3 * 128 * 256);
    for (let i = 0; i < input.length; i++) input[i] = (i % 251) / 250;
    const result = await session.run({ image: new ort.Tensor('float32', input, [1, 3, 128, 256]) });
    const probs = result.probs!;
    expect(probs.dims).toEqual([1, 10, 64, 128]);
    const data = probs.data as Float32Array;
    const plane = 64 * 128;
    let worst = 0;
    for (let p = 0; p < plane; p++) {
      let sum = 0;
      for (let c = 0; c < 10; c++) {
        const v = data[c * plane + p]!;
        expect(v >= 0 && v <= 1).toBe(true);
        sum += v;
      }
      worst = Math.max(worst, Math.abs(sum - 1));
    }
    expect(worst).toBeLessThan(1e-4);
    await session.release();
  });
});
