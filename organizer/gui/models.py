"""Item models for the gallery and search results, over plain core data."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PySide6.QtCore import QAbstractListModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor, QImage, QPixmap

from organizer.gui.thumbnails import SIZE, Thumbnails
from organizer.paths import display

PhotoIdRole = Qt.ItemDataRole.UserRole
PathRole = Qt.ItemDataRole.UserRole + 1
ScoreRole = Qt.ItemDataRole.UserRole + 2
PartsRole = Qt.ItemDataRole.UserRole + 3
MissingRole = Qt.ItemDataRole.UserRole + 5  # the photo's files are not there (a badge on its picture)
DurationRole = Qt.ItemDataRole.UserRole + 6  # a video's length in seconds (a badge on its poster frame)
KindRole = Qt.ItemDataRole.UserRole + 7  # "RAW" (a RAW kept with it), "LIVE" (a motion clip) or None


@dataclass(slots=True)
class Row:
    photo_id: int
    path: str
    key: str | None = None  # thumbnail cache key (the photo's hash)
    score: float | None = None
    parts: list[Any] = field(default_factory=list)  # PartMatch of a search result
    missing: bool = False  # the file was not found at the last scan (kept, shown as missing)
    taken_at: str | None = None  # ISO 8601: the library's timeline groups by it
    stored_missing: bool = False  # missing by the library (the last scan), whatever the folder checks say
    day_first: int = -1  # the row of its day's first photo (-1: the gallery is not grouped by day)
    day_size: int = 0  # on a day's first photo: how many photos the day has
    duration: float | None = None  # a video's length in seconds
    kind: str | None = None  # "RAW" or "LIVE": what the gallery marks on the picture

    @classmethod
    def of(cls, r: Any, missing: bool = False) -> Row:
        """A gallery row for the library's PhotoRow ``r`` (``missing``: shown as missing whatever it says)."""
        return cls(r.id, r.path, r.hash, missing=r.missing or missing, taken_at=r.taken_at, stored_missing=r.missing,
                   duration=getattr(r, "duration", None),
                   kind="LIVE" if getattr(r, "live", False) else "RAW" if getattr(r, "raw", False) else None)


class PhotoListModel(QAbstractListModel):
    """Photos with lazily made thumbnails; a view asks only for the rows it shows (virtualised)."""

    def __init__(self, thumbs: Thumbnails, parent: Any = None) -> None:
        super().__init__(parent)
        self.rows: list[Row] = []
        self.thumbs = thumbs
        self._row_of: dict[int, int] = {}
        thumbs.ready.connect(self._thumb_ready)
        placeholder = QImage(SIZE, SIZE, QImage.Format.Format_RGB32)
        placeholder.fill(QColor(60, 60, 60))
        self._placeholder = QPixmap.fromImage(placeholder)
        self._pixmaps: dict[int, QPixmap] = {}

    def set_rows(self, rows: list[Row]) -> None:
        self.beginResetModel()
        self.rows = rows
        self._row_of = {r.photo_id: i for i, r in enumerate(rows)}
        self.endResetModel()

    def mark_offline(self, prefixes: tuple[str, ...]) -> int:
        """Photos under ``prefixes`` (folders not there now) marked missing, the others as the library has them,
        in place: the view repaints them (a dataChanged over every row made the view lay out all of them
        again, 0.4 s at 10k photos). Returns how many are missing now."""
        for r in self.rows:
            r.missing = r.stored_missing or (bool(prefixes) and r.path.startswith(prefixes))
        return sum(r.missing for r in self.rows)

    def row_of(self, photo_id: int) -> int | None:
        """The row showing the photo, if it is shown."""
        return self._row_of.get(photo_id)

    def photo_ids(self) -> list[int]:
        return [r.photo_id for r in self.rows]

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.rows)

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.row() >= len(self.rows):
            return None
        r = self.rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            name = display(Path(r.path).name) + (" (missing)" if r.missing else "")
            return f"{r.score:.2f}  {name}" if r.score is not None else name
        if role == Qt.ItemDataRole.DecorationRole:
            pm = self._pixmaps.get(r.photo_id)
            if pm is None:
                img = self.thumbs.get(r.photo_id, r.path, r.key)
                if img is None:
                    return self._placeholder
                pm = self._pixmaps[r.photo_id] = QPixmap.fromImage(img)
            return pm
        if role == Qt.ItemDataRole.ToolTipRole:
            return display(r.path) + ("\nMissing: not found at the last scan (an unplugged drive or a moved "
                                      "folder?). Kept with its analysis and labels." if r.missing else "")
        if role == PhotoIdRole:
            return r.photo_id
        if role == PathRole:
            return r.path
        if role == ScoreRole:
            return r.score
        if role == PartsRole:
            return r.parts
        if role == MissingRole:
            return r.missing
        if role == DurationRole:
            return r.duration
        if role == KindRole:
            return r.kind
        return None

    def _thumb_ready(self, photo_id: int, _image: QImage) -> None:
        row = self.row_of(photo_id)
        if row is not None:
            idx = self.index(row)
            self.dataChanged.emit(idx, idx, [Qt.ItemDataRole.DecorationRole])
