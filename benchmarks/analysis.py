"""Clustering (DBSCAN, cosine eps 0.2, min_samples 2) and the 3D projection (t-SNE on a stratified
sample of 3,000, the rest placed from their nearest sampled points) at 10k and 100k vectors.

Vectors: 512-d Gaussian blobs on the unit sphere (one centre per 500 points, noise 0.02 per
dimension: members sit at cosine ~0.83 of each other), plus 2% uniform noise points. Each size
runs in its own process so that its peak memory (max RSS) is its own. Beside ours, scikit-learn's
plain call (`DBSCAN(metric="euclidean")` with radius sqrt(2 x eps) on the unit vectors) at 10k.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import time

import numpy as np
from common import cpu_line


def blobs(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    k = max(1, n // 500)
    c = rng.standard_normal((k, 512), dtype=np.float32)
    c /= np.linalg.norm(c, axis=1, keepdims=True)
    x = np.empty((n, 512), np.float32)
    noise = n // 50
    lab = rng.integers(0, k, n - noise)
    for i in range(0, n - noise, 10_000):
        j = min(n - noise, i + 10_000)
        x[i:j] = c[lab[i:j]] + 0.02 * rng.standard_normal((j - i, 512), dtype=np.float32)
    x[n - noise :] = rng.standard_normal((noise, 512), dtype=np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return x


def one(n: int, plain: bool) -> None:
    import torch  # noqa: F401 - imported before the clock starts

    from organizer.analysis.neighbours import dbscan
    from organizer.analysis.projection import place, sample_rows, tsne_3d
    from organizer.progress import drain
    from organizer.settings import Settings

    x = blobs(n)
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t = time.perf_counter()
    labels = drain(dbscan(x, 0.2, 2))
    t_cluster = time.perf_counter() - t
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    found = len(set(labels.tolist()) - {-1})
    t = time.perf_counter()
    idx = sample_rows(labels, 3000)
    coords = np.zeros((n, 3), np.float32)
    coords[idx] = tsne_3d(x[idx], Settings.load({}))
    t_tsne = time.perf_counter() - t
    rest = np.setdiff1d(np.arange(n), idx)
    t = time.perf_counter()
    coords[rest] = place(x[rest], x[idx], coords[idx])
    t_place = time.perf_counter() - t
    line = (f"{n:>7,} vectors: clusters {t_cluster:5.1f} s ({found} clusters, {(labels == -1).sum()} unclustered, "
            f"peak memory {peak / 2**20:.2f} GB, +{(peak - base) / 2**20:.2f} GB over the vectors); "
            f"projection: t-SNE of {len(idx)} {t_tsne:5.1f} s + placing {len(rest)} {t_place:4.1f} s")
    if plain:
        from sklearn.cluster import DBSCAN

        t = time.perf_counter()
        ref = DBSCAN(eps=float(np.sqrt(2 * 0.2)), min_samples=2, metric="euclidean").fit_predict(x)
        from sklearn.metrics import adjusted_rand_score

        line += (f"; plain scikit-learn DBSCAN {time.perf_counter() - t:.1f} s, "
                 f"same clustering: ARI {adjusted_rand_score(ref, labels):.4f}")
    print(line, flush=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--one", type=int)
    ap.add_argument("--plain", action="store_true")
    ap.add_argument("--sizes", type=int, nargs="*", default=[10_000, 100_000])
    args = ap.parse_args()
    if args.one:
        one(args.one, args.plain)
        return
    print(cpu_line())
    for n in args.sizes:
        cmd = [sys.executable, __file__, "--one", str(n)] + (["--plain"] if n <= 10_000 else [])
        subprocess.run(cmd, check=True)


if __name__ == "__main__":
    main()
