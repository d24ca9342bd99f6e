"""Export a trained checkpoint to ONNX with its metadata (PERCEPTION.md section 4).

Writes OUT_DIR/fleetmap-seg.onnx (opset 17, input `image` [1, 3, 128, 256] float32 RGB in [0, 1],
output `probs` [1, 10, 64, 128] float32, softmax inside the graph, BatchNorm folded by constant
folding) and OUT_DIR/fleetmap-seg.json (name, version, sha256, opset, input/output spec, classes,
training record). Checks the graph with onnx.checker.

Usage: /usr/bin/python3 edge/model/export.py --checkpoint out/train/checkpoint.pt [--out-dir edge/model]
         [--metrics out/train/eval.json]
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os

import onnx
import torch

from dataset import CLASSES
from model import INPUT_SHAPE, NUM_CLASSES, FleetSegNet, describe

NAME = "fleetmap-seg"
VERSION = "1.4.0"
OPSET = 17
INPUT = {"name": "image", "shape": list(INPUT_SHAPE), "dtype": "float32", "layout": "NCHW RGB in [0, 1]"}
OUTPUT = {"name": "probs", "shape": [1, NUM_CLASSES, 64, 128], "dtype": "float32", "meaning": "softmax over classes"}


def load_checkpoint(path: str) -> tuple[FleetSegNet, dict]:
    ckpt = torch.load(path, map_location="cpu")
    args = ckpt.get("modelArgs", {})
    if set(args) != {"width", "decoder", "head"}:
        raise ValueError(f"{path}: checkpoint names no full architecture (modelArgs {sorted(args)}; train.py writes width, decoder, head)")
    model = FleetSegNet(**args)
    model.load_state_dict(ckpt["state"])
    model.eval()
    return model, ckpt


def sha256_of(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def export(checkpoint: str, out_dir: str, metrics: dict | None = None) -> dict:
    model, ckpt = load_checkpoint(checkpoint)
    os.makedirs(out_dir, exist_ok=True)
    onnx_path = os.path.join(out_dir, f"{NAME}.onnx")
    torch.onnx.export(
        model, torch.zeros(INPUT_SHAPE), onnx_path, opset_version=OPSET, do_constant_folding=True,
        input_names=[INPUT["name"]], output_names=[OUTPUT["name"]], training=torch.onnx.TrainingMode.EVAL,
    )
    graph = onnx.load(onnx_path)
    onnx.checker.check_model(graph)
    ops = sorted({n.op_type for n in graph.graph.node})
    if "BatchNormalization" in ops:
        raise RuntimeError(f"{onnx_path}: BatchNormalization was not folded (ops: {ops})")
    shapes = {
        v.name: [d.dim_value for d in v.type.tensor_type.shape.dim] for v in list(graph.graph.input) + list(graph.graph.output)
    }
    if shapes.get(INPUT["name"]) != INPUT["shape"] or shapes.get(OUTPUT["name"]) != OUTPUT["shape"]:
        raise RuntimeError(f"{onnx_path}: graph inputs/outputs {shapes} differ from the contract")
    meta = {
        "name": NAME,
        "version": VERSION,
        "sha256": sha256_of(onnx_path),
        "sizeBytes": os.path.getsize(onnx_path),
        "opset": OPSET,
        "input": INPUT,
        "output": OUTPUT,
        "classes": CLASSES,
        "architecture": {"name": "FleetSegNet", "args": model.args, **describe(model), "onnxOps": ops},
        "training": {**ckpt.get("training", {}), **({"metrics": metrics} if metrics is not None else {})},
    }
    with open(os.path.join(out_dir, f"{NAME}.json"), "w", encoding="utf-8") as f:
        json.dump(meta, f, indent=2)
        f.write("\n")
    return meta


def main() -> None:
    ap = argparse.ArgumentParser(description="Export a FleetSegNet checkpoint to ONNX + metadata")
    ap.add_argument("--checkpoint", required=True)
    ap.add_argument("--out-dir", default=os.path.dirname(os.path.abspath(__file__)))
    ap.add_argument("--metrics", help="evaluate.py JSON to record in the metadata")
    a = ap.parse_args()
    metrics = None
    if a.metrics:
        with open(a.metrics, encoding="utf-8") as f:
            metrics = json.load(f)
    meta = export(a.checkpoint, a.out_dir, metrics)
    print(json.dumps({"event": "exported", "dir": a.out_dir, "sha256": meta["sha256"], "sizeBytes": meta["sizeBytes"], **meta["architecture"]}))


if __name__ == "__main__":
    main()
