/**
 * Ground truth in the body frame inside the camera's useful field (PERCEPTION.md section 3):
 * what a single frame can be scored against (vector AP).
 */
import type { BoundaryKind, DividerStyle, PrimitiveClass } from '../../shared/schema.ts';
import { clipPolygon, clipPolyline, type Rect } from '../clip.ts';
import type { PoseXY } from '../oracle-perception.ts';
import type { CameraScene } from './scene.ts';

export interface BodyTruth {
  cls: PrimitiveClass;
  style?: DividerStyle;
  kind?: BoundaryKind;
  /** Body frame, metres, rounded to millimetres. */
  pointsBody: Array<[number, number]>;
}

export const TRUTH_FIELD: Rect = { minX: 3, maxX: 30, minY: -12, maxY: 12 }; // metres, body frame

export function bodyTruth(scene: CameraScene, pose: PoseXY, field: Rect = TRUTH_FIELD): BodyTruth[] {
  const c = Math.cos(pose.yawRad);
  const s = Math.sin(pose.yawRad);
  const r = Math.hypot(Math.max(Math.abs(field.minX), Math.abs(field.maxX)), Math.max(Math.abs(field.minY), Math.abs(field.maxY))) + 1;
  const out: BodyTruth[] = [];
  const { xs, ys } = scene.index;
  const toBody = (wx: number, wy: number): [number, number] => [c * (wx - pose.xM) + s * (wy - pose.yM), -s * (wx - pose.xM) + c * (wy - pose.yM)];
  const mm = (p: [number, number]): [number, number] => [Math.round(p[0] * 1000) / 1000, Math.round(p[1] * 1000) / 1000];
  for (const h of scene.index.query(pose.xM - r, pose.yM - r, pose.xM + r, pose.yM + r)) {
    const p = scene.primitives[h.primitive]!;
    const meta = (pts: Array<[number, number]>): BodyTruth => {
      const t: BodyTruth = { cls: p.cls, pointsBody: pts.map(mm) };
      if (p.style) t.style = p.style;
      if (p.kind) t.kind = p.kind;
      return t;
    };
    if (p.cls === 'traffic_sign' || p.cls === 'traffic_light') {
      const b = toBody(p.points[0]![0], p.points[0]![1]);
      if (b[0] >= field.minX && b[0] <= field.maxX && b[1] >= field.minY && b[1] <= field.maxY) out.push(meta([b]));
    } else if (p.cls === 'crosswalk') {
      const ring = clipPolygon(p.points.map((q) => toBody(q[0], q[1])), field);
      if (ring.length >= 3) out.push(meta(ring));
    } else {
      const n = h.to - h.from + 1;
      const bx = new Float64Array(n);
      const by = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        const b = toBody(xs[h.from + i]!, ys[h.from + i]!);
        bx[i] = b[0];
        by[i] = b[1];
      }
      for (const piece of clipPolyline(bx, by, 0, n - 1, field)) if (piece.length >= 2) out.push(meta(piece));
    }
  }
  return out;
}
