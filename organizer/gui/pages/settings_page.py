"""Settings: the core's settings object as a form; defaults as the core defines them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel
from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from organizer.errors import OrganizerError
from organizer.settings import (
    ClusterSettings,
    DetectionSettings,
    FaceSettings,
    LandmarkSettings,
    ProjectionSettings,
    Settings,
    field_spec,
)


def _bounds(model: type[BaseModel], name: str, step: float) -> tuple[float, float]:
    """The setting's own bounds, from the settings model (one place for them: the page kept narrower copies
    and clamped a value from the file on Save, with no edit made); an open end is ``step`` inside it, a missing
    one as far as a spin box goes."""
    f = field_spec(name, model)
    lo = -1e9 if f.lo is None else f.lo + (step if f.lo_open else 0.0)
    hi = 1e9 if f.hi is None else f.hi - (step if f.hi_open else 0.0)
    return lo, hi


def _spin(model: type[BaseModel], name: str, step: float, value: float, decimals: int = 3) -> QDoubleSpinBox:
    s = QDoubleSpinBox()
    s.setRange(*_bounds(model, name, 10.0 ** -decimals))
    s.setSingleStep(step)
    s.setDecimals(decimals)
    s.setValue(value)
    return s


def _ispin(model: type[BaseModel], name: str, value: int) -> QSpinBox:
    s = QSpinBox()
    lo, hi = _bounds(model, name, 1)
    s.setRange(int(max(lo, -(2**31) + 1)), int(min(hi, 2**31 - 1)))
    s.setValue(value)
    return s


class SettingsPage(QWidget):
    saved = Signal(object)  # Settings
    failed = Signal(str)

    def __init__(self, settings: Settings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        s = settings
        self.library = QLineEdit(str(s.library))
        browse = QPushButton("Choose...")
        browse.clicked.connect(self._browse)
        lib_row = QHBoxLayout()
        lib_row.addWidget(self.library, 1)
        lib_row.addWidget(browse)
        self.clip = QLineEdit(s.models.clip)
        default_clip = type(s.models).model_fields["clip"].default
        if s.models.dir is not None and s.models.clip == default_clip and (Path(s.models.dir) / "clip").is_dir():
            # the models folder decides: show that, not the hub default it stands in for
            self.clip.setText("")
            self.clip.setPlaceholderText(f"from the models folder: {Path(s.models.dir) / 'clip'}")
        self.detector = QLineEdit(s.models.detector)
        self.device = QComboBox()
        self.device.addItems(["auto", "cpu", "cuda", "mps"])
        self.device.setCurrentText(s.models.device)
        self.detect = QCheckBox("Find objects")
        self.detect.setChecked(s.detection.enabled)
        self.score = _spin(DetectionSettings, "score_threshold", 0.05, s.detection.score_threshold)
        self.min_area = _spin(DetectionSettings, "min_area", 0.005, s.detection.min_area, 4)
        self.ocr = QCheckBox("Read text (OCR)")
        self.ocr.setChecked(s.ocr.enabled)
        self.ocr_engine = QComboBox()
        self.ocr_engine.addItems(["auto", "rapidocr", "easyocr"])
        self.ocr_engine.setCurrentText(s.ocr.engine)
        self.faces = QCheckBox("Find faces (People)")
        self.faces.setChecked(s.faces.enabled)
        self.face_distance = _spin(FaceSettings, "distance", 0.05, s.faces.distance)
        self.landmark_threshold = _spin(LandmarkSettings, "threshold", 0.05, s.landmarks.threshold)
        self.max_km = _spin(LandmarkSettings, "max_km", 1, s.landmarks.max_km, 1)
        self.eps = _spin(ClusterSettings, "eps", 0.01, s.clusters.eps)
        self.min_samples = _ispin(ClusterSettings, "min_samples", s.clusters.min_samples)
        self.perplexity = _spin(ProjectionSettings, "perplexity", 1, s.projection.perplexity, 1)
        self.iterations = _ispin(ProjectionSettings, "max_iter", s.projection.max_iter)
        self.sample = _ispin(ProjectionSettings, "sample", s.projection.sample)
        form = QFormLayout()
        rows: list[tuple[str | None, QWidget, str]] = [
            ("Library folder", lib_row_widget := QWidget(), "Where the database, thumbnails and backups live. "
             "Takes effect at the next start."),
            ("CLIP model (id or folder)", self.clip, "The model that understands the photos. A change re-analyses "
             "every photo at the next start."),
            ("Object detector", self.detector, "Finds people, animals, vehicles... in each photo."),
            ("Device", self.device, "Where the models run: 'auto' takes a GPU when there is one."),
            (None, self.detect, "Find objects in each photo so that they can be searched on their own."),
            ("How sure a found object must be", self.score, "Objects found with less confidence are ignored "
             "(0 to 1; detection score threshold)."),
            ("Smallest object (share of the photo)", self.min_area, "Smaller objects are ignored."),
            (None, self.ocr, "Read text in photos (signs, documents, screenshots) so that it can be searched."),
            ("Text reader", self.ocr_engine, "The OCR engine."),
            (None, self.faces, "Find faces and group them by person on the People page."),
            ("How alike two faces must be to be one person", self.face_distance, "Smaller: stricter (fewer "
             "wrong matches, more groups to name); larger: looser (the face descriptor distance; dlib "
             "publishes 0.6)."),
            ("How sure a landmark must be", self.landmark_threshold, "A landmark is shown only above this "
             "probability (0 to 1)."),
            ("Landmark distance from the photo's GPS (km)", self.max_km, "With GPS, landmarks farther than this "
             "are ruled out."),
            ("How alike photos must be to group", self.eps, "Smaller: only near-identical photos group; larger: "
             "looser groups (the cosine distance DBSCAN calls eps)."),
            ("Smallest group", self.min_samples, "How many photos make a group (DBSCAN's min samples)."),
            ("Map: neighbourhood size", self.perplexity, "How many neighbours each photo keeps close on the map "
             "(t-SNE perplexity)."),
            ("Map: refinement steps", self.iterations, "More steps: a tidier map, computed more slowly "
             "(t-SNE iterations)."),
            ("Map: photos laid out exactly", self.sample, "Above this many, the rest are placed beside their "
             "nearest laid-out neighbours (t-SNE sample size)."),
        ]
        lib_row_widget.setLayout(lib_row)
        for label, widget, tip in rows:
            widget.setToolTip(tip)
            if label is None:
                form.addRow(widget)
            else:
                form.addRow(label, widget)
                form.labelForField(widget).setToolTip(tip)
        save = QPushButton("Save")
        save.clicked.connect(self.save)
        self.note = QLabel("Settings apply at once; a new library folder or models at the next start.")
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(save)
        layout.addWidget(self.note)
        layout.addStretch(1)
        self.base = settings

    def _browse(self) -> None:
        d = QFileDialog.getExistingDirectory(self, "Library folder", self.library.text())
        if d:
            self.library.setText(d)

    def values(self) -> dict[str, Any]:
        return {
            "library": self.library.text(),
            "models": {"clip": self.clip.text() or self.base.models.clip, "detector": self.detector.text(),
                       "device": self.device.currentText()},
            "detection": {"enabled": self.detect.isChecked(), "score_threshold": self.score.value(),
                          "min_area": self.min_area.value()},
            "ocr": {"enabled": self.ocr.isChecked(), "engine": self.ocr_engine.currentText()},
            "faces": {"enabled": self.faces.isChecked(), "distance": self.face_distance.value()},
            "landmarks": {"threshold": self.landmark_threshold.value(), "max_km": self.max_km.value()},
            "clusters": {"eps": self.eps.value(), "min_samples": self.min_samples.value()},
            "projection": {"perplexity": self.perplexity.value(), "max_iter": self.iterations.value(),
                           "sample": self.sample.value()},
        }

    def changes(self) -> dict[str, Any]:
        """What the user changed on this page, against the settings in effect (only that is saved)."""
        now = self.base.model_dump(mode="json")
        out: dict[str, Any] = {}
        for k, v in self.values().items():
            if isinstance(v, dict):
                diff = {kk: vv for kk, vv in v.items() if not _same(now[k].get(kk), vv)}
                if diff:
                    out[k] = diff
            elif not _same(now[k], v):
                out[k] = v
        return out

    def save(self) -> None:
        try:
            changes = self.changes()
            data = self.base.model_dump(mode="json")
            for k, v in changes.items():
                data[k] = {**data[k], **v} if isinstance(v, dict) else v
            new = Settings.model_validate(data)
            new._file = self.base.file
            path = self.base.save_changes(changes)
            self.base = new
        except (OrganizerError, ValueError, OSError) as e:
            self.failed.emit(f"Settings not saved: {e}")
            return
        self.note.setText(f"Saved to {path}. Library and model changes take effect at the next start.")
        self.saved.emit(new)


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        try:
            return abs(float(a) - float(b)) < 1e-9
        except (TypeError, ValueError):
            return False
    return str(a) == str(b) if a is not None and b is not None else a == b
