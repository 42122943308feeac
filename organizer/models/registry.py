"""The models of one process, built from settings, each loaded once on first use."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

from organizer.errors import ModelUnavailableError
from organizer.models.base import local_folder
from organizer.models.clip import ClipModel
from organizer.models.detector import Detector
from organizer.models.face import FaceModel, find_folder
from organizer.models.ocr import OcrEngine, make_ocr
from organizer.settings import Settings


class ModelSet:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.models_dir: Path | None = settings.models.dir or _bundled()

    @cached_property
    def clip(self) -> ClipModel:
        m = self.settings.models
        return ClipModel(m.clip, local_folder("clip", m.clip, self.models_dir), m.device, m.precision, m.backend)

    @cached_property
    def detector(self) -> Detector:
        m, d = self.settings.models, self.settings.detection
        folder = None if m.detector != "auto" and not _looks_like_path(m.detector) else (
            local_folder("detector", m.detector, self.models_dir))
        return Detector(m.detector, folder, m.device, d.score_threshold, m.backend)

    @cached_property
    def ocr(self) -> OcrEngine:
        m, o = self.settings.models, self.settings.ocr
        explicit = m.ocr != "easyocr"  # a folder of EasyOCR weights was named: use EasyOCR
        folder = local_folder("ocr", m.ocr if explicit else "easyocr", self.models_dir)
        engine = "easyocr" if explicit and o.engine == "auto" else o.engine
        return make_ocr(engine, folder, o.languages, m.device, o.canvas, o.min_confidence, o.int8_detector)

    @cached_property
    def face(self) -> FaceModel:
        m = self.settings.models
        return FaceModel(m.face, find_folder(m.face, self.models_dir), self.settings.faces.min_size)

    def faces_off(self) -> str | None:
        """Why the faces pass does not run (switched off, dlib or the weights missing); None when it runs."""
        if not self.settings.faces.enabled:
            return "switched off in the settings"
        reason = self.face.off
        if reason is not None and self.settings.models.face != "auto":  # a folder was named: say it is unusable
            raise ModelUnavailableError("face", self.settings.models.face, str(self.face.folder), reason)
        return reason

    def faces_key(self) -> str | None:
        """Everything a photo's faces depend on; None while faces are off."""
        if self.faces_off() is not None:
            return None
        f = self.settings.faces
        det = self.detector.key if self.settings.detection.enabled else "-"
        return f"{self.face.key}/{f.min_score}/{f.min_size}/{f.padding}|{det}"

    def parts_key(self) -> str:
        """Everything the parts of a photo depend on; when it changes, the parts pass runs again."""
        d, o = self.settings.detection, self.settings.ocr
        det = f"{self.detector.key}/{d.score_threshold}/{d.min_area}/{d.max_area}/{d.max_parts}" if d.enabled else "-"
        ocr = f"{self.ocr.key}/{o.min_confidence}" if o.enabled else "-"
        if o.enabled and (o.gate, o.gate_margin) != ("clip", -0.01):
            # which photos OCR ran on decides the text found: another gate is another result
            ocr += f"/gate={o.gate}" + (f":{o.gate_margin}" if o.gate == "clip" else "")
        return f"{self.clip.key}|{det}|{ocr}"


def _looks_like_path(spec: str) -> bool:
    return "/" in spec or "\\" in spec or Path(spec).expanduser().is_dir()


def _bundled() -> Path | None:
    """Models bundled into a build (resources/models/), used when no --models folder is given."""
    from organizer.resources import resources_dir

    try:
        folder = resources_dir() / "models"
    except FileNotFoundError:
        return None
    return folder if folder.is_dir() else None
