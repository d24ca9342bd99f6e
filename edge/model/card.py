"""Fill the measured section of MODEL_CARD.md from the exported metadata and the checks.

Rewrites the text between `<!-- measured:begin -->` and `<!-- measured:end -->` (the rest of the
card is prose kept by hand), so the card always states the figures of the committed model.

Usage: /usr/bin/python3 edge/model/card.py --metadata edge/model/fleetmap-seg.json
         [--ort out/model-train/ort.json] [--torch-bench out/model-train/torch-bench.json ...] [--pipeline-seconds S]

--torch-bench may be given once per thread count (torch_bench.py --threads N): on a 2-core
machine PyTorch with 2 threads can be 2-3x slower than with 1, so the card shows each.
"""
from __future__ import annotations

import argparse
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))
BEGIN, END = "<!-- measured:begin -->", "<!-- measured:end -->"


def fmt(v: float | None) -> str:
    return "–" if v is None else f"{v:.3f}"


def measured_section(meta: dict, ort: dict | None, benches: list[dict], pipeline_s: float | None) -> str:
    tr = meta["training"]
    arch = meta["architecture"]
    sets = tr.get("metrics", {}).get("sets", {})
    lines = [BEGIN, "", "### Model", "",
             "| | |", "|---|---|",
             f"| file | `edge/model/fleetmap-seg.onnx`, {meta['sizeBytes'] / 1024:.0f} KiB, opset {meta['opset']} |",
             f"| sha256 | `{meta['sha256']}` |",
             f"| parameters | {arch['params']:,} |",
             f"| compute | {arch['mmacs']} M multiply-accumulates = {arch['mflops']} MFLOPs per frame |"]
    if ort:
        lines.append(f"| onnxruntime-node, CPU, {ort['threads']} threads | {ort['msPerFrame']} ms per frame ({ort['ortFps']} fps, preprocessing included) |")
    for bench in benches:
        n = bench['threads']
        lines.append(f"| PyTorch eager, {n} thread{'s' if n != 1 else ''} | {bench['msPerFrame']} ms per frame ({bench['torchFps']} fps) |")
    cfg = tr.get("config", {})
    lines += [f"| training | {tr.get('trainFrames')} frames, {tr.get('steps')} steps of batch {cfg.get('batchSize')}, "
              f"{len(tr.get('history', []))} epochs, {tr.get('wallS', 0) / 60:.1f} min wall on {cfg.get('threads')} CPU threads |"]
    if pipeline_s is not None:
        lines.append(f"| whole reproduction (`npm run train`) | {pipeline_s / 60:.1f} min wall, data generation included |")
    if sets:
        names = list(sets)
        classes = meta["classes"]
        lines += ["", "### Pixel IoU on held-out data", "",
                  "| class | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
        for c in classes:
            lines.append(f"| {c} | " + " | ".join(fmt(sets[n]["iou"].get(c)) for n in names) + " |")
        lines.append("| **mIoU (map classes 1..9)** | " + " | ".join(f"**{fmt(sets[n]['mIoU'])}**" for n in names) + " |")
        lines.append("| pixel accuracy | " + " | ".join(fmt(sets[n]["pixelAccuracy"]) for n in names) + " |")
        lines.append("| frames | " + " | ".join(str(sets[n]["frames"]) for n in names) + " |")
        lines += ["", "Held-out sets: " + "; ".join(
            f"`{n}` = {sets[n]['dataset'].get('path')} ({json.dumps({k: v for k, v in sets[n]['dataset'].items() if k not in ('path',)})})" for n in names)]
    if ort:
        lines += ["", f"onnxruntime-node on `{ort.get('data', '?')}` ({ort['frames']} frames): pixel accuracy {ort['pixelAccuracy']}, "
                  f"mIoU {ort['mIoU']} (on these frames only; compare with the PyTorch evaluation of the same set above)."]
    lines += ["", END]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description="Fill MODEL_CARD.md's measured section")
    ap.add_argument("--metadata", default=os.path.join(HERE, "fleetmap-seg.json"))
    ap.add_argument("--card", default=os.path.join(HERE, "MODEL_CARD.md"))
    ap.add_argument("--ort")
    ap.add_argument("--torch-bench", action="append", default=[])
    ap.add_argument("--pipeline-seconds", type=float)
    a = ap.parse_args()
    load = lambda p: json.load(open(p, encoding="utf-8")) if p else None  # noqa: E731
    section = measured_section(load(a.metadata), load(a.ort), [b for b in (load(p) for p in a.torch_bench) if b], a.pipeline_seconds)
    with open(a.card, encoding="utf-8") as f:
        text = f.read()
    if BEGIN not in text or END not in text:
        raise ValueError(f"{a.card}: markers {BEGIN} / {END} not found")
    head, rest = text.split(BEGIN, 1)
    tail = rest.split(END, 1)[1]
    with open(a.card, "w", encoding="utf-8") as f:
        f.write(head + section + tail)
    print(f"[card] {a.card} updated")


if __name__ == "__main__":
    main()
