"""Search as you type (debounced), or by a dropped photo; weights per part type, threshold, result count."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QFontMetrics, QKeyEvent
from PySide6.QtWidgets import (
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSlider,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from organizer.gui.delegate import install as install_delegate
from organizer.gui.pages.gallery import Gallery
from organizer.gui.thumbnails import Thumbnails
from organizer.parts import PART_TYPES
from organizer.search.engine import SearchQuery

SLIDER_STEPS = 300  # a slider's 0..300 is a weight 0..3 in steps of 0.01


class QueryBox(QLineEdit):
    image_dropped = Signal(str)
    down_pressed = Signal()  # the arrow keys then move through the results

    def keyPressEvent(self, e: QKeyEvent) -> None:  # noqa: N802
        if e.key() == Qt.Key.Key_Down:
            self.down_pressed.emit()
            e.accept()
            return
        super().keyPressEvent(e)

    def __init__(self) -> None:
        super().__init__()
        self.setAcceptDrops(True)
        self.setPlaceholderText("Search: type words, or drop a photo here (Ctrl+F)")
        self.setClearButtonEnabled(True)

    def dragEnterEvent(self, e: QDragEnterEvent) -> None:  # noqa: N802
        if e.mimeData().hasUrls():
            e.acceptProposedAction()
        else:
            super().dragEnterEvent(e)

    def dropEvent(self, e: QDropEvent) -> None:  # noqa: N802
        urls = [u.toLocalFile() for u in e.mimeData().urls() if u.isLocalFile()]
        if urls:
            self.image_dropped.emit(urls[0])
            e.acceptProposedAction()
        else:
            super().dropEvent(e)


class SearchPage(QWidget):
    query_changed = Signal(object)  # SearchQuery, debounced

    def __init__(self, thumbs: Thumbnails, defaults: dict[str, float], threshold: float, top_k: int,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.box = QueryBox()
        self.image_label = QLabel()
        self.clear_image = QPushButton("Clear photo")
        self.clear_image.setVisible(False)
        self.status = QLabel()
        self.results = Gallery(thumbs)
        install_delegate(self.results)  # outlines the part that matched on each result
        self.image_path: str | None = None
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(300)
        self.timer.timeout.connect(self._emit)
        self.box.textChanged.connect(lambda _: self.timer.start())
        self.box.returnPressed.connect(self._emit)
        self.box.image_dropped.connect(self.set_image)
        self.box.down_pressed.connect(self._into_results)
        self.clear_image.clicked.connect(lambda: self.set_image(None))

        self.sliders: dict[str, QSlider] = {}
        self.weight_labels: dict[str, QLabel] = {}
        weights = QGroupBox("Weights")
        form = QFormLayout(weights)
        for t in PART_TYPES:
            s = QSlider(Qt.Orientation.Horizontal)
            s.setRange(0, SLIDER_STEPS)
            s.setValue(round(defaults.get(t, 1.0) * 100))
            s.valueChanged.connect(lambda _: self.timer.start())
            self.sliders[t] = s
            value = QLabel(_weight_words(s.value()))  # the weight, said beside its slider
            value.setMinimumWidth(QFontMetrics(value.font()).horizontalAdvance("off ") + 4)
            s.valueChanged.connect(lambda v, label=value: label.setText(_weight_words(v)))
            self.weight_labels[t] = value
            row = QHBoxLayout()
            row.addWidget(s, 1)
            row.addWidget(value)
            form.addRow(t, row)
        self.threshold = QDoubleSpinBox()
        self.threshold.setRange(-1.0, 1.0)  # scores never reach 1 (search.ranking.soft_cap)
        self.threshold.setSingleStep(0.05)
        self.threshold.setValue(threshold)
        self.threshold.valueChanged.connect(lambda _: self.timer.start())
        self.top = QSpinBox()
        self.top.setRange(1, 500)
        self.top.setValue(top_k)
        self.top.valueChanged.connect(lambda _: self.timer.start())
        form.addRow("Threshold", self.threshold)
        form.addRow("Results", self.top)
        weights.setMaximumWidth(300)

        left = QVBoxLayout()
        row = QHBoxLayout()
        row.addWidget(self.box, 1)
        row.addWidget(self.image_label)
        row.addWidget(self.clear_image)
        left.addLayout(row)
        left.addWidget(self.status)
        left.addWidget(self.results, 1)
        layout = QHBoxLayout(self)
        layout.addLayout(left, 1)
        layout.addWidget(weights)

    def weights(self) -> dict[str, float]:
        return {t: s.value() / 100 for t, s in self.sliders.items()}

    def set_image(self, path: str | None) -> None:
        """Search by this photo (None: by the text again). A dropped photo replaces the typed words, which
        stayed in the box and looked like part of the query."""
        self.image_path = path
        if path:
            self.box.blockSignals(True)
            self.box.clear()
            self.box.blockSignals(False)
        self.image_label.setText(f"Photo: {Path(path).name}" if path else "")
        self.clear_image.setVisible(bool(path))
        self._emit()

    def query(self) -> SearchQuery | None:
        text = self.box.text().strip()
        if not text and not self.image_path:
            return None
        return SearchQuery(text=None if self.image_path else text, image=self.image_path, weights=self.weights(),
                           threshold=self.threshold.value(), top_k=self.top.value())

    def _into_results(self) -> None:
        """Down from the search box: to the first result (the arrow keys move on, Enter opens one)."""
        if self.results.model().rowCount() == 0:
            return
        self.results.setFocus()
        first = self.results.model().index(0, 0)
        self.results.setCurrentIndex(first)

    def _emit(self) -> None:
        self.timer.stop()
        q = self.query()
        if q is None:
            self.results.set_rows([])
            self.status.setText("")
            return
        self.status.setText("Searching...")
        self.query_changed.emit(q)


def _weight_words(step: int) -> str:
    """A slider's weight as a person reads it: "off" at 0, else the multiplier ("x1.0", "x2.5")."""
    return "off" if step == 0 else f"x{step / 100:.1f}"
