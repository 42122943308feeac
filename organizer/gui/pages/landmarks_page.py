"""The landmarks found, with counts; choosing one shows its photos."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QLabel, QListWidget, QListWidgetItem, QSplitter, QVBoxLayout, QWidget

from organizer.gui.pages.gallery import Gallery
from organizer.gui.thumbnails import Thumbnails
from organizer.wording import plural


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

    def show_counts(self, counts: list[tuple[str, int]], unchecked: int = 0) -> None:
        """The landmarks found; ``unchecked``: photos still to be checked (said, rather than "not yet" for a
        library that has been checked through)."""
        self.list.clear()
        for name, n in counts:
            item = QListWidgetItem(f"{name} ({n})")
            item.setData(Qt.ItemDataRole.UserRole, name)
            self.list.addItem(item)
        pending = f" {plural(unchecked, 'photo')} still to be checked (while indexing)." if unchecked else ""
        self.status.setText((f"{len(counts)} landmarks found." if counts else
                             "No landmarks found yet." if unchecked else
                             "No landmarks found in the library's photos (a landmark is shown only when the "
                             "model is sure of it).") + pending)
