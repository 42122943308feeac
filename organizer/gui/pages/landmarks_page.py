"""The landmarks found, with counts; choosing one shows its photos."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QLabel, QListWidget, QListWidgetItem, QSplitter, QVBoxLayout, QWidget

from organizer.gui.pages.gallery import Gallery
from organizer.gui.thumbnails import Thumbnails


class LandmarksPage(QWidget):
    chosen = Signal(str)

    def __init__(self, thumbs: Thumbnails, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.status = QLabel()
        self.list = QListWidget()
        self.list.currentItemChanged.connect(
            lambda item: item is not None and self.chosen.emit(item.data(Qt.ItemDataRole.UserRole)))
        self.gallery = Gallery(thumbs)
        split = QSplitter()
        split.addWidget(self.list)
        split.addWidget(self.gallery)
        split.setSizes([280, 800])
        layout = QVBoxLayout(self)
        layout.addWidget(self.status)
        layout.addWidget(split, 1)

    def show_counts(self, counts: list[tuple[str, int]]) -> None:
        self.list.clear()
        for name, n in counts:
            item = QListWidgetItem(f"{name} ({n})")
            item.setData(Qt.ItemDataRole.UserRole, name)
            self.list.addItem(item)
        self.status.setText(f"{len(counts)} landmarks found" if counts else
                            "No landmarks found yet: photos are checked while they are indexed.")
