"""RapidOCR's text detector in int8 (static quantisation, QDQ, per channel) against its fp32 model: speed
and word recall with the real weights. Exploratory: the app does not use the int8 detector yet.

Calibration: 16 photos of `full_pipeline`'s set (a sign on every fifth), at the 960 px canvas. Evaluation:
`ocr`'s set (10 signs of 12 words, text 40-200 px high on a 4000 px photo), which calibration never saw; both
sets are made from scikit-image's sample photos, so this is one synthetic measure, not a survey of real
street photos. A harder set (`hard_set`) adds, per kind, 8 signs of 6 words: small (text 32-44 px on the
4000 px photo, 8-11 px at the detector's 960 px canvas), slanted (rotated 12-30 degrees) and low contrast
(grey text on a grey card, 18-30 levels apart, printed straight on the photo's colours).
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import numpy as np
from common import DATA, cpu_line, photos_12mp
from ocr import VOCAB, text_set
from PIL import Image, ImageDraw, ImageFont


def quantised_detector() -> Path:
    """The app's own int8 detector recipe (organizer.models.ocr_int8), calibrated on 16 benchmark photos."""
    from organizer.media.decode import decode
    from organizer.models import ocr_int8

    out = DATA / "ocr-det-int8.onnx"
    if out.exists():
        return out
    src = ocr_int8.source()
    assert src is not None, "RapidOCR's detector is not installed"
    calibration = sorted(photos_12mp(40, with_text_every=5).glob("*.jpg"))[:16]
    inputs = [ocr_int8.det_input(np.asarray(decode(p.read_bytes(), 10**9, max_side=960).image), 960)
              for p in calibration]
    t = time.perf_counter()
    ocr_int8.quantise(src, out, inputs)
    print(f"quantised in {time.perf_counter() - t:.1f} s on {len(calibration)} photos: "
          f"{src.stat().st_size / 1e6:.1f} MB -> {out.stat().st_size / 1e6:.1f} MB")
    return out


def hard_set() -> tuple[Path, dict[str, dict[str, set[str]]]]:
    """Signs that are hard to read, by kind: small, slanted, low contrast (see the module's docstring)."""
    folder = DATA / "ocr-hard"
    base = sorted(photos_12mp(12).glob("*.jpg"))
    rng = np.random.default_rng(7)
    truth: dict[str, dict[str, set[str]]] = {"small": {}, "slanted": {}, "low contrast": {}}
    folder.mkdir(parents=True, exist_ok=True)
    for kind in truth:
        for i in range(8):
            words = [str(w) for w in rng.choice(VOCAB, 6, replace=False)]
            name = f"{kind.replace(' ', '-')}-{i}.jpg"
            truth[kind][name] = set(words)
            out = folder / name
            if out.exists():
                continue
            im = Image.open(base[i]).convert("RGB")
            size = {"small": 32 + 2 * i, "slanted": 90, "low contrast": 90}[kind]
            font = ImageFont.load_default(size=size)
            lines = [" ".join(words[:3]), " ".join(words[3:])]
            probe = ImageDraw.Draw(im)
            width = int(max(probe.textlength(line, font=font) for line in lines))
            card_w, card_h = width + size, int(2 * size * 1.4 + size)
            grey = 150 + 5 * i
            paper, ink = ((255, 255, 255), (20, 20, 20)) if kind != "low contrast" else (
                (grey, grey, grey), (grey - 18 - 2 * i,) * 3)
            card = Image.new("RGB", (card_w, card_h), paper)
            d = ImageDraw.Draw(card)
            for k, line in enumerate(lines):
                d.text((size // 2, size // 2 + k * size * 1.4), line, fill=ink, font=font)
            if kind == "slanted":
                card = card.rotate(12 + 2.5 * i, expand=True, fillcolor=(0, 0, 0))
                mask = Image.new("L", (card_w, card_h), 255).rotate(12 + 2.5 * i, expand=True)
            else:
                mask = None
            im.paste(card, (300 + 40 * i, 500 + 120 * i), mask)
            im.save(out, quality=90)
    return folder, truth


def main() -> None:
    from rapidocr import RapidOCR

    from organizer.media.decode import decode

    print(cpu_line())
    int8 = quantised_detector()
    folder, truth = text_set()
    images = {n: np.asarray(decode((folder / n).read_bytes(), 10**9, max_side=960).image) for n in truth}
    total = sum(len(t) for t in truth.values())
    params = {"Global.log_level": "error", "Det.limit_type": "max", "Det.limit_side_len": 960,
              "Global.max_side_len": 2000}
    engines = {"fp32": RapidOCR(params=params), "int8": RapidOCR(params={**params, "Det.model_path": str(int8)})}
    for eng in engines.values():
        eng(next(iter(images.values())))  # load and warm up
    seen: dict[str, dict[str, list[float]]] = {k: {"det": [], "wall": [], "cpu": [], "hits": []} for k in engines}
    for name, rgb in images.items():
        for k, eng in engines.items():  # the two take turns, photo by photo
            c, w = time.process_time(), time.perf_counter()
            out = eng(rgb)
            seen[k]["wall"].append(time.perf_counter() - w)
            seen[k]["cpu"].append(time.process_time() - c)
            seen[k]["det"].append(out.elapse_list[0] if out.elapse_list else 0.0)
            words = set(re.findall(r"\w+", " ".join(out.txts or ()).lower()))
            seen[k]["hits"].append(len(truth[name] & words))
    for k, s in seen.items():
        print(f"{k}: text detection {np.median(s['det']) * 1000:.0f} ms (median), a whole read {np.median(s['wall']):.2f} s "
              f"wall, {np.median(s['cpu']):.2f} s of CPU; recall {int(sum(s['hits']))}/{total} "
              f"(words per sign, smallest text first: {[int(h) for h in s['hits']]})")
    hard_folder, hard = hard_set()
    for kind, signs in hard.items():
        found = {k: 0 for k in engines}
        for name, words in signs.items():
            rgb = np.asarray(decode((hard_folder / name).read_bytes(), 10**9, max_side=960).image)
            for k, eng in engines.items():
                got = set(re.findall(r"\w+", " ".join(eng(rgb).txts or ()).lower()))
                found[k] += len(words & got)
        n = sum(len(w) for w in signs.values())
        print(f"harder, {kind}: recall fp32 {found['fp32']}/{n}, int8 {found['int8']}/{n}")


if __name__ == "__main__":
    main()
