"""First pass (decode + whole-photo CLIP embedding + store) on 12 MP JPEGs: ours against the plain path.

Plain path: Pillow full decode, resize, CLIP ViT-B/32 in torch fp32, one photo at a time.
Ours: `organizer index --no-parts` into a fresh library (read, hash, draft() decode in worker
threads a bounded distance ahead, bf16 where the CPU has it, batches of 32, one commit a batch).
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
from common import cpu_line, full_clip, photos_12mp
from PIL import Image, ImageOps


def plain(folder: Path, clip_dir: Path, n: int) -> float:
    from organizer.models.clip import ClipModel, prepare

    clip = ClipModel("b32", clip_dir, precision="fp32")
    clip.load()
    files = sorted(folder.glob("*.jpg"))[:n]
    t = time.perf_counter()
    for f in files:
        im = ImageOps.exif_transpose(Image.open(f)).convert("RGB")
        clip.embed_pixels(prepare(im, 224, "crop")[None])
    return len(files) / (time.perf_counter() - t)


def ours(folder: Path, clip_dir: Path, precision: str = "auto",
         backend: str = "auto") -> tuple[float, int, str, dict[str, float]]:
    from organizer.library import Library
    from organizer.progress import Summary
    from organizer.settings import Settings

    lib_dir = Path(tempfile.mkdtemp(prefix="bench-lib-"))
    try:
        lib = Library(Settings.load({"library": str(lib_dir), "models": {"clip": str(clip_dir), "precision": precision,
                                                                          "backend": backend}}))
        lib.models.clip.load()  # model loading is once per process; not part of the rate
        t, cpu = time.perf_counter(), time.process_time()
        summary = [e for e in lib.index([str(folder)], parts=False) if isinstance(e, Summary)][0]
        el, cpu = time.perf_counter() - t, time.process_time() - cpu
        lib.close()
        return summary.new / el, summary.new, lib.models.clip.path, {**summary.seconds, "total": el,
                                                                     "cpu_ms": cpu / max(summary.new, 1) * 1000}
    finally:
        shutil.rmtree(lib_dir, ignore_errors=True)


def stages(folder: Path, clip_dir: Path) -> None:
    from organizer.media.decode import decode
    from organizer.models.clip import ClipModel, prepare

    f = sorted(folder.glob("*.jpg"))[0]
    data = f.read_bytes()
    reps = 5
    t = time.perf_counter()
    for _ in range(reps):
        im = Image.open(f)
        im.load()
        prepare(im.convert("RGB"), 224)
    full = (time.perf_counter() - t) / reps
    t = time.perf_counter()
    for _ in range(reps):
        prepare(decode(data, 10**9, min_side=224).image, 224)
    draft = (time.perf_counter() - t) / reps
    print(f"decode 12 MP to 224 px, one thread: full {full * 1000:.0f} ms, draft() {draft * 1000:.0f} ms")
    from organizer.models.cpu import native_bf16

    px = np.random.default_rng(0).integers(0, 255, (32, 224, 224, 3), dtype=np.uint8)
    paths = [("fp32", "torch"), ("fp32", "onnx"), ("int8", "onnx")] + ([("bf16", "torch")] if native_bf16() else [])
    ref = None
    for prec, backend in paths:
        clip = ClipModel("b32", clip_dir, device="cpu", precision=prec, backend=backend)
        t = time.perf_counter()
        clip.load()
        load_s = time.perf_counter() - t
        v = clip.embed_pixels(px[:8])
        ref = v if ref is None else ref
        cos = float((v * ref).sum(1).min())
        for bs in (1, 32):
            t = time.perf_counter()
            for _ in range(max(1, 32 // bs)):
                clip.embed_pixels(px[:bs])
            print(f"CLIP B/32 image tower, {clip.path}, batch {bs}: {(time.perf_counter() - t) / 32 * 1000:.1f} ms/photo"
                  + (f"  (load {load_s:.1f} s, min cosine to torch fp32 {cos:.4f})" if bs == 32 else ""))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("-n", type=int, default=96, help="photos")
    ap.add_argument("--precision", default="auto", choices=["auto", "fp32", "int8"],
                    help="for `ours` (int8: asked for; its quality is the library's own check, not this)")
    ap.add_argument("--backend", default="auto", choices=["auto", "torch", "onnx"])
    ap.add_argument("--skip-stages", action="store_true", help="leave out the per-stage timings")
    args = ap.parse_args()
    print(cpu_line())
    folder = photos_12mp(args.n)
    clip_dir = full_clip()
    print(f"set: {args.n} distinct 4000x3000 JPEGs (q90, ~{sum(f.stat().st_size for f in folder.glob('*.jpg')) / args.n / 1e6:.1f} MB each) "
          "made from scikit-image's sample photos; CLIP ViT-B/32 architecture with random weights")
    if not args.skip_stages:
        stages(folder, clip_dir)
    p = plain(folder, clip_dir, min(args.n, 24))
    print(f"plain path (full decode, fp32, batch 1): {p:.1f} photos/s")
    for run in ("a model new to this machine (the zero-shot landmark head is built once)", "a known model"):
        rate, n, path, sec = ours(folder, clip_dir, args.precision, args.backend)
        first = sec.get("scan", 0) + sec.get("whole", 0)
        print(f"new library, {run}: index --no-parts ({path}) {rate:.1f} photos/s over {n} photos "
              f"({rate / p:.1f}x the plain path); the first pass itself (scan + whole photos, searchable when "
              f"done) {n / first:.1f} photos/s ({n / first / p:.1f}x); landmarks {sec.get('landmarks', 0):.1f} s "
              f"of {sec['total']:.1f} s; {sec['cpu_ms']:.0f} ms of CPU a photo")


if __name__ == "__main__":
    main()
