"""The full pipeline (both passes) with the default settings, on 12 MP JPEGs, one in five carrying a
printed sign of 23 words; plus OCR cost and recall by canvas size, with real EasyOCR weights.

CLIP (ViT-B/32) and the detector (Faster R-CNN MobileNetV3-320, the CPU default) have random
weights: their cost is real, their output is not. The OCR gate decides from real CLIP
embeddings, so with random CLIP its pass rate means nothing: the run is made with OCR on every
photo and with OCR off, and the rate at a given gate pass rate follows from the two.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

from common import cpu_line, models_dir, photos_12mp


def run(folder: Path, models: Path, ocr: bool, engine: str = "auto") -> tuple[float, float, dict]:
    from organizer.library import Library
    from organizer.progress import Summary
    from organizer.settings import Settings

    lib_dir = Path(tempfile.mkdtemp(prefix="bench-lib-"))
    try:
        lib = Library(Settings.load({"library": str(lib_dir), "models": {"dir": str(models)},
                                     "ocr": {"enabled": ocr, "gate": "none", "engine": engine}}))
        for m in (lib.models.clip, lib.models.detector, lib.models.ocr if ocr else None):
            if m is not None:
                m.load()
        t = time.perf_counter()
        s = [e for e in lib.index([str(folder)]) if isinstance(e, Summary)][0]
        el = time.perf_counter() - t
        lib.close()
        return s.new / el, el, s.seconds
    finally:
        shutil.rmtree(lib_dir, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("-n", type=int, default=40)
    args = ap.parse_args()
    print(cpu_line())
    folder = photos_12mp(args.n, with_text_every=5)
    models = models_dir()
    print(f"set: {args.n} distinct 4000x3000 JPEGs, every 5th with a 23-word sign")
    r_off, el_off, sec_off = run(folder, models, ocr=False)
    print(f"both passes, OCR off:           {r_off:.2f} photos/s ({el_off:.1f} s; {sec_off})")
    r_on, el_on, sec_on = run(folder, models, ocr=True)
    print(f"both passes, OCR on every photo: {r_on:.2f} photos/s ({el_on:.1f} s; {sec_on})")
    per_ocr = (el_on - el_off) / args.n
    for rate in (0.2, 0.35, 0.5):
        t = el_off / args.n + rate * per_ocr
        print(f"  projected with the gate passing {rate:.0%} of photos to OCR: {1 / t:.2f} photos/s")


if __name__ == "__main__":
    main()
