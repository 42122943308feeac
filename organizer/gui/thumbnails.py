"""Thumbnails made in background threads and cached on disk in the library's thumbnails/ folder."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PIL import Image, ImageDraw
from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal
from PySide6.QtGui import QImage

from organizer.media.decode import SkipError, load
from organizer.parts import Box

SIZE = 192
FACE_SIZE = 96


class _Signals(QObject):
    ready = Signal(int, QImage)


class _Job(QRunnable):
    """Read ``target`` from the disk cache, or make it (``make``) and cache it; then say it is ready."""

    def __init__(self, key: int, target: Path, make: Callable[[], Image.Image], signals: _Signals) -> None:
        super().__init__()
        self.key, self.target, self.make, self.signals = key, target, make, signals

    def run(self) -> None:
        image = QImage(str(self.target)) if self.target.is_file() else QImage()
        if image.isNull():
            try:
                im = self.make()
                self.target.parent.mkdir(parents=True, exist_ok=True)
                im.save(self.target, quality=85)
                image = QImage(str(self.target))
            except (SkipError, OSError):
                return
        self.signals.ready.emit(self.key, image)


def _thumbnail(path: str) -> Image.Image:
    im = load(path, min_side=SIZE, max_side=SIZE * 2).image
    im.thumbnail((SIZE, SIZE))
    return im


def round_face(path: str, box: Box) -> Image.Image:
    """A face as a round picture: a square around its box (with some hair and chin), masked to a circle."""
    im = load(path, max_side=1600).image
    w, h = im.size
    cx, cy = (box[0] + box[2]) / 2 * w, (box[1] + box[3]) / 2 * h
    half = max((box[2] - box[0]) * w, (box[3] - box[1]) * h) * 0.8
    face = im.crop((int(cx - half), int(cy - half), int(cx + half), int(cy + half))).convert("RGB")
    face = face.resize((FACE_SIZE, FACE_SIZE), Image.Resampling.LANCZOS)
    mask = Image.new("L", face.size, 0)
    ImageDraw.Draw(mask).ellipse((0, 0, FACE_SIZE - 1, FACE_SIZE - 1), fill=255)
    face.putalpha(mask)
    return face


class Thumbnails(QObject):
    ready = Signal(int, QImage)
    face_ready = Signal(int, QImage)  # face part id, its round picture

    def __init__(self, library: Path, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.folder = Path(library) / "thumbnails"
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(2)
        self._signals = _Signals()
        self._signals.ready.connect(self._done)
        self._face_signals = _Signals()
        self._face_signals.ready.connect(self._face_done)
        self._asked: set[int] = set()
        self.images: dict[int, QImage] = {}
        self.faces: dict[int, QImage] = {}

    def get(self, photo_id: int, path: str, key: str | None) -> QImage | None:
        img = self.images.get(photo_id)
        if img is None and photo_id not in self._asked:
            self._asked.add(photo_id)
            name = key or str(photo_id)
            target = self.folder / name[:2] / f"{name}.jpg"
            self.pool.start(_Job(photo_id, target, lambda: _thumbnail(path), self._signals))
        return img

    def face(self, face_id: int, path: str, box: Box) -> QImage | None:
        """A face's round picture (made in the background the first time: ``face_ready`` says when)."""
        img = self.faces.get(face_id)
        if img is None:
            target = self.folder / "faces" / f"{face_id}.png"
            self.pool.start(_Job(face_id, target, lambda: round_face(path, box), self._face_signals))
        return img

    def _face_done(self, face_id: int, image: QImage) -> None:
        self.faces[face_id] = image
        self.face_ready.emit(face_id, image)

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
