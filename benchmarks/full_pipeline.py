"""The full pipeline (both passes) with the default settings, on 12 MP JPEGs, one in five carrying a
printed sign of 23 words; plus OCR cost and recall by canvas size, with real EasyOCR weights.

CLIP (ViT-B/32) and the detector (Faster R-CNN MobileNetV3-320, the CPU default) have random
weights: their cost is real, their output is not. The OCR gate decides from real CLIP
embeddings, so with random CLIP its pass rate means nothing: the run is made with OCR on every
photo, with OCR off, and with the gate running but its verdict replaced by "the photos with a sign"
(1 in 5: the issue's case, measured); other pass rates are projected from the first two.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

from common import cpu_line, models_dir, photos_12mp

# What a trained detector finds in an ordinary photo, once its score and area cuts are made: a person, a car
# and a dog, at sizes a street or family photo shows them (fractions of the photo).
OBJECTS = [("person", (0.30, 0.20, 0.52, 0.95), 0.91), ("car", (0.55, 0.55, 0.95, 0.85), 0.84),
           ("dog", (0.05, 0.70, 0.22, 0.93), 0.66)]


def run(folder: Path, models: Path, ocr: bool, engine: str = "auto", every: int = 0,
        backend: str = "auto", objects: int = 0) -> tuple[float, float, dict]:
    """Both passes into a new library. ``every``: the OCR gate runs (its prompts embedded, its scores worked
    out) but its verdict is replaced by "the photos with a sign" (one in ``every``), which random CLIP
    weights cannot give: the cost of a gate passing that share, measured, not projected. ``objects``: the
    detector runs, but its random weights find nothing, so the first ``objects`` of :data:`OBJECTS` are
    what it reports: their crops go through CLIP and faces are searched in the person's box, as they
    would be with trained weights."""
    from organizer.library import Library
    from organizer.models.detector import Detection, Detector
    from organizer.parts import super_category
    from organizer.pipeline import ocr_gate
    from organizer.progress import Summary
    from organizer.settings import Settings

    lib_dir = Path(tempfile.mkdtemp(prefix="bench-lib-"))
    real_wants = ocr_gate.OcrGate.wants
    real_detect = Detector.detect
    if objects:
        def detect(self: Detector, images: list) -> list[list[Detection]]:
            real_detect(self, images)
            found = [Detection(super_category(name).value, name, box, score)  # type: ignore[union-attr]
                     for name, box, score in OBJECTS[:objects]]
            return [list(found) for _ in images]

        Detector.detect = detect  # type: ignore[method-assign]
    try:
        lib = Library(Settings.load({"library": str(lib_dir), "models": {"dir": str(models), "backend": backend},
                                     "ocr": {"enabled": ocr, "gate": "clip" if every else "none", "engine": engine}}))
        if every:
            def wants(gate: ocr_gate.OcrGate, photo_id: int) -> bool:
                real_wants(gate, photo_id)
                path = lib.photo_details(photo_id).paths[0]  # type: ignore[union-attr]
                return int(Path(path).stem.split("_")[1]) % every == 0

            ocr_gate.OcrGate.wants = wants  # type: ignore[method-assign]
        faces = lib.models.face if lib.models.faces_off() is None else None
        for m in (lib.models.clip, lib.models.detector, faces, lib.models.ocr if ocr else None):
            if m is not None:
                m.load()
        t, cpu = time.perf_counter(), time.process_time()
        s = [e for e in lib.index([str(folder)]) if isinstance(e, Summary)][0]
        el = time.perf_counter() - t
        # CPU seconds of all the process's threads a photo: what the work costs, whatever else the machine is
        # doing (wall-clock figures on a shared machine vary by tens of percent between repeats)
        cpu_per_photo = (time.process_time() - cpu) / max(1, s.new)
        lib.close()
        paths = {"clip": lib.models.clip.path, "detector": lib.models.detector.path}
        return s.new / el, el, {**{k: round(v, 2) for k, v in s.seconds.items()}, "ocr_run": s.ocr_run, "faces_done": s.faces_done, "parts_found": s.parts_found,
                             "cpu_s_per_photo": round(cpu_per_photo, 3), **paths}
    finally:
        ocr_gate.OcrGate.wants = real_wants  # type: ignore[method-assign]
        Detector.detect = real_detect  # type: ignore[method-assign]
        shutil.rmtree(lib_dir, ignore_errors=True)


def detector_paths(folder: Path, models: Path, n: int = 8) -> None:
    """The detector alone on photos at the detection canvas (1333 px): torch beside ONNX Runtime, one photo at a
    time, the two taking turns."""
    from organizer.media.decode import load
    from organizer.models import ort
    from organizer.models.detector import Detector
    from organizer.settings import Settings

    s = Settings.load({})
    images = [load(str(f), s.decode, max_side=s.detection.canvas).image for f in sorted(folder.glob("*.jpg"))[:n]]
    on = {b: Detector(folder=models / "detector", device="cpu", backend=b) for b in ("torch", "onnx")}
    t, o = ort.time_per_item(*[lambda b, d=d: [d.detect([im]) for im in b] for d in on.values()], batch=images,
                             n=len(images))
    auto = Detector(folder=models / "detector", device="cpu")
    print(f"detector alone ({images[0].size[0]}x{images[0].size[1]}): torch {t * 1000:.1f} ms/photo, ONNX "
          f"{o * 1000:.1f} ms/photo ({t / o:.2f}x); auto chose {auto.path}")


def head_once(models: Path) -> float:
    """Build (or find in the user cache) the model's zero-shot landmark head, so the timed runs are those of
    a known model."""
    from organizer.landmarks.head import head_for
    from organizer.library import Library
    from organizer.settings import Settings

    lib_dir = Path(tempfile.mkdtemp(prefix="bench-lib-"))
    try:
        lib = Library(Settings.load({"library": str(lib_dir), "models": {"dir": str(models)}}))
        lib.models.clip.load()
        t = time.perf_counter()
        head_for(lib.settings.landmarks, lib_dir, lib.models.clip)
        el = time.perf_counter() - t
        lib.close()
        return el
    finally:
        shutil.rmtree(lib_dir, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("-n", type=int, default=40)
    ap.add_argument("--objects", type=int, default=3, choices=range(len(OBJECTS) + 1),
                    help="objects reported per photo (random detector weights find none): person, car, dog")
    args = ap.parse_args()
    k = args.objects
    print(cpu_line())
    folder = photos_12mp(args.n, with_text_every=5)
    models = models_dir()
    print(f"set: {args.n} distinct 4000x3000 JPEGs, every 5th with a 23-word sign; the detector runs and reports "
          f"{k} objects a photo ({', '.join(o[0] for o in OBJECTS[:k]) or 'none'})")
    print(f"zero-shot landmark head, built once per model and machine (a known model pays nothing): "
          f"{head_once(models):.1f} s")
    detector_paths(folder, models)
    r_off, el_off, sec_off = run(folder, models, ocr=False, objects=k)
    print(f"faces: {'on (found in the parts pass, from its decode)' if sec_off['faces_done'] else 'off'}")
    print(f"both passes, OCR off:           {r_off:.2f} photos/s ({el_off:.1f} s; {sec_off})")
    r_on, el_on, sec_on = run(folder, models, ocr=True, objects=k)
    print(f"both passes, OCR on every photo: {r_on:.2f} photos/s ({el_on:.1f} s; {sec_on})")
    r_gate, el_gate, sec_gate = run(folder, models, ocr=True, every=5, objects=k)
    print(f"both passes, the gate passing 1 in 5 (the photos with a sign): {r_gate:.2f} photos/s ({el_gate:.1f} s; "
          f"{sec_gate})")
    r_plain, el_plain, sec_plain = run(folder, models, ocr=True, every=5, backend="torch", objects=k)
    print(f"the same, everything on torch:  {r_plain:.2f} photos/s ({el_plain:.1f} s; {sec_plain}); ours "
          f"{r_gate / r_plain:.2f}x")
    per_ocr = (el_on - el_off) / args.n
    for rate in (0.2, 0.35, 0.5):
        t = el_off / args.n + rate * per_ocr
        print(f"  projected with the gate passing {rate:.0%} of photos to OCR: {1 / t:.2f} photos/s")


if __name__ == "__main__":
    main()
