"""
scikit-learn's DBSCAN on the merge benchmark's sign / light points (sim/bench/merge.bench.ts).

stdin: JSON {"classes": {name: [[x, y], ...]}, "eps": [metres, ...], "minSamples": n, "runs": n}
stdout: JSON {name: [{"eps": m, "s": median seconds of fit + centroids, "centres": [[x, y], ...]}]}

Centres are each cluster's coordinate-wise mean (noise, label -1, dropped). Timing covers
DBSCAN(...).fit on the class's points and the centroids, not Python's start or the JSON.
"""
import json
import sys
import time

import numpy as np
from sklearn.cluster import DBSCAN


def cluster(xy, eps, min_samples):
    labels = DBSCAN(eps=eps, min_samples=min_samples).fit(xy).labels_
    return [xy[labels == k].mean(axis=0).tolist() for k in range(labels.max() + 1)]


def main():
    req = json.load(sys.stdin)
    out = {}
    for name, pts in req["classes"].items():
        xy = np.asarray(pts, dtype=np.float64).reshape(-1, 2)
        res = []
        for eps in req["eps"]:
            times = []
            centres = []
            for _ in range(req["runs"]):
                t0 = time.perf_counter()
                centres = cluster(xy, eps, req["minSamples"])
                times.append(time.perf_counter() - t0)
            times.sort()
            res.append({"eps": eps, "s": times[len(times) // 2], "centres": centres})
        out[name] = res
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
