/**
 * The PyTorch baseline of the edge benchmark is the committed model itself: onnx_weights.py puts
 * the ONNX weights into the PyTorch network (BatchNorm folded back to the identity), and that
 * network's probabilities on a frame match onnxruntime-node's. Needs Debian's python3-torch and
 * python3-onnx (fails, never skips, without them).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ort } from '../perception/ort.ts';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const PYTHON = process.env.FLEETMAP_PYTHON ?? '/usr/bin/python3';
const MODEL = path.join(HERE, 'fleetmap-seg.onnx');
const METADATA = path.join(HERE, 'fleetmap-seg.json');

describe('the committed model in PyTorch (onnx_weights.py)', () => {
  it('computes what onnxruntime computes: probabilities within 1e-4, the same class almost everywhere', async () => {
    const probe = spawnSync(PYTHON, ['-c', 'import torch, onnx'], { encoding: 'utf8' });
    if (probe.status !== 0) throw new Error(`${PYTHON} cannot import torch/onnx: install the Debian packages python3-torch and python3-onnx`);
    const dir = mkdtempSync(path.join(tmpdir(), 'fm-onnx-weights-'));
    // A frame-like input: smooth gradients and stripes in [0, 1].
    const input = new Float32Array(3 * 128 * 256);
    for (let c = 0; c < 3; c++) {
      for (let y = 0; y < 128; y++) {
        for (let x = 0; x < 256; x++) input[(c * 128 + y) * 256 + x] = 0.5 + 0.4 * Math.sin(x / (7 + 3 * c) + y / 11) * (y / 128);
      }
    }
    const inFile = path.join(dir, 'input.f32');
    const outFile = path.join(dir, 'probs.f32');
    writeFileSync(inFile, Buffer.from(input.buffer));
    const r = spawnSync(PYTHON, [path.join(HERE, 'onnx_weights.py'), '--onnx', MODEL, '--metadata', METADATA, '--input', inFile, '--output', outFile], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const bytes = readFileSync(outFile);
    const torchProbs = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);

    const session = await ort.InferenceSession.create(MODEL, { intraOpNumThreads: 1 });
    const res = await session.run({ image: new ort.Tensor('float32', input, [1, 3, 128, 256]) });
    await session.release();
    const ortProbs = res.probs!.data as Float32Array;
    expect(torchProbs.length).toBe(ortProbs.length);

    let worst = 0;
    for (let i = 0; i < ortProbs.length; i++) worst = Math.max(worst, Math.abs(ortProbs[i]! - torchProbs[i]!));
    expect(worst).toBeLessThan(1e-4);
    const plane = 64 * 128;
    let same = 0;
    const classes = new Set<number>();
    for (let p = 0; p < plane; p++) {
      let a = 0;
      let b = 0;
      for (let k = 1; k < 10; k++) {
        if (ortProbs[k * plane + p]! > ortProbs[a * plane + p]!) a = k;
        if (torchProbs[k * plane + p]! > torchProbs[b * plane + p]!) b = k;
      }
      if (a === b) same++;
      classes.add(a);
    }
    expect(same / plane).toBeGreaterThan(0.999);
    // Not a trivial agreement on an all-background output.
    expect(classes.size).toBeGreaterThan(1);
  });
});
