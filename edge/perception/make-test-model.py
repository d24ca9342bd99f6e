"""Write a tiny valid fleetmap-seg ONNX model (+ its metadata JSON) for the perception tests.

Usage: /usr/bin/python3 make-test-model.py OUT_DIR
Input 'image' [1,3,128,256] float32 -> 2x2 average pool -> 1x1 conv (3 -> 10) -> softmax over
classes -> output 'probs' [1,10,64,128]. Deterministic weights (seeded); about 1 kB.
"""
import hashlib
import json
import os
import sys

try:
    import torch
except ImportError:
    sys.stderr.write("make-test-model.py: python package 'torch' (python3-torch) is missing for /usr/bin/python3\n")
    sys.exit(3)

CLASSES = ["background", "divider_solid", "divider_dashed", "boundary_curb", "boundary_border",
           "boundary_barrier", "stop_line", "crosswalk", "sign_base", "light_base"]


class Tiny(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.pool = torch.nn.AvgPool2d(2)
        self.conv = torch.nn.Conv2d(3, len(CLASSES), 1)

    def forward(self, image):
        return torch.softmax(self.conv(self.pool(image)), dim=1)


def main():
    out_dir = sys.argv[1]
    os.makedirs(out_dir, exist_ok=True)
    torch.manual_seed(7)
    model = Tiny().eval()
    onnx_path = os.path.join(out_dir, "fleetmap-seg.onnx")
    torch.onnx.export(model, torch.zeros(1, 3, 128, 256), onnx_path, input_names=["image"],
                      output_names=["probs"], opset_version=13)
    with open(onnx_path, "rb") as f:
        sha = hashlib.sha256(f.read()).hexdigest()
    meta = {
        "name": "fleetmap-seg-tiny-test",
        "version": "0.0.1-test",
        "sha256": sha,
        "opset": 13,
        "input": {"name": "image", "shape": [1, 3, 128, 256], "dtype": "float32", "layout": "NCHW RGB in [0, 1]"},
        "output": {"name": "probs", "shape": [1, 10, 64, 128], "dtype": "float32", "meaning": "softmax over classes"},
        "classes": CLASSES,
        "training": {"note": "untrained test model written by edge/perception/make-test-model.py"},
    }
    with open(os.path.join(out_dir, "fleetmap-seg.json"), "w") as f:
        json.dump(meta, f, indent=2)


if __name__ == "__main__":
    main()
