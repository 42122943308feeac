"""Clusters with name, size and cover; choosing one shows its photos."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QIcon, QPixmap
from PySide6.QtWidgets import (
    QListWidget,
    QListWidgetItem,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from organizer.gui.pages.analysis_bar import AnalysisBar
from organizer.gui.pages.gallery import Gallery
from organizer.gui.thumbnails import Thumbnails
from organizer.wording import plural

if TYPE_CHECKING:
    from organizer.analysis.clusters import ClusterResult


class ClustersPage(QWidget):
    compute = Signal(bool, bool)  # parts mode, force
    chosen = Signal(int)  # cluster label

    def __init__(self, thumbs: Thumbnails, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.thumbs = thumbs
        self.bar = AnalysisBar()
        self.parts, self.button, self.status = self.bar.parts, self.bar.button, self.bar.status
        self.bar.compute.connect(self.compute)
        self.list = QListWidget()
        self.list.setIconSize(QSize(96, 96))
        self.list.currentItemChanged.connect(self._chosen)
        self.gallery = Gallery(thumbs)
        split = QSplitter()
        split.addWidget(self.list)
        split.addWidget(self.gallery)
        split.setSizes([320, 800])
        layout = QVBoxLayout(self)
        layout.addWidget(self.bar)
        layout.addWidget(split, 1)
        self._covers: dict[int, tuple[int, str, str | None]] = {}
        thumbs.ready.connect(self._thumb)

    def show_result(self, result: ClusterResult, covers: Mapping[int, tuple[str, str | None]]) -> None:
        self.list.clear()
        self._covers = {}
        for c in result.clusters:
            item = QListWidgetItem(f"{c.name}\n{plural(c.photos, 'photo')}")
            item.setData(Qt.ItemDataRole.UserRole, c.label)
            cover = c.cover_photo_id
            if cover is not None and cover in covers:
                path, key = covers[cover]
                self._covers[cover] = (self.list.count(), path, key)
                img = self.thumbs.get(cover, path, key)
                if img is not None:
                    item.setIcon(QIcon(QPixmap.fromImage(img)))
            self.list.addItem(item)
        found = sum(1 for c in result.clusters if c.label >= 0)
        how = "unchanged since the last run" if result.reused else f"{result.seconds:.1f} s"
        self.status.setText(f"{plural(found, 'cluster')} over {plural(result.points, 'vector')} ({how})")
        if self.list.count():
            self.list.setCurrentRow(0)
        else:  # nothing to show (no objects found yet): not the previous result's photos
            self.gallery.set_rows([])
            self.status.setText("Nothing to group yet: " + ("no objects have been found in the photos."
                                if getattr(result, "mode", "") == "parts" else "no photos have a vector yet."))

    def _thumb(self, photo_id: int, image: object) -> None:
        hit = self._covers.get(photo_id)
        if hit is not None and hit[0] < self.list.count():
            self.list.item(hit[0]).setIcon(QIcon(QPixmap.fromImage(image)))  # type: ignore[arg-type]

    def _chosen(self, item: QListWidgetItem | None) -> None:
        if item is not None:
            self.chosen.emit(int(item.data(Qt.ItemDataRole.UserRole)))
