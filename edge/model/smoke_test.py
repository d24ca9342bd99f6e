"""End-to-end smoke run of the training pipeline on a tiny synthetic dataset.

Writes a 24-frame synthetic dataset into OUT_DIR/data, trains 2 steps, exports to OUT_DIR/export
and prints one JSON line {onnx, metadata, steps, data}. Used by edge/model/smoke.test.ts, which then
loads the ONNX in onnxruntime-node.

Usage: /usr/bin/python3 edge/model/smoke_test.py --out-dir DIR
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out-dir", required=True)
    a = ap.parse_args()
    data = os.path.join(a.out_dir, "data")
    train_dir = os.path.join(a.out_dir, "train")
    export_dir = os.path.join(a.out_dir, "export")
    py = sys.executable
    subprocess.run([py, os.path.join(HERE, "synth_dataset.py"), "--out", data, "--frames", "24", "--seed", "7"], check=True, stdout=subprocess.DEVNULL)
    override = {"trainDirs": [data], "valDir": data, "valFrames": 8, "outDir": train_dir, "epochs": 1, "batchSize": 8,
                "maxSteps": 2, "maxWallMinutes": None, "logEverySeconds": 3600,
                # A small network of its own (not the committed architecture): the export's
                # architecture.args must carry it, and torch_bench.py --metadata must rebuild it.
                "model": {"width": [8, 16, 24, 32, 40], "decoder": 16, "head": 8}}
    subprocess.run([py, os.path.join(HERE, "train.py"), "--override", json.dumps(override)], check=True, stdout=subprocess.DEVNULL)
    subprocess.run([py, os.path.join(HERE, "export.py"), "--checkpoint", os.path.join(train_dir, "checkpoint.pt"), "--out-dir", export_dir],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    with open(os.path.join(export_dir, "fleetmap-seg.json"), encoding="utf-8") as f:
        meta = json.load(f)
    print(json.dumps({"onnx": os.path.join(export_dir, "fleetmap-seg.onnx"), "metadata": os.path.join(export_dir, "fleetmap-seg.json"),
                      "steps": meta["training"]["steps"], "data": data}))


if __name__ == "__main__":
    main()
