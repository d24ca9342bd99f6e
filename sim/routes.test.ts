import { describe, expect, it } from 'vitest';
import { KARLSRUHE_OSM_PATH, loadLanelet2File } from './bundled-maps.ts';
import { buildLaneletGraph } from './lanelet-graph.ts';
import { loadLanelet2 } from './lanelet2.ts';
import { Rng } from './rng.ts';
import { MAX_PASSES_PER_DRIVE, planRoute } from './routes.ts';

const map = loadLanelet2File(KARLSRUHE_OSM_PATH);
const graph = buildLaneletGraph(map);

describe('lanelet graph', () => {
  it('has directed nodes for vehicle lanelets only, reversed ones for two-way lanelets', () => {
    const vehicle = map.lanelets.filter((l) => l.vehicle);
    const twoWay = vehicle.filter((l) => !l.oneWay);
    expect(graph.nodes.length).toBe(vehicle.length + twoWay.length);
    expect(graph.nodes.every((n) => n.lanelet.vehicle)).toBe(true);
    expect(graph.nodes.every((n) => !n.reversed || !n.lanelet.oneWay)).toBe(true);
  });

  it('connects dead ends only where a lane continues nearby', () => {
    const bridged = graph.nodes.flatMap((n) => n.successors.filter((s) => s.connector));
    expect(bridged.length).toBeGreaterThan(0);
    for (const s of bridged) {
      expect(s.connector!.lengthM).toBeLessThan(80);
      expect(s.connector!.points.length).toBeGreaterThanOrEqual(2);
    }
    const plain = buildLaneletGraph(map, { bridges: false });
    expect(plain.nodes.every((n) => n.successors.every((s) => s.connector === null))).toBe(true);
    // Without connectors far less of the network allows a long drive.
    const longDrives = (g: typeof graph): number => Array.from(g.reachM).filter((r) => r >= 2000).length;
    expect(longDrives(graph)).toBeGreaterThan(2 * longDrives(plain));
  });
});

describe('planRoute', () => {
  it('is deterministic for a seed and differs between seeds', () => {
    const a = planRoute(graph, new Rng(11), { targetLengthM: 1500 });
    const b = planRoute(graph, new Rng(11), { targetLengthM: 1500 });
    const c = planRoute(graph, new Rng(12), { targetLengthM: 1500 });
    expect(b).toEqual(a);
    expect(c.laneletIds).not.toEqual(a.laneletIds);
  });

  it('reaches the target along successors, continuously and in allowed directions, or ends where only a loop is left', () => {
    let reached = 0;
    for (let seed = 1; seed <= 12; seed++) {
      const r = planRoute(graph, new Rng(seed), { targetLengthM: 2000 });
      const passes = new Map<string, number>();
      r.laneletIds.forEach((id, i) => passes.set(`${id}${r.reversed[i] ? 'r' : ''}`, (passes.get(`${id}${r.reversed[i] ? 'r' : ''}`) ?? 0) + 1));
      expect(Math.max(...passes.values())).toBeLessThanOrEqual(MAX_PASSES_PER_DRIVE);
      if (r.reachedTarget) {
        reached++;
        expect(r.lengthM).toBeGreaterThan(1900);
      } else {
        // Karlsruhe's lanelets run into a 46 m loop of short lanelets in one place (the map is a
        // cut-out): a drive that gets there goes round it MAX_PASSES_PER_DRIVE times and ends.
        expect(Math.max(...passes.values())).toBe(MAX_PASSES_PER_DRIVE);
      }
      r.laneletIds.forEach((id, i) => {
        const l = map.laneletById.get(id)!;
        expect(l.vehicle).toBe(true);
        if (r.reversed[i]) expect(l.oneWay).toBe(false);
      });
      let maxStepM = 0;
      for (let i = 1; i < r.centreline.length; i++) {
        const p = r.centreline[i - 1]!;
        const q = r.centreline[i]!;
        maxStepM = Math.max(maxStepM, Math.hypot(q[0] - p[0], q[1] - p[1]));
      }
      expect(maxStepM).toBeLessThan(3); // no jumps: lanelets and connectors meet
    }
    expect(reached).toBeGreaterThanOrEqual(6); // 6 of these 12 (seeds 1-12); the demo's fleet: 47 of 60
  });

  it('returns a shorter route at a dead end', () => {
    const m = loadLanelet2(
      `<osm><node id='1' lat='49' lon='8' /><node id='2' lat='49' lon='8.001' />
       <node id='3' lat='49.00003' lon='8' /><node id='4' lat='49.00003' lon='8.001' />
       <way id='10'><nd ref='3' /><nd ref='4' /><tag k='type' v='line_thin' /><tag k='subtype' v='solid' /></way>
       <way id='11'><nd ref='1' /><nd ref='2' /><tag k='type' v='curbstone' /></way>
       <relation id='20'><member type='way' ref='10' role='left' /><member type='way' ref='11' role='right' />
       <tag k='type' v='lanelet' /><tag k='subtype' v='road' /></relation></osm>`,
      { origin: { lat: 49, lng: 8 } },
    );
    const r = planRoute(buildLaneletGraph(m), new Rng(1), { targetLengthM: 500 });
    expect(r.reachedTarget).toBe(false);
    expect(r.laneletIds).toEqual(['20']);
    expect(r.lengthM).toBeCloseTo(73, 0);
    expect(() => planRoute(buildLaneletGraph(m), new Rng(1), { targetLengthM: -1 })).toThrow(/targetLengthM/);
    expect(() => planRoute(buildLaneletGraph(m), new Rng(1), { startLaneletId: 'nope' })).toThrow(/not a vehicle lanelet/);
  });
});
