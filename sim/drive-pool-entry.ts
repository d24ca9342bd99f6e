/** A DrivePool worker (drive-pool.ts): loads the map once, simulates the drives it is sent. */
import { parentPort, workerData } from 'node:worker_threads';
import { loadLanelet2File } from './bundled-maps.ts';
import type { DrivePoolReply, DrivePoolRequest } from './drive-pool.ts';
import type { Lanelet2Map } from './lanelet2.ts';
import type { ParseOsmOptions } from './osm-xml.ts';
import { simulateDrive, type SimulatedDrive } from './simulate-drive.ts';

const { mapPath, mapOptions } = workerData as { mapPath: string; mapOptions: ParseOsmOptions };
const base = loadLanelet2File(mapPath, mapOptions);
const worlds = new Map<string, Lanelet2Map>([['base', base]]);

parentPort!.on('message', (m: DrivePoolRequest) => {
  if (m.kind === 'world') {
    worlds.set(m.key, { ...base, primitives: m.primitives.slice() });
    return;
  }
  let reply: DrivePoolReply;
  let transfer: ArrayBuffer[] = [];
  try {
    const map = worlds.get(m.world);
    if (!map) throw new Error(`unknown world ${m.world}`);
    const sim = simulateDrive(map, m.drive, m.options);
    reply = { id: m.id, ok: true, sim };
    transfer = pixelBuffers(sim);
  } catch (e) {
    reply = { id: m.id, ok: false, error: (e as Error).message };
  }
  parentPort!.postMessage(reply, transfer);
});

/**
 * The camera frames' pixel buffers, each once (a standing car's frames share one): moved to the
 * main thread instead of copied, which a drive's hundreds of frames made a tenth of this
 * worker's time. Only buffers a frame owns whole (nothing else in this worker views them).
 */
function pixelBuffers(sim: SimulatedDrive): ArrayBuffer[] {
  const out = new Set<ArrayBuffer>();
  for (const msg of sim.messages) {
    if (msg.topic !== 'camera') continue;
    const px = msg.payload.pixels;
    if (px.buffer instanceof ArrayBuffer && px.byteOffset === 0 && px.byteLength === px.buffer.byteLength) out.add(px.buffer);
  }
  return [...out];
}
