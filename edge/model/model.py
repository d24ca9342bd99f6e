"""FleetSegNet: a compact segmentation network for the front camera.

Input [N, 3, 128, 256] float RGB in [0, 1]; output [N, 10, 64, 128] class probabilities (softmax)
at stride 2 (PERCEPTION.md section 4). Encoder: a strided 3x3 conv, then depthwise-separable
blocks down to stride 16 (two of them dilated for context). Decoder (`decoder` channels): upsample
and add the stride-8 and stride-4 features, reduce to width[0] channels, upsample to stride 2 and concatenate the
stride-2 stem features (thin paint lines live there), a depthwise-separable block and a 1x1 classifier.
BatchNorm is folded into the convolutions by the ONNX export (eval mode, constant folding).

`python3 edge/model/model.py` prints the parameter count and MACs / FLOPs.
"""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

NUM_CLASSES = 10
INPUT_SHAPE = (1, 3, 128, 256)


def conv_bn(cin: int, cout: int, k: int = 3, stride: int = 1, groups: int = 1, dilation: int = 1, relu: bool = True) -> nn.Sequential:
    pad = dilation * (k // 2)
    layers: list[nn.Module] = [nn.Conv2d(cin, cout, k, stride, pad, dilation=dilation, groups=groups, bias=False), nn.BatchNorm2d(cout)]
    if relu:
        layers.append(nn.ReLU(inplace=True))
    return nn.Sequential(*layers)


class DSBlock(nn.Module):
    """Depthwise 3x3 + pointwise 1x1 (each BN + ReLU); residual when the shape is kept."""

    def __init__(self, cin: int, cout: int, stride: int = 1, dilation: int = 1):
        super().__init__()
        self.dw = conv_bn(cin, cin, 3, stride, groups=cin, dilation=dilation)
        self.pw = conv_bn(cin, cout, 1, relu=False)
        self.residual = stride == 1 and cin == cout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.pw(self.dw(x))
        return F.relu(y + x if self.residual else y)


class FleetSegNet(nn.Module):
    # The architecture has one home, edge/model/train-config.json "model" (width, decoder, head);
    # the export writes the arguments into the metadata as architecture.args, from which
    # torch_bench.py rebuilds the network.
    def __init__(self, width: tuple[int, int, int, int, int], decoder: int, head: int, num_classes: int = NUM_CLASSES):
        super().__init__()
        c1, c2, c3, c4, c5 = width
        # Constructor arguments, saved with a checkpoint and written into the export's metadata.
        self.args = {"width": [int(c) for c in width], "decoder": int(decoder), "head": int(head)}
        self.stem = conv_bn(3, c1, 3, 2)                                     # /2
        self.s4 = nn.Sequential(DSBlock(c1, c2, 2), DSBlock(c2, c2))       # /4
        self.s8 = nn.Sequential(DSBlock(c2, c3, 2), DSBlock(c3, c3))          # /8
        self.s16 = nn.Sequential(DSBlock(c3, c4, 2), DSBlock(c4, c4), DSBlock(c4, c5, dilation=2), DSBlock(c5, c5, dilation=4))  # /16
        d = decoder
        self.lat16 = conv_bn(c5, d, 1)
        self.lat8 = conv_bn(c3, d, 1)
        self.lat4 = conv_bn(c2, d, 1)
        self.fuse8 = DSBlock(d, d)
        self.fuse4 = DSBlock(d, d)
        self.reduce4 = conv_bn(d, c1, 1)
        self.head = nn.Sequential(DSBlock(2 * c1, head), nn.Conv2d(head, num_classes, 1))

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        f2 = self.stem(x)
        f4 = self.s4(f2)
        f8 = self.s8(f4)
        f16 = self.s16(f8)
        y = F.interpolate(self.lat16(f16), scale_factor=2.0, mode="bilinear", align_corners=False) + self.lat8(f8)
        y = self.fuse8(y)
        y = F.interpolate(y, scale_factor=2.0, mode="bilinear", align_corners=False) + self.lat4(f4)
        y = self.reduce4(self.fuse4(y))
        y = F.interpolate(y, scale_factor=2.0, mode="bilinear", align_corners=False)
        return self.head(torch.cat([y, f2], dim=1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Probabilities (softmax over classes): the deployed contract.

        Written out (max, exp, sum) rather than torch.softmax: onnxruntime's Softmax over the channel
        axis of NCHW transposes internally and took 41% of the model's CPU time; this form runs the
        model in about two thirds of the time, probabilities within 3e-7 of it.
        """
        logits = self.logits(x)
        e = torch.exp(logits - logits.amax(dim=1, keepdim=True))
        return e / e.sum(dim=1, keepdim=True)


def count_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def count_macs(model: nn.Module, shape: tuple[int, ...] = INPUT_SHAPE) -> int:
    """Multiply-accumulates of the convolutions (BN folds away; ReLU/add/resize not counted)."""
    macs = 0

    def hook(mod: nn.Conv2d, _inp, out: torch.Tensor) -> None:
        nonlocal macs
        k = mod.kernel_size[0] * mod.kernel_size[1] * (mod.in_channels // mod.groups)
        macs += out.numel() * k

    handles = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, nn.Conv2d)]
    was_training = model.training
    model.eval()
    with torch.no_grad():
        model(torch.zeros(shape))
    model.train(was_training)
    for h in handles:
        h.remove()
    return macs


def describe(model: nn.Module) -> dict:
    macs = count_macs(model)
    return {"params": count_params(model), "mmacs": round(macs / 1e6, 2), "mflops": round(2 * macs / 1e6, 2)}


if __name__ == "__main__":
    import json
    import os
    with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "train-config.json"), encoding="utf-8") as f:
        print(json.dumps(describe(FleetSegNet(**json.load(f)["model"]))))
