import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type * as ort from 'onnxruntime-node';
import { createSession, loadModel, ModelError, Segmenter } from './model.ts';

const HERE = path.dirname(fileURLToPath(import.meta.url));
let dir = '';
let modelPath = '';

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'fleetmap-seg-'));
  const r = spawnSync('/usr/bin/python3', [path.join(HERE, 'make-test-model.py'), dir], { encoding: 'utf8' });
  if (r.error || r.status !== 0) {
    const why = r.status === 3 ? 'python package torch (python3-torch) is missing for /usr/bin/python3' : `${r.error?.message ?? ''}${r.stderr}`.trim().split('\n').pop();
    throw new Error(`cannot make the test ONNX model: ${why}`);
  }
  modelPath = path.join(dir, 'fleetmap-seg.onnx');
}, 60_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('loadModel', () => {
  it('refuses a model whose sha256 or spec differs from its metadata', () => {
    const meta = JSON.parse(readFileSync(path.join(dir, 'fleetmap-seg.json'), 'utf8'));
    const bad = path.join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ ...meta, sha256: '0'.repeat(64) }));
    expect(() => loadModel(modelPath, bad)).toThrow(/sha256 is [0-9a-f]{64}, metadata says 0{64}/);
    writeFileSync(bad, JSON.stringify({ ...meta, output: { ...meta.output, shape: [1, 9, 64, 128] } }));
    expect(() => loadModel(modelPath, bad)).toThrow(/output.shape must be \[1,10,64,128\], got \[1,9,64,128\]/);
    expect(() => loadModel(path.join(dir, 'missing.onnx'))).toThrow(ModelError);
  });
});

describe('createSession', () => {
  it('asked for tensorrt, cuda, cpu: starts on the CPU after two fallbacks (CPU-only onnxruntime-node)', async () => {
    const warns: Array<[string, Record<string, unknown>]> = [];
    const r = await createSession(loadModel(modelPath), { executionProviders: ['tensorrt', 'cuda', 'cpu'], intraOpThreads: 1, interOpThreads: 1, onWarn: (e, f) => warns.push([e, f]) });
    expect(r.provider).toBe('cpu');
    expect(r.fallbacks.map((f) => f.provider)).toEqual(['tensorrt', 'cuda']);
    expect(warns.map(([e, f]) => [e, f.provider, f.next])).toEqual([
      ['inference_provider_fallback', 'tensorrt', 'cuda'],
      ['inference_provider_fallback', 'cuda', 'cpu'],
    ]);
    await r.session.release();
  });

  it('treats a provider that silently runs on the CPU as a fallback', async () => {
    const created: string[][] = [];
    const fake = (): ort.InferenceSession => ({ inputNames: ['image'], outputNames: ['probs'], inputMetadata: [], outputMetadata: [], release: async () => {} }) as unknown as ort.InferenceSession;
    const r = await createSession(loadModel(modelPath), {
      executionProviders: ['cuda', 'cpu'],
      create: async (_m, o) => {
        created.push(o.executionProviders as string[]);
        return fake();
      },
      providerPresent: (ep) => ep === 'cpu',
    });
    expect(created).toEqual([[{ name: 'cuda' }], [{ name: 'cpu' }]]);
    expect(r.provider).toBe('cpu');
    expect(r.fallbacks[0]!.reason).toMatch(/cuda provider is not installed/);
  });

  it('fails with every reason when no provider works', async () => {
    await expect(createSession(loadModel(modelPath), { executionProviders: ['cuda'] })).rejects.toThrow(/no execution provider could run it: cuda: /);
  });
});

describe('Segmenter', () => {
  it('segments a frame of any size into a 128 x 64 class grid', async () => {
    const seg = await Segmenter.create({ modelPath, executionProviders: ['cpu'], intraOpThreads: 1, interOpThreads: 1 });
    const pixels = Uint8Array.from({ length: 320 * 160 * 3 }, (_, i) => (i * 7) % 256);
    const out = await seg.run({ tMonoNs: 0, frameId: 1, encoding: 'rgb8', widthPx: 320, heightPx: 160, exposureUs: 0, pixels });
    expect(out.widthPx).toBe(128);
    expect(out.heightPx).toBe(64);
    expect(Math.max(...out.classId)).toBeLessThan(10);
    expect(Math.min(...out.prob)).toBeGreaterThan(0.1);
    expect(seg.provider).toBe('cpu');
    await seg.close();
  });
});
