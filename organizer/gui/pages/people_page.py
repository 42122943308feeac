"""People: one round face per person (named people and unnamed groups alike), their photos, and the faces
that look like them to confirm or reject. Double-click a person to name them in place."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QIcon, QImage, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QLabel,
    QListView,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSplitter,
    QStyledItemDelegate,
    QVBoxLayout,
    QWidget,
)

from organizer.gui.pages.gallery import Gallery
from organizer.gui.thumbnails import FACE_SIZE, Thumbnails
from organizer.parts import Box
from organizer.wording import plural

RefRole = Qt.ItemDataRole.UserRole  # a person's name, or an unnamed group's number as text
FaceRole = Qt.ItemDataRole.UserRole + 1


class _NameEditor(QStyledItemDelegate):
    """Editing a person shows their name alone (an unnamed group: an empty field), not the photo count."""

    def setEditorData(self, editor: Any, index: Any) -> None:  # noqa: N802
        ref = str(index.data(RefRole) or "")
        editor.setText("" if ref.isdigit() else ref)


class PeoplePage(QWidget):
    chosen = Signal(str)  # ref
    renamed = Signal(str, str)  # ref, new name (a name in use merges the two)
    answered = Signal(str, list, bool)  # person, photo ids, yes (True: these are them) or no
    moved_out = Signal(str, list)  # person, photo ids whose face of theirs is someone else

    def __init__(self, thumbs: Thumbnails, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.thumbs = thumbs
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.list = QListWidget()
        self.list.setViewMode(QListView.ViewMode.IconMode)
        self.list.setIconSize(QSize(FACE_SIZE, FACE_SIZE))
        self.list.setGridSize(QSize(FACE_SIZE + 40, FACE_SIZE + 48))
        self.list.setResizeMode(QListView.ResizeMode.Adjust)
        self.list.setMovement(QListView.Movement.Static)
        self.list.setWordWrap(True)
        self.list.setEditTriggers(QAbstractItemView.EditTrigger.DoubleClicked | QAbstractItemView.EditTrigger.EditKeyPressed)
        self.list.currentItemChanged.connect(lambda item: item is not None and self.chosen.emit(item.data(RefRole)))
        self.list.setItemDelegate(_NameEditor(self.list))
        self.list.itemChanged.connect(self._edited)
        self.photos = Gallery(thumbs)
        self.suggestions = Gallery(thumbs)
        self.not_them = QPushButton("Not this person")
        self.not_them.setToolTip("The selected photos' face is someone else: take it out of this person")
        self.yes = QPushButton("Yes, this is them")
        self.no = QPushButton("Not this person")
        self.not_them.clicked.connect(self._move_out)
        self.yes.clicked.connect(lambda: self._answer(True))
        self.no.clicked.connect(lambda: self._answer(False))
        self.title = QLabel()
        self.suggest_title = QLabel("Do these show them too?")
        right = QVBoxLayout()
        row = QHBoxLayout()
        row.addWidget(self.title, 1)
        row.addWidget(self.not_them)
        right.addLayout(row)
        right.addWidget(self.photos, 2)
        row = QHBoxLayout()
        row.addWidget(self.suggest_title, 1)
        row.addWidget(self.yes)
        row.addWidget(self.no)
        right.addLayout(row)
        right.addWidget(self.suggestions, 1)
        box = QWidget()
        box.setLayout(right)
        split = QSplitter()
        split.addWidget(self.list)
        split.addWidget(box)
        split.setSizes([420, 760])
        layout = QVBoxLayout(self)
        layout.addWidget(self.status)
        layout.addWidget(split, 1)
        thumbs.face_ready.connect(self._face_ready)
        self._filling = False
        self.show_suggestions(False)

    def show_people(self, overview: Any, covers: dict[int, tuple[str, Box]],
                    off: str | None = None) -> None:
        """``covers``: face id -> (photo path, face box) of each person's cover."""
        current = self.current()
        self._filling = True
        self.list.clear()
        for p in overview.people:
            item = QListWidgetItem(f"{p.title}\n{plural(len(p.photos), 'photo')}")
            ref = p.name if p.name is not None else str(p.number)
            item.setData(RefRole, ref)
            item.setData(FaceRole, p.cover)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsEditable)
            item.setToolTip("Double-click to name" if p.name is None else "Double-click to rename (a name in "
                            "use merges the two)")
            if p.cover is not None and p.cover in covers:
                image = self.thumbs.face(p.cover, *covers[p.cover])
                if image is not None:
                    item.setIcon(QIcon(QPixmap.fromImage(image)))
            self.list.addItem(item)
            if ref == current:
                self.list.setCurrentItem(item)
        self._filling = False
        named = sum(p.name is not None for p in overview.people)
        if off:
            self.status.setText(f"Faces are off: {off}.")
        elif not overview.people:
            self.status.setText("No people yet: faces are found while photos are indexed, and grouped once two "
                                "or more look alike.")
        else:
            self.status.setText(f"{plural(named, 'person', 'people')} named, {plural(len(overview.people) - named, 'group')} "
                                "to name (double-click one).")

    def show_suggestions(self, visible: bool) -> None:
        for w in (self.suggest_title, self.yes, self.no, self.suggestions):
            w.setVisible(visible)

    def current(self) -> str | None:
        item = self.list.currentItem()
        return item.data(RefRole) if item is not None else None

    def _face_ready(self, face_id: int, image: QImage) -> None:
        for i in range(self.list.count()):
            item = self.list.item(i)
            if item.data(FaceRole) == face_id:
                self._filling = True
                item.setIcon(QIcon(QPixmap.fromImage(image)))
                self._filling = False

    def _edited(self, item: QListWidgetItem) -> None:
        if self._filling:
            return
        name = item.text().split("\n")[0].strip()
        ref = item.data(RefRole)
        if name and name != ref and not name.startswith("Unnamed "):
            self.renamed.emit(ref, name)

    def _answer(self, yes: bool) -> None:
        ref, ids = self.current(), self.suggestions.selected_ids()
        if ref and ids:
            self.answered.emit(ref, ids, yes)

    def _move_out(self) -> None:
        ref, ids = self.current(), self.photos.selected_ids()
        if ref and ids:
            self.moved_out.emit(ref, ids)
