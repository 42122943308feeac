"""A gallery of thumbnails (a virtualised list view), reused by the library, clusters and landmarks pages."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QSize, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QListView,
    QVBoxLayout,
    QWidget,
)

from organizer.gui.models import PhotoIdRole, PhotoListModel, Row
from organizer.gui.thumbnails import SIZE, Thumbnails
from organizer.wording import plural


class Gallery(QListView):
    opened = Signal(int, object)  # photo_id, the row's parts (search results) or None
    label_requested = Signal(list)  # photo ids of the selection

    def __init__(self, thumbs: Thumbnails, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model_ = PhotoListModel(thumbs, self)
        self.setModel(self.model_)
        self.setViewMode(QListView.ViewMode.IconMode)
        self.setIconSize(QSize(SIZE, SIZE))
        self.setGridSize(QSize(SIZE + 20, SIZE + 40))
        self.setUniformItemSizes(True)
        # Uniform item sizes make a single layout pass cheap (0.4 s for 100k photos); the batched mode
        # left the scroll range short of the last rows here.
        self.setLayoutMode(QListView.LayoutMode.SinglePass)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setMovement(QListView.Movement.Static)
        self.setWordWrap(True)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.activated.connect(self._open)  # Enter or double-click
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.customContextMenuRequested.connect(self._menu)

    def set_rows(self, rows: list[Row]) -> None:
        self.model_.set_rows(rows)
        if rows:
            self.setCurrentIndex(self.model_.index(0))

    def selected_ids(self) -> list[int]:
        return [int(ix.data(PhotoIdRole)) for ix in self.selectionModel().selectedIndexes()]

    def _menu(self, pos) -> None:  # noqa: ANN001
        from PySide6.QtWidgets import QMenu

        ids = self.selected_ids()
        if not ids:
            return
        menu = QMenu(self)
        menu.addAction(f"Label as... ({len(ids)} photo{'s' if len(ids) > 1 else ''})",
                       lambda: self.label_requested.emit(ids))
        menu.exec(self.viewport().mapToGlobal(pos))

    def _open(self, index: QModelIndex) -> None:
        row = self.model_.rows[index.row()]
        self.opened.emit(int(index.data(PhotoIdRole)), row.parts or None)


class LibraryPage(QWidget):
    """Every photo, sorted by date taken or by path; refreshed as photos are stored."""

    def __init__(self, thumbs: Thumbnails, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.sort = QComboBox()
        self.sort.addItems(["Date taken", "Path"])
        self.count = QLabel()
        self.empty = QLabel("Drop folders of photos here, or use File > Add Folder.")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.gallery = Gallery(thumbs)
        top = QHBoxLayout()
        top.addWidget(QLabel("Sort by"))
        top.addWidget(self.sort)
        top.addStretch(1)
        top.addWidget(self.count)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.empty)
        layout.addWidget(self.gallery, 1)

    def order(self) -> str:
        return "path" if self.sort.currentIndex() == 1 else "date"

    def show_rows(self, rows: list[Row]) -> None:
        self.gallery.set_rows(rows)
        self.count.setText(plural(len(rows), "photo"))
        self.empty.setVisible(not rows)
