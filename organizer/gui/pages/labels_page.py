"""The user's labels: members of each, and suggestions to confirm or reject (each answer teaches the label)."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
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
    renamed = Signal(str, str)  # old name, new name
    deleted = Signal(str)
    taken_out = Signal(str, list)  # label, photo ids taken out of it

    def __init__(self, thumbs: Thumbnails, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.list = QListWidget()
        self.list.currentItemChanged.connect(
            lambda item: item is not None and self.chosen.emit(item.data(Qt.ItemDataRole.UserRole)))
        # a label is renamed by a double-click or F2, deleted with Delete or from its menu
        self.list.itemDoubleClicked.connect(lambda _item: self.ask_rename())
        self.list.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.list.customContextMenuRequested.connect(self._menu)
        QShortcut(QKeySequence(Qt.Key.Key_F2), self.list, activated=self.ask_rename)
        QShortcut(QKeySequence.StandardKey.Delete, self.list, activated=self.ask_delete)
        self.ask_text: Callable[[str, str], str | None] = self._ask_text
        self.ask_yes: Callable[[str], bool] = self._ask_yes
        self.members = Gallery(thumbs)
        self.take_out = QPushButton("Take selected out of this label")
        self.take_out.setToolTip("The photos stay in the library; Edit > Undo puts them back in the label")
        self.take_out.clicked.connect(self._take_out)
        self.suggestions = Gallery(thumbs)
        self.confirm = QPushButton("Confirm selected")
        self.reject = QPushButton("Reject selected")
        self.confirm.clicked.connect(lambda: self._answer(True))
        self.reject.clicked.connect(lambda: self._answer(False))
        self.hint = QLabel("Label photos from any gallery: select them, right-click, Label as...")
        right = QVBoxLayout()
        top = QHBoxLayout()
        top.addWidget(QLabel("In this label"))
        top.addStretch(1)
        top.addWidget(self.take_out)
        right.addLayout(top)
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

    def _menu(self, pos) -> None:  # noqa: ANN001
        from PySide6.QtWidgets import QMenu

        if self.current() is None:
            return
        menu = QMenu(self)
        menu.addAction("Rename...", self.ask_rename)
        menu.addAction("Delete label...", self.ask_delete)
        menu.exec(self.list.viewport().mapToGlobal(pos))

    def ask_rename(self) -> None:
        name = self.current()
        if name is None:
            return
        new = self.ask_text(f"Rename {name}", name)
        if new and new.strip() and new.strip() != name:
            self.renamed.emit(name, new.strip())

    def ask_delete(self) -> None:
        name = self.current()
        if name is not None and self.ask_yes(f"Delete the label {name}? Its photos stay in the library; "
                                             "Edit > Undo brings the label back."):
            self.deleted.emit(name)

    def _take_out(self) -> None:
        name, ids = self.current(), self.members.selected_ids()
        if name and ids:
            self.taken_out.emit(name, ids)

    def _ask_text(self, title: str, text: str) -> str | None:
        from PySide6.QtWidgets import QInputDialog

        value, ok = QInputDialog.getText(self, title, "New name:", text=text)
        return value if ok else None

    def _ask_yes(self, question: str) -> bool:
        from PySide6.QtWidgets import QMessageBox

        return QMessageBox.question(self, "organizer", question) == QMessageBox.StandardButton.Yes

    def _answer(self, confirmed: bool) -> None:
        name = self.current()
        ids = [int(ix.data(PhotoIdRole)) for ix in self.suggestions.selectionModel().selectedIndexes()]
        if name and ids:
            self.answered.emit(name, ids, confirmed)
