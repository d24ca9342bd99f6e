/**
 * A worker thread that runs a TypeScript entry module: the worker registers tsx's ESM loader
 * (as the CLI runs under tsx) and then imports the entry. One home for this bootstrap.
 */
import { Worker, type WorkerOptions } from 'node:worker_threads';

export function startTsWorker(entry: URL, options: WorkerOptions = {}): Worker {
  const source = `import { register } from 'tsx/esm/api';\nregister();\nawait import(${JSON.stringify(entry.href)});\n`;
  return new Worker(source, { ...options, eval: true });
}
