"""Places: the photos with GPS on a world map (offline, Natural Earth's outlines), as pins clustered by
how close they fall on screen; wheel to zoom, drag to pan, click a pin for its photos."""

from __future__ import annotations

from functools import cache
from typing import Any

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont, QPainter, QPainterPath, QPen, QPolygonF
from PySide6.QtWidgets import QLabel, QSplitter, QVBoxLayout, QWidget

from organizer.gui.basemap import country_rings
from organizer.gui.pages.gallery import Gallery
from organizer.gui.thumbnails import Thumbnails
from organizer.wording import plural

CELL = 36  # pixels: pins closer than this on screen become one cluster


@cache
def land_path() -> QPainterPath:
    """The countries as one path in (longitude, -latitude), built once per process: a polygon per ring (one
    call each; a few thousand lineTo calls per window wore down PySide6's count of None and crashed).

    A ring that crosses the antimeridian (Russia's far east, Fiji) is made continuous (its longitudes run past
    180) and drawn twice, once shifted round the world, so each side shows its part; the map is clipped to
    -180..180. A ring round a pole (Antarctica) is closed along the pole."""
    path = QPainterPath()
    for _, rings in country_rings():
        for ring in rings:
            pts = unwrapped(ring)
            if abs(pts[-1][0] - pts[0][0]) > 180:  # once round the world: round a pole
                pole = -90.0 if sum(y for _, y in pts) < 0 else 90.0
                pts = [*pts, (pts[-1][0], pole), (pts[0][0], pole)]
            xs = [x for x, _ in pts]
            shifts = [0.0] + ([-360.0] if max(xs) > 180 else []) + ([360.0] if min(xs) < -180 else [])
            for shift in shifts:
                path.addPolygon(QPolygonF([QPointF(x + shift, -y) for x, y in pts]))
    return path


def unwrapped(ring: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """``ring`` with each longitude moved by whole turns to within 180 of the one before (no edge across the
    whole map where the ring crosses the antimeridian)."""
    out: list[tuple[float, float]] = []
    turn = 0.0
    for i, (x, y) in enumerate(ring):
        if i:
            prev = ring[i - 1][0]
            if x - prev > 180:
                turn -= 360.0
            elif prev - x > 180:
                turn += 360.0
        out.append((x + turn, y))
    return out


class MapView(QWidget):
    """Equirectangular world map; a view transform (zoom, centre) over longitude/latitude."""

    chosen = Signal(list)  # photo ids of the clicked cluster

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMinimumSize(400, 240)
        self.setMouseTracking(True)
        self.zoom = 1.0  # 1: the whole world fits the width
        self.centre = QPointF(0.0, 20.0)  # longitude, latitude
        self.ids = np.zeros(0, np.int64)
        self.lonlat = np.zeros((0, 2), np.float64)
        self.clusters: list[tuple[QPointF, list[int]]] = []
        self._press: QPointF | None = None
        self._moved = False
        self._fitted = False
        self._land = land_path()

    def set_points(self, ids: list[int], lonlat: list[tuple[float, float]]) -> None:
        self.ids = np.asarray(ids, np.int64)
        self.lonlat = np.asarray(lonlat, np.float64).reshape(-1, 2)
        self._fitted = False  # fitted to the photos at the size the map is shown at (see resizeEvent)
        self.fit()
        self.update()

    def fit(self) -> None:
        """Centre on the photos, zoomed so that every pin is inside the map with a margin, at the map's own size
        (it was zoomed for a 2:1 map whatever its size, and opened showing 16 of 18 pins)."""
        if not len(self.ids):
            return
        lo, hi = self.lonlat.min(0), self.lonlat.max(0)
        self.centre = QPointF(float((lo[0] + hi[0]) / 2), float((lo[1] + hi[1]) / 2))
        room = 0.8  # of the map's width and height, the rest a margin round the outer pins
        w, h = max(self.width(), 1), max(self.height(), 1)
        by_lon = room * 360.0 / max(float(hi[0] - lo[0]), 1e-6)
        by_lat = room * 360.0 * h / w / max(float(hi[1] - lo[1]), 1e-6)
        self.zoom = float(np.clip(min(by_lon, by_lat), 1.0, 200.0))

    def resizeEvent(self, e: Any) -> None:  # noqa: N802 - Qt's name
        if not self._fitted and not self._moved:  # the first real size: fit the pins to it
            self.fit()
            self._fitted = self.isVisible()
        super().resizeEvent(e)

    def scale(self) -> float:
        return self.width() / 360.0 * self.zoom

    def to_screen(self, lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        s = self.scale()
        return (lon - self.centre.x()) * s + self.width() / 2, (self.centre.y() - lat) * s + self.height() / 2

    def recluster(self) -> list[tuple[QPointF, list[int]]]:
        """The pins as they fall on screen now: (centre, photo ids) of each cluster."""
        self.clusters = []
        if not len(self.ids):
            return self.clusters
        x, y = self.to_screen(self.lonlat[:, 0], self.lonlat[:, 1])
        cells: dict[tuple[int, int], list[int]] = {}
        for i, key in enumerate(zip((x // CELL).astype(int).tolist(), (y // CELL).astype(int).tolist(), strict=True)):
            cells.setdefault(key, []).append(i)
        for members in cells.values():
            self.clusters.append((QPointF(float(x[members].mean()), float(y[members].mean())),
                                  [int(self.ids[i]) for i in members]))
        return self.clusters

    def paintEvent(self, _e: Any) -> None:  # noqa: N802 - Qt's name
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.fillRect(self.rect(), QColor(170, 200, 225))
        s = self.scale()
        p.save()
        p.translate(self.width() / 2 - self.centre.x() * s, self.height() / 2 + self.centre.y() * s)
        p.scale(s, s)
        p.setClipRect(QRectF(-180, -90, 360, 180))  # the world once (the copies past the antimeridian cut off)
        p.setPen(QPen(QColor(120, 120, 110), 0))
        p.setBrush(QBrush(QColor(236, 232, 218)))
        p.drawPath(self._land)
        p.restore()
        self.recluster()
        font = QFont()
        font.setPixelSize(11)
        font.setBold(True)
        p.setFont(font)
        for centre, members in self.clusters:
            r = 7 + min(14, 3 * np.log2(len(members)))
            p.setPen(QPen(QColor(255, 255, 255), 2))
            p.setBrush(QBrush(QColor(214, 64, 52)))
            p.drawEllipse(centre, r, r)
            if len(members) > 1:
                p.setPen(QColor(255, 255, 255))
                p.drawText(QRectF(centre.x() - r, centre.y() - r, 2 * r, 2 * r), Qt.AlignmentFlag.AlignCenter,
                           str(len(members)))
        p.end()

    def cluster_at(self, pos: QPointF) -> list[int] | None:
        best = None
        for centre, members in self.recluster():
            d = (centre - pos).manhattanLength()
            if d <= 22 and (best is None or d < best[0]):
                best = (d, members)
        return best[1] if best else None

    def wheelEvent(self, e: Any) -> None:  # noqa: N802
        before = self._lonlat(e.position())
        self.zoom = float(np.clip(self.zoom * (1.25 if e.angleDelta().y() > 0 else 0.8), 1.0, 400.0))
        after = self._lonlat(e.position())  # keep the place under the pointer where it is
        self.centre += before - after
        self._fitted = True  # the user's view from now on: a resize does not refit it
        self.update()

    def _lonlat(self, pos: QPointF) -> QPointF:
        s = self.scale()
        return QPointF(self.centre.x() + (pos.x() - self.width() / 2) / s,
                       self.centre.y() - (pos.y() - self.height() / 2) / s)

    def mousePressEvent(self, e: Any) -> None:  # noqa: N802
        self._press, self._moved = e.position(), False

    def mouseMoveEvent(self, e: Any) -> None:  # noqa: N802
        if self._press is None:
            hit = self.cluster_at(e.position())
            self.setToolTip(plural(len(hit), "photo") if hit else "")
            return
        delta = e.position() - self._press
        if delta.manhattanLength() > 3:
            self._moved = True
            s = self.scale()
            self.centre -= QPointF(delta.x() / s, -delta.y() / s)
            self._press = e.position()
            self.update()

    def mouseReleaseEvent(self, e: Any) -> None:  # noqa: N802
        if not self._moved:
            hit = self.cluster_at(e.position())
            if hit:
                self.chosen.emit(hit)
        self._press = None


class PlacesPage(QWidget):
    chosen = Signal(list)  # photo ids

    def __init__(self, thumbs: Thumbnails, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.status = QLabel()
        self.map = MapView()
        self.gallery = Gallery(thumbs)
        self.map.chosen.connect(self.chosen)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.map)
        split.addWidget(self.gallery)
        split.setSizes([520, 260])
        layout = QVBoxLayout(self)
        layout.addWidget(self.status)
        layout.addWidget(split, 1)

    def show_points(self, points: list[tuple[int, float, float]]) -> None:
        """(photo id, latitude, longitude) of every photo with GPS."""
        self.map.set_points([p for p, _, _ in points], [(lon, lat) for _, lat, lon in points])
        self.status.setText(f"{plural(len(points), 'photo')} with GPS. Wheel to zoom, drag to move, click a pin "
                            "for its photos." if points else
                            "No photos with GPS yet: photos whose camera recorded where they were taken show here.")
