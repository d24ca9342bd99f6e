/** A DrivePool worker (drive-pool.ts): loads the map once, simulates the drives it is sent. */
import { parentPort, workerData } from 'node:worker_threads';
import { loadLanelet2File } from './bundled-maps.ts';
import type { DrivePoolReply, DrivePoolRequest } from './drive-pool.ts';
import type { Lanelet2Map } from './lanelet2.ts';
import type { ParseOsmOptions } from './osm-xml.ts';
import { simulateDrive } from './simulate-drive.ts';

const { mapPath, mapOptions } = workerData as { mapPath: string; mapOptions: ParseOsmOptions };
const base = loadLanelet2File(mapPath, mapOptions);
const worlds = new Map<string, Lanelet2Map>([['base', base]]);

parentPort!.on('message', (m: DrivePoolRequest) => {
  if (m.kind === 'world') {
    worlds.set(m.key, { ...base, primitives: m.primitives.slice() });
    return;
  }
  let reply: DrivePoolReply;
  try {
    const map = worlds.get(m.world);
    if (!map) throw new Error(`unknown world ${m.world}`);
    reply = { id: m.id, ok: true, sim: simulateDrive(map, m.drive, m.options) };
  } catch (e) {
    reply = { id: m.id, ok: false, error: (e as Error).message };
  }
  parentPort!.postMessage(reply);
});
