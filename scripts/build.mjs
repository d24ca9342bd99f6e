#!/usr/bin/env node
/**
 * `npm run build [-- --out DIR]`: the deployable build. Compiles the TypeScript sources to plain
 * JavaScript (ES modules, tsconfig.build.json) and copies beside them what they read at run
 * time: the ONNX model and its metadata, the hardware profiles, the web page's static files, the
 * bundled Lanelet2 map and package.json. `node DIR/cli/main.js ...` then runs every command
 * without tsx: no transpiling at start, no esbuild service process, less memory (README,
 * "Deploying to a vehicle"). DIR (default dist/) must lie inside the package, beside its
 * node_modules, or have node_modules reachable from it.
 *
 * It refuses to write into a directory it did not make (one without its marker file), and
 * replaces one it made. One line on error: exit 2 for usage, 1 at run time.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const MARKER = '.fleetmap-build.json';
/** What the compiled modules read beside themselves (paths relative to the package root). */
const ASSETS = [
  'package.json',
  'edge/model/fleetmap-seg.onnx',
  'edge/model/fleetmap-seg.json',
  'edge/model/MODEL_CARD.md',
  'hw-profiles',
  'cloud/web/static',
  'sim/data',
];

function fail(code, msg) {
  console.error(`build: ${msg}`);
  process.exit(code);
}

const args = process.argv.slice(2);
let out = path.join(ROOT, 'dist');
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--out' && args[i + 1]) out = path.resolve(args[++i]);
  else if (args[i] === '--help' || args[i] === '-h') {
    console.log('usage: npm run build [-- --out DIR]   (default dist/: compiled JavaScript and its run-time files)');
    process.exit(0);
  } else fail(2, `unknown argument ${JSON.stringify(args[i])} (usage: npm run build [-- --out DIR])`);
}

if (existsSync(out)) {
  if (!existsSync(path.join(out, MARKER)) && readdirSync(out).length > 0) {
    fail(2, `${out} exists and is not a build this command made (no ${MARKER}): refusing to overwrite it`);
  }
  rmSync(out, { recursive: true, force: true });
}
mkdirSync(out, { recursive: true });
writeFileSync(path.join(out, MARKER), `${JSON.stringify({ builtUnixMs: Date.now(), from: ROOT })}\n`);

const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const r = spawnSync(process.execPath, [tsc, '-p', path.join(ROOT, 'tsconfig.build.json'), '--outDir', out], { cwd: ROOT, encoding: 'utf8' });
if (r.status !== 0) {
  const first = `${r.stdout}\n${r.stderr}`.split('\n').find((l) => l.trim()) ?? `tsc exited with ${r.status}`;
  fail(1, `tsc failed: ${first.trim()}`);
}
for (const a of ASSETS) {
  const from = path.join(ROOT, a);
  if (!existsSync(from)) fail(1, `${a} is missing from the package`);
  cpSync(from, path.join(out, a), { recursive: true, filter: (src) => !src.endsWith('.ts') });
}
console.log(`build: ${path.relative(process.cwd(), out) || '.'}/ (run: node ${path.relative(process.cwd(), path.join(out, 'cli', 'main.js'))} --help)`);
