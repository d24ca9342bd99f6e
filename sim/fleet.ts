/**
 * Plan a fleet: vehicles "veh-001", ..., each with drives "veh-001-d1", ... (one drive = one
 * ignition cycle = one boot of the vehicle computer), a route per drive and a start time.
 * Everything is a pure function of the map and the seed.
 *
 * Drive seeds mix in the map's road network (`mapSeedOf`): the same fleet seed on two maps gives two
 * sets of GNSS biases, speeds and perceptions, so a figure measured on a second map is not the
 * first map's luck again. `perMapSeeds: false` gives the seeds of before (a data set that already
 * derives its seed per map keeps its frames).
 */
import type { Lanelet2Map } from './lanelet2.ts';
import { buildLaneletGraph, type LaneletGraph } from './lanelet-graph.ts';
import { deriveSeed, Rng, type Seed } from './rng.ts';
import { MAX_PASSES_PER_DRIVE, planRoute, type Route } from './routes.ts';

export interface FleetOptions {
  /** Number of vehicles. */
  vehicles: number;
  /** Drives per vehicle. */
  drivesPerVehicle: number;
  /** Target route length per drive, metres (dead ends may make a drive shorter). */
  driveLengthM: number;
  seed: Seed;
  /** Earliest start of the first drives, Unix milliseconds (UTC). */
  startUnixMs: number;
  /** First drives start within this window after startUnixMs, hours. */
  firstDriveWindowH: number;
  /** Pause between one drive's start and the next one's, hours (uniform in range). */
  driveGapH: [number, number];
  /** Mix the map's content (`mapSeedOf`) into every drive seed (default true). */
  perMapSeeds: boolean;
  /** Most times one drive enters the same directed lanelet (routes.ts; Infinity: no limit). */
  maxPassesPerDrive: number;
}

export const DEFAULT_FLEET_OPTIONS: FleetOptions = {
  vehicles: 20,
  drivesPerVehicle: 3,
  driveLengthM: 2000, // m
  seed: 1,
  startUnixMs: Date.UTC(2025, 2, 10, 6, 0, 0), // Monday 10 March 2025, 07:00 in Karlsruhe
  firstDriveWindowH: 2, // h
  driveGapH: [2, 4], // h
  perMapSeeds: true,
  maxPassesPerDrive: MAX_PASSES_PER_DRIVE,
};

export interface PlannedDrive {
  vehicleId: string;
  /** "<vehicleId>-d<n>", n from 1. */
  driveId: string;
  /** Seed of everything random in this drive (speed, GNSS error, perception). */
  seed: number;
  route: Route;
  /** Wall-clock time of the drive start marker, Unix milliseconds (UTC). */
  startUnixMs: number;
  /** Time from the vehicle computer's boot to the drive start marker, seconds. */
  bootToStartS: number;
}

export interface PlannedVehicle {
  vehicleId: string;
  drives: PlannedDrive[];
}

export interface FleetPlan {
  seed: Seed;
  /** The map's content seed mixed into the drive seeds; null with `perMapSeeds: false`. */
  mapSeed: number | null;
  vehicles: PlannedVehicle[];
  /** All drives, ordered by start time. */
  drives: PlannedDrive[];
  /** Sum of the route lengths, metres. */
  totalLengthM: number;
}

const graphCache = new WeakMap<Lanelet2Map, LaneletGraph>();

/** The routing graph of a map, built once per map object. */
export function laneletGraphOf(map: Lanelet2Map): LaneletGraph {
  let g = graphCache.get(map);
  if (!g) {
    g = buildLaneletGraph(map);
    graphCache.set(map, g);
  }
  return g;
}

export function planFleet(map: Lanelet2Map, options: Partial<FleetOptions> = {}): FleetPlan {
  const o = { ...DEFAULT_FLEET_OPTIONS, ...options };
  validate(o);
  const graph = laneletGraphOf(map);
  const mapSeed = o.perMapSeeds ? mapSeedOf(map) : null;
  const vehicles: PlannedVehicle[] = [];
  for (let v = 1; v <= o.vehicles; v++) {
    const vehicleId = `veh-${String(v).padStart(3, '0')}`;
    const timing = new Rng(deriveSeed(o.seed, vehicleId, 'timing'));
    let startUnixMs = o.startUnixMs + Math.round(timing.uniform(0, o.firstDriveWindowH) * 3_600_000);
    const drives: PlannedDrive[] = [];
    for (let d = 1; d <= o.drivesPerVehicle; d++) {
      const driveId = `${vehicleId}-d${d}`;
      const seed = mapSeed === null ? deriveSeed(o.seed, driveId) : deriveSeed(o.seed, 'map', mapSeed, driveId);
      const route = planRoute(graph, new Rng(deriveSeed(seed, 'route')), { targetLengthM: o.driveLengthM, maxPassesPerDrive: o.maxPassesPerDrive });
      drives.push({ vehicleId, driveId, seed, route, startUnixMs, bootToStartS: Math.round(timing.uniform(15, 60) * 1000) / 1000 });
      // The next drive starts after this one surely ended (slowest plausible average 1 m/s).
      const gapMs = Math.max(timing.uniform(o.driveGapH[0], o.driveGapH[1]) * 3_600_000, route.lengthM * 1000 + 600_000);
      startUnixMs += Math.round(gapMs);
    }
    vehicles.push({ vehicleId, drives });
  }
  const drives = vehicles.flatMap((v) => v.drives).sort((a, b) => a.startUnixMs - b.startUnixMs || (a.driveId < b.driveId ? -1 : 1));
  return { seed: o.seed, mapSeed, vehicles, drives, totalLengthM: drives.reduce((s, d) => s + d.route.lengthM, 0) };
}

/**
 * The planned routes shorter than `share` of the asked drive length: a route ends where the
 * lanelet graph has no successor (a small map, dead ends, one-way stubs), so on some maps the
 * fleet drives less than asked. Undefined when every route reaches it.
 */
export function routesShortOf(plan: Pick<FleetPlan, 'drives'>, driveLengthM: number, share = 0.8): { count: number; shortestM: number; meanM: number } | undefined {
  const lengths = plan.drives.map((d) => d.route.lengthM);
  const short = lengths.filter((l) => l < share * driveLengthM);
  if (short.length === 0) return undefined;
  return { count: short.length, shortestM: Math.min(...short), meanM: lengths.reduce((a, b) => a + b, 0) / lengths.length };
}

const mapSeedCache = new WeakMap<Lanelet2Map, number>();

/**
 * A 32-bit seed from the map's content: its frame origin and every lanelet's id and boundary
 * vertices (to the millimetre, independent of which way the loader orients a bound), FNV-1a.
 * That is the road network as the file draws it, which is what a fleet drives: the same file
 * loaded twice gives the same seed, also after changes to how paint and signs are turned into
 * primitives; a map that differs in any lanelet gives another (barring a 1 in 2^32 collision).
 */
export function mapSeedOf(map: Lanelet2Map): number {
  const cached = mapSeedCache.get(map);
  if (cached !== undefined) return cached;
  let h = 0x811c9dc5;
  const mix = (text: string): void => {
    for (let i = 0; i < text.length; i++) {
      h ^= text.charCodeAt(i);
      h = Math.imul(h, 0x01000193);
    }
  };
  const bound = (pts: readonly (readonly [number, number])[]): string => {
    const fwd = pts.map((q) => `${Math.round(q[0] * 1000)},${Math.round(q[1] * 1000)}`);
    const rev = [...fwd].reverse();
    return (fwd.join(';') < rev.join(';') ? fwd : rev).join(';');
  };
  mix(`${map.frame.origin.lng.toFixed(9)},${map.frame.origin.lat.toFixed(9)}`);
  const lanelets = [...map.lanelets].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  for (const l of lanelets) mix(`|${l.id}:${[bound(l.left), bound(l.right)].sort().join('/')}`);
  const seed = h >>> 0;
  mapSeedCache.set(map, seed);
  return seed;
}

function validate(o: FleetOptions): void {
  if (!Number.isInteger(o.vehicles) || o.vehicles < 1 || o.vehicles > 999) throw new RangeError(`vehicles must be an integer in [1, 999], got ${o.vehicles}`);
  if (!Number.isInteger(o.drivesPerVehicle) || o.drivesPerVehicle < 1) throw new RangeError(`drivesPerVehicle must be an integer >= 1, got ${o.drivesPerVehicle}`);
  if (!(o.driveLengthM > 0)) throw new RangeError(`driveLengthM must be > 0 metres, got ${o.driveLengthM}`);
  if (!(o.maxPassesPerDrive >= 1)) throw new RangeError(`maxPassesPerDrive must be >= 1, got ${o.maxPassesPerDrive}`);
  if (!Number.isFinite(o.startUnixMs)) throw new RangeError(`startUnixMs must be a finite Unix time in ms, got ${o.startUnixMs}`);
  if (!(o.firstDriveWindowH >= 0)) throw new RangeError(`firstDriveWindowH must be >= 0 hours, got ${o.firstDriveWindowH}`);
  const [lo, hi] = o.driveGapH;
  if (!(lo >= 0 && hi >= lo)) throw new RangeError(`driveGapH must be [lo, hi] with 0 <= lo <= hi hours, got [${lo}, ${hi}]`);
}
