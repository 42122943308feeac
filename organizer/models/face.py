"""Faces: dlib's HOG detector, its 5-point shape predictor and its ResNet face descriptor (128-d).

The weights come from the ``face-recognition-models`` package (CC0), a ``--face-model`` folder or the
``face/`` subfolder of ``--models``. Without dlib or the weights, faces are off: :func:`why_off` says why
and the parts pass goes on without them.
"""

from __future__ import annotations

import hashlib
import importlib.util
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from organizer.errors import ModelUnavailableError
from organizer.models.base import LazyModel
from organizer.parts import Box, iou

PREDICTOR = "shape_predictor_5_face_landmarks.dat"
DESCRIPTOR = "dlib_face_recognition_resnet_model_v1.dat"
FILES = (PREDICTOR, DESCRIPTOR)

# HOG finds faces of about 80 px and up. Regions are searched at most this large (longest side)...
SEARCH_SIDE = 800
# ...and regions smaller than this are doubled first, so that the face of a person box a few hundred
# pixels tall is large enough for HOG.
SMALL_SIDE = 640


@dataclass(slots=True)
class Face:
    box: Box  # fractions of the photo
    score: float  # the HOG detector's score (above 0: a face)
    landmarks: list[tuple[float, float]]  # the 5 points, fractions of the photo
    quality: float  # 0..1: sharpness x frontality (the cover of a person is their best face)
    descriptor: np.ndarray | None  # 128 float32; None for a face too small to identify


def package_folder() -> Path | None:
    """The weights folder of the installed face-recognition-models package (found without importing it:
    its __init__ needs pkg_resources)."""
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations))) / "models"
    return folder if folder.is_dir() else None


def find_folder(spec: str, models_dir: Path | None) -> Path | None:
    """Where the face weights are: the folder ``spec`` names, ``models_dir/face``, or the package's."""
    if spec != "auto":
        return Path(spec).expanduser()
    if models_dir is not None and (Path(models_dir) / "face").is_dir():
        return Path(models_dir) / "face"
    return package_folder()


def why_off(folder: Path | None) -> str | None:
    """Why faces cannot run with these weights (None: they can)."""
    if importlib.util.find_spec("dlib") is None:
        return "dlib is not installed (pip install dlib-bin)"
    if folder is None:
        return "no face weights (pip install face-recognition-models, or --face-model DIR)"
    missing = [f for f in FILES if not (folder / f).is_file()]
    if missing:
        return f"{folder} lacks {', '.join(missing)}"
    return None


@cache
def _digest(path: Path, size: int, mtime_ns: int) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()[:12]


class FaceModel(LazyModel):
    role = "face"

    def __init__(self, spec: str, folder: Path | None, min_size: int = 40) -> None:
        super().__init__()
        self.spec = spec
        self.folder = folder
        self.min_size = min_size

    @property
    def off(self) -> str | None:
        return why_off(self.folder)

    @property
    def key(self) -> str:
        """The descriptor's vector space: the model and a digest of its weights (other weights never mix)."""
        if self.folder is None:
            return "dlib-resnet-v1@none"
        p = self.folder / DESCRIPTOR
        st = p.stat()
        return f"dlib-resnet-v1@{_digest(p, st.st_size, st.st_mtime_ns)}"

    def _load(self) -> Any:
        reason = self.off
        if reason is not None:
            raise ModelUnavailableError("face", self.spec, str(self.folder), reason)
        assert self.folder is not None
        try:
            return _open(str(self.folder))
        except RuntimeError as e:  # a damaged or foreign .dat file
            raise ModelUnavailableError("face", self.spec, str(self.folder), str(e)) from e

    def find(self, image: Image.Image, regions: Sequence[Box] | None = None) -> list[Face]:
        """The faces in ``image``, searched inside ``regions`` (fractions; e.g. padded person boxes) or, with
        none, in the whole photo; each described unless it is smaller than ``min_size`` pixels."""
        import dlib

        detector, predictor, describer = self.loaded
        rgb = np.asarray(image.convert("RGB"))
        h, w = rgb.shape[:2]
        found: list[tuple[float, tuple[int, int, int, int]]] = []
        for region in regions or [(0.0, 0.0, 1.0, 1.0)]:
            x0, y0 = int(region[0] * w), int(region[1] * h)
            x1, y1 = max(x0 + 1, int(round(region[2] * w))), max(y0 + 1, int(round(region[3] * h)))
            crop = rgb[y0:y1, x0:x1]
            side = max(crop.shape[:2])
            scale = min(1.0, SEARCH_SIDE / side)
            if side * scale < SMALL_SIDE:
                scale *= 2.0
            if scale != 1.0:
                crop = np.asarray(Image.fromarray(crop).resize(
                    (max(1, round(crop.shape[1] * scale)), max(1, round(crop.shape[0] * scale))),
                    Image.Resampling.BILINEAR))
            rects, scores, _ = detector.run(np.ascontiguousarray(crop), 0, 0.0)
            for r, sc in zip(rects, scores, strict=True):
                found.append((float(sc), (x0 + int(r.left() / scale), y0 + int(r.top() / scale),
                                          x0 + int(r.right() / scale), y0 + int(r.bottom() / scale))))
        kept: list[tuple[float, tuple[int, int, int, int]]] = []
        for sc, b in sorted(found, reverse=True):  # overlapping person boxes find one face twice
            if all(iou(b, k) < 0.4 for _, k in kept):
                kept.append((sc, b))
        if not kept:
            return []
        shapes = dlib.full_object_detections()
        for _, (left, top, right, bottom) in kept:
            shapes.append(predictor(rgb, dlib.rectangle(max(0, left), max(0, top), min(w - 1, right),
                                                        min(h - 1, bottom))))
        big = [i for i, (_, box) in enumerate(kept) if box[2] - box[0] >= self.min_size]
        descriptors: dict[int, np.ndarray] = {}
        if big:
            chosen = dlib.full_object_detections()
            for i in big:
                chosen.append(shapes[i])
            for i, vec in zip(big, describer.compute_face_descriptor(rgb, chosen), strict=True):
                descriptors[i] = np.asarray(vec, np.float32)
        chips = dlib.get_face_chips(rgb, shapes, size=80)
        out = []
        for i, (sc, (left, top, right, bottom)) in enumerate(kept):
            pts = [(p.x, p.y) for p in shapes[i].parts()]
            out.append(Face(
                box=(max(0.0, left / w), max(0.0, top / h), min(1.0, right / w), min(1.0, bottom / h)), score=sc,
                landmarks=[(round(x / w, 4), round(y / h, 4)) for x, y in pts],
                quality=round(_sharpness(np.asarray(chips[i])) * _frontality(pts), 4),
                descriptor=descriptors.get(i)))
        return out


@cache
def _open(folder: str) -> tuple[Any, Any, Any]:
    """dlib's three models from a folder, once per process (the window's libraries share them)."""
    import dlib

    return (dlib.get_frontal_face_detector(), dlib.shape_predictor(str(Path(folder) / PREDICTOR)),
            dlib.face_recognition_model_v1(str(Path(folder) / DESCRIPTOR)))


def _sharpness(chip: np.ndarray) -> float:
    """0..1 from the variance of the Laplacian of the aligned face chip (blurred faces score low)."""
    g = chip.astype(np.float32).mean(axis=2)
    lap = g[1:-1, 1:-1] * 4 - g[:-2, 1:-1] - g[2:, 1:-1] - g[1:-1, :-2] - g[1:-1, 2:]
    v = float(lap.var())
    return v / (v + 300.0)


def _frontality(pts: list[tuple[int, int]]) -> float:
    """0..1: 1 when the nose sits midway between the eyes (dlib's 5 points: two per eye, then the nose)."""
    if len(pts) < 5:
        return 0.0
    p = np.asarray(pts, np.float32)
    eye_a, eye_b, nose = p[0:2].mean(0), p[2:4].mean(0), p[4]
    da, db = float(np.linalg.norm(nose - eye_a)), float(np.linalg.norm(nose - eye_b))
    return 1.0 - abs(da - db) / max(da + db, 1e-6)
