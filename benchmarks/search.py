"""Text search at 10k, 100k and 1M stored vectors (synthetic, 512-d, unit length): the ranking
step (one matrix-vector product, calibration, weights, threshold, exact per-photo grouping, top
k) and the query's encoding by CLIP ViT-B/32's text tower (random weights), p50 and p95; the
index's memory. Beside it, the plain path: numpy float32 product and a full sort."""

from __future__ import annotations

import argparse
import time

import numpy as np
from common import cpu_line, full_clip

from organizer.parts import PART_TYPES
from organizer.search.index import VectorIndex
from organizer.search.ranking import rank, row_scores
from organizer.settings import SearchSettings


def synthetic(n: int, dim: int = 512, seed: int = 0) -> tuple[np.ndarray, np.ndarray, list[str], list[str]]:
    rng = np.random.default_rng(seed)
    m = np.empty((n, dim), np.float16)
    for i in range(0, n, 100_000):  # in chunks, to keep float32 temporaries small
        block = rng.standard_normal((min(100_000, n - i), dim), dtype=np.float32)
        block /= np.linalg.norm(block, axis=1, keepdims=True)
        m[i : i + len(block)] = block
    photo_ids = np.arange(n) // 3  # a whole photo and two parts each
    types = [PART_TYPES[0] if i % 3 == 0 else PART_TYPES[2 + (i % 12)] for i in range(n)]
    modalities = ["text" if t == "text" else "image" for t in types]
    return m, photo_ids, types, modalities


def pct(xs: list[float]) -> str:
    a = np.array(xs) * 1000
    return f"p50 {np.percentile(a, 50):6.1f} ms, p95 {np.percentile(a, 95):6.1f} ms"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="*", default=[10_000, 100_000, 1_000_000])
    ap.add_argument("--queries", type=int, default=40)
    args = ap.parse_args()
    print(cpu_line())
    from organizer.models.clip import ClipModel

    clip = ClipModel("b32", full_clip())
    clip.embed_texts(["warm up"])
    texts = [f"red car number {i} in front of a hotel" for i in range(args.queries)]
    enc = []
    for t in texts:
        s = time.perf_counter()
        clip.embed_texts([t])
        enc.append(time.perf_counter() - s)
    print(f"query encoding (text tower, {clip.dtype_name}): {pct(enc)}")
    cal = SearchSettings().calibration
    rng = np.random.default_rng(1)
    for n in args.sizes:
        m, photo_ids, types, mods = synthetic(n)
        idx = VectorIndex(None, "bench")  # type: ignore[arg-type]
        idx.add_arrays(np.arange(n), photo_ids, types, mods, m)
        _ = idx.matrix, idx.grouping  # built once, kept between queries
        queries = rng.standard_normal((args.queries, 512)).astype(np.float32)
        queries /= np.linalg.norm(queries, axis=1, keepdims=True)
        times = []
        for q in queries:
            s = time.perf_counter()
            raw = idx.similarities(q)
            scores = row_scores(idx, raw, "text", {"person": 2.0, "vehicle": 0.5}, cal)
            res = rank(idx, scores, raw, 20, -10.0)
            times.append(time.perf_counter() - s)
        assert len(res) == 20
        plain = []
        m32 = m.astype(np.float32)
        for q in queries[:10]:
            s = time.perf_counter()
            order = np.argsort(-(m32 @ q))
            _ = order[:20]
            plain.append(time.perf_counter() - s)
        mem = idx.nbytes() + sum(a.nbytes for a in (idx.grouping.order, idx.grouping.starts, idx.grouping.photos))
        both = [a + b for a, b in zip(times, enc, strict=False)]
        print(f"{n:>9,} vectors ({idx.dtype_name}, {mem / 2**20:6.0f} MiB): ranking {pct(times)}; "
              f"with encoding {pct(both)}; plain numpy fp32 + sort {pct(plain)} ({m32.nbytes / 2**20:.0f} MiB)")
        del m32, idx, m


if __name__ == "__main__":
    main()
