"""The user's labels: members of each, and suggestions to confirm or reject (each answer teaches the label)."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from organizer.gui.models import PhotoIdRole
from organizer.gui.pages.gallery import Gallery
from organizer.gui.thumbnails import Thumbnails


class LabelsPage(QWidget):
    chosen = Signal(str)
    answered = Signal(str, list, bool)  # label, photo ids, confirmed (True) or rejected (False)

    def __init__(self, thumbs: Thumbnails, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.list = QListWidget()
        self.list.currentItemChanged.connect(
            lambda item: item is not None and self.chosen.emit(item.data(Qt.ItemDataRole.UserRole)))
        self.members = Gallery(thumbs)
        self.suggestions = Gallery(thumbs)
        self.confirm = QPushButton("Confirm selected")
        self.reject = QPushButton("Reject selected")
        self.confirm.clicked.connect(lambda: self._answer(True))
        self.reject.clicked.connect(lambda: self._answer(False))
        self.hint = QLabel("Label photos from any gallery: select them, right-click, Label as...")
        right = QVBoxLayout()
        right.addWidget(QLabel("In this label"))
        right.addWidget(self.members, 1)
        row = QHBoxLayout()
        row.addWidget(QLabel("Suggestions: do these show it too?"))
        row.addStretch(1)
        row.addWidget(self.confirm)
        row.addWidget(self.reject)
        right.addLayout(row)
        right.addWidget(self.suggestions, 1)
        box = QWidget()
        box.setLayout(right)
        split = QSplitter()
        split.addWidget(self.list)
        split.addWidget(box)
        split.setSizes([240, 900])
        layout = QVBoxLayout(self)
        layout.addWidget(self.hint)
        layout.addWidget(split, 1)

    def show_labels(self, infos: list) -> None:
        current = self.current()
        self.list.clear()
        for i in infos:
            item = QListWidgetItem(f"{i.name} ({i.photos})")
            item.setData(Qt.ItemDataRole.UserRole, i.name)
            self.list.addItem(item)
            if i.name == current:
                self.list.setCurrentItem(item)

    def current(self) -> str | None:
        item = self.list.currentItem()
        return item.data(Qt.ItemDataRole.UserRole) if item is not None else None

    def _answer(self, confirmed: bool) -> None:
        name = self.current()
        ids = [int(ix.data(PhotoIdRole)) for ix in self.suggestions.selectionModel().selectedIndexes()]
        if name and ids:
            self.answered.emit(name, ids, confirmed)
