/**
 * A worker thread that runs an entry module of ours. From the sources (the CLI runs under tsx)
 * the worker registers tsx's ESM loader and then imports the `.ts` entry; in the compiled build
 * (`npm run build` -> dist/, plain JavaScript) the same call starts the entry's `.js` sibling
 * directly. One home for this bootstrap.
 */
import { Worker, type WorkerOptions } from 'node:worker_threads';

/** True when this module runs from the compiled build (dist/), not from the TypeScript sources. */
export const COMPILED = import.meta.url.endsWith('.js');

export function startTsWorker(entry: URL, options: WorkerOptions = {}): Worker {
  if (COMPILED) return new Worker(new URL(entry.href.replace(/\.ts$/, '.js')), options);
  const source = `import { register } from 'tsx/esm/api';\nregister();\nawait import(${JSON.stringify(entry.href)});\n`;
  return new Worker(source, { ...options, eval: true });
}
