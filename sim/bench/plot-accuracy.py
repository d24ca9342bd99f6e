"""Plot out/bench/accuracy.json (sim/bench/accuracy.bench.ts): per map, absolute mAP@0.5 and
relative mAP@0.2 against drives per road, lateral p50 against the realised floor.
usage: plot-accuracy.py accuracy.json out.png"""
import json
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import matplotlib.ticker  # noqa: E402


def main(src: str, dst: str) -> None:
    with open(src) as f:
        report = json.load(f)
    maps = report["figures"]["maps"] if "figures" in report else report["maps"]
    fig, axes = plt.subplots(1, 3, figsize=(16, 5))
    for m in maps:
        drives = [p["drives"] for p in m["curve"]]
        style = "-" if m["split"] == "validation" else "--"
        label = f'{m["name"]} ({m["split"]})'
        axes[0].plot(drives, [p["mAP"]["0.5"] or 0 for p in m["curve"]], style, marker="o", label=label)
        axes[1].plot(drives, [(p["relative"] or {}).get("mAP", {}).get("0.2") or 0 for p in m["curve"]], style, marker="o", label=label)
        line = axes[2].plot(drives, [p["lateralErrorCm"]["p50"] for p in m["curve"]], style, marker="o", label=label)
        axes[2].plot(drives, [p["floorCm"] for p in m["curve"]], ":", color=line[0].get_color())
    axes[0].set_title("absolute mAP@0.5 m")
    axes[1].set_title("relative mAP@0.2 m (one offset per 100 m patch)")
    axes[2].set_title("absolute lateral p50, cm (dotted: realised floor)")
    ladder = sorted({p["drives"] for m in maps for p in m["curve"]})
    for ax in axes:
        ax.set_xscale("log")
        ax.set_xticks(ladder)
        ax.xaxis.set_major_formatter(matplotlib.ticker.ScalarFormatter())
        ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        ax.set_xlabel("drives per road")
        ax.grid(True, alpha=0.3)
    axes[0].legend(fontsize=7)
    fig.suptitle(f'fleetmap accuracy vs drives per road, perception: {report["figures"]["perception"] if "figures" in report else report["perception"]}', fontsize=9)
    fig.tight_layout()
    fig.savefig(dst, dpi=90)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
