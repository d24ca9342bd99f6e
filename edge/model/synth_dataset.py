"""A small synthetic dataset in the PERCEPTION.md format, for tests and pipeline development.

Not the simulator: a flat road seen through the default fleet camera (fx = fy = 150 px, 1.35 m
high, pitched 0.12 rad down), with painted dividers, curbs/borders/barriers, stop lines,
crosswalks and sign/light bases drawn analytically on the ground plane. Labels are taken at the
centre of each 2 x 2 image block (label stride 2).

Usage: /usr/bin/python3 edge/model/synth_dataset.py --out DIR --frames N [--seed S]
"""
from __future__ import annotations

import argparse

import numpy as np

from dataset import IMAGE_H, IMAGE_W, LABEL_H, LABEL_W, write_dataset

F_PX, CX, CY, HEIGHT_M, PITCH_RAD = 150.0, 128.0, 64.0, 1.35, 0.12
COLORS = {  # RGB of each class's paint / material
    1: (235, 235, 230), 2: (235, 235, 230), 3: (170, 170, 160), 4: (120, 150, 90),
    5: (200, 200, 205), 6: (240, 240, 240), 7: (240, 240, 240), 8: (90, 90, 90), 9: (40, 40, 40),
}


def ground_of(u: np.ndarray, v: np.ndarray, pitch: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Body-frame ground point (x forward, y left) of image points; valid where the ray hits ground."""
    xc, yc = (u - CX) / F_PX, (v - CY) / F_PX
    c, s = np.cos(pitch), np.sin(pitch)
    fwd = c - s * yc  # forward component of the ray
    down = s + c * yc  # downward component
    valid = down > 1e-3
    t = np.where(valid, HEIGHT_M / np.maximum(down, 1e-3), 0.0)
    return t * fwd, -t * xc, valid


def scene_classes(x: np.ndarray, y: np.ndarray, valid: np.ndarray, sc: dict) -> np.ndarray:
    """Class id of each ground point for one random scene (later classes overwrite earlier)."""
    yy = y - sc["curv"] * x * x
    cls = np.zeros(x.shape, dtype=np.uint8)
    ok = valid & (x > 0.5) & (x < 60.0)
    half = sc["lanes"] * sc["laneW"] / 2
    for k in range(1, sc["lanes"]):
        off = -half + k * sc["laneW"]
        on = ok & (np.abs(yy - off) < 0.08)
        if sc["dashed"][k - 1]:
            cls[on & ((x + sc["phase"]) % 9.0 < 3.0)] = 2
        else:
            cls[on] = 1
    for side, kind in ((-1, sc["edgeR"]), (1, sc["edgeL"])):
        cls[ok & (np.abs(yy - side * (half + 0.1)) < 0.12)] = kind
    if sc["stopX"] is not None:
        cls[ok & (x > sc["stopX"]) & (x < sc["stopX"] + 0.4) & (yy > -half) & (yy < 0)] = 6
        cw0 = sc["stopX"] + 1.5
        cls[ok & (x > cw0) & (x < cw0 + 3.0) & (np.abs(yy) < half) & ((yy + 10) % 1.0 < 0.5)] = 7
    return cls


def random_scene(rng: np.random.Generator) -> dict:
    lanes = int(rng.integers(1, 4))
    return {
        "lanes": lanes, "laneW": float(rng.uniform(3.0, 3.8)), "curv": float(rng.normal(0, 0.004)),
        "dashed": [bool(rng.random() < 0.6) for _ in range(lanes)], "phase": float(rng.uniform(0, 9)),
        "edgeL": int(rng.choice([3, 4, 5])), "edgeR": int(rng.choice([3, 4, 5])),
        "stopX": float(rng.uniform(8, 25)) if rng.random() < 0.3 else None,
        "poles": [(float(rng.uniform(6, 30)), float(rng.choice([-1, 1]) * rng.uniform(6, 9)), int(rng.choice([8, 9])))
                  for _ in range(int(rng.integers(0, 3)))],
        "pitch": PITCH_RAD + float(rng.normal(0, 0.01)),
        "light": float(rng.uniform(0.35, 1.1)),
    }


def project(x: float, y: float, pitch: float) -> tuple[float, float] | None:
    """Image point (u, v) of a ground point, or None when it is behind the camera."""
    c, s = np.cos(pitch), np.sin(pitch)
    zc = c * x + s * HEIGHT_M
    if zc < 0.5:
        return None
    yc = -s * x + c * HEIGHT_M
    return CX + F_PX * (-y) / zc, CY + F_PX * yc / zc


def render(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, dict]:
    sc = random_scene(rng)
    vi, ui = np.mgrid[0:IMAGE_H, 0:IMAGE_W].astype(np.float64) + 0.5
    x, y, valid = ground_of(ui, vi, sc["pitch"])
    cls_img = scene_classes(x, y, valid, sc)
    vl, ul = np.mgrid[0:LABEL_H, 0:LABEL_W].astype(np.float64) * 2 + 1.0
    xl, yl, validl = ground_of(ul, vl, sc["pitch"])
    label = scene_classes(xl, yl, validl, sc)
    img = np.empty((IMAGE_H, IMAGE_W, 3), dtype=np.float64)
    sky = np.array([150, 180, 220.0]) * rng.uniform(0.7, 1.1)
    road = np.array([95, 95, 100.0]) * rng.uniform(0.7, 1.3)
    grass = np.array([70, 110, 60.0]) * rng.uniform(0.7, 1.3)
    half = sc["lanes"] * sc["laneW"] / 2
    on_road = valid & (np.abs(y - sc["curv"] * x * x) < half + 0.2)
    img[:] = sky
    img[valid] = grass
    img[on_road] = road
    for k, col in COLORS.items():
        img[cls_img == k] = col
    # poles: a vertical bar above the base, the base disc labelled (radius 1.5 output px)
    for px, py, kind in sc["poles"]:
        p = project(px, py, sc["pitch"])
        if p is None or not (0 <= p[0] < IMAGE_W and 0 <= p[1] < IMAGE_H):
            continue
        u0, v0 = p
        w = max(1, int(round(12 / px)))
        top = max(0, int(v0 - 400 / px))
        img[top:int(v0), max(0, int(u0) - w):int(u0) + w] = COLORS[kind]
        d2 = (ul / 2 - u0 / 2) ** 2 + (vl / 2 - v0 / 2) ** 2
        label[d2 <= 1.5 ** 2] = kind
    img *= sc["light"]
    img += rng.normal(0, 4, img.shape)
    # a random occluding vehicle: an ignored box in the labels
    if rng.random() < 0.25:
        u0, v0, w, h = int(rng.integers(40, 200)), int(rng.integers(50, 90)), int(rng.integers(20, 50)), int(rng.integers(15, 35))
        img[v0:v0 + h, u0:u0 + w] = rng.uniform(20, 200, 3)
        label[v0 // 2:(v0 + h) // 2, u0 // 2:(u0 + w) // 2] = 255
    frame = {"map": "synthetic", "seed": None, "conditions": {"light": sc["light"]}, "vehiclePitchRad": sc["pitch"] - PITCH_RAD, "truth": []}
    return np.clip(img, 0, 255).astype(np.uint8), label, frame


def make(out: str, frames: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    images = np.empty((frames, IMAGE_H, IMAGE_W, 3), dtype=np.uint8)
    labels = np.empty((frames, LABEL_H, LABEL_W), dtype=np.uint8)
    metas = []
    for i in range(frames):
        images[i], labels[i], fr = render(rng)
        fr["seed"] = seed
        metas.append(fr)
    write_dataset(out, images, labels, metas, {"split": "synthetic", "maps": ["synthetic"], "conditions": {"light": "random"}, "seed": seed, "generator": "edge/model/synth_dataset.py"})


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--frames", type=int, default=64)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    make(a.out, a.frames, a.seed)
    print(f"synthetic dataset: {a.frames} frames -> {a.out}")


if __name__ == "__main__":
    main()
