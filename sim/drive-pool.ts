/**
 * Simulated drives off the demo's main thread: rendering a drive's camera frames takes seconds
 * of CPU, and on the main thread it would stall the sockets that feed the other vehicles'
 * daemons. A pool of worker threads (drive-pool-entry.ts) each loads the map once and runs
 * `simulateDrive`; a drive comes back whole (structured clone). A drive's simulation depends only
 * on the map, the drive and the options, so which worker ran it changes nothing.
 *
 * Worlds: 'base' is the map file as loaded; a changed world (the demo's second pass) is the same
 * map with other ground-truth primitives, sent to each worker once under its key.
 */
import type { Worker } from 'node:worker_threads';
import { startTsWorker } from '../shared/ts-worker.ts';
import type { GroundTruthPrimitive } from './lanelet2.ts';
import type { ParseOsmOptions } from './osm-xml.ts';
import type { PlannedDrive } from './fleet.ts';
import type { SimulateDriveOptions, SimulatedDrive } from './simulate-drive.ts';

export type WorldRef = { key: 'base' } | { key: string; primitives: readonly GroundTruthPrimitive[] };

export type DrivePoolRequest =
  | { kind: 'world'; key: string; primitives: readonly GroundTruthPrimitive[] }
  | { kind: 'drive'; id: number; world: string; drive: PlannedDrive; options: Partial<SimulateDriveOptions> };

export type DrivePoolReply = { id: number; ok: true; sim: SimulatedDrive } | { id: number; ok: false; error: string };

interface Slot {
  worker: Worker;
  worlds: Set<string>;
  busy: boolean;
}

export class DrivePool {
  private readonly slots: Slot[] = [];
  private readonly waiting: Array<() => void> = [];
  private readonly pending = new Map<number, { resolve: (s: SimulatedDrive) => void; reject: (e: Error) => void }>();
  private nextId = 1;
  private closed = false;

  /** `mapOptions`: as the main thread loaded the map file (e.g. its local origin). */
  constructor(mapPath: string, size: number, mapOptions: ParseOsmOptions = {}) {
    if (!(Number.isInteger(size) && size >= 1)) throw new RangeError(`drive pool size must be an integer >= 1, got ${size}`);
    for (let i = 0; i < size; i++) {
      const worker = startTsWorker(new URL('./drive-pool-entry.ts', import.meta.url), { workerData: { mapPath, mapOptions } });
      worker.on('message', (m: DrivePoolReply) => {
        const p = this.pending.get(m.id);
        if (!p) return;
        this.pending.delete(m.id);
        if (m.ok) p.resolve(m.sim);
        else p.reject(new Error(m.error));
      });
      worker.on('error', (e) => this.failAll(e));
      worker.unref();
      this.slots.push({ worker, worlds: new Set(['base']), busy: false });
    }
  }

  /** Simulate `drive` in `world` on a free worker (waits for one). */
  async simulate(world: WorldRef, drive: PlannedDrive, options: Partial<SimulateDriveOptions>): Promise<SimulatedDrive> {
    if (this.closed) throw new Error('drive pool is closed');
    const slot = await this.acquire();
    try {
      if (!slot.worlds.has(world.key)) {
        if (!('primitives' in world)) throw new Error(`unknown world ${world.key}`);
        slot.worker.postMessage({ kind: 'world', key: world.key, primitives: world.primitives } satisfies DrivePoolRequest);
        slot.worlds.add(world.key);
      }
      const id = this.nextId++;
      const result = new Promise<SimulatedDrive>((resolve, reject) => this.pending.set(id, { resolve, reject }));
      slot.worker.postMessage({ kind: 'drive', id, world: world.key, drive, options } satisfies DrivePoolRequest);
      return await result;
    } finally {
      slot.busy = false;
      this.waiting.shift()?.();
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }

  private async acquire(): Promise<Slot> {
    for (;;) {
      const free = this.slots.find((s) => !s.busy);
      if (free) {
        free.busy = true;
        return free;
      }
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    }
  }

  private failAll(e: Error): void {
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
  }
}
