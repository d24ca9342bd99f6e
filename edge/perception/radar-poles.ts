/**
 * Radar poles: where the road's furniture stands, from the front radar's detection lists.
 *
 * The camera model finds the class of a sign or light pole only as a few pixels at its foot
 * (docs/PERCEPTION.md section 2), too small to place it well; the radar places a pole to a few
 * centimetres after a few dozen scans but cannot tell a sign from a lamp post or a tree. So the
 * radar says WHERE and the camera's local map says WHAT (vectorize.ts `classifyPoles`).
 *
 *   scan (body frame) -> static detections only (range rate explained by the car's own motion)
 *     -> pose frame (the local map's east-north frame) -> hit counts on a grid of `cellM` cells
 *     -> `polesIn(rect)`: compact clusters of hits (a pole) inside a finished chunk; elongated
 *        ones (guard rails, walls) and sparse ones (false alarms, traffic) are not poles.
 *
 * Static test: a detection at body (x, y) seen from the sensor at (sx, sy) moving with the car
 * (body velocity v forward, yaw rate w: sensor velocity (v - w sy, w sx)) has, if it stands
 * still, range rate -(sensor velocity . line of sight). Scans taken while the car is nearly
 * stopped are not used (everything looks static then), nor scans less than `minTravelM` after
 * the last one used (a standing car would pile up hits on its clutter).
 *
 * Memory: cells farther than `retainM` from the car are dropped, and at most `maxCells` are held
 * (oldest first out). Pure logic: no sockets, no timers.
 */
import type { RadarScan } from '../../shared/radar.ts';
import type { ClipRect } from './vectorize.ts';

export interface RadarPoleOptions {
  /** Hit-count grid cell side, metres. */
  cellM: number;
  /** Largest |measured - static| range rate for a static detection, metres per second. */
  staticToleranceMps: number;
  /** Scans while slower than this are not used, metres per second. */
  minSpeedMps: number;
  /** A scan is used only when the car moved this far since the last one used, metres. */
  minTravelM: number;
  /** Detections farther from the sensor are not used (azimuth noise grows with range), metres. */
  maxRangeM: number;
  /** Hits within this of a cluster's densest cell belong to it, metres. */
  clusterRadiusM: number;
  /** Fewest hits that make a pole. */
  minHits: number;
  /** Largest RMS spread of a pole's hits along its major axis, metres (a rail spreads wider). */
  maxSpreadM: number;
  /**
   * A pole stands alone: hits in the ring from clusterRadiusM to ringRadiusM around it may be at
   * most maxRingFraction of its own (a guard rail or a wall returns all along its length), once
   * one neighbouring pole in the ring is set aside (see neighbourRadiusM).
   */
  ringRadiusM: number;
  maxRingFraction: number;
  /**
   * A neighbouring pole in the ring (two sign posts 1-1.6 m apart, as at a roundabout's entry):
   * the ring's hits within this of its densest cell, when they are compact (RMS radius at most
   * maxSpreadM), at least minHits, and the line does not go on beyond them (fewer than
   * maxRingFraction of the pole's hits as far again beyond): a rail's samples continue, metres.
   */
  neighbourRadiusM: number;
  /** Cells farther than this from the car are forgotten, metres. */
  retainM: number;
  /** Most cells held. */
  maxCells: number;
}

export const DEFAULT_RADAR_POLE_OPTIONS: RadarPoleOptions = {
  cellM: 0.25, // m
  staticToleranceMps: 0.5, // m/s
  minSpeedMps: 1, // m/s
  minTravelM: 0.3, // m
  maxRangeM: 35, // m
  clusterRadiusM: 0.75, // m
  minHits: 8, // hits
  maxSpreadM: 0.35, // m
  ringRadiusM: 1.6, // m
  maxRingFraction: 0.5, // fraction
  neighbourRadiusM: 0.5, // m
  retainM: 150, // m
  maxCells: 200_000, // cells
};

export function validateRadarPoleOptions(o: RadarPoleOptions): void {
  for (const k of Object.keys(DEFAULT_RADAR_POLE_OPTIONS) as Array<keyof RadarPoleOptions>) {
    const v = o[k];
    if (!(typeof v === 'number' && Number.isFinite(v) && v >= 0)) throw new RangeError(`radar.${k} must be a finite number >= 0, got ${String(v)}`);
  }
  for (const k of ['cellM', 'clusterRadiusM', 'maxRangeM', 'maxSpreadM', 'retainM', 'neighbourRadiusM'] as const) {
    if (!(o[k] > 0)) throw new RangeError(`radar.${k} must be > 0, got ${o[k]}`);
  }
  if (!(o.ringRadiusM >= o.clusterRadiusM)) throw new RangeError(`radar.ringRadiusM must be >= radar.clusterRadiusM (${o.clusterRadiusM}), got ${o.ringRadiusM}`);
  if (!(Number.isInteger(o.maxCells) && o.maxCells >= 1)) throw new RangeError(`radar.maxCells must be an integer >= 1, got ${o.maxCells}`);
  if (!(Number.isInteger(o.minHits) && o.minHits >= 1)) throw new RangeError(`radar.minHits must be an integer >= 1, got ${o.minHits}`);
}

/** A pole the radar found, in the pose frame. */
export interface RadarPole {
  eastM: number;
  northM: number;
  hits: number;
  /** RMS spread of its hits along their major axis, metres. */
  spreadM: number;
}

/** The car at a scan: pose in the pose frame and its motion from the vehicle signals. */
export interface RadarScanPose {
  eastM: number;
  northM: number;
  /** Counter-clockwise from east, radians. */
  headingRad: number;
  speedMps: number;
  yawRateRps: number;
}

export interface RadarPoleCounters {
  scansUsed: number;
  /** Scans not used: the car (nearly) stood, or had not moved minTravelM since the last one. */
  scansSkippedSlow: number;
  detectionsIn: number;
  detectionsStatic: number;
  polesFound: number;
  /** Clusters with enough hits that were not a pole: too elongated, or not alone (rails, walls). */
  clustersRejected: number;
  cellsEvicted: number;
}

interface Cell {
  /** Hits, and sums of their offsets from the cell centre (metres) for centroid and spread. */
  n: number;
  sx: number;
  sy: number;
  sxx: number;
  syy: number;
  sxy: number;
}

const KEY_OFFSET = 1 << 24;
const KEY_SPAN = 1 << 25;

export class RadarPoleMap {
  readonly counters: RadarPoleCounters = { scansUsed: 0, scansSkippedSlow: 0, detectionsIn: 0, detectionsStatic: 0, polesFound: 0, clustersRejected: 0, cellsEvicted: 0 };
  private readonly o: RadarPoleOptions;
  private readonly cells = new Map<number, Cell>();
  private last: { eastM: number; northM: number } | undefined;

  constructor(options: Partial<RadarPoleOptions> = {}) {
    this.o = { ...DEFAULT_RADAR_POLE_OPTIONS, ...options };
    validateRadarPoleOptions(this.o);
  }

  /** Cells held. */
  get size(): number {
    return this.cells.size;
  }

  addScan(scan: RadarScan, at: RadarScanPose): void {
    const o = this.o;
    if (Math.abs(at.speedMps) < o.minSpeedMps || (this.last && Math.hypot(at.eastM - this.last.eastM, at.northM - this.last.northM) < o.minTravelM)) {
      this.counters.scansSkippedSlow++;
      return;
    }
    this.last = { eastM: at.eastM, northM: at.northM };
    this.counters.scansUsed++;
    const cos = Math.cos(at.headingRad);
    const sin = Math.sin(at.headingRad);
    const vx = at.speedMps - at.yawRateRps * scan.sensorYM;
    const vy = at.yawRateRps * scan.sensorXM;
    for (const d of scan.detections) {
      this.counters.detectionsIn++;
      const lx = d.xM - scan.sensorXM;
      const ly = d.yM - scan.sensorYM;
      const r = Math.hypot(lx, ly);
      if (r < 1e-3 || r > o.maxRangeM) continue;
      const staticRate = -(vx * lx + vy * ly) / r;
      if (Math.abs(d.rangeRateMps - staticRate) > o.staticToleranceMps) continue;
      this.counters.detectionsStatic++;
      this.addHit(at.eastM + cos * d.xM - sin * d.yM, at.northM + sin * d.xM + cos * d.yM);
    }
    this.forget(at.eastM, at.northM);
  }

  /**
   * The poles whose centre lies in `rect` (a finished chunk); their hits are consumed. Clusters
   * centred outside stay for the chunk that holds them.
   */
  polesIn(rect: ClipRect): RadarPole[] {
    const o = this.o;
    const c = o.cellM;
    const reach = Math.ceil(o.clusterRadiusM / c);
    const ringReach = Math.ceil(o.ringRadiusM / c);
    const pad = o.clusterRadiusM;
    const seeds: Array<[number, Cell]> = [];
    for (const [key, cell] of this.cells) {
      const { i, j } = unkey(key);
      const x = (i + 0.5) * c;
      const y = (j + 0.5) * c;
      if (x >= rect.minXM - pad && x < rect.maxXM + pad && y >= rect.minYM - pad && y < rect.maxYM + pad) seeds.push([key, cell]);
    }
    seeds.sort((a, b) => b[1].n - a[1].n || a[0] - b[0]);
    const used = new Set<number>();
    const out: RadarPole[] = [];
    for (const [key, seed] of seeds) {
      if (used.has(key) || seed.n < 2) continue;
      const { i, j } = unkey(key);
      const members: number[] = [];
      let n = 0;
      let sx = 0;
      let sy = 0;
      let sxx = 0;
      let syy = 0;
      let sxy = 0;
      for (let dj = -reach; dj <= reach; dj++) {
        for (let di = -reach; di <= reach; di++) {
          if ((di * di + dj * dj) * c * c > o.clusterRadiusM * o.clusterRadiusM) continue;
          const k = keyOf(i + di, j + dj);
          const m = this.cells.get(k);
          if (!m || used.has(k)) continue;
          members.push(k);
          // Offsets relative to the seed's centre.
          const ox = di * c;
          const oy = dj * c;
          n += m.n;
          sx += m.sx + ox * m.n;
          sy += m.sy + oy * m.n;
          sxx += m.sxx + 2 * ox * m.sx + ox * ox * m.n;
          syy += m.syy + 2 * oy * m.sy + oy * oy * m.n;
          sxy += m.sxy + ox * m.sy + oy * m.sx + ox * oy * m.n;
        }
      }
      if (n < o.minHits) continue;
      const mx = sx / n;
      const my = sy / n;
      const eastM = (i + 0.5) * c + mx;
      const northM = (j + 0.5) * c + my;
      if (!(eastM >= rect.minXM && eastM < rect.maxXM && northM >= rect.minYM && northM < rect.maxYM)) continue;
      for (const k of members) used.add(k);
      const cxx = sxx / n - mx * mx;
      const cyy = syy / n - my * my;
      const cxy = sxy / n - mx * my;
      const major = (cxx + cyy) / 2 + Math.sqrt(((cxx - cyy) / 2) ** 2 + cxy * cxy);
      const spreadM = Math.sqrt(Math.max(0, major));
      if (spreadM > o.maxSpreadM || !this.standsAlone(i, j, n, ringReach)) {
        this.counters.clustersRejected++;
        continue;
      }
      this.counters.polesFound++;
      out.push({ eastM, northM, hits: n, spreadM });
    }
    for (const k of used) this.cells.delete(k);
    return out;
  }

  /**
   * Whether the cluster of `n` hits seeded at cell (i, j) stands alone (RadarPoleOptions
   * ringRadiusM, neighbourRadiusM): the ring's hits, less one neighbouring pole's, are at most
   * maxRingFraction * n. Offsets are of cell centres from the seed's, metres.
   */
  private standsAlone(i: number, j: number, n: number, ringReach: number): boolean {
    const o = this.o;
    const c = o.cellM;
    const r0 = o.clusterRadiusM * o.clusterRadiusM;
    const r1 = o.ringRadiusM * o.ringRadiusM;
    const limit = o.maxRingFraction * n;
    const inRing = (di: number, dj: number): boolean => {
      const d2 = (di * di + dj * dj) * c * c;
      return d2 > r0 && d2 <= r1;
    };
    // The ring's hits and its densest cell (offset in cells).
    let total = 0;
    let peakN = 0;
    let pdi = 0;
    let pdj = 0;
    for (let dj = -ringReach; dj <= ringReach; dj++) {
      for (let di = -ringReach; di <= ringReach; di++) {
        if (!inRing(di, dj)) continue;
        const m = this.cells.get(keyOf(i + di, j + dj));
        if (!m) continue;
        total += m.n;
        if (m.n > peakN) {
          peakN = m.n;
          pdi = di;
          pdj = dj;
        }
      }
    }
    if (total <= limit) return true;
    if (peakN === 0) return false;
    // The blob around the densest cell (ring cells within neighbourRadiusM of it): a neighbouring
    // pole when compact, strong enough and alone with the cluster in the ring. Offsets in metres.
    const rb = o.neighbourRadiusM;
    const rb2 = rb * rb;
    const nearPeak = (di: number, dj: number): boolean => ((di - pdi) * c) ** 2 + ((dj - pdj) * c) ** 2 <= rb2;
    const blobReach = Math.ceil(rb / c);
    let bn = 0;
    let bx = 0;
    let by = 0;
    let bxx = 0;
    for (let dj = pdj - blobReach; dj <= pdj + blobReach; dj++) {
      for (let di = pdi - blobReach; di <= pdi + blobReach; di++) {
        if (!inRing(di, dj) || !nearPeak(di, dj)) continue;
        const m = this.cells.get(keyOf(i + di, j + dj));
        if (!m) continue;
        bn += m.n;
        bx += m.n * di * c;
        by += m.n * dj * c;
        bxx += m.n * ((di * c) ** 2 + (dj * c) ** 2);
      }
    }
    if (total - bn > limit || bn < o.minHits) return false;
    const mx = bx / bn;
    const my = by / bn;
    if (Math.sqrt(Math.max(0, bxx / bn - mx * mx - my * my)) > o.maxSpreadM) return false;
    // A rail goes on: hits as far again beyond the neighbour.
    let beyond = 0;
    for (let dj = Math.floor((2 * my - rb) / c); dj <= Math.ceil((2 * my + rb) / c); dj++) {
      for (let di = Math.floor((2 * mx - rb) / c); di <= Math.ceil((2 * mx + rb) / c); di++) {
        if ((di * c - 2 * mx) ** 2 + (dj * c - 2 * my) ** 2 > rb2) continue;
        if (inRing(di, dj) && nearPeak(di, dj)) continue; // the neighbour's own cells
        beyond += this.cells.get(keyOf(i + di, j + dj))?.n ?? 0;
      }
    }
    return beyond <= limit;
  }

  private addHit(x: number, y: number): void {
    const c = this.o.cellM;
    const i = Math.floor(x / c);
    const j = Math.floor(y / c);
    const key = keyOf(i, j);
    let cell = this.cells.get(key);
    if (!cell) {
      if (this.cells.size >= this.o.maxCells) this.evictOldest();
      cell = { n: 0, sx: 0, sy: 0, sxx: 0, syy: 0, sxy: 0 };
      this.cells.set(key, cell);
    }
    const ox = x - (i + 0.5) * c;
    const oy = y - (j + 0.5) * c;
    cell.n++;
    cell.sx += ox;
    cell.sy += oy;
    cell.sxx += ox * ox;
    cell.syy += oy * oy;
    cell.sxy += ox * oy;
  }

  private evictOldest(): void {
    const first = this.cells.keys().next();
    if (!first.done) {
      this.cells.delete(first.value);
      this.counters.cellsEvicted++;
    }
  }

  /** Drop cells the car has left behind by more than retainM (checked every few scans). */
  private forget(eastM: number, northM: number): void {
    if (this.counters.scansUsed % 16 !== 0) return;
    const c = this.o.cellM;
    const r2 = this.o.retainM * this.o.retainM;
    for (const key of this.cells.keys()) {
      const { i, j } = unkey(key);
      const dx = (i + 0.5) * c - eastM;
      const dy = (j + 0.5) * c - northM;
      if (dx * dx + dy * dy > r2) {
        this.cells.delete(key);
        this.counters.cellsEvicted++;
      }
    }
  }
}

/** Cell (i, j) -> one number; |i|, |j| < 2^24 cells (4,000 km at 0.25 m). */
function keyOf(i: number, j: number): number {
  return (i + KEY_OFFSET) * KEY_SPAN + (j + KEY_OFFSET);
}

function unkey(key: number): { i: number; j: number } {
  const a = Math.floor(key / KEY_SPAN);
  return { i: a - KEY_OFFSET, j: key - a * KEY_SPAN - KEY_OFFSET };
}
