/**
 * Check an exported model the way the edge will run it: onnxruntime-node (CPU, 2 threads).
 * Refuses a model whose sha256 or input/output spec differs from its metadata, then runs frames
 * of a dataset one by one (preprocessing uint8 HWC -> float32 NCHW in [0, 1] included) and prints
 * one JSON line: ORT fps, and the argmax agreement with the labels (pixel accuracy, per-class IoU).
 *
 * Usage: npx tsx edge/model/verify-onnx.ts --model edge/model/fleetmap-seg.onnx --data DIR [--frames 200] [--threads 2]
 */
import { createHash } from 'node:crypto';
import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ort } from '../perception/ort.ts';
import { modelMetadataPath } from '../perception/model.ts';

const W = 256, H = 128, LW = 128, LH = 64, C = 10, IGNORE = 255;

interface ModelMeta {
  sha256: string;
  input: { name: string; shape: number[] };
  output: { name: string; shape: number[] };
  classes: string[];
}

function readFrames(path: string, frameBytes: number, count: number): Uint8Array {
  const buf = new Uint8Array(frameBytes * count);
  const fd = openSync(path, 'r');
  try {
    const got = readSync(fd, buf, 0, buf.length, 0);
    if (got !== buf.length) throw new RangeError(`${path}: read ${got} bytes, expected ${buf.length}`);
  } finally {
    closeSync(fd);
  }
  return buf;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { model: { type: 'string' }, data: { type: 'string' }, frames: { type: 'string', default: '200' }, threads: { type: 'string', default: '2' } } });
  if (!values.model || !values.data) throw new Error('usage: verify-onnx.ts --model FILE.onnx --data DATASET_DIR [--frames N] [--threads N]');
  const metaPath = modelMetadataPath(values.model);
  const meta = JSON.parse(readFileSync(metaPath, 'utf8')) as ModelMeta;
  const sha = createHash('sha256').update(readFileSync(values.model)).digest('hex');
  if (sha !== meta.sha256) throw new Error(`${values.model}: sha256 ${sha} differs from ${metaPath} (${meta.sha256})`);
  if (meta.input.name !== 'image' || meta.input.shape.join() !== '1,3,128,256' || meta.output.name !== 'probs' || meta.output.shape.join() !== '1,10,64,128') {
    throw new Error(`${metaPath}: input/output spec ${JSON.stringify([meta.input, meta.output])} is not the contract`);
  }
  const dsMeta = JSON.parse(readFileSync(join(values.data, 'meta.json'), 'utf8')) as { count: number };
  const n = Math.min(Number(values.frames), dsMeta.count);
  const images = readFrames(join(values.data, 'images.u8'), W * H * 3, n);
  const labels = readFrames(join(values.data, 'labels.u8'), LW * LH, n);
  const threads = Number(values.threads);
  const session = await ort.InferenceSession.create(values.model, { intraOpNumThreads: threads, interOpNumThreads: 1, graphOptimizationLevel: 'all' });
  const input = new Float32Array(3 * H * W);
  const plane = H * W;
  const conf = new Float64Array(C * C);
  const tensor = new ort.Tensor('float32', input, [1, 3, H, W]);
  await session.run({ image: tensor }); // warm-up
  let runMs = 0;
  for (let f = 0; f < n; f++) {
    const t0 = performance.now();
    const img = images.subarray(f * plane * 3, (f + 1) * plane * 3);
    for (let p = 0, q = 0; p < plane; p++, q += 3) {
      input[p] = img[q]! / 255;
      input[plane + p] = img[q + 1]! / 255;
      input[2 * plane + p] = img[q + 2]! / 255;
    }
    const probs = (await session.run({ image: tensor })).probs!.data as Float32Array;
    runMs += performance.now() - t0;
    const lab = labels.subarray(f * LW * LH, (f + 1) * LW * LH);
    for (let p = 0; p < LW * LH; p++) {
      const t = lab[p]!;
      if (t === IGNORE) continue;
      let best = 0;
      for (let c = 1; c < C; c++) if (probs[c * LW * LH + p]! > probs[best * LW * LH + p]!) best = c;
      conf[t * C + best]! += 1;
    }
  }
  const iou: Record<string, number | null> = {};
  let tpAll = 0, total = 0;
  for (let c = 0; c < C; c++) {
    let row = 0, col = 0;
    for (let k = 0; k < C; k++) { row += conf[c * C + k]!; col += conf[k * C + c]!; }
    const tp = conf[c * C + c]!;
    tpAll += tp;
    total += row;
    const union = row + col - tp;
    iou[meta.classes[c]!] = row > 0 ? Math.round((tp / union) * 1e4) / 1e4 : null; // null: no labels of c in the data
  }
  const fg = Object.values(iou).slice(1).filter((v): v is number => v !== null);
  console.log(JSON.stringify({
    event: 'onnx_verified', model: values.model, data: values.data, sha256: sha, frames: n, threads,
    ortFps: Math.round((1000 * n / runMs) * 10) / 10, msPerFrame: Math.round((runMs / n) * 1000) / 1000,
    pixelAccuracy: Math.round((tpAll / Math.max(1, total)) * 1e4) / 1e4,
    mIoU: fg.length ? Math.round((fg.reduce((a, b) => a + b, 0) / fg.length) * 1e4) / 1e4 : null, iou,
  }));
  await session.release();
}

main().catch((e: unknown) => { console.error(e instanceof Error ? e.message : String(e)); process.exit(1); });
