/** Body of a WorkerThreadExecutor worker: runs each TileJob it is sent, answers with the result. */
import { parentPort } from 'node:worker_threads';
import { ShardCache, openStore, runTileJob, type TileJob } from './job.ts';

const port = parentPort;
if (!port) throw new Error('worker-entry.ts runs only inside a worker thread');
const cache = new ShardCache();
port.on('message', (job: TileJob) => {
  runTileJob(job, openStore(job.store), cache).then(
    (result) => port.postMessage({ ok: true, result }),
    (e: unknown) => port.postMessage({ ok: false, error: e instanceof Error ? (e.stack ?? e.message) : String(e) }),
  );
});
