"""Per-class pixel IoU of a checkpoint on one or more datasets.

Each dataset is reported separately (e.g. held-out area, held-out seeds, held-out conditions).
IoU of class c = TP / (TP + FP + FN) over all labelled pixels (255 = ignore excluded); a class
without labelled pixels in a set has IoU null (its false positives are counted separately). `mIoU` averages the non-null IoUs of
the nine map classes (background excluded); `mIoUAll` includes background.

Usage: /usr/bin/python3 edge/model/evaluate.py --checkpoint out/train/checkpoint.pt
         --data holdout_area=DIR [holdout_seeds=DIR ...] [--out eval.json] [--threads 2]
"""
from __future__ import annotations

import argparse
import json
import time

import numpy as np
import torch

from dataset import CLASSES, IGNORE, NUM_CLASSES, Dataset, load_dataset


def to_input(images_u8: np.ndarray) -> torch.Tensor:
    """uint8 [N, H, W, 3] RGB -> float32 [N, 3, H, W] in [0, 1] (the deployed preprocessing)."""
    return torch.from_numpy(np.array(images_u8, copy=True)).permute(0, 3, 1, 2).float().div_(255.0)


@torch.no_grad()
def confusion(model: torch.nn.Module, ds: Dataset, batch: int = 64, limit: int | None = None) -> np.ndarray:
    """Confusion matrix [true, predicted] over labelled pixels."""
    model.eval()
    n = ds.count if limit is None else min(limit, ds.count)
    conf = np.zeros((NUM_CLASSES, NUM_CLASSES), dtype=np.int64)
    for s in range(0, n, batch):
        pred = model.logits(to_input(ds.images[s:s + batch])).argmax(1).numpy().astype(np.int64)
        lab = np.asarray(ds.labels[s:s + batch]).astype(np.int64)
        keep = lab != IGNORE
        conf += np.bincount(lab[keep] * NUM_CLASSES + pred[keep], minlength=NUM_CLASSES * NUM_CLASSES).reshape(NUM_CLASSES, NUM_CLASSES)
    return conf


def iou_report(conf: np.ndarray) -> dict:
    tp = np.diag(conf).astype(np.float64)
    labelled = conf.sum(1)
    union = conf.sum(0) + labelled - tp
    iou = [float(round(tp[c] / union[c], 4)) if labelled[c] > 0 else None for c in range(NUM_CLASSES)]
    fg = [v for v in iou[1:] if v is not None]
    every = [v for v in iou if v is not None]
    return {
        "iou": dict(zip(CLASSES, iou)),
        "mIoU": round(float(np.mean(fg)), 4) if fg else None,
        "mIoUAll": round(float(np.mean(every)), 4) if every else None,
        "pixelAccuracy": round(float(tp.sum() / max(1, conf.sum())), 4),
        "labelledPixels": {c: int(v) for c, v in zip(CLASSES, labelled)},
        # pixels predicted as a class the set has no labels of (their IoU is null, not 0)
        "falsePositivesOfAbsentClasses": {c: int(conf[:, i].sum()) for i, c in enumerate(CLASSES) if labelled[i] == 0},
    }


def evaluate(model: torch.nn.Module, sets: dict[str, str], limit: int | None = None) -> dict:
    out = {}
    for name, path in sets.items():
        ds = load_dataset(path)
        t0 = time.time()
        rep = iou_report(confusion(model, ds, limit=limit))
        out[name] = {"dataset": ds.summary(), "frames": min(ds.count, limit or ds.count), **rep, "wallS": round(time.time() - t0, 1)}
    return out


def main() -> None:
    from export import load_checkpoint

    ap = argparse.ArgumentParser(description="Per-class pixel IoU of a FleetSegNet checkpoint")
    ap.add_argument("--checkpoint", required=True)
    ap.add_argument("--data", nargs="+", required=True, help="NAME=DIR (or DIR, named by its folder)")
    ap.add_argument("--out", help="write the JSON report here")
    ap.add_argument("--limit", type=int, help="at most this many frames per dataset")
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    model, _ = load_checkpoint(a.checkpoint)
    sets = {}
    for item in a.data:
        name, _, path = item.partition("=") if "=" in item else (item.rstrip("/").split("/")[-1], "", item)
        sets[name] = path
    report = {"checkpoint": a.checkpoint, "sets": evaluate(model, sets, a.limit)}
    text = json.dumps(report, indent=2)
    if a.out:
        with open(a.out, "w", encoding="utf-8") as f:
            f.write(text + "\n")
    for name, r in report["sets"].items():
        cls = " ".join(f"{c}={'-' if v is None else f'{v:.3f}'}" for c, v in r["iou"].items())
        print(f"[evaluate] {name}: frames={r['frames']} mIoU={r['mIoU']} {cls}")


if __name__ == "__main__":
    main()
