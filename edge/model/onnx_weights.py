"""The committed ONNX model's weights in the PyTorch network (for PyTorch eager timing).

The export folds each BatchNorm into the convolution before it (eval mode, constant folding), so
the ONNX graph holds one Conv per torch Conv2d, in the order the forward pass calls them. This
loads each Conv's weight (and bias) into the torch Conv2d called in the same place and turns its
BatchNorm into the identity plus that bias (weight 1, running mean 0, running var 1 - eps), so
the torch network computes what the ONNX model computes (`load_onnx_weights` checks shapes;
edge/model/onnx-weights.test.ts checks the outputs against onnxruntime-node).
"""
from __future__ import annotations

import json

import onnx
import torch
import torch.nn as nn
from onnx import numpy_helper

from model import INPUT_SHAPE, FleetSegNet


def convs_in_call_order(model: nn.Module) -> list[nn.Conv2d]:
    order: list[nn.Conv2d] = []
    handles = [m.register_forward_hook(lambda mod, _i, _o: order.append(mod)) for m in model.modules() if isinstance(m, nn.Conv2d)]
    with torch.inference_mode():
        model(torch.zeros(INPUT_SHAPE))
    for h in handles:
        h.remove()
    return order


def batchnorm_after(model: nn.Module) -> dict[int, nn.BatchNorm2d]:
    """Conv2d (by id) -> the BatchNorm2d right after it in its Sequential."""
    out: dict[int, nn.BatchNorm2d] = {}
    for seq in model.modules():
        if isinstance(seq, nn.Sequential):
            mods = list(seq)
            for a, b in zip(mods, mods[1:]):
                if isinstance(a, nn.Conv2d) and isinstance(b, nn.BatchNorm2d):
                    out[id(a)] = b
    return out


def load_onnx_weights(model: FleetSegNet, onnx_path: str) -> FleetSegNet:
    g = onnx.load(onnx_path).graph
    inits = {t.name: numpy_helper.to_array(t) for t in g.initializer}
    onnx_convs = [n for n in g.node if n.op_type == "Conv"]
    model.eval()
    convs = convs_in_call_order(model)
    if len(convs) != len(onnx_convs):
        raise ValueError(f"{onnx_path}: {len(onnx_convs)} Conv nodes, the network calls {len(convs)} convolutions")
    bns = batchnorm_after(model)
    with torch.no_grad():
        for i, (conv, node) in enumerate(zip(convs, onnx_convs)):
            w = torch.from_numpy(inits[node.input[1]].copy())
            if tuple(w.shape) != tuple(conv.weight.shape):
                raise ValueError(f"{onnx_path}: Conv {i} weight {tuple(w.shape)}, the network's {tuple(conv.weight.shape)}")
            conv.weight.copy_(w)
            b = torch.from_numpy(inits[node.input[2]].copy()) if len(node.input) > 2 and node.input[2] else torch.zeros(w.shape[0])
            bn = bns.get(id(conv))
            if conv.bias is not None:
                conv.bias.copy_(b)
            elif bn is not None:
                bn.weight.fill_(1.0)
                bn.bias.copy_(b)
                bn.running_mean.zero_()
                bn.running_var.fill_(1.0 - bn.eps)
            elif b.abs().max() > 0:
                raise ValueError(f"{onnx_path}: Conv {i} has a bias the network has no place for")
    return model


def network_of(onnx_path: str, metadata_path: str) -> FleetSegNet:
    """The exported model as a PyTorch network: its metadata's architecture, the ONNX weights."""
    with open(metadata_path, encoding="utf-8") as f:
        args = json.load(f)["architecture"]["args"]
    return load_onnx_weights(FleetSegNet(**args), onnx_path)


def main() -> None:
    """Runs the network with the ONNX weights on one raw float32 input [1, 3, 128, 256] and
    writes its probabilities, raw float32 [1, 10, 64, 128] (for the comparison with onnxruntime)."""
    import argparse

    import numpy as np

    ap = argparse.ArgumentParser(description="the exported model's weights in PyTorch, run once")
    ap.add_argument("--onnx", required=True)
    ap.add_argument("--metadata", required=True)
    ap.add_argument("--input", required=True, help="raw float32, NCHW [1, 3, 128, 256]")
    ap.add_argument("--output", required=True, help="raw float32 probabilities [1, 10, 64, 128]")
    a = ap.parse_args()
    model = network_of(a.onnx, a.metadata)
    x = torch.from_numpy(np.fromfile(a.input, dtype=np.float32).reshape(INPUT_SHAPE))
    with torch.inference_mode():
        model(x).numpy().astype(np.float32).tofile(a.output)


if __name__ == "__main__":
    main()
