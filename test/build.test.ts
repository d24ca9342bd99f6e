/**
 * The deployable build (`npm run build` -> compiled JavaScript and its run-time files, what a
 * vehicle runs: README "Deploying to a vehicle"). Built into a temporary directory with no
 * TypeScript in it, it must run the whole chain by itself: the demo's daemons, ingest, drive
 * pool and merge workers all start from the build (a stray `.ts` import or tsx bootstrap would
 * find no file there), and the edge's inference worker thread (the Jetson profiles' setting)
 * starts from it too. The build refuses to overwrite a directory it did not make.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { REPO, tempDir } from './helpers.ts';

const run = promisify(execFile);

async function node(args: string[], cwd = REPO): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run(process.execPath, args, { cwd, encoding: 'utf8', timeout: 240_000, maxBuffer: 64 * 1024 * 1024 });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const x = e as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof x.code === 'number' ? x.code : -1, stdout: x.stdout ?? '', stderr: x.stderr ?? '' };
  }
}

/** Every file under dir, relative paths. */
function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.name === 'node_modules') continue;
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...filesUnder(p).map((f) => path.join(e.name, f)));
    else out.push(e.name);
  }
  return out;
}

describe('the deployable build (npm run build)', () => {
  const dir = tempDir('build');
  const pkg = path.join(dir, 'pkg');

  beforeAll(async () => {
    const r = await node([path.join(REPO, 'scripts', 'build.mjs'), '--out', pkg]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    // Deployed beside its dependencies, as /opt/fleetmap/dist beside /opt/fleetmap/node_modules.
    symlinkSync(path.join(REPO, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
  }, 240_000);

  it('holds JavaScript and its run-time files, no TypeScript', () => {
    const files = filesUnder(pkg);
    expect(files.filter((f) => f.endsWith('.ts'))).toEqual([]);
    for (const f of ['cli/main.js', 'edge/cli.js', 'edge/model/fleetmap-seg.onnx', 'edge/model/fleetmap-seg.json', 'hw-profiles/jetson-orin-nano.json', 'cloud/web/static/index.html', 'package.json']) {
      expect(files, f).toContain(f);
    }
    expect(statSync(path.join(pkg, 'edge/model/fleetmap-seg.onnx')).size).toBe(statSync(path.join(REPO, 'edge/model/fleetmap-seg.onnx')).size);
  });

  it('runs the whole chain from the build: edge daemons on the model, ingest, merge, evaluation', async () => {
    const out = path.join(dir, 'demo');
    const r = await node([path.join(pkg, 'cli', 'main.js'), 'demo', '--vehicles', '2', '--drives', '1', '--drive-length-m', '500', '--camera-hz', '1', '--change-drives', '0', '--quiet', '--out', out], dir);
    expect(r.code, r.stderr.split('\n').slice(-5).join('\n')).toBe(0);
    const report = JSON.parse(readFileSync(path.join(out, 'report.json'), 'utf8')) as { perception: { kind: string }; batches: number; drives: number };
    expect(report.perception.kind).toBe('model');
    expect(report.drives).toBe(2);
    expect(report.batches).toBeGreaterThan(0);
    // Both daemons (started from the build's cli/main.js: it holds no main.ts) ran the model.
    const logs = readdirSync(path.join(out, 'logs')).filter((f) => f.startsWith('veh-'));
    expect(logs.length).toBe(2);
    for (const f of logs) expect(readFileSync(path.join(out, 'logs', f), 'utf8')).toMatch(/"event":"perception_started"/);
  }, 240_000);

  it("starts the edge's inference worker thread from the build (the Jetson profiles' setting)", async () => {
    const script = path.join(dir, 'segment-once.mjs');
    writeFileSync(
      script,
      [
        `import { WorkerSegmenter } from ${JSON.stringify(path.join(pkg, 'edge', 'perception', 'worker-segmenter.js'))};`,
        `const s = await WorkerSegmenter.create({ modelPath: ${JSON.stringify(path.join(pkg, 'edge', 'model', 'fleetmap-seg.onnx'))}, executionProviders: ['cpu'], intraOpThreads: 1, interOpThreads: 1 });`,
        `const w = s.inputWidthPx, h = s.inputHeightPx;`,
        `const o = await s.run({ tMonoNs: 0, frameId: 1, encoding: 'rgb8', widthPx: w, heightPx: h, exposureUs: 1000, pixels: new Uint8Array(w * h * 3).fill(90) });`,
        `await s.close();`,
        `console.log(JSON.stringify({ provider: s.provider, widthPx: o.widthPx, heightPx: o.heightPx, pixels: o.classId.length }));`,
      ].join('\n'),
    );
    const r = await node([script], dir);
    expect(r.code, r.stderr).toBe(0);
    const o = JSON.parse(r.stdout) as { provider: string; widthPx: number; heightPx: number; pixels: number };
    expect(o.provider).toBe('cpu');
    expect(o.pixels).toBe(o.widthPx * o.heightPx);
    expect(o.pixels).toBeGreaterThan(0);
  }, 120_000);

  it('refuses to overwrite a directory it did not make (one line, exit 2), and leaves it as it was', async () => {
    const foreign = path.join(dir, 'foreign');
    mkdirSync(foreign);
    writeFileSync(path.join(foreign, 'keep.txt'), 'mine');
    const r = await node([path.join(REPO, 'scripts', 'build.mjs'), '--out', foreign]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/not a build this command made/);
    expect(readFileSync(path.join(foreign, 'keep.txt'), 'utf8')).toBe('mine');
    expect(existsSync(path.join(foreign, 'cli'))).toBe(false);
  });
});
