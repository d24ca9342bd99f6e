/**
 * Things standing on the ground, drawn far to near: signs (a pole with a coloured plate),
 * traffic lights (a pole with a dark box and lamps) and other vehicles (boxes on the lanes,
 * labelled 255 where they hide the road). A sign or light is labelled as a whole, its pole from
 * the foot up and what it carries (sign_base / light_base: docs/PERCEPTION.md section 2): the
 * edge takes the lowest pixels of each column's run as the foot.
 */
import { SEG_CLASS_IDS as IMPORTED_SEG_CLASS_IDS, SEG_IGNORE as IMPORTED_SEG_IGNORE } from '../../shared/camera.ts';
import type { Rng } from '../rng.ts';
import { bodyX as importedBodyX, bodyY as importedBodyY, nearView as importedNearView, type FrameContext } from './context.ts';

// Imported functions and constants used per object are copied to module constants: under the
// tsx loader (CommonJS output) every read of an imported binding is a getter call.
const bodyX = importedBodyX;
const bodyY = importedBodyY;
const nearView = importedNearView;
const SEG_CLASS_IDS = IMPORTED_SEG_CLASS_IDS;
const SEG_IGNORE = IMPORTED_SEG_IGNORE;

/** Half-width of a labelled pole, metres (wider than the pole: the stride-2 model needs a target), and at least this many label pixels. */
const POLE_LABEL_HALF_M = 0.12;
const POLE_LABEL_MIN_HALF_PX = 0.75;

/** What a pole carries, as labelled: heights above the ground [z0, z1] and half-width, metres. */
interface PoleHead {
  z0M: number;
  z1M: number;
  halfWidthM: number;
}

/** Queue a sign or traffic light primitive for drawing. */
export function addPoleObject(ctx: FrameContext, pi: number): void {
  const p = ctx.scene.primitives[pi]!;
  const q = p.points[0]!;
  const x = bodyX(ctx, q[0], q[1]);
  const y = bodyY(ctx, q[0], q[1]);
  if (!nearView(ctx, x, y, ctx.objectRangeM, 2) || x < 1) return;
  const fr = ctx.fr;
  const depth = fr.depthM(x, y, 0);
  const st = ctx.scene.style[pi]!;
  const isLight = p.cls === 'traffic_light';
  ctx.verticals.push({ depthM: depth, draw: poleDrawer(ctx, x, y, depth, isLight, p.signCode ?? '', st.hash) });
}

// Closures for the vertical list come from factories rather than inline `draw: () => ...`
// properties: an inferred function name costs a `__name` call per closure under the tsx loader.

/** Draws and labels a sign or light on its pole at body (x, y). */
function poleDrawer(ctx: FrameContext, x: number, y: number, depth: number, isLight: boolean, signCode: string, hash: number): () => void {
  return () => {
    const fr = ctx.fr;
    const head = isLight ? drawLight(ctx, x, y, hash) : drawSign(ctx, x, y, signCode, hash);
    const far = depth > ctx.labelMaxRangeM + 10;
    const value = far ? SEG_IGNORE : isLight ? SEG_CLASS_IDS.light_base : SEG_CLASS_IDS.sign_base;
    fr.labelUpright(x, y, 0, head.z0M, POLE_LABEL_HALF_M, POLE_LABEL_MIN_HALF_PX, value);
    fr.labelUpright(x, y, head.z0M, head.z1M, Math.max(POLE_LABEL_HALF_M, head.halfWidthM), POLE_LABEL_MIN_HALF_PX, value);
  };
}

/** Set bx/by/bz to a quad facing the camera at ground point (x, y): lateral [l0, l1] m, height [z0, z1] m. */
function billboard(ctx: FrameContext, x: number, y: number, l0: number, l1: number, z0: number, z1: number): void {
  const fr = ctx.fr;
  const dx = x - fr.t[0]!;
  const dy = y - fr.t[1]!;
  const d = Math.hypot(dx, dy) || 1;
  const sx = -dy / d;
  const sy = dx / d;
  const g = fr.groundZ(x);
  fr.setVertex(0, x + sx * l0, y + sy * l0, g + z0);
  fr.setVertex(1, x + sx * l1, y + sy * l1, g + z0);
  fr.setVertex(2, x + sx * l1, y + sy * l1, g + z1);
  fr.setVertex(3, x + sx * l0, y + sy * l0, g + z1);
}

/** A regular polygon facing the camera, centre lateral `lc`, height `zc`, radius `rad` m, rotated `rot`. */
function billboardNgon(ctx: FrameContext, x: number, y: number, lc: number, zc: number, rad: number, n: number, rot: number): void {
  const fr = ctx.fr;
  const dx = x - fr.t[0]!;
  const dy = y - fr.t[1]!;
  const d = Math.hypot(dx, dy) || 1;
  const sx = -dy / d;
  const sy = dx / d;
  const g = fr.groundZ(x);
  for (let i = 0; i < n; i++) {
    const a = rot + (2 * Math.PI * i) / n;
    const l = lc + rad * Math.cos(a);
    fr.bx[i] = x + sx * l;
    fr.by[i] = y + sy * l;
    fr.bz[i] = g + zc + rad * Math.sin(a);
  }
}

function drawSign(ctx: FrameContext, x: number, y: number, code: string, hash: number): PoleHead {
  const fr = ctx.fr;
  const poleH = 2.0 + 0.4 * hash;
  billboard(ctx, x, y, -0.035, 0.035, 0, poleH + 0.3);
  fr.fillColour(4, 0.55, 0.56, 0.58, 1);
  const zc = poleH + 0.3;
  const plateM = code.includes('205') ? 0.45 : code.includes('206') || code.includes('306') || code.includes('301') ? 0.38 : 0.32;
  if (code.includes('205')) {
    // yield: triangle point down, red rim, white inside
    billboardNgon(ctx, x, y, 0, zc, 0.45, 3, -Math.PI / 2);
    fr.fillColour(3, 0.75, 0.1, 0.1, 1);
    billboardNgon(ctx, x, y, 0, zc, 0.28, 3, -Math.PI / 2);
    fr.fillColour(3, 0.9, 0.9, 0.88, 1);
  } else if (code.includes('206')) {
    billboardNgon(ctx, x, y, 0, zc, 0.38, 8, Math.PI / 8);
    fr.fillColour(8, 0.78, 0.08, 0.08, 1);
  } else if (code.includes('306') || code.includes('301')) {
    billboardNgon(ctx, x, y, 0, zc, 0.38, 4, 0);
    fr.fillColour(4, 0.9, 0.9, 0.88, 1);
    billboardNgon(ctx, x, y, 0, zc, 0.26, 4, 0);
    fr.fillColour(4, 0.92, 0.75, 0.1, 1);
  } else if (hash < 0.4) {
    // mandatory/informational: blue disc
    billboardNgon(ctx, x, y, 0, zc, 0.32, 12, 0);
    fr.fillColour(12, 0.12, 0.3, 0.7, 1);
    billboardNgon(ctx, x, y, 0, zc, 0.12, 8, 0);
    fr.fillColour(8, 0.9, 0.9, 0.9, 1);
  } else {
    // prohibitory: white disc with a red rim
    billboardNgon(ctx, x, y, 0, zc, 0.32, 12, 0);
    fr.fillColour(12, 0.78, 0.1, 0.1, 1);
    billboardNgon(ctx, x, y, 0, zc, 0.24, 12, 0);
    fr.fillColour(12, 0.9, 0.9, 0.88, 1);
  }
  return { z0M: zc - plateM, z1M: zc + plateM, halfWidthM: plateM };
}

function drawLight(ctx: FrameContext, x: number, y: number, hash: number): PoleHead {
  const fr = ctx.fr;
  const poleH = 2.6 + 0.5 * hash;
  billboard(ctx, x, y, -0.05, 0.05, 0, poleH);
  fr.fillColour(4, 0.3, 0.31, 0.32, 1);
  billboard(ctx, x, y, -0.17, 0.17, poleH, poleH + 0.85);
  fr.fillColour(4, 0.07, 0.07, 0.08, 1);
  const lit = Math.floor(hash * 3);
  const lamps: Array<[number, number, number]> = [
    [0.95, 0.15, 0.1],
    [0.95, 0.65, 0.1],
    [0.2, 0.9, 0.4],
  ];
  for (let i = 0; i < 3; i++) {
    const zc = poleH + 0.7 - i * 0.27;
    billboardNgon(ctx, x, y, 0, zc, 0.09, 8, 0);
    const c = lamps[i]!;
    const on = i === lit;
    fr.fillColour(8, on ? c[0] : c[0] * 0.2, on ? c[1] : c[1] * 0.2, on ? c[2] : c[2] * 0.2, 1);
    if (on && fr.project(x, y, fr.groundZ(x) + zc, ctx.uv)) {
      ctx.lights.push({ u: ctx.uv[0]!, v: ctx.uv[1]!, r: c[0], g: c[1], b: c[2], strength: 1, depthM: fr.depthM(x, y, zc) });
    }
  }
  return { z0M: poleH, z1M: poleH + 0.85, halfWidthM: 0.17 };
}

const CAR_COLOURS: Array<[number, number, number]> = [
  [0.85, 0.85, 0.85],
  [0.62, 0.63, 0.65],
  [0.1, 0.1, 0.11],
  [0.15, 0.2, 0.38],
  [0.55, 0.08, 0.07],
  [0.35, 0.36, 0.37],
  [0.9, 0.9, 0.88],
  [0.2, 0.3, 0.22],
];

/** Place other vehicles on lanes in view (Poisson count, mean `cond.vehicles`) and queue them. */
export function addVehicles(ctx: FrameContext, rng: Rng): void {
  const mean = ctx.cond.vehicles;
  if (!(mean > 0)) return;
  let count = 0;
  for (let t = rng.exponential(mean); t < 1 && count < 12; t += rng.exponential(mean)) count++;
  if (count === 0) return;
  const lanes = ctx.scene.lanes;
  const R = 55;
  const hits = lanes.query(ctx.pose.xM - R, ctx.pose.yM - R, ctx.pose.xM + R, ctx.pose.yM + R);
  // candidate slots: centreline vertices ahead, with the lane direction
  const cx: number[] = [];
  const cy: number[] = [];
  const ch: number[] = [];
  const cTwoWay: boolean[] = [];
  for (const h of hits) {
    for (let i = h.from; i < h.to; i++) {
      const x = bodyX(ctx, lanes.xs[i]!, lanes.ys[i]!);
      const y = bodyY(ctx, lanes.xs[i]!, lanes.ys[i]!);
      if (x < 5 || x > 50 || Math.abs(y) > 0.85 * x + 1) continue;
      if (Math.abs(y) < 1.6 && x < 8) continue;
      const x1 = bodyX(ctx, lanes.xs[i + 1]!, lanes.ys[i + 1]!);
      const y1 = bodyY(ctx, lanes.xs[i + 1]!, lanes.ys[i + 1]!);
      cx.push(x);
      cy.push(y);
      ch.push(Math.atan2(y1 - y, x1 - x));
      cTwoWay.push(!ctx.scene.laneOneWay[h.primitive]);
    }
  }
  if (cx.length === 0) return;
  const placedX: number[] = [];
  const placedY: number[] = [];
  for (let k = 0; k < count; k++) {
    const i = rng.int(cx.length);
    const x = cx[i]!;
    const y = cy[i]!;
    let clash = false;
    for (let j = 0; j < placedX.length; j++) if (Math.hypot(placedX[j]! - x, placedY[j]! - y) < 7) clash = true;
    if (clash) continue;
    placedX.push(x);
    placedY.push(y);
    const heading = ch[i]! + (cTwoWay[i]! && rng.chance(0.5) ? Math.PI : 0);
    const van = rng.chance(0.15);
    const car = {
      x: x + rng.normal(0, 0.2),
      y: y + rng.normal(0, 0.2),
      heading,
      lengthM: van ? rng.uniform(5, 6) : rng.uniform(4.1, 4.9),
      widthM: van ? 2.0 : rng.uniform(1.72, 1.9),
      heightM: van ? rng.uniform(2.0, 2.5) : rng.uniform(1.4, 1.6),
      colour: rng.choice(CAR_COLOURS),
    };
    ctx.verticals.push({ depthM: ctx.fr.depthM(car.x, car.y, 0.7), draw: carDrawer(ctx, car) });
  }
}

interface Car {
  x: number;
  y: number;
  heading: number;
  lengthM: number;
  widthM: number;
  heightM: number;
  colour: [number, number, number];
}

/** Draws the car (a factory: see poleDrawer). */
function carDrawer(ctx: FrameContext, car: Car): () => void {
  return () => drawCar(ctx, car);
}

function drawCar(ctx: FrameContext, car: Car): void {
  const fr = ctx.fr;
  const c = Math.cos(car.heading);
  const s = Math.sin(car.heading);
  const hl = car.lengthM / 2;
  const hw = car.widthM / 2;
  const g = fr.groundZ(car.x);
  // footprint corners: rear-right, front-right, front-left, rear-left
  const fx = [-hl, hl, hl, -hl];
  const fy = [-hw, -hw, hw, hw];
  const px: number[] = [];
  const py: number[] = [];
  for (let i = 0; i < 4; i++) {
    px.push(car.x + c * fx[i]! - s * fy[i]!);
    py.push(car.y + s * fx[i]! + c * fy[i]!);
  }
  // contact shadow under the car
  for (let i = 0; i < 4; i++) {
    fr.bx[i] = car.x + c * fx[i]! * 1.05 - s * fy[i]! * 1.15;
    fr.by[i] = car.y + s * fx[i]! * 1.05 + c * fy[i]! * 1.15;
    fr.bz[i] = g + 0.004;
  }
  fr.fillMultiply(4, 0.35, 0.35, 0.38);
  const camX = fr.t[0]!;
  const camY = fr.t[1]!;
  const [cr, cg, cb] = car.colour;
  const zTop = g + car.heightM;
  const zBottom = g + 0.25;
  // sides: edge i -> i+1; 0: right side, 1: front, 2: left side, 3: rear
  for (let i = 0; i < 4; i++) {
    const j = (i + 1) % 4;
    const ex = px[j]! - px[i]!;
    const ey = py[j]! - py[i]!;
    // outward normal of a counter-clockwise footprint: (ey, -ex)
    const mx = (px[i]! + px[j]!) / 2;
    const my = (py[i]! + py[j]!) / 2;
    if (ey * (camX - mx) - ex * (camY - my) <= 0) continue;
    const shade = i === 1 || i === 3 ? 0.85 : 0.72;
    quad3(ctx, px[i]!, py[i]!, px[j]!, py[j]!, zBottom, zTop);
    fr.fillColour(4, cr * shade, cg * shade, cb * shade, 1);
    fr.fillLabel(4, SEG_IGNORE);
    // windows on the upper part
    const wz0 = g + car.heightM * 0.62;
    const wz1 = g + car.heightM * 0.93;
    const inset = i === 1 || i === 3 ? 0.12 : 0.18;
    quad3(ctx, px[i]! + ex * inset, py[i]! + ey * inset, px[j]! - ex * inset, py[j]! - ey * inset, wz0, wz1);
    fr.fillColour(4, 0.1, 0.12, 0.15, 1);
    // wheels gap / bumper shadow
    quad3(ctx, px[i]!, py[i]!, px[j]!, py[j]!, g, zBottom);
    fr.fillColour(4, 0.05, 0.05, 0.05, 1);
    fr.fillLabel(4, SEG_IGNORE);
    if (i === 3 || i === 1) {
      // lamps: rear red, front white
      const rear = i === 3;
      const lr = rear ? 0.75 : 0.95;
      const lg = rear ? 0.08 : 0.93;
      const lb = rear ? 0.06 : 0.85;
      const lz0 = g + car.heightM * 0.45;
      const lz1 = g + car.heightM * 0.55;
      for (const [a0, a1] of [
        [0.02, 0.16],
        [0.84, 0.98],
      ] as const) {
        quad3(ctx, px[i]! + ex * a0, py[i]! + ey * a0, px[i]! + ex * a1, py[i]! + ey * a1, lz0, lz1);
        fr.fillColour(4, lr, lg, lb, 1);
        const am = (a0 + a1) / 2;
        if (fr.project(px[i]! + ex * am, py[i]! + ey * am, (lz0 + lz1) / 2, ctx.uv)) {
          ctx.lights.push({ u: ctx.uv[0]!, v: ctx.uv[1]!, r: lr, g: lg, b: lb, strength: rear ? 0.5 : 1.5, depthM: fr.depthM(px[i]! + ex * am, py[i]! + ey * am, lz0) });
        }
      }
    }
  }
  // roof, drawn when the camera is above it
  if (fr.t[2]! > car.heightM) {
    for (let i = 0; i < 4; i++) {
      fr.bx[i] = car.x + c * fx[i]! * 0.92 - s * fy[i]! * 0.95;
      fr.by[i] = car.y + s * fx[i]! * 0.92 + c * fy[i]! * 0.95;
      fr.bz[i] = zTop;
    }
    fr.fillColour(4, cr * 0.95, cg * 0.95, cb * 0.95, 1);
    fr.fillLabel(4, SEG_IGNORE);
  }
}

function quad3(ctx: FrameContext, x0: number, y0: number, x1: number, y1: number, z0: number, z1: number): void {
  const fr = ctx.fr;
  fr.bx[0] = x0;
  fr.by[0] = y0;
  fr.bz[0] = z0;
  fr.bx[1] = x1;
  fr.by[1] = y1;
  fr.bz[1] = z0;
  fr.bx[2] = x1;
  fr.by[2] = y1;
  fr.bz[2] = z1;
  fr.bx[3] = x0;
  fr.by[3] = y0;
  fr.bz[3] = z1;
}
