/**
 * What the camera renderer needs of a map, built once per map: a spatial index of the ground
 * truth (plus per-vertex arc length, so dash patterns and wear stay put in the world from frame
 * to frame), paint colour and width per primitive, and an index of lane centrelines for placing
 * other vehicles.
 */
import type { XY } from '../../shared/schema.ts';
import type { GroundTruthPrimitive, Lanelet2Map } from '../lanelet2.ts';
import { PrimitiveIndex } from '../primitive-index.ts';
import { stripeShape } from '../crosswalk-stripes.ts';

export interface ScenePrimitiveStyle {
  /** Paint colour (RGB 0..1). */
  r: number;
  g: number;
  b: number;
  /** Paint width, metres (lines). */
  widthM: number;
  /** Two parallel lines (solid_solid, dashed_dashed, solid_dashed, dashed_solid). */
  double: boolean;
  /** Dash phase along the line, metres; a per-primitive hash in [0, 1). */
  phaseM: number;
  hash: number;
  /**
   * Crosswalks: the outline's long axis (across the road), a world-frame unit vector: the long
   * side of its smallest edge-aligned box (sim/crosswalk-stripes.ts `stripeShape`), so a side drawn
   * as several edges counts whole. [1, 0] for other classes.
   */
  axisX: number;
  axisY: number;
}

export interface CameraScene {
  primitives: readonly GroundTruthPrimitive[];
  index: PrimitiveIndex;
  /** Arc length at each vertex of index.xs/ys, metres from the primitive's first vertex. */
  arcM: Float64Array;
  style: ScenePrimitiveStyle[];
  /** Lane centrelines of vehicle lanelets (for other vehicles), as pseudo-primitives. */
  lanes: PrimitiveIndex;
  laneOneWay: boolean[];
}

const PAINT_COLOURS: Record<string, [number, number, number]> = {
  white: [0.86, 0.86, 0.83],
  yellow: [0.88, 0.72, 0.18],
  orange: [0.9, 0.55, 0.15],
  blue: [0.3, 0.45, 0.8],
};

const sceneCache = new WeakMap<Lanelet2Map, CameraScene>();

/** The renderer's view of a map, built once per map object. */
export function cameraSceneOf(map: Lanelet2Map): CameraScene {
  let s = sceneCache.get(map);
  if (!s) {
    s = buildCameraScene(map);
    sceneCache.set(map, s);
  }
  return s;
}

export function buildCameraScene(map: Lanelet2Map): CameraScene {
  const primitives = map.primitives;
  const index = new PrimitiveIndex(primitives, { cellM: 20, chunkM: 10 });
  const arcM = new Float64Array(index.xs.length);
  const style: ScenePrimitiveStyle[] = [];
  primitives.forEach((p, pi) => {
    const s0 = index.start[pi]!;
    const n = index.count[pi]!;
    for (let i = 1; i < n; i++) arcM[s0 + i] = arcM[s0 + i - 1]! + Math.hypot(index.xs[s0 + i]! - index.xs[s0 + i - 1]!, index.ys[s0 + i]! - index.ys[s0 + i - 1]!);
    const hash = hashString(p.id);
    const colour = PAINT_COLOURS[p.color ?? 'white'] ?? PAINT_COLOURS.white!;
    let widthM = 0.12;
    if (p.cls === 'lane_divider') widthM = p.sourceType === 'line_thick' ? 0.2 + 0.05 * frac(hash * 7.1) : 0.12 + 0.03 * frac(hash * 3.3);
    else if (p.cls === 'stop_line') widthM = 0.3 + 0.2 * frac(hash * 5.7);
    const sub = p.sourceSubtype;
    const [axisX, axisY] = p.cls === 'crosswalk' ? stripeShape(p.points, true).axis : [1, 0];
    style.push({ axisX, axisY, r: colour[0], g: colour[1], b: colour[2], widthM, double: p.cls === 'lane_divider' && (sub === 'solid_solid' || sub === 'dashed_dashed' || sub === 'solid_dashed' || sub === 'dashed_solid'), phaseM: 9 * frac(hash * 11.3), hash });
  });
  const laneLines: Array<{ cls: 'lane_divider'; points: XY[] }> = [];
  const laneOneWay: boolean[] = [];
  for (const l of map.lanelets) {
    if (!l.vehicle || l.centreline.length < 2) continue;
    laneLines.push({ cls: 'lane_divider', points: l.centreline });
    laneOneWay.push(l.oneWay);
  }
  return { primitives, index, arcM, style, lanes: new PrimitiveIndex(laneLines, { cellM: 20, chunkM: 10 }), laneOneWay };
}

/** FNV-1a of a string, scaled to [0, 1). */
export function hashString(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) / 4294967296;
}

function frac(v: number): number {
  return v - Math.floor(v);
}
