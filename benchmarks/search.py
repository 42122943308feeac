"""Search at laptop scale: 10k, 100k and 1M photos of 5 vectors each (the whole photo and 4 parts, 512-d), as
the app keeps them (organizer/search/index.py). Each size runs in a child process of its own, so its memory is
its own, and reports:

- the index's precision (float32 below INT8_FROM rows, int8 above) and bytes, its load time (from a real
  library's SQLite file with --store, else from arrays in memory) and the process's peak RSS;
- query p50 and p95 of the whole ranking step: the scan, calibration, per-type weights, each photo's best part,
  top 20 (the text query's encoding is measured apart, with --encode);
- recall@20: the photos found, against the exact float32 ranking of the same vectors;
- the plain path beside it: a numpy float32 matrix, where it fits (it needs 2 KB a vector).

The vectors are clustered as image embeddings are (each near one of n/1000 subjects, queries near subjects), so
the top 20 is picked among close neighbours: harder for int8 than uniform random vectors. No torch is imported.

    .venv/bin/python benchmarks/search.py                 # 10k, 100k, 1M photos from arrays
    .venv/bin/python benchmarks/search.py --store         # load time from a library file (1M: 5.6 GB, kept in
                                                          # benchmarks/data/ for the next run; delete it after)
    benchmarks/avx2_only/run .venv/bin/python benchmarks/search.py --photos 1000000
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT.parent))

from organizer.parts import PART_TYPES  # noqa: E402
from organizer.search.index import INT8_FROM, VectorIndex  # noqa: E402
from organizer.search.ranking import rank, rank_refined, row_scores  # noqa: E402
from organizer.settings import SearchSettings  # noqa: E402

DIM = 512
PER_PHOTO = 5
CHUNK = 100_000
SIGMA = 0.033  # a vector's cosine to its subject about 0.8, to another vector of it about 0.65
WEIGHTS = {"person": 2.0, "vehicle": 0.5}
MODEL = "bench"


def cpu_line() -> str:
    import numkong

    from organizer.models.cpu import cpu_name, kernels_seen, vector_features

    kernels = [k for k, v in numkong.get_capabilities().items() if v and k != "serial"]
    hidden = " (AVX-512 hidden by benchmarks/avx2_only/run)" if "hide_avx512" in os.environ.get("LD_PRELOAD", "") else ""
    return (f"{cpu_name()}, {os.cpu_count()} cores, features: {vector_features()}{hidden}; numpy kernels: "
            f"{kernels_seen()}; numkong kernels: {' '.join(kernels)}")


def subjects(n_vectors: int) -> np.ndarray:
    k = max(50, n_vectors // 1000)
    c = np.random.default_rng(12345).standard_normal((k, DIM), dtype=np.float32)
    return c / np.linalg.norm(c, axis=1, keepdims=True)


def chunk(centres: np.ndarray, start: int, stop: int) -> np.ndarray:
    """Rows ``start:stop`` of the data set, float16 as the store keeps them (the same on every call)."""
    rng = np.random.default_rng([7, start])
    v = centres[rng.integers(0, len(centres), stop - start)] + SIGMA * rng.standard_normal(
        (stop - start, DIM), dtype=np.float32)
    return (v / np.linalg.norm(v, axis=1, keepdims=True)).astype(np.float16)


def labels(start: int, stop: int) -> tuple[np.ndarray, list[str], list[str]]:
    rows = np.arange(start, stop)
    types = [PART_TYPES[0] if r % PER_PHOTO == 0 else PART_TYPES[2 + (r % 12)] for r in rows]
    return rows // PER_PHOTO, types, ["text" if t == "text" else "image" for t in types]


def queries(centres: np.ndarray, n: int) -> np.ndarray:
    rng = np.random.default_rng(99)
    q = centres[rng.integers(0, len(centres), n)] + SIGMA * rng.standard_normal((n, DIM), dtype=np.float32)
    return q / np.linalg.norm(q, axis=1, keepdims=True)


def peak_rss() -> float:
    """The process's peak resident memory so far, in GiB (Linux)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 2**20
    return float("nan")


def build_store(folder: Path, n: int) -> None:
    """A library file with ``n`` vectors (n / 5 photos), written straight through sqlite3 (minutes at 1M
    photos); the schema is the app's own."""
    from organizer.store.db import Store

    if (folder / ".complete").exists():
        return
    Store(folder)  # the schema
    db = sqlite3.connect(folder / "library.sqlite3")
    db.execute("PRAGMA synchronous=OFF")
    centres = subjects(n)
    start_t = time.perf_counter()
    for start in range(0, n, CHUNK):
        stop = min(n, start + CHUNK)
        photo_ids, types, mods = labels(start, stop)
        v = chunk(centres, start, stop)
        firsts = [(int(p) + 1, f"{int(p):032x}", 1, "jpeg", 4000, 3000, "2026-01-01 00:00:00")
                  for p in np.unique(photo_ids)]
        db.executemany("INSERT OR IGNORE INTO photos (id, hash, size, format, width, height, added_at) "
                       "VALUES (?, ?, ?, ?, ?, ?, ?)", firsts)
        db.executemany("INSERT INTO parts (id, photo_id, type, x0, y0, x1, y1) VALUES (?, ?, ?, 0, 0, 1, 1)",
                       [(start + i + 1, int(photo_ids[i]) + 1, types[i]) for i in range(stop - start)])
        db.executemany("INSERT INTO embeddings (id, part_id, model, modality, vector) VALUES (?, ?, ?, ?, ?)",
                       [(start + i + 1, start + i + 1, MODEL, mods[i], v[i].tobytes()) for i in range(stop - start)])
        db.commit()
        print(f"  store: {stop:,}/{n:,} vectors, {time.perf_counter() - start_t:.0f} s", file=sys.stderr, flush=True)
    db.close()
    (folder / ".complete").write_text("ok")


def timed_queries(idx: VectorIndex, qs: np.ndarray, refine: bool) -> tuple[list[float], list[list[int]]]:
    """The app's ranking (organizer/search/engine.py): with ``refine``, an int8 index's likely photos are scored
    again from their stored vectors (rank_refined); without, the int8 scores alone decide."""
    cal = SearchSettings().calibration
    times, found = [], []
    for q in qs:
        def scorer(rows: np.ndarray | None, q: np.ndarray = q) -> tuple[np.ndarray, np.ndarray]:
            raw = idx.similarities(q) if rows is None else idx.exact_similarities(q, rows)
            return row_scores(idx, raw, "text", WEIGHTS, cal, rows=rows), raw

        s = time.perf_counter()
        if refine:
            res = rank_refined(idx, scorer, 20, -10.0)
        else:
            scores, raw = scorer(None)
            res = rank(idx, scores, raw, 20, -10.0)
        times.append(time.perf_counter() - s)
        found.append([r.photo_id for r in res])
    return times, found


def exact_float32(idx: VectorIndex, centres: np.ndarray, n: int, qs: np.ndarray) -> list[list[int]]:
    """The float32 ranking of the same vectors (regenerated chunk by chunk, never held whole)."""
    cal = SearchSettings().calibration
    out = []
    for g in range(0, len(qs), 8):
        group = qs[g : g + 8]
        raw = np.empty((len(group), n), np.float32)
        for start in range(0, n, CHUNK):
            stop = min(n, start + CHUNK)
            raw[:, start:stop] = group @ chunk(centres, start, stop).astype(np.float32).T
        for r in raw:
            res = rank(idx, row_scores(idx, r, "text", WEIGHTS, cal), r, 20, -10.0)
            out.append([x.photo_id for x in res])
    return out


def pct(xs: list[float]) -> str:
    a = np.array(xs) * 1000
    return f"p50 {np.percentile(a, 50):5.0f} ms, p95 {np.percentile(a, 95):5.0f} ms"


def child(photos: int, n_queries: int, store: bool, dtype: str, recall: bool = True) -> None:
    n = photos * PER_PHOTO
    centres = subjects(n)
    qs = queries(centres, n_queries)
    if store:
        from organizer.store.db import Store

        folder = ROOT / "data" / f"search-store-{photos}"
        build_store(folder, n)
        base = peak_rss()
        s = time.perf_counter()
        idx = VectorIndex(Store(folder), MODEL, dtype=dtype)
        idx.sync()
        _ = idx.grouping
        source = "from the library file"
    else:
        base = peak_rss()
        s = time.perf_counter()
        idx = VectorIndex(None, MODEL, dtype=dtype)  # type: ignore[arg-type]
        for start in range(0, n, CHUNK):
            stop = min(n, start + CHUNK)
            idx.add_arrays(np.arange(start, stop), *labels(start, stop), chunk(centres, start, stop))
        _ = idx.grouping
        source = "from arrays (generating them included)"
    load = time.perf_counter() - s
    loaded_rss = peak_rss()
    timed_queries(idx, qs[:2], False)  # warm: threads, caches
    times, found = timed_queries(idx, qs, False)
    rss = peak_rss()
    exact = exact_float32(idx, centres, n, qs) if recall else None
    g = idx.grouping
    mem = idx.nbytes() + g.order.nbytes + g.starts.nbytes + g.photos.nbytes
    print(f"{photos:>9,} photos, {n:>9,} vectors, {idx.dtype_name:>14}: index {mem / 2**30:5.2f} GiB, "
          f"load {load:6.1f} s {source}; peak RSS {loaded_rss:5.2f} GiB loaded ({base:4.2f} before), "
          f"{rss:5.2f} GiB after {len(qs)} queries", flush=True)
    print(f"    {idx.dtype_name} scores alone: query {pct(times)}; {agreement(found, exact)}", flush=True)
    if idx.approximate:
        times, found = timed_queries(idx, qs, True)
        print(f"    the app's search (int8, then the likely photos scored again from the library file): query "
              f"{pct(times)}; {agreement(found, exact)}; peak RSS {peak_rss():5.2f} GiB", flush=True)


def agreement(found: list[list[int]], exact: list[list[int]] | None) -> str:
    if exact is None:
        return "recall not measured"
    recall = np.mean([len(set(a) & set(b)) / max(1, len(b)) for a, b in zip(found, exact, strict=True)])
    same = np.mean([a == b for a, b in zip(found, exact, strict=True)])
    top1 = np.mean([a[:1] == b[:1] for a, b in zip(found, exact, strict=True)])
    return (f"recall@20 {recall:.3f}, same first photo {top1:.0%}, same 20 in the same order {same:.0%} "
            f"(against float32)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--photos", type=int, nargs="*", default=[10_000, 100_000, 1_000_000])
    ap.add_argument("--queries", type=int, default=40)
    ap.add_argument("--store", action="store_true", help="load from a library file (built once, kept)")
    ap.add_argument("--plain-up-to", type=int, default=200_000,
                    help="photos up to which the plain float32 path runs too (it needs 10 KB a photo)")
    ap.add_argument("--encode", action="store_true", help="also time the query's encoding (CLIP's text tower)")
    ap.add_argument("--no-recall", action="store_true",
                    help="timings and memory only (recall does not depend on the CPU path: int8 sums are exact)")
    ap.add_argument("--child", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--build", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--dtype", default="auto", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child and args.build:  # the library file alone, in a process of its own (its memory is not the load's)
        build_store(ROOT / "data" / f"search-store-{args.child}", args.child * PER_PHOTO)
        return
    if args.child:
        child(args.child, args.queries, args.store, args.dtype, not args.no_recall)
        return
    print(cpu_line())
    print(f"float32 below {INT8_FROM:,} vectors, int8 from there (auto); the plain path is float32 throughout")
    if args.encode:
        encode()
    for photos in args.photos:
        if args.store:
            subprocess.run([sys.executable, __file__, "--child", str(photos), "--build"], check=True)
        runs = [("auto", args.store)] + ([("fp32", False)] if photos <= args.plain_up_to else [])
        for dtype, store in runs:
            cmd = [sys.executable, __file__, "--child", str(photos), "--queries", str(args.queries),
                   "--dtype", dtype] + (["--store"] if store else []) + (["--no-recall"] if args.no_recall else [])
            if dtype == "fp32":
                print("  plain: ", end="", flush=True)
            subprocess.run(cmd, check=True)
        if photos > args.plain_up_to:
            print(f"  plain: float32 would hold {photos * PER_PHOTO * DIM * 4 / 2**30:.1f} GiB of vectors: not run")


def encode() -> None:
    from common import full_clip

    from organizer.models.clip import ClipModel

    clip = ClipModel("b32", full_clip())
    clip.embed_texts(["warm up"])
    times = []
    for i in range(20):
        s = time.perf_counter()
        clip.embed_texts([f"red car number {i} in front of a hotel"])
        times.append(time.perf_counter() - s)
    print(f"query encoding (text tower, {clip.dtype_name}): {pct(times)}")


if __name__ == "__main__":
    main()
