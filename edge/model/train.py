"""Train FleetSegNet; everything is configured by one file (default edge/model/train-config.json).

Loss: class-weighted cross-entropy (255 ignored; ENet weights 1 / ln(c + class frequency) from the
training labels) plus an optional soft Dice term over the nine map classes. Augmentations on
whole batches: brightness, contrast, gamma, per-channel colour gain, Gaussian noise, horizontal
flip (the classes are left/right symmetric), small vertical shifts (even pixel counts, so the
stride-2 labels shift exactly; uncovered rows are ignored). AdamW with a linear warm-up and a
cosine decay; deterministic given `seed`. One log line per epoch (and every `logEverySeconds`)
with the ETA; the checkpoint (weights + the record the export copies into the model metadata)
is written after every epoch to OUT_DIR/checkpoint.pt.

Usage: /usr/bin/python3 edge/model/train.py [--config FILE] [--override '{"epochs": 1}']
"""
from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

from dataset import CLASSES, IGNORE, NUM_CLASSES, class_histogram, load_dataset
from evaluate import confusion, iou_report, to_input
from model import FleetSegNet, describe

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULTS = {
    "seed": 1, "threads": 2, "trainDirs": [], "valDir": None, "valFrames": 256, "outDir": "out/model-train",
    "model": {}, "epochs": 8, "batchSize": 32, "lr": 0.004, "weightDecay": 1e-4, "warmupSteps": 100,
    "maxSteps": None, "maxWallMinutes": None,
    "loss": {"classWeights": "enet", "enetC": 1.02, "diceWeight": 0.5},
    "augment": {"brightness": 0.3, "contrast": 0.3, "gamma": 0.3, "colour": 0.08, "noiseStd": 0.03, "hflip": 0.5, "vShiftPx": 6},
    "logEverySeconds": 60,
}


class TtyProgress:
    """One line on stderr, redrawn in place at most every 0.25 s: stage, step/total, rate, time left.
    Writes nothing unless stderr is a terminal, or with --quiet (as shared/progress.ts)."""

    def __init__(self, enabled: bool, min_interval_s: float = 0.25) -> None:
        self.enabled = enabled
        self.min_interval_s = min_interval_s
        self.last = 0.0
        self.drawn = False

    def update(self, stage: str, done: int, total: int, elapsed_s: float, unit: str, per_item: int = 1, force: bool = False) -> None:
        now = time.monotonic()
        if not self.enabled or (not force and now - self.last < self.min_interval_s):
            return
        self.last = now
        sys.stderr.write("\r\x1b[2K" + progress_line(stage, done, total, elapsed_s, unit, per_item))
        sys.stderr.flush()
        self.drawn = True

    def clear(self) -> None:
        if self.enabled and self.drawn:
            sys.stderr.write("\r\x1b[2K")
            sys.stderr.flush()
            self.drawn = False


def progress_line(stage: str, done: int, total: int, elapsed_s: float, unit: str, per_item: int = 1) -> str:
    """`stage  [####----]  done/total  pct%  rate unit/s  elapsed  left` (pure: tests and the TTY line)."""
    f = min(1.0, max(0.0, done / total)) if total > 0 else 0.0
    cells = int(f * 20)
    parts = [stage, "[" + "#" * cells + "-" * (20 - cells) + "]", f"{done}/{total}", f"{int(f * 100)}%"]
    if done > 0 and elapsed_s > 0:
        parts.append(f"{done * per_item / elapsed_s:.1f} {unit}/s")
        parts.append(f"elapsed {elapsed_s / 60:.1f} min")
        if done < total:
            parts.append(f"left {elapsed_s / done * (total - done) / 60:.1f} min")
    return "  ".join(parts)


PROGRESS = TtyProgress(False)


def log(msg: str) -> None:
    PROGRESS.clear()
    print(f"[train] {msg}", flush=True)


def load_config(path: str, override: str | None) -> dict:
    with open(path, encoding="utf-8") as f:
        cfg = json.load(f)
    if override:
        cfg.update(json.loads(override))
    unknown = sorted(set(cfg) - set(DEFAULTS))
    if unknown:
        raise ValueError(f"train config {path}: unknown keys {unknown} (known: {sorted(DEFAULTS)})")
    merged = {**DEFAULTS, **cfg}
    for key in ("loss", "augment"):
        merged[key] = {**DEFAULTS[key], **cfg.get(key, {})}
    if not merged["trainDirs"]:
        raise ValueError(f"train config {path}: trainDirs must list at least one dataset directory")
    model_keys = set(merged["model"])
    if model_keys != {"width", "decoder", "head"}:
        raise ValueError(f"train config {path}: model must give exactly decoder, head and width (the architecture's one home), got {sorted(model_keys)}")
    return merged


def augment(x: torch.Tensor, y: torch.Tensor, a: dict, g: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """x float [B, 3, 128, 256] in [0, 1], y long [B, 64, 128]; returns augmented copies."""
    b = x.shape[0]

    def u(lo: float, hi: float, *shape: int) -> torch.Tensor:
        return lo + (hi - lo) * torch.rand((b, *shape), generator=g)

    if a["brightness"] > 0:
        x = x * u(1 - a["brightness"], 1 + a["brightness"], 1, 1, 1)
    if a["contrast"] > 0:
        mean = x.mean(dim=(1, 2, 3), keepdim=True)
        x = (x - mean) * u(1 - a["contrast"], 1 + a["contrast"], 1, 1, 1) + mean
    if a["colour"] > 0:
        x = x * u(1 - a["colour"], 1 + a["colour"], 3, 1, 1)
    x = x.clamp(0, 1)
    if a["gamma"] > 0:
        x = x.pow(torch.exp(u(-a["gamma"], a["gamma"], 1, 1, 1)))
    if a["noiseStd"] > 0:
        x = x + torch.randn(x.shape, generator=g) * u(0, a["noiseStd"], 1, 1, 1)
    x = x.clamp(0, 1)
    if a["hflip"] > 0:
        flip = torch.rand(b, generator=g) < a["hflip"]
        x[flip] = x[flip].flip(-1)
        y[flip] = y[flip].flip(-1)
    if a["vShiftPx"] > 0:
        half = int(a["vShiftPx"]) // 2
        shifts = torch.randint(-half, half + 1, (b,), generator=g).tolist()
        for i, s in enumerate(shifts):  # s label rows = 2 s image rows; positive moves content down
            if s == 0:
                continue
            x[i] = x[i].roll(2 * s, dims=1)
            y[i] = y[i].roll(s, dims=0)
            if s > 0:
                x[i, :, : 2 * s] = x[i, :, 2 * s: 2 * s + 1]
                y[i, :s] = IGNORE
            else:
                x[i, :, 2 * s:] = x[i, :, 2 * s - 1: 2 * s]
                y[i, s:] = IGNORE
    return x, y


def dice_loss(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """1 - mean soft Dice over the map classes (1..9); ignored pixels excluded."""
    probs = torch.softmax(logits, 1)
    keep = (y != IGNORE).unsqueeze(1).float()
    onehot = F.one_hot(y.clamp(max=NUM_CLASSES - 1), NUM_CLASSES).permute(0, 3, 1, 2).float() * keep
    probs = probs * keep
    inter = (probs * onehot).sum(dim=(0, 2, 3))[1:]
    denom = (probs + onehot).sum(dim=(0, 2, 3))[1:]
    return 1 - ((2 * inter + 1) / (denom + 1)).mean()


def main() -> int | None:
    ap = argparse.ArgumentParser(description="Train FleetSegNet")
    ap.add_argument("--config", default=os.path.join(HERE, "train-config.json"))
    ap.add_argument("--override", help="JSON object merged over the config (tests, quick runs)")
    ap.add_argument("--quiet", action="store_true", help="no progress line (shown on stderr only when it is a terminal)")
    args = ap.parse_args()
    global PROGRESS
    PROGRESS = TtyProgress(sys.stderr.isatty() and not args.quiet)
    try:
        cfg = load_config(args.config, args.override)
    except (OSError, ValueError) as e:  # a missing or bad config: one line, exit 2 (usage)
        print(f"train.py: {e}", file=sys.stderr)
        return 2
    t_start = time.time()
    torch.set_num_threads(int(cfg["threads"]))
    torch.manual_seed(cfg["seed"])
    rng = np.random.default_rng(cfg["seed"])
    g = torch.Generator().manual_seed(cfg["seed"])

    sets = [load_dataset(d) for d in cfg["trainDirs"]]
    images = np.concatenate([np.asarray(s.images) for s in sets])
    labels = np.concatenate([np.asarray(s.labels) for s in sets])
    n = images.shape[0]
    hist = sum(class_histogram(s.labels, sample=4000, seed=cfg["seed"]) for s in sets)
    freq = hist / max(1, hist.sum())
    if cfg["loss"]["classWeights"] == "enet":
        weights = 1.0 / np.log(cfg["loss"]["enetC"] + freq)
    else:
        weights = np.ones(NUM_CLASSES)
    # Optional per-class multipliers on top (e.g. the tiny pole-foot classes), by class name.
    for name, k in cfg["loss"].get("classWeightBoost", {}).items():
        weights[CLASSES.index(name)] *= float(k)
    log(f"data: {n} frames from {cfg['trainDirs']} loaded in {time.time() - t_start:.1f} s; "
        f"class freq {dict(zip(CLASSES, np.round(freq, 5).tolist()))}; weights {np.round(weights, 2).tolist()}")
    val = load_dataset(cfg["valDir"]) if cfg["valDir"] else None

    model = FleetSegNet(**{k: (tuple(v) if k == "width" else int(v)) for k, v in cfg["model"].items()})
    arch = describe(model)
    log(f"model: {json.dumps(arch)}")
    model = model.to(memory_format=torch.channels_last)  # ~30 % faster on CPU
    opt = torch.optim.AdamW(model.parameters(), lr=cfg["lr"], weight_decay=cfg["weightDecay"])
    bs = int(cfg["batchSize"])
    steps_per_epoch = n // bs if n >= bs else 1
    total_steps = steps_per_epoch * int(cfg["epochs"])
    if cfg["maxSteps"] is not None:
        total_steps = min(total_steps, int(cfg["maxSteps"]))
    warm = max(1, min(int(cfg["warmupSteps"]), total_steps // 5 or 1))
    plan = {"total": total_steps, "epochs": int(cfg["epochs"])}  # shortened if maxWallMinutes would be exceeded

    def lr_factor(s: int) -> float:
        if s < warm:
            return (s + 1) / warm
        progress = min(1.0, (s - warm) / max(1, plan["total"] - warm))
        return 0.02 + 0.98 * 0.5 * (1 + math.cos(math.pi * progress))

    sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_factor)
    cw = torch.tensor(weights, dtype=torch.float32)
    dice_w = float(cfg["loss"]["diceWeight"])
    max_wall = cfg["maxWallMinutes"] * 60 if cfg["maxWallMinutes"] else None
    os.makedirs(cfg["outDir"], exist_ok=True)
    ckpt_path = os.path.join(cfg["outDir"], "checkpoint.pt")
    history: list[dict] = []
    step = 0
    t_train = time.time()
    last_log = t_train
    stopped = None
    stopped_note: dict = {}

    def save(record_extra: dict) -> None:
        training = {
            "config": cfg, "configFile": os.path.relpath(args.config), "datasets": [s.summary() for s in sets],
            "trainFrames": n, "classFrequency": dict(zip(CLASSES, freq.round(6).tolist())),
            "classWeights": dict(zip(CLASSES, weights.round(3).tolist())), "steps": step, "history": history,
            "torch": torch.__version__, **record_extra,
        }
        torch.save({"state": model.state_dict(), "modelArgs": model.args, "training": training}, ckpt_path)

    for epoch in range(int(cfg["epochs"])):
        if step >= plan["total"] or stopped or epoch >= plan["epochs"]:
            break
        model.train()
        order = rng.permutation(n)
        loss_sum, ce_sum, count = 0.0, 0.0, 0
        for bi in range(steps_per_epoch):
            if step >= plan["total"]:
                break
            idx = np.sort(order[bi * bs:(bi + 1) * bs])
            x = to_input(images[idx])
            y = torch.from_numpy(labels[idx].astype(np.int64))
            x, y = augment(x, y, cfg["augment"], g)
            logits = model.logits(x.contiguous(memory_format=torch.channels_last))
            ce = F.cross_entropy(logits, y, weight=cw, ignore_index=IGNORE)
            loss = ce + dice_w * dice_loss(logits, y) if dice_w > 0 else ce
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            step += 1
            loss_sum += float(loss)
            ce_sum += float(ce)
            count += 1
            now = time.time()
            elapsed = now - t_train
            PROGRESS.update(f"train: epoch {epoch + 1}/{plan['epochs']}", step, plan["total"], elapsed, "frames", bs, force=step >= plan["total"])
            if now - last_log >= cfg["logEverySeconds"]:
                last_log = now
                eta = elapsed / step * (plan["total"] - step)
                log(f"epoch {epoch + 1} step {step}/{plan['total']} loss {loss_sum / count:.4f} "
                    f"{step * bs / elapsed:.0f} frames/s elapsed {elapsed / 60:.1f} min eta {eta / 60:.1f} min")
            if max_wall and (now - t_start) > max_wall:
                stopped = f"maxWallMinutes {cfg['maxWallMinutes']} reached at step {step}"
                log(f"stopping: {stopped}")
                break
        entry = {"epoch": epoch + 1, "step": step, "loss": round(loss_sum / max(1, count), 4), "ce": round(ce_sum / max(1, count), 4),
                 "lr": round(sched.get_last_lr()[0], 6), "elapsedS": round(time.time() - t_train, 1)}
        if val is not None and cfg["valFrames"]:
            rep = iou_report(confusion(model, val, limit=int(cfg["valFrames"])))
            entry["valMIoU"] = rep["mIoU"]
        history.append(entry)
        elapsed = time.time() - t_train
        eta = elapsed / max(1, step) * (plan["total"] - step)
        log(f"epoch {epoch + 1}/{plan['epochs']} step {step}/{plan['total']} loss {entry['loss']:.4f} ce {entry['ce']:.4f} "
            f"val mIoU {entry.get('valMIoU')} elapsed {elapsed / 60:.1f} min eta {eta / 60:.1f} min")
        save({"wallS": round(time.time() - t_start, 1), "finished": False})
        if max_wall and cfg["maxSteps"] is None and not stopped:
            # Shorten the run (and its cosine schedule) when the planned epochs would not fit
            # (the 2 CPU cores are shared, so the speed is re-measured after every epoch).
            per_epoch = (time.time() - t_train) / (epoch + 1)
            fit = int((max_wall - (time.time() - t_start)) // per_epoch) + epoch + 1
            if fit < plan["epochs"]:
                plan["epochs"] = max(1, fit)
                plan["total"] = steps_per_epoch * plan["epochs"]
                stopped_note["shortened"] = f"epochs {cfg['epochs']} -> {plan['epochs']} to fit maxWallMinutes {cfg['maxWallMinutes']}"
                log(f"plan: {stopped_note['shortened']} ({per_epoch / 60:.1f} min per epoch)")

    wall = time.time() - t_start
    save({"wallS": round(wall, 1), "finished": True, "stopped": stopped, "epochsRun": len(history), **stopped_note, "architecture": arch})
    log(f"done: {step} steps in {wall / 60:.1f} min (wall, incl. data loading) -> {ckpt_path}")


if __name__ == "__main__":
    sys.exit(main())
