"""Faces: real quality with dlib's real weights, and what the faces pass costs on 12 MP photos.

Quality set: every real face that installs offline from PyPI. scikit-image's astronaut (Eileen Collins),
and from the insightface wheel (fetched with `pip download` into benchmarks/data/, never committed)
Tom_Hanks_54745.png and the faces in t1.jpg. Each face becomes a person's photo (the face with its
surroundings); each photo gets 12 identity-preserving variants (3 crops, 3 scales, 2 JPEG qualities,
2 brightnesses, 2 small rotations). Reported: the share of faces found, same-person and
different-person descriptor distances, and Chinese-whispers grouping at 0.6 (purity, completeness).

Speed: 24 photos of 4000x3000, half with a person. The faces pass is a pass of its own, so its cost is
measured alone, beside the parts pass (detector and OCR) of the same photos in the same run.

    ./dev bench faces            # both
    ./dev bench faces --quality  # quality only
"""

from __future__ import annotations

import argparse
import io
import subprocess
import sys
import tempfile
import time
import zipfile
from itertools import combinations
from pathlib import Path

import numpy as np
from common import DATA, cpu_line, models_dir
from PIL import Image, ImageEnhance

WHEEL = "insightface==2.1"


def insightface_images() -> list[Image.Image]:
    folder = DATA / "insightface"
    if not any(folder.glob("*.whl")):
        folder.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary", ":all:", WHEEL,
                        "-d", str(folder), "-q"], check=True)
    wheel = next(folder.glob("*.whl"))
    with zipfile.ZipFile(wheel) as z:
        return [Image.open(io.BytesIO(z.read(f"insightface/data/images/{n}"))).convert("RGB")
                for n in ("Tom_Hanks_54745.png", "t1.jpg")]


def people_photos(face) -> dict[str, Image.Image]:  # noqa: ANN001 - FaceModel
    """One photo per person: each face found in the sources, with its surroundings (twice its box)."""
    from skimage import data

    out = {"astronaut": Image.fromarray(data.astronaut())}
    hanks, group = insightface_images()
    out["tom_hanks"] = hanks
    big = group.resize((group.width * 2, group.height * 2), Image.Resampling.LANCZOS)
    for i, f in enumerate(sorted(face.find(big), key=lambda f: f.box[0])):
        w, h = big.size
        cx, cy = (f.box[0] + f.box[2]) / 2 * w, (f.box[1] + f.box[3]) / 2 * h
        half = (f.box[2] - f.box[0]) * w * 1.6
        out[f"t1_face{i + 1}"] = big.crop((int(cx - half), int(cy - half), int(cx + half), int(cy + half)))
    return out


def variants(im: Image.Image) -> list[Image.Image]:
    w, h = im.size
    out = [im.crop((0, 0, int(w * 0.9), int(h * 0.9))), im.crop((int(w * 0.1), int(h * 0.1), w, h)),
           im.crop((int(w * 0.05), 0, int(w * 0.95), int(h * 0.95)))]
    out += [im.resize((max(1, int(w * s)), max(1, int(h * s))), Image.Resampling.BICUBIC) for s in (0.6, 0.8, 1.5)]
    for q in (30, 60):
        buf = io.BytesIO()
        im.save(buf, "JPEG", quality=q)
        out.append(Image.open(io.BytesIO(buf.getvalue())).convert("RGB"))
    out += [ImageEnhance.Brightness(im).enhance(b) for b in (0.6, 1.4)]
    out += [im.rotate(a, resample=Image.Resampling.BICUBIC, expand=False) for a in (-8, 8)]
    return out


def quality() -> None:
    from organizer.models.face import FaceModel, find_folder
    from organizer.people.grouping import groups

    face = FaceModel("auto", find_folder("auto", None))
    people = people_photos(face)
    vecs, who, found, tried = [], [], 0, 0
    for name, im in people.items():
        for v in variants(im):
            tried += 1
            faces = [f for f in face.find(v) if f.descriptor is not None and f.score >= 0.25]
            if not faces:
                continue
            found += 1
            best = max(faces, key=lambda f: (f.box[2] - f.box[0]) * (f.box[3] - f.box[1]))  # the person's face
            vecs.append(best.descriptor)
            who.append(name)
    m = np.stack(vecs)
    same, diff = [], []
    for i, j in combinations(range(len(m)), 2):
        (same if who[i] == who[j] else diff).append(float(np.linalg.norm(m[i] - m[j])))
    same_a, diff_a = np.array(same), np.array(diff)
    print(f"quality set: {len(people)} people ({', '.join(people)}), 12 variants each")
    print(f"faces found: {found}/{tried} ({found / tried:.0%})")
    print(f"same-person distances ({len(same)} pairs): median {np.median(same_a):.3f}, max {same_a.max():.3f}, "
          f"under 0.6: {np.mean(same_a < 0.6):.1%}")
    print(f"different-person distances ({len(diff)} pairs): min {diff_a.min():.3f}, median {np.median(diff_a):.3f}, "
          f"under 0.6: {int((diff_a < 0.6).sum())}")
    gs = groups(m, 0.6, "chinese-whispers", 1)
    names = np.array(who)
    purity = sum(max(np.sum(names[g] == n) for n in set(names[g])) for g in gs) / len(m)
    completeness = sum(max(np.sum(names[g] == n) for g in gs) for n in set(who)) / len(m)
    print(f"Chinese whispers at 0.6: {len(gs)} groups for {len(set(who))} people; purity {purity:.1%}, "
          f"completeness {completeness:.1%}")


def speed(n: int = 24) -> None:
    import json

    from skimage import data

    from organizer.library import Library
    from organizer.progress import Summary
    from organizer.settings import Settings

    folder = DATA / f"faces-12mp-{n}"
    if not (folder / ".complete").exists():
        boxes: dict[str, list[float]] = {}
        folder.mkdir(parents=True, exist_ok=True)
        rng = np.random.default_rng(0)
        person = Image.fromarray(data.astronaut()).resize((1400, 1400), Image.Resampling.BICUBIC)
        scenes = [Image.fromarray(getattr(data, s)()).convert("RGB").resize((4000, 3000), Image.Resampling.BICUBIC)
                  for s in ("coffee", "rocket", "chelsea")]
        for i in range(n):
            base = np.asarray(scenes[i % 3], np.int16) + rng.integers(-6, 7, (3000, 4000, 3), dtype=np.int16)
            im = Image.fromarray(np.clip(base, 0, 255).astype(np.uint8))
            if i % 2 == 0:  # half the photos show a person, at a different place each time
                x, y = int(rng.integers(0, 2600)), int(rng.integers(0, 1600))
                im.paste(person, (x, y))
                boxes[f"IMG_{i:04}.jpg"] = [x / 4000, y / 3000, (x + 1400) / 4000, (y + 1400) / 3000]
            im.save(folder / f"IMG_{i:04}.jpg", quality=90)
        (folder / "persons.json").write_text(json.dumps(boxes))
        (folder / ".complete").write_text("ok")
    truth = json.loads((folder / "persons.json").read_text())
    lib_dir = Path(tempfile.mkdtemp(prefix="bench-faces-"))
    lib = Library(Settings.load({"library": str(lib_dir), "models": {"dir": str(models_dir())},
                                 "ocr": {"gate": "none"}, "faces": {"enabled": False}}))
    for m in (lib.models.clip, lib.models.detector, lib.models.ocr):
        m.load()
    s = [e for e in lib.index([str(folder)]) if isinstance(e, Summary)][0]
    parts = s.seconds.get("parts", 0.0) / n
    lib.settings.faces.enabled = True
    lib.models.face.load()
    print(f"{n} photos of 12 MP, half with a person")
    print(f"parts pass (detector + OCR on every photo, faces off): {parts:.3f} s a photo")
    # The detector has random weights here, so the person boxes a real one would find are given: the
    # pasted person's rectangle (photos without a person: none, so they are searched whole).
    real_boxes = lib.store.person_boxes
    paths = lib.first_paths(r.id for r in lib.photo_rows())
    given = {pid: [tuple(truth[Path(p).name])] if Path(p).name in truth else [] for pid, p in paths.items()}
    for label, boxes in (("with the person boxes a detector finds", lambda ids: {i: given[i] for i in ids}),
                         ("with no person boxes at all (every photo searched whole)", real_boxes)):
        lib.store.person_boxes = boxes  # type: ignore[method-assign]
        lib.store.set_meta("bench", label)
        with lib.store.tx() as tx:  # the faces pass again from scratch
            from sqlalchemy import text

            tx.execute(text("UPDATE photos SET faces_key = NULL"))
        t = time.perf_counter()
        s2 = [e for e in lib.index([]) if isinstance(e, Summary)][0]
        faces = (time.perf_counter() - t) / n
        print(f"faces pass {label}: {faces:.3f} s a photo more, {s2.faces_found} faces found "
              f"(target: at most 0.25 s)")
    lib.close()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quality", action="store_true")
    ap.add_argument("--speed", action="store_true")
    a = ap.parse_args()
    print(cpu_line())
    if a.quality or not a.speed:
        quality()
    if a.speed or not a.quality:
        speed()


if __name__ == "__main__":
    main()
