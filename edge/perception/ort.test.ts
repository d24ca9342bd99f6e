/**
 * onnxruntime's telemetry stays off in every process that runs a model (`ort.ts`): a child
 * process loads the committed model through the edge's `Segmenter` and runs a frame, with its own
 * home and temp directories, and leaves nothing there; the same child taking onnxruntime-node
 * directly does leave the telemetry's files (so the probe looks where the runtime writes). And
 * no source file imports onnxruntime-node's values except `ort.ts`.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const MODEL = path.join(REPO, 'edge', 'model', 'fleetmap-seg.onnx');

/** Runs `body` (an ES module) in a child with a fresh HOME and TMPDIR; returns what it left in them. */
function leftBehind(body: string): { home: string[]; tmp: string[] } {
  const root = mkdtempSync(path.join(tmpdir(), 'fm-ort-telemetry-'));
  const home = path.join(root, 'home');
  const tmp = path.join(root, 'tmp');
  mkdirSync(home);
  mkdirSync(tmp);
  const script = path.join(root, 'child.mjs');
  writeFileSync(script, body);
  const env: NodeJS.ProcessEnv = { ...process.env, HOME: home, TMPDIR: tmp };
  delete env.XDG_CACHE_HOME;
  delete env.ORT_DISABLE_TELEMETRY;
  // The runtime's telemetry stays quiet where `CI` is set (CI runners set it; measured: with
  // CI=true the bare package left nothing, so the probe failed there): the child runs as a
  // vehicle would, without it.
  delete env.CI;
  const r = spawnSync(process.execPath, ['--import', 'tsx', script], { cwd: REPO, env, encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  expect(r.stdout).toContain('ran');
  return {
    home: readdirSync(home, { recursive: true }).map(String),
    // tsx keeps its own cache in the temp directory: not the runtime's.
    tmp: readdirSync(tmp).filter((f) => !f.startsWith('tsx-')),
  };
}

describe('onnxruntime telemetry', () => {
  it('is off for the edge: a model run leaves no device id, event cache or log behind', () => {
    const left = leftBehind(`
      import { Segmenter } from ${JSON.stringify(pathToFileURL(path.join(REPO, 'edge', 'perception', 'model.ts')).href)};
      const seg = await Segmenter.create({ modelPath: ${JSON.stringify(MODEL)}, executionProviders: ['cpu'] });
      const w = seg.inputWidthPx, h = seg.inputHeightPx;
      await seg.run({ tMonoNs: 0, frameId: 1, encoding: 'rgb8', widthPx: w, heightPx: h, exposureUs: 1000, pixels: new Uint8Array(w * h * 3) });
      await seg.close();
      console.log('ran');
    `);
    expect(left.home).toEqual([]);
    expect(left.tmp).toEqual([]);
  });

  it('is on in the bare package (what ort.ts guards against), so the probe above can see it', () => {
    const pkg = pathToFileURL(createRequire(path.join(REPO, 'package.json')).resolve('onnxruntime-node')).href;
    const left = leftBehind(`
      import * as ort from ${JSON.stringify(pkg)};
      const s = await ort.InferenceSession.create(${JSON.stringify(MODEL)});
      await s.run({ image: new ort.Tensor('float32', new Float32Array(3 * 128 * 256), [1, 3, 128, 256]) });
      await s.release();
      console.log('ran');
    `);
    expect(left.home.some((f) => f.includes(path.join('Microsoft', 'DeveloperTools', '.onnxruntime')))).toBe(true);
    expect(left.tmp.some((f) => f.startsWith('mat-debug-'))).toBe(true);
  });

  it('comes from ort.ts alone: no other source file imports onnxruntime-node', () => {
    // The checkout's files as git sees them: tracked, and new ones it does not ignore (no
    // node_modules, out/ or a compiled build).
    const files = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard'], { cwd: REPO, encoding: 'utf8' }).split('\n');
    // Type-only imports load nothing.
    const loads = /^\s*import\s+(?!type\b)[^;]*from\s+['"]onnxruntime-node['"]|import\(\s*['"]onnxruntime-node['"]\s*\)|require\(\s*['"]onnxruntime-node['"]\s*\)/m;
    const offenders = files.filter((f) => /\.(ts|mts|js|mjs)$/.test(f) && f !== 'edge/perception/ort.ts' && existsSync(path.join(REPO, f)) && loads.test(readFileSync(path.join(REPO, f), 'utf8')));
    expect(files.length).toBeGreaterThan(100);
    expect(offenders).toEqual([]);
  });
});
