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
    """CLIP ViT-B/32's architecture (transformers' CLIPConfig defaults) with random weights, and CLIP's own BPE
    vocabulary where PyPI can be reached (see :func:`clip_vocabulary`): a query is then as many tokens as with
    the real model, which is what the text tower's cost depends on."""
    real = clip_vocabulary(DATA / "clip-bpe")
    folder = DATA / ("clip-vit-b32-random-bpe" if real else "clip-vit-b32-random")
    if not real:
        print("note: CLIP's BPE vocabulary could not be fetched from PyPI; the stand-in tokenizer makes a query "
              "about three times as many tokens as CLIP's, so text figures are pessimistic")
    if (folder / "config.json").exists():
        return folder
    import shutil

    import torch
    from transformers import CLIPConfig, CLIPModel

    from organizer.models.offline import write_tokenizer

    if real:
        folder.mkdir(parents=True, exist_ok=True)
        for name in ("vocab.json", "merges.txt", "tokenizer_config.json"):
            shutil.copy(DATA / "clip-bpe" / name, folder / name)
        vocab = len(json.loads((folder / "vocab.json").read_text()))
    else:
        vocab = write_tokenizer(folder)
    torch.manual_seed(0)
    config = CLIPConfig(text_config={"vocab_size": vocab, "bos_token_id": vocab - 2, "eos_token_id": vocab - 1,
                                     "pad_token_id": vocab - 1}, vision_config={}, projection_dim=512)
    CLIPModel(config).save_pretrained(folder)
    (folder / "preprocessor_config.json").write_text(json.dumps({"image_mean": [0.4815, 0.4578, 0.4082],
                                                                  "image_std": [0.2686, 0.2613, 0.2758]}))
    return folder


def clip_vocabulary(folder: Path) -> bool:
    """CLIP's BPE vocabulary (49,408 tokens: "a photo of a cat" is 49406 320 1125 539 320 2368 49407, as with
    openai/clip-vit-base-patch32) in transformers' files, built from ``bpe_simple_vocab_16e6.txt.gz``, which
    the open_clip_torch wheel carries: fetched once from PyPI with pip, nothing installed. False where PyPI
    cannot be reached."""
    if (folder / "vocab.json").exists():
        return True
    import gzip
    import subprocess
    import zipfile

    from organizer.models.offline import bytes_to_unicode, write_tokenizer_config

    wheels = folder / "wheel"
    try:
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "-d", str(wheels),
                        "open_clip_torch==3.3.0"], check=True, capture_output=True, timeout=300)
        wheel = next(wheels.glob("open_clip_torch-*.whl"))
        text = gzip.decompress(zipfile.ZipFile(wheel).read("open_clip/bpe_simple_vocab_16e6.txt.gz")).decode()
    except (OSError, subprocess.SubprocessError, StopIteration, KeyError, zipfile.BadZipFile):
        return False
    merges = text.split("\n")[1 : 49152 - 256 - 2 + 1]  # as CLIP's own simple_tokenizer reads the file
    chars = list(bytes_to_unicode().values())
    tokens = chars + [c + "</w>" for c in chars] + ["".join(m.split()) for m in merges]
    tokens += ["<|startoftext|>", "<|endoftext|>"]
    (folder / "merges.txt").write_text("#version: 0.2\n" + "\n".join(merges) + "\n")
    write_tokenizer_config(folder)
    (folder / "vocab.json").write_text(json.dumps({t: i for i, t in enumerate(tokens)}))  # last: marks it done
    return True


def models_dir() -> Path:
    """A --models folder: full-size random CLIP, the CPU default detector (random), real EasyOCR weights."""
    root = DATA / "models-full"
    clip = root / "clip"
    if clip.is_symlink() and clip.resolve() != full_clip().resolve():
        clip.unlink()  # made before CLIP's own vocabulary was fetched
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
    import torch

    from organizer.models.cpu import cpu_name, kernels_seen, vector_features

    name = cpu_name()

    hidden = " (AVX-512 hidden from every library by benchmarks/avx2_only/run)" if "hide_avx512" in os.environ.get(
        "LD_PRELOAD", "") else ""
    return (f"{name}, {os.cpu_count()} cores, vector features: {vector_features()}{hidden}; libraries see: "
            f"{kernels_seen()}; torch {torch.__version__} "
            f"(kernels: {torch.backends.cpu.get_cpu_capability()})")
