"""Shared by the benchmarks: synthetic 12 MP photos and full-size models with random weights.

Cost does not depend on the weights' values, so random weights give real timings (and
meaningless rankings). Everything is written under benchmarks/data/ (git-ignored) and reused.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

ROOT = Path(__file__).resolve().parent
DATA = ROOT / "data"
sys.path.insert(0, str(ROOT.parent))

SAMPLES = ("astronaut", "coffee", "chelsea", "rocket", "camera", "cat", "coins", "hubble_deep_field",
           "immunohistochemistry", "motorcycle_left", "retina", "page")


def photos_12mp(n: int, with_text_every: int = 0) -> Path:
    """``n`` distinct 4000x3000 JPEGs (quality 90) made from scikit-image's sample photos.

    Each is a sample photo scaled up, shifted in colour and given its own noise, so every file has
    different bytes; with ``with_text_every=k`` every k-th photo carries a printed sign (23 words).
    """
    from skimage import data

    folder = DATA / f"photos-12mp-{n}-t{with_text_every}"
    done = folder / ".complete"
    if done.exists():
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    sources = []
    for name in SAMPLES:
        try:
            arr = getattr(data, name)()
        except Exception:  # noqa: BLE001 - some samples need pooch downloads
            continue
        im = Image.fromarray(arr).convert("RGB")
        sources.append(im.resize((4000, 3000), Image.Resampling.BICUBIC))
    for i in range(n):
        base = np.asarray(sources[i % len(sources)], dtype=np.int16)
        shift = rng.integers(-20, 20, 3)
        noise = rng.integers(-6, 7, base.shape, dtype=np.int16)
        im = Image.fromarray(np.clip(base + shift + noise, 0, 255).astype(np.uint8))
        if with_text_every and i % with_text_every == 0:
            draw_sign(im, i)
        im.save(folder / f"IMG_{i:04}.jpg", quality=90)
    done.write_text("ok")
    return folder


SIGN_TEXT = ("GRAND HOTEL CENTRAL since 1902 rooms available tonight breakfast included free parking "
             "for guests open daily from seven until eleven welcome")


def draw_sign(im: Image.Image, seed: int) -> None:
    d = ImageDraw.Draw(im)
    font = ImageFont.load_default(size=110)
    x0, y0 = 300 + (seed * 37) % 400, 500 + (seed * 53) % 600
    d.rectangle((x0 - 40, y0 - 40, x0 + 3300, y0 + 4 * 150 + 40), fill="white")
    words = SIGN_TEXT.split()
    lines = [" ".join(words[j : j + 6]) for j in range(0, len(words), 6)]
    for k, line in enumerate(lines):
        d.text((x0, y0 + k * 150), line, fill="black", font=font)


def full_clip() -> Path:
    """CLIP ViT-B/32's architecture (transformers' CLIPConfig defaults) with random weights."""
    folder = DATA / "clip-vit-b32-random"
    if (folder / "config.json").exists():
        return folder
    import torch
    from transformers import CLIPConfig, CLIPModel

    from organizer.models.offline import write_tokenizer

    vocab = write_tokenizer(folder)
    torch.manual_seed(0)
    config = CLIPConfig(text_config={"vocab_size": vocab, "bos_token_id": vocab - 2, "eos_token_id": vocab - 1,
                                     "pad_token_id": vocab - 1}, vision_config={}, projection_dim=512)
    CLIPModel(config).save_pretrained(folder)
    (folder / "preprocessor_config.json").write_text(json.dumps({"image_mean": [0.4815, 0.4578, 0.4082],
                                                                  "image_std": [0.2686, 0.2613, 0.2758]}))
    return folder


def models_dir() -> Path:
    """A --models folder: full-size random CLIP, the CPU default detector (random), real EasyOCR weights."""
    root = DATA / "models-full"
    clip = root / "clip"
    if not clip.exists():
        root.mkdir(parents=True, exist_ok=True)
        os.symlink(full_clip(), clip)
    if not (root / "detector").exists():
        from organizer.models.offline import make_tiny_detector

        make_tiny_detector(root / "detector")  # the real MobileNetV3-320 architecture, random weights
    if not (root / "ocr").exists():
        from organizer.models.offline import copy_ocr_weights

        copy_ocr_weights(root / "ocr")
    return root


def timed(fn: Callable[[], object], repeat: int = 1) -> float:
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def cpu_line() -> str:
    import platform

    import torch

    name = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                name = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    from organizer.models.cpu import kernels_seen, vector_features

    hidden = " (AVX-512 hidden from every library by benchmarks/avx2_only/run)" if "hide_avx512" in os.environ.get(
        "LD_PRELOAD", "") else ""
    return (f"{name}, {os.cpu_count()} cores, vector features: {vector_features()}{hidden}; libraries see: "
            f"{kernels_seen()}; torch {torch.__version__} "
            f"(kernels: {torch.backends.cpu.get_cpu_capability()})")
