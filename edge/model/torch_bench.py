"""PyTorch eager inference speed (batch 1, 2 threads by default) on frames of a dataset.

Times preprocessing (uint8 HWC -> float CHW in [0, 1]) plus the forward pass with softmax, frame
by frame, after a warm-up, in --repeats passes over the frames of which the fastest counts (on
the 2-core AMD EPYC machine of 2026-12-02 one pass ran anywhere from 30 to 87 fps from one
benchmark run to the next); the edge benchmark compares onnxruntime-node against it.
Prints one JSON line {weights, torchFps, frames, threads, msPerFrame, fpsByPass, params}.

Usage: /usr/bin/python3 edge/model/torch_bench.py --data DIR [--frames 200] [--checkpoint FILE | --onnx FILE] [--threads 2]

Weights: a training checkpoint, or the exported model's own (`--onnx`, onnx_weights.py), or
random ones of the metadata's architecture (they time the same: 27.5-29.4 against 27.8-30.6 ms a
frame, three alternating runs on one thread, 2026-12-02).
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
    ap.add_argument("--checkpoint", help="weights of a training checkpoint")
    ap.add_argument("--onnx", help="the exported model whose weights to run (its --metadata gives the architecture)")
    ap.add_argument("--metadata", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "fleetmap-seg.json"),
                    help="without --checkpoint: the exported model's metadata (default: the committed model's), whose architecture.args build the same network")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--warmup", type=int, default=10)
    ap.add_argument("--repeats", type=int, default=3, help="passes over the frames; the fastest counts (PyTorch's timing swings between runs)")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    if a.checkpoint:
        from export import load_checkpoint
        model, _ = load_checkpoint(a.checkpoint)
    elif a.onnx:
        from onnx_weights import network_of
        model = network_of(a.onnx, a.metadata)
    else:
        with open(a.metadata, encoding="utf-8") as f:
            model = FleetSegNet(**json.load(f)["architecture"]["args"]).eval()
    ds = load_dataset(a.data)
    n = min(a.frames, ds.count)
    frames = np.asarray(ds.images[:n])
    passes: list[float] = []
    with torch.inference_mode():
        for i in range(a.warmup):
            model(to_input(frames[i % n:i % n + 1]))
        for _ in range(a.repeats):
            t0 = time.perf_counter()
            for i in range(n):
                model(to_input(frames[i:i + 1]))
            passes.append(time.perf_counter() - t0)
    dt = min(passes)
    print(json.dumps({"weights": "checkpoint" if a.checkpoint else "onnx" if a.onnx else "random", "torchFps": round(n / dt, 1), "frames": n, "threads": a.threads,
                      "msPerFrame": round(1000 * dt / n, 3), "fpsByPass": [round(n / p, 1) for p in passes], "params": count_params(model)}))


if __name__ == "__main__":
    main()
