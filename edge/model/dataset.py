"""Read and write perception datasets (docs/PERCEPTION.md section 3).

A dataset is a directory with meta.json, images.u8 (N x 128 x 256 x 3 RGB), labels.u8
(N x 64 x 128 class ids, 255 = ignore) and frames.jsonl. Readers memory-map the two arrays, so a
dataset larger than memory can still be sampled.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass

import numpy as np

SCHEMA_VERSION = 1
CLASSES = [
    "background", "divider_solid", "divider_dashed", "boundary_curb", "boundary_border",
    "boundary_barrier", "stop_line", "crosswalk", "sign_base", "light_base",
]
NUM_CLASSES = len(CLASSES)
IGNORE = 255
IMAGE_H, IMAGE_W = 128, 256
LABEL_H, LABEL_W = 64, 128


@dataclass
class Dataset:
    path: str
    meta: dict
    images: np.ndarray  # uint8 [N, 128, 256, 3]
    labels: np.ndarray  # uint8 [N, 64, 128]

    @property
    def count(self) -> int:
        return int(self.images.shape[0])

    def summary(self) -> dict:
        """What the model metadata records about the data that made it."""
        keys = ("split", "maps", "conditions", "area", "seed", "generator")
        return {"path": self.path, "count": self.count, **{k: self.meta[k] for k in keys if k in self.meta}}


def load_dataset(path: str) -> Dataset:
    """Open a dataset directory; raises ValueError naming the file and the bad field."""
    meta_path = os.path.join(path, "meta.json")
    with open(meta_path, encoding="utf-8") as f:
        meta = json.load(f)
    problems = []
    if meta.get("schemaVersion") != SCHEMA_VERSION:
        problems.append(f"schemaVersion must be {SCHEMA_VERSION}, got {meta.get('schemaVersion')!r}")
    expect = {"imageWidthPx": IMAGE_W, "imageHeightPx": IMAGE_H, "labelWidthPx": LABEL_W, "labelHeightPx": LABEL_H}
    for key, want in expect.items():
        if meta.get(key) != want:
            problems.append(f"{key} must be {want}, got {meta.get(key)!r}")
    if "classes" in meta and list(meta["classes"]) != CLASSES:
        problems.append(f"classes must be {CLASSES}, got {meta['classes']!r}")
    count = meta.get("count")
    if not (isinstance(count, int) and count > 0):
        problems.append(f"count must be a positive integer, got {count!r}")
    if problems:
        raise ValueError(f"dataset {meta_path}: " + "; ".join(problems))
    img_path = os.path.join(path, "images.u8")
    lab_path = os.path.join(path, "labels.u8")
    for p, per in ((img_path, IMAGE_H * IMAGE_W * 3), (lab_path, LABEL_H * LABEL_W)):
        size = os.path.getsize(p)
        if size != count * per:
            raise ValueError(f"dataset {p}: {size} bytes, expected count {count} x {per} = {count * per}")
    images = np.memmap(img_path, dtype=np.uint8, mode="r", shape=(count, IMAGE_H, IMAGE_W, 3))
    labels = np.memmap(lab_path, dtype=np.uint8, mode="r", shape=(count, LABEL_H, LABEL_W))
    return Dataset(path=path, meta=meta, images=images, labels=labels)


def write_dataset(path: str, images: np.ndarray, labels: np.ndarray, frames: list[dict], meta_extra: dict) -> None:
    """Write a dataset directory (used by the synthetic generator and tests)."""
    assert images.dtype == np.uint8 and images.shape[1:] == (IMAGE_H, IMAGE_W, 3), images.shape
    assert labels.dtype == np.uint8 and labels.shape[1:] == (LABEL_H, LABEL_W), labels.shape
    assert images.shape[0] == labels.shape[0] == len(frames)
    os.makedirs(path, exist_ok=True)
    meta = {
        "schemaVersion": SCHEMA_VERSION, "count": int(images.shape[0]),
        "imageWidthPx": IMAGE_W, "imageHeightPx": IMAGE_H, "labelWidthPx": LABEL_W, "labelHeightPx": LABEL_H,
        "classes": CLASSES, **meta_extra,
    }
    images.tofile(os.path.join(path, "images.u8"))
    labels.tofile(os.path.join(path, "labels.u8"))
    with open(os.path.join(path, "frames.jsonl"), "w", encoding="utf-8") as f:
        for fr in frames:
            f.write(json.dumps(fr) + "\n")
    with open(os.path.join(path, "meta.json"), "w", encoding="utf-8") as f:
        json.dump(meta, f, indent=2)


def class_histogram(labels: np.ndarray, sample: int = 2000, seed: int = 0) -> np.ndarray:
    """Pixel counts per class (ignore excluded) over up to `sample` frames."""
    n = labels.shape[0]
    idx = np.random.default_rng(seed).choice(n, size=min(n, sample), replace=False)
    idx.sort()
    hist = np.zeros(NUM_CLASSES, dtype=np.int64)
    for start in range(0, len(idx), 256):
        chunk = np.asarray(labels[idx[start:start + 256]])
        hist += np.bincount(chunk.ravel(), minlength=256)[:NUM_CLASSES]
    return hist
