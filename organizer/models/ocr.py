"""Text from OCR (EasyOCR): words read, weak ones dropped, neighbours grouped into lines and blocks."""

from __future__ import annotations

import logging
import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from organizer.errors import ModelUnavailableError
from organizer.models.base import LazyModel, best_device
from organizer.parts import Box

WEIGHT_FILES = ("craft_mlt_25k.pth", "english_g2.pth")


@dataclass(slots=True)
class Word:
    box: Box  # pixels: x0, y0, x1, y1
    text: str
    confidence: float


@dataclass(slots=True)
class TextRegion:
    box: Box  # 0..1
    text: str
    confidence: float


def default_ocr_folder() -> Path | None:
    """Where EasyOCR weights are found with no folder given: the offline package, else EasyOCR's own."""
    try:
        import easyocr_en_models

        return Path(easyocr_en_models.model_dir())
    except ImportError:
        pass
    return None


class OcrEngine(LazyModel):
    """Shared by the OCR engines: scale to the canvas, read, drop weak words, group neighbours."""

    role = "ocr"
    name = "ocr"

    def __init__(self, folder: Path | None = None, languages: list[str] | None = None, device: str = "auto",
                 canvas: int = 960, min_confidence: float = 0.3) -> None:
        super().__init__()
        self.folder = folder
        self.languages = languages or ["en"]
        self.want_device = device
        self.canvas = canvas
        self.min_confidence = min_confidence

    @property
    def key(self) -> str:
        return f"{self.name}:{'+'.join(self.languages)}@{self.canvas}"

    def read(self, image: Image.Image) -> list[TextRegion]:
        """Text regions of ``image`` (scaled to the canvas), grouped, boxes relative to the image."""
        engine = self.loaded
        w, h = image.size
        scale = min(1.0, self.canvas / max(w, h))
        if scale < 1.0:
            image = image.resize((max(1, round(w * scale)), max(1, round(h * scale))), Image.Resampling.BILINEAR)
        words = []
        for pts, text, conf in self._raw(engine, np.asarray(image.convert("RGB"))):
            text = str(text).strip()
            if conf < self.min_confidence or not any(c.isalnum() for c in text):
                continue
            xs, ys = [float(p[0]) for p in pts], [float(p[1]) for p in pts]
            words.append(Word((min(xs), min(ys), max(xs), max(ys)), text, float(conf)))
        iw, ih = image.size
        return [TextRegion((r.box[0] / iw, r.box[1] / ih, r.box[2] / iw, r.box[3] / ih), r.text, r.confidence)
                for r in group_words(words)]

    def _raw(self, engine: Any, rgb: np.ndarray) -> list[tuple[Any, str, float]]:
        raise NotImplementedError


class EasyOcrEngine(OcrEngine):
    name = "easyocr"

    def _load(self) -> Any:
        import easyocr

        folder = self.folder or default_ocr_folder()
        own = Path(os.environ.get("EASYOCR_MODULE_PATH", Path.home() / ".EasyOCR")) / "model"
        looked = str(folder) if folder else f"{own} (EasyOCR's model folder, filled by its download)"
        if folder is not None:
            missing = [f for f in WEIGHT_FILES if not (folder / f).is_file()]
            if missing and self.languages == ["en"]:
                raise ModelUnavailableError("ocr", str(folder), looked, f"missing {', '.join(missing)}")
        # EasyOCR's own use of deprecated torch APIs is not the user's business.
        warnings.filterwarnings("ignore", message=".*(quantiz|pin_memory).*")
        try:
            # EasyOCR loads its .pth files with torch.load, which defaults to weights_only=True.
            return easyocr.Reader(self.languages, gpu=best_device(self.want_device) == "cuda",
                                  model_storage_directory=str(folder or own), download_enabled=folder is None,
                                  verbose=False)
        except Exception as e:  # noqa: BLE001 - a failed download or load becomes one message
            raise ModelUnavailableError("ocr", "easyocr", looked, str(e).splitlines()[0][:200]) from e

    def _raw(self, engine: Any, rgb: np.ndarray) -> list[tuple[Any, str, float]]:
        return [(pts, text, float(conf)) for pts, text, conf in
                engine.readtext(rgb, canvas_size=self.canvas, detail=1, paragraph=False)]


class RapidOcrEngine(OcrEngine):
    """PP-OCR models on ONNX Runtime; the weights ship inside the ``rapidocr`` package. With ``int8`` "auto",
    the text detector runs in int8 once it has been calibrated on the first photos read (see
    :mod:`organizer.models.ocr_int8`); the words it finds are the same (measured), so the OCR key is too."""

    name = "rapidocr"
    int8 = "auto"  # or "off"
    detector = "fp32"  # the text detector in use: "fp32" or "int8"

    def _load(self) -> Any:
        from organizer.models import ocr_int8

        self._calibration: list[np.ndarray] | None = None
        src = ocr_int8.source() if self.int8 != "off" else None
        det = None
        if src is not None:
            self._int8_files = (src, ocr_int8.target(src))
            if self._int8_files[1].is_file():
                det = self._int8_files[1]
            else:
                self._calibration = []  # the first photos read calibrate it
        return self._engine(det)

    def _engine(self, det: Path | None) -> Any:
        try:
            from rapidocr import RapidOCR
        except ImportError as e:
            raise ModelUnavailableError("ocr", "rapidocr", "the installed Python packages",
                                        "the rapidocr package is not installed (pip install rapidocr onnxruntime)") from e
        params: dict[str, Any] = {"Global.log_level": "error", "Det.limit_type": "max",
                                  "Det.limit_side_len": self.canvas, "Global.max_side_len": max(self.canvas, 2000)}
        if det is not None:
            params["Det.model_path"] = str(det)
        try:
            engine = RapidOCR(params=params)
        except Exception as e:  # noqa: BLE001
            raise ModelUnavailableError("ocr", "rapidocr", str(det) if det else "the rapidocr package's models folder",
                                        str(e).splitlines()[0][:200]) from e
        self.detector = "int8" if det is not None else "fp32"
        return engine

    def _calibrate(self, rgb: np.ndarray) -> None:
        """Keep ``rgb`` for calibration; with enough, make the int8 detector and switch to it (once: 8.6 s for
        16 photos measured here). A failure keeps fp32 and says why in the log."""
        from organizer.models import ocr_int8

        assert self._calibration is not None
        self._calibration.append(ocr_int8.det_input(rgb, self.canvas))
        if len(self._calibration) < ocr_int8.CALIBRATION:
            return
        inputs, self._calibration = self._calibration, None
        src, target = self._int8_files
        try:
            ocr_int8.quantise(src, target, inputs)
            self._loaded = self._engine(target)
        except Exception as e:  # noqa: BLE001 - the fp32 detector goes on working
            logging.getLogger("organizer").warning("int8 text detector not made, fp32 kept: %s: %s",
                                                   type(e).__name__, e)

    def _raw(self, engine: Any, rgb: np.ndarray) -> list[tuple[Any, str, float]]:
        out = engine(rgb)
        if self._calibration is not None:
            self._calibrate(rgb)
        if out.boxes is None or out.txts is None:
            return []
        return [(box, text, float(score)) for box, text, score in zip(out.boxes, out.txts, out.scores, strict=True)]


def rapidocr_available() -> bool:
    import importlib.util

    return importlib.util.find_spec("rapidocr") is not None and importlib.util.find_spec("onnxruntime") is not None


def make_ocr(engine: str, folder: Path | None, languages: list[str], device: str, canvas: int,
             min_confidence: float, int8_detector: str = "auto") -> OcrEngine:
    """'auto' picks RapidOCR where it is installed (faster at equal recall, see the README), else EasyOCR."""
    if engine == "auto":
        engine = "rapidocr" if rapidocr_available() and languages == ["en"] else "easyocr"
    if engine == "rapidocr":
        made = RapidOcrEngine(folder, languages, device, canvas, min_confidence)
        made.int8 = int8_detector
        return made
    return EasyOcrEngine(folder, languages, device, canvas, min_confidence)


def group_words(words: list[Word]) -> list[Word]:
    """Join words that sit side by side on a line, and lines stacked close under each other, into blocks.

    Two words are neighbours on a line when they overlap vertically by half the smaller height and
    the gap between them is under 1.2 line heights; two lines belong to one block when they overlap
    horizontally, their heights differ by less than 1.6x and the gap between them is under 0.7
    line heights. Text inside a block reads line by line, left to right.
    """
    n = len(words)
    parent = list(range(n))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i in range(n):
        a = words[i].box
        ha = a[3] - a[1]
        for j in range(i + 1, n):
            b = words[j].box
            hb = b[3] - b[1]
            lo, hi = min(ha, hb), max(ha, hb)
            if lo <= 0:
                continue
            v_overlap = min(a[3], b[3]) - max(a[1], b[1])
            h_gap = max(a[0], b[0]) - min(a[2], b[2])
            same_line = v_overlap >= 0.5 * lo and h_gap <= 1.2 * hi
            v_gap = max(a[1], b[1]) - min(a[3], b[3])
            h_overlap = min(a[2], b[2]) - max(a[0], b[0])
            stacked = h_overlap > 0 and -0.3 * lo <= v_gap <= 0.7 * hi and hi / lo < 1.6
            if same_line or stacked:
                parent[find(i)] = find(j)
    groups: dict[int, list[Word]] = {}
    for i in range(n):
        groups.setdefault(find(i), []).append(words[i])
    out = []
    for members in groups.values():
        members.sort(key=lambda w: (w.box[1] + w.box[3]) / 2)
        lines: list[list[Word]] = []
        for w in members:
            cy, hgt = (w.box[1] + w.box[3]) / 2, w.box[3] - w.box[1]
            if lines:
                last = lines[-1]
                ly = sum((x.box[1] + x.box[3]) / 2 for x in last) / len(last)
                if abs(cy - ly) < 0.5 * hgt:
                    last.append(w)
                    continue
            lines.append([w])
        text = "\n".join(" ".join(x.text for x in sorted(line, key=lambda x: x.box[0])) for line in lines)
        weight = sum(len(w.text) for w in members)
        conf = sum(w.confidence * len(w.text) for w in members) / max(weight, 1)
        box = (min(w.box[0] for w in members), min(w.box[1] for w in members),
               max(w.box[2] for w in members), max(w.box[3] for w in members))
        out.append(Word(box, text, conf))
    out.sort(key=lambda w: (w.box[1], w.box[0]))
    return out
