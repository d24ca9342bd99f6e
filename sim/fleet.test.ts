import { describe, expect, it } from 'vitest';
import type { GnssFix, PerceptionFrame, VehicleSignals } from '../shared/topics.ts';
import { KARLSRUHE_OSM_PATH, loadLanelet2File } from './bundled-maps.ts';
import { ringRoadOsm } from '../test/fixtures/ring-road.ts';
import { planFleet, mapSeedOf, routesShortOf } from './fleet.ts';
import { GnssErrorModel } from './gnss-error.ts';
import { loadLanelet2, osmBoundsCentre } from './lanelet2.ts';
import { deriveSeed, Rng } from './rng.ts';
import type { SimMessage } from './messages.ts';
import { simulateDrive } from './simulate-drive.ts';

const map = loadLanelet2File(KARLSRUHE_OSM_PATH);

describe('planFleet', () => {
  const plan = planFleet(map, { vehicles: 4, drivesPerVehicle: 3, driveLengthM: 1000, seed: 7 });

  it('names vehicles and drives and spaces drives in time', () => {
    expect(plan.vehicles.map((v) => v.vehicleId)).toEqual(['veh-001', 'veh-002', 'veh-003', 'veh-004']);
    expect(plan.vehicles[0]!.drives.map((d) => d.driveId)).toEqual(['veh-001-d1', 'veh-001-d2', 'veh-001-d3']);
    expect(plan.drives).toHaveLength(12);
    for (const v of plan.vehicles) {
      for (let i = 1; i < v.drives.length; i++) expect(v.drives[i]!.startUnixMs - v.drives[i - 1]!.startUnixMs).toBeGreaterThan(3_600_000);
    }
    for (let i = 1; i < plan.drives.length; i++) expect(plan.drives[i]!.startUnixMs).toBeGreaterThanOrEqual(plan.drives[i - 1]!.startUnixMs);
    expect(new Date(plan.drives[0]!.startUnixMs).getUTCFullYear()).toBe(2025);
    expect(plan.totalLengthM).toBeGreaterThan(12 * 900);
  });

  it('is a pure function of the seed', () => {
    expect(planFleet(map, { vehicles: 4, drivesPerVehicle: 3, driveLengthM: 1000, seed: 7 })).toEqual(plan);
    const other = planFleet(map, { vehicles: 4, drivesPerVehicle: 3, driveLengthM: 1000, seed: 8 });
    expect(other.drives.map((d) => d.route.laneletIds)).not.toEqual(plan.drives.map((d) => d.route.laneletIds));
  });

  it('drive seeds depend on the map: other maps get other GNSS biases, the same map the same ones', () => {
    const ring = loadLanelet2(ringRoadOsm(), { origin: osmBoundsCentre(ringRoadOsm()) });
    const opts = { vehicles: 4, drivesPerVehicle: 3, driveLengthM: 300, seed: 7 };
    const onRing = planFleet(ring, opts);
    expect(onRing.drives.map((d) => d.driveId).sort()).toEqual(plan.drives.map((d) => d.driveId).sort());
    const seedsOf = (p: typeof plan): Map<string, number> => new Map(p.drives.map((d) => [d.driveId, d.seed]));
    const k = seedsOf(plan);
    const r = seedsOf(onRing);
    for (const [id, seed] of k) expect(r.get(id), id).not.toBe(seed);
    // ... so the biases differ (simulate-drive.ts draws them from the drive seed)
    const bias = (seed: number): number => new GnssErrorModel(new Rng(deriveSeed(seed, 'gnss')), 60).biasEastM;
    expect(bias(r.get('veh-001-d1')!)).not.toBe(bias(k.get('veh-001-d1')!));
    // stable for one map: the same file loaded again gives the same map seed and drive seeds
    const again = loadLanelet2File(KARLSRUHE_OSM_PATH);
    expect(mapSeedOf(again)).toBe(mapSeedOf(map));
    expect(plan.mapSeed).toBe(mapSeedOf(map));
    expect(seedsOf(planFleet(again, { vehicles: 4, drivesPerVehicle: 3, driveLengthM: 1000, seed: 7 }))).toEqual(k);
    expect(mapSeedOf(ring)).not.toBe(mapSeedOf(map));
    // a lanelet moved by 1 cm is another map; a bound drawn the other way round is the same map
    const moved = { ...ring, lanelets: ring.lanelets.map((l, i) => (i === 0 ? { ...l, left: [[l.left[0]![0] + 0.01, l.left[0]![1]] as [number, number], ...l.left.slice(1)] } : l)) };
    expect(mapSeedOf(moved)).not.toBe(mapSeedOf(ring));
    const flipped = { ...ring, lanelets: ring.lanelets.map((l, i) => (i === 0 ? { ...l, left: [...l.right].reverse(), right: [...l.left].reverse() } : l)) };
    expect(mapSeedOf(flipped)).toBe(mapSeedOf(ring));
    // perMapSeeds: false gives the seeds of before (data sets that already seed per map)
    const legacy = planFleet(map, { ...opts, driveLengthM: 1000, perMapSeeds: false });
    expect(legacy.mapSeed).toBeNull();
    for (const d of legacy.drives) expect(d.seed).toBe(deriveSeed(7, d.driveId));
  });

  it('says which routes fall short of the drive length asked (the lanelet graph ends)', () => {
    const plan = planFleet(map, { vehicles: 4, drivesPerVehicle: 2, driveLengthM: 2000, seed: 1 });
    expect(routesShortOf(plan, 2000)).toBeUndefined();
    // One straight 100 m lanelet: every route ends after at most 100 m.
    const n = (id: number, eastM: number, northM: number): string => `<node id='${id}' lat='${49 + northM / 111_200}' lon='${8 + eastM / 72_950}' />`;
    const text = `<?xml version='1.0'?><osm version='0.6'>${n(1, 0, 3.5)}${n(2, 100, 3.5)}${n(3, 0, 0)}${n(4, 100, 0)}<way id='10'><nd ref='1' /><nd ref='2' /><tag k='type' v='line_thin' /><tag k='subtype' v='solid' /></way><way id='11'><nd ref='3' /><nd ref='4' /><tag k='type' v='curbstone' /></way><relation id='100'><member type='way' ref='10' role='left' /><member type='way' ref='11' role='right' /><tag k='type' v='lanelet' /></relation></osm>`;
    const stub = loadLanelet2(text, { origin: osmBoundsCentre(text) });
    const short = routesShortOf(planFleet(stub, { vehicles: 2, drivesPerVehicle: 2, driveLengthM: 2000, seed: 1 }), 2000)!;
    expect(short.count).toBe(4);
    expect(short.shortestM).toBeLessThanOrEqual(101);
    expect(short.meanM).toBeGreaterThan(0);
  });

  it('validates its options', () => {
    expect(() => planFleet(map, { vehicles: 0 })).toThrow(/vehicles/);
    expect(() => planFleet(map, { driveLengthM: -5 })).toThrow(/driveLengthM/);
  });
});

describe('simulateDrive', () => {
  const plan = planFleet(map, { vehicles: 2, drivesPerVehicle: 1, driveLengthM: 1000, seed: 3 });
  const drive = plan.drives[0]!;
  const sim = simulateDrive(map, drive, { gnss: { outagesPerMin: 2, multipathPerMin: 2 } });
  const of = <K extends SimMessage['topic']>(topic: K): Array<Extract<SimMessage, { topic: K }>['payload']> =>
    sim.messages.filter((m) => m.topic === topic).map((m) => m.payload) as never;

  it('produces time-ordered messages framed by drive markers', () => {
    const first = sim.messages[0]!;
    const last = sim.messages[sim.messages.length - 1]!;
    expect(first).toEqual({ topic: 'drive', payload: { tMonoNs: Math.round(drive.bootToStartS * 1e9), event: 'start', driveId: drive.driveId } });
    expect(last.topic).toBe('drive');
    expect(last.payload).toMatchObject({ event: 'end', driveId: drive.driveId });
    for (let i = 1; i < sim.messages.length; i++) expect(sim.messages[i]!.payload.tMonoNs).toBeGreaterThanOrEqual(sim.messages[i - 1]!.payload.tMonoNs);
    const durationS = sim.durationS;
    expect(sim.counts.vehicle).toBe(Math.floor(durationS * 10) + 1);
    expect(sim.counts.gnss).toBe(Math.floor(durationS * 10) + 1);
    expect(sim.counts.perception).toBe(Math.floor(durationS * 2) + 1);
    expect(sim.counts.drive).toBe(2);
  });

  it('is deterministic per drive seed, and different drives differ', () => {
    const again = simulateDrive(map, drive, { gnss: { outagesPerMin: 2, multipathPerMin: 2 } });
    expect(again.messages).toEqual(sim.messages);
    const other = simulateDrive(map, { ...drive, seed: drive.seed + 1 }, { gnss: { outagesPerMin: 2, multipathPerMin: 2 } });
    expect(other.messages).not.toEqual(sim.messages);
  });

  it('vehicle signals follow the true motion', () => {
    const v = of('vehicle') as VehicleSignals[];
    expect(Math.max(...v.map((s) => s.speedMps))).toBeGreaterThan(5);
    expect(v.every((s) => s.speedMps >= 0 && Number.isFinite(s.yawRateRps))).toBe(true);
    const k = Math.floor(v.length / 2);
    expect(Math.abs(v[k]!.speedMps - sim.truth.speedMps[k]!)).toBeLessThan(0.2);
  });

  it('GNSS fixes carry the drive bias, outages and plausible times', () => {
    const fixes = of('gnss') as GnssFix[];
    const outage = fixes.filter((f) => f.fixType === 'none');
    expect(outage.length).toBeGreaterThan(0);
    expect(outage.every((f) => Number.isNaN(f.lat) && Number.isNaN(f.lng))).toBe(true);
    const mpTimes = sim.gnssEvents.filter((e) => e.kind === 'multipath');
    const inMultipath = (tS: number): boolean => mpTimes.some((e) => tS >= e.startS && tS < e.endS);
    let sumE = 0;
    let sumN = 0;
    let n = 0;
    fixes.forEach((f, k) => {
      const tS = k / 10;
      if (f.fixType === 'none' || inMultipath(tS)) return;
      const [e, no] = map.frame.toLocal({ lng: f.lng, lat: f.lat });
      // The truth is sampled at 10 Hz too: sample k is the same instant.
      sumE += e - sim.truth.xM[k]!;
      sumN += no - sim.truth.yM[k]!;
      n++;
    });
    expect(Math.abs(sumE / n - sim.gnssBias.eastM)).toBeLessThan(0.5);
    expect(Math.abs(sumN / n - sim.gnssBias.northM)).toBeLessThan(0.5);
    expect(fixes[0]!.tUnixMs).toBe(drive.startUnixMs);
    expect(fixes[10]!.tUnixMs - fixes[0]!.tUnixMs).toBe(1000);
    expect(fixes[10]!.tMonoNs - fixes[0]!.tMonoNs).toBe(1e9);
  });

  it('perception frames observe the map and the evaluation learns what was in view', () => {
    const frames = of('perception') as PerceptionFrame[];
    expect(frames.map((f) => f.frameId)).toEqual(frames.map((_, i) => i));
    const all = frames.flatMap((f) => f.observations);
    expect(all.length / frames.length).toBeGreaterThan(5);
    expect(all.every((o) => o.score >= 0 && o.score <= 1 && o.pointsBody.length >= 1)).toBe(true);
    expect(new Set(all.map((o) => o.cls)).has('lane_divider')).toBe(true);
    expect(sim.primitivesInView.size).toBeGreaterThan(10);
    for (const id of sim.primitivesInView.keys()) expect(map.primitives.some((p) => p.id === id)).toBe(true);
    expect(sim.truth.tMonoNs[0]).toBe(Math.round(drive.bootToStartS * 1e9));
    expect(sim.truth.xM.length).toBe(Math.floor(sim.durationS * 10) + 1);
  });
});
