"""PyTorch eager inference speed (batch 1, 2 threads by default) on frames of a dataset.

Times preprocessing (uint8 HWC -> float CHW in [0, 1]) plus the forward pass with softmax, frame
by frame, after a warm-up; the edge benchmark compares onnxruntime-node against it.
Prints one JSON line {torchFps, frames, threads, msPerFrame}.

Usage: /usr/bin/python3 edge/model/torch_bench.py --data DIR [--frames 200] [--checkpoint FILE] [--threads 2]
"""
from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np
import torch

from dataset import load_dataset
from evaluate import to_input
from model import FleetSegNet, count_params


def main() -> None:
    ap = argparse.ArgumentParser(description="PyTorch eager fps of FleetSegNet")
    ap.add_argument("--data", required=True)
    ap.add_argument("--frames", type=int, default=200)
    ap.add_argument("--checkpoint", help="weights (random weights time the same)")
    ap.add_argument("--metadata", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "fleetmap-seg.json"),
                    help="without --checkpoint: the exported model's metadata (default: the committed model's), whose architecture.args build the same network")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--warmup", type=int, default=10)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    if a.checkpoint:
        from export import load_checkpoint
        model, _ = load_checkpoint(a.checkpoint)
    else:
        with open(a.metadata, encoding="utf-8") as f:
            model = FleetSegNet(**json.load(f)["architecture"]["args"]).eval()
    ds = load_dataset(a.data)
    n = min(a.frames, ds.count)
    frames = np.asarray(ds.images[:n])
    with torch.inference_mode():
        for i in range(a.warmup):
            model(to_input(frames[i % n:i % n + 1]))
        t0 = time.perf_counter()
        for i in range(n):
            model(to_input(frames[i:i + 1]))
        dt = time.perf_counter() - t0
    print(json.dumps({"torchFps": round(n / dt, 1), "frames": n, "threads": a.threads, "msPerFrame": round(1000 * dt / n, 3), "params": count_params(model)}))


if __name__ == "__main__":
    main()
