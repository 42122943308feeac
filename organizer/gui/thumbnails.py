"""Thumbnails made in background threads and cached on disk in the library's thumbnails/ folder."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal
from PySide6.QtGui import QImage

from organizer.media.decode import SkipError, load

SIZE = 192


class _Signals(QObject):
    ready = Signal(int, QImage)


class _Job(QRunnable):
    def __init__(self, photo_id: int, path: str, target: Path, signals: _Signals) -> None:
        super().__init__()
        self.photo_id, self.path, self.target, self.signals = photo_id, path, target, signals

    def run(self) -> None:
        image = QImage(str(self.target)) if self.target.is_file() else QImage()
        if image.isNull():
            try:
                im = load(self.path, min_side=SIZE, max_side=SIZE * 2).image
                im.thumbnail((SIZE, SIZE))
                self.target.parent.mkdir(parents=True, exist_ok=True)
                im.save(self.target, "JPEG", quality=85)
                image = QImage(str(self.target))
            except (SkipError, OSError):
                return
        self.signals.ready.emit(self.photo_id, image)


class Thumbnails(QObject):
    ready = Signal(int, QImage)

    def __init__(self, library: Path, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.folder = Path(library) / "thumbnails"
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(2)
        self._signals = _Signals()
        self._signals.ready.connect(self._done)
        self._asked: set[int] = set()
        self.images: dict[int, QImage] = {}

    def get(self, photo_id: int, path: str, key: str | None) -> QImage | None:
        img = self.images.get(photo_id)
        if img is None and photo_id not in self._asked:
            self._asked.add(photo_id)
            name = key or str(photo_id)
            self.pool.start(_Job(photo_id, path, self.folder / name[:2] / f"{name}.jpg", self._signals))
        return img

    def _done(self, photo_id: int, image: QImage) -> None:
        if len(self.images) > 5000:  # keep memory bounded; the disk cache stays
            self.images.clear()
            self._asked.clear()
        self.images[photo_id] = image
        self.ready.emit(photo_id, image)

    def wait(self, ms: int = 10000) -> None:
        """Drop the thumbnails not started yet and wait for the few being made (quitting is quick)."""
        self.pool.clear()
        self.pool.waitForDone(ms)
