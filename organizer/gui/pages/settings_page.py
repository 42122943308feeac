"""Settings: the core's settings object as a form; defaults as the core defines them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

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
from organizer.settings import FieldSpec, Settings, field_spec


def _bounds(spec: FieldSpec, step: float) -> tuple[float, float]:
    """The setting's own bounds, from the settings model (one place for them: the page kept narrower copies
    and clamped a value from the file on Save, with no edit made); an open end is ``step`` inside it, a missing
    one as far as a spin box goes."""
    lo = -1e9 if spec.lo is None else spec.lo + (step if spec.lo_open else 0.0)
    hi = 1e9 if spec.hi is None else spec.hi - (step if spec.hi_open else 0.0)
    return lo, hi


@dataclass(frozen=True)
class Row:
    """One setting on the page: where it is in the settings, its words, and (numbers) the step and decimals."""

    path: str  # "clusters.eps"
    label: str | None  # None: a check box, which names itself
    tip: str
    step: float = 1.0
    decimals: int = 3


ROWS: tuple[Row, ...] = (
    Row("models.detector", "Object detector", "Finds people, animals, vehicles... in each photo."),
    Row("models.device", "Device", "Where the models run: 'auto' takes a GPU when there is one."),
    Row("detection.enabled", "Find objects", "Find objects in each photo so that they can be searched on their own."),
    Row("detection.score_threshold", "How sure a found object must be", "Objects found with less confidence are "
        "ignored (0 to 1; detection score threshold).", 0.05),
    Row("detection.min_area", "Smallest object (share of the photo)", "Smaller objects are ignored.", 0.005, 4),
    Row("ocr.enabled", "Read text (OCR)", "Read text in photos (signs, documents, screenshots) so that it can be "
        "searched."),
    Row("ocr.engine", "Text reader", "The OCR engine."),
    Row("faces.enabled", "Find faces (People)", "Find faces and group them by person on the People page."),
    Row("faces.distance", "How alike two faces must be to be one person", "Smaller: stricter (fewer wrong "
        "matches, more groups to name); larger: looser (the face descriptor distance; dlib publishes 0.6).", 0.05),
    Row("landmarks.threshold", "How sure a landmark must be", "A landmark is shown only above this probability "
        "(0 to 1).", 0.05),
    Row("landmarks.max_km", "Landmark distance from the photo's GPS (km)", "With GPS, landmarks farther than this "
        "are ruled out.", 1, 1),
    Row("clusters.eps", "How alike photos must be to group", "Smaller: only near-identical photos group; larger: "
        "looser groups (the cosine distance DBSCAN calls eps).", 0.01),
    Row("clusters.min_samples", "Smallest group", "How many photos make a group (DBSCAN's min samples)."),
    Row("projection.perplexity", "Map: neighbourhood size", "How many neighbours each photo keeps close on the map "
        "(t-SNE perplexity).", 1, 1),
    Row("projection.max_iter", "Map: refinement steps", "More steps: a tidier map, computed more slowly (t-SNE "
        "iterations)."),
    Row("projection.sample", "Map: photos laid out exactly", "Above this many, the rest are placed beside their "
        "nearest laid-out neighbours (t-SNE sample size)."),
)


def editor(row: Row, value: Any) -> QWidget:
    """The widget for one setting, chosen by its declaration: a check box, a list of its choices, a spin box
    within its bounds, or a line of text."""
    spec = field_spec(row.path)
    if spec.type is bool:
        box = QCheckBox(row.label or "")
        box.setChecked(bool(value))
        return box
    if spec.choices is not None:
        combo = QComboBox()
        combo.addItems(list(spec.choices))
        combo.setCurrentText(str(value))
        return combo
    if spec.type is int:
        ispin = QSpinBox()
        lo, hi = _bounds(spec, 1)
        ispin.setRange(int(max(lo, -(2**31) + 1)), int(min(hi, 2**31 - 1)))
        ispin.setValue(int(value))
        return ispin
    if spec.type is float:
        spin = QDoubleSpinBox()
        spin.setRange(*_bounds(spec, 10.0 ** -row.decimals))
        spin.setSingleStep(row.step)
        spin.setDecimals(row.decimals)
        spin.setValue(float(value))
        return spin
    return QLineEdit("" if value is None else str(value))


def read(widget: QWidget) -> Any:
    """What an :func:`editor` holds now."""
    if isinstance(widget, QCheckBox):
        return widget.isChecked()
    if isinstance(widget, QComboBox):
        return widget.currentText()
    if isinstance(widget, QSpinBox | QDoubleSpinBox):
        return widget.value()
    assert isinstance(widget, QLineEdit)
    return widget.text()


def _value(settings: Settings, path: str) -> Any:
    obj: Any = settings
    for name in path.split("."):
        obj = getattr(obj, name)
    return obj


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
        default_clip = field_spec("models.clip").default
        if s.models.dir is not None and s.models.clip == default_clip and (Path(s.models.dir) / "clip").is_dir():
            # the models folder decides: show that, not the hub default it stands in for
            self.clip.setText("")
            self.clip.setPlaceholderText(f"from the models folder: {Path(s.models.dir) / 'clip'}")
        # every other setting on the page: its widget built from its declaration in the settings model
        self.editors: dict[str, QWidget] = {row.path: editor(row, _value(s, row.path)) for row in ROWS}
        e = self.editors
        self.detector, self.device = e["models.detector"], e["models.device"]
        self.detect, self.score, self.min_area = e["detection.enabled"], e["detection.score_threshold"], \
            e["detection.min_area"]
        self.ocr, self.ocr_engine = e["ocr.enabled"], e["ocr.engine"]
        self.faces, self.face_distance = e["faces.enabled"], e["faces.distance"]
        self.landmark_threshold, self.max_km = e["landmarks.threshold"], e["landmarks.max_km"]
        self.eps, self.min_samples = e["clusters.eps"], e["clusters.min_samples"]
        self.perplexity, self.iterations, self.sample = e["projection.perplexity"], e["projection.max_iter"], \
            e["projection.sample"]
        form = QFormLayout()
        rows: list[tuple[str | None, QWidget, str]] = [
            ("Library folder", lib_row_widget := QWidget(), "Where the database, thumbnails and backups live. "
             "Takes effect at the next start."),
            ("CLIP model (id or folder)", self.clip, "The model that understands the photos. A change re-analyses "
             "every photo at the next start."),
            *((None if isinstance(e[r.path], QCheckBox) else r.label, e[r.path], r.tip) for r in ROWS),
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
        out: dict[str, Any] = {"library": self.library.text(),
                               "models": {"clip": self.clip.text() or self.base.models.clip}}
        for path, widget in self.editors.items():
            section, name = path.split(".")
            out.setdefault(section, {})[name] = read(widget)
        return out

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
